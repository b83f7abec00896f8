"""``tg.viz.show``: pictures visible in Jupyter (run for real in a kernel), quiet in the docs
build, written under ``out/<lesson>/`` by a plain script."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tinygrad_rnn as tg

REPO = Path(__file__).resolve().parents[1]

MAKE = """
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
import tinygrad_rnn as tg
x = tg.tensor([1.0, 2.0], requires_grad=True)
g = tg.viz.draw((x * x).sum())
lone = Figure(); lone.add_subplot().plot([1, 2])
fig, ax = plt.subplots(); ax.plot([2, 1])
"""


def run_script(tmp_path, env_extra=None) -> subprocess.CompletedProcess:
    script = tmp_path / "07_demo.py"
    script.write_text(MAKE + "tg.viz.show(g)\ntg.viz.show(lone, fig)\n")
    env = {k: v for k, v in os.environ.items() if k != "TINYGRAD_RNN_GALLERY"}
    env.update(PYTHONPATH=str(REPO), MPLBACKEND="Agg", **(env_extra or {}))
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True)


def test_a_script_writes_its_pictures_and_says_where(tmp_path):
    done = run_script(tmp_path)
    folder = tmp_path / "out" / "07_demo"
    assert sorted(p.name for p in folder.iterdir()) == ["01.svg", "02.png", "03.png"]
    assert b"<svg" in (folder / "01.svg").read_bytes()[:500]
    for name in ("02.png", "03.png"):
        assert (folder / name).read_bytes().startswith(b"\x89PNG")
    assert done.stdout.splitlines() == [f"figure written to {Path('out/07_demo') / n}"
                                        for n in ("01.svg", "02.png", "03.png")]


def test_the_docs_build_leaves_pictures_to_the_gallery(tmp_path):
    done = run_script(tmp_path, {"TINYGRAD_RNN_GALLERY": "1"})
    assert not (tmp_path / "out").exists() and done.stdout == ""


def test_show_refuses_what_is_not_a_picture():
    with pytest.raises(TypeError, match="show\\(\\): expected a Graphviz drawing"):
        tg.viz.show(tg.tensor([1.0]))


def test_jupyter_shows_each_picture_once(tmp_path):
    """In a real kernel: the drawing and the non-pyplot figure shown by ``show``, the pyplot
    figure by the inline backend (not twice), nothing as the cell's value."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    cells = ["%matplotlib inline", MAKE, "tg.viz.show(g)", "tg.viz.show(lone)",
             "fig, ax = plt.subplots(); ax.plot([3, 4]); tg.viz.show(fig)"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(textwrap.dedent(c))
                                               for c in cells])
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(REPO)
    try:
        nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.pop("PYTHONPATH") if saved is None else os.environ.update(PYTHONPATH=saved)
    images = [[kind for out in cell.outputs for kind in out.get("data", {})
               if kind.startswith("image/")] for cell in notebook.cells]
    assert images[2] == ["image/svg+xml"]
    assert images[3] == ["image/png"]
    assert images[4] == ["image/png"]  # once: pyplot's inline display, not show's too
    assert not (tmp_path / "out").exists()
