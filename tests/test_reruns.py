"""Adding a document reruns only the shard it lands in (issue 26; docs/reruns.md).

The corpus-wide rule ``repeated_paragraphs`` (a checkpoint) rewrites every shard's roles file
(``data/processed/clean/_shards/repeated-{shard}.csv``) whenever any shard's paragraph keys change;
a shard's ``segment`` job reruns only when its own file changed in content. On the fixture corpus
(four shards, one of them empty) with a footer in two English documents of two shards:

1. a document without the footer added to the empty shard: its ``clean`` and ``segment`` jobs and
   the checkpoint run, no other shard's ``segment`` (the dry run already says so);
2. a third document with the footer, in a third shard: the footer is now repeated
   (``min_share`` 0.3 of 8 English documents), so the two shards whose roles changed rerun their
   ``segment`` jobs too (found once the checkpoint has run; the dry run lists only the new
   document's shard), their footer tokens are ``paratext``, and the fourth shard is left alone.
"""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest

from conftest import copy_project, run_snakemake

pytestmark = pytest.mark.e2e

N_SHARDS = 4  # the fixture's config (shards: 4); textdrift.manifest.shard_of puts its documents in 0, 2, 3
FOOTER = "This translation is shared under the Open Policy Texts licence for non-commercial research only."
SETTINGS = "clean:\n  repeated_paragraphs:\n    min_share: 0.3\n"
TOKENS = [f"data/processed/tokens/shard-{i}.parquet" for i in range(N_SHARDS)]


def _add_document(work, doc_id: str, footer: bool) -> None:
    """A short English document (its own sentences, the footer last) and its manifest row."""
    from textdrift.manifest import shard_of

    assert 0 <= shard_of(doc_id, N_SHARDS) < N_SHARDS
    # repeated paragraphs are compared by their letters only (digits set aside): a word per document
    name = {"added_0": "Amber", "added_1": "Birch", "added_4": "Cedar"}[doc_id]
    body = [f"Digital Cooperation Note {name}", "",
            f"The parties of the {name} note agree to expand broadband access and to raise its quality in rural areas.",
            "",
            f"They will share experience in e-commerce, data centres and skills training under the {name} note."]
    text = "\n".join(body + (["", FOOTER] if footer else [])) + "\n"
    (work / "data/raw" / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    manifest = work / "data/raw/documents.csv"
    with manifest.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    row = {"doc_id": doc_id, "date": "2024-06-01", "year": "2024", "title": f"Digital Cooperation Note {name}",
           "file": f"{doc_id}.txt", "languages": "en"}
    with manifest.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow([row.get(c, "") for c in header])


def _segment_shards(output: str) -> set[int]:
    """The shards of the ``segment`` jobs a Snakemake run (or dry run) lists."""
    return {int(m.group(1)) for m in re.finditer(
        r"(?ms)^(?:local)?rule segment:\n(?:    [^\n]*\n)*?    wildcards: shard=(\d+)", output)}


def _mtimes(work) -> list[int]:
    return [(work / t).stat().st_mtime_ns for t in TOKENS]


def _footer_roles(work, shard: int) -> set[str]:
    tokens = pd.read_parquet(work / TOKENS[shard], columns=["doc_id", "lang", "para", "role", "norm"])
    return set(tokens.loc[tokens["norm"] == "licence", "role"])


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from textdrift.manifest import shard_of

    work = copy_project(tmp_path_factory.mktemp("reruns"))
    (work / "reruns.yaml").write_text(SETTINGS, encoding="utf-8")
    # the footer in two English documents of shards 3 and 2: two of seven, not repeated
    path = work / "data/raw/003_cb0843f0ad46c33e.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + FOOTER + "\n", encoding="utf-8")
    assert shard_of("gdi_chair_statement_2023", N_SHARDS) == 3 and shard_of("added_1", N_SHARDS) == 2
    _add_document(work, "added_1", footer=True)
    _run(work)
    assert _footer_roles(work, 3) == {"body"}
    return work


def _run(work, *args):
    # the targets first: --configfile takes every argument that follows it
    return run_snakemake(work, *TOKENS, *args, "--configfile", "config/config.yaml", "reruns.yaml")


def test_a_document_reruns_only_its_shard_then_the_shards_whose_roles_change(project):
    from textdrift.manifest import shard_of

    work = project
    # 1. a document in the empty shard 1, without the footer: no role changes elsewhere
    assert shard_of("added_4", N_SHARDS) == 1
    _add_document(work, "added_4", footer=False)
    dry = _run(work, "--dry-run").stdout
    assert _segment_shards(dry) == {1}, dry[-3000:]
    assert set(re.findall(r"(?m)^(?:rule|checkpoint) (\w+):", dry)) == {"clean", "repeated_paragraphs", "segment"}
    before = _mtimes(work)
    proc = _run(work)
    after = _mtimes(work)
    assert [i for i in range(N_SHARDS) if after[i] != before[i]] == [1], proc.stderr[-3000:]
    assert _segment_shards(proc.stderr + proc.stdout) == {1}
    assert _run(work, "--dry-run").stdout.count("rule ") == 0  # nothing left to do

    # 2. a third footer, in shard 0: the footer is repeated (3 of 8 English documents > 0.3), the
    # roles of shards 2 and 3 change and their segment jobs rerun; shard 1 keeps its tokens
    assert shard_of("added_0", N_SHARDS) == 0
    _add_document(work, "added_0", footer=True)
    assert _segment_shards(_run(work, "--dry-run").stdout) == {0}  # the roles are known after the checkpoint
    before = _mtimes(work)
    proc = _run(work)
    after = _mtimes(work)
    assert [i for i in range(N_SHARDS) if after[i] != before[i]] == [0, 2, 3], proc.stderr[-3000:]
    assert _segment_shards(proc.stderr + proc.stdout) == {0, 2, 3}
    for shard in (0, 2, 3):
        assert _footer_roles(work, shard) == {"paratext"}, shard
    roles = pd.read_csv(work / "data/processed/clean/_shards/repeated-3.csv")
    assert set(roles["doc_id"]) == {"gdi_chair_statement_2023"} and set(roles["action"]) == {"paratext"}
    assert pd.read_csv(work / "data/processed/clean/_shards/repeated-1.csv").empty
