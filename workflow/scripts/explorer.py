"""Rule `explorer`: results/explorer.html, the offline explorer (textdrift.explorer)."""

from pathlib import Path

from textdrift.io import log_to_file
from textdrift.explorer import run_explorer

log = log_to_file(snakemake.log[0])
i, p = snakemake.input, snakemake.params
sizes = run_explorer(
    snakemake.output[0], {Path(t).stem: t for t in i.tables}, dict(zip(p.languages, i.year)), list(i.tokens),
    i.codebook, p.languages, p.settings, schema_path=i.schema,
    entities_path=i.entities[0] if i.entities else None, entities_schema=i.entities[1] if i.entities else None,
    assets=Path(i.assets[0]).parent, count_roles=p.count_roles, unspaced_languages=p.unspaced_languages,
    low_data_tokens=p.low_data_tokens, conf_level=p.conf_level, q_threshold=p.q_threshold,
    crosslingual_langs=p.crosslingual_langs,
)
log.info("explorer.html: %s bytes (payload parts: %s)", sizes.pop("page"), sizes)
