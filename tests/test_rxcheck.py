"""The configured patterns' pre-check (textdrift.rxcheck): the paragraphs it leaves out never match."""

import random
import re

from textdrift import rxcheck
from textdrift.config import defaults

PATTERNS = [
    r"(?i).*\blog out\s*/\s*change\s*\)", r"(Editor\s*:.{0,60}?)?Disclaimer\s*:?\s*The\s*views",
    r"(?im)^(leave a (reply|comment)|post a comment|发表评论|发表回复)\s*$", r"(?i)\b(here (are|is) the (full text|key points)|the full text (of|is))",
    r"(全文如下|以下为全文)", r"ab(cd)+e?", r"(?:xy|zz)+q", r"(?i)kis", r"(?i:ab)cd", r"a(?=bc)bcd", r"(?i)sk|İi", r"x|yz",
    r"(a|bc)de", r"(?i)(?>ks)s", r"(ab)\1", r".*(?i:si)k.*", r"(?s).*k\nab", r"(?x) a b  c # comment", r"(?i)ſK", r"q(?:longword)?zz", r"(?:abcdef)*gh", r"(?i)(lookhere)?ab|(never)*cd",
    r"(?i)x(?!yyyy)ab", r"(?i)(?<=wwww)ab",
]
ALPHABET = "abcdeikqsxyzKS İıſ\u212a发表评论全文如下以下为:/()\n" + "log out change Disclaimer leave a reply"


def _matching(pattern: str, paras: list[str], whole: bool) -> set[int]:
    rx = re.compile(pattern)
    find = rx.fullmatch if whole else rx.search
    return {i for i, p in enumerate(paras) if find(p)}


def test_the_paragraphs_left_out_never_match():
    rng = random.Random(7)
    config = defaults()["clean"]
    patterns = PATTERNS + [r["pattern"] for r in config["boilerplate"] + config["structure"]["paratext"]]
    for pattern in patterns:
        from re import _parser

        check = rxcheck._check(_parser.parse(pattern))  # every literal check, worth it or not
        literals = check.literals if check else []
        for _ in range(60):
            paras = []
            for _ in range(rng.randint(1, 6)):
                pieces = [rng.choice(ALPHABET) for _ in range(rng.randint(0, 12))]
                if literals and rng.random() < 0.5:  # a literal, in any case, somewhere
                    word = rng.choice(literals)
                    pieces.insert(rng.randint(0, len(pieces)), "".join(
                        c.upper() if rng.random() < 0.5 else c for c in word))
                if rng.random() < 0.3:  # or what the pattern matches, built by the engine's own test
                    pieces = list(rng.choice(["log out / change)", "Disclaimer: The views", "leave a reply",
                                              "the full text of", "abcdcde", "xyzzq", "KİS", "aBcd", "abab",
                                              "sik", "ſk", "以下为全文", "abc", "qzz", "gh", "AB", "cd", "xab"]))
                paras.append("".join(pieces))
            text = rxcheck.Text(paras)
            for whole in (False, True):
                got = rxcheck.candidates(check, text)
                assert _matching(pattern, paras, whole) <= set(got), (pattern, paras, whole)


def test_the_literals_of_a_pattern():
    assert rxcheck.prefilter(r"(Editor\s*:.{0,60}?)?Disclaimer\s*:?\s*The").literals == ["Disclaimer"]
    assert rxcheck.prefilter(r"(?i).*\blog out\s*\)", whole=True).literals == ["log out"]
    assert sorted(rxcheck.prefilter(r"(?i)\b(leave a (reply|x)|post it)").literals) == ["leave a ", "post it"]
    assert rxcheck.prefilter(r"^(来源|作者)[:：]") is None  # anchored: one attempt per paragraph
    assert rxcheck.prefilter(r"(?i)posted on\b.{0,60}", whole=True) is None  # fails at its first character
    assert rxcheck.prefilter(r"\s+(?=[、。])") is None  # no literal
    assert rxcheck.prefilter(r"(?i).*(a|bc)", whole=True) is None  # an alternative of one character
    assert rxcheck.prefilter(r"(?i).*(?i:xyz)q", whole=True) is None  # a group's own flags: left alone
    assert rxcheck.candidates(None, rxcheck.Text(["a", "b"])) == range(2)


def test_the_characters_the_engine_equates_with_ascii_or_cjk():
    """The lower-cased text finds every case-insensitive match of an ASCII or CJK literal where
    none of the characters of :func:`rxcheck._ascii_cased` occurs: beyond the Basic Multilingual
    Plane no character is equated with an ASCII one, and none but itself with a CJK ideograph."""
    either = re.compile("[\\x00-\\x7f\u4e00-\u9fff]", re.IGNORECASE)
    beyond = "".join(map(chr, range(0x80, 0x4E00))) + "".join(map(chr, range(0xA000, 0x110000)))
    found = "".join(either.findall(beyond))  # (one scan of every character)
    assert found == "\u0130\u0131\u017f\u212a"
    assert len(rxcheck._ascii_cased().findall(found)) == len(found)
    ascii_ = re.compile("[\\x00-\\x7f]", re.IGNORECASE)  # character by character, as the engine sees each
    assert rxcheck._ascii_cased().pattern == f"[{''.join(map(re.escape, found))}]"
    assert [chr(c) for c in range(0x80, 0x10000) if ascii_.fullmatch(chr(c))] == list(found)
    assert all(chr(c).lower() == chr(c) for c in range(0x4E00, 0xA000))
