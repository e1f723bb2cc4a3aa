"""Config group_by: every analysis of one group's documents equals the same analysis run on a
corpus of those documents alone, with a leading `group` column."""

import pandas as pd
import pytest

from test_themes import SCHEMA as THEME_SCHEMA
from test_themes import tokens_of, write_shards
from textdrift import drift
from textdrift.io import read_csv
from textdrift.manifest import check_group_by, document_groups, with_group
from textdrift.phrases import write_phrases
from textdrift.themes import CodebookFiles, ThemesFiles, ThemesSettings, match_shard, write_themes
from textdrift.vectorize import merge_shard_matrices, write_shard_matrices

# two genres over three years; the statements stand in 2022 and 2024, the proposal in 2017 and 2022
PARAS = [
    ("prop17", 2017, "en", 0, [["digital", "economy", "cooperation", "digital", "trade"]]),
    ("prop17", 2017, "en", 1, [["digital", "silk", "road", "cooperation", "trade"]]),
    ("prop22", 2022, "en", 0, [["digital", "economy", "security", "trade", "trade"]]),
    ("stat22", 2022, "en", 0, [["green", "development", "digital", "governance"]]),
    ("stat22", 2022, "en", 1, [["governance", "of", "the", "data", "security"]]),
    ("stat24", 2024, "en", 0, [["artificial", "intelligence", "governance", "security"]]),
    ("stat24", 2024, "en", 1, [["data", "governance", "governance", "green", "development"]]),
]
DOCS = pd.DataFrame({"doc_id": ["prop17", "prop22", "stat22", "stat24", "misc24"],
                     "year": [2017, 2022, 2022, 2024, 2024],
                     "genre": ["proposal", "proposal", "statement", "statement", ""],
                     "tokens_en": [10, 5, 7, 9, 0], "tokens_zh": [0, 0, 0, 0, 0]})
GROUPS = {"proposal": ["prop17", "prop22"], "statement": ["stat22", "stat24"]}
CODEBOOK = """themes:
  - {id: economy, label_en: Economy, en: [digital economy, trade], zh: [经济]}
  - {id: governance, label_en: Governance, en: [governance, security], zh: [治理]}
"""


def test_document_groups_and_group_by_check():
    assert document_groups(DOCS, "genre") == {"proposal": ["prop17", "prop22"], "statement": ["stat22", "stat24"],
                                              "unknown": ["misc24"]}
    check_group_by(None, DOCS.columns)
    check_group_by("genre", [*DOCS.columns, "region"])
    check_group_by("region", [*DOCS.columns, "region"])  # a column of the user's own
    for bad in ("doc_id", "year", "file", "nope"):
        with pytest.raises(ValueError, match=f"group_by: '{bad}' is not a manifest column.*genre"):
            check_group_by(bad, [*DOCS.columns, "file"])
    stacked = with_group({"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"x": pd.Series([], dtype=float)})})
    assert stacked.columns.tolist() == ["group", "x"] and stacked["x"].dtype == "int64"


def _matrices(tmp_path, paras, name):
    """The count and vectorize rules on ``paras``: year, doc and paragraph matrices of English."""
    d = tmp_path / name
    d.mkdir()
    shard = d / "shard-0.parquet"
    tokens_of(*paras).to_parquet(shard)
    write_shard_matrices(shard, {"en": d / "doc_en-0.npz"}, {"en": d / "para_en.npz"}, ngram_max=3)
    merge_shard_matrices([d / "doc_en-0.npz"], {"en": d / "year_en.npz"}, {"en": d / "doc_en.npz"})
    return d


def _alone(table: pd.DataFrame, group: str) -> pd.DataFrame:
    return table[table["group"] == group].drop(columns="group").reset_index(drop=True)


def test_grouped_drift_and_phrases_equal_each_group_run_alone(tmp_path):
    docs = tmp_path / "documents.csv"
    DOCS.to_csv(docs, index=False)
    full = _matrices(tmp_path, PARAS, "all")
    out = {n: full / f"{n}.csv" for n in drift.TABLE_COLUMNS}
    grouped = {n: full / f"by_genre_{n}.csv" for n in drift.TABLE_COLUMNS}
    settings = dict(min_tokens=1, top_n=3, baseline_rounds=10, baseline_min_paragraphs=2)
    drift.write_drift(drift.DriftFiles([full / "year_en.npz"], [full / "para_en.npz"], out, docs, [full / "doc_en.npz"],
                                       grouped), ["en"], drift.DriftSettings(**settings, group_by="genre"))
    write_phrases({"en": full / "year_en.npz"}, full / "phrases.csv", min_count=1, documents=docs, group_by="genre",
                doc_matrices={"en": full / "doc_en.npz"}, grouped_csv=full / "by_genre_phrases.csv")
    g_drift = read_csv(grouped["drift"])
    assert g_drift.columns.tolist() == ["group", *read_csv(out["drift"]).columns]
    # each genre has one step (2017 -> 2022, 2022 -> 2024); the unknown genre has no text, so no rows
    assert g_drift[["group", "year_from", "year_to", "docs_from", "docs_to", "genre_match"]].values.tolist() == [
        ["proposal", 2017, 2022, "prop17", "prop22", "same"], ["statement", 2022, 2024, "stat22", "stat24", "same"]]
    assert read_csv(out["drift"])["genre_match"].tolist() == ["partial", "partial"]  # the whole corpus mixes them
    for group, ids in GROUPS.items():
        alone = _matrices(tmp_path, [p for p in PARAS if p[0] in ids], group)
        drift.write_drift(drift.DriftFiles([alone / "year_en.npz"], [alone / "para_en.npz"],
                                           {n: alone / f"{n}.csv" for n in drift.TABLE_COLUMNS}),
                          ["en"], drift.DriftSettings(**settings))
        for name in drift.TABLE_COLUMNS:
            want = read_csv(alone / f"{name}.csv")
            got = _alone(read_csv(grouped[name]), group)[want.columns.tolist()]
            pd.testing.assert_frame_equal(got, want, check_dtype=False)
        write_phrases({"en": alone / "year_en.npz"}, alone / "phrases.csv", min_count=1)
        want = read_csv(alone / "phrases.csv")
        got = _alone(read_csv(full / "by_genre_phrases.csv"), group)
        assert len(want) > 0
        pd.testing.assert_frame_equal(got[want.columns.tolist()], want, check_dtype=False)
        assert (got["genre_match"] == "same").all()  # each group is one genre (its lists: the grouped drift)


def test_grouped_themes_equal_each_group_run_alone(tmp_path):
    cbk = tmp_path / "themes.yaml"
    cbk.write_text(CODEBOOK, encoding="utf-8")

    def run(paras, d, **kwargs):
        d.mkdir()
        DOCS[DOCS["doc_id"].isin({p[0] for p in paras})].to_csv(d / "documents.csv", index=False)
        shards = write_shards(tokens_of(*paras), d)
        found = [(p.with_name(p.stem + ".m.parquet"), p.with_name(p.stem + ".p.parquet")) for p in shards]
        for p, (m, q) in zip(shards, found):
            match_shard(p, CodebookFiles(cbk, THEME_SCHEMA), m, q, ["en"])
        files = ThemesFiles([m for m, _ in found], [q for _, q in found], CodebookFiles(cbk, THEME_SCHEMA),
                            d / "freq.csv", d / "kwic.csv", d / "unmatched.csv", changes=d / "changes.csv",
                            documents=d / "documents.csv", grouped_freq=kwargs.pop("grouped_freq_path", None),
                            grouped_changes=kwargs.pop("grouped_changes_path", None))
        write_themes(files, ["en"], ThemesSettings(ci="bootstrap", n_boot=200, **kwargs))
        return d

    full = run(PARAS, tmp_path / "all", group_by="genre", grouped_freq_path=tmp_path / "all_g_freq.csv",
               grouped_changes_path=tmp_path / "all_g_changes.csv")
    freq, changes = read_csv(tmp_path / "all_g_freq.csv"), read_csv(tmp_path / "all_g_changes.csv")
    assert freq.columns.tolist() == ["group", *read_csv(full / "freq.csv").columns]
    assert set(freq["group"]) == {"proposal", "statement"}
    for group, ids in GROUPS.items():
        alone = run([p for p in PARAS if p[0] in ids], tmp_path / group)
        for got, path in ((_alone(freq, group), alone / "freq.csv"), (_alone(changes, group), alone / "changes.csv")):
            want = read_csv(path)
            assert len(want) > 0
            pd.testing.assert_frame_equal(got[want.columns.tolist()], want, check_dtype=False)
    # 2022's governance count of the statements alone: governance x1 + security x1 (+ governance x1)
    st = _alone(freq, "statement").set_index(["year", "theme"])
    assert st.loc[(2022, "governance"), "count"] == 3 and st.loc[(2022, "economy"), "count"] == 0
