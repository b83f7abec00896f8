"""The docs' image scraper (``docs/gallery_scrapers.py``) saves each new picture once.

sphinx-gallery keeps a code block's last expression in the lesson's globals as ``___`` too, so a
drawing shown as the last expression of a cell (as Jupyter shows it) is found under two names;
it must still become one image on the page. Needs sphinx-gallery (``make docs`` installs it).
"""
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx_gallery")
graphviz = pytest.importorskip("graphviz")
SOURCE = Path(__file__).resolve().parents[1] / "docs" / "gallery_scrapers.py"
sys.path.insert(0, str(SOURCE.parent))  # its sibling package_digest, as docs/conf.py arranges
spec = importlib.util.spec_from_file_location("gallery_scrapers", SOURCE)
gallery_scrapers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gallery_scrapers)


def scrape(example_globals: dict, folder: Path) -> list[str]:
    paths = (str(folder / f"image_{k}.png") for k in range(10))
    block_vars = {"image_path_iterator": paths, "example_globals": example_globals}
    gallery_scrapers.scraper(None, block_vars, {"src_dir": str(folder)})
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_a_drawing_that_is_also_the_last_expression_is_saved_once(tmp_path):
    drawing = graphviz.Digraph()
    drawing.node("h")
    assert scrape({"drawing": drawing, "___": drawing}, tmp_path) == ["image_0.svg"]


def test_a_figure_under_two_names_is_saved_once(tmp_path):
    from matplotlib.figure import Figure

    figure = Figure()
    figure.subplots().plot([0, 1])
    assert scrape({"flow_figure": figure, "___": figure}, tmp_path) == ["image_0.png"]
