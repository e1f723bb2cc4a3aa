"""Rule `theme_matches`: codebook matches and kept tokens per paragraph of one token shard (textdrift.themes)."""

from textdrift.io import log_to_file
from textdrift.themes import match_shard

log_to_file(snakemake.log[0])
i, o, p = snakemake.input, snakemake.output, snakemake.params
match_shard(i.tokens, i.codebook, o.matches, o.paras, p.languages, schema_path=i.schema, kwic_window=p.kwic_window,
            unspaced_languages=p.unspaced_languages, entities_path=i.get("entities", [None])[0],
            entities_schema=i.get("entities", [None, None])[1], entity_matches_path=o.entities,
            count_roles=p.count_roles)
