"""Manifest validation: every problem names the row and the field."""

from pathlib import Path

import pytest

from textdrift.manifest import ManifestError, load_manifest, shard_of

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
    df = load_manifest(ROOT / "data/raw/documents.csv", ROOT / "data/raw")
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
        ("a,2019-13-01,,T,s,a.txt,,,", "row 1 (doc_id='a'), field 'date'"),
        ("a,May 2019,,T,s,a.txt,,,", "row 1 (doc_id='a'), field 'date'"),
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
    with pytest.raises(ManifestError, match="rows 1, 2, field 'doc_id': duplicate doc_id 'a'"):
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
    assert shard_of("gdi_chair_statement_2024", 4) == shard_of("gdi_chair_statement_2024", 4)
    assert {shard_of(f"doc{i}", 3) for i in range(100)} == {0, 1, 2}
    # CRC-32 is fixed by the standard, so shard assignment is the same on every machine
    assert shard_of("a", 7) == 0xE8B7BE43 % 7
