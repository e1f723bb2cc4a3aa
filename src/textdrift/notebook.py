"""The project from a notebook: load what the pipeline wrote, and extend it with the pipeline's own
functions (the notebooks' API over the step modules; :mod:`textdrift.explorer` is the browser's view).

A thin layer: every analysis is a call into the step modules (:mod:`~textdrift.vectorize`,
:mod:`~textdrift.themes`, :mod:`~textdrift.drift`, :mod:`~textdrift.phrases`) with the
parameters of ``config/config.yaml``, so a number recomputed here is computed exactly as the
pipeline computes it. Nothing here has analysis logic of its own.

Typical use (after ``make run``)::

    from textdrift.notebook import Project
    p = Project()                                   # finds the project root (the Snakefile)
    p.table("theme_frequencies")                    # any table of results/tables/
    p.kwic("digital silk road", "en")               # contexts of any term, matched like a codebook term
    cb = p.add_theme(p.codebook(), "open_source", "Open source", "开源",
                     en=["open source", "open-source"], zh=["开源"])
    freq, kwic = p.theme_frequencies(cb)            # theme table for the edited codebook, in memory
    p.compare(2017, 2024, "en")                     # drift + phrase changes between any two groups
    p.save_codebook(cb)                             # validated, then written to config/themes.yaml

Where the project is: ``Project(root)`` walks up from ``root`` to the first directory that
holds a ``Snakefile``; without ``root`` it starts from the environment variable
``TEXTDRIFT_ROOT`` if set, else from the working directory, so a notebook finds the project
whether Jupyter was started in ``notebooks/`` or at the root, and a test can point it at a copy.

``Project.config`` is the parsed ``config/config.yaml`` with the schema's defaults filled in, as
the rules see it (paths in it are relative to the root).
It is a plain dict: edit it in the notebook to try other parameters (e.g.
``p.config["phrases"]["min_count"] = 5``); the files on disk are not touched.

Over 550 lines, half of them docstrings: one class, :class:`Project`, whose methods are the
notebooks' entry points to every step; each reads a file or calls the step's library function
with the config's parameters.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import numbers
import os
import textwrap
from pathlib import Path

import pandas as pd
import yaml

from textdrift import drift, phrases, themes
from textdrift.codebook import Theme, codebook_hash, parse_codebook
from textdrift.config import SCHEMA, load_yaml, with_defaults
from textdrift.io import atomic_write_text, read_csv, read_texts
from textdrift.manifest import load_manifest
from textdrift.counting import counted, load_tokens
from textdrift.vectorize import CountMatrix, count_matrix, load_matrix

__all__ = ["MissingOutputError", "Project", "RUN_HINT", "find_root"]

RUN_HINT = "run the pipeline first: `make run` (or `snakemake --cores all`) in {root}"


class MissingOutputError(FileNotFoundError):
    """A pipeline output the notebook asked for does not exist (yet)."""


def find_root(start: str | Path | None = None) -> Path:
    """The project root: ``start`` or the nearest parent directory containing a ``Snakefile``.

    Parameters
    ----------
    start : str or Path, optional
        Where to start (default ``$TEXTDRIFT_ROOT``, else the working directory).

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        When no directory up from ``start`` holds a ``Snakefile``.
    """
    start = Path(start if start is not None else os.environ.get("TEXTDRIFT_ROOT") or ".").resolve()
    for d in (start, *start.parents):
        if (d / "Snakefile").is_file():
            return d
    raise FileNotFoundError(
        f"no Snakefile in {start} or any parent directory: start Jupyter inside the textdrift project, "
        "pass Project(root=...) or set the environment variable TEXTDRIFT_ROOT"
    )


class _IndentedDumper(yaml.SafeDumper):
    """Indent block sequences under their key, as config/themes.yaml is written."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _as_themes(codebook, schema: Path, source: str) -> list[Theme]:
    """A list of Theme from a codebook dict (validated) or a list of Theme (as is)."""
    if isinstance(codebook, dict):
        return parse_codebook(codebook, schema, source=source)
    return list(codebook)


class Project:
    """One textdrift project: its config, its processed data and its results.

    Outputs are read when asked for; the token table is read once and kept.

    Parameters
    ----------
    root : str or Path, optional
        Any directory inside the project (see :func:`find_root`).
    configfile : str or Path
        The configuration, relative to the root.

    Attributes
    ----------
    root : Path
        The project root.
    config : dict
        The parsed configuration with the schema's defaults filled in; edit it to try other
        parameters (the files on disk are not touched).
    """

    def __init__(self, root: str | Path | None = None, configfile: str | Path = "config/config.yaml"):
        self.root = find_root(root)
        self.configfile = self.root / configfile
        # every key the file does not set: its default (workflow/schemas/config.schema.yaml), as in the rules;
        # a project without its own copy of the schema takes the library's
        schema = self.schema_dir / "config.schema.yaml"
        self.config: dict = with_defaults(load_yaml(self.configfile), schema if schema.exists() else SCHEMA)
        self._tokens: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    # ---- paths -----------------------------------------------------------------------------

    def path(self, key_or_path: str) -> Path:
        """An absolute path: a config key holding a path (``"processed_dir"``, ``"results_dir"``,
        ``"manifest"``, ``"raw_dir"``) or a path relative to the root.

        Parameters
        ----------
        key_or_path : str

        Returns
        -------
        Path
        """
        value = self.config.get(key_or_path, key_or_path)
        return self.root / value

    @property
    def schema_dir(self) -> Path:
        """The project's ``workflow/schemas/``, or the library's when the project has none."""
        own = self.root / "workflow" / "schemas"
        return own if own.is_dir() else SCHEMA.parent

    def _need(self, path: Path, what: str) -> Path:
        if not path.exists():
            raise MissingOutputError(f"{what} not found: {path} does not exist; " + RUN_HINT.format(root=self.root))
        return path

    # ---- loading ---------------------------------------------------------------------------

    def manifest(self) -> pd.DataFrame:
        """The validated manifest (``manifest.load_manifest``): one row per document, ``path`` = raw file.

        Returns
        -------
        DataFrame
        """
        return load_manifest(
            self.path("manifest"), raw_dir=self.path("raw_dir"),
            years=(self.config["years"]["min"], self.config["years"]["max"]),
            schema=self.schema_dir / "manifest.schema.yaml",
        )

    def clean_text(self, doc_id: str, lang: str) -> list[str]:
        """The clean text of one document in one language: a list of paragraphs (the token table's ``para``).

        Parameters
        ----------
        doc_id : str
        lang : str

        Returns
        -------
        list of str

        Raises
        ------
        MissingOutputError
            When the pipeline wrote no such text (or has not run).
        """
        index = read_csv(self._need(self.path("processed_dir") / "clean" / "index.csv", "clean-text index"),
                         dtype=str)
        row = index[(index["doc_id"] == doc_id) & (index["lang"] == lang)]
        if row.empty:
            have = index[["doc_id", "lang"]].agg(".".join, axis=1).tolist()
            raise MissingOutputError(f"no clean text {doc_id}.{lang}; the pipeline wrote: {', '.join(have)}")
        # the index names each text's file: its shard's texts (data/processed/clean/shard-<n>.parquet)
        return read_texts(self._need(self.root / row["file"].iloc[0], "clean text"))[(doc_id, lang)]

    def cleaning_log(self, doc_id: str | None = None) -> pd.DataFrame:
        """Every change the cleaner made (``data/processed/cleaning_log.csv``), of one document or all.

        Parameters
        ----------
        doc_id : str, optional
            One document's rows; all when None.

        Returns
        -------
        DataFrame
        """
        log = read_csv(self._need(self.path("processed_dir") / "cleaning_log.csv", "cleaning log"))
        return log if doc_id is None else log[log["doc_id"] == doc_id].reset_index(drop=True)

    def tokens(self) -> pd.DataFrame:
        """The token table (the Parquet shards of the last run; ``counting.load_tokens``), read once per Project.

        The shards are those the clean index names (``shard-<n>``), so the files of an earlier run
        with another number of shards are not read twice.
        """
        if self._tokens is None:
            tokens = self._need(self.path("processed_dir") / "tokens", "token table")
            index = self.path("processed_dir") / "clean" / "index.csv"
            if index.exists():
                names = sorted({Path(f).stem for f in read_csv(index, dtype=str)["file"]})
                shards = [self._need(tokens / f"{n}.parquet", "token table") for n in names]
            else:
                shards = sorted(tokens.glob("*.parquet"))
            if not shards:
                self._need(tokens / "shard-0.parquet", "token table")
            self._tokens = load_tokens(shards)
        return self._tokens

    def counted_tokens(self) -> pd.DataFrame:
        """The tokens the analyses count: those of the paragraphs whose role is in the config's
        ``count_roles`` (``counting.counted``).

        Returns
        -------
        DataFrame
        """
        return counted(self.tokens(), self.config["count_roles"])

    def matrix(self, unit: str, lang: str) -> CountMatrix:
        """The count matrix of the ``vectorize`` rule (``vectorize.load_matrix``): ``unit`` "year"
        (rows: years) or "doc" (rows: documents), n-grams 1..``vectorize.ngram_max``.

        Parameters
        ----------
        unit : {"year", "doc"}
        lang : str

        Returns
        -------
        CountMatrix
        """
        if unit not in ("year", "doc"):
            raise ValueError(f"unit must be 'year' or 'doc', not {unit!r}")
        path = self.path("processed_dir") / "vectors" / f"{unit}_{lang}.npz"
        if not path.exists() and lang not in self.config["languages"]:
            raise ValueError(f"language {lang!r} is not in the config's languages {self.config['languages']}")
        return load_matrix(self._need(path, f"{unit} matrix of {lang!r}"))

    def tables(self) -> list[str]:
        """Names of the result tables present in ``results/tables/`` (without ``.csv``).

        Returns
        -------
        list of str
        """
        return sorted(p.stem for p in (self.path("results_dir") / "tables").glob("*.csv"))

    def table(self, name: str) -> pd.DataFrame:
        """A result table by name, e.g. ``"theme_frequencies"`` for ``results/tables/theme_frequencies.csv``.

        Parameters
        ----------
        name : str
            The table's name (a path's stem is taken).

        Returns
        -------
        DataFrame

        Raises
        ------
        MissingOutputError
            When the table does not exist (the message lists those that do).
        """
        path = self.path("results_dir") / "tables" / f"{Path(name).stem}.csv"
        if not path.exists():
            have = self.tables()
            listing = f"available: {', '.join(have)}" if have else "there are no tables yet"
            raise MissingOutputError(
                f"no result table {name!r} ({path} does not exist); {listing}. Tables are written by the "
                "pipeline: if one is missing or stale, " + RUN_HINT.format(root=self.root)
            )
        return read_csv(path)

    def codebook(self) -> dict:
        """The theme codebook (``themes.codebook`` in the config) as an editable dict, validated on load.

        Returns
        -------
        dict
        """
        path = self._need(self.root / self.config["themes"]["codebook"], "theme codebook")
        data = load_yaml(path)
        parse_codebook(data, self.schema_dir / "themes.schema.yaml", source=str(path))
        return data

    # ---- analyses (the step modules' functions, with the config's parameters) ---------------

    def kwic(self, term: str, lang: str, window: int | None = None, doc_ids=None,
             all_text: bool = False) -> pd.DataFrame:
        """Every match of ANY term in ``lang``, in context, matched exactly as a codebook term is.

        ``term``: a word, a multiword phrase or a glob ("digital economy", "cyber*", "数字经济",
        "*合作"); lower-cased, spaces collapsed. It runs ``themes.match_themes`` with a one-term
        codebook (``codebook.parse_codebook``), so a row here is a row of ``theme_kwic.csv`` when
        the term is a codebook term (unless a longer term of the same theme took the span).
        ``window``: tokens of context each side (default the config's ``themes.kwic_window``);
        ``doc_ids``: restrict to these documents. Columns: doc_id, year, lang, term, para (line of
        the clean text), sent, role, start_idx, end_idx (character offsets in that line), left, match,
        right. As for the codebook, only the ``count_roles`` paragraphs are searched and words inside
        a named entity do not match; ``all_text=True`` searches every paragraph and inside names too
        (each mention's first word matched by its lemma again).

        Parameters
        ----------
        term : str
        lang : str
        window : int, optional
        doc_ids : iterable of str, optional
        all_text : bool

        Returns
        -------
        DataFrame
        """
        term = " ".join(term.lower().split())
        cfg = self.config["themes"]
        cb = parse_codebook({"themes": [{"id": "kwic", "label_en": term, lang: [term]}]},
                                   self.schema_dir / "themes.schema.yaml", source=f"kwic term {term!r}")
        tokens = self.tokens() if all_text else self.counted_tokens()
        tokens = tokens[tokens["lang"] == lang]
        if doc_ids is not None:
            tokens = tokens[tokens["doc_id"].isin(list(doc_ids))]
        if all_text:
            from textdrift.counting import names_as_words

            tokens = names_as_words(tokens)
        window = cfg["kwic_window"] if window is None else window
        matches = themes.match_themes(tokens, cb, window, self.config["unspaced_languages"])
        return matches.drop(columns="theme")

    def trend(self, term: str, lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(trend, kwic) of ANY word or phrase in ``lang``, in one call: its count and rate per
        10,000 kept tokens in every year with ``lang`` text, with the interval of theme rates
        (``themes.ci``), and its matches in context. The term is matched as a codebook term is
        (:meth:`kwic`: lemmas, globs, whole tokens; named entities resolved; ``count_roles`` only),
        counted as a one-term theme by :meth:`theme_frequencies`, so the numbers are comparable with
        ``theme_frequencies.csv``. E.g. ``p.trend("supply chain", "en")``, ``p.trend("*安全*", "zh")``.

        Parameters
        ----------
        term : str
        lang : str

        Returns
        -------
        trend : DataFrame
            The columns of ``theme_frequencies.csv`` with ``term`` for ``theme`` and no ``codebook``.
        kwic : DataFrame
            As :meth:`kwic`.
        """
        term = " ".join(term.lower().split())
        book = parse_codebook({"themes": [{"id": "term", "label_en": term, lang: [term]}]},
                                     self.schema_dir / "themes.schema.yaml", source=f"trend term {term!r}")
        freq, kwic = self.theme_frequencies(book)
        freq = freq[freq["lang"] == lang].drop(columns=["theme", "codebook"]).assign(term=term)
        if not freq["count"].sum():
            self._warn_unknown(term, lang)
        return freq.reset_index(drop=True), kwic[kwic["lang"] == lang].drop(columns="theme").reset_index(drop=True)

    def vocabulary(self, lang: str) -> list[str]:
        """Every word and n-gram counted in ``lang`` (the year matrix's vocabulary; without it, the
        counted tokens' ``norm``), as :meth:`trend` and the explorer's search know them.

        Parameters
        ----------
        lang : str

        Returns
        -------
        list of str
        """
        try:
            return [str(v) for v in self.matrix("year", lang).vocab]
        except (MissingOutputError, OSError):
            t = self.counted_tokens()
            t = t[(t["lang"] == lang) & t["keep"].astype(bool)]
            return sorted(set(t["norm"].astype(str)))

    def _warn_unknown(self, term: str, lang: str) -> None:
        """Warn that ``term`` never occurs in ``lang``, with the closest terms of the vocabulary
        (:func:`difflib.get_close_matches`, ratio >= 0.6, spaces ignored for unspaced languages)."""
        import difflib
        import warnings

        vocab = self.vocabulary(lang)
        unspaced = lang in self.config["unspaced_languages"]
        key = term.replace(" ", "") if unspaced else term
        if any(ch in term for ch in "*?["):
            close = []
        elif unspaced:
            by_flat = {}
            for v in vocab:
                by_flat.setdefault(v.replace(" ", ""), v)
            close = [by_flat[c] for c in difflib.get_close_matches(key, list(by_flat), n=5, cutoff=0.6)]
        else:
            close = difflib.get_close_matches(key, vocab, n=5, cutoff=0.6)
        if unspaced and len(key) > 1 and not close:  # a formulation the segmenter cut: terms inside it
            close = [v for v in vocab if v.replace(" ", "") in key and len(v.replace(" ", "")) > 1][:5]
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        warnings.warn(f"trend: {term!r} does not occur in the counted {lang} text (not in the vocabulary of "
                      f"{len(vocab)} terms, or only in paragraphs that are not counted); its counts are all "
                      f"zero{hint}", UserWarning, stacklevel=3)

    def theme_frequencies(self, codebook=None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(frequencies, kwic) for a codebook, computed in memory as the ``themes`` rule does.

        ``codebook``: a dict as :meth:`codebook` returns (validated here), a list of
        ``codebook.Theme``, or None for the project's codebook. Calls ``themes.theme_table`` with the
        config's languages, ``kwic_window``, ``ci``, ``conf_level``, ``n_boot``, ``seed`` and
        ``unspaced_languages``; the tables have the columns of ``theme_frequencies.csv`` and
        ``theme_kwic.csv``; ``codebook`` (the version column) is the codebook file's hash for the
        project's codebook and ``edited`` for any other.

        Parameters
        ----------
        codebook : dict or list of Theme, optional

        Returns
        -------
        freq : DataFrame
        kwic : DataFrame
        """
        cb = _as_themes(self.codebook() if codebook is None else codebook, self.schema_dir / "themes.schema.yaml",
                        "edited codebook")
        freq, kwic = themes.theme_table(self.counted_tokens(), cb, self.config["languages"],
                                        themes.ThemesSettings.from_config(self.config))
        version = (codebook_hash(self.root / self.config["themes"]["codebook"]) if codebook is None
                   else "edited")
        return freq.assign(codebook=version), kwic

    def _group_docs(self, group, lang: str, docs: pd.DataFrame) -> tuple[list[str], str]:
        """doc_ids of a group (a year, a list of years or a list of doc_ids) with text in ``lang``, and its label."""
        items = [group] if isinstance(group, (numbers.Integral, str)) else list(group)
        if not items:
            raise ValueError("compare: a group is empty")
        if all(isinstance(x, numbers.Integral) for x in items):
            items = [int(x) for x in items]
            missing = sorted(set(items) - set(docs["year"]))
            if missing:
                raise ValueError(f"compare: no {lang} text in year(s) {missing}; years with {lang} text: "
                                 f"{sorted(set(docs['year']))}")
            ids = docs.loc[docs["year"].isin(items), "doc_id"].tolist()
            return ids, items[0] if len(items) == 1 else "+".join(map(str, sorted(items)))
        missing = [x for x in items if x not in set(docs["doc_id"])]
        if missing:
            raise ValueError(f"compare: no {lang} text for doc_id(s) {missing}; documents with {lang} text: "
                             f"{sorted(docs['doc_id'])}")
        return items, items[0] if len(items) == 1 else f"{len(items)} docs: " + ", ".join(items)

    def compare(self, group_a, group_b, lang: str, labels: tuple | None = None) -> dict[str, pd.DataFrame]:
        """Compare two groups of documents of one language: TF-IDF drift and phrase changes.

        A group is a year (2017), a list of years ([2022, 2023]) or a list of doc_ids; ``a`` plays
        the earlier side ("from"), ``b`` the later ("to"). ``labels`` name the groups in the tables
        (default: the year, "2022+2023", or the doc_ids).

        * drift: ``drift.group_drift`` on the two groups' tokens (each group pooled into one
          document, TF-IDF fitted on the two) with the config's ``low_data_tokens``,
          ``drift.top_n`` and ``drift.tfidf``.
        * phrases: ``phrases.group_phrase_changes`` on the groups' phrase counts, counted as the
          ``phrases`` rule counts them (:meth:`phrase_counts`: n-grams 1..``phrases.ngram_max`` per
          document, with the recurring units of up to ``phrases.max_length`` words and the bridged
          protected formulations appended, ``phrases.long_counts`` and ``phrases.with_long``),
          prior = the language's whole corpus, pieces folded (``phrases.fold_pieces``), with
          :class:`textdrift.phrases.PhraseSettings` built from the config's ``phrases`` section, its
          ``count_roles``, ``unspaced_languages`` and ``low_data_tokens`` (a smaller group makes every
          status ``insufficient``); ``alpha_0`` ``"auto"`` is, per order, the median of the two
          groups' totals. The test treats tokens as independent (no dispersion between documents or
          paragraphs: ``dispersion`` 1, ``df`` empty), so ``t``, ``p``, ``q`` and ``status`` can
          differ from ``phrase_changes.csv``'s; counts, totals, prior, ``log_odds``, ``z`` and the
          exploratory ``effect`` do not. ``display`` as in ``phrase_changes.csv``.

        Returns ``{"drift", "top_terms", "term_shifts", "phrases"}`` (DataFrames; the phrase table has
        ``lang, group_from, group_to`` and the columns of ``phrase_changes.csv`` after ``year_to``).

        Parameters
        ----------
        group_a, group_b : int, list of int or list of str
            A year, years or doc_ids.
        lang : str
        labels : (str, str), optional

        Returns
        -------
        dict of str to DataFrame
        """
        tokens = self.counted_tokens()
        tokens = tokens[tokens["lang"] == lang]
        docs = tokens.loc[tokens["keep"], ["doc_id", "year"]].drop_duplicates()
        (ids_a, label_a), (ids_b, label_b) = (self._group_docs(g, lang, docs) for g in (group_a, group_b))
        labels = tuple(labels) if labels is not None else (label_a, label_b)
        d = self.config["drift"]
        out = drift.group_drift(tokens[tokens["doc_id"].isin(ids_a)], tokens[tokens["doc_id"].isin(ids_b)],
                                   labels, self.config["low_data_tokens"], d["top_n"], **d["tfidf"])
        st = self.phrase_settings()
        m = self.phrase_counts(lang, st)
        table = phrases.group_phrase_changes(
            phrases.row_counts(m, m.rows["doc_id"].isin(ids_a)), phrases.row_counts(m, m.rows["doc_id"].isin(ids_b)),
            prior_counts=phrases.row_counts(m), settings=st)
        table.insert(0, "lang", lang)
        table.insert(1, "group_from", [labels[0]] * len(table))
        table.insert(2, "group_to", [labels[1]] * len(table))
        unspaced = lang in st.unspaced_languages
        table["display"] = table["phrase"].str.replace(" ", "", regex=False) if unspaced else table["phrase"]
        return {**out, "phrases": phrases.entity_display(table, self.entity_labels())}

    def entity_labels(self) -> dict[str, dict[str, str]]:
        """Each named entity's label per language (``{id: {lang: label}}``, from the config's entity
        list; empty when ``entities`` is null): how a phrase's ``display`` shows a name.

        Returns
        -------
        dict
        """
        if not self.config.get("entities"):
            return {}
        from textdrift.entities import load_entities

        path = self._need(self.root / self.config["entities"], "entity list")
        return {e.id: dict(e.labels) for e in load_entities(path, self.schema_dir / "entities.schema.yaml")}

    def phrase_settings(self) -> "phrases.PhraseSettings":
        """The phrase rule's settings (:class:`textdrift.phrases.PhraseSettings`) from :attr:`config`:
        its ``phrases`` section, ``count_roles``, ``unspaced_languages``, ``vectorize.ngram_max``, and
        ``low_data_tokens`` as ``min_tokens``, as ``workflow/rules/phrases.smk`` passes them.

        Returns
        -------
        textdrift.phrases.PhraseSettings
        """
        c = self.config
        known = {f.name for f in dataclasses.fields(phrases.PhraseSettings)}
        return phrases.PhraseSettings.of({k: v for k, v in c["phrases"].items() if k in known},
                                         min_tokens=c["low_data_tokens"], count_roles=c["count_roles"],
                                         unspaced_languages=c["unspaced_languages"],
                                         vectorize_ngram_max=c["vectorize"]["ngram_max"])

    def phrase_counts(self, lang: str, settings: "phrases.PhraseSettings | None" = None) -> CountMatrix:
        """Phrase counts per document of ``lang`` as the ``phrases`` rule counts them: the n-grams of
        1..``ngram_max`` words of the counted tokens (``vectorize.count_matrix``), with the recurring
        phrases of ``ngram_max + 1``..``max_length`` words and those holding a bridged token of a
        protected formulation (the codebook's, the user dictionary's and ``new_formulations.csv``'s
        when it exists: ``phrases.protected_formulations``) counted from the tokens
        (``phrases.long_counts``) and appended (``phrases.with_long``), remainder columns included.

        Parameters
        ----------
        lang : str
        settings : textdrift.phrases.PhraseSettings, optional
            Default :meth:`phrase_settings`.

        Returns
        -------
        CountMatrix
            Rows ``doc_id`` (and ``year``), one column per phrase.
        """
        st = settings or self.phrase_settings()
        tokens = self.tokens()
        tokens = tokens[tokens["lang"] == lang]
        m = count_matrix(counted(tokens, list(st.count_roles)), ["doc_id"], st.ngram_max)
        user_dict = self.config["segment"].get("zh_user_dict")
        formulations = self.path("results_dir") / "tables" / "new_formulations.csv"
        protected = phrases.protected_formulations(
            lang, codebook=self.root / self.config["themes"]["codebook"],
            user_dict=self.root / user_dict if user_dict and (self.root / user_dict).exists() else None,
            formulations=formulations if formulations.exists() else None)
        if st.max_length > st.ngram_max or protected:
            m = phrases.with_long(m, phrases.long_counts([tokens], lang, st, protected).doc, ["doc_id"], st.ngram_max)
        return m

    # ---- editing the codebook --------------------------------------------------------------

    def add_theme(self, codebook: dict, id: str, label_en: str, label_zh: str | None = None,
                  replace: bool = False, **terms: list[str]) -> dict:
        """A copy of ``codebook`` with one more theme (appended; or replacing the theme ``id`` in
        place when ``replace``), validated by the codebook schema.

        ``terms``: one list per language code, e.g. ``en=["open source"], zh=["开源"]``; other labels
        as ``label_<lang>="..."``. The input dict is not modified.

        Parameters
        ----------
        codebook : dict
        id : str
        label_en : str
        label_zh : str, optional
        replace : bool
        **terms : list of str

        Returns
        -------
        dict
        """
        theme = {"id": id, "label_en": label_en, **({"label_zh": label_zh} if label_zh else {}),
                 **{k: v for k, v in terms.items() if k.startswith("label_")},
                 **{k: list(v) for k, v in terms.items() if not k.startswith("label_")}}
        data = copy.deepcopy(codebook)
        ids = [t.get("id") for t in data["themes"]]
        if id in ids and not replace:
            raise ValueError(f"theme {id!r} is already in the codebook; pass replace=True to replace it")
        if id in ids:
            data["themes"][ids.index(id)] = theme
        else:
            data["themes"].append(theme)
        parse_codebook(data, self.schema_dir / "themes.schema.yaml", source=f"codebook with theme {id!r}")
        return data

    def save_codebook(self, codebook: dict, path: str | Path | None = None) -> Path:
        """Validate ``codebook`` (schema + unique ids + lower-case terms) and write it as YAML.

        ``path`` defaults to the config's ``themes.codebook`` (``config/themes.yaml``); relative paths
        are relative to the root. Themes keep their order; the comment block at the top of the
        existing file is kept (YAML comments elsewhere are not). Nothing is written if the codebook
        is invalid. Run ``make run`` afterwards to recompute every table and figure.

        Parameters
        ----------
        codebook : dict
        path : str or Path, optional

        Returns
        -------
        Path
            The file written.
        """
        path = self.root / (path if path is not None else self.config["themes"]["codebook"])
        parse_codebook(codebook, self.schema_dir / "themes.schema.yaml", source="codebook to save")
        atomic_write_text(path, self._codebook_yaml(codebook, path))
        return path

    def _codebook_yaml(self, codebook: dict, path: Path) -> str:
        """YAML text of a codebook. When it only appends themes to the file at ``path``, the file's
        text is kept as it is and the new themes are appended (a small diff); otherwise the codebook
        is written in full under the comment block at the top of that file (or of the project's codebook)."""
        def dump(data) -> str:
            return yaml.dump(data, Dumper=_IndentedDumper, allow_unicode=True, sort_keys=False, width=100)

        source = path if path.exists() else self.root / self.config["themes"]["codebook"]
        text = source.read_text(encoding="utf-8") if source.exists() else ""
        old = yaml.safe_load(text) if text else None
        if path.exists() and isinstance(old, dict) and isinstance(old.get("themes"), list):
            n = len(old["themes"])
            added = "".join("\n" + textwrap.indent(dump([t]), "  ") for t in codebook["themes"][n:])
            candidate = text.rstrip("\n") + "\n" + added
            if yaml.safe_load(candidate) == codebook:
                return candidate
        header = "".join(f"{line}\n" for line in itertools.takewhile(
            lambda line: not line or line.startswith("#"), text.splitlines()))
        body = dump(codebook).replace("\n  - id: ", "\n\n  - id: ").replace("themes:\n\n", "themes:\n", 1)
        return header + body
