"""tg.save / tg.load: .npz without pickle, atomic writes, clear errors naming the file."""
import os

import numpy as np
import pytest

import tinygrad_rnn as tg


def test_round_trip(tmp_path, device):
    state = {"w": tg.randn(3, 4, device=device), "b": np.arange(4, dtype=np.float64),
             "step": np.array(7)}
    path = tmp_path / "model.npz"
    tg.save(state, path)
    back = tg.load(path)
    assert sorted(back) == ["b", "step", "w"]
    np.testing.assert_array_equal(back["w"], state["w"].numpy())
    assert back["w"].dtype == np.float32 and back["b"].dtype == np.float64
    assert isinstance(back["w"], np.ndarray)


def test_path_without_npz_suffix_is_kept(tmp_path):
    path = tmp_path / "checkpoint.bin"
    tg.save({"a": np.ones(2)}, path)
    assert path.exists() and not (tmp_path / "checkpoint.bin.npz").exists()
    np.testing.assert_array_equal(tg.load(path)["a"], np.ones(2))


def test_save_writes_a_temporary_file_and_renames(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    tg.save({"a": np.zeros(2)}, path)
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((os.path.basename(src), os.path.basename(dst)))
        assert os.path.dirname(src) == os.path.dirname(os.path.abspath(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    tg.save({"a": np.ones(2)}, path)
    assert len(calls) == 1 and calls[0][1] == "m.npz" and calls[0][0] != "m.npz"


def test_crash_while_writing_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    tg.save({"a": np.zeros(2)}, path)

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"a": np.ones(2)}, path)
    np.testing.assert_array_equal(tg.load(path)["a"], np.zeros(2))
    assert os.listdir(tmp_path) == ["m.npz"]   # no temporary file left behind


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "m.npz"
    tg.save({"a": np.arange(1000.0)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(tg.CheckpointError, match=r"m\.npz.*not a readable \.npz"):
        tg.load(path)


def test_foreign_file_names_the_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(tg.CheckpointError, match=r"notes\.txt"):
        tg.load(path)


def test_pickled_content_is_refused(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, obj=np.array([{"a": 1}], dtype=object))
    with pytest.raises(tg.CheckpointError, match=r"pickled\.npz"):
        tg.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        tg.load(tmp_path / "nothing.npz")


def test_non_array_entry_is_named(tmp_path):
    with pytest.raises(TypeError, match="'config'"):
        tg.save({"config": {"lr": 0.1}}, tmp_path / "x.npz")


def test_saved_file_has_ordinary_permissions(tmp_path):
    path = tmp_path / "m.npz"
    tg.save({"a": np.zeros(2)}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)
