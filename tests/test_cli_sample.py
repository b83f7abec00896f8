"""``sample``, ``--version``, ``--threads``, ``train --logdir`` and the ``tinygrad-rnn`` script.

A tiny model is trained once on the shared tiny-Shakespeare copy (never a download); sampling
from its checkpoint must give exactly what :func:`tinygrad_rnn.models.charlm.sample` gives for
the same weights, and every bad argument is one ``error:`` line with exit status 2.
"""
import struct
from pathlib import Path

import numpy as np
import pytest
from test_cli_train import REPO, SHARED
from test_cli_train import SMALL as TRAIN_SMALL
from test_cli_train import pytestmark as needs_data

import tinygrad_rnn as tg
from tinygrad_rnn.cli import console, main
from tinygrad_rnn.data import load_shakespeare
from tinygrad_rnn.models.charlm import CharLM, sample

SMALL = [*TRAIN_SMALL, "--sample", "0"]  # the tiny model of test_cli_train, sampled here instead


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "ck.npz"
    assert main(["train", "charlm", *SMALL, "--steps", "4", "--checkpoint", str(path)]) == 0
    return path


@needs_data
def test_sample_equals_the_model_sampled_directly(checkpoint, capsys):
    capsys.readouterr()
    assert main(["sample", str(checkpoint), "--prime", "ROMEO:", "--length", "40",
                 "--temperature", "0.7", "--seed", "3"]) == 0
    header, text = capsys.readouterr().out.split("\n", 1)
    assert "step 4" in header and "temperature 0.7" in header and "seed 3" in header
    # The same weights, loaded by hand into a model built by hand: the same 40 characters.
    corpus = load_shakespeare(SHARED)
    model = CharLM(len(corpus.vocab), "lstm", hidden_size=8, embed_size=4)
    arrays = tg.load(checkpoint)
    model.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("model.")})
    expected = sample(model, corpus.vocab, prime="ROMEO:", length=40, temperature=0.7, seed=3)
    assert text == "ROMEO:" + expected + "\n"
    assert len(expected) == 40


@needs_data
def test_sample_seed_defaults_to_the_checkpoints(checkpoint, capsys):
    runs = []
    for _ in range(2):
        capsys.readouterr()
        assert main(["sample", str(checkpoint), "--length", "30"]) == 0
        runs.append(capsys.readouterr().out)
    assert runs[0] == runs[1] and "seed 0" in runs[0]


@needs_data
@pytest.mark.parametrize("args, message", [
    (["--prime", "ROMEO\u20ac"], "character '\u20ac' at position 5 is not in the vocabulary"),
    (["--temperature", "0"], "argument --temperature: must be a finite number above 0"),
    (["--temperature", "nan"], "argument --temperature: must be a finite number above 0"),
    (["--length", "-1"], "argument --length: must be at least 0"),
    (["--prime", ""], "--prime: give at least one character"),
])
def test_sample_refuses_bad_arguments(checkpoint, capsys, args, message):
    assert main(["sample", str(checkpoint), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "sample: error:" in err


def test_sample_names_a_missing_or_foreign_file(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "none.npz")]) == 2
    assert "none.npz: no such checkpoint file" in capsys.readouterr().err
    tg.save({"w": np.zeros(3)}, tmp_path / "weights.npz")
    assert main(["sample", str(tmp_path / "weights.npz")]) == 2
    assert "entry 'config' is missing" in capsys.readouterr().err


def test_version_and_program_name(capsys, monkeypatch):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"python -m tinygrad_rnn {tg.__version__}"
    monkeypatch.setattr("sys.argv", ["tinygrad-rnn", "--version"])
    assert console() == 0
    assert capsys.readouterr().out.strip() == f"tinygrad-rnn {tg.__version__}"


def test_console_script_is_declared():
    setup = (REPO / "setup.cfg").read_text()
    assert "tinygrad-rnn = tinygrad_rnn.cli:console" in setup


def test_threads_option(tmp_path, capsys):
    before = tg.get_num_threads()
    try:
        assert main(["--threads", "2", "graph", "--cell", "rnn", "--steps", "2",
                     "--out", str(tmp_path / "g.dot")]) == 0
        assert tg.get_num_threads() == 2
    finally:
        tg.set_num_threads(before)
    assert main(["--threads", "0", "graph"]) == 2
    assert "argument --threads: must be at least 1, got 0" in capsys.readouterr().err


def scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in the TensorBoard event files of ``folder``: tag -> [(step, value)].

    Reads the TFRecord framing (length, CRC, record, CRC) by hand and parses each record with
    tensorboardX's own protobuf classes.
    """
    from tensorboardX.proto.event_pb2 import Event

    found: dict[str, list] = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            event = Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


@needs_data
def test_logdir_writes_the_scalars(tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    logdir = tmp_path / "runs" / "tiny"
    assert main(["train", "charlm", *SMALL, "--steps", "4", "--checkpoint",
                 str(tmp_path / "ck.npz"), "--logdir", str(logdir)]) == 0
    found = scalars(logdir)
    assert [s for s, _ in found["train/loss"]] == [1, 2, 3, 4]
    assert [s for s, _ in found["train/grad_norm"]] == [1, 2, 3, 4]
    assert all(v > 0 for _, v in found["train/grad_norm"])
    assert [v for _, v in found["train/lr"]] == pytest.approx([0.005] * 4)
    assert [s for s, _ in found["validation/loss"]] == [2, 4]
    # The last validation loss is the one the command printed.
    printed = float(capsys.readouterr().out.split("validation loss ")[1].split()[0])
    assert found["validation/loss"][-1][1] == pytest.approx(printed, abs=1e-4)


@needs_data
def test_logdir_refused_before_any_work(tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("")
    assert main(["train", "charlm", *SMALL, "--steps", "2", "--checkpoint",
                 str(tmp_path / "ck.npz"), "--logdir", str(tmp_path / "file")]) == 2
    assert "is a file; name a folder" in capsys.readouterr().err
    monkeypatch.setitem(__import__("sys").modules, "tensorboardX", None)  # not installed
    assert main(["train", "charlm", *SMALL, "--steps", "2", "--checkpoint",
                 str(tmp_path / "ck.npz"), "--logdir", str(tmp_path / "runs")]) == 2
    assert "--logdir needs tensorboardX" in capsys.readouterr().err
    assert not (tmp_path / "ck.npz").exists() and not (tmp_path / "runs").exists()


@needs_data
def test_sample_reads_escapes_only_when_asked(checkpoint, capsys):
    """``--escapes`` turns a typed ``\\n`` into a new line and keeps other characters as they
    are (a naive unicode_escape decode garbles non-ASCII text)."""
    assert main(["sample", str(checkpoint), "--length", "5", "--prime", "A:\\n"]) == 2
    assert "character '\\\\' at position 2" in capsys.readouterr().err  # typed as is
    assert main(["sample", str(checkpoint), "--length", "5", "--prime", "A:\\n",
                 "--escapes"]) == 0
    assert capsys.readouterr().out.split("\n", 1)[1].startswith("A:\n")
    assert main(["sample", str(checkpoint), "--prime", "\u00c9\\n", "--escapes"]) == 2
    assert "character '\u00c9' at position 0 is not in the vocabulary" in capsys.readouterr().err
