"""Rule `export`: the count matrices as R and Python users read them (Matrix Market, CSV, Parquet)."""

import numpy as np
import pandas as pd
import scipy.io

from test_drift import CORPUS, tokens_table
from textdrift.vectorize import export_matrices, load_matrix, merge_shard_matrices, write_shard_matrices


def test_export_round_trips_with_document_variables(tmp_path):
    shard = tmp_path / "shard-0.parquet"
    tokens_table(CORPUS).to_parquet(shard)
    langs = ("en", "zh")
    write_shard_matrices(shard, {x: tmp_path / f"d_{x}-0.npz" for x in langs}, {x: tmp_path / f"p_{x}.npz" for x in langs},
                         ngram_max=2)
    merge_shard_matrices([tmp_path / f"d_{x}-0.npz" for x in langs], {x: tmp_path / f"y_{x}.npz" for x in langs},
                         {x: tmp_path / f"doc_{x}.npz" for x in langs})
    docs = tmp_path / "documents.csv"
    pd.DataFrame({"doc_id": ["en-2017", "en-2022", "en-2023", "zh-2022"], "year": [2017, 2022, 2023, 2022],
                  "genre": ["proposal", "statement", "statement", "statement"], "sha256": "x",
                  "tokens_en": 1}).to_csv(docs, index=False)
    out = {x: {k: tmp_path / "m" / f"{k}_{x}" for k in ("mtx", "features", "docvars", "parquet")} for x in langs}
    export_matrices({x: tmp_path / f"doc_{x}.npz" for x in langs}, docs, out)
    m = load_matrix(tmp_path / "doc_en.npz")
    uni = m.select(1)
    X = scipy.io.mmread(out["en"]["mtx"]).tocsr()
    assert X.dtype.kind == "i" and (X != uni.X).nnz == 0
    features = pd.read_csv(out["en"]["features"])["feature"].tolist()
    assert features == uni.vocab.tolist() and "silk" in features
    docvars = pd.read_csv(out["en"]["docvars"])
    assert docvars.columns.tolist() == ["doc_id", "year", "tokens", "genre"]  # no file hash, no token columns
    assert docvars["doc_id"].tolist() == ["en-2017", "en-2022", "en-2023"] and docvars["tokens"].tolist() == [7, 4, 6]
    # the row of "en-2017": digital x2, economy, cooperation x2, silk, road (two paragraphs)
    row = dict(zip(features, np.asarray(X[0].todense()).ravel()))
    assert (row["digital"], row["cooperation"], row["silk"]) == (2, 2, 1)
    long = pd.read_parquet(out["en"]["parquet"])
    assert set(long["n"]) == {1, 2} and long["count"].sum() == m.X.sum()
    assert long[(long["doc_id"] == "en-2017") & (long["feature"] == "silk road")]["count"].tolist() == [1]
