"""New and vanished formulations (textdrift.formulations): maximal units, the Chinese character
route past the segmenter's dictionary, symbols, nested pieces, vanished, the window, English
multiword formulations, and one end-to-end check on a one-report-per-year corpus."""

import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from textdrift.formulations import COLUMNS, Units, formulations, nested_in, new_formulations

ROOT = Path(__file__).resolve().parents[1]

ZH_BASE = [
    "我们坚持改革开放，推动经济高质量发展。",
    "各级政府要加强组织领导，确保各项任务落到实处。",
    "要统筹发展和安全，维护国家利益。",
]
EN_BASE = [
    "We will deepen reform and opening up and promote high-quality development.",
    "Governments at all levels must strengthen leadership and ensure that every task is carried out.",
]


@pytest.fixture(scope="module")
def segment():
    """Text -> token table with the project's segmenter (jieba, spaCy), default configuration."""
    from textdrift.segment import segment_shard

    def run(docs):
        return segment_shard([dict(d, roles=d.get("roles")) for d in docs], ROOT, None)

    return run


def _docs(lang: str, years: dict) -> list[dict]:
    """One document per year: the base sentences, one paragraph each, then the year's paragraphs."""
    base = ZH_BASE if lang == "zh" else EN_BASE
    return [{"doc_id": f"{lang}{y}", "year": y, "lang": lang, "paragraphs": base + paras}
            for y, paras in years.items()]


@pytest.fixture(scope="module")
def zh_table(segment):
    years = {
        2017: ["建设网络强国，是长期任务。", "网络强国建设不断推进。", "脱贫攻坚任务艰巨。", "脱贫攻坚取得成效。"],
        2018: ["网络强国建设取得新成就。", "加快网络强国建设。"],
        2019: ["加快建设云网融合智算强国。", "云网融合智算强国战略取得进展。", "围绕云网融合智算强国目标推进改革。",
               "推进数字丝绸之路建设。", "共建数字丝绸之路。", "数字丝绸之路惠及各国。",
               "弘扬丝绸之路精神。", "古代丝绸之路连接东西。", "网络强国目标基本实现。", "网络强国是我们的目标。",
               "2019年经济平稳运行，2019年就业稳定。"],
        2020: ["推进互联网+政务服务。", "发展互联网+教育。", "实施互联网+。", "脱贫攻坚全面胜利。",
               "巩固脱贫攻坚成果。"],
    }
    return segment(_docs("zh", years))


def _rows(df, year, status, lang="zh"):
    d = df[(df["lang"] == lang) & (df["year"] == year) & (df["status"] == status)]
    return dict(zip(d["formulation"], d["count"]))


def test_columns_and_ranking(zh_table):
    df = new_formulations([zh_table], ["zh"])
    assert list(df.columns) == COLUMNS
    for _, g in df.groupby(["lang", "year", "status"]):
        assert g["rank"].tolist() == list(range(1, len(g) + 1))
        key = list(zip(-g["documents"], -g["paragraphs"], -g["count"], -g["length"], g["formulation"]))
        assert key == sorted(key)
    # the first year has no new, the last no vanished formulation
    assert not ((df["year"] == 2017) & (df["status"] == "new")).any()
    assert not ((df["year"] == 2020) & (df["status"] == "vanished")).any()


def test_planted_compound_the_dictionary_splits_is_whole(zh_table):
    """云网融合智算强国 (8 characters, jieba: 云/网/融合/智/算/强国) is new in 2019, whole, no piece of it is."""
    tokens = zh_table[zh_table["year"] == 2019]["text"].tolist()
    assert "云网融合智算强国" not in tokens and "智" in tokens  # the segmenter splits it
    new = _rows(new_formulations([zh_table], ["zh"]), 2019, "new")
    assert new.get("云网融合智算强国") == 3
    assert not [f for f in new if f != "云网融合智算强国" and f in "云网融合智算强国"]
    df = new_formulations([zh_table], ["zh"])
    row = df[df["formulation"] == "云网融合智算强国"].iloc[0]
    assert (row["paragraphs"], row["documents"], row["years"]) == (3, 1, "2019:3")
    assert "云网融合智算强国" in row["example"] and row["example_doc"] == "zh2019"


def test_symbol_inside_a_formulation_is_kept(zh_table):
    """互联网+ (followed by different words, once by a full stop) is one formulation of 2020."""
    new = _rows(new_formulations([zh_table], ["zh"]), 2020, "new")
    assert new.get("互联网+") == 3


def test_piece_that_also_occurs_alone_is_kept(zh_table):
    """丝绸之路 occurs in 数字丝绸之路 and on its own: both are new in 2019; 丝绸之路 is not nested in
    数字丝绸之路 (3 of its 5 occurrences); 数字丝绸 (only ever inside) is no row."""
    df = new_formulations([zh_table], ["zh"])
    new = _rows(df, 2019, "new")
    assert new.get("数字丝绸之路") == 3 and new.get("丝绸之路") == 5
    assert "数字丝绸" not in new and "丝绸之" not in new
    row = df[(df["formulation"] == "丝绸之路") & (df["year"] == 2019)].iloc[0]
    assert row["nested_in"] == ""
    # with a lower fold share the piece is shown inside the longer formulation
    assert nested_in(df[df["year"] == 2019], fold_share=0.5)[row.name] == "数字丝绸之路"


def test_vanished_and_digits(zh_table):
    df = new_formulations([zh_table], ["zh"])
    gone = _rows(df, 2019, "vanished")
    assert gone.get("网络强国") == 2  # 2017, 2018, 2019, not 2020
    assert df.loc[df["formulation"] == "网络强国", "years"].iloc[0] == "2017:2;2018:2;2019:2"
    assert "网络强国" not in _rows(df, 2018, "vanished")
    # a year (2019年) is no formulation: digits do not count toward min_chars
    assert not df["formulation"].str.fullmatch(r"\d+年").any()


def test_window(zh_table):
    """脱贫攻坚: 2017, absent 2018-2019, back in 2020: new in 2020 only when the window is shorter than 3 years."""
    assert "脱贫攻坚" not in _rows(new_formulations([zh_table], ["zh"]), 2020, "new")
    assert _rows(new_formulations([zh_table], ["zh"], window=2), 2020, "new").get("脱贫攻坚") == 2
    assert "脱贫攻坚" not in _rows(new_formulations([zh_table], ["zh"], window=3), 2020, "new")
    # and, symmetrically, vanished in 2017 with a window of 2 (absent from 2018 and 2019)
    assert "脱贫攻坚" in _rows(new_formulations([zh_table], ["zh"], window=2), 2017, "vanished")
    assert "脱贫攻坚" not in _rows(new_formulations([zh_table], ["zh"]), 2017, "vanished")


def test_min_count_and_min_paragraphs(zh_table):
    """云网融合智算强国: 3 occurrences in 3 paragraphs of 2019."""
    assert "云网融合智算强国" in _rows(new_formulations([zh_table], ["zh"], min_count=3), 2019, "new")
    assert "云网融合智算强国" not in _rows(new_formulations([zh_table], ["zh"], min_count=4), 2019, "new")
    assert "云网融合智算强国" in _rows(new_formulations([zh_table], ["zh"], min_paragraphs=3), 2019, "new")
    assert "云网融合智算强国" not in _rows(new_formulations([zh_table], ["zh"], min_paragraphs=4), 2019, "new")


def test_english_multiword_formulation(segment):
    phrase = "community with a shared future in cyberspace"
    years = {
        2018: ["The internet connects the world."],
        2019: [f"China proposes to build a {phrase}.", f"A {phrase} serves all countries.",
               f"Together we build a {phrase}, step by step."],
        2020: ["The internet connects the world, and a digital economy grows."],
    }
    df = new_formulations([segment(_docs("en", years))], ["en"])
    new = _rows(df, 2019, "new", lang="en")
    assert new.get(phrase) == 3
    assert not [f for f in new if f != phrase and f in phrase]  # no piece: "shared future", "a shared future in"
    gone = _rows(df, 2019, "vanished", lang="en")
    assert phrase in gone


def _brute(seq_by_year: dict, min_count: int, max_len: int):
    """Closed strings per year (count >= min_count, no one-unit extension with the same count) by
    enumeration, and their status (new / vanished against all other years)."""
    from collections import Counter

    counts = {y: Counter(s[i:i + n] for s in seqs for n in range(1, max_len + 2) for i in range(len(s) - n + 1))
              for y, seqs in seq_by_year.items()}
    years = sorted(seq_by_year)
    out = set()
    for y in years:
        c = counts[y]
        for g, k in c.items():
            if len(g) > max_len or k < min_count:
                continue
            ext = [v for h, v in c.items() if len(h) == len(g) + 1 and (h[1:] == g or h[:-1] == g)]
            if any(v == k for v in ext):
                continue
            if y != years[0] and all(counts[x][g] == 0 for x in years if x < y):
                out.add((y, "new", g, k))
            if y != years[-1] and all(counts[x][g] == 0 for x in years if x > y):
                out.add((y, "vanished", g, k))
    return out


def test_matches_enumeration_on_random_text():
    """The level-wise counting with pruning finds exactly the closed, new or vanished strings that
    enumerating every substring finds (every position a token boundary)."""
    rng = random.Random(3)
    for trial in range(4):
        seq_by_year = {y: ["".join(rng.choice("abcd" if y % 2 else "abce") for _ in range(rng.randint(3, 14)))
                           for _ in range(8)] for y in (2001, 2002, 2003)}
        codes, run, run_year = [], [], []
        for r, (y, s) in enumerate((y, s) for y, seqs in seq_by_year.items() for s in seqs):
            codes += [ord(ch) for ch in s]
            run += [r] * len(s)
            run_year.append(y)
        n, nr = len(codes), len(run_year)
        units = Units("xx", True, np.array(codes, dtype=np.int64), np.array(run, dtype=np.int64),
                      np.ones(n, bool), np.ones(n, bool), np.array(run_year, dtype=np.int64),
                      np.arange(nr, dtype=np.int64), np.zeros(nr, dtype=np.int64), np.arange(nr, dtype=np.int64))
        got = formulations(units, min_count=2, min_length=1, max_length=5, min_paragraphs=1)
        found = set(zip(got["year"], got["status"], got["formulation"], got["count"]))
        assert found == _brute(seq_by_year, 2, 5), trial


def test_one_report_per_year_end_to_end(segment):
    """Raw text -> cleaner -> segmenter -> table: one long report a year from the shipped Chinese
    text (the same sentences every year, a random 30% left out after the first), planted new
    formulations of 3 to 8 characters, one the dictionary splits, one with a +, one only in numbered
    lead sentences: each is in the
    table in its first year, whole, among the five best-ranked new formulations of that year."""
    from textdrift.clean import clean_text
    from textdrift.config import defaults
    from textdrift.structure import encode_roles

    raw = (ROOT / "data" / "raw" / "002_a4a48583470fe25d.txt").read_text(encoding="utf-8")
    pool = [s + "。" for s in re.split(r"[。！？\n]", raw) if len(s) >= 12 and re.search(r"[\u4e00-\u9fff]{6}", s)]
    assert len(pool) > 20
    planted = {2021: ["云网融合智算强国"], 2022: ["区块链+", "新基建"], 2023: ["数据要素市场化"], 2024: ["东数西算"]}
    contexts = ["加快推进{}。", "{}取得积极进展，各方面共同努力。", "围绕{}，完善政策体系。", "坚持以{}为抓手。"]
    # 东数西算 only in numbered lead sentences ("(一)全面推进东数西算工程。..."): counted since they are
    # statements, not label headings (clean.structure.statement_headings)
    leads = ["(一)全面推进{}工程。各地要完善配套政策，加强统筹协调。", "(二)加快实施{}战略。有关部门要抓好落实，形成工作合力。",
             "(三)统筹推进{}布局。建立健全协调机制，做好监测评估。"]
    rng = random.Random(7)
    docs, cfg = [], defaults()["clean"]
    for year in range(2020, 2025):
        sents = pool if year == 2020 else [s for s in pool if rng.random() > 0.3]
        paras = ["".join(sents[i:i + 3]) for i in range(0, len(sents), 3)] + [c.format("数字经济") for c in contexts]
        for y, forms in planted.items():
            if year >= y:
                for f in forms:
                    paras += [c.format(f) for c in (leads if f == "东数西算" else rng.sample(contexts, 3))]
        rng.shuffle(paras)
        res = clean_text("\n\n".join(paras), f"report{year}", cfg)
        docs.append({"doc_id": f"report{year}", "year": year, "lang": "zh", "paragraphs": res.texts["zh"],
                     "roles": encode_roles(res.roles["zh"])})
    tokens = segment(docs)
    df = new_formulations([tokens], ["zh"])
    for year, forms in planted.items():
        top = df[(df["year"] == year) & (df["status"] == "new") & (df["rank"] <= 5)]["formulation"].tolist()
        for f in forms:
            assert f in top, (year, f, top)


def test_chart_fifteen_years_and_nested_pieces(tmp_path):
    """One panel per year (15 years on three rows of five), Chinese labels in the CJK font, a piece
    nested in a longer formulation left out."""
    from textdrift.figures import new_formulations_chart, save_figure

    rows = []
    for year in range(2010, 2025):
        for r, (f, c) in enumerate([(f"数字丝绸之路{year}", 5), ("数字丝绸", 4), (f"云网融合{year % 7}", 3)], start=1):
            rows.append({"lang": "zh", "year": year, "status": "new", "rank": r, "formulation": f, "count": c,
                         "paragraphs": c, "documents": 1, "nested_in": f"数字丝绸之路{year}" if r == 2 else ""})
    df = pd.DataFrame(rows)
    fig = new_formulations_chart(df, "zh", k=8)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(panels) == 15 and fig.axes[0].get_gridspec().ncols == 5
    labels = [t.get_text() for ax in panels for t in ax.get_yticklabels()]
    assert "数字丝绸之路2010" in labels and "数字丝绸" not in labels
    assert "Noto Sans CJK SC" in fig.axes[0].get_yticklabels()[0].get_fontfamily()
    paths = save_figure(fig, tmp_path / "new_formulations_zh", dpi=60)
    assert all(p.stat().st_size > 0 for p in paths)


def test_key_order_on_document_blocks_is_lexsort():
    """counting.key_order (formulations' and phrases' text order) gives np.lexsort's permutation: on rows grouped by
    document and in order inside each (the blocks' shortcut), with ties, and on rows that are not
    (a document in two blocks, or a block out of order: lexsort itself)."""
    import numpy as np

    from textdrift.counting import key_order

    rng = np.random.default_rng(7)
    for trial in range(400):
        n = int(rng.integers(1, 80))
        rank, para, sent, idx = (np.sort(rng.integers(0, 6, n)), rng.integers(0, 3, n), rng.integers(0, 3, n),
                                 rng.integers(0, 4, n))
        order = np.lexsort((idx, sent, para, rank))
        rank, para, sent, idx = rank[order], para[order], sent[order], idx[order]
        rank = rng.permutation(6)[rank]  # the documents' blocks in another order than their rank
        if trial % 3 == 0 and n > 1:  # sometimes not in order inside a block, or a document split
            i, j = rng.integers(0, n, 2)
            idx[i], idx[j], rank[i], rank[j] = idx[j], idx[i], rank[j], rank[i]
        for keys in ((idx, sent, para, rank), (idx, para, rank)):
            assert np.array_equal(key_order(list(keys)[::-1]), np.lexsort(keys)), trial


def test_compared_units_are_the_text_of_the_years_a_row_is_absent_from(zh_table):
    """compared_units: the characters of the counted tokens that are not breaks (made only of
    punctuation, separators or control characters) of the years before a new row's year, after a vanished row's, within the window; counted here from the
    token table directly."""
    import unicodedata

    t = zh_table[zh_table["role"] == "body"]
    per_year = {int(y): sum(len(s) for s in g if not all(unicodedata.category(c)[0] in "PZC" for c in s))
                for y, g in t.groupby("year")["text"]}
    years = sorted(per_year)
    for window in (None, 1, 2):
        df = new_formulations([zh_table], ["zh"], window=window)
        assert len(df) and set(df["status"]) == {"new", "vanished"}
        w = len(years) if window is None else window
        for r in df.itertuples():
            i = years.index(r.year)
            compared = years[max(i - w, 0):i] if r.status == "new" else years[i + 1:i + 1 + w]
            assert r.compared_units == sum(per_year[y] for y in compared), (window, r.formulation, r.status)


def test_year_candidates_depend_only_on_what_the_year_digest_reads():
    """A year's candidates (what the per-language memo keeps per year) are the same when its units'
    codes are renumbered and its paragraphs and documents renamed (their digest is the same too),
    and the digest changes with a unit, a run boundary, a clean end, a paragraph or a document."""
    from textdrift.formulations import _Thresholds, _year_candidates, _year_digest

    rng = random.Random(5)
    seqs = ["".join(rng.choice("abcab") for _ in range(rng.randint(4, 12))) for _ in range(30)]
    codes = np.array([ord(ch) for s in seqs for ch in s], dtype=np.int64)
    run = np.repeat(np.arange(len(seqs)), [len(s) for s in seqs])
    nr, n = len(seqs), len(codes)
    clean = np.array([rng.random() < 0.8 for _ in range(n)])
    para, doc = np.arange(nr) // 2, np.arange(nr) // 6

    def units(c, p, d, cs=clean, r=run):
        return Units("xx", True, c, r, cs, clean, np.full(nr, 2001), p, d, np.arange(nr))

    th = _Thresholds(2, 2, 6, 2, None)
    base = units(codes, para, doc)
    relabeled = units(codes * 7 + 1000, para * 3 + 50, 900 - doc)  # another numbering, same equalities
    assert _year_digest(base) == _year_digest(relabeled)
    got, want = _year_candidates(relabeled, th), _year_candidates(base, th)
    assert got[1] == want[1] and len(want[0]) > 0 and len(got[0]) == len(want[0])
    for a, b in zip(got[0], want[0]):
        assert a[0] == b[0] and all(np.array_equal(x, y) for x, y in zip(a[1:], b[1:]))
    one = codes.copy()
    one[3] = ord("z")
    flipped = clean.copy()
    flipped[5] = not flipped[5]
    joined = run.copy()
    joined[joined == 1] = 0
    changed = [units(one, para, doc), units(codes, para, doc, cs=flipped), units(codes, para, doc, r=joined),
               units(codes, np.arange(nr), doc), units(codes, para, np.arange(nr) // 5)]
    assert len({_year_digest(u) for u in changed} | {_year_digest(base)}) == len(changed) + 1


def _brute_candidates(codes, run, cs, ce, para, doc, th):
    """:func:`textdrift.formulations._year_candidates` by enumerating every substring of one year:
    the closed, frequent strings with clean ends and the cores of those without, as a set of
    (length, first position, count, paragraphs, documents), and the number of cores."""
    occ = {}
    for p in range(len(codes)):
        for L in range(1, th.max_length + 2):
            if p + L > len(codes) or run[p + L - 1] != run[p]:
                break
            occ.setdefault(tuple(codes[p:p + L]), []).append(p)

    def stats(g):
        ps, L = occ[g], len(g)
        ext = [occ[h] for h in occ if len(h) == L + 1 and (h[1:] == g or h[:-1] == g)]
        return (len(ps), sum(bool(cs[p] and ce[p + L - 1]) for p in ps), all(len(e) != len(ps) for e in ext),
                len({para[run[p]] for p in ps}), len({doc[run[p]] for p in ps}), ps[0])

    rows, cores = set(), set()
    for g in occ:
        if not th.min_length <= len(g) <= th.max_length:
            continue
        c, good, closed, n_p, n_d, first = stats(g)
        if c < th.min_count or not closed:
            continue
        if good >= th.min_count:
            if n_p >= th.min_paragraphs:
                rows.add((len(g), first, c, n_p, n_d))
            continue
        starts, ends = cs[first:first + len(g)], ce[first:first + len(g)]
        a = int(np.argmax(starts)) if starts.any() else len(g)
        b = len(g) - 1 - int(np.argmax(ends[::-1]))
        if ends.any() and th.min_length <= b - a + 1 < len(g):
            h = tuple(codes[first + a:first + b + 1])
            hc, hgood, hclosed, hp, hd, hfirst = stats(h)
            if hc == c and hgood >= th.min_count and not hclosed:
                cores.add(h)
                if hp >= th.min_paragraphs:
                    rows.add((len(h), hfirst, hc, hp, hd))
    return rows, len(cores)


def test_year_candidates_and_cores_match_enumeration():
    """A year's candidates, the cores of the closed strings whose ends are not clean included (looked
    up in the year's levels), are those that enumerating every substring finds."""
    from textdrift.formulations import _Thresholds, _year_candidates

    rng = random.Random(11)
    n_cores = 0
    for trial in range(12):
        seqs = ["".join(rng.choice("abcab" if trial % 2 else "abcd") for _ in range(rng.randint(3, 12)))
                for _ in range(rng.randint(10, 30))]
        codes = np.array([ord(ch) for s in seqs for ch in s], dtype=np.int64)
        run = np.repeat(np.arange(len(seqs)), [len(s) for s in seqs])
        nr = len(seqs)
        cs, ce = (np.array([rng.random() < 0.7 for _ in codes]) for _ in range(2))
        para, doc = np.arange(nr) // 2, np.arange(nr) // 5
        th = _Thresholds(2, 2, rng.choice([4, 6]), 1 + trial % 3, None)
        units = Units("xx", True, codes, run, cs, ce, np.full(nr, 2001), para, doc, np.arange(nr))
        recs, got_cores = _year_candidates(units, th)
        got = {(L, int(f), int(c), int(p), int(d)) for L, *cols in recs for f, c, p, d in zip(*cols)}
        want, want_cores = _brute_candidates(codes, run, cs, ce, para, doc, th)
        assert got == want and got_cores == want_cores, trial
        n_cores += got_cores
    assert n_cores > 0


def test_units_of_a_shard_whose_years_interleave():
    """A shard whose documents (in text order) go 2020, 2019, 2020: each year's units are its
    documents' in text order, the years one after the other."""
    from textdrift.formulations import read_all_units

    rows = []
    for doc, year, words in (("a", 2020, "x y z"), ("b", 2019, "p q"), ("c", 2020, "y z w")):
        at = 0
        for i, w in enumerate(words.split()):
            rows.append({"doc_id": doc, "year": year, "lang": "en", "para": 0, "sent": 0, "idx": at, "text": w,
                         "is_stop": False, "role": "body"})
            at += len(w) + 1
    u = read_all_units([pd.DataFrame(rows)], ["en"], [], ["body"])["en"]
    assert [u.words[c] for c in u.codes] == "p q x y z y z w".split()
    assert u.run.tolist() == [0, 0, 1, 1, 1, 2, 2, 2]
    assert u.run_year.tolist() == [2019, 2020, 2020]
    assert [u.docs[d] for d in u.run_doc] == ["b", "a", "c"]
