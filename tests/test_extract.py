"""PDF and Word input (issue 27): files the tests make themselves (tests/docgen.py), read by
textdrift.extract through the cleaner; and `make manifest` (textdrift.propose), end to end."""

import csv
import re
import shutil
import subprocess
import sys
import unicodedata
from difflib import SequenceMatcher
from pathlib import Path

import pandas as pd
import pytest

from docgen import SOFT, make_docx, make_pdf, paragraphs, source_text
from textdrift.cleanio import clean_document_file
from textdrift.decode import CleaningError
from textdrift.extract import extract_file, join_lines, page_number
from textdrift.propose import dates_in_text, doc_id_from_name

CFG = {"languages": ["zh", "en"]}


def f1(clean: str, source: str) -> float:
    """Character-level F1 of two texts up to whitespace (after NFKC, as the cleaner normalises):
    matched characters of difflib's alignment over both lengths."""
    a = re.sub(r"\s+", "", unicodedata.normalize("NFKC", clean))
    b = re.sub(r"\s+", "", unicodedata.normalize("NFKC", source))
    matched = sum(m.size for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    p, r = matched / max(len(a), 1), matched / max(len(b), 1)
    return 2 * p * r / (p + r) if p + r else 0.0


def _clean(path, **row):
    return clean_document_file({"doc_id": Path(path).stem, "path": str(path), **row}, CFG)


def _rows(result, step="extract", action=None):
    return [r for r in result.log if r["step"] == step and (action is None or r["action"] == action)]


@pytest.mark.parametrize("line", ["3", "- 3 -", "— 12 —", "–3–", "·3·", "iv", "第3页", "第 3 页", "第三页",
                                  "第3页 共10页", "共10页 第3页", "Page 3", "page 3 of 10", "p. 3", "3 / 10", "3 of 10"])
def test_page_numbers_in_common_forms(line):
    assert page_number(line)


@pytest.mark.parametrize("line", ["3. Expanding access", "Article 3", "第三章", "2024年3月5日", "Digital Report 2024",
                                  "100,000", "I. Introduction", "2024", "Civil", "mix", "did"])
def test_not_page_numbers(line):
    assert not page_number(line)


def test_lines_joined_hyphenation_undone_only_into_words():
    log = []
    assert join_lines(["building inter-", "national centres"], lambda *a: log.append(a)) == "building international centres"
    assert join_lines(["a well-", "known rule"], lambda *a: log.append(a)) == "a well-known rule"
    assert [a for a, _ in log] == ["dehyphenated", "kept_hyphen"]
    assert join_lines(["数字合作已经成为", "推动国际发展的动力"]) == "数字合作已经成为推动国际发展的动力"
    assert join_lines(["合作，", "Digital"]) == "合作，Digital"
    assert join_lines(["the United", "Nations"]) == "the United Nations"
    assert join_lines(["soft inter\u00ad", "national"]) == "soft international"


def test_english_pdf_headers_page_numbers_hyphens(tmp_path):
    paras = paragraphs("en", 10, seed=1)
    pdf = make_pdf(tmp_path / "plan.pdf", [paras], title="Digital Cooperation Plan", lines_per_page=12)
    result = _clean(pdf, title="Digital Cooperation Plan")
    assert set(result.texts) == {"en"}
    clean = "\n".join(result.texts["en"])
    assert f1(clean, "Digital Cooperation Plan\n" + source_text(paras)) >= 0.98
    # paragraph breaks where the layout shows them: one clean paragraph per source paragraph
    assert result.texts["en"] == ["Digital Cooperation Plan", *[p.replace(SOFT, "") for p in paras]]
    assert result.roles["en"][0] == "title"
    assert "Report 2024" not in clean and not re.search(r"- \d+ -", clean)
    removed = [r["detail"] for r in _rows(result, action="removed")]
    pages = int(re.search(r"(\d+) page", _rows(result, "read")[0]["detail"]).group(1))
    assert pages >= 3
    assert sum("running header" in d for d in removed) == pages
    assert sum(bool(re.search(r"page number.*: - \d+ -$", d)) for d in removed) == pages
    assert any(r["action"] == "dehyphenated" and "international" in r["detail"] for r in _rows(result))
    summary = _rows(result, action="summary")[0]["detail"]
    assert f"{pages} page(s)" in summary and f"page number x{pages}" in summary and f"running header x{pages}" in summary


def test_chinese_pdf_headers_and_page_numbers_removed(tmp_path):
    paras = paragraphs("zh", 10, seed=2)
    pdf = make_pdf(tmp_path / "zh.pdf", [paras], header="数字合作报告", page_number="第{n}页", title="数字合作计划",
                   lines_per_page=10)
    result = _clean(pdf, title="数字合作计划")
    clean = "\n".join(result.texts["zh"])
    assert f1(clean, "数字合作计划\n" + source_text(paras)) >= 0.98
    assert result.texts["zh"][1:] == [unicodedata.normalize("NFKC", p) for p in paras]
    assert "报告" not in clean and "页" not in clean
    removed = [r["detail"] for r in _rows(result, action="removed")]
    assert any(d.endswith("page number (bottom of the page): 第2页") for d in removed)
    assert any("running header" in d and d.endswith("数字合作报告") for d in removed)


def test_two_columns_of_language_read_column_by_column(tmp_path):
    zh, en = paragraphs("zh", 5, seed=3), paragraphs("en", 5, seed=4)
    pdf = make_pdf(tmp_path / "bilingual.pdf", [zh, en], lines_per_page=12, page_number="Page {n}",
                   middle_footer="Draft for comment")
    result = _clean(pdf, languages="zh;en")
    assert f1("\n".join(result.texts["zh"]), source_text(zh)) >= 0.98
    assert f1("\n".join(result.texts["en"]), source_text(en)) >= 0.98
    assert "Draft for comment" not in "\n".join(result.texts["en"])
    assert any("repeated line" in r["detail"] for r in _rows(result, action="removed"))
    assert any(r["action"] == "joined_page" for r in _rows(result))


def test_scanned_page_is_a_clear_error_naming_file_and_page(tmp_path):
    pdf = make_pdf(tmp_path / "scanned.pdf", [paragraphs("en", 1)], blank_image_page=True)
    with pytest.raises(CleaningError, match=r"scanned\.pdf: page 2 has no text layer.*OCR.*ocrmypdf"):
        _clean(pdf)


def test_encrypted_and_damaged_pdfs_are_clear_errors(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.text(20, 20, "Confidential")
    pdf.output(str(tmp_path / "locked.pdf"))
    with pytest.raises(CleaningError, match=r"locked\.pdf: the PDF is encrypted.*password.*qpdf"):
        _clean(tmp_path / "locked.pdf")
    good = make_pdf(tmp_path / "ok.pdf", [paragraphs("en", 2)])
    (tmp_path / "cut.pdf").write_bytes(good.read_bytes()[:400])
    with pytest.raises(CleaningError, match=r"cut\.pdf: .*(damaged|text layer)"):
        _clean(tmp_path / "cut.pdf")


def test_docx_headings_table_and_footnote(tmp_path):
    en, zh = [source_text([p]) for p in paragraphs("en", 2, seed=5)], paragraphs("zh", 1, seed=6)
    path = make_docx(tmp_path / "statement.docx", "Chair's Statement",
                     [("Part One: Access", en), ("第二部分", zh)],
                     table=[["Year", "Target"], ["2024", "Half of all villages online"]],
                     footnote="Source: the ministry's annual survey.")
    result = _clean(path, languages="en;zh")
    assert result.texts["en"] == ["Chair's Statement", "Part One: Access", *en, "Year Target",
                                  "2024 Half of all villages online", "Source: the ministry's annual survey."]
    assert result.roles["en"] == ["title", "heading", "body", "body", "body", "body", "paratext"]
    assert result.texts["zh"] == ["第二部分", unicodedata.normalize("NFKC", zh[0])]
    assert result.roles["zh"][0] == "heading"
    source = "\n".join(["Chair's Statement", "Part One: Access", *en, "Year Target", "2024 Half of all villages online",
                        "Source: the ministry's annual survey."])
    assert f1("\n".join(result.texts["en"]), source) >= 0.98
    assert any(r["action"] == "footnote" for r in _rows(result))
    assert "1 table(s) as 2 row paragraph(s), 1 foot-/endnote(s)" in _rows(result, action="paragraphs")[0]["detail"]


def test_extract_metadata_for_manifest(tmp_path):
    path = make_pdf(tmp_path / "m.pdf", [paragraphs("en", 2)], title="Big Heading",
                    metadata={"title": "White Paper on Data", "creation_date": __import__("datetime").datetime(2023, 4, 5)})
    meta = extract_file(path).meta
    assert meta["title"] == "White Paper on Data" and meta["created"] == "2023-04-05" and meta["first_heading"] == "Big Heading"


def test_proposed_row_ignores_placeholder_metadata_titles(tmp_path):
    from textdrift.config import with_defaults
    from textdrift.propose import propose_row

    path = make_pdf(tmp_path / "wp_2023.pdf", [paragraphs("en", 2)], title="White Paper on Data",
                    metadata={"title": "Microsoft Word - draft3.docx"})
    row = propose_row(path, tmp_path, set(), with_defaults({}))
    assert row["title"] == "White Paper on Data" and row["doc_id"] == "wp_2023" and row["date"] == "2023"
    assert "metadata title 'Microsoft Word - draft3.docx' ignored" in row["notes"] and row["languages"] == "en"


def test_a_year_in_the_file_name_outranks_an_earlier_date_quoted_in_the_text(tmp_path):
    """A report to the 1982 congress quotes 1 October 1949 first: the year of its file name is kept,
    made precise by a date of the text in that year when there is one."""
    from textdrift.config import with_defaults
    from textdrift.propose import propose_row

    cfg = with_defaults({"years": {"min": 1900, "max": 2100}})
    quoted = tmp_path / "congress_12_1982.txt"
    quoted.write_text("同志们：\n\n1949年10月1日，中华人民共和国成立。\n\n我们要继续前进。\n", encoding="utf-8")
    row = propose_row(quoted, tmp_path, set(), cfg)
    assert row["date"] == "1982" and "1949-10-01, is of another year" in row["notes"]
    dated = tmp_path / "congress_19_2017.txt"
    dated.write_text("决胜全面建成小康社会\n\n1949年10月1日以来。\n\n2017年10月18日\n", encoding="utf-8")
    row = propose_row(dated, tmp_path, set(), cfg)
    assert row["date"] == "2017-10-18" and "file name's year 2017" in row["notes"]
    # no year in the name: the text's first date, as before
    plain = tmp_path / "report.txt"
    plain.write_text("报告\n\n1949年10月1日，中华人民共和国成立。\n", encoding="utf-8")
    assert propose_row(plain, tmp_path, set(), cfg)["date"] == "1949-10-01"


def test_dates_in_text_and_doc_ids():
    text = "北京，2024年3月5日。二〇二三年十一月九日 Geneva, 5 March 2024; on March 5, 2022 and 2021-07-01"
    assert [iso for _, iso, _ in dates_in_text(text)] == ["2024-03-05", "2023-11-09", "2024-03-05", "2022-03-05",
                                                           "2021-07-01"]
    taken = {"plan_2024"}
    assert doc_id_from_name("plan 2024.pdf", taken) == "plan_2024-2"
    assert doc_id_from_name("数字合作.pdf", taken) == "doc"
    assert doc_id_from_name("Déclaration (final).docx", taken) == "Declaration_final"


@pytest.mark.e2e
def test_folder_of_pdf_and_word_files_manifest_then_run(tmp_path):
    """A user drops PDF and Word files into data/raw/, runs `make manifest WRITE=1`, `make check`
    and the workflow (up to the year-to-year drift table: the jobs that read what extraction wrote):
    the rows are proposed and written, and headers/page numbers never reach the token table."""
    from conftest import copy_project, run_snakemake

    work = copy_project(tmp_path)
    raw = work / "data" / "raw"
    for f in raw.iterdir():
        f.unlink()  # a new user's folder: only their files, no manifest yet
    en22, en23, zh22, zh23 = (paragraphs("en", 6, 11), paragraphs("en", 6, 12), paragraphs("zh", 6, 13),
                              paragraphs("zh", 6, 14))
    make_pdf(raw / "plan_2022-06-01.pdf", [en22], title="Digital Cooperation Plan", lines_per_page=14)
    make_pdf(raw / "jihua.pdf", [["北京，2022年5月4日", *zh22]], header="数字合作报告", page_number="第{n}页",
             title="数字合作计划", lines_per_page=12)
    make_pdf(raw / "bilingual 2023.pdf", [zh23, en23[:3]], page_number="- {n} -", lines_per_page=14)
    make_docx(raw / "statement.docx", "Chair's Statement",
              [("Access", [source_text([p]) for p in en23[3:]]), ("Skills", ["Signed on 9 November 2023."])],
              table=[["Year", "Target"], ["2023", "Half of all villages online"]], footnote="Source: the ministry.")
    propose = subprocess.run([sys.executable, "-m", "textdrift.propose", "--write"], cwd=work, capture_output=True,
                             text=True)
    assert propose.returncode == 0, propose.stderr
    assert "[4/4]" in propose.stderr and "genre is left empty: one of proposal" in propose.stdout
    rows = {r["file"]: r for r in csv.DictReader(open(raw / "documents.csv", encoding="utf-8"))}
    assert rows["plan_2022-06-01.pdf"]["date"] == "2022-06-01" and "file name" in rows["plan_2022-06-01.pdf"]["notes"]
    assert rows["jihua.pdf"]["date"] == "2022-05-04" and "2022年5月4日" in rows["jihua.pdf"]["notes"]
    assert rows["jihua.pdf"]["title"] == "数字合作计划" and rows["jihua.pdf"]["languages"] == "zh"
    assert set(rows["bilingual 2023.pdf"]["languages"].split(";")) == {"zh", "en"}
    assert rows["bilingual 2023.pdf"]["date"] == "2023"
    assert rows["statement.docx"]["date"] == "2023-11-09" and rows["statement.docx"]["title"] == "Chair's Statement"
    assert all(r["genre"] == "" for r in rows.values())
    before = (raw / "documents.csv").read_bytes()
    again = subprocess.run([sys.executable, "-m", "textdrift.propose", "--write"], cwd=work, capture_output=True,
                           text=True)
    assert "nothing to propose" in again.stdout and (raw / "documents.csv").read_bytes() == before
    check = subprocess.run([sys.executable, "-m", "textdrift.check", "--config", "config/config.yaml"], cwd=work,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    # the jobs up to the first table of the year-to-year comparison (clean, segment, count, drift):
    # what is checked here is what extraction leaves in the clean texts and the token table; four
    # documents in one shard (the fixture's four shards would make three times the per-shard jobs)
    run_snakemake(work, "results/tables/tfidf_drift.csv", "data/processed/cleaning_log.csv", "--config", "shards=1")
    assert (work / "results" / "tables" / "tfidf_drift.csv").is_file()
    tokens = pd.concat(pd.read_parquet(p) for p in sorted((work / "data/processed/tokens").glob("*.parquet")))
    assert set(tokens["doc_id"]) == {r["doc_id"] for r in rows.values()}
    words = set(tokens["text"])
    assert not words & {"Report", "报告", "页", "第1页", "1", "2", "3"}, words & {"Report", "报告", "页", "1", "2", "3"}
    log = pd.read_csv(work / "data/processed/cleaning_log.csv", keep_default_na=False)
    summary = log[(log["step"] == "extract") & (log["action"] == "summary")]
    assert len(summary) == 4
    pdfs = summary[summary["doc_id"] != rows["statement.docx"]["doc_id"]]
    assert pdfs["detail"].str.contains(r"\d page\(s\), \d+ characters extracted; removed: .*page number x").all()


def test_only_real_pdf_and_docx_files_are_extracted(tmp_path):
    text = tmp_path / "about.txt"
    text.write_bytes(b"About %PDF-1.7 files and PK\x03\x04 archives.")
    assert extract_file(text) is None
    result = _clean(text)
    assert result.texts == {"en": ["About %PDF-1.7 files and PK archives."]}
    assert result.log[0]["step"] == "read" and result.log[0]["action"] == "decoded"
