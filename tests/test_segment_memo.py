"""The `segment` jobs' per-text memo (textdrift.segment.TextMemo): the token table is byte for byte
the same with and without it, after any mix of hits and misses; its key changes with everything a
text's tokens depend on; a corrupt entry is a miss."""

import pyarrow.parquet as pq
import pytest

from textdrift.entities import load_entities
from textdrift.segment import (Segmenter, TextMemo, _shard_table, _write_token_table, memo_salt, text_memo)
from conftest import FIXTURE, ROOT

ENTITIES = FIXTURE / "config" / "entities.yaml"

DOCS = [
    {"doc_id": "a", "year": 2019, "lang": "zh", "roles": None,
     "paragraphs": ["推动数字经济发展，共建“一带一路”。", "", "网络空间命运共同体是中国的主张。"]},
    {"doc_id": "a", "year": 2019, "lang": "en", "roles": None,
     "paragraphs": ["The Belt and Road Initiative promotes the digital economy.", "Data flows; 5G networks."]},
    {"doc_id": "b", "year": 2021, "lang": "zh", "roles": None, "paragraphs": ["數位經濟與網路安全。", "2021年第三届论坛"]},
    {"doc_id": "c", "year": 2023, "lang": "en", "roles": None,
     "paragraphs": ["Cross-border e-commerce and AI governance.", "", "The US and IT firms."]},
]


def _segmenter(cache_dir):
    return Segmenter({"cache_dir": str(cache_dir)}, ROOT, load_entities(ENTITIES))


def _table_bytes(table, path):
    _write_token_table(table, path)
    return path.read_bytes()


@pytest.fixture
def salt(tmp_path):
    return memo_salt(_segmenter(tmp_path / "jieba").cfg, [ENTITIES])


def test_memo_gives_the_same_token_table_with_hits_and_misses(tmp_path, salt):
    ref = _table_bytes(_shard_table(DOCS, _segmenter(tmp_path / "jieba")), tmp_path / "ref.parquet")
    memo = TextMemo(tmp_path / "memo" / "shard-0", salt)
    cold = _shard_table(DOCS, _segmenter(tmp_path / "jieba"), memo)
    assert (memo.hits, memo.misses) == (0, 4)
    assert _table_bytes(cold, tmp_path / "cold.parquet") == ref
    # every text from the memo: the same bytes, no model loaded
    memo = TextMemo(tmp_path / "memo" / "shard-0", salt)
    seg = _segmenter(tmp_path / "jieba")
    warm = _shard_table(DOCS, seg, memo)
    assert (memo.hits, memo.misses) == (4, 0) and seg._zh is None and seg._en is None
    assert _table_bytes(warm, tmp_path / "warm.parquet") == ref
    # a document added (first, so that the hits' attributes are numbered after its own), another
    # reordered: only the new text misses, and the table is the one segmented without a memo
    new = {"doc_id": "d", "year": 2024, "lang": "zh", "roles": None, "paragraphs": ["人工智能治理与数据安全。"]}
    docs = [new, DOCS[2], DOCS[0], DOCS[1], DOCS[3]]
    memo = TextMemo(tmp_path / "memo" / "shard-0", salt)
    mixed = _shard_table(docs, _segmenter(tmp_path / "jieba"), memo)
    assert (memo.hits, memo.misses) == (4, 1)
    plain = _shard_table(docs, _segmenter(tmp_path / "jieba"))
    assert _table_bytes(mixed, tmp_path / "mixed.parquet") == _table_bytes(plain, tmp_path / "plain.parquet")
    assert mixed.num_rows > 0 and set(mixed["entity"].drop_null().to_pylist())  # entity mentions kept


def test_corrupt_entry_is_a_miss_and_the_table_unchanged(tmp_path, salt):
    ref = _table_bytes(_shard_table(DOCS, _segmenter(tmp_path / "jieba")), tmp_path / "ref.parquet")
    directory = tmp_path / "memo" / "shard-0"
    _shard_table(DOCS, _segmenter(tmp_path / "jieba"), TextMemo(directory, salt))
    entry = sorted(directory.iterdir())[0]
    data = bytearray(entry.read_bytes())
    data[-1] ^= 0xFF
    entry.write_bytes(bytes(data))
    memo = TextMemo(directory, salt)
    again = _shard_table(DOCS, _segmenter(tmp_path / "jieba"), memo)
    assert (memo.hits, memo.misses, memo.bad) == (3, 1, 1)
    assert _table_bytes(again, tmp_path / "again.parquet") == ref


def test_salt_follows_what_the_tokens_depend_on(tmp_path):
    words = tmp_path / "dict.txt"
    words.write_text("数字丝绸之路\n", encoding="utf-8")
    cfg = _segmenter(tmp_path / "jieba").cfg
    salt = memo_salt(cfg, [words, ENTITIES])
    assert memo_salt(cfg, [words, ENTITIES]) == salt
    assert memo_salt({**cfg, "cache_dir": str(tmp_path / "elsewhere")}, [words, ENTITIES]) == salt
    assert memo_salt({**cfg, "min_len": 3}, [words, ENTITIES]) != salt
    assert memo_salt({**cfg, "zh_drop_chars": ["间"]}, [words, ENTITIES]) != salt
    words.write_text("数字丝绸之路 500\n", encoding="utf-8")
    assert memo_salt(cfg, [words, ENTITIES]) != salt
    assert memo_salt(cfg, [tmp_path / "missing.txt", ENTITIES]) != memo_salt(cfg, [words, ENTITIES])
    # a trained English pipeline given as a path: its version cannot be read, no memo
    assert memo_salt({**cfg, "en_model": str(tmp_path / "my_model")}, [words]) is None
    memo = TextMemo(tmp_path / "m", salt)
    assert memo.key("zh", ["数字", "经济"]) != memo.key("zh", ["数字经济"])
    assert memo.key("zh", ["数字经济"]) != memo.key("en", ["数字经济"])
    assert TextMemo(tmp_path / "m", "other").key("zh", ["数字经济"]) != memo.key("zh", ["数字经济"])


def test_text_memo_directory_from_the_configuration(tmp_path):
    seg = _segmenter(tmp_path / "jieba")
    processed = tmp_path / "data" / "processed"
    memo = text_memo({"processed_dir": str(processed)}, processed / "tokens" / "shard-3.parquet", seg, [ENTITIES])
    assert memo.dir == tmp_path / "data" / "cache" / "segment" / "shard-3"
    assert text_memo({"processed_dir": str(processed), "segment_memo": {"memo": False}}, "shard-3.parquet", seg,
                     []) is None
    assert text_memo(None, "shard-3.parquet", seg, []) is None
    where = text_memo({"processed_dir": str(processed), "segment_memo": {"memo_dir": str(tmp_path / "m")}},
                      "shard-0.parquet", seg, [])
    assert where.dir == tmp_path / "m" / "shard-0"


def test_pruned_entries_are_those_of_texts_gone(tmp_path, salt):
    directory = tmp_path / "memo" / "shard-0"
    memo = TextMemo(directory, salt)
    _shard_table(DOCS, _segmenter(tmp_path / "jieba"), memo)
    memo.prune()
    assert len(list(directory.iterdir())) == 4
    memo = TextMemo(directory, salt)
    table = _shard_table(DOCS[:2], _segmenter(tmp_path / "jieba"), memo)
    assert memo.prune() == 2 and len(list(directory.iterdir())) == 2
    _write_token_table(table, tmp_path / "t.parquet")
    assert pq.read_table(tmp_path / "t.parquet").num_rows == table.num_rows
