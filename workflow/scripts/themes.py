"""Rule `themes`: theme frequencies, KWIC and unmatched codebook terms from the shards' matches (textdrift.themes)."""

from textdrift.io import log_to_file
from textdrift.themes import run_themes

log_to_file(snakemake.log[0])
i, o, p = snakemake.input, snakemake.output, snakemake.params
run_themes(
    i.matches, i.paras, i.codebook, o.frequencies, o.kwic, o.unmatched, p.languages, schema_path=i.schema,
    ci=p.ci, conf_level=p.conf_level, n_boot=p.n_boot, seed=p.seed, entity_paths=i.entities,
    entities_path=i.get("entity_list", [None])[0], entities_schema=i.get("entity_list", [None, None])[1],
    entity_freq_path=o.entity_frequencies, bootstrap_unit=p.bootstrap_unit, min_documents=p.min_documents,
    changes_path=o.changes, min_tokens=p.min_tokens, documents_path=i.documents,
    group_by=p.group_by, grouped_freq_path=o.get("grouped_frequencies"), grouped_changes_path=o.get("grouped_changes"),
)
