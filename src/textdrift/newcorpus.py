"""``make new-corpus DIR=...``: a new, empty corpus of your own, beside the shipped example.

``python -m textdrift.newcorpus DIR [--languages zh en]`` creates ``DIR`` with everything that
belongs to a corpus rather than to the tool, empty or as a skeleton to fill in:

* ``config.yaml``: the paths of everything below (the only keys it sets besides ``languages``,
  which it sets only when given: otherwise the languages analysed are those the manifest's
  ``languages`` column declares, ``docs/configuration.md``);
  run it with ``make check CONFIG=DIR/config.yaml`` and ``make run CONFIG=DIR/config.yaml``
  (Snakemake reads it after ``config/config.yaml``, so it sets every key that file sets);
* ``raw/documents.csv``: the manifest's header (the files go in ``raw/``);
* ``themes.yaml``: a codebook with one commented example theme (``make check`` asks for a theme
  until one is there);
* ``entities.yaml`` (no entities), ``zh_user_dict.txt`` (no domain words),
  ``en_despace_words.txt`` (no domain words for restoring lost spaces);
* ``validation/``: for the samples of contexts to code by hand and ``coded.csv`` (none yet);
* ``processed/`` and ``results/`` are made by the first run.

The stop-word lists (``config/zh_stopwords.txt``, ``config/en_stopwords_extra.txt``) are the
language's, not the corpus's: the new configuration keeps using them. Nothing outside ``DIR`` is
written, and an existing file in ``DIR`` is never overwritten. The shipped corpus stays where it
is (``data/raw/``, ``config/``) as the worked example; the tests have their own copy
(``tests/fixtures/project/``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["MANIFEST_HEADER", "create", "main"]

#: the manifest's columns, required first (docs/corpus.md)
MANIFEST_HEADER = ("doc_id,date,year,title,source,file,languages,encoding,notes,genre,issuer,original_language,"
                   "translation,url,retrieved")

_CODEBOOK = """\
# The theme codebook of this corpus (docs/methods.md, "Theme frequencies"; the shipped corpus's
# config/themes.yaml is a full example with context rules and translation pairs).
# Each theme: a snake_case id, labels, and its terms per language (English: lower-case lemmas,
# globs allowed; Chinese: Simplified, as jieba segments it). `make check` validates this file;
# `make run` lists the terms that never matched (results/tables/theme_unmatched_terms.csv).
#
# Uncomment the example, rename it and write your own terms (at least one theme is needed):
#
# - id: digital_economy
#   label_en: Digital economy
#   label_zh: 数字经济
#   en:
#     - digital economy
#     - digitali?ation
#   zh:
#     - 数字经济
#     - 数字化转型
themes: []
"""

_ENTITIES = """\
# Named entities of this corpus (initiatives, organisations, forums, documents): a mention counts
# as one term "@<id>", never as theme words. The shipped config/entities.yaml is a full example.
#
# - id: gdi
#   type: initiative
#   label_en: Global Development Initiative
#   label_zh: 全球发展倡议
#   en: [Global Development Initiative, GDI]
#   zh: [全球发展倡议]
entities: []
"""


def _config(d: str, languages: list[str] | None) -> str:
    langs = (f"languages: [{', '.join(languages)}]" if languages else
             "# languages: those the manifest's `languages` column declares (set e.g. [zh] to choose)")
    return f"""\
# The configuration of this corpus, read after config/config.yaml (make run CONFIG={d}/config.yaml):
# every key here replaces the shipped corpus's; every other key keeps its default
# (docs/configuration.md). Made by `make new-corpus`.
manifest: {d}/raw/documents.csv
raw_dir: {d}/raw
processed_dir: {d}/processed
results_dir: {d}/results
{langs}
themes:
  codebook: {d}/themes.yaml
entities: {d}/entities.yaml
segment:
  zh_user_dict: {d}/zh_user_dict.txt
clean:
  despace:
    words_file: {d}/en_despace_words.txt
validation:
  coded: {d}/validation/coded.csv
  sample_dir: {d}/validation
"""


def create(directory: str | Path, languages=None) -> list[Path]:
    """Create the skeleton of a new corpus in ``directory`` (see the module docstring).

    Parameters
    ----------
    directory : str or Path
        The corpus directory (created; best given relative to the project, as the configuration
        stores the paths as given).
    languages : sequence of str, optional
        The languages of the corpus (``languages`` of the configuration); default: not set, the
        languages the manifest declares.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    FileExistsError
        When one of the files already exists (nothing is written then).
    """
    d = Path(directory)
    files = {
        d / "config.yaml": _config(d.as_posix(), list(languages) if languages else None),
        d / "raw" / "documents.csv": MANIFEST_HEADER + "\n",
        d / "themes.yaml": _CODEBOOK,
        d / "entities.yaml": _ENTITIES,
        d / "zh_user_dict.txt": "",
        d / "en_despace_words.txt": "",
    }
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise FileExistsError(f"new corpus: {', '.join(existing)} already exist(s); nothing was written")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (d / "validation").mkdir(exist_ok=True)
    return list(files)


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m textdrift.newcorpus DIR [--languages zh en]``.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        0, or 1 when a file already exists.
    """
    parser = argparse.ArgumentParser(prog="python -m textdrift.newcorpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--languages", nargs="+", default=None,
                        help="zh and/or en (default: the languages the manifest declares)")
    args = parser.parse_args(argv)
    try:
        written = create(args.directory, args.languages)
    except FileExistsError as err:
        print(err, file=sys.stderr)
        return 1
    d = args.directory
    print(f"new corpus in {d}/ ({len(written)} files). Next:\n"
          f"  1. put your files in {d}/raw/ and describe each in {d}/raw/documents.csv (docs/corpus.md)\n"
          f"  2. write your themes in {d}/themes.yaml (one commented example is there)\n"
          f"  3. make check CONFIG={d}/config.yaml   (lists every problem)\n"
          f"  4. make run CONFIG={d}/config.yaml     (results in {d}/results/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
