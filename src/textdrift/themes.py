"""Theme frequencies: a bilingual codebook of terms, counted per year and language, with intervals.

Codebook
--------
``config/themes.yaml`` lists themes; each has an ``id`` (snake_case), labels ``label_<lang>``
(``label_en`` required) and, per language, a list of terms under the language code (``en``,
``zh``, ...). :func:`load_codebook` validates it against ``workflow/schemas/themes.schema.yaml``
(JSON Schema) plus two checks a schema cannot express (unique ids, lower-case terms); every
error names the theme id and the field.

Matching
--------
Terms are matched against the token ``norm`` (lower-cased lemma for English, the Simplified
word for Chinese), so they are written as the segmenter normalises them ("country", not
"countries"; the lookup lemmatizer turns "shared" into "share" and "building" into "build":
globs such as "share*" absorb such quirks).

* **Where.** A term is matched inside one *segment*: a run of consecutive non-punctuation
  tokens of one sentence (:func:`textdrift.vectorize.segments`). Stop words stay in the run,
  so "community with a shared future" matches; a match never crosses a sentence end or a
  punctuation token (a comma, a quote, a Chinese enumeration comma 、), as n-grams in
  ``vectorize`` never do.
* **Spaced languages** (English, ...): a term is one or more words separated by one space and
  matches that many consecutive tokens, word by word. A word may be a glob (``*``, ``?``,
  ``[...]``, :func:`fnmatch.fnmatchcase`): "cyber*" matches "cybersecurity", "cybercrime";
  "digiti?ation" matches "digitisation" and "digitization"; "unite* nation" matches "unite
  nation".
* **Unspaced languages** (``unspaced_languages``, default zh and ja): jieba may cut a term
  differently from how it is written (数字经济 as 数字 + 经济, or as one word from the user
  dictionary), so a term (spaces removed) matches the *concatenated characters* of one or
  more consecutive tokens, **aligned to token boundaries**: the match starts at the start of
  a token and ends at the end of a token. Tokens 数字 + 经济 match 数字经济, but 经济 does
  **not** match inside the single token 数字经济 (nor 合作 inside 数字合作): a word is never
  split. A glob term matches one token: "*合作" matches 数字合作, 南南合作 and 合作.
* **Counting.** Every match counts once, whatever its length in tokens. Within one theme,
  overlapping matches are resolved greedily: the longest match (in tokens) first, then the
  leftmost, then a plain term before a glob, then the term listed first in the codebook; a
  match overlapping an accepted one is dropped. So "cross-border data flow" counts once, not also as "data flow". Different
  themes are resolved independently: one span can count for two themes.

Frequencies
-----------
For each (year, language) with text, all documents pooled, and each theme:
``count`` = number of matches; ``tokens`` = number of ``keep`` tokens (not stop word,
punctuation or number: the denominator of ``vectorize``'s ``rows.tokens``);
``per_10k = count / tokens * 10000``. Every (year, language, theme) gets a row, zeros included;
a (year, language) without text gets none.

Intervals (``ci``), at confidence ``conf`` (``alpha = 1 - conf``):

* ``"poisson"`` (default): the exact Poisson interval for the count (Garwood 1936), divided by
  ``tokens`` and multiplied by 10,000::

      lower(k) = chi2.ppf(alpha / 2, 2k) / 2          (0 when k = 0)
      upper(k) = chi2.ppf(1 - alpha / 2, 2k + 2) / 2

  e.g. at 95 %: k = 0 -> [0, 3.689]; k = 1 -> [0.0253, 5.572]; k = 10 -> [4.795, 18.39].
  It treats occurrences as independent; repeated terms in one paragraph make it too narrow.
* ``"bootstrap"`` (the config's default): the units mentions cluster in, the paragraphs
  (doc_id, para) of the (year, language) or its documents where it has at least
  ``min_documents`` (``unit="auto"``), are resampled with replacement ``n_boot`` times
  (``numpy.random.default_rng([seed, year, crc32(lang)])``, :func:`_bootstrap_draws`), the rate
  recomputed as (sum of counts) / (sum of keep tokens) * 10000, and the ``alpha/2`` and
  ``1 - alpha/2`` percentiles taken (Efron & Tibshirani 1993, percentile interval; cluster
  resampling: Davison & Hinkley 1997, section 3.8). With one unit the interval has zero width: it
  cannot show uncertainty it has no data for.

Year-over-year change (:func:`theme_changes`): the rate ratio of consecutive years with text,
((count_to + 0.5) / tokens_to) / ((count_from + 0.5) / tokens_from), with the percentile interval
of the same ratio over independent resamples of the two years.

Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.

KWIC
----
Every counted match is one row of the KWIC table (so the KWIC rows of a (year, language,
theme) add up to its ``count``): ``match`` is the text of the matched tokens, ``left`` and
``right`` the ``window`` tokens (punctuation included) before and after it in the same
paragraph, from the token ``text`` (the original characters). Tokens are joined as in the
clean text, from their character offsets: one space where the text had white space between
them, none otherwise (so Chinese has no spaces and English keeps its spaces).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase, translate
from pathlib import Path

import numpy as np
import pandas as pd
from textdrift.config import import_jsonschema, load_yaml, unknown_keys
from textdrift.io import read_csv, write_csv, write_csv_batches, write_parquet
from textdrift.vectorize import ENTITY_HEAD, load_tokens, segments

log = logging.getLogger("textdrift.themes")

DEFAULT_SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "themes.schema.yaml"
FREQ_COLUMNS = ["year", "lang", "theme", "count", "tokens", "per_10k", "ci_low", "ci_high", "ci_method", "ci_units"]
CHANGE_COLUMNS = ["lang", "theme", "year_from", "year_to", "count_from", "count_to", "tokens_from", "tokens_to",
                  "per_10k_from", "per_10k_to", "rate_ratio", "ci_low", "ci_high", "ci_method", "low_data"]
BOOTSTRAP_UNITS = ("auto", "paragraph", "document")
MATCH_COLUMNS = [
    "doc_id", "year", "lang", "theme", "term", "para", "sent", "role", "start_idx", "end_idx", "left", "match", "right",
]
# kind: "theme" (theme = a codebook theme id) or "entity" (theme = an entity id, term = its @id)
KWIC_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "role", "kind", "theme", "term", "left", "match", "right"]
ENTITY_FREQ_COLUMNS = ["year", "lang", "entity", "count", "tokens", "per_10k", "ci_low", "ci_high"]
UNMATCHED_COLUMNS = ["theme", "lang", "term"]
# token columns that matching (and the kept-token denominators) need: the rules read only these
TOKEN_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "idx", "text", "norm", "is_punct", "keep", "role", "entity"]
from textdrift.config import UNSPACED_LANGUAGES as UNSPACED  # noqa: E402  (one definition: the config schema)
GLOB_CHARS = "*?["
LANG_KEY = re.compile(r"^(?!id$)[a-z]{2,3}$")
LABEL_KEY = re.compile(r"^label_([a-z]{2,3})$")


@dataclass(frozen=True)
class Theme:
    """One codebook theme: ``labels`` and ``terms`` are keyed by language code."""

    id: str
    labels: dict[str, str]
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: ids of named entities (config/entities.yaml) whose mentions count for this theme on purpose
    entities: tuple[str, ...] = ()
    #: context rules, {lang: {term: Rule}} (a term absent here has none)
    rules: dict[str, dict[str, "Rule"]] = field(default_factory=dict)
    #: translation pairs: ({lang: (terms ...)}, note) per pair
    pairs: tuple[tuple[dict[str, tuple[str, ...]], str], ...] = ()
    #: terms in no pair: (lang, term, why)
    unpaired: tuple[tuple[str, str, str], ...] = ()

    def label(self, lang: str) -> str:
        """The label in ``lang``, else the English label."""
        return self.labels.get(lang, self.labels["en"])


@dataclass(frozen=True)
class Rule:
    """A term's context rules (codebook ``{term, exclude, near, window}``): the match is dropped
    when it lies inside an occurrence of an ``exclude`` phrase, or when ``near`` is given and none
    of its words occurs within ``window`` words on either side in the same sentence."""

    exclude: tuple[str, ...] = ()
    near: tuple[str, ...] = ()
    window: int = 0


class CodebookError(ValueError):
    """The codebook is invalid; the message lists every problem with its theme id and field."""


# ---- codebook -----------------------------------------------------------------------------


def _theme_ref(data, i) -> str:
    themes = data.get("themes") if isinstance(data, dict) else None
    tid = themes[i].get("id") if isinstance(themes, list) and isinstance(themes[i], dict) else None
    return f"theme {tid!r} (themes[{i}])" if tid else f"theme themes[{i}]"


def _error_message(error, data) -> str:
    if error.validator == "oneOf" and error.context:
        # a term is a string or a {term, exclude, near, window} mapping: report the branch it meant
        branch = 0 if isinstance(error.instance, str) else 1
        subs = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == branch]
        if subs:
            return _error_message(subs[0], data)
    path = list(error.absolute_path)
    if len(path) < 2 or path[0] != "themes":
        return f"field {'.'.join(map(str, path)) or '(top level)'}: {error.message}"
    where = _theme_ref(data, path[1])
    if len(path) > 2:
        fld = str(path[2]) + "".join(f"[{p}]" for p in path[3:])
    elif error.validator == "required":
        fld = ", ".join(k for k in error.validator_value if k not in error.instance)
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return "\n  ".join(f"{where}, field {k!r}: {why}" for k, why in unknown_keys(error))
    else:
        fld = "(theme)"
    hint = ""
    if error.validator == "pattern" and len(path) > 2 and path[2] != "id":
        hint = " (a term is lower-case words separated by single spaces)"
    elif error.validator == "pattern":
        hint = " (an id is snake_case: a-z, 0-9, single underscores)"
    return f"{where}, field {fld!r}: {error.message}{hint}"


def parse_codebook(data: dict, schema_path: str | Path | None = None, source: str = "codebook") -> list[Theme]:
    """Validate a codebook already read into Python (e.g. edited in a notebook) and build its themes."""
    schema = load_yaml(schema_path or DEFAULT_SCHEMA)
    validator = import_jsonschema().Draft202012Validator(schema)
    problems = [_error_message(e, data) for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]
    if not problems:
        seen: dict[str, int] = {}
        for i, raw in enumerate(data["themes"]):
            if raw["id"] in seen:
                problems.append(f"{_theme_ref(data, i)}, field 'id': duplicate of themes[{seen[raw['id']]}]")
            seen.setdefault(raw["id"], i)
            problems += _term_problems(raw, _theme_ref(data, i))
    if problems:
        raise CodebookError(f"{source}: invalid theme codebook:\n  " + "\n  ".join(problems))
    themes = []
    for raw in data["themes"]:
        labels = {m.group(1): v for k, v in raw.items() if (m := LABEL_KEY.match(k))}
        terms = {k: tuple(_term_text(t) for t in v) for k, v in raw.items() if LANG_KEY.match(k)}
        rules = {k: {t["term"]: Rule(tuple(t.get("exclude", ())), tuple(t.get("near", ())), int(t.get("window", 0)))
                     for t in v if isinstance(t, dict) and (t.get("exclude") or t.get("near"))}
                 for k, v in raw.items() if LANG_KEY.match(k)}
        pairs = tuple(({k: tuple(v) for k, v in pair.items() if k != "note"}, pair.get("note", ""))
                      for pair in raw.get("pairs", ()))
        unpaired = tuple((u["lang"], u["term"], u["why"]) for u in raw.get("unpaired", ()))
        themes.append(Theme(raw["id"], labels, terms, tuple(raw.get("entities", ())),
                            {k: v for k, v in rules.items() if v}, pairs, unpaired))
    return themes


def _term_text(item) -> str:
    """A codebook list item's term: the string itself or the ``term`` of a rule mapping."""
    return item["term"] if isinstance(item, dict) else item


def _term_problems(raw: dict, where: str) -> list[str]:
    """Checks beyond the schema on one theme: lower-case terms, duplicate terms, near without
    window, and pairs / unpaired that name the theme's own terms (each term once, all terms placed
    when the theme declares pairs)."""
    problems = []
    langs = {k: [_term_text(t) for t in v] for k, v in raw.items() if LANG_KEY.match(k)}
    for lang, items in ((k, v) for k, v in raw.items() if LANG_KEY.match(k)):
        for j, item in enumerate(items):
            words = [_term_text(item), *(item.get("exclude", ()) if isinstance(item, dict) else ())]
            for term in words:
                if term != term.lower():
                    problems.append(f"{where}, field '{lang}[{j}]': {term!r} is not lower-case "
                                    f"(token norms are lower-cased: write {term.lower()!r})")
            if isinstance(item, dict) and item.get("near") and not item.get("window"):
                problems.append(f"{where}, field '{lang}[{j}]': near needs a window (words on each side)")
        for term in sorted({t for t in langs[lang] if langs[lang].count(t) > 1}):
            problems.append(f"{where}, field '{lang}': {term!r} is listed twice")
    placed: dict[tuple[str, str], str] = {}
    for j, pair in enumerate(raw.get("pairs", ())):
        for lang, terms in ((k, v) for k, v in pair.items() if k != "note"):
            for term in terms:
                if term not in langs.get(lang, ()):
                    problems.append(f"{where}, field 'pairs[{j}].{lang}': {term!r} is not one of the theme's "
                                    f"{lang} terms (write it exactly as in the list)")
                elif (lang, term) in placed:
                    problems.append(f"{where}, field 'pairs[{j}].{lang}': {term!r} is already in {placed[(lang, term)]}")
                placed.setdefault((lang, term), f"pairs[{j}]")
    for j, u in enumerate(raw.get("unpaired", ())):
        if u["term"] not in langs.get(u["lang"], ()):
            problems.append(f"{where}, field 'unpaired[{j}]': {u['term']!r} is not one of the theme's {u['lang']} terms")
        elif (u["lang"], u["term"]) in placed:
            problems.append(f"{where}, field 'unpaired[{j}]': {u['term']!r} is already in {placed[(u['lang'], u['term'])]}")
        placed.setdefault((u["lang"], u["term"]), f"unpaired[{j}]")
    if raw.get("pairs"):
        missing = [f"{t} [{lang}]" for lang, terms in langs.items() for t in terms if (lang, t) not in placed]
        if missing:
            problems.append(f"{where}, field 'pairs': a theme with pairs places every term in a pair or under "
                            f"unpaired (with why); not placed: {', '.join(missing)}")
    return problems


def load_codebook(path: str | Path, schema_path: str | Path | None = None, entities=None) -> list[Theme]:
    """Read and validate a YAML codebook (default schema: ``workflow/schemas/themes.schema.yaml``);
    with ``entities`` (:func:`textdrift.entities.load_entities`), also that every entity a theme
    lists exists."""
    data = load_yaml(path)
    codebook = parse_codebook(data, schema_path, source=str(path))
    if entities is not None:
        check_members(codebook, entities, source=str(path))
    return codebook


def codebook_hash(path: str | Path) -> str:
    """The codebook's version (the ``codebook`` column of theme_frequencies.csv, theme_changes.csv
    and codebook_precision.csv; it names the validation samples): the first 12 hex digits of the
    SHA-256 of its content as canonical JSON (keys sorted, UTF-8) without the explanatory text
    (``description``, ``why``, ``note``), so that editing a comment, an explanation or the layout
    does not make a new version, and any change to a term, rule, pair, label or theme does."""
    import hashlib
    import json

    def instrument(x):  # the text that explains (description, why, note) is not the instrument
        if isinstance(x, dict):
            return {k: instrument(v) for k, v in x.items() if k not in ("description", "why", "note")}
        return [instrument(v) for v in x] if isinstance(x, list) else x

    text = json.dumps(instrument(load_yaml(path)), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def check_members(codebook: list[Theme], entities, source: str = "codebook") -> None:
    """Every entity id listed under a theme's ``entities`` is in the entity list."""
    known = {e.id for e in entities}
    problems = [f"theme {t.id!r}, field 'entities': {e!r} is not an entity of the entity list"
                + (f" (known: {', '.join(sorted(known))})" if len(known) <= 60 else "")
                for t in codebook for e in t.entities if e not in known]
    if problems:
        raise CodebookError(f"{source}: invalid theme codebook:\n  " + "\n  ".join(problems))


def entity_codebook(entities, languages) -> list[Theme]:
    """The entities as a codebook: one "theme" per entity whose one term in every language is its
    ``@id`` token, so that entity mentions are counted and put in context like theme matches."""
    return [Theme(e.id, dict(e.labels) or {"en": e.id}, {lang: (e.norm,) for lang in languages}) for e in entities]


# ---- matching -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    theme: str
    text: str  # as written in the codebook
    order: int  # position in the theme's list (tie-break)
    parts: tuple[str, ...]  # spaced: the words; unspaced: one string (spaces removed)
    glob: bool
    rule: Rule | None = None  # context rules (exclude, near)


def _compile(codebook: list[Theme], lang: str, unspaced: bool) -> list[_Term]:
    out = []
    for theme in codebook:
        terms = theme.terms.get(lang, ())
        rules = theme.rules.get(lang, {})
        for order, text in enumerate(terms):
            out.append(_Term(theme.id, text, order, _parts(text, unspaced), any(c in text for c in GLOB_CHARS),
                             rules.get(text)))
        for k, eid in enumerate(theme.entities):  # an entity member matches its head token, @id
            out.append(_Term(theme.id, ENTITY_HEAD + eid, len(terms) + k, (ENTITY_HEAD + eid,), False))
    return out


def _parts(text: str, unspaced: bool) -> tuple[str, ...]:
    return (text.replace(" ", ""),) if unspaced else tuple(text.split(" "))


def _context_rules(by_theme: dict, terms: list[_Term], norms: np.ndarray, seg: np.ndarray, sent: np.ndarray,
                   unspaced: bool) -> dict:
    """Candidates (p, q, term index per theme, over the words) without those a term's context
    rule drops: a match inside an occurrence of one of its ``exclude`` phrases (found by the same
    matcher: :func:`_candidate_arrays`), or, with ``near``, a match with none of the near words
    within ``window`` words before or after it in the same sentence (``sent``: sentence id of
    every word). Spaced languages: a near word is one norm (glob allowed); unspaced ones: the
    characters of one to four consecutive tokens."""
    ruled = [i for i, t in enumerate(terms) if t.rule is not None]
    if not ruled:
        return by_theme
    ex_terms = [_Term(str(i), e, 0, _parts(e, unspaced), any(c in e for c in GLOB_CHARS))
                for i in ruled for e in terms[i].rule.exclude]
    spans = _candidate_arrays(ex_terms, norms, seg, unspaced) if ex_terms else {}
    for key, (ep, eq, _) in list(spans.items()):  # per ruled term: starts sorted, the farthest end so far
        order = np.argsort(ep, kind="stable")
        spans[key] = (ep[order], np.maximum.accumulate(eq[order]))
    n = len(norms)
    out = {}
    for theme, (p, q, ti) in by_theme.items():
        keep = np.ones(len(p), dtype=bool)
        for i in np.unique(ti):
            rule = terms[i].rule
            if rule is None:
                continue
            sel = np.flatnonzero(ti == i)
            if str(i) in spans:
                ep, far = spans[str(i)]
                k = np.searchsorted(ep, p[sel], side="right") - 1
                keep[sel[(k >= 0) & (far[np.maximum(k, 0)] >= q[sel])]] = False
            if rule.near:
                pats = [(pat, any(c in pat for c in GLOB_CHARS)) for pat in rule.near]

                def hit(word: str) -> bool:
                    return any(fnmatchcase(word, pat) if g else word == pat for pat, g in pats)
                for j in sel[keep[sel]]:
                    a, b = int(p[j]), int(q[j])
                    left = [x for x in range(max(0, a - rule.window), a) if sent[x] == sent[a]]
                    right = [x for x in range(b + 1, min(n, b + 1 + rule.window)) if sent[x] == sent[b]]
                    if unspaced:
                        found = any(hit("".join(norms[side[u]:side[u] + m]))
                                    for side in (left, right) for u in range(len(side))
                                    for m in range(1, min(4, len(side) - u) + 1))
                    else:
                        found = any(hit(norms[x]) for x in left + right)
                    keep[j] = found
        if keep.any():
            out[theme] = (p[keep], q[keep], ti[keep])
    return out


def _word_match(pattern: str, word: str) -> bool:
    return fnmatchcase(word, pattern) if any(c in pattern for c in GLOB_CHARS) else word == pattern


def _starters(terms: list[_Term], vocab: set[str], unspaced: bool) -> dict[str, list[_Term]]:
    """For each norm of the vocabulary, the terms whose match can start with it."""
    exact: dict[str, list[_Term]] = {}
    globs = []
    for t in terms:
        if unspaced and not t.glob:
            s = t.parts[0]
            for k in range(1, len(s) + 1):  # a match starts with a token that is a prefix of the term
                exact.setdefault(s[:k], []).append(t)
        elif not unspaced and not any(c in t.parts[0] for c in GLOB_CHARS):
            exact.setdefault(t.parts[0], []).append(t)
        else:
            globs.append(t)
    out = {}
    for w in vocab:
        cands = exact.get(w, []) + [t for t in globs if fnmatchcase(w, t.parts[0])]
        if cands:
            out[w] = cands
    return out


def _match_end(term: _Term, p: int, norms: np.ndarray, seg: np.ndarray, unspaced: bool) -> int | None:
    """Index of the last token of a match of ``term`` starting at token ``p``, or None."""
    n = len(norms)
    if unspaced:
        if term.glob:
            return p  # the starter lookup already checked the one token
        target, acc, q = term.parts[0], norms[p], p
        while len(acc) < len(target):
            q += 1
            if q >= n or seg[q] != seg[p]:
                return None
            acc += norms[q]
            if not target.startswith(acc):
                return None
        return q if acc == target else None
    q = p + len(term.parts) - 1
    if q >= n or seg[q] != seg[p]:
        return None
    ok = all(_word_match(pat, norms[p + i]) for i, pat in enumerate(term.parts[1:], 1))
    return q if ok else None


def _resolve(cands: list[tuple[int, int, _Term]]) -> list[tuple[int, int, _Term]]:
    """Greedy overlap resolution within one theme: longest, leftmost, plain before glob, codebook order."""
    taken: set[int] = set()
    kept = []
    for p, q, t in sorted(cands, key=lambda c: (c[0] - c[1], c[0], c[2].glob, c[2].order)):
        span = range(p, q + 1)
        if not taken.intersection(span):
            taken.update(span)
            kept.append((p, q, t))
    return sorted(kept, key=lambda c: c[0])


def _candidates(terms: list[_Term], norms: np.ndarray, seg: np.ndarray, unspaced: bool) -> dict[str, list]:
    """Every match (p, q, term) of every term, by theme: the candidates of :func:`_resolve`.

    The same matches as :func:`_starters` + :func:`_match_end` token by token, found with array
    operations (:func:`_candidate_arrays`).
    """
    return {
        theme: [(a, b, terms[i]) for a, b, i in zip(p.tolist(), q.tolist(), ti.tolist())]
        for theme, (p, q, ti) in _candidate_arrays(terms, norms, seg, unspaced).items()
    }


def _candidate_arrays(terms: list[_Term], norms: np.ndarray, seg: np.ndarray, unspaced: bool) -> dict[str, tuple]:
    """:func:`_candidates` as arrays: theme -> (p, q, index of the term in ``terms``), int64 each.

    Each word of a term is turned into the codes of the vocabulary words it matches, and a term
    of k words matches at p when the codes at p .. p + k - 1 are in those sets and p and
    p + k - 1 are in one segment (segment ids never decrease). An unspaced plain term is tried
    as each way of cutting it into vocabulary words.
    """
    if unspaced and "" in set(norms):  # an empty token could end a cut anywhere: token by token
        index = {t: i for i, t in enumerate(terms)}
        return {
            theme: (np.array([c[0] for c in cands], dtype=np.int64), np.array([c[1] for c in cands], dtype=np.int64),
                    np.array([index[c[2]] for c in cands], dtype=np.int64))
            for theme, cands in _candidates_loop(terms, norms, seg, unspaced).items()
        }
    n = len(norms)
    codes, vocab = pd.factorize(pd.Series(norms, dtype=object))
    vocab = pd.Series(np.asarray(vocab, dtype=object), dtype=object)
    lookup = {w: i for i, w in enumerate(vocab)}
    by_code = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[by_code], np.arange(len(vocab) + 1))
    cache: dict[str, np.ndarray] = {}

    def word_codes(pattern: str) -> np.ndarray:  # codes of the vocabulary words that _word_match(pattern, .)
        if pattern not in cache:
            if any(c in pattern for c in GLOB_CHARS):
                hit = vocab.map(re.compile(translate(pattern)).match).notna().to_numpy(bool) if len(vocab) else []
                cache[pattern] = np.flatnonzero(hit)
            else:
                cache[pattern] = np.array([lookup[pattern]] if pattern in lookup else [], dtype=np.int64)
        return cache[pattern]

    def cuts(s: str) -> list[list[str]]:
        return [[s[:k], *rest] for k in range(1, len(s) + 1) if s[:k] in lookup for rest in cuts(s[k:])] if s else [[]]

    parts: dict[str, list] = {}
    for ti, t in enumerate(terms):
        if unspaced and t.glob:
            ways = [[word_codes(t.parts[0])]]
        elif unspaced:
            ways = [[word_codes(w) for w in cut] for cut in cuts(t.parts[0])]
        else:
            ways = [[word_codes(w) for w in t.parts]]
        for way in ways:
            if not all(len(c) for c in way):
                continue
            p = np.concatenate([by_code[bounds[c]:bounds[c + 1]] for c in way[0]])
            k = len(way)
            p = p[p + k - 1 < n]
            ok = seg[p + k - 1] == seg[p]
            for i in range(1, k):
                ok &= np.isin(codes[p + i], way[i])
            p = np.sort(p[ok]).astype(np.int64)
            if len(p):
                parts.setdefault(t.theme, []).append((p, p + (k - 1), np.full(len(p), ti, dtype=np.int64)))
    return {theme: tuple(np.concatenate(col) for col in zip(*chunks)) for theme, chunks in parts.items()}


def _resolve_arrays(p: np.ndarray, q: np.ndarray, ti: np.ndarray, terms: list[_Term], max_rounds: int = 32) -> np.ndarray:
    """:func:`_resolve` on arrays (the candidates of one theme: starts, ends, indices in ``terms``):
    the positions of the kept candidates, by start.

    A candidate that overlaps no other candidate of the theme is kept whatever the greedy order.
    The others are resolved in rounds: a candidate that comes first in the greedy order among
    the live candidates it overlaps is kept (the greedy pass would keep it too: every candidate
    before it that overlaps it has been dropped), and the candidates it overlaps are dropped.
    After ``max_rounds`` (long chains of overlaps) the rest goes through :func:`_resolve`.
    """
    o = np.lexsort((q, p))  # by start, then end
    ps, qs = p[o], q[o]
    alone = np.ones(len(o), dtype=bool)  # overlaps neither the candidate before nor the one after
    if len(o) > 1:
        reach = np.maximum.accumulate(qs)
        alone[1:] &= ps[1:] > reach[:-1]
        alone[:-1] &= ps[1:] > reach[:-1]
    if alone.all():
        return o
    m = o[~alone]
    P, Q, T = ps[~alone], qs[~alone], ti[m]
    glob = np.array([t.glob for t in terms], dtype=bool)[T]
    rank = np.empty(len(m), dtype=np.int64)  # position in the greedy order
    rank[np.lexsort((np.array([t.order for t in terms], dtype=np.int64)[T], glob, P, P - Q))] = np.arange(len(m))
    # overlapping pairs i < j (by start): P[j] <= Q[i], both ways
    stop = np.searchsorted(P, Q, side="right")
    count = stop - np.arange(len(m)) - 1
    first = np.repeat(np.arange(len(m)), count)
    second = first + 1 + np.arange(len(first)) - np.repeat(np.cumsum(count) - count, count)
    first, second = np.concatenate([first, second]), np.concatenate([second, first])
    alive, kept = np.ones(len(m), dtype=bool), np.zeros(len(m), dtype=bool)
    for _ in range(max_rounds):
        live = alive[first] & alive[second]
        first, second = first[live], second[live]
        best = np.full(len(m), len(m), dtype=np.int64)
        np.minimum.at(best, first, rank[second])
        win = alive & (rank < best)
        kept |= win
        alive[win] = False
        alive[second[win[first]]] = False
        if not alive.any():
            break
    else:
        rest = np.flatnonzero(alive)
        at = {(a, b, i): r for a, b, i, r in zip(P[rest].tolist(), Q[rest].tolist(), T[rest].tolist(), rest.tolist())}
        index = {t: i for i, t in enumerate(terms)}
        for a, b, t in _resolve([(a, b, terms[i]) for a, b, i in at]):
            kept[at[(a, b, index[t])]] = True
    out = np.concatenate([o[alone], m[kept]])
    return out[np.argsort(p[out], kind="stable")]


def _candidates_loop(terms: list[_Term], norms: np.ndarray, seg: np.ndarray, unspaced: bool) -> dict[str, list]:
    """:func:`_candidates` token by token (the reference implementation)."""
    starters = _starters(terms, set(norms), unspaced)
    by_theme: dict[str, list] = {}
    for p in np.flatnonzero([w in starters for w in norms]):
        for t in starters[norms[p]]:
            q = _match_end(t, p, norms, seg, unspaced)
            if q is not None:
                by_theme.setdefault(t.theme, []).append((int(p), q, t))
    return by_theme


def _token_order(tokens: pd.DataFrame) -> np.ndarray | None:
    """The stable sort of the rows by (doc_id, para, idx), or None when they are in that order.

    Shortcut for the usual layout (each document one block of rows, in (para, idx) order): only
    the blocks are sorted.
    """
    doc_codes = pd.factorize(tokens["doc_id"], sort=True)[0]
    para, idx = tokens["para"].to_numpy(), tokens["idx"].to_numpy()
    n = len(doc_codes)
    if n < 2:
        return None
    same = doc_codes[1:] == doc_codes[:-1]
    in_order = ~same | (para[1:] > para[:-1]) | ((para[1:] == para[:-1]) & (idx[1:] >= idx[:-1]))
    heads = np.flatnonzero(np.concatenate([[True], ~same]))
    block_docs = doc_codes[heads]
    if in_order.all() and len(np.unique(block_docs)) == len(block_docs):
        if (block_docs[1:] > block_docs[:-1]).all():
            return None
        lengths = np.diff(np.append(heads, n))
        blocks = np.argsort(block_docs, kind="stable")
        lens = lengths[blocks]
        return np.repeat(heads[blocks] - (np.cumsum(lens) - lens), lens) + np.arange(n)
    order = np.lexsort((idx, para, doc_codes))
    return None if (order == np.arange(n)).all() else order


def _entity_rule(by_theme: dict, terms: list[_Term], tokens: pd.DataFrame, words: np.ndarray,
                 norms: np.ndarray) -> dict:
    """Candidates (p, q, term index per theme, over ``words``) under the entity rule: a match that
    touches a token of a named-entity mention is dropped, except an entity-member term (``@id``),
    whose match is widened to the whole mention (for its KWIC ``match``)."""
    if "entity" not in tokens.columns:
        return by_theme
    in_ent = tokens["entity"].notna().to_numpy()[words]
    if not in_ent.any():
        return by_theme
    head = np.fromiter((isinstance(w, str) and w.startswith(ENTITY_HEAD) for w in norms), bool, len(norms))
    # mention end of every head: the last word of the run of entity tokens that starts at it
    span = np.cumsum(head)
    end = np.full(span[-1] + 1, -1, dtype=np.int64)
    np.maximum.at(end, span[in_ent], np.flatnonzero(in_ent))
    touched = np.concatenate([[0], np.cumsum(in_ent)])
    member = np.array([t.parts[0].startswith(ENTITY_HEAD) for t in terms], dtype=bool)
    out = {}
    for theme, (p, q, ti) in by_theme.items():
        is_member = member[ti]
        q = np.where(is_member, end[span[p]], q)
        ok = is_member | (touched[q + 1] - touched[p] == 0)
        if ok.any():
            out[theme] = (p[ok], q[ok], ti[ok])
    return out


def _match_lang(tokens: pd.DataFrame, terms: list[_Term], window: int, unspaced: bool) -> dict[str, np.ndarray | list]:
    """The counted matches of ``terms`` in the tokens of one language: column (``MATCH_COLUMNS``)
    -> values (an array or a list), theme by theme, each theme's by start."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # stable sort by doc_id, para, idx, without a copy of the table when it is already in that order
    order = _token_order(tokens)
    tokens = tokens.reset_index(drop=True) if order is None else tokens.take(order).reset_index(drop=True)
    seg_all = segments(tokens).to_numpy()
    words = np.flatnonzero(~tokens["is_punct"].to_numpy())  # row of each non-punctuation token
    norms = tokens["norm"].to_numpy(dtype=object)[words]
    seg = seg_all[words]
    by_theme = _candidate_arrays(terms, norms, seg, unspaced)
    if not by_theme:
        return {}
    if any(t.rule is not None for t in terms):  # sentence ids only for the context rules
        sentence = (tokens["doc_id"].ne(tokens["doc_id"].shift()) | tokens["para"].ne(tokens["para"].shift())
                    | tokens["sent"].ne(tokens["sent"].shift())).to_numpy().cumsum()[words]
        by_theme = _context_rules(by_theme, terms, norms, seg, sentence, unspaced)
    by_theme = _entity_rule(by_theme, terms, tokens, words, norms)
    if not by_theme:
        return {}
    n = len(tokens)
    text = pa.array(tokens["text"], type=pa.large_string())
    tlen = pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.int64)  # characters, as len()
    idx = tokens["idx"].to_numpy().astype(np.int64)
    # token i as joined after token i - 1: preceded by one space where the text had white space
    gap = np.zeros(n + 1, dtype=np.int64)  # (one more, 0, for "the token after the last")
    gap[1:n] = idx[1:] > idx[:-1] + tlen[:-1]
    space, empty = pa.scalar(" ", pa.large_string()), pa.scalar("", pa.large_string())
    spaced = pc.if_else(pa.array(gap[:n].astype(bool)), pc.binary_join_element_wise(space, text, empty), text)
    if isinstance(spaced, pa.ChunkedArray):
        spaced = spaced.combine_chunks()
    # all tokens as one string: token i at off[i]:off[i + 1] with its space, off[i] + gap[i]:off[i + 1] without
    big = pc.binary_join(pa.LargeListArray.from_arrays(pa.array([0, n], pa.int64()), spaced), empty)[0].as_py()
    off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(tlen + gap[:n], out=off[1:])
    new_para = (tokens["doc_id"].ne(tokens["doc_id"].shift()) | tokens["para"].ne(tokens["para"].shift())).to_numpy()
    starts, group = np.flatnonzero(new_para), np.cumsum(new_para) - 1
    para_start, para_end = starts[group], np.append(starts[1:], n)[group]  # end exclusive
    term_text = np.array([t.text for t in terms], dtype=object)
    themes, tis, r0s, r1s = [], [], [], []
    for theme, (p, q, ti) in by_theme.items():
        kept = _resolve_arrays(p, q, ti, terms)
        themes.append(np.full(len(kept), theme, dtype=object))
        tis.append(ti[kept])
        r0s.append(words[p[kept]])
        r1s.append(words[q[kept]])
    r0, r1 = np.concatenate(r0s).astype(np.int64), np.concatenate(r1s).astype(np.int64)
    lo, hi = np.maximum(para_start[r0], r0 - window), np.minimum(para_end[r0], r1 + 1 + window)

    def join(a, b):  # tokens a..b-1 as in the clean text: a space only where the text had one
        return [big[x:y] for x, y in zip((off[a] + gap[a]).tolist(), off[b].tolist())]
    cols = {c: tokens[c].take(r0).to_numpy(dtype=object) for c in ["doc_id", "lang"]}
    cols["role"] = (tokens["role"].take(r0).to_numpy(dtype=object) if "role" in tokens.columns
                    else np.full(len(r0), "body", dtype=object))
    cols.update({c: tokens[c].to_numpy()[r0].astype(np.int64) for c in ["year", "para", "sent"]})
    return {
        **{c: cols[c] for c in ["doc_id", "year", "lang", "para", "sent", "role"]},
        "start_idx": idx[r0],
        "theme": np.concatenate(themes),
        "term": term_text[np.concatenate(tis)],
        "end_idx": idx[r1] + tlen[r1],
        "left": join(lo, r0),
        "match": join(r0, r1 + 1),
        "right": join(r1 + 1, hi),
    }


def match_themes(
    tokens: pd.DataFrame, codebook: list[Theme], window: int = 8, unspaced_languages=UNSPACED
) -> pd.DataFrame:
    """All counted matches of the codebook's terms in the token table (columns ``MATCH_COLUMNS``).

    ``window`` is the number of tokens of KWIC context on each side; languages in
    ``unspaced_languages`` are matched on concatenated characters (see the module docstring).
    """
    cols: dict[str, list] = {c: [] for c in MATCH_COLUMNS}
    lang_codes, langs = pd.factorize(tokens["lang"], sort=True)  # the groups of groupby("lang", sort=True)
    for code, lang in enumerate(langs):
        terms = _compile(codebook, lang, lang in unspaced_languages)
        if terms:
            rows = np.flatnonzero(lang_codes == code)
            order = _token_order(tokens.iloc[rows, [tokens.columns.get_loc(c) for c in ["doc_id", "para", "idx"]]])
            part = tokens.take(rows if order is None else rows[order])  # in _match_lang's order: one copy
            for c, values in _match_lang(part, terms, window, lang in unspaced_languages).items():
                cols[c].append(np.asarray(values, dtype=object if isinstance(values, list) else None))
    if not any(len(v) for v in cols["theme"]):
        return _order_matches(pd.DataFrame([], columns=MATCH_COLUMNS), codebook)
    return _order_matches(pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()}), codebook)


def _order_matches(matches: pd.DataFrame, codebook: list[Theme]) -> pd.DataFrame:
    """Matches in table order: year, lang, theme (codebook order), doc_id, para, start_idx.

    Within one theme matches never overlap, so the key is unique: the order does not depend on
    the order the matches were found in (e.g. shard by shard).
    """
    order = {t.id: i for i, t in enumerate(codebook)}
    matches = matches.assign(_t=matches["theme"].map(order))
    return matches.sort_values(["year", "lang", "_t", "doc_id", "para", "start_idx"], kind="stable").drop(
        columns="_t").reset_index(drop=True).astype({c: "int64" for c in ["year", "para", "sent", "start_idx", "end_idx"]})


# ---- frequencies ----------------------------------------------------------------------------


def poisson_ci(k, conf: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood 1936) interval for a Poisson count ``k``: chi2 quantiles / 2."""
    from scipy.stats import chi2  # imported here: scipy.stats costs ~1 s at every Snakemake start

    k = np.asarray(k, dtype=float)
    alpha = 1 - conf
    low = np.where(k > 0, chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    high = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return low, high


def _bootstrap_draws(paras: pd.DataFrame, matches: pd.DataFrame, themes: list[str], n_boot: int, seed: int,
                     unit: str = "auto", min_documents: int = 10, chunk: int = 100) -> dict:
    """Bootstrap resamples of every (year, lang): {(year, lang): (C, T, unit, n_units)} with C the
    matches per theme (n_boot x themes) and T the kept tokens (n_boot) of each resample.

    The resampling unit is the paragraph (``doc_id, para``) or the document (``doc_id``): mentions
    cluster in paragraphs and documents, so resampling them, not tokens, keeps that dependence in
    the interval. ``unit="auto"``: documents where the (year, lang) has at least ``min_documents``
    of them, else paragraphs. Units are drawn with replacement, as many as there are
    (``numpy.random.default_rng([seed, year, crc32(lang)])``: each (year, lang) has its own stream,
    so adding a year changes no other year's interval). Done ``chunk`` resamples at a time as
    multiplicity weights (chunk x units) times the per-unit counts.
    """
    import zlib

    out = {}
    for (year, lang), part in paras.groupby(["year", "lang"], sort=True):
        n_docs = part["doc_id"].nunique()
        use = unit if unit != "auto" else ("document" if n_docs >= min_documents else "paragraph")
        keys = ["doc_id"] if use == "document" else ["doc_id", "para"]
        tok = part.groupby(keys, sort=True)["keep"].sum()
        m = matches[(matches["year"] == year) & (matches["lang"] == lang) & matches["theme"].isin(themes)]
        P = np.zeros((len(tok), len(themes)))  # matches per unit x theme
        if len(m):
            rows = tok.index.get_indexer(pd.MultiIndex.from_frame(m[keys]) if len(keys) > 1 else m[keys[0]])
            np.add.at(P, (rows, pd.Index(themes).get_indexer(m["theme"])), 1)
        t = tok.to_numpy(dtype=float)
        rng = np.random.default_rng([seed, int(year), zlib.crc32(str(lang).encode("utf-8"))])
        n = len(t)
        C, T = np.empty((n_boot, len(themes))), np.empty(n_boot)
        for b0 in range(0, n_boot, chunk):
            b1 = min(n_boot, b0 + chunk)
            picks = rng.integers(0, n, (b1 - b0, n)) + n * np.arange(b1 - b0)[:, None]
            W = np.bincount(picks.ravel(), minlength=(b1 - b0) * n).reshape(b1 - b0, n).astype(float)
            C[b0:b1], T[b0:b1] = W @ P, W @ t
        out[(int(year), lang)] = (C, T, use, n)
    return out


def theme_frequencies(
    tokens: pd.DataFrame,
    matches: pd.DataFrame,
    codebook: list[Theme],
    languages,
    ci: str = "poisson",
    conf: float = 0.95,
    n_boot: int = 2000,
    seed: int = 12345,
    unit: str = "auto",
    min_documents: int = 10,
    draws: dict | None = None,
) -> pd.DataFrame:
    """Counts per 10,000 kept tokens for every (year, lang with text, theme), with ``ci`` intervals
    (``ci_method``: ``poisson`` or ``bootstrap:<unit>``; ``ci_units``: the number of resampled units).

    ``draws``: resamples already drawn by :func:`_bootstrap_draws` (else drawn here)."""
    if ci not in ("poisson", "bootstrap"):
        raise ValueError(f"ci must be 'poisson' or 'bootstrap', not {ci!r}")
    if unit not in BOOTSTRAP_UNITS:
        raise ValueError(f"bootstrap unit must be one of {BOOTSTRAP_UNITS}, not {unit!r}")
    themes = [t.id for t in codebook]
    tokens = tokens[tokens["lang"].isin(languages)]
    units = tokens.groupby(["year", "lang"], sort=True)["keep"].sum().rename("tokens").reset_index()
    grid = units.merge(pd.DataFrame({"theme": themes}), how="cross")
    counts = matches.groupby(["year", "lang", "theme"]).size().rename("count").reset_index()
    df = grid.merge(counts, on=["year", "lang", "theme"], how="left").fillna({"count": 0})
    df = df.astype({"year": "int64", "count": "int64", "tokens": "int64"})
    scale = 10000 / df["tokens"].where(df["tokens"] > 0)  # NaN for a (year, lang) without kept tokens
    df["per_10k"] = df["count"] * scale
    if ci == "poisson":
        low, high = poisson_ci(df["count"], conf)
        df["ci_low"], df["ci_high"] = low * scale, high * scale
        df["ci_method"], df["ci_units"] = "poisson", np.nan
    else:
        if draws is None:
            paras = tokens.groupby(["year", "lang", "doc_id", "para"], sort=True)["keep"].sum().reset_index()
            draws = _bootstrap_draws(paras, matches, themes, n_boot, seed, unit, min_documents)
        alpha = 1 - conf
        bounds, method = {}, {}
        for (year, lang), (C, T, use, n) in draws.items():
            with np.errstate(invalid="ignore", divide="ignore"):
                rates = C / T[:, None] * 10000
            low, high = np.nanquantile(rates, [alpha / 2, 1 - alpha / 2], axis=0)
            method[(year, lang)] = (f"bootstrap:{use}", n)
            for i, th in enumerate(themes):
                bounds[(year, lang, th)] = (low[i], high[i])
        keys = list(zip(df["year"], df["lang"], df["theme"]))
        df["ci_low"] = [bounds[k][0] for k in keys]
        df["ci_high"] = [bounds[k][1] for k in keys]
        df["ci_method"] = [method[k[:2]][0] for k in keys]
        df["ci_units"] = [method[k[:2]][1] for k in keys]
    lang_order = {lang: i for i, lang in enumerate(languages)}
    theme_order = {t: i for i, t in enumerate(themes)}
    df = df.assign(_l=df["lang"].map(lang_order), _t=df["theme"].map(theme_order))
    return df.sort_values(["year", "_l", "_t"], kind="stable")[FREQ_COLUMNS].reset_index(drop=True)


def rate_ratio_interval(c0, t0, c1, t1, draws0: tuple, draws1: tuple, conf: float = 0.95):
    """(rate ratio, low, high) per theme from year 0 to year 1: ``((c1 + .5)/t1) / ((c0 + .5)/t0)``
    with ``c`` the counts per theme (arrays) and ``t`` the kept tokens, and the percentile interval
    of the same ratio over independent resamples of the two years (``draws0``/``draws1``: the
    (C, T) of :func:`_bootstrap_draws`). A theme absent from both years has no ratio (NaN): the
    0.5 would only compare the token counts."""
    (C0, T0), (C1, T1) = draws0[:2], draws1[:2]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = ((C1 + 0.5) / T1[:, None]) / ((C0 + 0.5) / T0[:, None])
    alpha = 1 - conf
    low, high = np.nanquantile(ratios, [alpha / 2, 1 - alpha / 2], axis=0)
    c0, c1 = np.asarray(c0, dtype=float), np.asarray(c1, dtype=float)
    rr = ((c1 + 0.5) / t1) / ((c0 + 0.5) / t0)
    none = (c0 == 0) & (c1 == 0)
    return np.where(none, np.nan, rr), np.where(none, np.nan, low), np.where(none, np.nan, high)


def theme_changes(freq: pd.DataFrame, draws: dict, conf: float = 0.95, min_tokens: int = 0) -> pd.DataFrame:
    """Year-over-year change of every theme: the rate ratio between consecutive years with text of
    each language, with a bootstrap percentile interval (``CHANGE_COLUMNS``).

    ``rate_ratio = ((count_to + 0.5) / tokens_to) / ((count_from + 0.5) / tokens_from)`` (the 0.5
    of Haldane and Anscombe keeps a zero count finite); the interval: the same ratio in each pair
    of independent resamples of the two years (:func:`_bootstrap_draws`, paragraphs or documents),
    its ``(1 - conf) / 2`` and ``(1 + conf) / 2`` percentiles. An interval that excludes 1 is a
    change beyond the variation of the sampled paragraphs (documents); a theme absent from both
    years has none (empty). ``low_data``: either year has fewer than ``min_tokens`` kept tokens.
    """
    rows = []
    for lang, d in freq[freq["tokens"] > 0].groupby("lang", sort=False):
        years = sorted(d["year"].unique())
        themes = list(dict.fromkeys(d["theme"]))
        for y0, y1 in zip(years, years[1:]):
            a = d[d["year"] == y0].set_index("theme").loc[themes]
            b = d[d["year"] == y1].set_index("theme").loc[themes]
            d0, d1 = draws[(int(y0), lang)], draws[(int(y1), lang)]
            u0, u1 = d0[2], d1[2]
            rr, low, high = rate_ratio_interval(a["count"], a["tokens"].iloc[0], b["count"], b["tokens"].iloc[0],
                                                d0, d1, conf)
            for i, th in enumerate(themes):
                rows.append({"lang": lang, "theme": th, "year_from": int(y0), "year_to": int(y1),
                             "count_from": int(a.loc[th, "count"]), "count_to": int(b.loc[th, "count"]),
                             "tokens_from": int(a.loc[th, "tokens"]), "tokens_to": int(b.loc[th, "tokens"]),
                             "per_10k_from": a.loc[th, "per_10k"], "per_10k_to": b.loc[th, "per_10k"],
                             "rate_ratio": rr[i], "ci_low": low[i], "ci_high": high[i],
                             "ci_method": f"bootstrap:{u0}/{u1}",
                             "low_data": bool(min(a.loc[th, "tokens"], b.loc[th, "tokens"]) < min_tokens)})
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def unmatched_terms(matches: pd.DataFrame, codebook: list[Theme], languages) -> pd.DataFrame:
    """Terms never counted in the corpus (no KWIC row), with a logged warning listing them.

    A term found only inside longer matches of the same theme is listed too: it adds nothing.
    """
    distinct = matches[["theme", "lang", "term"]].drop_duplicates()
    found = set(zip(distinct["theme"], distinct["lang"], distinct["term"]))
    rows = [
        (t.id, lang, term)
        for t in codebook for lang in languages for term in t.terms.get(lang, ())
        if (t.id, lang, term) not in found
    ]
    df = pd.DataFrame(rows, columns=UNMATCHED_COLUMNS)
    if len(df):
        listing = "; ".join(f"{th} [{lang}]: " + ", ".join(g["term"]) for (th, lang), g in df.groupby(["theme", "lang"], sort=False))
        log.warning("%d codebook term(s) never matched the corpus: %s", len(df), listing)
    for t in codebook:
        for lang in languages:
            if not t.terms.get(lang):
                log.warning("theme %r has no %s terms: its %s count is always 0", t.id, lang, lang)
    return df


def theme_table(
    tokens: pd.DataFrame,
    codebook: list[Theme],
    languages,
    window: int = 8,
    ci: str = "poisson",
    conf: float = 0.95,
    n_boot: int = 2000,
    seed: int = 12345,
    unspaced_languages=UNSPACED,
    unit: str = "auto",
    min_documents: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(frequencies, kwic) for a codebook, e.g. one edited in a notebook (see :func:`parse_codebook`)."""
    tokens = tokens[tokens["lang"].isin(languages)]
    matches = match_themes(tokens, codebook, window, unspaced_languages)
    freq = theme_frequencies(tokens, matches, codebook, languages, ci, conf, n_boot, seed, unit, min_documents)
    return freq, matches.assign(kind="theme")[KWIC_COLUMNS]


# Kept tokens per paragraph (``keep`` = their number): the denominators of the frequencies, of the
# bootstrap and of the cross-language comparison, written per shard next to the matches.
PARA_COLUMNS = ["year", "lang", "doc_id", "para", "keep"]


def paragraph_tokens(tokens: pd.DataFrame) -> pd.DataFrame:
    """Kept tokens per (year, lang, doc_id, para) of a token table (``keep`` = how many)."""
    return tokens.groupby(PARA_COLUMNS[:-1], sort=True)["keep"].sum().astype("int64").reset_index()


def match_shard(
    token_path: str | Path,
    codebook_path: str | Path,
    matches_path: str | Path,
    paras_path: str | Path,
    languages,
    schema_path: str | Path | None = None,
    kwic_window: int = 8,
    unspaced_languages=UNSPACED,
    entities_path: str | Path | None = None,
    entities_schema: str | Path | None = None,
    entity_matches_path: str | Path | None = None,
    count_roles=("body",),
) -> None:
    """The `theme_matches` rule, one token shard: its theme matches (``MATCH_COLUMNS``, KWIC
    included), its entity mentions (same columns, ``theme`` = entity id) and its kept tokens per
    paragraph (``PARA_COLUMNS``), each to a Parquet file; only paragraphs whose role is in
    ``count_roles``.

    Matches never cross a paragraph and a paragraph lies in one shard, so the shards' matches
    together are those of the whole token table.
    """
    from textdrift.entities import load_entities
    from textdrift.vectorize import counted

    entities = load_entities(entities_path, entities_schema)
    codebook = load_codebook(codebook_path, schema_path, entities)
    tokens = counted(load_tokens(token_path, columns=TOKEN_COLUMNS), count_roles)
    if not tokens["lang"].isin(languages).all():
        tokens = tokens[tokens["lang"].isin(languages)]
    write_parquet(match_themes(tokens, codebook, kwic_window, unspaced_languages), matches_path)
    if entity_matches_path is not None:
        write_parquet(match_themes(tokens, entity_codebook(entities, languages), kwic_window, unspaced_languages),
                      entity_matches_path)
    write_parquet(paragraph_tokens(tokens), paras_path)


def read_shards(paths, columns: list[str] | None = None) -> pd.DataFrame:
    """Concatenate Parquet files written by :func:`match_shard` (only ``columns``, when given)."""
    frames = [pd.read_parquet(p, columns=columns) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def run_themes(
    match_paths,
    para_paths,
    codebook_path: str | Path,
    freq_path: str | Path,
    kwic_path: str | Path,
    unmatched_path: str | Path,
    languages,
    schema_path: str | Path | None = None,
    ci: str = "poisson",
    conf_level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 12345,
    entity_paths=(),
    entities_path: str | Path | None = None,
    entities_schema: str | Path | None = None,
    entity_freq_path: str | Path | None = None,
    bootstrap_unit: str = "auto",
    min_documents: int = 10,
    changes_path: str | Path | None = None,
    min_tokens: int = 0,
    documents_path: str | Path | None = None,
    group_by: str | None = None,
    grouped_freq_path: str | Path | None = None,
    grouped_changes_path: str | Path | None = None,
) -> None:
    """The `themes` rule: the shards' matches and paragraph counts (:func:`match_shard`) into
    theme_frequencies.csv, entity_frequencies.csv, theme_kwic.csv (theme and entity rows, column
    ``kind``), theme_unmatched_terms.csv and theme_changes.csv (year-over-year rate ratios with
    bootstrap intervals; with ``documents_path``, the documents and genres of each step).

    ``group_by`` (a column of the documents table): theme frequencies and changes of each group's
    documents alone, with a leading ``group`` column, to ``grouped_freq_path`` and
    ``grouped_changes_path`` (:func:`textdrift.manifest.document_groups`)."""
    import pyarrow as pa

    from textdrift.entities import load_entities
    from textdrift.manifest import document_groups, with_group

    entities = load_entities(entities_path, entities_schema)
    codebook = load_codebook(codebook_path, schema_path, entities)
    paras = read_shards(para_paths, PARA_COLUMNS)
    docs = read_csv(documents_path) if documents_path is not None else None
    version = codebook_hash(codebook_path)
    settings = dict(ci=ci, conf=conf_level, n_boot=n_boot, seed=seed, unit=bootstrap_unit, min_documents=min_documents,
                    min_tokens=min_tokens)
    parts = []
    for kind, book, paths, out in (("theme", codebook, match_paths, freq_path),
                                   ("entity", entity_codebook(entities, languages), entity_paths, entity_freq_path)):
        if out is None:
            continue
        table = read_matches(paths, book, [c for c in KWIC_COLUMNS if c != "kind"])
        # the counts need only these columns (repeated strings share one Python object each)
        matches = table.select(["year", "lang", "theme", "term", "doc_id", "para"]).to_pandas()
        freq, changes = _theme_tables(paras, matches, book, languages, docs,
                                      with_changes=kind == "theme" and changes_path is not None, **settings)
        log.info("%d %ss: %d matches in %d (year, lang) units", len(book), kind, len(matches),
                 freq[["year", "lang"]].drop_duplicates().shape[0])
        if kind == "theme":
            write_csv(freq.assign(codebook=version), out)
            write_csv(unmatched_terms(matches, codebook, languages), unmatched_path)
            if changes_path is not None:
                write_csv(changes.assign(codebook=version), changes_path)
            if group_by:
                tables = {}
                for g, ids in document_groups(docs, group_by).items():
                    tables[g] = _theme_tables(paras[paras["doc_id"].isin(ids)], matches[matches["doc_id"].isin(ids)],
                                              book, languages, docs[docs["doc_id"].astype(str).isin(ids)],
                                              with_changes=True, **settings)
                write_csv(with_group({g: f for g, (f, _) in tables.items()}).assign(codebook=version), grouped_freq_path)
                write_csv(with_group({g: c for g, (_, c) in tables.items()}).assign(codebook=version),
                          grouped_changes_path)
        else:
            write_csv(freq.rename(columns={"theme": "entity"})[ENTITY_FREQ_COLUMNS], out)
        parts.append(table.append_column("kind", pa.array([kind] * table.num_rows, pa.string())).select(KWIC_COLUMNS))
    kwic = pa.concat_tables(parts)
    write_csv_batches((b.to_pandas() for b in kwic.to_batches(max_chunksize=100_000) or [kwic.slice(0, 0)]), kwic_path)


def _theme_tables(paras: pd.DataFrame, matches: pd.DataFrame, book: list[Theme], languages, docs, with_changes: bool,
                  ci: str, conf: float, n_boot: int, seed: int, unit: str, min_documents: int,
                  min_tokens: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Frequencies (and, ``with_changes``, year-over-year changes naming the documents of ``docs``,
    the documents table) of the paragraphs ``paras`` and their ``matches``."""
    from textdrift.manifest import step_documents

    draws = (_bootstrap_draws(paras[paras["lang"].isin(languages)], matches, [t.id for t in book], n_boot, seed,
                              unit, min_documents) if ci == "bootstrap" or with_changes else None)
    freq = theme_frequencies(paras, matches, book, languages, ci, conf, n_boot, seed, unit, min_documents, draws)
    if not with_changes:
        return freq, None
    changes = theme_changes(freq, draws, conf, min_tokens)
    return freq, step_documents(changes, docs) if docs is not None else changes


def read_matches(match_paths, codebook: list[Theme], columns: list[str] = MATCH_COLUMNS):
    """The shards' matches (:func:`match_shard`; ``columns`` and the sort key) as one Arrow table
    in :func:`_order_matches`' order (year, lang, theme in codebook order, doc_id, para,
    start_idx: a unique key, so the order is well defined).

    Sorted and kept in Arrow (compact strings, no Python object per KWIC string), so the merge of
    a large corpus holds the KWIC text once; ``.to_pandas()`` for a DataFrame.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    columns = list(dict.fromkeys([*columns, "year", "lang", "theme", "doc_id", "para", "start_idx"]))
    ints = ("year", "para", "sent", "start_idx", "end_idx")  # (role, kind and the rest: strings)
    schema = pa.schema([(c, pa.int64() if c in ints else pa.string()) for c in columns])
    tables = [pq.read_table(p, columns=columns) for p in match_paths]
    # an empty shard's string columns are typed null; cast every shard to one schema
    table = pa.concat_tables([t.cast(schema) for t in tables]) if tables else schema.empty_table()
    rank = pc.index_in(table["theme"], value_set=pa.array([t.id for t in codebook], type=pa.string()))
    keys = pa.table({"year": table["year"], "lang": table["lang"], "_t": rank, "doc_id": table["doc_id"],
                     "para": table["para"], "start_idx": table["start_idx"]})
    return table.take(pc.sort_indices(keys, sort_keys=[(c, "ascending") for c in keys.column_names]))
