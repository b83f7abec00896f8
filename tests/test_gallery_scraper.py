"""The docs' image scraper (``docs/gallery_scrapers.py``) saves each new picture once.

sphinx-gallery is not installed with the test dependencies: its one function the scraper uses,
``figure_rst``, is replaced by a stub that returns the saved paths.
"""
import sys
import types
from pathlib import Path

import pytest

import tinygrad_rnn as tg

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture
def scrapers(monkeypatch):
    pytest.importorskip("graphviz")
    stub = types.ModuleType("sphinx_gallery.scrapers")
    stub.figure_rst = lambda paths, src_dir: paths
    monkeypatch.setitem(sys.modules, "sphinx_gallery", types.ModuleType("sphinx_gallery"))
    monkeypatch.setitem(sys.modules, "sphinx_gallery.scrapers", stub)
    monkeypatch.syspath_prepend(str(DOCS))
    monkeypatch.delitem(sys.modules, "gallery_scrapers", raising=False)
    import gallery_scrapers
    return gallery_scrapers


def test_a_drawing_under_two_names_is_saved_once(scrapers, tmp_path):
    """A cell ending in ``drawing`` leaves it in the globals as ``drawing`` and ``___``."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    drawing = tg.viz.draw((x * x).sum())
    block_vars = {"example_globals": {"drawing": drawing, "___": drawing},
                  "image_path_iterator": iter(tmp_path / f"image_{k}.png" for k in range(9))}
    saved = scrapers.scraper(None, block_vars, {"src_dir": str(tmp_path)})
    assert saved == [str(tmp_path / "image_0.svg")]
    assert scrapers.scraper(None, block_vars, {"src_dir": str(tmp_path)}) == []  # not again
