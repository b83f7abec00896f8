"""The command line refuses bad input before any work, and says so on one line.

An option argparse's type refuses exits with status 2 and ``prog: error: argument --name: ...``;
a problem found later (a damaged checkpoint, a missing file) prints one ``prog: error: ...``
line naming the file and the entry, status 2; a run that diverges stops with status 1 and leaves
the last good checkpoint as it was. Tiny settings and the shared tiny-Shakespeare copy throughout.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.cli import main
from tinygrad_rnn.cli import train as cli_train

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "tinyshakespeare.txt"
needs_data = pytest.mark.skipif(not SHARED.exists(),
                                reason=f"the shared tiny-Shakespeare copy is not at {SHARED}")
TRAIN = "python -m tinygrad_rnn train charlm: error: "
EACH_RUN = ["--data", str(SHARED), "--val-chars", "400", "--eval-every", "2", "--sample", "0"]
SMALL = ["--hidden", "8", "--embed", "4", "--batch", "2", "--seq-len", "8"]


def train(checkpoint, *args):
    """``train charlm`` of a tiny model (give ``--resume`` to take the sizes from the file)."""
    sizes = [] if "--resume" in args else SMALL
    return main(["train", "charlm", *EACH_RUN, *sizes, "--checkpoint", str(checkpoint), *args])


def one_error_line(capsys, prog=TRAIN) -> str:
    """The message of the one ``prog: error: ...`` line on stderr."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(prog), err
    return err[len(prog):].strip()


# ---- options -----------------------------------------------------------------------------
@pytest.mark.parametrize("option, value, why", [
    ("--batch", "0", "at least 1"), ("--batch", "-3", "at least 1"),
    ("--lr", "nan", "finite number above 0"), ("--lr", "inf", "finite number above 0"),
    ("--lr", "0", "finite number above 0"), ("--lr", "fast", "must be a number"),
    ("--clip", "-1", "finite number above 0"), ("--eval-every", "0", "at least 1"),
    ("--val-chars", "3", "at least 51"), ("--steps", "0", "at least 1"),
    ("--hidden", "1.5", "must be an integer"), ("--seed", "-1", "at least 0"),
    ("--minutes", "0", "finite number above 0"), ("--sample", "-1", "at least 0"),
    ("--cell", "transformer", "one of gru, lstm, rnn"),
])
def test_bad_options_are_refused_before_any_work(option, value, why, tmp_path, capsys):
    checkpoint = tmp_path / "ck.npz"
    assert main(["train", "charlm", "--data", str(tmp_path / "no.txt"), "--checkpoint",
                 str(checkpoint), option, value]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"{TRAIN}argument {option}: ") and why in last
    assert not checkpoint.exists()


@pytest.mark.parametrize("where, why", [
    (lambda d: d, "is a folder"),
    (lambda d: d / "file.txt" / "ck.npz", "cannot write in"),
])
def test_a_checkpoint_path_that_cannot_be_written_is_refused_first(where, why, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("not a folder")
    # the data file is missing too: the checkpoint is checked before the data are read
    assert main(["train", "charlm", "--data", str(tmp_path / "no.txt"), "--checkpoint",
                 str(where(tmp_path))]) == 2
    assert why in one_error_line(capsys)


def test_a_missing_data_file_is_one_line(tmp_path, capsys):
    assert main(["train", "charlm", "--data", str(tmp_path / "no.txt"), "--checkpoint",
                 str(tmp_path / "ck.npz")]) == 2
    assert "no such file" in one_error_line(capsys)


# ---- damaged checkpoints -----------------------------------------------------------------
@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict:
    """The entries of a checkpoint two steps into a tiny run."""
    if not SHARED.exists():
        pytest.skip(f"the shared tiny-Shakespeare copy is not at {SHARED}")
    path = tmp_path_factory.mktemp("good") / "ck.npz"
    assert train(path, "--steps", "2") == 0
    return tg.load(path)


def config_with(**fields):
    def change(arrays):
        config = json.loads(arrays["config"].tobytes())
        config.update(fields)
        for k in [k for k, v in fields.items() if v is None]:
            del config[k]
        arrays["config"] = np.frombuffer(json.dumps(config).encode(), np.uint8)
    return change


def entry(key, value):
    def change(arrays):
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value(arrays[key]) if callable(value) else value
    return change


DAMAGE = {
    "no config": (entry("config", None), "entry 'config' is missing"),
    "no step": (entry("step", None), "entry 'step' is missing"),
    "config not UTF-8": (entry("config", np.frombuffer(b'{"cell": "\xff"}', np.uint8)),
                         "entry 'config' is not UTF-8 text"),
    "config not JSON": (entry("config", np.frombuffer(b'{"cell": ', np.uint8)),
                        "entry 'config' is not JSON"),
    "config a list": (entry("config", np.frombuffer(b"[1, 2]", np.uint8)),
                      "entry 'config' must be a JSON object, got list"),
    "config floats": (entry("config", np.zeros(3)), "entry 'config' must be UTF-8 bytes"),
    "step a float": (entry("step", np.asarray(2.0)), "entry 'step' must be one integer"),
    "step negative": (entry("step", np.asarray(-1)), "entry 'step' must be one integer >= 0"),
    "field missing": (config_with(seed=None), "entry 'config' has no field 'seed'"),
    "vocab missing": (config_with(vocab=None), "field 'vocab' must be the text's characters"),
    "hidden zero": (config_with(hidden=0), "field 'hidden' must be at least 1, got 0"),
    "hidden a bool": (config_with(hidden=True), "field 'hidden' must be an integer"),
    "lr NaN": (config_with(lr=float("nan")), "field 'lr' must be a finite number above 0"),
    "unknown cell": (config_with(cell="lstm2"), "field 'cell' must be one of gru, lstm, rnn"),
    "absurd hidden": (config_with(hidden=10**9), "'config' describes a model of 4,000,000,"),
    "another text": (config_with(vocab="abc"), "'vocab' (3 characters) is not the training"),
    "unexpected entry": (entry("extra", np.zeros(2)), "unexpected entry 'extra'"),
    "NaN weights": (entry("model.rnn.weight_hh_l0", lambda w: w * np.nan),
                    "entry 'model.rnn.weight_hh_l0' holds NaN or infinite weights"),
    "transposed weight": (entry("model.head.weight", lambda w: np.ascontiguousarray(w.T)),
                          "head.weight"),
    "moment shape": (entry("optim.0.exp_avg", lambda m: m.reshape(-1)),
                     "'optim.0.exp_avg' is float32 of shape (260,), expected float of shape (65, 4)"),
    "moment NaN": (entry("optim.1.exp_avg_sq", lambda m: m * np.nan),
                   "entry 'optim.1.exp_avg_sq' holds NaN or infinite values"),
    "moment missing": (entry("optim.2.exp_avg_sq", None),
                       "entry 'optim.2.*' holds ['exp_avg', 'step'], but Adam keeps"),
    "moment of no parameter": (entry("optim.99.exp_avg", np.zeros(3, np.float32)),
                               "'optim.99.*' is the state of parameter 99, but the model has 7"),
    "count negative": (entry("optim.0.step", np.asarray(-5)), "entry 'optim.0.step' holds -5"),
}


@needs_data
@pytest.mark.parametrize("case", list(DAMAGE))
def test_every_checkpoint_problem_is_one_line_naming_file_and_entry(case, good, tmp_path,
                                                                    capsys):
    change, message = DAMAGE[case]
    arrays = dict(good)
    change(arrays)
    path = tmp_path / "ck.npz"
    tg.save(arrays, path)
    before = path.read_bytes()
    assert train(path, "--steps", "4", "--resume") == 2
    line = one_error_line(capsys)
    assert str(path) in line and message in line, line
    assert path.read_bytes() == before


@pytest.mark.parametrize("write, message", [
    (lambda p: p.write_bytes(b"PK\x03\x04 truncated"), "is not a readable .npz checkpoint"),
    (lambda p: p.write_text("ROMEO: a text file"), "is not a readable .npz checkpoint"),
    (lambda p: np.save(p.open("wb"), np.zeros(3)), "one array (np.save), not a checkpoint"),
])
def test_a_file_that_is_no_checkpoint_is_one_line(write, message, tmp_path, capsys):
    path = tmp_path / "ck.npz"
    write(path)
    assert main(["train", "charlm", "--checkpoint", str(path), "--resume"]) == 2
    line = one_error_line(capsys)
    assert str(path) in line and message in line


@needs_data
def test_the_command_exits_2_with_one_line(good, tmp_path):
    arrays = dict(good)
    arrays["config"] = np.frombuffer(b"\xff\xfe", np.uint8)
    path = tmp_path / "ck.npz"
    tg.save(arrays, path)
    done = subprocess.run([sys.executable, "-m", "tinygrad_rnn", "train", "charlm", *EACH_RUN,
                           "--checkpoint", str(path), "--resume"], check=False, cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"{TRAIN}{path}: entry 'config' is not UTF-8 text: 'utf-8' codec " \
        "can't decode byte 0xff in position 0: invalid start byte\n"


# ---- divergence --------------------------------------------------------------------------
@needs_data
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy, computing with the broken weights
@pytest.mark.parametrize("how", ["loss", "weights"])
def test_a_run_that_diverges_stops_and_keeps_the_last_good_checkpoint(how, tmp_path, capsys,
                                                                      monkeypatch):
    path = tmp_path / "ck.npz"
    assert train(path, "--steps", "2") == 0
    before = path.read_bytes()
    real = cli_train.train_step

    def bad_step(model, optimizer, x, y, clip):
        step = real(model, optimizer, x, y, clip)
        if how == "weights":  # a finite loss, but the update broke the weights
            model.head.bias.data[0] = np.inf
        return step._replace(loss=float("nan")) if how == "loss" else step

    monkeypatch.setattr(cli_train, "train_step", bad_step)
    capsys.readouterr()
    assert train(path, "--steps", "6", "--resume", "--eval-every", "1") == 1
    line = one_error_line(capsys)
    what = "the training loss is nan" if how == "loss" else "the weights or the validation loss"
    assert line.startswith(f"step 3: {what}")
    assert f"{path} keeps step 2" in line
    assert path.read_bytes() == before


# ---- graph --------------------------------------------------------------------------------
def test_graph_out_makes_its_folder(tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "lstm.dot"
    assert main(["graph", "--steps", "2", "--out", str(out)]) == 0
    assert out.read_text().startswith("digraph bptt {")


@pytest.mark.parametrize("out, why", [
    (lambda d: d, "is a folder"),
    (lambda d: d / "g.txt", "must end in one of .svg"),
])
def test_graph_refuses_a_bad_out_before_drawing(out, why, tmp_path, capsys):
    assert main(["graph", "--out", str(out(tmp_path))]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("python -m tinygrad_rnn graph: error: argument --out: ") and why in last


def test_graph_out_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("not a folder")
    out = tmp_path / "file.txt" / "g.dot"
    assert main(["graph", "--steps", "2", "--out", str(out)]) == 2
    assert one_error_line(capsys, "python -m tinygrad_rnn graph: error: ").startswith(
        f"--out {out}: cannot write it")


@pytest.mark.parametrize("error", [tg.viz.DrawingTooLarge("the drawing has 9000 nodes; pass "
                                                         "max_steps=k"),
                                   tg.viz.RenderTimeout("dot did not finish in 30 s; pass "
                                                        "max_steps=k")])
def test_graph_too_large_or_too_slow_is_one_line(error, tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(tg.viz, "write", refuse)
    out = tmp_path / "g.svg"
    assert main(["graph", "--steps", "2", "--out", str(out)]) == 2
    line = one_error_line(capsys, "python -m tinygrad_rnn graph: error: ")
    assert line == f"--out {out}: {error}" and "cannot write" not in line


@pytest.mark.parametrize("option", ["--steps", "--batch", "--hidden", "--input", "--max-steps"])
def test_graph_sizes_must_be_positive(option, capsys):
    assert main(["graph", option, "0"]) == 2
    assert f"argument {option}: must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["demo"], ["graph"], ["train", "charlm"]])
def test_a_negative_seed_is_refused(command, capsys):
    assert main([*command, "--seed", "-1"]) == 2
    assert "argument --seed: must be at least 0, got -1" in capsys.readouterr().err
