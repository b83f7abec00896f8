"""The lessons in tutorials/ run on their own, as a reader runs them: ``python tutorials/NN_*.py``.

Each runs in a subprocess, from a temporary folder, with matplotlib's Agg backend and the shared
tiny-Shakespeare copy (never a download), and must finish within the lessons' time budget of
90 seconds of CPU time (measured for the child process, so that a machine busy with other work
does not fail it; BLAS runs on one thread); its own asserts check the number it teaches.

The docs build (``make docs``, which CI runs first) executes every lesson too, to draw its
figures, and records each lesson's CPU time with the SHA-256 of its source
(``docs/_build/lesson_runs.json``, written by ``docs/gallery_scrapers.lesson_clock``). Where that
record matches the lesson and the package as they are now, the budget is checked on it instead of running the lesson
a second time: a lesson that failed there would have failed the build (``abort_on_example_error``).
"""
import ast
import hashlib
import json
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
DOCS_RUNS = REPO / "docs" / "_build" / "lesson_runs.json"
sys.path.insert(0, str(REPO / "docs"))
from package_digest import package_digest  # the digest the docs build stores with each run


def test_lessons_numbered_in_order():
    """Lessons 01, 02, ... with no gap and no number used twice; at least the first six."""
    numbers = [int(p.name[:2]) for p in LESSONS]
    assert numbers == list(range(1, len(numbers) + 1)), [p.name for p in LESSONS]
    assert len(numbers) >= 6
    assert (REPO / "tutorials" / "README.txt").exists()  # the gallery's header


def docs_run(lesson: Path) -> dict | None:
    """The docs build's record of this lesson as it is now, or None (no build, or it changed)."""
    if not DOCS_RUNS.exists():
        return None
    run = json.loads(DOCS_RUNS.read_text()).get(lesson.stem)
    if run is None or run["sha256"] != hashlib.sha256(lesson.read_bytes()).hexdigest():
        return None
    return run if run.get("package") == package_digest() else None


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
    run = docs_run(lesson)
    if run is not None:  # the docs build ran this very source: check its time, don't rerun it
        assert run["cpu_s"] <= BUDGET_S, (f"{lesson.name} took {run['cpu_s']:.0f} s of CPU "
                                          f"({run['wall_s']:.0f} s wall) in the docs build, "
                                          f"over the {BUDGET_S} s budget")
        assert not run["warnings"], f"{lesson.name} warned in the docs build: {run['warnings']}"
        return
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
