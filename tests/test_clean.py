"""The cleaner (textdrift.clean): each rule on invented input, then the corpus acceptance criteria."""

import codecs
import hashlib
import csv
import re
import unicodedata
from pathlib import Path

import pytest

from textdrift.clean import LOG_COLUMNS, CleanResult, clean_text
from textdrift.cleanio import clean_shard
from textdrift.decode import CleaningError, decode_bytes
from textdrift.io import read_texts
from conftest import FIXTURE

ROOT = Path(__file__).resolve().parents[1]
CFG = {"languages": ["zh", "en"]}


def rows(result, step=None):
    """Log rows as (lang, step, action, detail) tuples, optionally of one step."""
    return [(r["lang"], r["step"], r["action"], r["detail"]) for r in result.log
            if step is None or r["step"] == step]


# --- configuration and API ------------------------------------------------------


def test_result_shape_and_log_columns():
    result = clean_text("Hello  world.\n\n\n你好,世界。\n", "d1", CFG)
    assert isinstance(result, CleanResult)
    assert result.texts == {"en": ["Hello world."], "zh": ["你好,世界。"]}
    assert all(list(r) == LOG_COLUMNS for r in result.log)
    assert all(r["doc_id"] == "d1" for r in result.log)


def test_config_overrides_merge_over_defaults():
    # only one nested key overridden; the rest of `language` keeps its default
    assert list(clean_text("English words 一些", "d", CFG).texts) == ["en"]  # 2/14 Han
    result = clean_text("English words 一些", "d", {**CFG, "language": {"min_han_share": 0.1}})
    assert list(result.texts) == ["zh"]


# --- decoding -------------------------------------------------------------------


def test_decode_utf8_and_boms():
    text = "Zoë 数字"
    assert decode_bytes(text.encode("utf-8"), "a.txt") == (text, "utf-8")
    assert decode_bytes(codecs.BOM_UTF8 + text.encode("utf-8"), "a.txt") == (text, "utf-8-sig")
    assert decode_bytes(text.encode("utf-16"), "a.txt") == (text, "utf-16")  # with BOM


def test_decode_gb18030_chinese():
    text = "数字经济国际合作倡议,2017年。"
    assert decode_bytes(text.encode("gb18030"), "a.txt") == (text, "gb18030")


def test_decode_declared_encoding():
    assert decode_bytes("café".encode("cp1252"), "a.txt", "cp1252") == ("café", "cp1252")
    with pytest.raises(CleaningError, match=r"a\.txt.*utf-8.*byte offset 3"):
        decode_bytes(b"caf\xe9", "a.txt", "utf-8")


def test_decode_failure_names_file_offset_and_fix():
    data = "The café is open".encode("cp1252")  # \xe9 at offset 7, then a space
    with pytest.raises(CleaningError) as err:
        decode_bytes(data, "raw/x.txt")
    msg = str(err.value)
    assert "raw/x.txt" in msg and "byte offset 7" in msg and "encoding" in msg
    assert isinstance(err.value, ValueError)


def test_decode_rejects_gb18030_that_is_not_chinese():
    data = "Привет мир".encode("gb18030")  # not UTF-8; GB18030 gives Cyrillic, not Chinese
    with pytest.raises(CleaningError, match="does not read as Chinese"):
        decode_bytes(data, "x.txt")


# --- 1. normalize ---------------------------------------------------------------


def test_normalize_lookalikes_and_nfkc():
    raw = "The Mayor´s office\u00a0opened.\r\nＡＢＣ\u200b corp said：“yes”\r\n"
    result = clean_text(raw, "d", CFG)
    assert result.texts == {"en": ["The Mayor's office opened.", "ABC corp said:“yes”"]}
    assert rows(result, "normalize") == [
        ("", "normalize", "replaced", "line endings to LF: CRLF x2, CR x0"),
        ("", "normalize", "replaced", "U+00B4 ACUTE ACCENT between letters -> U+0027 APOSTROPHE x1"),
        ("", "normalize", "replaced", "U+00A0 NO-BREAK SPACE -> U+0020 SPACE x1"),
        ("", "normalize", "removed", "U+200B ZERO WIDTH SPACE -> nothing x1"),
        ("", "normalize", "replaced", "NFKC: U+FF1A FULLWIDTH COLON -> ':' (U+003A) x1"),
        ("", "normalize", "replaced", "NFKC: U+FF21 FULLWIDTH LATIN CAPITAL LETTER A -> 'A' (U+0041) x1"),
        ("", "normalize", "replaced", "NFKC: U+FF22 FULLWIDTH LATIN CAPITAL LETTER B -> 'B' (U+0042) x1"),
        ("", "normalize", "replaced", "NFKC: U+FF23 FULLWIDTH LATIN CAPITAL LETTER C -> 'C' (U+0043) x1"),
    ]


def test_acute_accent_not_between_letters_is_left_to_nfkc():
    result = clean_text("A quote ´ alone stays a mark in the text", "d", CFG)
    # not an apostrophe: NFKC turns it into space + combining acute, logged
    assert any("U+00B4" in d and "NFKC" in d for *_, d in rows(result, "normalize"))


def test_space_runs_collapse():
    result = clean_text("Two   spaces\tand a tab", "d", CFG)
    assert result.texts["en"] == ["Two spaces and a tab"]
    assert ("", "normalize", "replaced", "runs of spaces collapsed to one space x1") in rows(result)


# --- 2. paragraphs --------------------------------------------------------------


def test_every_line_is_a_paragraph_blank_lines_summarised():
    result = clean_text("First line.\nSecond line.\n\n\n  \n  Third line.  \n", "d", CFG)
    assert result.texts["en"] == ["First line.", "Second line.", "Third line."]
    assert rows(result, "paragraphs") == [("", "paragraphs", "removed", "4 blank lines dropped")]


# --- 3. boilerplate -------------------------------------------------------------


def test_blog_chrome_and_comment_form():
    raw = "\n".join([
        "Posted on Updated on", "A real paragraph about rivers.", "<!--more-->",
        "Another real paragraph.", "Leave a Reply", "Fill in your details below or click an icon:",
        "You are commenting using your Example account. Log Out / Change )",
        "Some trailing widget text", "Connecting to %s",
    ])
    result = clean_text(raw, "d", CFG)
    assert result.texts == {"en": ["A real paragraph about rivers.", "Another real paragraph."]}
    assert rows(result, "boilerplate") == [
        ("", "boilerplate", "removed", "posted_on: Posted on Updated on"),
        ("", "boilerplate", "removed", "more_marker: <!--more-->"),
        ("", "boilerplate", "removed", "comment_form_prompt: Fill in your details below or click an icon:"),
        ("", "boilerplate", "removed", "comment_form_account: You are commenting using your Example "
                                       "account. Log Out / Change )"),
        ("", "boilerplate", "removed", "comment_form_connecting: Connecting to %s"),
        ("", "boilerplate", "removed", "comment_form (to end of document): Leave a Reply\n"
                                       "Some trailing widget text"),
    ]


def test_chinese_disclaimer_header_and_editor_lines():
    raw = "核心提示\n河流保护工作取得进展。\n(责任编辑:王五)\n声明:本文来自某网站,版权归作者所有。如有侵权请联系。"
    result = clean_text(raw, "d", CFG)
    assert result.texts == {"zh": ["河流保护工作取得进展。"]}
    assert [d.split(":")[0] for *_, d in rows(result, "boilerplate")] == [
        "header_label_zh", "disclaimer_zh", "editor_line_zh"]


def test_tail_pattern_cuts_inside_a_glued_paragraph():
    raw = "Riversarecleanernowthanbeforeinmanyregions.Editor:JaneRoeDisclaimerTheviewsandopinions" \
          "expressedherearetheauthor's."
    result = clean_text(raw, "d", CFG)
    removed = "Editor:JaneRoeDisclaimerTheviewsandopinionsexpressedherearetheauthor's."
    assert ("", "boilerplate", "removed", f"editor_disclaimer (to end of document): {removed}") in rows(result)
    assert result.texts["en"] == ["Rivers are cleaner now than before in many regions."]


def test_tail_pattern_refuses_to_cut_too_much():
    raw = "Leave a Reply\n" + "A long real paragraph of text. " * 10
    result = clean_text(raw, "d", {**CFG, "tail_max_chars": 100})
    assert len(result.texts["en"]) == 2
    assert rows(result, "boilerplate")[0][2] == "flagged"


def test_inline_pattern():
    cfg = {**CFG, "boilerplate": [{"name": "ad", "scope": "inline", "pattern": r"\[AD\]"}]}
    result = clean_text("Buy [AD] local fruit.", "d", cfg)
    assert result.texts["en"] == ["Buy local fruit."]
    assert rows(result, "boilerplate") == [("", "boilerplate", "removed", "ad: [AD]")]


def test_unknown_scope_is_an_error():
    with pytest.raises(CleaningError, match="scope"):
        clean_text("x", "d", {**CFG, "boilerplate": [{"name": "z", "scope": "page", "pattern": "x"}]})


# --- 4. titles ------------------------------------------------------------------


def test_line_written_twice():
    result = clean_text("Annual Report of the River Board 2020Annual Report of the River Board 2020\nBody.",
                        "d", CFG)
    assert result.texts["en"] == ["Annual Report of the River Board 2020", "Body."]
    assert rows(result, "titles") == [("", "titles", "deduplicated",
                                       "line written twice, second copy removed: Annual Report of the River Board 2020")]


def test_truncated_copy_and_repeated_paragraph():
    raw = "The river board met in May and agreed that the dec\n" \
          "The river board met in May and agreed that the decision stands.\n" \
          "Second paragraph here.\nThe river board met in May and agreed that the decision stands."
    result = clean_text(raw, "d", CFG)
    assert result.texts["en"] == ["The river board met in May and agreed that the decision stands.",
                                  "Second paragraph here."]
    assert rows(result, "titles") == [
        ("", "titles", "removed", "truncated copy of the next paragraph: "
                                  "The river board met in May and agreed that the dec"),
        ("", "titles", "removed", "repeats an earlier paragraph: "
                                  "The river board met in May and agreed that the decision stands."),
    ]


def test_heading_that_starts_the_next_paragraph_is_kept():
    raw = "Cooperation on river protection and water\nCooperation on river protection and water quality matters."
    assert clean_text(raw, "d", CFG).texts["en"] == raw.split("\n")


def test_site_title_split_off():
    raw = "Rivers Get Cleaner_Xinhua Officials said on Monday that rivers got cleaner.\nMore text."
    result = clean_text(raw, "d", CFG)
    assert result.texts["en"] == ["Rivers Get Cleaner", "Officials said on Monday that rivers got cleaner.",
                                  "More text."]
    assert rows(result, "titles") == [("", "titles", "split", "page title split off its paragraph, site "
                                       "name removed: '_Xinhua' (title: Rivers Get Cleaner)")]


def test_site_title_repeated_is_dropped():
    result = clean_text("Rivers Get Cleaner - China Daily\nRivers Get Cleaner\nBody text.", "d", CFG)
    assert result.texts["en"] == ["Rivers Get Cleaner", "Body text."]
    assert [a for _, _, a, _ in rows(result, "titles")] == ["split", "removed"]


# --- 5. language ----------------------------------------------------------------


def test_language_split_by_script_with_attachment_and_exclusion():
    raw = "河流保护\n2020\nRivers are protected.\n12.5%\nРеки охраняются.\n"
    result = clean_text(raw, "d", CFG)
    assert result.texts == {"zh": ["河流保护", "2020"], "en": ["Rivers are protected.", "12.5%"]}
    assert rows(result, "language") == [
        ("cyrillic", "language", "excluded_language",
         "script cyrillic (14/14 letters), not a configured language: Реки охраняются."),
        ("zh", "language", "attached", "paragraph without letters joins its neighbours: 2020"),
        ("en", "language", "attached", "paragraph without letters joins its neighbours: 12.5%"),
        ("zh", "language", "split", "2 paragraphs"),
        ("en", "language", "split", "2 paragraphs"),
    ]


def test_language_not_configured_is_excluded_not_dropped():
    result = clean_text("河流保护\nRivers are protected.", "d", {"languages": ["en"]})
    assert result.texts == {"en": ["Rivers are protected."]}
    assert ("zh", "language", "excluded_language",
            "language zh is not in the configured languages ['en']: 河流保护") in rows(result)


def test_han_share_threshold():
    # 4 Han of 4 + 10 Latin letters = 0.29 < 0.3 -> en; 5 of 15 -> zh
    assert list(clean_text("河流保护 abcdefghij", "d", CFG).texts) == ["en"]
    assert list(clean_text("河流保护好 abcdefghij", "d", CFG).texts) == ["zh"]


# --- 6. Chinese numbered items --------------------------------------------------


def test_zh_items_run_together_are_split():
    raw = "1.保护河流。\n2.治理污染。 3.植树造林。\n数量增长了3.5倍。 7.不是下一项。"
    result = clean_text(raw, "d", CFG)
    assert result.texts["zh"] == ["1.保护河流。", "2.治理污染。", "3.植树造林。", "数量增长了3.5倍。 7.不是下一项。"]
    assert rows(result, "zh_enumeration") == [
        ("zh", "zh_enumeration", "split", "item 3 split from item 2: ...2.治理污染。 3.植树造林。...")]


def test_spaces_next_to_chinese_punctuation_removed_between_han_kept():
    result = clean_text("保护河流 治理污染、 “绿色”发展 。AI “智能”", "d", CFG)
    assert result.texts["zh"] == ["保护河流 治理污染、“绿色”发展。AI “智能”"]
    assert rows(result, "zh_spaces") == [("zh", "zh_spaces", "removed", "2 space run(s) next to Chinese "
                                          "punctuation: ...保护河流 治理污染、 “绿色”发展 。AI... | ...污染、 “绿色”发展 。AI “智能”...")]


# --- 7. English de-spacing -----------------------------------------------------


def test_despaced_paragraph_restored_and_logged():
    raw = "Theriverboardmetinspringanddecidedtocleanthewater.\nA normal sentence stays."
    result = clean_text(raw, "d", CFG)
    assert result.texts["en"] == ["The river board met in spring and decided to clean the water.",
                                  "A normal sentence stays."]
    assert rows(result, "despace") == [
        ("en", "despace", "restored_spaces", "11 spaces inserted; original: "
         "Theriverboardmetinspringanddecidedtocleanthewater.")]


# --- 8. flag ----------------------------------------------------------------------


def test_flag_when_too_much_removed():
    raw = "Keep this.\n" + "Leave a Reply\n" + "Comment widget text here. " * 10
    result = clean_text(raw, "d", CFG)
    assert result.texts["en"] == ["Keep this."]
    assert rows(result, "flag")[0][2] == "flagged"
    assert rows(clean_text("Keep this.\nAnd this too.", "d", CFG), "flag") == []


def test_long_removed_text_is_truncated_with_length():
    raw = "Keep this.\nLeave a Reply\n" + "x" * 2500
    detail = rows(clean_text(raw, "d", {**CFG, "log_max_chars": 2000}), "boilerplate")[0][3]
    assert detail.endswith("[2514 chars in full]") and len(detail) < 400


def test_removed_text_is_logged_verbatim_by_default():
    raw = "Keep this.\nLeave a Reply\n" + "x" * 2500
    detail = rows(clean_text(raw, "d", CFG), "boilerplate")[0][3]
    assert detail == "comment_form (to end of document): Leave a Reply\n" + "x" * 2500


# --- clean_shard ------------------------------------------------------------------


def test_clean_shard_writes_texts_index_and_log(tmp_path):
    raw = tmp_path / "a.txt"
    raw.write_bytes("河流保护。\nRivers are protected.\n".encode("gb18030"))
    docs = [{"doc_id": "a", "year": 2020, "path": str(raw), "encoding": "gb18030", "languages": "en"}]
    index, log = clean_shard(docs, tmp_path / "shard-0.parquet", CFG, file_name="data/processed/clean/shard-0.parquet")
    assert list(index["lang"]) == ["zh", "en"]
    texts = read_texts(tmp_path / "shard-0.parquet")
    assert texts == {("a", "zh"): ["河流保护。"], ("a", "en"): ["Rivers are protected."]}
    assert set(index["file"]) == {"data/processed/clean/shard-0.parquet"}  # the workflow's name of the file
    assert list(log.columns) == LOG_COLUMNS
    assert log["action"].iloc[0] == "decoded" and "gb18030" in log["detail"].iloc[0]
    # the manifest declares only en: zh is kept, and the log says so
    assert ("zh", "undeclared_language") in set(zip(log["lang"], log["action"]))
    # index rows carry the SHA-256 of the text as UTF-8 lines
    data = "Rivers are protected.\n".encode("utf-8")
    assert index.set_index("lang").loc["en", "sha256"] == hashlib.sha256(data).hexdigest()


def test_clean_shard_declared_language_missing_is_an_error(tmp_path):
    raw = tmp_path / "a.txt"
    raw.write_text("Rivers are protected.\n", encoding="utf-8")
    docs = [{"doc_id": "a", "year": 2020, "path": str(raw), "languages": "zh;en"}]
    with pytest.raises(CleaningError, match=r"a.txt \(doc_id='a'\): manifest field 'languages' declares \['zh'\]"):
        clean_shard(docs, tmp_path / "clean.parquet", CFG)


def test_clean_shard_excess_removal_error_or_warn(tmp_path):
    raw = tmp_path / "a.txt"
    raw.write_text("Short text.\n" + "Leave a Reply\n" + "comment " * 200, encoding="utf-8")
    docs = [{"doc_id": "a", "year": 2020, "path": str(raw), "languages": ""}]
    with pytest.raises(CleaningError, match="max_removed_share"):
        clean_shard(docs, tmp_path / "clean.parquet", CFG)
    index, log = clean_shard(docs, tmp_path / "clean.parquet", {**CFG, "on_excess_removal": "warn"})
    assert list(index["lang"]) == ["en"] and "flagged" in set(log["action"])


# --- the corpus ---------------------------------------------------------------------


def _manifest():
    with open(FIXTURE / "data/raw/documents.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def corpus():
    out = {}
    for row in _manifest():
        path = FIXTURE / "data/raw" / row["file"]
        text, _ = decode_bytes(path.read_bytes(), str(path), row.get("encoding") or None)
        out[row["file"][:3]] = (text, clean_text(text, row["doc_id"], CFG))
    return out


def test_corpus_paragraphs_are_nfc_nonempty_single_line(corpus):
    for _, result in corpus.values():
        for paras in result.texts.values():
            for p in paras:
                assert p and p == p.strip() and "\n" not in p
                assert unicodedata.is_normalized("NFC", p)


def _squeeze(text):
    return re.sub(r"[\s\u200b-\u200d\u2060\ufeff]", "", text)


def test_corpus_nothing_lost_silently(corpus):
    """Every raw line is in the clean text or in a log detail (spaces aside), whole or
    in at most three pieces (a line split into title + body, a doubled line)."""
    for raw, result in corpus.values():
        haystack = "\n".join([_squeeze(p) for ps in result.texts.values() for p in ps]
                             + [_squeeze(r["detail"].split(": ", 1)[-1]) for r in result.log])
        joined = _squeeze("".join(p for ps in result.texts.values() for p in ps))
        for line in raw.splitlines():
            key = _squeeze(unicodedata.normalize("NFKC", re.sub(r"(?<=\w)[´’`](?=\w)", "'", line)))
            pieces = 0
            while key:
                n = max(i for i in range(len(key) + 1) if key[:i] in haystack or key[:i] in joined)
                assert n >= 5 or n == len(key), f"not found: {key[:60]!r}"
                key, pieces = key[n:], pieces + 1
            assert pieces <= 3, line


def test_002_blog_proposal(corpus):
    raw, result = corpus["002"]
    assert set(result.texts) == {"en", "zh"}
    everything = "\n".join(p for ps in result.texts.values() for p in ps)
    for junk in ["Posted on", "Updated on", "more–>", "<!", "Leave a Reply", "Log Out", "Connecting to %s",
                 "Change )"]:
        assert junk not in everything
    zh = result.texts["zh"]
    three = [p for p in zh if p.startswith("3.")]
    assert len(three) == 1 and "4." not in three[0]
    # item 3 (its lead sentence, a statement, stays in the paragraph: body), then item 4
    assert three[0].startswith("3.促进电子商务合作。探索") and three[0].endswith("加强消费者权益保护合作。")
    assert zh[zh.index(three[0]) + 1].startswith("4.支持互联网创业创新。")
    assert result.roles["zh"][zh.index(three[0])] == "body"
    assert any(r["action"] == "statement_lead" and "'3.促进电子商务合作。'" in r["detail"] for r in result.log)
    details = " ".join(r["detail"] for r in result.log)
    for removed in ["Posted on Updated on", "<!–more–>", "Leave a Reply", "Connecting to %s"]:
        assert removed in details


def test_000_nonpaper(corpus):
    _, result = corpus["000"]
    assert result.texts["zh"] == [result.texts["zh"][0]]
    zh = result.texts["zh"][0]
    assert zh.startswith("11月9日") and zh.endswith("合作:")
    assert "安全内参" not in zh and "声明" not in zh
    en = result.texts["en"]
    assert en[0] == "Non-paper on Global Development Initiative Digital Cooperation"
    assert en[-1].endswith("community with a shared future in cyberspace.")
    assert len(en) == 19


def test_001_statement_2024(corpus):
    _, result = corpus["001"]
    assert set(result.texts) == {"zh", "en"}
    en = result.texts["en"]
    title = "Chair's Statement of Global Development Initiative Digital Cooperation Forum 2024"
    assert en[0] == title
    assert sum(p.count("Chair's Statement") for p in en) == 1
    assert not any("´" in p for ps in result.texts.values() for p in ps)
    assert result.texts["zh"][0] == "2024年全球发展倡议数字合作论坛主席声明"


def test_003_statement_2023_english_only(corpus):
    _, result = corpus["003"]
    assert list(result.texts) == ["en"]
    assert result.texts["en"][0] == "Chair's Statement of Global Development Initiative Digital Cooperation Forum 2023"


def test_004_whitepaper(corpus):
    _, result = corpus["004"]
    assert list(result.texts) == ["en"]
    en = result.texts["en"]
    text = "\n".join(en)
    assert en[0] == "Jointly Build a Community with a Shared Future in Cyberspace: China's Contribution"
    assert en[1].startswith("China's State Council Information Office issued a white paper titled")
    assert "on Nov. 7, 2022." in text
    for kept in ["Belt and Road", "UN Charter", "ICTs", "BRICS Working Group", "LAS users"]:
        if kept.replace(" ", "") in text.replace(" ", ""):
            assert kept in text
    for junk in ["核心提示", "Editor", "Disclaimer", "Guangming", "GMW"]:
        assert junk not in text
    assert text.count("China's Contribution") == 1
    assert [r["action"] for r in result.log if r["step"] == "despace"] == ["restored_spaces"] * 2


def test_no_document_is_flagged(corpus):
    assert not [r for _, res in corpus.values() for r in res.log if r["action"] == "flagged"]


# --- en_enumeration -------------------------------------------------------------------


def test_en_enumeration_splits_a_run_together_numbered_list():
    raw = ("Rivers matter to all. 1. Cleaner water Towns test wells. (1) Filters Each town buys one. "
           "(2) Pipes Old pipes go. 2. Fewer floods Dams are raised.")
    result = clean_text(raw, "d", CFG)
    # one paragraph per item; then (structure) a glued heading is split off where a lower-case word
    # meets a capital ("water Towns"); "Pipes Old" (capital after capital) cannot be told apart
    assert result.texts["en"] == ["Rivers matter to all.", "1. Cleaner water", "Towns test wells.",
                                  "(1) Filters", "Each town buys one.", "(2) Pipes Old pipes go.",
                                  "2. Fewer floods", "Dams are raised."]
    assert result.roles["en"] == ["body", "heading", "body", "heading", "body", "body", "heading", "body"]
    (row,) = [r for r in rows(result, "en_enumeration")]
    assert row[:3] == ("en", "en_enumeration", "split")
    assert row[3].startswith("4 numbered items run together, split into 5 paragraphs before: ")


def test_en_enumeration_leaves_prose_and_out_of_sequence_numbers_alone():
    # only two markers: below min_items (3)
    prose = "We list two needs. (1) Money is short. (2) Staff is short."
    assert clean_text(prose, "d", CFG).texts["en"] == [prose]
    # 1. then 5. then 9.: not a sequence, so only "1." counts
    jumbled = "Totals were high. 1. North grew. Then 5. East fell. And 9. West held."
    assert clean_text(jumbled, "d", CFG).texts["en"] == [jumbled]


# --- boilerplate across documents (clean.repeated_paragraphs) -----------------------------------

FOOTER = "This text is in the public domain; reuse it freely (Wikisource licence 2024)."
WORDS = ["Asia", "Africa", "Europe", "Oceania", "America"]
BODY = ["The digital economy grows in {w}.", "Cooperation on data with {w} continues.",
        "Infrastructure links {w} and its regions."]


def _repeated_corpus(tmp_path, with_footer, settings=None):
    """Five one-language documents, the footer closing those in ``with_footer`` (a copy with other
    digits, spacing and punctuation in one of them), cleaned in two shards as the rules do."""
    from textdrift.cleanio import repeated_log, repeated_paragraphs, shard_keys
    from textdrift.io import read_texts, write_csv

    docs = []
    for i in range(5):
        lines = [b.format(w=WORDS[i]) for b in BODY]  # no two documents share a body paragraph
        if i in with_footer:
            lines.append(FOOTER if i != 3 else FOOTER.replace("2024", "2025").replace("; ", " ;  ").rstrip("."))
        p = tmp_path / f"d{i}.txt"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        docs.append({"doc_id": f"d{i}", "year": 2020 + i, "path": str(p), "languages": "en"})
    keys, texts = [], []
    for k in range(2):
        index, _ = clean_shard(docs[k::2], tmp_path / f"s{k}.parquet", {**CFG, "languages": ["en"]})
        write_csv(shard_keys(index, read_texts(tmp_path / f"s{k}.parquet")), tmp_path / f"k{k}.csv")
        keys.append(tmp_path / f"k{k}.csv")
        texts.append(tmp_path / f"s{k}.parquet")
    repeated, marks = repeated_paragraphs(keys, texts, settings or {})
    return repeated, marks, repeated_log(marks, repeated)


def test_footer_in_four_of_five_documents_is_paratext_and_logged(tmp_path):
    repeated, marks, log = _repeated_corpus(tmp_path, {0, 1, 3, 4})
    assert len(repeated) == 1
    r = repeated.iloc[0]
    assert (r["documents"], r["of_documents"], r["share"], bool(r["paratext"])) == (4, 5, 0.8, True)
    assert r["doc_ids"] == "d0;d1;d3;d4" and r["text"] == FOOTER
    # the footer (the last paragraph, 3) of each of the four documents, and nothing else
    assert sorted(zip(marks["doc_id"], marks["para"], marks["action"])) == [
        (d, 3, "paratext") for d in ("d0", "d1", "d3", "d4")]
    assert set(log["step"]) == {"repeated_paragraphs"} and set(log["doc_id"]) == {"d0", "d1", "d3", "d4"}
    assert all("found in 4 of 5 en documents" in d and d.endswith(FOOTER) for d in log["detail"])


def test_shard_roles_split_the_paratext_rows_by_shard(tmp_path):
    """The file each segment job reads: its shard's documents' paratext rows only (shards of
    d0, d2, d4 and of d1, d3), unchanged by a role change in the other shard."""
    from textdrift.cleanio import shard_roles

    keys = [tmp_path / "k0.csv", tmp_path / "k1.csv"]
    _, marks, _ = _repeated_corpus(tmp_path, {0, 1, 3, 4})
    parts = shard_roles(marks, keys)
    assert [sorted(p["doc_id"]) for p in parts] == [["d0", "d4"], ["d1", "d3"]]
    assert all(set(p["action"]) == {"paratext"} and list(p.columns) == list(marks.columns) for p in parts)
    # the footer also in d2 (shard 0): shard 1's rows are the same bytes
    _, more, _ = _repeated_corpus(tmp_path, {0, 1, 2, 3, 4})
    again = shard_roles(more, keys)
    assert sorted(again[0]["doc_id"]) == ["d0", "d2", "d4"]
    assert again[1].to_csv(index=False) == parts[1].to_csv(index=False)


def test_footer_in_two_of_five_documents_stays_body(tmp_path):
    repeated, marks, log = _repeated_corpus(tmp_path, {0, 1})
    assert len(repeated) == 0 and len(marks) == 0 and len(log) == 0


def test_repeated_paragraphs_off_keeps_the_footer(tmp_path):
    repeated, marks, log = _repeated_corpus(tmp_path, {0, 1, 2, 3, 4}, {"enabled": False})
    assert len(repeated) == 0 and len(marks) == 0


def test_repeated_roles_mark_the_index_and_keep_short_formulas():
    import pandas as pd

    from textdrift.structure import find_repeated, repeated_roles, with_repeated_roles

    # three documents: a short greeting and a footer cut into lines (one without letters) in each
    rows = []
    for d in ("a", "b", "c"):
        for i, (key, letters, role) in enumerate([("g", 3, "body"), ("x", 40, "body"), ("y", 40, "body"),
                                                  ("", 0, "heading"), ("z", 4, "heading"), ("", 0, "body")]):
            rows.append((d, "zh", i, role, letters + 1, letters, key if key != "x" else f"x{d}"))
    keys = pd.DataFrame(rows, columns=["doc_id", "lang", "para", "role", "chars", "letters", "key"])
    settings = {"enabled": True, "min_documents": 3, "min_share": 0.5, "min_chars": 10}
    rep = find_repeated(keys, settings)
    assert sorted(rep["key"]) == ["g", "y", "z"]  # "x..." differs in every document
    marks = repeated_roles(keys, rep, settings)
    a = marks[marks["doc_id"] == "a"].set_index("para")["action"].to_dict()
    # the greeting alone is short: kept; the footer run y, (no letters), z is paratext, with the
    # letterless line that closes the document
    assert a == {0: "kept", 2: "paratext", 3: "paratext", 4: "paratext", 5: "paratext"}
    index = pd.DataFrame({"doc_id": ["a", "b"], "lang": ["zh", "zh"], "paragraphs": [6, 6], "roles": ["bbbhhb", ""]})
    assert with_repeated_roles(index, marks)["roles"].tolist() == ["bbpppp", "bbpppp"]
    # a letterless line inside the text, after a run, stays as it is
    inner = pd.concat([keys, keys.assign(para=keys["para"] + 6, key="w")])  # a text paragraph after it
    assert 4 == repeated_roles(inner, rep, settings).query("doc_id == 'a'")["para"].max()


def test_run_clean_writes_the_keys_of_the_texts_it_wrote(tmp_path):
    """Rule ``clean`` (``run_clean``) keys the paragraphs it cleaned without reading the texts back:
    its four files are those of ``clean_shard`` and ``shard_keys`` of the texts as read from the file."""
    from textdrift.cleanio import run_clean, shard_keys
    from textdrift.io import write_csv

    class Named(dict):
        __getattr__ = dict.__getitem__

    docs = []
    for i in range(3):
        p = tmp_path / f"d{i}.txt"
        p.write_text("\n".join(b.format(w=WORDS[i]) for b in BODY) + "\n" + FOOTER + "\n", encoding="utf-8")
        docs.append({"doc_id": f"d{i}", "year": 2020 + i, "path": str(p), "languages": "en"})
    out = {k: tmp_path / "rule" / f"{k}.{ext}" for k, ext in
           [("texts", "parquet"), ("index", "csv"), ("cleaning_log", "csv"), ("paragraphs", "csv")]}
    out["texts"].parent.mkdir()
    params = Named(docs=docs, clean={}, languages=["en"], unspaced_languages=["zh"], texts_file="clean/shard-0.parquet")
    run_clean(Named(raw=[d["path"] for d in docs]), Named(out), params, [str(tmp_path / "clean.log")])
    index, log = clean_shard(docs, tmp_path / "s.parquet", {**CFG, "languages": ["en"], "unspaced_languages": ["zh"]},
                             file_name="clean/shard-0.parquet")
    write_csv(index, tmp_path / "index.csv")
    write_csv(log, tmp_path / "log.csv")
    write_csv(shard_keys(index, read_texts(tmp_path / "s.parquet")), tmp_path / "keys.csv")
    assert out["texts"].read_bytes() == (tmp_path / "s.parquet").read_bytes()
    for mine, theirs in [("index", "index"), ("cleaning_log", "log"), ("paragraphs", "keys")]:
        assert out[mine].read_bytes() == (tmp_path / f"{theirs}.csv").read_bytes(), mine
    assert len(shard_keys(index, read_texts(out["texts"]))) == 3 * (len(BODY) + 1)
