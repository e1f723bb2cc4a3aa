"""phrases.recount_changes (the vocabulary's work done once, PhraseVocabulary) gives phrase_changes'
table, as the findings' phrase checks use it: documents as units, a document left out."""

import numpy as np
import pandas as pd
import pytest

from textdrift.phrases import PhraseVocabulary, phrase_changes, recount_changes
from textdrift.vectorize import CountMatrix, doc_matrix, year_matrix


def _tokens(seed: int) -> pd.DataFrame:
    """Four documents a year over three years, words from a small vocabulary, one rising word."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(25)]
    rows = []
    for y in (2019, 2020, 2021):
        for k in range(4):
            text = list(rng.choice(words, 120)) + ["rising"] * (0 if y == 2019 else 3 * (y - 2019) + k)
            for para in range(3):
                for i, w in enumerate(text[para::3]):
                    rows.append(dict(doc_id=f"d{y}{k}", year=y, lang="en", para=para, sent=para, idx=i, text=w,
                                     norm=w, lemma=w, is_stop=False, is_punct=False, keep=True))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [0, 1])
def test_recount_changes_is_phrase_changes(seed):
    toks = _tokens(seed)
    dm = doc_matrix(toks, "en", 2)
    ym = year_matrix(toks, "en", 2)
    ym = CountMatrix(ym.X, dm.vocab, ym.rows) if np.array_equal(ym.vocab, dm.vocab) else ym
    v = PhraseVocabulary.of(dm.vocab)
    settings = {"min_count": 2, "min_documents": 3, "ngram_max": 2}
    for steps in (None, {(2020, 2021)}):
        want = phrase_changes(ym, lang="en", steps=steps, docs=dm, **settings)
        assert len(want) and (want["dispersion"] >= 1).all()
        got = recount_changes(ym, v, settings, "en", steps, dm)
        pd.testing.assert_frame_equal(got, want)
    # a document left out: the same vocabulary, fewer rows (as findings' leave-one-out check)
    keep = (dm.rows["doc_id"] != "d20211").to_numpy()
    sub = dm.take(keep)
    years = year_matrix(toks[toks["doc_id"] != "d20211"], "en", 2)
    if np.array_equal(years.vocab, dm.vocab):
        years = CountMatrix(years.X, dm.vocab, years.rows)
        pd.testing.assert_frame_equal(recount_changes(years, v, settings, "en", {(2020, 2021)}, sub),
                                      phrase_changes(years, lang="en", steps={(2020, 2021)}, docs=sub, **settings))


def test_phrase_vocabulary_checks_its_terms():
    toks = _tokens(0)
    dm = doc_matrix(toks, "en", 1)
    v = PhraseVocabulary.of(dm.vocab)
    assert v.owns(dm.vocab) and v.owns(np.array(list(dm.vocab), dtype=object))
    other = CountMatrix(dm.X, np.array([*dm.vocab[1:], dm.vocab[0]], dtype=object), dm.rows)
    with pytest.raises(ValueError, match="not the PhraseVocabulary"):
        recount_changes(other, v, {}, "en", None, None)
    with pytest.raises(ValueError, match="distinct terms"):
        PhraseVocabulary.of(["a", "b", "a"])
    assert v.orders.tolist() == [1] and not v.rest.any() and v.onehot.shape == (len(dm.vocab), 1)
