"""Every notebook runs top to bottom on the outputs of a real workflow run (conftest's ``workflow_run``).

The kernel is this interpreter (the project's .venv): a kernelspec for ``sys.executable`` is
installed into a temporary directory put first on ``JUPYTER_PATH``, and the last cell of each
executed copy prints the kernel's interpreter to prove it. ``TEXTDRIFT_ROOT`` points the notebooks
at the workflow copy; the committed notebooks and the repo's codebook are never modified.
"""

import hashlib
import json
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import FIXTURE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "textdrift-test"

pytestmark = pytest.mark.e2e


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory):
    """A kernelspec running this interpreter, in a temporary Jupyter data directory."""
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name=KERNEL, display_name="textdrift (tests)", prefix=str(prefix))
    spec = json.loads((prefix / "share/jupyter/kernels" / KERNEL / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    return prefix / "share/jupyter"


def test_the_three_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["01-explore.ipynb", "02-extend-themes.ipynb", "03-compare.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and "make run" in first.source and "Kernel" in first.source
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, workflow_run, kernel_dir, monkeypatch):
    from nbclient import NotebookClient

    project = workflow_run["dir"]
    codebooks = [FIXTURE / "config/themes.yaml", project / "config/themes.yaml"]
    before = [digest(p) for p in codebooks]
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    monkeypatch.setenv("TEXTDRIFT_ROOT", str(project))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable, end='')"))
    # Runs in notebooks/ as a user would; a failing cell raises CellExecutionError with its traceback.
    NotebookClient(nb, kernel_name=KERNEL, timeout=300, resources={"metadata": {"path": str(path.parent)}}).execute()
    assert nb.cells[-1].outputs[0]["text"] == sys.executable
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o["output_type"] == "error"]
    assert not errors
    assert [digest(p) for p in codebooks] == before  # SAVE = False: no codebook written


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_a_corpus_with_an_added_document(path, grown_run, monkeypatch, tmp_path):
    """A user's corpus (documents added, a new year: conftest's ``grown_run``): each notebook runs with `jupyter nbconvert
    --execute` from the project environment, with its own default kernel (no kernel registered)."""
    import subprocess

    jupyter = str(Path(sys.executable).with_name("jupyter"))
    env = {**__import__("os").environ, "TEXTDRIFT_ROOT": str(grown_run), "MPLBACKEND": "Agg",
           "JUPYTER_PATH": str(tmp_path / "empty")}  # no kernelspec but the environment's own
    out = tmp_path / path.name
    proc = subprocess.run([jupyter, "nbconvert", "--to", "notebook", "--execute", f"--output={out}",
                           "--ExecutePreprocessor.timeout=300", str(path)], cwd=path.parent, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    if path.stem == "03-compare":
        assert "en: 2017 vs 2025" in text  # the added year is the last English year
