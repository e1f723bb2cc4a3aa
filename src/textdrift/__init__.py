"""textdrift: how a body of bilingual policy texts changes its language from year to year.

One module per pipeline step (manifest, clean, segment, vectorize, themes, drift, phrases,
crosslingual, findings, validation, figures, report); the Snakemake rules and the notebooks call
the same functions. Shared by the steps: ``codebook`` (the theme codebook: themes, checks, hash),
``matching`` (codebook terms in a token table, with KWIC context), ``align`` (paragraph alignment
of two versions of a text), ``stats`` (intervals, tests and divergences), ``entities``, ``io``,
``config``; ``notebook`` is the notebooks' API over them.
"""

__version__ = "0.1.0"
