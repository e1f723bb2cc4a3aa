"""Restoring lost spaces in English (textdrift.despace): rules on invented text, F1 on the corpus."""

import re
from pathlib import Path

import pytest

from textdrift.clean import clean_text
from textdrift.decode import decode_bytes
from textdrift.despace import boundary_f1, despace, is_despaced, load_segmenter, read_words
from conftest import FIXTURE

ROOT = Path(__file__).resolve().parents[1]
WORDS = FIXTURE / "config/en_despace_words.txt"


@pytest.fixture(scope="module")
def seg():
    return load_segmenter(read_words(WORDS), 1e8)


def test_detection():
    assert is_despaced("Thecommitteemetonthursdayanddiscussedthebudgetforthenextyear.")
    assert not is_despaced("The committee met on Thursday and discussed the budget for next year.")
    assert not is_despaced("Tooshorttobesure")  # under min_chars
    # few spaces but no long letter run (numbers, codes)
    assert not is_despaced("12345-67890-12345-67890-12345-67890-12345-67890")


@pytest.mark.parametrize("raw, expected", [
    # plain segmentation, case kept
    ("Thecommitteemetonthursday", "The committee met on thursday"),
    ("TheRiverTownHallopensatnoon", "The River Town Hall opens at noon"),
    # acronyms: kept whole, last capital starts the next word, plural acronyms
    ("theUNandtheWTOagreed", "the UN and the WTO agreed"),
    ("anOECDWorkingPaper", "an OECD Working Paper"),
    ("manySMEsjoinedthescheme", "many SMEs joined the scheme"),
    ("theUNCharterapplies", "the UN Charter applies"),
    # numbers
    ("In1999,theyopened12schools.", "In 1999, they opened 12 schools."),
    ("onMar.3,2015.", "on Mar. 3, 2015."),
    ("itgrew2.5percent", "it grew 2.5 percent"),
    ("about1,500people", "about 1,500 people"),
    ("the5Gnetwork", "the 5G network"),
    ("the20thcentury", "the 20th century"),
    # punctuation
    ("firstly;secondly:thirdly!Done?Yes.", "firstly; secondly: thirdly! Done? Yes."),
    ("seeourwebsiteabc.orgfordetails", "see our website abc.org for details"),
    ("1.Buildingroads(2)Openingschools", "1. Building roads (2) Opening schools"),
    ("thereport(draft)wasread", "the report (draft) was read"),
    ('thebookcalled"GreenValley"wassold', 'the book called "Green Valley" was sold'),
    ("theyenjoy“FreshAir”daily", "they enjoy “Fresh Air” daily"),
    ("abigparade–thefirstever–washeld", "a big parade – the first ever – was held"),
    # hyphens and apostrophes stay glued
    ("long-termgoalsandwell-knownfacts", "long-term goals and well-known facts"),
    ("theAnglo-Dutchtrade", "the Anglo-Dutch trade"),
    ("Europe'sfarmersandthefarmers'union", "Europe's farmers and the farmers' union"),
    ("Covid-19spread", "Covid-19 spread"),
])
def test_restore(seg, raw, expected):
    out, n = despace(raw, seg)
    assert out == expected
    assert n == expected.count(" ") - raw.count(" ")


def test_existing_spaces_are_kept(seg):
    assert despace("Alreadyspaced text staysasitis", seg)[0] == "Already spaced text stays as it is"


def test_domain_words_help(seg):
    plain = load_segmenter((), 1e8)
    assert despace("theWuzhensummit", plain)[0] != "the Wuzhen summit"
    assert despace("theWuzhensummit", seg)[0] == "the Wuzhen summit"


def test_read_words(tmp_path):
    f = tmp_path / "w.txt"
    f.write_text("# comment\nfoo\n\n  bar-baz  # trailing comment\n", encoding="utf-8")
    assert read_words(f) == ("foo", "bar-baz")


def test_boundary_f1_hand_computed():
    assert boundary_f1("the cat sat", "the cat sat") == 1.0
    # predicted boundaries {3}, reference {3, 6}: P = 1, R = 1/2, F1 = 2/3
    assert boundary_f1("the catsat", "the cat sat") == pytest.approx(2 / 3)
    # predicted {3, 4, 6}, reference {3, 6}: P = 2/3, R = 1, F1 = 0.8
    assert boundary_f1("the c at sat", "the cat sat") == pytest.approx(0.8)
    assert boundary_f1("thecatsat", "the cat sat") == 0.0
    assert boundary_f1("one", "one") == 1.0
    # line breaks count as boundaries like spaces
    assert boundary_f1("a b\nc", "a b c") == 1.0
    with pytest.raises(ValueError, match="differ"):
        boundary_f1("the cat", "the dog")


def _raw(name):
    path = FIXTURE / "data/raw" / name
    return decode_bytes(path.read_bytes(), str(path))[0]


def test_whitepaper_f1_against_reference():
    """File 004 through the whole cleaner vs a hand-checked reference (official prose spacing)."""
    result = clean_text(_raw("004_320ae77abe72c33a.txt"), "wp", {"languages": ["zh", "en"]})
    predicted = "\n".join(result.texts["en"])
    reference = (ROOT / "tests/data/despace_reference_004.txt").read_text(encoding="utf-8")
    assert boundary_f1(predicted, reference) >= 0.98


@pytest.mark.parametrize("name", ["000_ff5f590d30825363.txt", "001_e699c63423670662.txt",
                                  "002_a4a48583470fe25d.txt", "003_cb0843f0ad46c33e.txt"])
def test_f1_on_artificially_despaced_english(seg, name):
    """Held-out check: remove the spaces of normally spaced English and restore them."""
    english = clean_text(_raw(name), "x", {"languages": ["zh", "en"]}).texts["en"]
    predicted = "\n".join(despace(re.sub(" ", "", p), seg)[0] for p in english)
    assert boundary_f1(predicted, "\n".join(english)) >= 0.98


def test_segment_gives_wordsegments_words(seg):
    """despace's bottom-up search (``_segment``) returns wordsegment's own ``segment`` words: on
    strings of unknown letters (whose divisions tie in score, so the tie-breaking is exercised: it
    changes 10 of these 80 divisions), of known and unknown pieces, and on a paragraph of the corpus
    with its spaces removed (longer than one 250-letter chunk)."""
    import random

    from textdrift.despace import _segment

    rng = random.Random(0)
    cases = ["".join(rng.choice("zqxjkvbw") for _ in range(rng.randint(1, 40))) for _ in range(40)]
    cases += ["".join(rng.choice(["zz", "qq", "x", "the", "q"]) for _ in range(rng.randint(1, 12))) for _ in range(40)]
    english = [p for p in _raw("001_e699c63423670662.txt").splitlines() if 300 < len(p) < 400 and p.isascii()]
    cases += [re.sub(r"\s", "", english[0])]
    cases += ["", "2017", "BRICS2017countries", "theBeltandRoadInitiative"]
    assert [_segment(seg, text) for text in cases] == [seg.segment(text) for text in cases]
