"""textdrift: how a body of bilingual policy texts changes its language from year to year.

The house, in pipeline order (the Snakemake rules and the notebooks call the same functions):
``manifest`` (the documents; ``propose`` suggests rows, ``make manifest``); the cleaning stage
``decode`` (bytes -> text) -> ``html`` (a web page's text), ``extract`` (a PDF's or Word file's
text) -> ``clean`` (the steps, two of them in ``despace`` and ``structure``; ``rxcheck``: which
paragraphs a configured pattern can match) -> ``cleanio``
(files, the clean index and log); ``segment`` (the token table; ``segment_eval`` scores it,
``entities`` marks the names) -> ``counting`` (what is counted: the token table, roles, names as
words, the findings' variants, kept tokens per paragraph) -> ``vectorize`` (count matrices) -> ``drift`` and ``phrases``; ``formulations`` (new and vanished
formulations); ``langmemo`` (the whole-corpus jobs' per-language memo, `phrases`, `formulations`,
`drift`, `merge_counts` among them: a document added in one language recomputes only that language; ``memo``: what the memos share, the
checksummed entry store and the code digest);
``codebook`` -> ``matching`` -> ``themes`` -> ``validation`` (precision of the codebook);
``matchmemo`` (the `theme_matches` jobs' per-theme memo: a codebook edit rematches only the themes it changes);
``crosslingual`` (zh against en, paragraphs paired by ``align``); ``findings`` (the headline
numbers); ``figures`` (every chart), ``report`` (``results/README.md``), ``explorer``
(``results/explorer.html``). Shared: ``stats`` (intervals, tests and divergences), ``io``,
``config`` (with the settings objects' base), ``job`` (a rule's job process ends
without Python's teardown). The layers and the module map: docs/development.md. Around the pipeline: ``check`` (``make check``), ``notebook`` (the notebooks' API),
``synth`` (synthetic corpora for benchmarks and calibration), ``provenance`` (the library code each
rule runs, as its rerun trigger; ``results/provenance.json``), ``console`` (what ``make run`` prints),
``newcorpus`` (``make new-corpus``: a corpus of your own).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
