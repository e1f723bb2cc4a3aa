"""The per-language memo of `findings_vocabulary` (textdrift.findings.vocabulary_part with a
textdrift.langmemo.LanguageMemo): after a document is added in either language the rows equal a
computation without the memo and the other language comes from it; each part of a language's key
misses when it changes. A tiny invented bilingual corpus in two shards (a few seconds of CPU)."""

import json
import logging
import shutil

import pandas as pd
import pytest

from textdrift.codebook import Theme
from textdrift.counting import PARA_COLUMNS
from textdrift.findings import FindingsSettings, FindingsTables, Partials, table_partials, vocabulary_part
from textdrift.langmemo import LanguageMemo
from textdrift.vectorize import save_matrix, year_matrix

LANGS = ["en", "zh"]
WORDS = {"en": ["data", "flow", "rule", "city", "road", "port", "bank"],
         "zh": ["数据", "流动", "规则", "城市", "道路", "港口", "银行"]}
RISE = {"en": ["green", "deal"], "zh": ["绿色", "协议"]}
CODEBOOK = [Theme("green", {"en": "Green", "zh": "绿色"}, {"en": ("green",), "zh": ("绿色",)})]
PHRASES = {"min_count": 2, "alpha_0": "auto", "q_threshold": 0.05, "ngram_max": 2, "min_tokens": 0,
           "min_documents": 3, "unspaced_languages": ["zh"]}
SETTINGS = FindingsSettings(top_themes=0, n_boot=50, phrase_settings=PHRASES, top_phrases=1, loo_max=2,
                            tfidf={"norm": "l2", "use_idf": True, "smooth_idf": True, "sublinear_tf": False})


def _doc(doc_id, year, lang, rise: int):
    """Ten paragraphs of filler, ``rise`` of them led by the rising phrase."""
    w = WORDS[lang]
    return doc_id, year, lang, [([*RISE[lang], *w[:3]] if p < rise else w[p % 3:p % 3 + 4]) for p in range(10)]


def _corpus():
    docs = []
    for lang in LANGS:
        for k in range(3):
            docs += [_doc(f"{lang}a{k}", 2020, lang, 0), _doc(f"{lang}b{k}", 2021, lang, 2 + k)]
    return docs


def _tokens(docs) -> pd.DataFrame:
    rows = []
    for doc_id, year, lang, paras in docs:
        for p, words in enumerate(paras):
            for i, w in enumerate(words):
                rows.append(dict(doc_id=doc_id, year=year, lang=lang, para=p, sent=p, idx=6 * i, text=w, norm=w,
                                 lemma=w, is_stop=False, is_punct=False, keep=True, role="body", entity=None))
    return pd.DataFrame(rows)


def _tables(toks, docs) -> FindingsTables:
    from textdrift.phrases import phrase_changes

    phrases = pd.concat([phrase_changes(year_matrix(toks, lang, 2), lang=lang, **PHRASES) for lang in LANGS],
                        ignore_index=True)
    kept = toks.groupby(["doc_id", "lang"]).size()
    documents = pd.DataFrame([{"doc_id": d, "year": y, "genre": "statement", "translation": f"{lang}:none",
                               **{f"tokens_{x}": int(kept.get((d, x), 0)) for x in LANGS}} for d, y, lang, _ in docs])
    drift = pd.DataFrame([{"lang": lang, "year_from": 2020, "year_to": 2021, "cosine_distance": 0.3,
                           "low_data": False, "p_permutation": 0.01, "permutation_unit": "document",
                           "permutations": 99, "p_min": 0.01} for lang in LANGS])
    return FindingsTables(documents, drift, phrases)


def _partials(toks, root) -> Partials:
    """The two shards' partial files (documents by the parity of their number), as the rules write them."""
    root.mkdir(parents=True, exist_ok=True)
    docs, paras, para_ngrams = {}, [], {}
    for shard in (0, 1):
        part = table_partials(toks[toks["doc_id"].str[-1].astype(int) % 2 == shard], CODEBOOK, LANGS, ngram_max=2)
        for (variant, lang), [m] in part.docs.items():
            path = root / f"doc_{variant}_{lang}-{shard}.npz"
            save_matrix(m, path)
            docs.setdefault((variant, lang), []).append(str(path))
        for lang, [m] in part.para_ngrams.items():
            path = root / f"para_{lang}-{shard}.npz"
            save_matrix(m, path)
            para_ngrams.setdefault(lang, []).append(str(path))
        path = root / f"paras-{shard}.parquet"
        part.paras["base"][0][PARA_COLUMNS].to_parquet(path, index=False)
        paras.append(str(path))
    return Partials({"base": paras}, {}, docs, para_ngrams)


def _run(partials, tables, memo=None, settings=SETTINGS) -> str:
    """The part as the rule writes it (JSON: NaN as NaN, so equal parts give equal texts)."""
    part = vocabulary_part(partials, tables, LANGS, settings, memo)
    return json.dumps(part, default=lambda x: x.item(), ensure_ascii=False, indent=1)


def _kept(caplog) -> set:
    out = {r.getMessage().split(":")[0] for r in caplog.records if "kept in the memo" in r.getMessage()}
    caplog.clear()
    return out


@pytest.fixture(scope="module")
def warmed(tmp_path_factory):
    """The corpus's partial files and tables, and a memo warmed on them (a cold run), made once."""
    root = tmp_path_factory.mktemp("findings_memo")
    docs = _corpus()
    toks = _tokens(docs)
    parts, tables = _partials(toks, root / "base"), _tables(toks, docs)
    cold = _run(parts, tables, LanguageMemo(root / "memo", "findings_vocabulary", code="c"))
    return root, docs, parts, tables, cold


@pytest.fixture
def memo(warmed, tmp_path):
    """A copy of the warmed memo (a test changes it)."""
    shutil.copytree(warmed[0] / "memo", tmp_path / "memo")
    return LanguageMemo(tmp_path / "memo", "findings_vocabulary", code="c")


def test_cold_run_and_rerun_equal_a_computation_without_the_memo(warmed, memo, caplog):
    _, _, parts, tables, cold = warmed
    assert cold == _run(parts, tables)
    part = json.loads(cold)
    assert set(part["drift"]) == set(LANGS) and {r["lang"] for r in part["phrases"]} == set(LANGS)
    with caplog.at_level(logging.INFO, logger="textdrift.findings"):
        assert _run(parts, tables, memo) == cold
    assert _kept(caplog) == set(LANGS)


@pytest.mark.parametrize("lang", LANGS)
def test_a_document_added_in_one_language_recomputes_only_that_language(warmed, memo, tmp_path, caplog, lang):
    _, docs, _, _, cold = warmed
    grown = [*docs, _doc(f"{lang}b9", 2021, lang, 1)]
    toks = _tokens(grown)
    parts, tables = _partials(toks, tmp_path / "grown"), _tables(toks, grown)
    with caplog.at_level(logging.INFO, logger="textdrift.findings"):
        got = _run(parts, tables, memo)
    assert _kept(caplog) == set(LANGS) - {lang}
    assert got == _run(parts, tables)
    assert got != cold  # the added document changes its language's rows


def _changed(parts: Partials, tables: FindingsTables, what: str, root) -> tuple[Partials, FindingsTables]:
    """``parts`` and ``tables`` with one input of the Chinese rows changed."""
    from textdrift.vectorize import load_matrix

    docs, para_ngrams, paras = dict(parts.docs), dict(parts.para_ngrams), dict(parts.paras)
    root.mkdir(parents=True, exist_ok=True)
    if what in ("doc_roles", "para_ngrams"):
        files = docs[("roles", "zh")] if what == "doc_roles" else para_ngrams["zh"]
        m = load_matrix(files[0])
        path = str(root / "changed.npz")
        save_matrix(m.take(list(range(1, len(m.rows)))), path)
        files = [path, *files[1:]]
        if what == "doc_roles":
            docs[("roles", "zh")] = files
        else:
            para_ngrams["zh"] = files
    elif what == "paras":
        df = pd.read_parquet(paras["base"][0])
        df.loc[(df["lang"] == "zh").to_numpy().nonzero()[0][0], "keep"] += 1
        df.to_parquet(root / "paras.parquet", index=False)
        paras["base"] = [str(root / "paras.parquet"), *paras["base"][1:]]
    d, drift, phrases = tables.documents.copy(), tables.drift.copy(), tables.phrases.copy()
    if what == "drift":
        drift.loc[drift["lang"] == "zh", "cosine_distance"] = 0.4
    elif what == "phrases":
        at = phrases.index[phrases["lang"] == "zh"][0]
        phrases.loc[at, "z"] = phrases.loc[at, "z"] + 1e-9
    elif what == "documents":
        d.loc[d["doc_id"] == "zha0", "genre"] = "speech"
    return Partials(paras, {}, docs, para_ngrams), FindingsTables(d, drift, phrases)


@pytest.mark.parametrize("what", ["doc_roles", "para_ngrams", "paras", "drift", "phrases", "documents"])
def test_each_input_of_a_language_is_part_of_its_key(warmed, memo, tmp_path, caplog, what):
    _, _, parts, tables, _ = warmed
    parts, tables = _changed(parts, tables, what, tmp_path / "changed")
    with caplog.at_level(logging.INFO, logger="textdrift.findings"):
        _run(parts, tables, memo)
    assert _kept(caplog) == {"en"}


def test_the_settings_and_the_code_are_part_of_every_key(warmed, memo, caplog, tmp_path):
    root, _, parts, tables, _ = warmed
    with caplog.at_level(logging.INFO, logger="textdrift.findings"):
        _run(parts, tables, memo, SETTINGS.replace(top_phrases=2))
        assert _kept(caplog) == set()
        shutil.copytree(root / "memo", tmp_path / "again")
        _run(parts, tables, LanguageMemo(tmp_path / "again", "findings_vocabulary", code="other"))
        assert _kept(caplog) == set()
