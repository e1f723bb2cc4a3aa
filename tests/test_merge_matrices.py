"""vectorize.merge_matrices' union of the parts' vocabularies in one hash pass (_vocabulary_union)
gives what a lookup of every part in the sorted union gives (pc.unique, sort_indices, index_in):
overlapping, empty, repeated-term, unsorted and single vocabularies, CJK and accented terms."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from textdrift.vectorize import CountMatrix, _vocabulary_union, merge_matrices


def _lookup(vocabs):
    """The union and columns as merge_matrices computed them before (a lookup per part)."""
    chunks = [pa.array(np.asarray(v, dtype=object), type=pa.string()) for v in vocabs]
    union = pc.unique(pa.chunked_array(chunks, type=pa.string()))
    union = union.take(pc.sort_indices(union))
    return union.to_pylist(), [pc.index_in(c, value_set=union).to_numpy(zero_copy_only=False).astype(np.int64)
                               for c in chunks]


WORDS = ["a", "b", "ab", "b a", "é", "e", "z", "数字", "数据", "丝绸 之路", "Ω", "a b c"]


def test_vocabulary_union_is_the_lookup_of_every_part():
    rng = np.random.default_rng(0)
    cases = [[sorted(rng.choice(WORDS, size=k, replace=False).tolist()) for k in (5, 0, 7, 3)],
             [["b", "a", "b"], ["z"]],  # a repeated term, an unsorted part
             [["数据", "a"]],  # one unsorted vocabulary
             [sorted(WORDS)],  # one sorted vocabulary: itself
             [[], []]]
    for vocabs in cases:
        union, columns = _vocabulary_union(vocabs)
        want_union, want_columns = _lookup(vocabs)
        assert union.dtype == object and union.tolist() == want_union
        assert len(columns) == len(want_columns)
        for got, want in zip(columns, want_columns):
            np.testing.assert_array_equal(got, want)


def test_merged_matrix_sums_the_parts_over_the_union():
    parts = [CountMatrix(sp.csr_matrix(np.array([[1, 2, 0]])), np.array(["b", "c", "数"], dtype=object),
                         pd.DataFrame({"lang": ["en"], "doc_id": ["d1"], "year": [2020], "tokens": [3]})),
             CountMatrix(sp.csr_matrix(np.array([[4, 0], [0, 5]])), np.array(["a", "c"], dtype=object),
                         pd.DataFrame({"lang": ["en", "en"], "doc_id": ["d2", "d1"], "year": [2021, 2020],
                                       "tokens": [4, 5]}))]
    m = merge_matrices(parts, ["doc_id", "year"])
    assert m.vocab.tolist() == ["a", "b", "c", "数"]
    assert m.rows[["doc_id", "year", "tokens"]].values.tolist() == [["d1", 2020, 8], ["d2", 2021, 4]]
    np.testing.assert_array_equal(m.X.toarray(), [[0, 1, 7, 0], [4, 0, 0, 0]])
