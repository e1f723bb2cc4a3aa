"""Atomic writes: the streaming CSV writer gives write_csv's bytes; a failed write changes nothing."""

import pandas as pd
import pytest

from textdrift.io import atomic_writer, write_csv, write_csv_batches


def test_csv_in_batches_equals_one_csv(tmp_path):
    df = pd.DataFrame({"doc_id": ["a", "b", "c"], "year": [2017, 2022, 2024],
                       "left": ['he said "digital', "one, two", "数字\n经济"], "x": [0.5, float("nan"), 1e-9]})
    write_csv(df, tmp_path / "one.csv")
    write_csv_batches([df.iloc[:1], df.iloc[1:]], tmp_path / "batches.csv")
    assert (tmp_path / "batches.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    write_csv_batches([df.iloc[:0]], tmp_path / "empty.csv")  # an empty table: the header only
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8") == "doc_id,year,left,x\n"


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_writer(path) as fh:
            fh.write(b"half a tab")
            raise RuntimeError("killed")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_read_texts_of_some_documents(tmp_path):
    """read_texts(paths, doc_ids): the texts of those documents only, as the whole read has them."""
    from textdrift.io import read_texts, write_texts

    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_texts({("d1", "zh"): ["一", "二"], ("d1", "en"): ["one"], ("d2", "en"): ["two"]}, a)
    write_texts({("d3", "zh"): ["三"]}, b)
    every = read_texts([a, b])
    assert read_texts([a, b], {"d1", "d3"}) == {k: v for k, v in every.items() if k[0] in ("d1", "d3")}
    assert read_texts([a, b], []) == {}
