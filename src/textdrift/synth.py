"""Synthetic corpora for benchmarks and scale tests (benchmarks/bench.py), resampled from the clean
texts that the cleaning stage (cleanio) wrote for the shipped corpus.

:func:`make_corpus` writes ``documents.csv`` (a valid manifest) and one raw text
file per document into ``out_dir``, about ``size_mb`` MB (10^6 bytes of UTF-8) in
all, documents of about ``doc_kb`` KB (50 MB is about 1,000 documents).

How the text is made
--------------------
* The sentence pool is the *clean* texts of the shipped corpus
  (``data/processed/clean/shard-*/{doc_id}.{lang}.txt``, so run the workflow once
  first): English split after ``.!?`` followed by a space and a capital, digit
  or opening quote/bracket; Chinese after ``。！？!?`` (the cleaner's NFKC
  already turned the full-width ``！？`` into ASCII). Fragments shorter than 4
  words (English) or 8 characters (Chinese), mostly headings, are left out.
  Vocabulary, word frequencies and sentence lengths are therefore those of real
  policy text.
* Years drift: every sentence has a weight per year that follows a random walk
  over the years (log-weights, step ``year_drift``), so neighbouring years are
  alike and distant years differ, as in a real series; TF-IDF drift and phrase
  changes have something to find.
* Vocabulary grows: each English word is replaced, with probability
  ``mutate``, by a word drawn uniformly from the pool's word types, and in
  Chinese a two-character Han run starts a replacement with probability
  ``mutate / 2`` per character (about the same share of characters) by a Han
  bigram of the pool. This creates the new n-grams that a larger real corpus
  has (a pure resample would reuse the few thousand trigrams of the pool).
* Documents: a title line, then paragraphs of 2-6 (English) or 2-5 (Chinese)
  sentences separated by blank lines, as the raw files of the shipped corpus
  are. Each document is Chinese (share ``zh_share``) or English;
  ``bilingual_share`` of them hold a Chinese part followed by an English one
  (``languages: zh;en``, the cleaner splits them by script). The Chinese part of
  ``traditional_share`` of the Chinese-bearing documents is converted to
  Traditional characters with OpenCC ``s2t``.
* Years are assigned round-robin over ``years`` (inclusive), so every year has
  documents once there are at least as many documents as years; dates are
  random days of the year.

Deterministic: the same arguments (and the same pool) give byte-identical
files; nothing depends on hash order, time or the machine.

Calibration corpora
-------------------
:func:`calibration_corpus` makes a different kind of corpus, for the calibration tests of the
inference (docs/methods.md): pseudo-words drawn with document- and paragraph-level
overdispersion, planted theme factors and new phrases, and the true rates that a test or an
interval should recover; :func:`translated_pairs` makes two language versions of one. The
module is about 700 lines because it holds these generators, which share the manifest format
and the command line.

Command line::

    python -m textdrift.synth OUT --size-mb 10 --seed 0 [--years 2000 2024]

To run the workflow on it, either make OUT the ``data/raw`` of a working copy
(what ``benchmarks/bench.py`` does), or point the config at it:
``snakemake --cores 2 --config manifest=OUT/documents.csv raw_dir=OUT
processed_dir=... results_dir=...``.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MANIFEST_COLUMNS", "CalibrationCorpus", "CalibrationDesign", "CorpusDesign", "add_document", "calibration_corpus", "main", "make_corpus",
           "sentence_pool", "translated_pairs"]

MANIFEST_COLUMNS = ["doc_id", "date", "year", "title", "source", "file", "languages", "encoding", "notes"]

_EN_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(\[])")
_ZH_SPLIT = re.compile(r"(?<=[。！？!?])")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HAN2 = re.compile(r"[\u4e00-\u9fff]{2}")
_EN_WORD = re.compile(r"^[a-z]{3,}$")
_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def _is_zh(text: str) -> bool:
    han = len(_HAN.findall(text))
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    return han > 0 and han >= 0.3 * (han + latin)


def sentence_pool(source_dir: str | Path) -> dict[str, list[str]]:
    """Sentences of the clean texts in ``source_dir``, per language, in file order.

    Parameters
    ----------
    source_dir : str or Path
        The clean texts' directory (``clean/shard-*.parquet``, :func:`textdrift.io.read_texts`).

    Returns
    -------
    dict of str to list of str
        ``{"en": [...], "zh": [...]}``; fragments too short to be sentences left out.
    """
    from textdrift.io import read_csv, read_texts

    # the clean texts of every shard (clean/shard-<n>.parquet), English then Chinese, each in order of
    # "<doc_id>.<lang>" (the order of the earlier one-file-per-text layout: the same pool, the same corpora)
    source_dir = Path(source_dir)
    index = source_dir / "index.csv"  # the shards of the last run (not those of an earlier shard count)
    files = (sorted({source_dir / Path(f).name for f in read_csv(index, dtype=str)["file"]}) if index.exists()
             else sorted(source_dir.glob("shard-*.parquet")))
    texts = read_texts(files)
    keys = [k for lang in ("en", "zh") for k in sorted((k for k in texts if k[1] == lang), key=lambda k: f"{k[0]}.{k[1]}.txt")]
    pool: dict[str, list[str]] = {"en": [], "zh": []}
    for doc_id, lang in keys:
        for para in texts[(doc_id, lang)]:
            para = para.strip()
            if lang == "en":
                for s in _EN_SPLIT.split(para):
                    s = s.strip()
                    if len(s.split()) >= 4 and not _HAN.search(s):
                        pool["en"].append(s)
            else:
                for s in _ZH_SPLIT.split(para):
                    s = s.strip()
                    if len(s) >= 8 and _is_zh(s):
                        pool["zh"].append(s)
    missing = [lang for lang, sents in pool.items() if not sents]
    if missing:
        raise FileNotFoundError(
            f"{source_dir}: no clean {'/'.join(missing)} text to resample (*.{missing[0]}.txt). "
            "Run the workflow on the shipped corpus first (make run, or snakemake --cores 2), "
            "or pass source_dir= / --source-dir pointing at clean texts."
        )
    return pool


class _Language:
    """Sentence sampler of one language: year-drifting weights + word/bigram mutation."""

    def __init__(self, lang: str, sentences: list[str], years: list[int], rng: random.Random,
                 mutate: float, year_drift: float):
        self.lang, self.sentences, self.mutate = lang, sentences, mutate
        n = len(sentences)
        log_w = [rng.gauss(0.0, 1.0) for _ in range(n)]
        self.cum: dict[int, list[float]] = {}
        for year in years:
            total, cum = 0.0, []
            for w in log_w:
                total += math.exp(w)
                cum.append(total)
            self.cum[year] = cum
            log_w = [w + rng.gauss(0.0, year_drift) for w in log_w]
        if lang == "en":
            self.fillers = sorted({w for s in sentences for w in s.split() if _EN_WORD.match(w)})
        else:
            self.fillers = sorted({m for s in sentences for m in _HAN2.findall(s)})

    def sentence(self, year: int, rng: random.Random) -> str:
        s = rng.choices(self.sentences, cum_weights=self.cum[year])[0]
        if self.mutate <= 0 or not self.fillers:
            return s
        if self.lang == "en":
            words = s.split(" ")
            for i, w in enumerate(words):
                if _EN_WORD.match(w) and rng.random() < self.mutate:
                    words[i] = rng.choice(self.fillers)
            return " ".join(words)
        chars = list(s)
        for i in range(len(chars) - 1):
            if rng.random() < self.mutate / 2 and _HAN.match(chars[i]) and _HAN.match(chars[i + 1]):
                chars[i : i + 2] = rng.choice(self.fillers)
        return "".join(chars)

    def paragraphs(self, year: int, n_bytes: int, rng: random.Random) -> list[str]:
        lo, hi = (2, 6) if self.lang == "en" else (2, 5)
        sep = " " if self.lang == "en" else ""
        out, size = [], 0
        while size < n_bytes:
            para = sep.join(self.sentence(year, rng) for _ in range(rng.randint(lo, hi)))
            out.append(para)
            size += len(para.encode("utf-8")) + 2
        return out


@dataclass(frozen=True)
class CorpusDesign:
    """The design of a synthetic raw corpus (:func:`make_corpus`).

    Attributes
    ----------
    years : (int, int)
        First and last year, inclusive; assigned round-robin.
    zh_share : float
        Share of Chinese documents.
    traditional_share : float
        Share of the Chinese-bearing documents converted to Traditional characters (OpenCC ``s2t``).
    doc_kb : float
        Size of one document in KB.
    bilingual_share : float
        Share of documents with a Chinese and an English part.
    mutate : float
        Share of words replaced by another word of the pool (vocabulary growth).
    year_drift : float
        Step of the random walk of the sentences' log-weights from year to year.
    """

    years: tuple[int, int] = (2000, 2024)
    zh_share: float = 0.5
    traditional_share: float = 0.1
    doc_kb: float = 50.0
    bilingual_share: float = 0.1
    mutate: float = 0.05
    year_drift: float = 0.3


def make_corpus(
    out_dir: str | Path,
    size_mb: float,
    design: CorpusDesign | None = None,
    seed: int = 0,
    source_dir: str | Path = "data/processed/clean",
) -> Path:
    """Write a synthetic raw corpus of about ``size_mb`` MB into ``out_dir``; return its manifest path.

    ``out_dir`` receives ``documents.csv`` (columns ``MANIFEST_COLUMNS``) and ``{doc_id}.txt`` per
    document (UTF-8, LF). Existing files of the same names are overwritten; nothing else in
    ``out_dir`` is touched. See the module docstring for how the text is built.

    Parameters
    ----------
    out_dir : str or Path
        The corpus directory (created).
    size_mb : float
        Total size in MB (10^6 bytes of UTF-8).
    design : CorpusDesign, optional
        Years, language shares, document size, vocabulary growth and drift (its defaults when None).
    seed : int
        Random seed; the same arguments and pool give byte-identical files.
    source_dir : str or Path
        The clean texts to resample (:func:`sentence_pool`).

    Returns
    -------
    Path
        ``out_dir / "documents.csv"``.

    Raises
    ------
    ValueError
        For a non-positive size, a share outside [0, 1] or years not in order.
    """
    d = design or CorpusDesign()
    years, zh_share, traditional_share, doc_kb = d.years, d.zh_share, d.traditional_share, d.doc_kb
    bilingual_share, mutate, year_drift = d.bilingual_share, d.mutate, d.year_drift
    if size_mb <= 0 or doc_kb <= 0:
        raise ValueError("size_mb and doc_kb must be positive")
    for name, share in [("zh_share", zh_share), ("traditional_share", traditional_share),
                        ("bilingual_share", bilingual_share), ("mutate", mutate)]:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {share}")
    y0, y1 = int(years[0]), int(years[1])
    if y1 < y0:
        raise ValueError(f"years: {years} is not a range (first <= last)")
    year_list = list(range(y0, y1 + 1))
    pool = sentence_pool(source_dir)
    rng = random.Random(f"textdrift.synth:{seed}")
    langs = {lang: _Language(lang, pool[lang], year_list, rng, mutate, year_drift) for lang in ("en", "zh")}
    s2t = None

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target, doc_bytes = int(size_mb * 1e6), int(doc_kb * 1e3)
    n_docs = max(1, round(target / doc_bytes))
    rows = []
    for i in range(n_docs):
        year = year_list[i % len(year_list)]
        month = rng.randint(1, 12)
        day = rng.randint(1, _DAYS[month - 1])
        doc_id = f"synth_{year}_{i:05d}"
        bilingual = rng.random() < bilingual_share
        zh = bilingual or rng.random() < zh_share
        traditional = zh and rng.random() < traditional_share
        parts = []
        if zh:
            zh_paras = langs["zh"].paragraphs(year, doc_bytes // (2 if bilingual else 1), rng)
            if traditional:
                if s2t is None:
                    from opencc import OpenCC

                    s2t = OpenCC("s2t")
                zh_paras = [s2t.convert(p) for p in zh_paras]
            parts.append(zh_paras)
        if not zh or bilingual:
            parts.append(langs["en"].paragraphs(year, doc_bytes // (2 if bilingual else 1), rng))
        first = parts[0][0]
        title_words = first.split()[:10] if not zh else None
        title = " ".join(title_words) if title_words else first[:24]
        title = f"{title.rstrip('.,;:')} ({year}-{i:05d})"
        body = [title] + [p for part in parts for p in part]
        (out_dir / f"{doc_id}.txt").write_bytes(("\n\n".join(body) + "\n").encode("utf-8"))
        languages = "zh;en" if bilingual else ("zh" if zh else "en")
        notes = "synthetic" + ("; Traditional Chinese (OpenCC s2t)" if traditional else "")
        rows.append([doc_id, f"{year:04d}-{month:02d}-{day:02d}", str(year), title,
                     f"textdrift.synth seed={seed}", f"{doc_id}.txt", languages, "utf-8", notes])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    writer.writerows(rows)
    manifest = out_dir / "documents.csv"
    manifest.write_bytes(buf.getvalue().encode("utf-8"))
    return manifest


def add_document(out_dir: str | Path, seed: int = 1, source_dir: str | Path = "data/processed/clean",
                 year: int = 2024, doc_kb: float = 50.0, lang: str = "en") -> str:
    """Append one new synthetic document (file + manifest row) to a corpus; return its doc_id.

    For the incremental-rerun benchmark: adding a document = adding a file and a row.

    Parameters
    ----------
    out_dir : str or Path
        A corpus written by :func:`make_corpus`.
    seed : int
        Random seed.
    source_dir : str or Path
        The clean texts to resample.
    year : int
        The document's year.
    doc_kb : float
        Its size in KB.
    lang : {"en", "zh"}
        Its language.

    Returns
    -------
    str
        The new ``doc_id`` (``synth_added_{year}_{n:05d}``, the first ``n`` not taken).
    """
    out_dir = Path(out_dir)
    manifest = out_dir / "documents.csv"
    existing = {r["doc_id"] for r in csv.DictReader(io.StringIO(manifest.read_text(encoding="utf-8")))}
    rng = random.Random(f"textdrift.synth.add:{seed}")
    sampler = _Language(lang, sentence_pool(source_dir)[lang], [year], rng, 0.05, 0.3)
    n = 0
    while f"synth_added_{year}_{n:05d}" in existing:
        n += 1
    doc_id = f"synth_added_{year}_{n:05d}"
    paras = sampler.paragraphs(year, int(doc_kb * 1e3), rng)
    title = f"Added document {n} ({year})" if lang == "en" else f"新增文件{n}({year})"
    (out_dir / f"{doc_id}.txt").write_bytes(("\n\n".join([title, *paras]) + "\n").encode("utf-8"))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(
        [doc_id, f"{year:04d}-06-30", str(year), title, f"textdrift.synth add seed={seed}",
         f"{doc_id}.txt", lang, "utf-8", "synthetic; added"])
    text = manifest.read_text(encoding="utf-8")
    manifest.write_bytes((text if text.endswith("\n") else text + "\n").encode("utf-8") + buf.getvalue().encode("utf-8"))
    return doc_id


# ---- calibration corpora: known truth, document-level overdispersion ----------------------------

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


def _pseudo_words(n: int, rng) -> list[str]:
    """``n`` distinct lower-case pseudo-words (three consonant-vowel syllables and a final ``x``:
    ``badikox``), none an English word, stop word or lemma that a lemmatizer would change."""
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < n:
        w = "".join(rng.choice(list(_CONSONANTS)) + rng.choice(list(_VOWELS)) for _ in range(3)) + "x"
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


class CalibrationCorpus:
    """A synthetic corpus with known truth (:func:`calibration_corpus`, which makes it).

    Parameters
    ----------
    tokens, words, themes, rates, doc_rates, planted
        The attributes below.

    Attributes
    ----------
    tokens : DataFrame
        A token table (the columns of ``textdrift.counting.TOKEN_SCHEMA``; every token kept,
        role ``body``, one language), in text order.
    words : list of str
        The vocabulary, most frequent first.
    themes : dict
        ``{theme id: [words]}``: disjoint word sets, the codebook of the corpus.
    rates : DataFrame
        The true rate per token of every word in every year (``year, word, rate``): the expected
        count of the word over the expected number of tokens, over documents and paragraphs.
    doc_rates : DataFrame
        The same for every document (``doc_id, year, word, rate``), given its own draw: the truth
        of a contrast between two named documents.
    planted : dict
        The planted effects: ``{"themes": {theme: (year, factor)}, "phrases": {phrase: year}}``.
    """

    def __init__(self, tokens, words, themes, rates, doc_rates, planted):
        self.tokens, self.words, self.themes = tokens, words, themes
        self.rates, self.doc_rates, self.planted = rates, doc_rates, planted

    def theme_rates(self, by_doc: bool = False):
        """True rate per token of each theme (the sum of its words' rates): ``year, theme, rate``
        (``doc_id, year, theme, rate`` with ``by_doc``)."""
        import pandas as pd

        word_theme = {w: t for t, ws in self.themes.items() for w in ws}
        r = self.doc_rates if by_doc else self.rates
        r = r[r["word"].isin(word_theme)].assign(theme=lambda d: d["word"].map(word_theme))
        keys = (["doc_id", "year"] if by_doc else ["year"]) + ["theme"]
        return r.groupby(keys, sort=True)["rate"].sum().reset_index()

    def write_raw(self, out_dir: str | Path) -> Path:
        """Write the corpus as raw text files and a manifest (``documents.csv``) into ``out_dir``,
        for a run of the whole workflow; return the manifest path. One file per document: a title
        line, then one paragraph per blank-line-separated block, sentences ending with ``.``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(MANIFEST_COLUMNS)
        t = self.tokens
        for doc_id, d in t.groupby("doc_id", sort=True):
            year = int(d["year"].iloc[0])
            paras = []
            for _, p in d.groupby("para", sort=True):
                sents = [" ".join(s["text"]) + "." for _, s in p.groupby("sent", sort=True)]
                paras.append(" ".join(x[:1].upper() + x[1:] for x in sents))
            (out / f"{doc_id}.txt").write_text(f"Calibration document {doc_id}\n\n" + "\n\n".join(paras) + "\n",
                                               encoding="utf-8")
            w.writerow([doc_id, f"{year:04d}-06-30", str(year), f"Calibration document {doc_id}",
                        "textdrift.synth calibration_corpus", f"{doc_id}.txt", "en", "utf-8", "synthetic"])
        manifest = out / "documents.csv"
        manifest.write_text(buf.getvalue(), encoding="utf-8")
        return manifest


@dataclass(frozen=True)
class CalibrationDesign:
    """The design of a calibration corpus (:func:`calibration_corpus`): its size, vocabulary,
    overdispersion and themes, without the planted effects.

    Attributes
    ----------
    years : sequence of int
    docs_per_year, paras_per_doc, para_tokens : int
        Documents per year, paragraphs per document, expected tokens per paragraph.
    vocab : int
        Vocabulary size (pseudo-words, :func:`_pseudo_words`).
    zipf : float
        Exponent of the rank-frequency law of the base probabilities.
    doc_shape, para_shape : float
        Gamma shapes of the document and paragraph multipliers (smaller: more overdispersion;
        ``para_shape`` None: no paragraph multiplier).
    n_themes, theme_words : int
        Themes ``t01``..: disjoint sets of ``theme_words`` words spread over the frequency ranks.
    phrase_per_para : float
        Expected insertions of a new phrase per paragraph.
    lang : str
        The ``lang`` of the token table.
    """

    years: tuple = (2001, 2002, 2003, 2004, 2005, 2006)
    docs_per_year: int = 6
    paras_per_doc: int = 20
    para_tokens: int = 60
    vocab: int = 1500
    zipf: float = 1.0
    doc_shape: float = 2.0
    para_shape: float | None = 1.0
    n_themes: int = 12
    theme_words: int = 8
    phrase_per_para: float = 0.3
    lang: str = "en"


def calibration_corpus(
    design: CalibrationDesign | None = None,
    theme_effects: dict | None = None,
    new_phrases: dict | None = None,
    seed: int = 0,
) -> CalibrationCorpus:
    """A corpus with document-level overdispersion and planted effects, for calibrating the tests.

    How the counts are drawn: word ``w`` has a base probability ``p_w`` proportional to
    ``rank^-zipf``; each document ``d`` draws a multiplier ``g_dw ~ Gamma(doc_shape, 1/doc_shape)``
    (mean 1, variance ``1/doc_shape``) for every word, each paragraph ``j`` another
    ``h_jw ~ Gamma(para_shape, 1/para_shape)`` (``None``: 1), and the count of ``w`` in the
    paragraph is ``Poisson(para_tokens * p_w * e_yw * g_dw * h_jw)``, where ``e_yw`` is the planted
    factor (1 unless ``theme_effects`` says otherwise). Words therefore cluster by document and by
    paragraph, as they do in real texts (Lijffijt et al. 2016), and with no planted effect nothing
    changes between years: every year's documents come from the same distribution.

    The tokens of a paragraph are shuffled and cut into sentences of 12; a planted phrase (a
    two-word sequence of two reserved words) is inserted ``Poisson(phrase_per_para)`` times into
    each paragraph from its year on.

    Parameters
    ----------
    design : CalibrationDesign, optional
        Years, documents per year, paragraphs per document, tokens per paragraph, vocabulary,
        overdispersion, themes (its defaults when None).
    theme_effects : dict, optional
        ``{theme id: (year, factor)}``: the theme's words are ``factor`` times as frequent from
        ``year`` on.
    new_phrases : dict, optional
        ``{phrase id: year}``: a new two-word phrase from that year on.
    seed : int

    Returns
    -------
    CalibrationCorpus
        Deterministic for the same arguments.

    References
    ----------
    Lijffijt, J., Nevalainen, T., Säily, T., Papapetrou, P., Puolamäki, K. & Mannila, H. (2016).
    Significance testing of word frequencies in corpora. Digital Scholarship in the Humanities 31(2).
    """
    import numpy as np
    import pandas as pd

    d = design or CalibrationDesign()
    years, docs_per_year, paras_per_doc, para_tokens, vocab, zipf = (d.years, d.docs_per_year, d.paras_per_doc,
                                                                     d.para_tokens, d.vocab, d.zipf)
    doc_shape, para_shape, n_themes, theme_words, phrase_per_para, lang = (d.doc_shape, d.para_shape, d.n_themes,
                                                                           d.theme_words, d.phrase_per_para, d.lang)
    theme_effects = dict(theme_effects or {})
    new_phrases = dict(new_phrases or {})
    rng = np.random.default_rng(seed)
    words = _pseudo_words(vocab + 2 * len(new_phrases), random.Random(seed))
    reserved, words = words[vocab:], words[:vocab]
    p = np.arange(1, vocab + 1, dtype=float) ** -zipf
    p /= p.sum()
    # themes: words at spread ranks (from rank 20 on: not the very top, not the tail)
    ranks = np.linspace(20, min(vocab - 1, 20 + 40 * n_themes * theme_words // 8), n_themes * theme_words).astype(int)
    ranks = list(dict.fromkeys(ranks))
    themes = {f"t{i + 1:02d}": [words[r] for r in ranks[i::n_themes]] for i in range(n_themes)}
    unknown = set(theme_effects) - set(themes)
    if unknown:
        raise ValueError(f"theme_effects names themes that do not exist: {sorted(unknown)}")
    theme_idx = {t: [words.index(w) for w in ws] for t, ws in themes.items()}
    phrases = {k: (reserved[2 * i], reserved[2 * i + 1]) for i, k in enumerate(new_phrases)}
    rows, rate_rows, doc_rate_rows = [], [], []
    for year in years:
        e = np.ones(vocab)
        for t, (y0, factor) in theme_effects.items():
            if year >= y0:
                e[theme_idx[t]] *= factor
        lam_year = p * e
        rate_rows.append(pd.DataFrame({"year": year, "word": words, "rate": lam_year / lam_year.sum()}))
        for d in range(docs_per_year):
            doc_id = f"y{year}d{d + 1:02d}"
            g = rng.gamma(doc_shape, 1 / doc_shape, vocab)
            lam_doc = lam_year * g
            doc_rate_rows.append(pd.DataFrame({"doc_id": doc_id, "year": year, "word": words,
                                               "rate": lam_doc / lam_doc.sum()}))
            for j in range(paras_per_doc):
                h = rng.gamma(para_shape, 1 / para_shape, vocab) if para_shape else 1.0
                counts = rng.poisson(para_tokens * lam_doc * h)
                toks = np.repeat(np.array(words, dtype=object), counts)
                rng.shuffle(toks)
                toks = list(toks)
                for k, (y0) in new_phrases.items():
                    if year >= y0:
                        for _ in range(rng.poisson(phrase_per_para)):
                            at = int(rng.integers(0, len(toks) + 1))
                            toks[at:at] = list(phrases[k])
                for i, w in enumerate(toks):
                    rows.append((doc_id, year, j + 1, i // 12 + 1, i, w))
    tokens = pd.DataFrame(rows, columns=["doc_id", "year", "para", "sent", "idx", "text"])
    tokens = tokens.astype({"year": "int32", "para": "int32", "sent": "int32", "idx": "int32"})
    tokens.insert(2, "lang", lang)
    tokens["norm"] = tokens["text"]
    tokens["lemma"] = tokens["text"]
    tokens["is_stop"] = False
    tokens["is_punct"] = False
    tokens["keep"] = True
    tokens["role"] = "body"
    tokens["entity"] = None
    planted = {"themes": theme_effects, "phrases": {" ".join(phrases[k]): y for k, y in new_phrases.items()}}
    return CalibrationCorpus(tokens, words, themes, pd.concat(rate_rows, ignore_index=True),
                             pd.concat(doc_rate_rows, ignore_index=True), planted)


def translated_pairs(corpus: CalibrationCorpus, render: float = 0.85, within_shape: float | None = None,
                     drop: dict | None = None, langs=("zh", "en"), seed: int = 0):
    """Two language versions of a :func:`calibration_corpus`, as theme counts per aligned
    paragraph pair with a known truth: for calibrating the cross-language comparison
    (:mod:`textdrift.crosslingual`, ``benchmarks/calibrate_crosslingual.py``).

    Each paragraph of the corpus is one aligned pair. Its source count s of theme t (the matches
    of the theme's words in the paragraph) carries the corpus's clustering by document and
    paragraph. Each version l renders the source independently of the other::

        x_l = Binomial(s, render) + Poisson((1 - render) * s)     (within_shape None)
        x_l = Poisson(s * G_l),  G_l ~ Gamma(within_shape, 1 / within_shape)   (within_shape given)

    so E[x_l | s] = s in both versions: the two versions of every pair say the same thing (the
    null of a translation). ``render = 0`` gives independent Poisson counts with the pair's mean
    (the exact null of the conditional test); ``render`` near 1 a close translation (the two
    counts move together); ``within_shape`` extra variation of each version within the pair
    (a term repeated for style), which the conditional test does not allow for. ``drop``
    plants a gap: ``{theme: (lang, share)}``: in each pair whose source has the theme, with
    probability ``share``, version ``lang`` loses every match of it (true count ratio of that
    language to the other: 1 - share).

    Parameters
    ----------
    corpus : CalibrationCorpus
    render : float
        Probability that a version renders a source mention with a codebook term.
    within_shape : float, optional
        Gamma shape of each version's multiplier within a pair.
    drop : dict, optional
        The planted gaps.
    langs : (str, str)
        The two languages (column suffixes).
    seed : int

    Returns
    -------
    (DataFrame, DataFrame)
        The pair counts (``doc_id, year, pair, theme, count_{a}, count_{b}``: every pair and theme,
        zeros included) and the documents (``doc_id, year, pairs, comparable, note``).
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    a, b = langs
    t = corpus.tokens
    word_theme = {w: th for th, ws in corpus.themes.items() for w in ws}
    paras = t[["doc_id", "year", "para"]].drop_duplicates().sort_values(["doc_id", "para"], ignore_index=True)
    themes = list(corpus.themes)
    hit = t[t["text"].isin(word_theme)].assign(theme=lambda d: d["text"].map(word_theme))
    src = hit.groupby(["doc_id", "para", "theme"]).size()
    grid = paras.merge(pd.DataFrame({"theme": themes}), how="cross")
    s = src.reindex(pd.MultiIndex.from_frame(grid[["doc_id", "para", "theme"]]), fill_value=0).to_numpy()
    out = {}
    for lang in langs:
        if within_shape:
            x = rng.poisson(s * rng.gamma(within_shape, 1 / within_shape, len(s)))
        else:
            x = rng.binomial(s, render) + rng.poisson((1 - render) * s)
        for th, (dlang, share) in (drop or {}).items():
            if dlang == lang:
                lose = (grid["theme"].to_numpy() == th) & (s > 0) & (rng.random(len(s)) < share)
                x = np.where(lose, 0, x)
        out[lang] = x
    pairs = grid.rename(columns={"para": "pair"}).assign(**{f"count_{a}": out[a], f"count_{b}": out[b]})
    pairs = pairs[["doc_id", "year", "pair", "theme", f"count_{a}", f"count_{b}"]]
    docs = paras.groupby(["doc_id", "year"], sort=True).size().rename("pairs").reset_index()
    docs["comparable"], docs["note"] = True, ""
    return pairs, docs


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m textdrift.synth OUT [--size-mb ...] [--seed ...] ...``.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status (0).
    """
    ap = argparse.ArgumentParser(prog="python -m textdrift.synth", description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output directory (documents.csv + one .txt per document)")
    ap.add_argument("--size-mb", type=float, default=10.0, help="total size in MB (10^6 bytes); default 10")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--years", type=int, nargs=2, default=(2000, 2024), metavar=("FIRST", "LAST"))
    ap.add_argument("--zh-share", type=float, default=0.5)
    ap.add_argument("--traditional-share", type=float, default=0.1)
    ap.add_argument("--bilingual-share", type=float, default=0.1)
    ap.add_argument("--doc-kb", type=float, default=50.0, help="size of one document in KB; default 50")
    ap.add_argument("--mutate", type=float, default=0.05, help="share of words replaced (vocabulary growth)")
    ap.add_argument("--source-dir", default="data/processed/clean", help="clean texts to resample")
    a = ap.parse_args(argv)
    design = CorpusDesign(tuple(a.years), a.zh_share, a.traditional_share, a.doc_kb, a.bilingual_share, a.mutate)
    manifest = make_corpus(a.out, a.size_mb, design, a.seed, a.source_dir)
    n = sum(1 for _ in manifest.open(encoding="utf-8")) - 1
    print(f"{manifest}: {n} documents", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
