"""Bad input: each case is either handled and recorded, or stopped before any work with a
message that names the file, the row and the field and says how to fix it.

Fixtures: tests/data/bad/ (real bytes: UTF-16 with BOM, UTF-8 with BOM, GBK, Big5, a saved
web page, an empty file, a PDF, a .docx, cp1252). The end-to-end part runs the real
workflow on a tiny corpus built from them (see ``tiny_run``).
"""

import codecs
import shutil
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import FIXTURE, copy_project, run_snakemake, sha256_tree
from test_manifest import _manifest
from textdrift.clean import clean_text
from textdrift.cleanio import clean_document_file, clean_shard
from textdrift.io import read_texts, text_bytes
from textdrift.decode import CleaningError, decode_bytes
from textdrift.config import ConfigError, check_config
from textdrift.html import extract_text, looks_like_html
from textdrift.manifest import ManifestError, load_manifest

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests/data/bad"
CFG = {"languages": ["zh", "en"]}
HEADER = "doc_id,date,year,title,source,file,languages,encoding,notes\n"
TRAD = "各國應加強數字經濟合作，共同建設網絡空間命運共同體。\n數據安全與個人信息保護是數字經濟發展的基礎。\n"
SIMP = "各国应加强数字经济合作，共同建设网络空间命运共同体。\n数据安全与个人信息保护是数字经济发展的基础。\n"


def _doc(path, **kw):
    return {"doc_id": "d", "year": 2020, "path": str(path), **kw}


# --- encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, encoding, first",
    [
        ("bom_2022.txt", "utf-8-sig", "Digital trade and e-commerce grew in 2022."),
        ("statement_2020.utf16.txt", "utf-16", "Digital cooperation between countries grew quickly in 2020."),
        ("simp_2022.gbk.txt", "gb18030", "各国应加强数字经济合作,共同建设网络空间命运共同体。"),
        ("trad_2021.big5.txt", "cp950", "各國應加強數字經濟合作,共同建設網絡空間命運共同體。"),
    ],
)
def test_encodings_detected_and_logged(name, encoding, first):
    result = clean_document_file(_doc(BAD / name), CFG)
    assert result.log[0]["action"] == "decoded" and result.log[0]["detail"] == f"{name} as {encoding}"
    assert first in [p for ps in result.texts.values() for p in ps]
    assert not any("\ufffd" in p for ps in result.texts.values() for p in ps)


def test_big5_is_not_mistaken_for_gb18030_and_vice_versa():
    # Big5 bytes also decode as GB18030 (into unrelated characters): the detection must pick Big5
    assert TRAD.encode("big5").decode("gb18030") != TRAD
    assert decode_bytes(TRAD.encode("big5"), "t.txt") == (TRAD, "cp950")
    assert decode_bytes(SIMP.encode("gbk"), "s.txt") == (SIMP, "gb18030")
    assert decode_bytes(TRAD.encode("gb18030"), "t.txt") == (TRAD, "gb18030")  # Traditional in GB18030


def test_too_little_chinese_to_tell_must_be_declared():
    with pytest.raises(CleaningError, match=r"x\.txt.*byte offset 0.*too little Chinese.*manifest column 'encoding'"):
        decode_bytes("臺灣".encode("big5"), "x.txt")
    assert decode_bytes("臺灣".encode("big5"), "x.txt", "big5") == ("臺灣", "big5")


def test_declared_encoding_wins_and_utf8_bom_is_not_text():
    data = codecs.BOM_UTF8 + "Zoë".encode()
    assert decode_bytes(data, "a.txt", "utf-8") == ("Zoë", "utf-8-sig")
    assert decode_bytes("Zoë".encode("utf-16-le"), "a.txt", "utf-16-le") == ("Zoë", "utf-16-le")


def test_undecodable_bytes_name_file_and_offset_no_replacement_characters():
    with pytest.raises(CleaningError) as err:
        clean_document_file(_doc(BAD / "latin1.txt"), CFG)
    msg = str(err.value)
    assert "latin1.txt" in msg and "byte offset 7" in msg and "line 1" in msg and "'encoding'" in msg
    result = clean_document_file(_doc(BAD / "latin1.txt", encoding="cp1252"), CFG)
    assert result.texts == {"en": ["The café opened in Zürich."]}


@pytest.mark.parametrize(
    "name, what",
    [("report.pdf", "not a readable PDF.*damaged"), ("letter.docx", "not a readable Word .docx file.*save it as .docx")],
)
def test_binary_files_are_refused_by_name(name, what):
    # PDF and .docx are read (tests/test_extract.py); these two are damaged (truncated) files
    with pytest.raises(CleaningError, match=rf"{name}: {what}"):
        clean_document_file(_doc(BAD / name), CFG)


def test_nul_bytes_are_refused_unless_utf16_is_declared():
    data = "Rivers.".encode("utf-16-le")  # no BOM
    with pytest.raises(CleaningError, match=r"x\.txt: NUL byte at byte offset 1.*utf-16-le"):
        decode_bytes(data, "x.txt")
    assert decode_bytes(data, "x.txt", "utf-16-le")[0] == "Rivers."


# --- HTML ----------------------------------------------------------------------------------


def test_html_page_text_extracted_chrome_dropped_and_logged():
    result = clean_document_file(_doc(BAD / "page_2020.html"), CFG)
    assert result.texts == {"en": [
        "Statement on Digital Cooperation",
        "Countries agreed to expand digital cooperation and to build secure networks for the digital economy.",
        "They will share data responsibly & protect personal information.",
        "Capacity building remains a priority for developing countries.",
        "Digital infrastructure",
        "Digital skills",
    ]}
    html_rows = [r for r in result.log if r["step"] == "html"]
    dropped = {r["detail"].split(">")[0].lstrip("<"): r for r in html_rows if r["action"] == "removed"}
    assert set(dropped) == {"head", "header", "nav", "aside", "footer", "script"}
    assert dropped["footer"]["detail"] == "<footer> 49 chars: Copyright 2020 Example Site. All rights reserved."
    assert "window.analytics" in dropped["head"]["detail"] and "trackPageView" in dropped["script"]["detail"]
    assert dropped["nav"]["chars_before"] == len("Home News")
    assert html_rows[-1]["action"] == "extracted" and "html.parser" in html_rows[-1]["detail"]
    assert "<meta charset=utf-8>" in result.log[0]["detail"]


def test_html_detection_by_content_not_by_a_stray_tag():
    assert looks_like_html("  <!doctype html><p>x</p>") and looks_like_html(b"<html><body>x</body></html>")
    assert looks_like_html("x", "page.HTM")
    assert not looks_like_html("A blog post <!--more--> with a marker\n<p>quoted tag</p>")
    text, dropped = extract_text("<html><body><pre>a\n  b</pre><div>x<br>y</div></body></html>")
    assert text == "a\nb\nx\ny\n" and dropped == []


def test_html_meta_charset_gbk_page():
    page = '<html><head><meta charset="gb2312"><title>标题</title></head><body><p>数字经济合作倡议</p></body></html>'
    path = BAD.parent / "_tmp_gbk_page.html"
    try:
        path.write_bytes(page.encode("gbk"))
        result = clean_document_file(_doc(path), CFG)
    finally:
        path.unlink()
    assert result.texts == {"zh": ["数字经济合作倡议"]}
    assert "gb18030" in result.log[0]["detail"] and "<meta charset=gb2312>" in result.log[0]["detail"]


# --- Traditional, mixed script, other languages -------------------------------------------


def test_other_languages_excluded_with_a_warning_and_logged(caplog):
    with caplog.at_level("WARNING", logger="textdrift.cleanio"):
        result = clean_document_file(_doc(BAD / "statement_2020.utf16.txt"), CFG)
    assert list(result.texts) == ["en"] and len(result.texts["en"]) == 2
    excluded = [r for r in result.log if r["action"] == "excluded_language"]
    assert [r["lang"] for r in excluded] == ["cyrillic", "ja"]
    assert "Россия и Китай" in excluded[0]["detail"] and "デジタル経済" in excluded[1]["detail"]
    assert "not in a configured language excluded (cyrillic x1, ja x1)" in caplog.text


def test_kanji_heavy_japanese_with_kana_is_not_counted_as_chinese():
    result = clean_text("日本政府の声明について\n数字经济合作。", "d", CFG)
    assert result.texts == {"zh": ["数字经济合作。"]}


def test_configured_languages_decide_what_is_kept():
    result = clean_text("Rivers are clean.\n河流很干净。", "d", {"languages": ["en"]})
    assert result.texts == {"en": ["Rivers are clean."]}
    # a manifest row may declare zh while the config analyses en only: recorded, not an error
    path = BAD / "simp_2022.gbk.txt"
    result = clean_document_file(_doc(path, languages="zh;en"), {"languages": ["en"]})
    assert list(result.texts) == ["en"]
    assert ("zh", "not_configured") in {(r["lang"], r["action"]) for r in result.log}


def test_config_schema_allows_only_segmenter_languages():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text(encoding="utf-8"))
    assert schema["properties"]["languages"]["items"] == {"enum": ["zh", "en"]}


# --- empty documents, excess removal -------------------------------------------------------


def test_empty_file_is_an_error_by_default(tmp_path):
    with pytest.raises(CleaningError, match=r"empty\.txt \(doc_id='d'\): the file is empty.*on_empty: skip"):
        clean_document_file(_doc(BAD / "empty.txt"), CFG)


def test_empty_after_cleaning_is_an_error_naming_why(tmp_path):
    path = tmp_path / "ru.txt"
    path.write_text("Россия и Китай.\n\n", encoding="utf-8")
    with pytest.raises(CleaningError, match=r"no text left after cleaning \(language excluded_language x1\)"):
        clean_document_file(_doc(path), CFG)


def test_empty_documents_skipped_when_configured(tmp_path):
    ru = tmp_path / "ru.txt"
    ru.write_text("Россия и Китай.\n", encoding="utf-8")
    ok = tmp_path / "ok.txt"
    ok.write_text("Rivers are clean.\n", encoding="utf-8")
    docs = [{"doc_id": "empty", "year": 2020, "path": str(BAD / "empty.txt")},
            {"doc_id": "ru", "year": 2020, "path": str(ru)}, {"doc_id": "ok", "year": 2020, "path": str(ok)}]
    index, log = clean_shard(docs, tmp_path / "clean.parquet", {**CFG, "on_empty": "skip"})
    assert list(index["doc_id"]) == ["ok"]
    skipped = log[log["action"] == "skipped"]
    assert list(skipped["doc_id"]) == ["empty", "ru"] and (skipped["step"] == "document").all()
    assert "Россия" in " ".join(log.loc[log["doc_id"] == "ru", "detail"])  # the text is in the log
    assert list(read_texts(tmp_path / "clean.parquet")) == [("ok", "en")]  # only the kept text


def test_excess_removal_error_warn_or_skip(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Short text.\nLeave a Reply\n" + "comment " * 200, encoding="utf-8")
    with pytest.raises(CleaningError, match=r"a\.txt \(doc_id='d'\): cleaning kept .*clean\.on_excess_removal: warn"):
        clean_document_file(_doc(path), CFG)
    assert clean_document_file(_doc(path), {**CFG, "on_excess_removal": "warn"}).texts == {"en": ["Short text."]}
    result = clean_document_file(_doc(path), {**CFG, "on_excess_removal": "skip"})
    assert result.texts == {} and result.log[-1]["action"] == "skipped"


# --- manifest -------------------------------------------------------------------------------


def test_manifest_every_problem_named_by_row_and_field(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n", encoding="utf-8")
    path = _manifest(tmp_path, [
        "a,2019-02-30,,T,s,a.txt,,,",           # row 2 (the header is row 1): impossible date
        "b,2019,,T,s,/etc/hostname,,,",        # row 3: absolute path
        "c,2019,,T,s,link.txt,,,",             # row 4: symlink out of raw/
        "a,2019,,T,s,b.txt,,,",                # row 5: duplicate doc_id
        "e,2019,,T,s,a.txt,,,",                # row 6: same file as row 2
        "f,1800,,T,s,b.txt,,nonsense-enc,",    # row 7: year out of range, unknown encoding
        "g,2019,,T,s,../../x.txt,,,",          # row 8: traversal
    ])
    (path.parent / "link.txt").symlink_to(outside)
    with pytest.raises(ManifestError) as err:
        load_manifest(path, years=(1900, 2100))
    msg = str(err.value)
    for fragment in [
        "row 2 (doc_id='a'), field 'date': '2019-02-30' is not a valid ISO date",
        "row 3 (doc_id='b'), field 'file': '/etc/hostname' is an absolute path",
        f"row 4 (doc_id='c'), field 'file': 'link.txt' points outside {path.parent}/ (through a symbolic link, to {outside})",
        "rows 2, 5, field 'doc_id': duplicate doc_id 'a'",
        "rows 2, 6, field 'file': the same file a.txt is named more than once",
        "row 7 (doc_id='f'), field 'year': 1800 is outside the configured range 1900-2100",
        "row 7 (doc_id='f'), field 'encoding': 'nonsense-enc' is not an encoding",
        "row 8 (doc_id='g'), field 'file': '../../x.txt' points outside",
    ]:
        assert fragment in msg, (fragment, msg)


def _broken_project(tmp_path, manifest_rows, extra_files=()):
    work = copy_project(tmp_path / "project")
    raw = work / "data/raw"
    for p in raw.iterdir():
        p.unlink()
    for name in ("en_a.txt", "en_b.txt", *extra_files):
        (raw / name).write_text("Rivers are clean.\n", encoding="utf-8")
    (raw / "documents.csv").write_text(HEADER + "".join(r + "\n" for r in manifest_rows), encoding="utf-8")
    return work


def _nothing_written(work):
    return not any((work / d).exists() for d in ("data/processed", "results", "logs"))


def test_workflow_stops_before_any_job_on_a_bad_manifest(tmp_path):
    work = _broken_project(tmp_path, [
        "a,2019-05-01,,T,s,en_a.txt,en,,",
        "a,2020-13-01,,T,s,en_b.txt,en,,",
        "c,2019,,T,s,missing.txt,en,,",
        "d,2019,,T,s,../../Snakefile,en,,",
    ])
    raw_before = sha256_tree(work / "data/raw")
    proc = run_snakemake(work, "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "ManifestError" in out and "invalid manifest" in out
    for fragment in ["row 3 (doc_id='a'), field 'date': '2020-13-01'", "rows 2, 3, field 'doc_id': duplicate",
                     "row 4 (doc_id='c'), field 'file': 'missing.txt' does not exist",
                     "row 5 (doc_id='d'), field 'file': '../../Snakefile' points outside"]:
        assert fragment in out, fragment
    assert _nothing_written(work) and sha256_tree(work / "data/raw") == raw_before


def test_workflow_warns_about_files_no_row_names(tmp_path):
    work = _broken_project(tmp_path, ["a,2019,,T,s,en_a.txt,en,,", "b,2019,,T,s,en_b.txt,en,,"],
                           extra_files=["forgotten.txt"])
    proc = run_snakemake(work, "-n")
    assert "not named in documents.csv and are ignored: forgotten.txt" in proc.stdout + proc.stderr


def test_workflow_stops_on_a_bad_config_or_codebook(tmp_path):
    work = _broken_project(tmp_path, ["a,2019,,T,s,en_a.txt,en,,"])
    (work / "bad.yaml").write_text("clean:\n  on_excess_removl: warn\n", encoding="utf-8")
    proc = run_snakemake(work, "-n", "--configfile", "config/config.yaml", "bad.yaml", check=False)
    assert proc.returncode != 0 and "on_excess_removl" in proc.stdout + proc.stderr
    codebook = work / "config/themes.yaml"
    codebook.write_text(codebook.read_text(encoding="utf-8").replace("id: digital_economy", "id: Digital Economy", 1),
                        encoding="utf-8")
    proc = run_snakemake(work, "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "CodebookError" in out and "field 'id'" in out and "snake_case" in out
    assert _nothing_written(work)


def test_config_errors_list_every_field_with_a_suggestion():
    cfg = yaml.safe_load((FIXTURE / "config/config.yaml").read_text(encoding="utf-8"))
    check_config(cfg, ROOT / "workflow/schemas/config.schema.yaml")  # the shipped config is valid
    cfg["clean"] = {"on_excess_removl": "warn", "on_empty": "skp"}  # a block with only some keys
    cfg["shard"] = 2
    cfg["drift"] = {"top_n": "many"}
    cfg["languages"] = ["zh", "fr"]
    with pytest.raises(ConfigError) as err:
        check_config(cfg, ROOT / "workflow/schemas/config.schema.yaml")
    msg = str(err.value)
    for line in [
        "config: field 'shard': unknown key; did you mean 'shards'?",
        "config: field 'clean.on_excess_removl': unknown key; did you mean 'clean.on_excess_removal'?",
        "config: field 'clean.on_empty': 'skp' is not one of ['error', 'skip']",
        "config: field 'drift.top_n': 'many' is not of type 'integer'",
        "config: field 'languages.1': 'fr' is not one of ['zh', 'en']",
    ]:
        assert line in msg, (line, msg)


# --- the real workflow on a tiny corpus of awkward inputs -------------------------------------

TINY = [  # doc_id, date, file, languages, encoding
    ("page", "2020-03-01", "page_2020.html", "en", ""),
    ("statement", "2020-06-01", "statement_2020.utf16.txt", "en", ""),
    ("trad", "2021-05-01", "trad_2021.big5.txt", "zh", ""),
    ("simp", "2022-05-01", "simp_2022.gbk.txt", "zh;en", ""),
    ("bom", "2022-07-01", "bom_2022.txt", "en", ""),
    ("empty", "2022-08-01", "empty.txt", "", ""),
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """English only in 2020, Chinese only in 2021 (Traditional, Big5), both in 2022 (GBK, mixed
    document); a web page, UTF-16 with Russian and Japanese paragraphs, an empty file skipped."""
    work = copy_project(tmp_path_factory.mktemp("tiny"))
    raw = work / "data/raw"
    for p in raw.iterdir():
        p.unlink()
    rows = []
    for doc_id, date, name, langs, enc in TINY:
        shutil.copy2(BAD / name, raw / name)
        rows.append(f"{doc_id},{date},,{doc_id} title,test fixture,{name},{langs},{enc},")
    (raw / "documents.csv").write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    (work / "tiny.yaml").write_text("shards: 1\nclean:\n  on_empty: skip\n", encoding="utf-8")
    raw_before = sha256_tree(raw)
    proc = run_snakemake(work, "--configfile", "config/config.yaml", "tiny.yaml")
    tables = {p.stem: pd.read_csv(p, keep_default_na=False) for p in (work / "results/tables").glob("*.csv")}
    tokens = pd.concat([pd.read_parquet(p) for p in (work / "data/processed/tokens").glob("*.parquet")])
    return {"dir": work, "proc": proc, "raw_before": raw_before, "tables": tables, "tokens": tokens,
            "index": pd.read_csv(work / "data/processed/clean/index.csv"),
            "log": pd.read_csv(work / "data/processed/cleaning_log.csv", keep_default_na=False)}


@pytest.mark.e2e
def test_tiny_corpus_raw_untouched_and_index(tiny_run):
    assert sha256_tree(tiny_run["dir"] / "data/raw") == tiny_run["raw_before"]
    assert set(zip(tiny_run["index"]["doc_id"], tiny_run["index"]["lang"])) == {
        ("page", "en"), ("statement", "en"), ("trad", "zh"), ("simp", "zh"), ("simp", "en"), ("bom", "en")}
    log = tiny_run["log"]
    assert set(log["doc_id"]) == {d[0] for d in TINY}  # every document has log rows, the skipped one too
    assert log.loc[log["doc_id"] == "empty", "action"].tolist()[-1] == "skipped"
    decoded = dict(zip(log.loc[log["action"] == "decoded", "doc_id"], log.loc[log["action"] == "decoded", "detail"]))
    assert decoded["trad"].endswith("as cp950") and decoded["simp"].endswith("as gb18030")
    assert decoded["statement"].endswith("as utf-16") and decoded["bom"].endswith("as utf-8-sig")
    assert {"cyrillic", "ja"} <= set(log.loc[log["action"] == "excluded_language", "lang"])
    assert "nav" in " ".join(log.loc[(log["doc_id"] == "page") & (log["step"] == "html"), "detail"])


@pytest.mark.e2e
def test_tiny_corpus_clean_texts_are_nfc_lines(tiny_run):
    for row in tiny_run["index"].itertuples():
        paras = read_texts(tiny_run["dir"] / row.file)[(row.doc_id, row.lang)]
        text = text_bytes(paras).decode("utf-8")  # as UTF-8 lines: no paragraph holds a line break
        assert text.splitlines() == paras and len(paras) == row.paragraphs
        assert all(p and p == p.strip() and unicodedata.is_normalized("NFC", p) for p in paras)
        assert "Home" not in text and "Copyright" not in text and "Россия" not in text


@pytest.mark.e2e
def test_traditional_counts_together_with_simplified(tiny_run):
    tokens = tiny_run["tokens"]
    zh = tokens[tokens["lang"] == "zh"]
    trad = zh[zh["doc_id"] == "trad"]
    simp = zh[zh["doc_id"] == "simp"]
    assert list(trad["norm"]) == list(simp["norm"])  # same words, counted as the same terms
    assert "網絡空間" in "".join(trad["text"]) and "网络空间命运共同体" in set(trad["norm"])


@pytest.mark.e2e
def test_sparse_years_are_flagged_not_crashed(tiny_run):
    t = tiny_run["tables"]
    drift, phrases = t["tfidf_drift"], t["phrase_changes"]
    # one step per language (en 2020 -> 2022 with a gap of 2, zh 2021 -> 2022), each low_data
    assert sorted(zip(drift["lang"], drift["year_from"], drift["year_to"])) == [("en", 2020, 2022), ("zh", 2021, 2022)]
    assert drift["low_data"].astype(str).str.lower().eq("true").all()
    assert list(drift.loc[drift["lang"] == "en", "gap"]) == [2]
    assert {"lang", "year_from", "year_to", "phrase", "status"} <= set(phrases.columns)
    freq = t["theme_frequencies"]
    assert set(zip(freq["year"], freq["lang"])) == {(2020, "en"), (2021, "zh"), (2022, "zh"), (2022, "en")}
    for name, table in t.items():
        assert len(table.columns) > 1, name  # every table has its header, empty or not


def test_missing_file_suggests_the_closest_name(tmp_path):
    path = _manifest(tmp_path, ["a,2019,,T,s,chair_statment_2024.txt,,,"])
    (path.parent / "chair_statement_2024.txt").write_text("text\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="row 2 .*'chair_statment_2024.txt' does not exist.*did you mean "
                                            "'chair_statement_2024.txt'"):
        load_manifest(path, years=(1900, 2100))


@pytest.mark.parametrize("reader", ["config", "codebook", "entities"])
def test_duplicate_yaml_keys_are_an_error_naming_file_line_and_key(tmp_path, reader):
    from textdrift.config import DuplicateKeyError, load_yaml
    from textdrift.entities import load_entities
    from textdrift.codebook import load_codebook

    text = {"config": "low_data_tokens: 500\nshards: 2\nlow_data_tokens: 300\n",
            "codebook": "themes:\n  - id: green\n    label_en: Green\n    en: [green]\n    en: [low-carbon]\n",
            "entities": "entities:\n  - id: un\n    type: organisation\n    en: [united nations]\n    type: forum\n"}[reader]
    path = tmp_path / f"{reader}.yaml"
    path.write_text(text, encoding="utf-8")
    read = {"config": load_yaml, "codebook": load_codebook, "entities": load_entities}[reader]
    line, key = {"config": (3, "low_data_tokens"), "codebook": (5, "en"), "entities": (5, "type")}[reader]
    with pytest.raises(DuplicateKeyError, match=rf"{reader}.yaml: line {line}: key '{key}' is given twice"):
        read(path)


def test_duplicate_key_in_the_config_stops_the_workflow(tmp_path):
    work = copy_project(tmp_path / "w")
    (work / "dup.yaml").write_text("shards: 2\nshards: 3\n", encoding="utf-8")
    proc = run_snakemake(work, "-n", "--configfile", "config/config.yaml", "dup.yaml", check=False)
    assert proc.returncode != 0 and "dup.yaml: line 2: key 'shards' is given twice" in proc.stdout + proc.stderr


def test_codebook_and_entity_typos_get_did_you_mean():
    from textdrift.entities import EntityError, parse_entities
    from textdrift.codebook import CodebookError, parse_codebook

    with pytest.raises(CodebookError, match="field 'lable_zh': unknown key; did you mean 'label_zh'"):
        parse_codebook({"themes": [{"id": "a", "label_en": "A", "lable_zh": "x", "en": ["a"]}]})
    with pytest.raises(EntityError, match="field 'tpye': unknown key; did you mean 'type'"):
        parse_entities({"entities": [{"id": "a", "type": "organisation", "tpye": "x", "label_en": "A", "en": ["a"]}]})
