"""Rule ``removed_vocabulary`` (textdrift.phrases.removed_vocabulary): a token file read once for
every language gives what reading it per language gives."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from textdrift.counting import TOKEN_SCHEMA
from textdrift.phrases import _removed_of_shard, removed_vocabulary


def _tokens() -> pd.DataFrame:
    rows = [("d1", "en", "The", False, False), ("d1", "en", "of", False, False), ("d1", "en", "Trade", True, False),
            ("d1", "en", ",", False, True), ("d2", "zh", "的", False, False), ("d2", "zh", "合作", True, False),
            ("d2", "zh", "2023年", False, False), ("d3", "en", "THE", False, False), ("d3", "fr", "le", False, False)]
    frame = pd.DataFrame(rows, columns=["doc_id", "lang", "text", "keep", "is_punct"])
    for c in TOKEN_SCHEMA.names:
        if c not in frame:
            frame[c] = "" if TOKEN_SCHEMA.field(c).type == pa.string() else 0
    frame["norm"] = frame["text"].str.lower()
    return frame[TOKEN_SCHEMA.names]


def test_read_once_equals_read_per_language(tmp_path):
    frame = _tokens()
    path = tmp_path / "shard-0.parquet"
    # two row groups: the dictionaries of the chunks differ
    pq.write_table(pa.Table.from_pandas(frame, schema=TOKEN_SCHEMA, preserve_index=False), path, row_group_size=4)
    once = removed_vocabulary([path], ["en", "zh"])
    assert once == removed_vocabulary([frame], ["en", "zh"])  # a table in memory: read per language
    assert once == {"en": ["of", "the"], "zh": ["2023年", "的"]}
    empty = tmp_path / "empty.parquet"
    pq.write_table(TOKEN_SCHEMA.empty_table(), empty)
    assert removed_vocabulary([empty], ["en"]) == {"en": []}
    nulls = tmp_path / "nulls.parquet"
    with_null = frame.assign(text=frame["text"].where(frame["text"] != "of", None))
    pq.write_table(pa.Table.from_pandas(with_null, schema=TOKEN_SCHEMA, preserve_index=False), nulls)
    assert not _removed_of_shard(nulls, {"en": set()})  # a null text: read per language, as before
