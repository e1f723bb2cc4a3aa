"""Rule `findings`: the headline findings and their checks (textdrift.findings)."""

from textdrift.findings import run_findings
from textdrift.io import log_to_file

log_to_file(snakemake.log[0])
i, p = snakemake.input, snakemake.params
entities = list(i.get("entities", []))
run_findings(i.tokens, i.codebook, i.documents, i.drift, snakemake.output[0], p.languages, p.count_roles,
             schema_path=i.schema, entities_path=entities[0] if entities else None,
             entities_schema=entities[1] if entities else None, top_themes=p.top_themes, conf_level=p.conf_level,
             n_boot=p.n_boot, seed=p.seed, bootstrap_unit=p.bootstrap_unit, min_documents=p.min_documents,
             tfidf=p.tfidf, phrases_path=i.phrases, phrase_settings=p.phrase_settings, top_phrases=p.top_phrases,
             crosslingual_path=i.crosslingual, cross_settings=p.cross_settings, precision_path=i.precision,
             min_precision=p.min_precision, min_coded=p.min_coded)
