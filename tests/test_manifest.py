"""Manifest validation: every problem names the row and the field."""

from pathlib import Path

import pytest

from textdrift.manifest import ManifestError, load_manifest, shard_of
from conftest import FIXTURE

ROOT = Path(__file__).resolve().parents[1]
HEADER = "doc_id,date,year,title,source,file,languages,encoding,notes\n"


def _manifest(tmp_path, rows, header=HEADER, files=("a.txt", "b.txt")):
    raw = tmp_path / "raw"
    raw.mkdir()
    for f in files:
        (raw / f).write_text("text\n", encoding="utf-8")
    (raw / "documents.csv").write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return raw / "documents.csv"


def test_shipped_manifest_is_valid():
    df = load_manifest(FIXTURE / "data/raw/documents.csv", FIXTURE / "data/raw")
    assert len(df) == 5
    assert sorted(df["year"]) == [2017, 2022, 2022, 2023, 2024]
    assert df["doc_id"].is_unique
    assert all(Path(p).is_file() for p in df["path"])


def test_year_derived_from_date(tmp_path):
    path = _manifest(tmp_path, ["a,2019-05-01,,Title A,src,a.txt,en,,", "b,2020,,Title B,src,b.txt,,,"])
    df = load_manifest(path)
    assert list(df["year"]) == [2019, 2020]
    assert list(df["languages"]) == ["en", ""]


@pytest.mark.parametrize(
    "row, message",
    [
        ("a,2019-13-01,,T,s,a.txt,,,", "row 2 (doc_id='a'), field 'date'"),
        ("a,May 2019,,T,s,a.txt,,,", "row 2 (doc_id='a'), field 'date'"),
        ("a,2019-05-01,2018,T,s,a.txt,,,", "field 'year': 2018 disagrees"),
        ("a,1850-05-01,,T,s,a.txt,,,", "field 'year': 1850 is outside"),
        ("a,2019-05-01,,T,s,missing.txt,,,", "field 'file': 'missing.txt' does not exist"),
        ("a,2019-05-01,,T,s,../secret.txt,,,", "field 'file': '../secret.txt' points outside"),
        ("a b,2019-05-01,,T,s,a.txt,,,", "field 'doc_id'"),
        ("a,2019-05-01,,,s,a.txt,,,", "field 'title'"),
        ("a,2019-05-01,,T,s,a.txt,zh+en,,", "field 'languages'"),
        ("a,2019-05-01,x,T,s,a.txt,,,", "field 'year': 'x' is not an integer"),
    ],
)
def test_bad_rows_name_row_and_field(tmp_path, row, message):
    path = _manifest(tmp_path, [row])
    with pytest.raises(ManifestError, match=None) as err:
        load_manifest(path)
    assert message in str(err.value)


def test_duplicate_doc_id(tmp_path):
    path = _manifest(tmp_path, ["a,2019,,T,s,a.txt,,,", "a,2020,,T,s,b.txt,,,"])
    with pytest.raises(ManifestError, match="rows 2, 3, field 'doc_id': duplicate doc_id 'a'"):
        load_manifest(path)


def test_missing_column(tmp_path):
    path = _manifest(tmp_path, ["a,2019,T,a.txt"], header="doc_id,date,title,filename\n")
    with pytest.raises(ManifestError, match=r"missing required column\(s\) \['file'\]"):
        load_manifest(path)


def test_unnamed_file_warns(tmp_path):
    path = _manifest(tmp_path, ["a,2019,,T,s,a.txt,,,"])
    with pytest.warns(UserWarning, match="not named in documents.csv.*b.txt"):
        load_manifest(path)


def test_shard_is_stable_and_in_range():
    # the same shard in every process (CRC-32, not Python's salted hash()): fixed values, by hand
    assert shard_of("gdi_chair_statement_2024", 4) == 0 and shard_of("gdi_chair_statement_2023", 4) == 3
    assert {shard_of(f"doc{i}", 3) for i in range(100)} == {0, 1, 2}
    # CRC-32 is fixed by the standard, so shard assignment is the same on every machine
    assert shard_of("a", 7) == 0xE8B7BE43 % 7


# ---- document metadata and the documents table ---------------------------------------------------


def _manifest_with(tmp_path, extra_header, extra_values):
    (tmp_path / "a.txt").write_text("Digital economy.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("数字经济。\nDigital economy.\n", encoding="utf-8")
    path = tmp_path / "documents.csv"
    path.write_text(
        f"doc_id,date,title,file,languages,{extra_header}\n"
        f"a,2020-01-01,A,a.txt,en,{extra_values[0]}\n"
        f"b,2021-01-01,B,b.txt,zh;en,{extra_values[1]}\n", encoding="utf-8")
    return path


def test_metadata_columns_are_validated(tmp_path):
    from textdrift.manifest import ManifestError, load_manifest

    ok = _manifest_with(tmp_path, "genre,original_language,translation,retrieved",
                        ["statement,en,en:none,2026-11-01", "white_paper,zh,zh:none;en:official,"])
    m = load_manifest(ok)
    assert list(m["genre"]) == ["statement", "white_paper"] and m.loc[1, "translation"] == "zh:none;en:official"
    bad = _manifest_with(tmp_path, "genre,original_language,translation,retrieved",
                         ["essay,english,en:maybe,01/11/2026", "statement,zh,fr:none,"])
    with pytest.raises(ManifestError) as err:
        load_manifest(bad)
    msg = str(err.value)
    for field in ("'genre'", "'original_language'", "'translation'", "'retrieved'"):
        assert field in msg
    assert "names language(s) ['fr'] that the row's languages 'zh;en' do not declare" in msg


def test_documents_table_and_step_documents_by_hand(tmp_path):
    import hashlib

    import pandas as pd

    from textdrift.manifest import documents_table, load_manifest, step_documents

    m = load_manifest(_manifest_with(tmp_path, "genre", ["statement", ""]))
    paras = pd.DataFrame({"year": [2020, 2021, 2021, 2021], "lang": ["en", "zh", "en", "en"],
                          "doc_id": ["a", "b", "b", "b"], "para": [0, 0, 1, 2], "keep": [2, 1, 2, 3]})
    docs = documents_table(m, paras, ["zh", "en"])
    assert list(docs["tokens_en"]) == [2, 5] and list(docs["tokens_zh"]) == [0, 1] and list(docs["tokens"]) == [2, 6]
    assert docs.loc[0, "sha256"] == hashlib.sha256((tmp_path / "a.txt").read_bytes()).hexdigest()
    steps = pd.DataFrame({"lang": ["en", "en"], "year_from": [2020, 2020], "year_to": [2021, 2020]})
    out = step_documents(steps, docs)
    assert list(out["docs_from"]) == ["a", "a"] and out.loc[0, "docs_to"] == "b"
    # b has no genre: unknown; a statement against itself: same
    assert list(out["genre_match"]) == ["unknown", "same"] and out.loc[0, "genres_to"] == "unknown"
    docs.loc[1, "genre"] = "white_paper"
    assert step_documents(steps, docs).loc[0, "genre_match"] == "different"


def test_auto_shards_by_size_at_least_one_per_core():
    from textdrift.manifest import auto_shards

    assert auto_shards(50_000, cores=2) == 2  # a small corpus: one shard per core
    assert auto_shards(50_000, cores=0) == 1
    assert auto_shards(12_000_000, cores=1) == 1  # exactly one shard's worth
    assert auto_shards(12_000_001, cores=1) == 2
    assert auto_shards(200_000_000, cores=2) == 17  # ceil(200 / 12)
    assert auto_shards(500_000_000, cores=8) == 42
    assert auto_shards(100_000_000, cores=2, shard_mb=25) == 4
