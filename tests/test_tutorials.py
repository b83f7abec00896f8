"""The lessons in tutorials/ run on their own, as a reader runs them: ``python tutorials/NN_*.py``.

Each runs in a subprocess, from a temporary folder, with matplotlib's Agg backend and the shared
tiny-Shakespeare copy (never a download), and must finish within the lessons' time budget of
90 seconds of CPU time (measured for the child process, so that a machine busy with other work
does not fail it; BLAS runs on one thread); its own asserts check the number it teaches. The docs build runs them again to draw
their figures.
"""
import ast
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "tutorials").glob("[0-9][0-9]_*.py"))
SHARED = REPO.parent / "shared" / "data" / "tinyshakespeare.txt"
BUDGET_S = 90


def test_six_lessons_in_order():
    assert [p.name[:3] for p in LESSONS] == ["01_", "02_", "03_", "04_", "05_", "06_"]
    assert (REPO / "tutorials" / "README.txt").exists()  # the gallery's header


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_is_literate(lesson):
    """A reST title in the docstring, text cells, and a section with the number to check."""
    source = lesson.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(source))
    title = doc.splitlines()[0]
    assert title.startswith(f"Lesson {int(lesson.name[:2])} ")
    assert doc.splitlines()[1] == "=" * len(title)
    assert source.count("\n# %%\n") >= 4
    assert "The number to check" in source and "**The number" in doc
    assert "matplotlib.use(" not in source  # the backend is the runner's choice (Agg here)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_within_budget(lesson, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", TQDM_DISABLE="1",
               PYTHONPATH=str(REPO))
    if "load_shakespeare" in lesson.read_text(encoding="utf-8"):
        if not SHARED.exists():
            pytest.skip(f"needs tiny Shakespeare; the shared copy is not at {SHARED}")
        env["TINYGRAD_RNN_DATA"] = str(SHARED)
        env["TINYGRAD_RNN_CACHE"] = str(tmp_path / "cache")  # a download would land here, unused
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(lesson)], check=False, cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=4 * BUDGET_S)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert done.returncode == 0, f"{lesson.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert cpu <= BUDGET_S, (f"{lesson.name} took {cpu:.0f} s of CPU ({wall:.0f} s wall), over "
                             f"the {BUDGET_S} s budget")
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr, done.stderr[-2000:]
    assert not list((tmp_path / "cache").glob("*")), "a lesson downloaded the corpus"
