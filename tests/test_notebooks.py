"""Every lesson's downloadable notebook shows as many pictures as its page (run ``make docs``).

sphinx-gallery turns each lesson into a Jupyter notebook (``docs/lessons/NN_*.ipynb``). A reader
who downloads it must see the figures the page shows: drawings the lesson shows with
``tg.viz.show`` (or leaves as a cell's value), pyplot figures inline. Each notebook is run here
with nbclient in a fresh IPython kernel, as Jupyter would, and its ``image/*`` outputs are
counted against the pictures of the built page. Two notebooks run at a time (CI has two cores).
Skipped when the site is not built, or nbclient/ipykernel are missing (the ``dev`` extra has
them).
"""
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_docs_site import SITE, page

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "docs" / "lessons"
LESSONS = sorted(p.stem for p in (REPO / "tutorials").glob("[0-9][0-9]_*.py"))
SHARED = REPO.parent / "shared" / "data" / "tinyshakespeare.txt"

pytestmark = pytest.mark.skipif(not (SITE / "index.html").exists(),
                                reason=f"the site is not built ({SITE}): run `make docs` first")


def page_pictures(name: str) -> int:
    """The figures on the built lesson page (SVG drawings and PNG plots of the gallery)."""
    _, links = page(name)
    return sum(1 for src in links.images if src.endswith((".svg", ".png")) and "_images/" in src)


def notebook_pictures(name: str, folder: Path) -> int:
    """Run the lesson's notebook in a fresh kernel; the number of its ``image/*`` outputs."""
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    return sum(1 for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.get("outputs", [])
               if any(kind.startswith("image/") for kind in output.get("data", {})))


@pytest.fixture(scope="module")
def counts(tmp_path_factory):
    """Every lesson notebook run once, two at a time: name -> image outputs (or the error)."""
    env = {"OPENBLAS_NUM_THREADS": "1", "TQDM_DISABLE": "1", "PYTHONPATH": str(REPO)}
    if SHARED.exists():
        env["TINYGRAD_RNN_DATA"] = str(SHARED)
    saved = {k: os.environ.get(k) for k in (*env, "MPLBACKEND")}
    os.environ.update(env)
    os.environ.pop("MPLBACKEND", None)  # the kernel's own inline backend, as in Jupyter

    def run(name):
        try:
            return name, notebook_pictures(name, tmp_path_factory.mktemp(name))
        except (nbclient.exceptions.CellExecutionError, TimeoutError, RuntimeError) as e:
            return name, e  # reported by the lesson's own test case

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return dict(pool.map(run, LESSONS))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_notebooks_start_with_inline_figures():
    for name in LESSONS:
        first = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4).cells[0]
        assert "%matplotlib inline" in first.source, f"{name}.ipynb: {first.source[:80]!r}"


@pytest.mark.parametrize("name", LESSONS)
def test_notebook_shows_the_pages_pictures(name, counts):
    shown = counts[name]
    assert not isinstance(shown, Exception), f"{name}.ipynb failed to run: {shown}"
    assert shown == page_pictures(name), (f"{name}.ipynb shows {shown} pictures, its page "
                                          f"{page_pictures(name)}")
