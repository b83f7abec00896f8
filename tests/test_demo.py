"""The command-line demo really fits its regression with the engine's gradients."""
import subprocess
import sys
from pathlib import Path

from tinygrad_rnn.cli import build_parser
from tinygrad_rnn.cli.demo import TRUE_B, TRUE_W, fit_linear_regression

REPO = Path(__file__).resolve().parents[1]


def test_demo_fits_the_line():
    result = fit_linear_regression(log=None)

    assert abs(result.W - TRUE_W) < 1e-3
    assert abs(result.b - TRUE_B) < 1e-3
    assert result.losses[-1] < 1e-6
    assert result.losses[-1] < result.losses[0]


def test_python_m_runs_the_command_line():
    """``python -m tinygrad_rnn`` (what ``make demo`` runs) reaches every command's parser."""
    done = subprocess.run([sys.executable, "-m", "tinygrad_rnn", "--help"], check=False,
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(command in done.stdout for command in ("demo", "train", "graph"))
    assert build_parser().parse_args(["demo", "--seed", "3"]).seed == 3
