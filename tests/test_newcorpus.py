"""`make new-corpus` (textdrift.newcorpus): a new corpus beside the shipped one, checked by
`make check` until it has documents and themes, then run with CONFIG=."""

import pytest

from textdrift.check import check_inputs
from textdrift.newcorpus import create, main


def test_a_new_corpus_is_empty_and_make_check_says_what_is_missing(tmp_path, monkeypatch):
    from conftest import FIXTURE
    import shutil

    shutil.copytree(FIXTURE / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    written = create("corpora/mine", ["zh"])
    assert {p.name for p in written} == {"config.yaml", "documents.csv", "themes.yaml", "entities.yaml",
                                         "zh_user_dict.txt", "en_despace_words.txt"}
    assert (tmp_path / "corpora/mine/validation").is_dir()
    problems, _ = check_inputs(["config/config.yaml", "corpora/mine/config.yaml"])
    assert len(problems) == 2, problems
    assert "no theme yet" in problems[0] and "no documents yet" in problems[1]
    # a document and a theme: valid, and nothing of the shipped corpus's config is read
    (tmp_path / "corpora/mine/raw/a.txt").write_text("数字经济是新的发展方向。\n", encoding="utf-8")
    with open("corpora/mine/raw/documents.csv", "a", encoding="utf-8") as f:
        f.write("a_2020,2020,,A report,,a.txt,zh,,,report,,,,,\n")
    book = tmp_path / "corpora/mine/themes.yaml"
    book.write_text(book.read_text(encoding="utf-8").replace(
        "themes: []", "themes:\n  - id: economy\n    label_en: Economy\n    label_zh: 经济\n    zh: [数字经济]"),
        encoding="utf-8")
    problems, notes = check_inputs(["config/config.yaml", "corpora/mine/config.yaml"])
    assert problems == [] and "codebook corpora/mine/themes.yaml: 1 themes" in " ".join(notes)
    assert "entity list corpora/mine/entities.yaml: 0 entities" in notes
    # never overwritten
    with pytest.raises(FileExistsError):
        create("corpora/mine")
    assert main(["corpora/mine"]) == 1
