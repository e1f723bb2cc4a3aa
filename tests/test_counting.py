"""What is counted (docs/methods.md, "What is counted"): document structure, named entities, Chinese dates and
words, English tokens and contiguous phrases. Small invented inputs, expected values by hand."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from textdrift.entities import Entity, EntityError, find_spans, parse_entities
from textdrift.segment import Segmenter
from textdrift.segment_eval import evaluate_segmenter, segmentation_scores
from textdrift.config import defaults
from textdrift.structure import assign_roles, decode_roles, encode_roles
from textdrift.codebook import Theme, entity_codebook
from textdrift.matching import match_themes
from textdrift.counting import counted, frequent_extensions, paragraph_tokens, run_room
from textdrift.themes import theme_frequencies
from textdrift.vectorize import count_matrix
from conftest import FIXTURE

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "data" / "zh_segmentation_gold.txt"

ENTITIES = [
    Entity("gdi", "initiative", {"en": "Global Development Initiative", "zh": "全球发展倡议"},
           {"en": ("Global Development Initiative", "GDI"), "zh": ("全球发展倡议",)}),
    Entity("gdi_forum", "forum", {"en": "GDI Digital Cooperation Forum"},
           {"en": ("GDI Digital Cooperation Forum", "Global Development Initiative Digital Cooperation Forum")}),
    Entity("cidca", "agency", {"en": "CIDCA", "zh": "国家国际发展合作署"},
           {"en": ("China International Development Cooperation Agency", "CIDCA"), "zh": ("国家国际发展合作署",)}),
    Entity("who", "organisation", {"en": "World Health Organization"}, {"en": ("World Health Organization", "WHO")}),
    Entity("bri", "initiative", {"en": "Belt and Road Initiative"}, {"en": ("One Belt, One Road", "Belt and Road")}),
    Entity("paper", "document", {"en": "Jointly Build a Community"}, {"en": ('"Jointly Build a Community"',)}),
]


@pytest.fixture(scope="module")
def seg(tmp_path_factory):
    return Segmenter({"cache_dir": str(tmp_path_factory.mktemp("jieba"))}, ROOT, ENTITIES)


def roles_of(paras, lang="en", titles=(), **cfg):
    log = []
    out, roles = assign_roles(paras, lang, list(titles), {**defaults()["clean"]["structure"], **cfg},
                              lambda *row: log.append(row), unspaced=lang == "zh")
    return out, roles, log


# ---- document structure ----------------------------------------------------------------------


def test_title_recognised_in_english_and_chinese():
    # English: the manifest title, with other quotes and a site suffix, is fuzzily the same
    paras = ["“Report on the River Basin: Water for All”", "The river basin feeds ten cities."]
    _, roles, log = roles_of(paras, titles=['Report on the River Basin: "Water for All"'])
    assert roles == ["title", "body"] and "manifest_title" in log[0][2]
    # Chinese: from title_zh, or (no Chinese title in the manifest) the heading-like first line
    zh = ["流域水资源报告", "流域为十座城市供水。"]
    assert roles_of(zh, "zh", titles=["流域水资源报告"])[1] == ["title", "body"]
    assert roles_of(zh, "zh", titles=["Report on the River Basin"])[1] == ["title", "body"]
    # a body first line that ends like a sentence is not a title
    assert roles_of(["Rivers matter.", "Yes."], titles=["Other"])[1] == ["body", "body"]


def test_glued_heading_split_off():
    # capital_break: the heading lost its line break before "Farmers"
    paras = ["2. Water for small farms Farmers in the basin have built ponds, and the ponds hold rain."]
    out, roles, log = roles_of(paras)
    assert out == ["2. Water for small farms", "Farmers in the basin have built ponds, and the ponds hold rain."]
    assert roles == ["heading", "body"] and log[0][1] == "split_heading" and "capital_break" in log[0][2]
    # lead_sentence: a short first sentence without a finite verb is the item's heading (both languages)
    out, roles, _ = roles_of(["3. Protect wetlands. Restore the marshes along the river and fund the work."])
    assert out == ["3. Protect wetlands.", "Restore the marshes along the river and fund the work."]
    assert roles == ["heading", "body"]
    out, roles, _ = roles_of(["3.保护湿地。恢复沿河沼泽并为这项工作提供资金,加强监测。"], "zh")
    assert out == ["3.保护湿地。", "恢复沿河沼泽并为这项工作提供资金,加强监测。"] and roles == ["heading", "body"]
    # not split: a first sentence that states something, a name after "the", a comma first
    for p in ["II. Water is a shared good. It must be managed jointly by all riparian states.",
              "I. As we mark the tenth year of the River Forum, the parties met again in the spring.",
              "IV. In May, the parties met again and agreed on a plan for the next ten years."]:
        assert roles_of([p])[1] == ["body"], p


def test_statement_lead_counts_as_body():
    """A numbered lead sentence that states a priority (full stop, long enough) stays in its
    paragraph as body, logged once (issue 28); a short label heading is still split off."""
    zh = "(一)扩大宽带接入,提高宽带质量。建设完善区域通信、互联网等重要信息基础设施。"
    out, roles, log = roles_of([zh], "zh")
    assert out == [zh] and roles == ["body"]
    assert [row[1] for row in log] == ["statement_lead"]
    assert "(一)扩大宽带接入,提高宽带质量。" in log[0][2] and "14 characters" in log[0][2]
    en = "3. Stimulate e-commerce cooperation. Explore information sharing on cross-border e-commerce."
    out, roles, log = roles_of([en])
    assert out == [en] and roles == ["body"] and log[0][1] == "statement_lead" and "3 words" in log[0][2]
    # short labels: below the length, or without a full stop (";"), stay headings
    assert roles_of(["3.保护湿地。恢复沿河沼泽并为这项工作提供资金,加强监测。"], "zh")[1] == ["heading", "body"]
    assert roles_of(["(二)总体要求;坚持问题导向,加强统筹协调。"], "zh")[1] == ["heading", "body"]
    # clause_headings: a heading of two clauses states priorities: body (logged); a one-clause label or a
    # noun list stays a heading
    paras = ["同志们。", "四、加快构建新发展格局,着力推动高质量发展", "一、过去五年的工作和新时代十年的伟大变革", "(三)经济、政治、文化建设"]
    assert roles_of(paras, "zh")[1] == ["body", "heading", "heading", "heading"]  # clause_headings: false (default)
    out, roles, log = roles_of(paras, "zh", clause_headings=True)
    assert roles == ["body", "body", "heading", "heading"] and log[0][1] == "statement_heading"
    assert "四、加快构建新发展格局,着力推动高质量发展" in log[0][2]
    _, roles, _ = roles_of(["Intro text here.", "1. Expanding broadband access, raising broadband quality",
                            "III. Science, Technology and Innovation", "II. Digital economy"], clause_headings=True)
    assert roles == ["body", "body", "heading", "heading"]
    # statement_headings: heading splits every lead sentence off, as before
    out, roles, log = roles_of([zh], "zh", statement_headings="heading")
    assert out == ["(一)扩大宽带接入,提高宽带质量。", "建设完善区域通信、互联网等重要信息基础设施。"]
    assert roles == ["heading", "body"] and log[0][1] == "split_heading"


def test_headings_paratext_and_list_labels():
    paras = ["Clean water for every village", "(1) Funding", "IV.", "Here are the highlights of the report.",
             "(Signed by Laos and Thailand)", "By Jane Smith", "《流域合作倡议》全文如下:",
             "The plan was adopted."]
    _, roles, log = roles_of(paras, titles=["Something else entirely"])
    assert roles == ["title", "heading", "paratext", "paratext", "paratext", "paratext", "paratext", "body"]
    # a lead-in followed by the text itself: only the lead-in is paratext
    out, lead_roles, lead_log = roles_of([
        "The board issued a report on May 7. Here are the highlights of the report: Rivers feed ten cities "
        "and their farms across the whole basin."])
    assert out == ["The board issued a report on May 7. Here are the highlights of the report:",
                   "Rivers feed ten cities and their farms across the whole basin."]
    assert lead_roles == ["paratext", "body"] and lead_log[0][1] == "split_paratext"
    assert [row[2].split(": ")[1] for row in log] == [
        "first_line", "numbered_heading", "list_label", "full_text_follows_en", "parenthetical", "byline_en",
        "full_text_follows_zh"]
    assert decode_roles(encode_roles(roles), len(roles)) == roles
    with pytest.raises(ValueError, match="rerun the clean rule"):
        decode_roles("tb", 3)


def test_count_roles_filter_and_heading_not_counted(seg):
    paras = ["Water for small farms", "Farmers built ponds."]
    toks = seg.segment_document("d", 2020, "en", paras, roles=["heading", "body"])
    assert set(toks.loc[toks["para"] == 0, "role"]) == {"heading"}
    body = count_matrix(counted(toks), ["year"], 1)
    assert "small" not in set(body.vocab) and "farmer" in set(body.vocab)
    both = count_matrix(counted(toks, ["body", "heading"]), ["year"], 1)
    assert "small" in set(both.vocab)


# ---- named entities -------------------------------------------------------------------------


def test_find_spans_longest_leftmost():
    table = {("gdi",): "gdi", ("gdi", "digital", "cooperation", "forum"): "forum", ("un",): "un"}
    keys = ["the", "gdi", "digital", "cooperation", "forum", "and", "gdi", "un"]
    assert find_spans(keys, np.zeros(len(keys)), table, False) == [(1, 4, "forum"), (6, 6, "gdi"), (7, 7, "un")]
    # never across a sentence
    assert find_spans(["gdi", "digital"], np.array([0, 1]), {("gdi", "digital"): "x"}, False) == []
    # unspaced: on token boundaries only
    zh = {"全球发展倡议": "gdi"}
    assert find_spans(["全球", "发展", "倡议", "合作"], np.zeros(4), zh, True) == [(0, 2, "gdi")]
    assert find_spans(["全球发展", "倡议书"], np.zeros(2), zh, True) == []  # the name ends inside a token
    assert find_spans(["新全球", "发展倡议"], np.zeros(2), zh, True) == []  # ... or starts inside one


def test_aliases_are_one_entity_and_acronyms_keep_case(seg):
    toks = seg.segment_document("d", 2023, "en", [
        "The Global Development Initiative matters. The GDI grows. Who knows the WHO?"])
    heads = toks[toks["norm"].str.startswith("@")]
    assert heads["norm"].tolist() == ["@gdi", "@gdi", "@who"]
    assert heads["keep"].all()
    # the other words of a mention: marked, not kept
    span = toks[toks["entity"].notna() & ~toks["norm"].str.startswith("@")]
    assert span["text"].tolist() == ["Development", "Initiative"] and not span["keep"].any()
    assert toks.loc[toks["text"] == "Who", "entity"].isna().all()  # the pronoun is not the WHO
    # a name with its abbreviation in brackets is one mention
    cidca = seg.segment_document("d", 2024, "en", ["The China International Development Cooperation Agency (CIDCA) "
                                                   "and CIDCA met."])
    assert cidca["norm"].tolist().count("@cidca") == 2
    assert cidca.loc[cidca["entity"].notna(), "text"].tolist()[-4:] == ["(", "CIDCA", ")", "CIDCA"]
    # punctuation inside an alias
    bri = seg.segment_document("d", 2017, "en", ['The "One Belt, One Road" digital economy.'])
    assert bri.loc[bri["entity"].notna(), "text"].tolist() == ["One", "Belt", ",", "One", "Road"]


def test_entity_span_blocks_theme_terms_unless_member(seg):
    en = seg.segment_document("d", 2023, "en", [
        "The Global Development Initiative supports development. "
        "China International Development Cooperation Agency leads cooperation."])
    zh = seg.segment_document("d", 2023, "zh", ["国家国际发展合作署推动合作与发展。"])
    toks = pd.concat([en, zh], ignore_index=True)
    book = [Theme("dev", {"en": "dev"}, {"en": ("development",), "zh": ("发展",)}),
            Theme("coop", {"en": "coop"}, {"en": ("cooperation",), "zh": ("*合作*",)})]
    m = match_themes(toks, book)
    # only the free-standing words count: one "development", one "cooperation" per language
    assert sorted(zip(m["lang"], m["theme"], m["match"])) == [
        ("en", "coop", "cooperation"), ("en", "dev", "development"), ("zh", "coop", "合作"), ("zh", "dev", "发展")]
    # a theme that lists the entity on purpose counts its mentions, the whole name in the KWIC
    member = [Theme("dev", {"en": "dev"}, {"en": ("development",)}, entities=("gdi",))]
    m = match_themes(en, member)
    assert m["term"].tolist() == ["@gdi", "development"]
    assert m["match"].tolist() == ["Global Development Initiative", "development"]


def test_a_mention_is_matched_whole_when_it_starts_or_ends_with_punctuation(seg):
    """A quoted title's head is its opening quote mark (punctuation): it is still the mention's one
    counted term, and the KWIC match of every mention runs to its last token, the closing quote or
    bracket included (no longer: a quote-headed mention uncounted and joined to the previous mention's
    match; "Global Development Initiative (GDI" without its bracket)."""
    toks = seg.segment_document("d", 2023, "en", [
        'The Global Development Initiative (GDI) issued "Jointly Build a Community" in 2022. '
        'The "Jointly Build a Community" paper is long.'])
    heads = toks[toks["norm"].str.startswith("@")]
    assert heads[["text", "norm", "is_punct"]].values.tolist() == [
        ["Global", "@gdi", False], ['"', "@paper", True], ['"', "@paper", True]]
    m = match_themes(toks, entity_codebook(ENTITIES, ["en"]))
    assert m[["theme", "match", "left", "right"]].values.tolist() == [
        ["gdi", "Global Development Initiative (GDI)", "The", 'issued "Jointly Build a Community" in'],
        ["paper", '"Jointly Build a Community"', "The Global Development Initiative (GDI) issued",
         'in 2022. The "Jointly Build a'],
        ["paper", '"Jointly Build a Community"', 'Build a Community" in 2022. The', "paper is long."]]
    # the theme counts equal the kept @ids that drift and the phrases count
    freq = theme_frequencies(paragraph_tokens(toks), m, entity_codebook(ENTITIES, ["en"]), ["en"])
    counts = freq.set_index("theme")["count"]
    assert counts[counts > 0].to_dict() == heads["norm"].str[1:].value_counts().to_dict() == {"gdi": 1, "paper": 2}


def test_a_term_restated_in_brackets_counts_once(seg):
    """"artificial intelligence (AI)": the bracket restates the match before it (one mention of the
    theme); AI alone, or a bracket after another theme's match or after other words, still counts."""
    en = seg.segment_document("d", 2023, "en", [
        "Risks in artificial intelligence (AI) and AI chips. Artificial intelligence(AI), data (AI) and AI (AI)."])
    zh = seg.segment_document("d", 2023, "zh", ["人工智能（AI）应用与数据（AI）。"])
    book = [Theme("ai", {"en": "AI", "zh": "AI"}, {"en": ("artificial intelligence", "ai"), "zh": ("人工智能", "ai")}),
            Theme("data", {"en": "data", "zh": "data"}, {"en": ("data",), "zh": ("数据",)})]
    m = match_themes(pd.concat([en, zh], ignore_index=True), book)
    got = [(r.lang, r.theme, r.match, r.right[:4]) for r in m.itertuples()]
    assert got == [("en", "ai", "artificial intelligence", "(AI)"), ("en", "ai", "AI", "chip"),
                   ("en", "ai", "Artificial intelligence", "(AI)"), ("en", "ai", "AI", ") an"),  # after "data ("
                   ("en", "ai", "AI", "(AI)"), ("en", "data", "data", "(AI)"),
                   ("zh", "ai", "人工智能", "（AI）"), ("zh", "ai", "AI", "）。"), ("zh", "data", "数据", "（AI）")]


def test_entity_frequencies_count_mentions(seg):
    toks = seg.segment_document("d", 2023, "en", ["GDI and the Global Development Initiative work."])
    book = entity_codebook(ENTITIES, ["en"])
    m = match_themes(toks, book)
    assert m.groupby("theme").size().to_dict() == {"gdi": 2}
    freq = theme_frequencies(paragraph_tokens(toks), m, book, ["en"])
    row = freq[freq["theme"] == "gdi"].iloc[0]
    # kept tokens: @gdi, @gdi, "work" = 3 ("and", "the" are stop words)
    assert (row["count"], row["tokens"]) == (2, 3)


def test_entity_list_validation(tmp_path):
    ok = {"entities": [{"id": "un", "type": "organisation", "label_en": "United Nations", "en": ["UN"]}]}
    assert parse_entities(ok)[0].norm == "@un"
    with pytest.raises(EntityError, match="also belongs to entity 'un'"):
        parse_entities({"entities": ok["entities"] + [
            {"id": "un2", "type": "organisation", "label_en": "x", "en": ["un"]}]})
    with pytest.raises(EntityError, match="entities\\[0\\].*type"):
        parse_entities({"entities": [{"id": "un", "type": "club", "label_en": "x"}]})


# ---- Chinese ------------------------------------------------------------------------------


def test_chinese_dates_numbers_and_empty_characters_not_kept(seg):
    toks = seg.segment_document("d", 2024, "zh", ["2024年11月21日,第四届论坛在城市间举行,两年来成果丰硕。"])
    kept = toks.loc[toks["keep"], "text"].tolist()
    assert not any(t in kept for t in ["年", "月", "日", "间"]) and "第四届" not in kept
    assert {"2024年", "11月", "21日"} <= set(toks["text"])  # a number and its unit are one token
    assert {"论坛", "举行", "成果"} <= set(kept)


def test_chinese_user_dictionary_compounds(seg):
    toks = seg.segment_document("d", 2024, "zh", ["以线上线下相结合形式举办,推动普惠合作与交流互鉴。"])
    assert {"线上线下", "普惠", "交流互鉴"} <= set(toks["text"])


def test_segmentation_scores_by_hand():
    # gold 数字|经济|合作  pred 数字经济|合作: boundaries gold {2, 4}, pred {4}: P = 1, R = 1/2;
    # words gold {(0,2),(2,4),(4,6)}, pred {(0,4),(4,6)}: P = 1/2, R = 1/3
    s = segmentation_scores([["数字", "经济", "合作"]], [["数字经济", "合作"]])
    assert s["boundary_precision"] == 1 and s["boundary_recall"] == 0.5
    assert s["boundary_f1"] == pytest.approx(2 / 3)
    assert s["word_precision"] == 0.5 and s["word_recall"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="sentences differ"):
        segmentation_scores([["数字"]], [["数据"]])


def test_segmenter_boundary_f1_on_the_hand_segmented_set(tmp_path):
    from textdrift.entities import load_entities

    lines = [x for x in GOLD.read_text(encoding="utf-8").splitlines() if x and not x.startswith("#")]
    assert len(lines) >= 150
    seg = Segmenter({"cache_dir": str(tmp_path)}, ROOT, load_entities(FIXTURE / "config" / "entities.yaml"))
    scores = evaluate_segmenter(GOLD, seg)
    assert scores["boundary_f1"] >= 0.95, scores


# ---- English ------------------------------------------------------------------------------


def test_english_brackets_case_free_lemmas_stop_on_lemma(seg):
    toks = seg.segment_document("d", 2020, "en", [
        "Artificial intelligence(AI) helps. Countries and countries used what others use."])
    assert {"intelligence", "(", "AI", ")"} <= set(toks["text"])
    norms = dict(zip(toks["text"], toks["norm"]))
    assert norms["Countries"] == norms["countries"] == "country"
    assert norms["AI"] == "ai" and toks.loc[toks["text"] == "AI", "keep"].all()
    used = toks[toks["text"].isin(["used", "use"])]
    assert set(used["norm"]) == {"use"} and used["keep"].all() and not used["is_stop"].any()


def test_english_ordinals_roman_numerals_markers_months_not_kept(seg):
    toks = seg.segment_document("d", 2020, "en", [
        "IV. On Nov. 7 the 10th forum met in November; (b) UN and ICT experts joined."])
    kept = set(toks.loc[toks["keep"], "text"])
    assert not kept & {"IV", "IV.", "Nov.", "Nov", "10th", "November", "(b", "b)", "(b)"}
    assert {"UN", "ICT", "forum", "experts"} <= kept


# ---- contiguous phrases ---------------------------------------------------------------------


def test_a_removed_word_breaks_a_phrase(seg):
    toks = seg.segment_document("d", 2020, "en", ["A community with a shared future needs open data flows."])
    vocab = set(count_matrix(toks, ["year"], 3).vocab)
    assert "share future" in vocab and "open data flow" in vocab
    assert "community share" not in vocab and "community share future" not in vocab


def test_an_entity_does_not_break_a_phrase_and_counts_as_one_term(seg):
    a = seg.segment_document("a", 2020, "en", ["Support GDI projects."])
    b = seg.segment_document("b", 2021, "en", ["Support Global Development Initiative projects."])
    m = count_matrix(pd.concat([a, b], ignore_index=True), ["year"], 3)
    X = pd.DataFrame(m.X.toarray(), columns=m.vocab, index=m.rows["year"])
    assert X.loc[2020, "support @gdi project"] == X.loc[2021, "support @gdi project"] == 1
    assert "development" not in X.columns and m.rows["tokens"].tolist() == [3, 3]


# ---- counting on integer codes (the per-shard jobs) -------------------------------------------

def _reference_ngrams(toks: pd.DataFrame, by: list[str], n_max: int) -> dict:
    """Brute force: the contiguous n-grams of the kept tokens per unit (the tokens an entity absorbed
    skipped, a removed token, punctuation or a sentence end breaking a phrase), as {(unit, term): count}."""
    from textdrift.counting import absorbed

    t = toks[~absorbed(toks)].sort_values(["doc_id", "lang", "para", "idx"], kind="stable")
    out: dict = {}
    run: list = []

    def flush():
        for n in range(1, n_max + 1):
            for i in range(len(run) - n + 1):
                key = (run[i][0], " ".join(w for _, w in run[i:i + n]))
                out[key] = out.get(key, 0) + 1
        run.clear()
    last = None
    for row in t.itertuples(index=False):
        if (row.doc_id, row.lang, row.sent) != last:
            flush()
        last = (row.doc_id, row.lang, row.sent)
        if row.keep:
            run.append((tuple(getattr(row, c) for c in by), row.norm))
        else:
            flush()
    flush()
    return out


def _shard(seg, tmp_path, with_optional=True):
    from textdrift.io import write_parquet

    docs = [seg.segment_document("a", 2020, "en", ["Digital Cooperation", "Support GDI projects and open data flows.",
                                                   "The Global Development Initiative helps; the WHO helps too."]),
            seg.segment_document("b", 2021, "zh", ["数字经济", "全球发展倡议支持数字经济和数据流动。"]),
            seg.segment_document("c", 2021, "en", ["Open data flows, open data.", "Belt and Road projects."])]
    toks = pd.concat(docs, ignore_index=True)
    toks["role"] = np.where(toks["para"] == 0, "title", "body")
    if not with_optional:
        toks = toks.drop(columns=["role", "entity"])
    path = tmp_path / "shard-0.parquet"
    write_parquet(toks.sample(frac=1, random_state=0), path)  # any row order
    return path


@pytest.mark.parametrize("with_optional", [True, False])
def test_counts_on_codes_equal_the_token_table_counts(seg, tmp_path, with_optional):
    from textdrift.counting import (VARIANTS, load_tokens, paragraph_counts, read_tokens, variant_tokens)
    from textdrift.vectorize import count_shard

    path = _shard(seg, tmp_path, with_optional)
    frame, codes = load_tokens(path), read_tokens(path)
    assert sorted(codes.columns) == sorted(frame.columns)
    wanted = {v: ["doc", "para", "para_ngrams"] for v in VARIANTS}
    mats = count_shard(codes, ["en", "zh"], 3, ["body"], wanted)
    from textdrift.counting import write_paragraph_tokens
    from textdrift.io import write_parquet

    for langs in (["en", "zh"], ["zh"]):  # the paragraphs numbered once: the files of paragraph_counts
        paths = {v: tmp_path / f"paras_{v}.parquet" for v in VARIANTS}
        write_paragraph_tokens(codes, paths, langs, ["body"])
        for v in VARIANTS:
            one = codes.take(codes.isin("lang", langs)).variant(v, ["body"])
            write_parquet(paragraph_counts(one), tmp_path / "expected.parquet")
            assert paths[v].read_bytes() == (tmp_path / "expected.parquet").read_bytes(), (v, langs)
    for v in VARIANTS:
        toks = variant_tokens(frame, v, ["body"])
        pd.testing.assert_frame_equal(paragraph_counts(read_tokens(path).variant(v, ["body"])), paragraph_tokens(toks))
        for lang in ["en", "zh"]:
            one = toks[toks["lang"] == lang]
            for kind, by, n in [("doc", ["doc_id", "year"], 3), ("para", ["year", "doc_id", "para"], 1),
                                ("para_ngrams", ["year", "doc_id", "para"], 3)]:
                m = mats[(kind, v, lang)]
                coo = m.X.tocoo()
                got = {(tuple(m.rows.iloc[i][c] for c in by), m.vocab[j]): x
                       for i, j, x in zip(coo.row, coo.col, coo.data)}
                assert got == _reference_ngrams(one, by, n), (kind, v, lang)
                assert list(m.vocab) == sorted(m.vocab) and list(m.rows.columns) == ["lang", *by, "tokens"]
    # names as words: the entity's words are counted as words, not as @id
    assert "@gdi" in mats[("doc", "base", "en")].vocab and "@gdi" not in mats[("doc", "entities", "en")].vocab
    assert with_optional == ("global development initiative" in mats[("doc", "entities", "en")].vocab)


def test_matches_on_codes_equal_the_token_tables(seg, tmp_path):
    from textdrift.counting import load_tokens, read_tokens

    path = _shard(seg, tmp_path)
    book = [Theme("data", {"en": "Data"}, {"en": ("open data", "data flow*"), "zh": ("数据流动", "*经济")}),
            Theme("gdi", {"en": "GDI"}, {"en": ("development",), "zh": ()}, entities=("gdi",))]
    pd.testing.assert_frame_equal(match_themes(read_tokens(path), book, 2), match_themes(load_tokens(path), book, 2))
    assert len(match_themes(read_tokens(path), book, 2)) > 3


def test_key_order_is_lexsort():
    """counting.key_order (the sort of every per-shard count and match) is np.lexsort's stable order:
    on rows already sorted, on documents in shuffled order each sorted inside (a token shard), with
    ties, negative codes and booleans (one 64-bit key), and with ranges too wide for one key or
    float keys (lexsort itself)."""
    from textdrift.counting import key_order

    rng = np.random.default_rng(4)
    for trial in range(30):
        n = int(rng.integers(1, 400))
        doc = np.sort(rng.integers(-1, 9, n))
        para, idx = rng.integers(0, 4, n), rng.integers(0, 30, n)
        cases = [[doc, para, idx]]
        starts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
        blocks = np.split(np.arange(n), starts[1:])
        shuffled = np.concatenate([blocks[i] for i in rng.permutation(len(blocks))])
        cases.append([doc[shuffled], para[shuffled], idx[shuffled], rng.integers(0, 2, n).astype(bool)])
        cases.append([doc, rng.integers(0, 2 ** 40, n), rng.integers(0, 2 ** 40, n)])  # too wide: lexsort
        cases.append([doc, rng.random(n)])  # float: lexsort
        for keys in cases:
            assert np.array_equal(key_order(keys), np.lexsort(keys[::-1])), trial


def test_matrix_rows_json_is_pandas_to_json():
    """save_matrix writes a matrix's rows as ``to_json(orient="split", index=False, force_ascii=False)``;
    vectorize._rows_json builds the lists column by column for pandas' own encoder: the same text for
    strings (missing, escapes, slashes, non-ASCII), integers, floats (NaN, infinities, precision),
    no rows and no columns, and to_json itself for any other column kind."""
    from textdrift.vectorize import _rows_json

    frames = [
        pd.DataFrame({"lang": pd.array(["zh", "en/x", None, "\u2028<&>\"é\\数"], dtype="str"),
                      "year": np.array([2020, 2021, 3, -4]), "f": [0.1, np.nan, 1e20, 1 / 3],
                      "u": np.array([1, 2, 3, 4], dtype=np.uint32)}),
        pd.DataFrame({"a": pd.array([], dtype="str"), "b": np.array([], dtype=np.int64)}),
        pd.DataFrame(index=range(3)),
        pd.DataFrame({"f": [np.inf, -np.inf, 1.23456789012345, 5e-324]}),
        pd.DataFrame({"o": np.array(["a", None], dtype=object), "b": [True, False]}),  # not numbers or strings
        pd.DataFrame([[1, 2]], columns=["x", "x"]),
    ]
    for frame in frames:
        assert _rows_json(frame) == frame.to_json(orient="split", index=False, force_ascii=False)


def test_variant_within_a_mask_is_the_variant_s_rows_of_it(seg, tmp_path):
    """TokenCodes.variant(within=): the variant's table of the masked rows only (count: one copy per
    variant and language), the same arrays as the variant's rows of the mask."""
    from textdrift.counting import VARIANTS, read_tokens

    tokens = read_tokens(_shard(seg, tmp_path))
    for lang in ["en", "zh"]:
        mask = tokens.isin("lang", [lang])
        for name in VARIANTS:
            whole = tokens.variant(name, ["body"])
            ref = whole.take(whole.isin("lang", [lang]))
            got = tokens.variant(name, ["body"], within=mask)
            assert got.columns == ref.columns and len(got) == len(ref) > 0
            for c in ref.columns:
                np.testing.assert_array_equal(got[c], ref[c])
                assert got[c].dtype == ref[c].dtype
            assert {c: list(got.values(c)) for c in got.dicts} == {c: list(ref.values(c)) for c in ref.dicts}


def test_run_room_by_hand():
    # runs 0,0,0 | 1,1 | 2: the units after each position in its run
    assert run_room(np.array([0, 0, 0, 1, 1, 2])).tolist() == [2, 1, 0, 1, 0, 0]
    assert run_room(np.array([7])).tolist() == [0]
    assert run_room(np.zeros(0, dtype=np.int64)).tolist() == []


def test_frequent_extensions_against_enumeration():
    # every position whose L-unit string and the L-unit string one later are frequent and whose L + 1
    # units lie in one run, checked against a direct enumeration on random streams
    rng = np.random.default_rng(3)
    for _ in range(30):
        n = int(rng.integers(1, 60))
        units = rng.integers(0, 3, n)
        run = np.cumsum(rng.random(n) < 0.2)
        room = run_room(run)
        for L in (1, 2, 3):
            pos = np.array([p for p in range(n - L + 1) if run[p] == run[p + L - 1]], dtype=np.int64)
            strings = [tuple(units[p:p + L]) for p in pos]
            counts = {s: strings.count(s) for s in strings}
            freq = np.array([counts[s] >= 2 for s in strings], dtype=bool)
            code = np.arange(len(pos))
            cand, prefix = frequent_extensions(pos, code, freq, room, L)
            frequent_at = {int(p) for p, f in zip(pos, freq) if f}
            want = [p for p in frequent_at if p + 1 in frequent_at and p + L < n and run[p] == run[p + L]]
            assert cand.tolist() == sorted(want)
            assert prefix.tolist() == [int(np.flatnonzero(pos == p)[0]) for p in sorted(want)]
