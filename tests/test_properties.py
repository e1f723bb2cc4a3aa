"""Property-based tests (hypothesis): the cleaner and the segmenters on random Unicode.

Invariants, for any text of mixed scripts, whitespace, control characters, CJK, Latin and
punctuation:

* no crash; every clean paragraph is non-empty, stripped, one line (``str.splitlines``
  sees one line: no VT/FF/NEL/LS/PS... left inside) and NFC;
* nothing disappears unrecorded: let N be the text after step 1 (``normalize``, whose
  replacements are logged per character with their counts). The multiset of non-whitespace
  characters of N equals that of the clean texts plus that of the removed spans
  (``CleanResult.removed``), and each removed span is in its log row's ``detail`` verbatim.
  Characters changed by step 1 itself are each named (U+XXXX) in a ``normalize`` log row.
  (Whitespace is excluded: collapsing and restoring spaces is the cleaner's job; despace
  only inserts spaces.)
* token offsets point into the clean text: ``paragraph[idx:idx + len(text)] == text``,
  and every non-space character of a paragraph is covered by a token.
"""

import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textdrift.clean import _Log, clean_text, normalize
from textdrift.config import defaults
from textdrift.segment import Segmenter

CLEAN = defaults()["clean"]

ROOT = Path(__file__).resolve().parents[1]
CFG = {"languages": ["zh", "en"]}

PIECES = st.sampled_from([
    "数字经济", "網絡空間", "合作。", "，", "“", "”", "《", "》", "、", "１２", "Ａ", "ﬁ", "…",
    "Digital", "economy", " ", "  ", "\n", "\r\n", "\t", "\u00a0", "\u3000", "\u200b", "\ufeff",
    "\u2028", "\x85", "\x0c", "\x00", "\x07", "\x1f", "é", "e\u0301", "Zoë", "don´t", "China’s",
    "Россия", "デジタル", "の", "한국", "العربية", "2020", "5G", "1.", "4.", "-", "|", "_Xinhua",
    "Posted on May 1", "Leave a Reply", "<!--more-->", "编辑：王", ":", "(", ")", "a", "!", "?",
    "Editor: Li", "\U0001F600", "ǅ", "ℌ", "①", "㍿",
])
TEXT = st.one_of(
    st.lists(PIECES, max_size=40).map("".join),
    st.text(max_size=120),
    st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=30).map("".join),
)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _nonspace(text: str) -> Counter:
    return Counter(ch for ch in text if not ch.isspace())


@SETTINGS
@given(raw=TEXT)
def test_clean_text_invariants(raw):
    result = clean_text(raw, "d", CFG)
    for lang, paras in result.texts.items():
        assert lang in CFG["languages"]
        for p in paras:
            assert p and p == p.strip() and p.splitlines() == [p], repr(p)
            assert unicodedata.is_normalized("NFC", p), repr(p)
    # everything removed is in the log, verbatim
    for row, text in result.removed:
        if len(text) <= CLEAN["log_max_chars"]:
            assert text in result.log[row]["detail"], (text, result.log[row])
    # nothing lost: normalised text = clean text + removed spans (non-space characters)
    norm = normalize(raw, CLEAN["normalize"], _Log("d", CLEAN))
    kept = sum((_nonspace(p) for ps in result.texts.values() for p in ps), Counter())
    removed = sum((_nonspace(t) for _, t in result.removed), Counter())
    assert _nonspace(norm) == kept + removed, (raw, _nonspace(norm) - (kept + removed), (kept + removed) - _nonspace(norm))
    # what normalisation changed is named in its log rows
    named = " ".join(r["detail"] for r in result.log if r["step"] == "normalize")
    changed = (_nonspace(raw) - _nonspace(norm)) + (_nonspace(norm) - _nonspace(raw))
    for ch in changed:
        assert f"U+{ord(ch):04X}" in named, (ch, named)


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter({}, base_dir=ROOT)


@SETTINGS
@given(raw=TEXT)
def test_segmenter_offsets_point_into_clean_text(segmenter, raw):
    result = clean_text(raw, "d", CFG)
    for lang, paras in result.texts.items():
        tokens = segmenter.segment_document("d", 2020, lang, paras)
        covered = {i: set() for i in range(len(paras))}
        for para, idx, text in zip(tokens["para"], tokens["idx"], tokens["text"]):
            assert paras[para][idx:idx + len(text)] == text, (lang, paras[para], idx, text)
            covered[para].update(range(idx, idx + len(text)))
        for i, p in enumerate(paras):
            lost = [ch for j, ch in enumerate(p) if not ch.isspace() and j not in covered[i]]
            assert not lost, (lang, p, lost)
        assert (tokens["norm"].str.len() > 0).all()
