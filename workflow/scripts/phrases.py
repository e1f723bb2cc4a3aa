"""Rule `phrases`: year-over-year phrase changes of every language (textdrift.phrases)."""

from textdrift.io import log_to_file
from textdrift.phrases import run_phrases

log_to_file(snakemake.log[0])
i, o, p = snakemake.input, snakemake.output, snakemake.params
run_phrases(dict(zip(p.languages, i.year)), o.changes, p.ngram_max, p.vectorize_ngram_max,
            p.min_count, p.alpha_0, p.q_threshold, p.unspaced_languages, p.min_tokens,
            documents=i.documents, group_by=p.group_by, doc_matrices=dict(zip(p.languages, i.doc)),
            grouped_csv=o.get("grouped"))
