"""Rule `segment`: segment the clean texts of one shard into the token table (textdrift.segment)."""

from pathlib import Path

from textdrift.entities import load_entities
from textdrift.io import log_to_file, read_csv
from textdrift.segment import segment_shard, write_tokens

logger = log_to_file(snakemake.log[0])
index = read_csv(snakemake.input.index, dtype={"doc_id": str, "lang": str, "file": str, "roles": str})
docs = [
    {"doc_id": r.doc_id, "year": int(r.year), "lang": r.lang, "path": r.file, "roles": r.roles}
    for r in index.itertuples()
]
entities = load_entities(*snakemake.input.entities) if snakemake.input.get("entities") else []
tokens = segment_shard(docs, base_dir=Path.cwd(), cfg=snakemake.params.segment, entities=entities)
logger.info("segmented %d texts into %d tokens (%d entity mentions)", len(docs), len(tokens),
            int(tokens["norm"].str.startswith("@").sum()))
write_tokens(tokens, snakemake.output[0])
