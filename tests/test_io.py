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
