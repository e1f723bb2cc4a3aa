"""The synthetic corpus generator (textdrift.synth): valid, sized, deterministic."""

import hashlib
import subprocess
import sys

import pytest

from textdrift.manifest import load_manifest
from textdrift.io import write_texts
from textdrift.synth import MANIFEST_COLUMNS, CorpusDesign, add_document, make_corpus, sentence_pool

EN = [
    "Digital cooperation is a shared responsibility of all countries. We support open and inclusive "
    "digital infrastructure! Data security matters for everyone.",
    "The digital economy is an important driver of growth. Developing countries need capacity building "
    "and skills. Cross-border e-commerce should be facilitated.",
    "Short one.",
]
ZH = [
    "数字经济是全球经济增长日益重要的驱动力。我们支持开放、包容的数字基础设施建设!数据安全关系到每一个国家?",
    "各国应加强网络空间国际合作,共同构建网络空间命运共同体。发展中国家需要能力建设和数字技能培训。",
    "标题",
]


@pytest.fixture()
def source(tmp_path):
    d = tmp_path / "clean"
    d.mkdir()
    write_texts({("a", "en"): list(EN), ("a", "zh"): list(ZH)}, d / "shard-0.parquet")  # the clean rule's layout
    return d


def digest(d):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def test_sentence_pool_splits_and_filters(source):
    pool = sentence_pool(source)
    assert "Digital cooperation is a shared responsibility of all countries." in pool["en"]
    assert "We support open and inclusive digital infrastructure!" in pool["en"]
    assert "Short one." not in pool["en"]  # fewer than 4 words: a heading
    assert "数字经济是全球经济增长日益重要的驱动力。" in pool["zh"]
    assert "数据安全关系到每一个国家?" in pool["zh"]
    assert "标题" not in pool["zh"]


def test_valid_manifest_and_size(tmp_path, source):
    out = tmp_path / "raw"
    manifest = make_corpus(out, 0.2, CorpusDesign(years=(2010, 2013), doc_kb=20), seed=0, source_dir=source)
    assert manifest == out / "documents.csv"
    assert manifest.read_text(encoding="utf-8").splitlines()[0] == ",".join(MANIFEST_COLUMNS)
    df = load_manifest(manifest, raw_dir=out)  # validates every row and that every file exists
    assert len(df) == 10 and df["doc_id"].is_unique
    assert set(df["year"]) == {2010, 2011, 2012, 2013}
    assert set(df["languages"]) <= {"zh", "en", "zh;en"}
    total = sum(p.stat().st_size for p in out.glob("*.txt"))
    assert 0.2e6 <= total <= 0.2e6 * 1.2


def test_same_seed_same_bytes_other_seed_differs(tmp_path, source):
    a = digest(make_corpus(tmp_path / "a", 0.1, CorpusDesign(doc_kb=10), seed=3, source_dir=source).parent)
    b = digest(make_corpus(tmp_path / "b", 0.1, CorpusDesign(doc_kb=10), seed=3, source_dir=source).parent)
    c = digest(make_corpus(tmp_path / "c", 0.1, CorpusDesign(doc_kb=10), seed=4, source_dir=source).parent)
    assert a == b
    assert a != c


def test_traditional_and_languages(tmp_path, source):
    out = tmp_path / "raw"
    make_corpus(out, 0.05,
                CorpusDesign(zh_share=1.0, traditional_share=1.0, doc_kb=10, bilingual_share=0.0, mutate=0.0),
                seed=0, source_dir=source)
    df = load_manifest(out / "documents.csv", raw_dir=out)
    assert set(df["languages"]) == {"zh"}
    text = "".join(p.read_text(encoding="utf-8") for p in out.glob("*.txt"))
    assert "數字經濟" in text and "数字经济" not in text  # OpenCC s2t


def test_add_document_appends_one_row(tmp_path, source):
    out = tmp_path / "raw"
    make_corpus(out, 0.05, CorpusDesign(doc_kb=10), seed=0, source_dir=source)
    before = load_manifest(out / "documents.csv", raw_dir=out)
    doc_id = add_document(out, source_dir=source, doc_kb=5)
    after = load_manifest(out / "documents.csv", raw_dir=out)
    assert len(after) == len(before) + 1 and after["doc_id"].iloc[-1] == doc_id
    assert after.iloc[: len(before)][MANIFEST_COLUMNS[:6]].equals(before[MANIFEST_COLUMNS[:6]])


def test_missing_source_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="Run the workflow"):
        make_corpus(tmp_path / "raw", 0.1, source_dir=tmp_path / "nothing")


def test_command_line(tmp_path, source):
    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "textdrift.synth", str(out), "--size-mb", "0.05", "--seed", "1",
                           "--source-dir", str(source), "--doc-kb", "10"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "5 documents" in proc.stderr
    assert digest(out) == digest(make_corpus(tmp_path / "lib", 0.05, CorpusDesign(doc_kb=10), seed=1, source_dir=source).parent)


def test_calibration_corpus_is_deterministic_and_plants_what_it_says(tmp_path):
    from textdrift.synth import CalibrationDesign, calibration_corpus

    design = CalibrationDesign(years=(2001, 2002, 2003), docs_per_year=3, paras_per_doc=5, vocab=300, n_themes=3,
                               theme_words=4)
    kw = dict(theme_effects={"t01": (2003, 3.0)}, new_phrases={"p": 2002}, seed=7)
    a, b = calibration_corpus(design, **kw), calibration_corpus(design, **kw)
    assert a.tokens.equals(b.tokens)
    assert set(a.tokens["doc_id"]) == {f"y{y}d0{d}" for y in (2001, 2002, 2003) for d in (1, 2, 3)}
    truth = a.theme_rates().set_index(["year", "theme"])["rate"]
    # the planted factor, in the true rates (the other words' share shrinks a little)
    assert truth[(2003, "t01")] / truth[(2002, "t01")] > 2.5
    assert truth[(2002, "t02")] == truth[(2001, "t02")]
    # the new phrase: absent before its year, present after (as a contiguous pair in one sentence)
    (phrase, y0), = a.planted["phrases"].items()
    first, second = phrase.split()
    t = a.tokens
    pairs = t["norm"].eq(first) & t["norm"].shift(-1).eq(second) & t["sent"].eq(t["sent"].shift(-1))
    assert not pairs[t["year"] < y0].any() and pairs[t["year"] >= y0].sum() > 5
    manifest = a.write_raw(tmp_path)
    assert len(manifest.read_text(encoding="utf-8").splitlines()) == 10
