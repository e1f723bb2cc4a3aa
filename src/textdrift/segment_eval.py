"""Scoring a segmenter against a hand-segmented test set (``tests/data/zh_segmentation_gold.txt``):
the measure of :mod:`textdrift.segment`'s Chinese segmentation.

Beside the house: :mod:`textdrift.segment` segments; this module measures how well, for the
tests and for a user checking a changed dictionary (docs/methods.md, "Segmentation").

References
----------
Emerson, T. (2005). The Second International Chinese Word Segmentation Bakeoff. Proceedings of
the Fourth SIGHAN Workshop on Chinese Language Processing, 123-133.
"""

from __future__ import annotations

import os

import numpy as np

from textdrift.segment import Segmenter

__all__ = ["evaluate_segmenter", "read_gold", "segmentation_scores"]


def read_gold(path: str | os.PathLike) -> list[list[str]]:
    """A hand-segmented test set (``tests/data/zh_segmentation_gold.txt``).

    Parameters
    ----------
    path : str or path-like
        UTF-8, one sentence per line, words separated by one space; lines starting with '#' and
        blank lines are skipped.

    Returns
    -------
    list of list of str
        The words of each sentence.
    """
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split(" ") for line in f if line.strip() and not line.startswith("#")]


def segmentation_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    """Precision, recall and F1 of a segmentation against a gold one, sentence by sentence.

    * ``boundary_*``: over word boundaries inside a sentence (the character offsets where one
      word ends and the next begins; the sentence's own ends are not counted);
    * ``word_*``: over words as (start, end) character spans (the SIGHAN bakeoff measure,
      Emerson 2005), stricter: one wrong cut costs two words.

    Parameters
    ----------
    gold, predicted : list of list of str
        The words of each sentence; each predicted sentence must join to the same characters
        as its gold sentence (else ``ValueError``).

    Returns
    -------
    dict of str to float
        ``boundary_precision``, ``boundary_recall``, ``boundary_f1``, ``word_precision``,
        ``word_recall``, ``word_f1``.

    References
    ----------
    Emerson, T. (2005). The Second International Chinese Word Segmentation Bakeoff.
    """
    counts = {"boundary": [0, 0, 0], "word": [0, 0, 0]}  # true positives, predicted, gold
    for g, p in zip(gold, predicted, strict=True):
        if "".join(g) != "".join(p):
            raise ValueError(f"sentences differ: {''.join(g)!r} vs {''.join(p)!r}")
        for name, (a, b) in {"boundary": (_cuts(g), _cuts(p)), "word": (_spans(g), _spans(p))}.items():
            counts[name][0] += len(a & b)
            counts[name][1] += len(b)
            counts[name][2] += len(a)
    out = {}
    for name, (tp, npred, ngold) in counts.items():
        prec, rec = tp / npred if npred else 1.0, tp / ngold if ngold else 1.0
        out.update({f"{name}_precision": prec, f"{name}_recall": rec,
                    f"{name}_f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0})
    return out


def _spans(words: list[str]) -> set[tuple[int, int]]:
    ends = np.cumsum([len(w) for w in words]).tolist()
    return set(zip([0, *ends[:-1]], ends))


def _cuts(words: list[str]) -> set[int]:
    return set(np.cumsum([len(w) for w in words[:-1]]).tolist())


def evaluate_segmenter(gold_path: str | os.PathLike, segmenter: Segmenter, lang: str = "zh") -> dict[str, float]:
    """:func:`segmentation_scores` of a segmenter's tokens on a gold file.

    Parameters
    ----------
    gold_path : str or path-like
        The gold file (:func:`read_gold`).
    segmenter : textdrift.segment.Segmenter
        The segmenter scored (its tokens' ``text``).
    lang : str
        The language of the gold file.

    Returns
    -------
    dict of str to float
        As :func:`segmentation_scores`.
    """
    gold = read_gold(gold_path)
    tokens = segmenter.segment_document("gold", 2000, lang, ["".join(g) for g in gold])
    predicted = [[] for _ in gold]
    for para, text in zip(tokens["para"].tolist(), tokens["text"].tolist()):
        predicted[para].append(text)
    return segmentation_scores(gold, predicted)
