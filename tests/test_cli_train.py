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


@pytest.mark.parametrize("changed", [["--cell", "gru"], ["--hidden", "16"], ["--seed", "3"],
                                     ["--seq-len", "9"], ["--batch", "3"], ["--layers", "2"]])
def test_resume_refuses_settings_that_change_the_model_or_the_batches(changed, tmp_path, capsys):
    assert run(tmp_path, "--steps", "2") == 0
    before = (tmp_path / "ck.npz").read_bytes()
    capsys.readouterr()
    assert run(tmp_path, "--steps", "4", "--resume", "--lr", "0.01", *changed) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m tinygrad_rnn train charlm: error: ")
    assert f"{changed[0]} {changed[1]} (the checkpoint's is" in err and "--force" in err
    assert (tmp_path / "ck.npz").read_bytes() == before


def test_resume_keeps_the_checkpoints_settings_and_reports_a_new_lr(tmp_path, capsys):
    assert run(tmp_path, "--steps", "2", "--cell", "gru", "--lr", "0.01", "--seed", "5") == 0
    # --cell gru again (it names the file) and the same --seed: allowed; the rest from the file
    assert run(tmp_path, "--steps", "3", "--cell", "gru", "--seed", "5", "--resume") == 0
    config, step, model_state, _ = models.load_checkpoint(tmp_path / "ck.npz")
    assert step == 3 and model_state["rnn.weight_hh_l0"].shape == (24, 8)
    assert config["lr"] == 0.01 and config["seed"] == 5 and config["cell"] == "gru"
    assert config["vocab"] == "".join(load_shakespeare(SHARED).vocab.chars)
    assert "resuming with" not in capsys.readouterr().out
    assert run(tmp_path, "--steps", "4", "--resume", "--lr", "0.002", "--clip", "1") == 0
    out = capsys.readouterr().out
    assert "resuming with --lr 0.002 (the checkpoint's was 0.01)" in out
    assert "resuming with --clip 1.0 (the checkpoint's was 5.0)" in out
    config, step, _, _ = models.load_checkpoint(tmp_path / "ck.npz")
    assert step == 4 and config["lr"] == 0.002 and config["clip"] == 1.0


def test_resume_needs_the_checkpoint_and_steps_beyond_it(tmp_path, capsys):
    assert run(tmp_path, "--steps", "2", "--resume") == 2
    assert "there is no checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "ck.npz").exists()
    assert run(tmp_path, "--steps", "4") == 0
    assert run(tmp_path, "--steps", "3", "--resume") == 2
    assert "at step 4, beyond --steps 3" in capsys.readouterr().err
    before = (tmp_path / "ck.npz").read_bytes()
    assert run(tmp_path, "--steps", "4", "--resume") == 0  # nothing to train: not rewritten
    assert (tmp_path / "ck.npz").read_bytes() == before


def test_a_new_run_does_not_replace_a_checkpoint_without_force(tmp_path, capsys):
    assert run(tmp_path, "--steps", "4") == 0
    before = (tmp_path / "ck.npz").read_bytes()
    capsys.readouterr()
    assert run(tmp_path, "--steps", "2") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ck.npz exists: --resume continues it, --force" in err
    assert (tmp_path / "ck.npz").read_bytes() == before
    assert run(tmp_path, "--steps", "2", "--force") == 0
    assert int(tg.load(tmp_path / "ck.npz")["step"]) == 2


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
