"""The explorer's library (textdrift.explorer), without a browser: the payload cannot break out of
its <script> element, the template is filled in one pass, the vendored scripts are the pinned
ones, and the term index counts exactly what the year matrices count, with sentences whose
highlighted span is the term. The browser test is tests/test_explorer_browser.py."""

import hashlib
import json
import re

import pandas as pd

from textdrift.explorer import ASSETS, embed_json, render_html, sentence_frame, term_payload
from textdrift.vectorize import year_matrix

HOSTILE = 'a </script><script>alert(1)</script> <!-- b --> <img src=x onerror="alert(2)"> & \u2028'


def test_embedded_json_cannot_end_its_script_element():
    text = embed_json({"t": HOSTILE, "n": [1, 2.5, None]})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"t": HOSTILE, "n": [1, 2.5, None]}


def test_page_is_filled_in_one_pass_and_loads_nothing(tmp_path):
    page = render_html({"meta": {"x": "{{script}} {{vendor}}"}, "text": HOSTILE})
    # a placeholder inside the payload stays text, the real ones are filled exactly once
    assert "{{script}} {{vendor}}" in page and page.count('<script type="application/json"') == 1
    payload = re.search(r'<script type="application/json" id="payload">(.*?)</script>', page, re.S).group(1)
    assert json.loads(payload)["text"] == HOSTILE
    assert page.count("<script") == 4  # the payload, vega, vega-lite, the page's own script
    # no address the browser could load: no src/href attributes, a CSP that forbids every fetch
    assert not re.search(r"<(script|link|img|iframe)[^>]*\s(src|href)=", page)
    assert "default-src 'none'" in page and "connect-src 'none'" in page


def test_vendored_scripts_are_the_pinned_ones():
    table = (ASSETS / "vendor" / "README.md").read_text(encoding="utf-8")
    for name in ("vega.min.js", "vega-lite.min.js"):
        digest = hashlib.sha256((ASSETS / "vendor" / name).read_bytes()).hexdigest()
        assert f"`{name}`" in table and digest in table, name
    assert (ASSETS / "vendor" / "LICENSE-vega").exists() and (ASSETS / "vendor" / "LICENSE-vega-lite").exists()


def _tokens(rows):
    """A token table from (doc_id, year, para, sent, [(text, norm, keep, is_punct)])."""
    out, end = [], {}
    for doc, year, para, sent, toks in rows:
        pos = end.get((doc, para), 0)  # where the paragraph's text so far ends
        for text, norm, keep, punct in toks:
            idx = pos + (0 if punct or pos == 0 else 1)  # one space before a word
            out.append(dict(doc_id=doc, year=year, lang="en", para=para, sent=sent, idx=idx, text=text, norm=norm,
                            lemma=norm, is_stop=not keep and not punct, is_punct=punct, keep=keep, role="body",
                            entity=None))
            pos = idx + len(text)
        end[(doc, para)] = pos
    return pd.DataFrame(out)


def w(text, norm=None, keep=True):
    return (text, norm or text.lower(), keep, False)


P = (".", ".", False, True)
ROWS = [
    ("d1", 2020, 0, 0, [w("Digital"), w("economies", "economy"), w("grow"), P]),
    ("d1", 2020, 0, 1, [w("The", keep=False), w("digital"), w("economy"), w("grows", "grow"), P]),
    ("d2", 2021, 0, 0, [w("Digital"), w("trade"), w("and", keep=False), w("digital"), w("economy"), P]),
    ("d2", 2021, 1, 2, [w("Trade"), w("grows", "grow"), P]),
]


def test_term_index_counts_what_the_year_matrix_counts_with_its_sentences():
    tokens = _tokens(ROWS)
    m = year_matrix(tokens, "en")
    T = term_payload(tokens, m, "en", {"d1": 0, "d2": 1}, max_terms=100, min_count=1, per_cell=9,
                     seed=1)
    assert T["years"] == [2020, 2021] and T["tokens"] == m.rows["tokens"].tolist()
    X = m.X.toarray()
    for i, term in enumerate(T["terms"]):
        j = list(m.vocab).index(term)
        pairs = list(zip(T["stats"][i][::2], T["stats"][i][1::2]))
        assert set(pairs) == {(y, int(X[y, j])) for y in range(2) if X[y, j]}
        for yi, c in pairs:
            (_, rate, lo, hi), = [r for r in T["rates"][yi] if r[0] == c]
            assert abs(rate - c / T["tokens"][yi] * 1e4) < 1e-3 * rate and lo <= rate <= hi
        for yi, sid, a, b in T["ctx"][i]:  # every sentence shown holds the term at the highlighted span
            text = T["sentences"][sid][2]
            lemma = {"economies": "economy", "grows": "grow"}
            assert " ".join(lemma.get(x, x) for x in text[a:b].lower().split()) == term
    de = T["terms"].index("digital economy")
    assert sorted(c[0] for c in T["ctx"][de]) == [0, 0, 1] and T["stats"][de] == [0, 2, 1, 1]
    assert all(r[0] == 0 and r[1] == 0 and r[3] > 0 for r in (y[0] for y in T["rates"]))  # a year without it
    # a gap (a removed word) breaks an n-gram: "trade digital" is not counted, "digital trade" is
    assert "trade digital" not in T["terms"] and "digital trade" in T["terms"]
    assert T["surface"]["economies"] == "economy" and T["surface"]["grows"] == "grow"
    assert {T["sentences"][c[1]][2] for c in T["ctx"][de]} == {
        "Digital economies grow.", "The digital economy grows.", "Digital trade and digital economy."}


def test_term_index_caps_and_keeps_extra_terms():
    tokens = _tokens(ROWS)
    m = year_matrix(tokens, "en")
    T = term_payload(tokens, m, "en", {"d1": 0, "d2": 1}, max_terms=2, min_count=1, per_cell=1,
                     extra_terms=["trade grow"], phrase_years=[("digital economy", 2020)], phrase_contexts=2, seed=3)
    assert len(T["terms"]) == 3 and "trade grow" in T["terms"]
    ctx = dict(zip(T["terms"], T["ctx"]))
    assert len(ctx["trade grow"]) == 1 and len(ctx["digital"]) == 1
    # a phrase of the Phrases view: its own sentences in its step's year, besides the one per term
    assert sorted(c[0] for c in ctx["digital economy"]) in ([0, 0], [0, 0, 1])


def test_sentence_offsets_follow_the_text():
    t = sentence_frame(_tokens(ROWS))
    s = t[t["sid"] == 1]
    text = "".join((" " if g else "") + x for g, x in zip(s["gap"], s["text"]))
    assert text == "The digital economy grows."
    assert [text[a:b] for a, b in zip(s["off"], s["end"])] == s["text"].tolist()
