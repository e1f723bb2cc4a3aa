"""Rule `documents`: the documents table (textdrift.manifest.documents_table)."""

import pandas as pd

from textdrift.io import log_to_file, write_csv
from textdrift.manifest import documents_table
from textdrift.themes import PARA_COLUMNS, read_shards

log_to_file(snakemake.log[0])
i, p = snakemake.input, snakemake.params
manifest = pd.DataFrame(p.manifest)
write_csv(documents_table(manifest, read_shards(i.paras, PARA_COLUMNS), p.languages), snakemake.output[0])
