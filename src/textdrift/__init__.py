"""textdrift: how a body of bilingual policy texts changes its language from year to year.

One module per pipeline step (manifest, clean, segment, vectorize, themes, drift,
phrases, figures); the Snakemake rules and the notebooks call the same functions.
"""

__version__ = "0.1.0"
