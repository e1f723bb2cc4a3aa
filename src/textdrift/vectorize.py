"""Count matrices over our own tokens: per year-document and per document, per language.

Method
------
* Input: the token table (``data/processed/tokens/*.parquet``), ``keep`` tokens
  only, counted by ``norm``.
* Phrases (n-grams, n = 1..``ngram_max``) are built inside *segments*: runs of
  tokens that lie in one sentence and are not separated by a punctuation token.
  Stop words are dropped before n-grams are formed, so "community with a shared
  future" yields the trigram "community shared future" (as quanteda's
  ``tokens_remove`` + ``tokens_ngrams`` do). An n-gram never crosses a sentence
  or punctuation boundary.
* The words of an n-gram are joined with one space in both languages
  ("数字 经济" is the bigram of two tokens; "数字经济" is one token from the
  user dictionary), so the vocabulary is unambiguous.
* scikit-learn's ``CountVectorizer`` with an identity analyzer turns the
  n-gram lists into a sparse count matrix; its regex tokenizer is never used
  (it would drop one-character words, most Chinese single-character words among
  them).
* The unit of comparison is the **year-document**: all documents of one year
  and language concatenated. Per-document matrices are kept for notebooks.

Each matrix is saved as one ``.npz`` file holding the CSR arrays, the
vocabulary and the row labels; :func:`load_matrix` reads it back in one call.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from textdrift.io import atomic_write_bytes

SEP = " "


def load_tokens(paths: str | Path | list[str | Path]) -> pd.DataFrame:
    """Read the token table from a Parquet file, a directory of shards or a list of files."""
    if isinstance(paths, (str, Path)) and Path(paths).is_dir():
        paths = sorted(Path(paths).glob("*.parquet"))
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    frames = [pd.read_parquet(p) for p in paths]
    frames = [f for f in frames if len(f)]
    if not frames:
        from textdrift.segment import TOKEN_SCHEMA

        return TOKEN_SCHEMA.empty_table().to_pandas()
    return pd.concat(frames, ignore_index=True)


def segments(tokens: pd.DataFrame) -> pd.Series:
    """Segment id of every token: a new segment starts at each sentence and after each punctuation token."""
    new_sent = (
        tokens["doc_id"].ne(tokens["doc_id"].shift())
        | tokens["lang"].ne(tokens["lang"].shift())
        | tokens["sent"].ne(tokens["sent"].shift())
    )
    return (new_sent | tokens["is_punct"].shift(fill_value=False)).cumsum()


def ngrams(words: list[str], n_min: int, n_max: int) -> list[str]:
    """All n-grams of one segment, n from n_min to n_max, words joined by one space."""
    out = []
    for n in range(n_min, n_max + 1):
        out.extend(SEP.join(words[i : i + n]) for i in range(len(words) - n + 1))
    return out


def unit_phrases(tokens: pd.DataFrame, by: list[str], n_min: int = 1, n_max: int = 1) -> pd.Series:
    """The n-grams of each unit (group of ``by`` columns), as a Series of lists indexed by unit."""
    if tokens.empty:
        return pd.Series([], dtype=object)
    tokens = tokens.sort_values(["doc_id", "lang", "para", "idx"], kind="stable")
    tokens = tokens.assign(_seg=segments(tokens))
    kept = tokens[tokens["keep"]]
    per_seg = kept.groupby([*by, "_seg"], sort=True)["norm"].agg(list)
    grams = per_seg.map(lambda w: ngrams(w, n_min, n_max))
    return grams.groupby(level=list(range(len(by)))).agg(lambda s: [g for lst in s for g in lst])


@dataclass
class CountMatrix:
    """A sparse count matrix with its vocabulary and row labels.

    ``X[i, j]`` is how often term ``vocab[j]`` occurs in unit ``rows.iloc[i]``;
    ``rows`` has the unit columns plus ``tokens`` (kept unigram tokens of the unit).
    """

    X: sp.csr_matrix
    vocab: np.ndarray
    rows: pd.DataFrame

    @property
    def ngram_order(self) -> np.ndarray:
        """n of each vocabulary term (1 for unigrams)."""
        return np.char.count(self.vocab.astype(str), SEP) + 1 if len(self.vocab) else np.array([], int)

    def select(self, n: int | None = None) -> "CountMatrix":
        """The sub-matrix of n-grams of order ``n`` (all when None)."""
        if n is None:
            return self
        cols = np.flatnonzero(self.ngram_order == n)
        return CountMatrix(self.X[:, cols].tocsr(), self.vocab[cols], self.rows.copy())

    def to_frame(self) -> pd.DataFrame:
        """Dense DataFrame (rows x terms); for small matrices and notebooks."""
        return pd.DataFrame(self.X.toarray(), columns=self.vocab, index=pd.MultiIndex.from_frame(self.rows))


def count_matrix(tokens: pd.DataFrame, by: list[str], ngram_max: int = 3) -> CountMatrix:
    """Count n-grams (1..ngram_max) of ``keep`` tokens for each unit of ``by`` columns."""
    docs = unit_phrases(tokens, by, 1, ngram_max)
    keys = docs.index.to_frame(index=False) if len(docs) else pd.DataFrame(columns=by)
    if len(docs) == 0:
        return CountMatrix(sp.csr_matrix((0, 0), dtype=np.int64), np.array([], dtype=object), keys.assign(tokens=0))
    vec = CountVectorizer(analyzer=lambda x: x, lowercase=False, dtype=np.int64)
    X = vec.fit_transform(docs.tolist()).tocsr()
    kept = tokens[tokens["keep"]].groupby(by).size().rename("tokens")
    rows = keys.merge(kept.reset_index(), on=by, how="left").fillna({"tokens": 0})
    rows["tokens"] = rows["tokens"].astype("int64")
    return CountMatrix(X, vec.get_feature_names_out().astype(object), rows)


def year_matrix(tokens: pd.DataFrame, lang: str, ngram_max: int = 3) -> CountMatrix:
    """Year-document matrix of one language: rows are years (all documents of the year pooled)."""
    m = count_matrix(tokens[tokens["lang"] == lang], ["year"], ngram_max)
    m.rows.insert(0, "lang", lang)
    return m


def doc_matrix(tokens: pd.DataFrame, lang: str, ngram_max: int = 3) -> CountMatrix:
    """Per-document matrix of one language: rows are (doc_id, year)."""
    m = count_matrix(tokens[tokens["lang"] == lang], ["doc_id", "year"], ngram_max)
    m.rows.insert(0, "lang", lang)
    return m


def save_matrix(m: CountMatrix, path: str | Path) -> None:
    """Write a CountMatrix to one compressed .npz file (atomically)."""
    X = m.X.tocsr()
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        data=X.data, indices=X.indices, indptr=X.indptr, shape=np.array(X.shape),
        vocab=np.array(json.dumps(list(map(str, m.vocab)), ensure_ascii=False)),
        rows=np.array(m.rows.to_json(orient="split", index=False, force_ascii=False)),
    )
    atomic_write_bytes(path, buf.getvalue())


def load_matrix(path: str | Path) -> CountMatrix:
    """Read a CountMatrix written by :func:`save_matrix` (e.g. ``data/processed/vectors/year_en.npz``)."""
    with np.load(path, allow_pickle=False) as z:
        X = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        vocab = np.array(json.loads(str(z["vocab"])), dtype=object)
        rows = pd.read_json(io.StringIO(str(z["rows"])), orient="split")
    return CountMatrix(X, vocab, rows)


def write_matrices(token_paths, out_dir: str | Path, languages: list[str], ngram_max: int) -> None:
    """Write ``year_{lang}.npz`` and ``doc_{lang}.npz`` for every configured language."""
    tokens = load_tokens(list(token_paths))
    for lang in languages:
        save_matrix(year_matrix(tokens, lang, ngram_max), Path(out_dir) / f"year_{lang}.npz")
        save_matrix(doc_matrix(tokens, lang, ngram_max), Path(out_dir) / f"doc_{lang}.npz")
