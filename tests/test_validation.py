"""The precision rule's chunked read of theme_kwic.csv (validation.coded_documents_kwic) against the
whole-table read it replaced, on tables whose columns type inference reads differently."""

import gzip

import numpy as np
import pandas as pd
import pytest

from textdrift import explorer
from textdrift.io import read_csv, write_csv
from textdrift.validation import KEY, coded_documents_kwic, precision_table, theme_rows, write_precision

COLUMNS = ["doc_id", "year", "lang", "para", "sent", "role", "kind", "theme", "term", "left", "match", "right"]


def _kwic(doc_ids, kinds=None) -> pd.DataFrame:
    """Theme rows over ``doc_ids`` (several per sentence, repeated matches, so occurrences > 1)."""
    rows = []
    for i, d in enumerate(doc_ids):
        for para in (0, 1):
            for match in ("green", "green", "blue"):
                rows.append({"doc_id": d, "year": 2000 + i % 3, "lang": "en" if i % 2 else "zh", "para": para,
                             "sent": para, "role": "body", "kind": "theme", "theme": f"t_{match}",
                             "term": match, "left": "" if para else "left", "match": match, "right": ""})
    df = pd.DataFrame(rows, columns=COLUMNS)
    if kinds is not None:
        df["kind"] = kinds(df)
    return df


def _whole(path) -> pd.DataFrame:
    """What the precision rule read before: the key columns and the contexts of the whole table."""
    wanted = {*KEY, "kind", "left", "right"}
    return read_csv(path, usecols=lambda c: c in wanted)


def _coded(path, tmp_path, docs_coded: int) -> pd.DataFrame:
    """Coded rows drawn from the whole read, as a sample drawn by ``make validation-sample`` holds
    them, written and read back as the rule reads the coded file; one row changed so that it no
    longer matches."""
    rows = theme_rows(read_csv(path))
    rows = rows[rows["doc_id"].isin(rows["doc_id"].drop_duplicates().iloc[:docs_coded])]
    rows = rows.assign(relevant=np.where(np.arange(len(rows)) % 3, "1", "0"))
    rows.loc[rows.index[0], "match"] = "gone"
    coded_path = tmp_path / "coded.csv"
    write_csv(rows, coded_path)
    return read_csv(coded_path, dtype={"relevant": str})


@pytest.mark.parametrize("doc_ids, kinds", [
    # numeric-looking ids with leading zeros: the whole column reads as integers
    (["0012", "13", "0007", "20", "0021"], None),
    # ... and one entity row with no document id: floats in that chunk, so in the whole column
    (["0012", "13", "0007", "20", "0021"], lambda df: np.where(df.index == len(df) - 1, "entity", "theme")),
    # numbers and words: the column is text, ids kept as written
    (["0012", "a1", "0007", "b2", "3"], None),
    # ordinary ids
    (["bri_2017", "gdi_2022", "cyber_2022", "x_2019"], None),
])
def test_chunked_kwic_gives_the_whole_reads_table(tmp_path, doc_ids, kinds):
    kwic = _kwic(doc_ids, kinds)
    if kinds is not None:
        kwic.loc[kwic["kind"] == "entity", "doc_id"] = None  # an empty cell (only in an entity row)
    path = tmp_path / "theme_kwic.csv"
    write_csv(kwic, path)
    coded = _coded(path, tmp_path, docs_coded=3)
    expected = precision_table(coded, _whole(path), "v1")
    assert expected["n_coded"].sum() > 0 and expected["n_no_longer_matched"].sum() > 0
    for rows in (2, 5, 7, 1000):  # chunks of different inferred types, and one chunk
        got = coded_documents_kwic(path, coded["doc_id"], chunk_rows=rows)
        assert got["doc_id"].nunique() <= 3 + (kinds is not None)  # only the coded documents
        pd.testing.assert_frame_equal(precision_table(coded, got, "v1"), expected)
    out = tmp_path / "precision.csv"
    codebook = tmp_path / "themes.yaml"
    codebook.write_text("themes: []\n")
    table = write_precision(tmp_path / "coded.csv", path, codebook, out)
    assert table.drop(columns="codebook").equals(expected.drop(columns="codebook"))


def test_chunked_kwic_no_coded_documents_and_empty_table(tmp_path):
    path = tmp_path / "theme_kwic.csv"
    write_csv(_kwic(["a", "b"]), path)
    assert coded_documents_kwic(path, ["zzz"]).empty
    write_csv(_kwic([]), path)
    got = coded_documents_kwic(path, ["a"])
    assert got.empty and set(KEY[:-1]) <= set(got.columns)


def test_chunked_kwic_empty_key_cell_is_an_error(tmp_path):
    kwic = _kwic(["a", "b", "c"])
    kwic.loc[7, "match"] = None
    path = tmp_path / "theme_kwic.csv"
    write_csv(kwic, path)
    with pytest.raises(ValueError, match=r"data row 8 .* empty 'match'"):
        coded_documents_kwic(path, ["a"], chunk_rows=4)


def test_write_packed_json_is_pack_terms_of_embed_json(tmp_path):
    obj = {"zh": {"terms": [f"词{i} </script>" for i in range(130)], "ctx": [[i, i + 1, 2] for i in range(95)],
                  "n": 3, "surface": {"a&b": "<x>"}, "empty": []},
           "en": {"sentences": [[i, 0, "a\u2028b"] for i in range(41)]}}
    path = tmp_path / "terms.json.gz"
    pieces = list(explorer._json_pieces(obj, items=7))
    assert len(pieces) > 20 and "".join(pieces) == explorer.embed_json(obj)
    n_text, n_packed = explorer.write_packed_json(obj, path)
    text = explorer.embed_json(obj).encode("utf-8")
    assert path.read_bytes() == explorer.pack_terms(text)
    assert (n_text, n_packed) == (len(text), path.stat().st_size)
    assert gzip.decompress(path.read_bytes()) == text
