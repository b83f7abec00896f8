"""The SHA-256 of the package's sources, without Sphinx: the docs build stores it with each
lesson's run (``gallery_scrapers.lesson_clock``), and ``tests/test_tutorials.py`` trusts a run
only for the code it ran."""
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_rnn"


def package_digest() -> str:
    """The SHA-256 of every ``tinygrad_rnn/**/*.py``, by relative path and content."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
