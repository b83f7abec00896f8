"""``python -m tinygrad_rnn train charlm`` and ``tg.models.CharLM``: checkpoints, resuming,
evaluation and sampling, on the shared tiny-Shakespeare copy with a very small model (never a
download)."""
import doctest
import math
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import models
from tinygrad_rnn.cli import main
from tinygrad_rnn.data import load_shakespeare

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "tinyshakespeare.txt"
pytestmark = pytest.mark.skipif(not SHARED.exists(),
                                reason=f"the shared tiny-Shakespeare copy is not at {SHARED}")
SMALL = ["--data", str(SHARED), "--hidden", "8", "--embed", "4", "--batch", "2",
         "--seq-len", "8", "--val-chars", "400", "--eval-every", "2", "--sample", "20"]


def run(tmp_path, *args):
    return main(["train", "charlm", *SMALL, "--checkpoint", str(tmp_path / "ck.npz"), *args])


def test_resumed_run_equals_an_uninterrupted_one(tmp_path, capsys):
    straight, resumed = tmp_path / "a", tmp_path / "b"
    assert run(straight, "--steps", "4") == 0
    assert run(resumed, "--steps", "2") == 0
    assert run(resumed, "--steps", "4", "--resume") == 0
    out = capsys.readouterr().out
    assert "resumed from" in out and "at step 2" in out
    a, b = tg.load(straight / "ck.npz"), tg.load(resumed / "ck.npz")
    assert sorted(a) == sorted(b) and int(a["step"]) == int(b["step"]) == 4
    assert any(k.startswith("optim.") for k in a)  # Adam's moments are saved too
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_resume_keeps_the_checkpoints_architecture(tmp_path, capsys):
    assert run(tmp_path, "--steps", "2", "--cell", "gru") == 0
    assert run(tmp_path, "--steps", "3", "--cell", "gru", "--resume", "--hidden", "16") == 0
    assert "keeping its architecture" in capsys.readouterr().out
    config, step, model_state, _ = models.load_checkpoint(tmp_path / "ck.npz")
    assert step == 3 and config["hidden"] == 8 and model_state["rnn.weight_hh_l0"].shape == (24, 8)


def test_evaluate_and_sample():
    corpus = load_shakespeare(SHARED)
    tg.manual_seed(0)
    model = models.CharLM(len(corpus.vocab), "rnn", hidden_size=8, embed_size=4)
    loss = models.evaluate(model, corpus.val[:2000], batch_size=4, seq_len=50)
    assert abs(loss - math.log(65)) < 0.5  # untrained: near a uniform guess
    text = models.sample(model, corpus.vocab, prime="ROMEO:", length=40, seed=3)
    assert len(text) == 40 and set(text) <= set(corpus.vocab.chars)
    assert text == models.sample(model, corpus.vocab, prime="ROMEO:", length=40, seed=3)


def test_equal_parameter_counts():
    lstm = models.count_parameters(models.CharLM(65, "lstm", 128))
    gru_hidden = models.hidden_size_for("gru", lstm, 65)
    gru = models.count_parameters(models.CharLM(65, "gru", gru_hidden))
    assert abs(gru - lstm) / lstm < 0.01
    with pytest.raises(ValueError, match="cell"):
        models.CharLM(65, "transformer")


def test_train_without_a_model_prints_help(capsys):
    assert main(["train"]) == 2
    assert "charlm" in capsys.readouterr().out


def test_doctests():
    failed, _ = doctest.testmod(models.charlm)
    assert failed == 0
