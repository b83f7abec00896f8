"""tg.save / tg.load: .npz without pickle, atomic writes, clear errors naming the file."""
import io
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import serialization


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

    monkeypatch.setattr(np.lib.format, "write_array", explode)
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


# ---- keys: every string round-trips exactly, whatever its name --------------------------------
AWKWARD_KEYS = ["allow_pickle", "file", "w", "w.npy", "w.npy.npy", "", ".npy", "a/b", "../x",
                "a\\b", "a\x00b", "a", "%41", "A", "100%", "a b\nc", "权重", "\udcff", "k" * 1000]


def test_every_key_round_trips_exactly(tmp_path):
    state = {k: np.full(2, i, dtype=np.int32) for i, k in enumerate(AWKWARD_KEYS)}
    tg.save(state, tmp_path / "keys.npz")
    back = tg.load(tmp_path / "keys.npz")
    assert list(back) == AWKWARD_KEYS
    for i, k in enumerate(AWKWARD_KEYS):
        np.testing.assert_array_equal(back[k], [i, i])


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.integers(-5, 5), max_size=6))
def test_any_dict_of_string_keys_round_trips(state):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.npz")
        tg.save({k: np.array(v) for k, v in state.items()}, path)
        back = tg.load(path)
    assert list(back) == list(state) and {k: int(v) for k, v in back.items()} == state


def test_ordinary_keys_stay_readable_by_numpy(tmp_path):
    tg.save({"encoder.weight_ih_l0": np.ones(2), "step": np.array(3)}, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as archive:
        assert sorted(archive.files) == ["encoder.weight_ih_l0", "step"]


def test_a_key_too_long_for_a_zip_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "m.npz"
    tg.save({"a": np.zeros(2)}, path)
    with pytest.raises(ValueError, match=r"save\(\): key 'kkkk.* is too long"):
        tg.save({"a": np.ones(2), "k" * 70000: np.ones(1)}, path)
    np.testing.assert_array_equal(tg.load(path)["a"], np.zeros(2))
    assert os.listdir(tmp_path) == ["m.npz"]


def test_save_wants_a_dict(tmp_path):
    with pytest.raises(TypeError, match=r"save\(\): expected a dict of name -> array, got Tensor"):
        tg.save(tg.ones(2), tmp_path / "m.npz")
    assert not os.listdir(tmp_path)


def test_save_refuses_non_numeric_arrays_by_key(tmp_path):
    with pytest.raises(TypeError, match=r"save\(\): entry 'names' has dtype <U3"):
        tg.save({"names": np.array(["abc"])}, tmp_path / "m.npz")
    assert not os.listdir(tmp_path)


# ---- what load refuses -------------------------------------------------------------------------
def write_zip(path, members: dict, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def npy_bytes(array=None, header=None) -> bytes:
    buffer = io.BytesIO()
    if header is None:
        np.lib.format.write_array(buffer, array)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
        buffer.write(b"\0" * 64)
    return buffer.getvalue()


def test_a_member_that_is_not_an_array_is_refused_by_name(tmp_path):
    path = tmp_path / "m.npz"
    write_zip(path, {"w.npy": npy_bytes(np.ones(2)), "notes.txt": b"hello"})
    with pytest.raises(tg.CheckpointError, match=r"m\.npz.*member 'notes\.txt'.*not a \.npy"):
        tg.load(path)
    write_zip(path, {"w.npy": b"hello, not an array"})
    with pytest.raises(tg.CheckpointError, match=r"m\.npz.*member 'w\.npy'"):
        tg.load(path)


def test_string_and_record_arrays_in_a_file_are_refused_by_name(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, names=np.array(["abc"]))
    with pytest.raises(tg.CheckpointError, match=r"m\.npz: member 'names\.npy' \(key 'names'\) "
                                                 r"has dtype <U3"):
        tg.load(path)
    np.savez(path, rec=np.zeros(2, dtype=[("a", "f4")]))
    with pytest.raises(tg.CheckpointError, match=r"member 'rec\.npy'.*not numeric"):
        tg.load(path)


def test_a_huge_declared_array_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.npz"
    header = {"descr": "<f8", "fortran_order": False, "shape": (2 ** 40,)}   # 8 TiB
    write_zip(path, {"w.npy": npy_bytes(header=header)})
    assert path.stat().st_size < 400
    with pytest.raises(tg.CheckpointError, match=r"bomb\.npz.*member 'w\.npy'.*8796093022208 "
                                                 r"bytes.*holds 64"):
        tg.load(path)
    single = tmp_path / "bomb.npy"
    single.write_bytes(npy_bytes(header=header))
    with pytest.raises(tg.CheckpointError, match=r"bomb\.npy.*8796093022208 bytes"):
        tg.load(single)


def set_declared_size(path, size: int):
    """Rewrite the uncompressed size of the only member in the zip's central directory."""
    data = bytearray(path.read_bytes())
    at = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, at + 24, size)
    path.write_bytes(bytes(data))


def test_a_zip_declaring_more_than_it_holds_is_refused(tmp_path):
    path = tmp_path / "lies.npz"
    write_zip(path, {"w.npy": npy_bytes(np.zeros(4))})
    set_declared_size(path, 2 ** 31)
    with pytest.raises(tg.CheckpointError, match=r"lies\.npz.*member 'w\.npy'.*declares 2147483648"):
        tg.load(path)
    write_zip(path, {"w.npy": npy_bytes(np.zeros(4))}, zipfile.ZIP_DEFLATED)
    set_declared_size(path, 2 ** 31)
    with pytest.raises(tg.CheckpointError, match=r"member 'w\.npy'.*declares 2147483648"):
        tg.load(path)


def test_overlapping_members_are_refused(tmp_path):
    """A zip bomb lists one stored member many times: each fits, together they do not."""
    path = tmp_path / "overlap.npz"
    write_zip(path, {"w.npy": npy_bytes(np.zeros(1000))})
    data = path.read_bytes()
    start, end = data.rindex(b"PK\x01\x02"), data.rindex(b"PK\x05\x06")
    entry, copies = data[start:end], 50
    record = bytearray(data[end:])
    struct.pack_into("<HHI", record, 8, copies, copies, len(entry) * copies)
    struct.pack_into("<I", record, 16, start)
    path.write_bytes(data[:start] + entry * copies + bytes(record))
    with pytest.raises(tg.CheckpointError, match=r"overlap\.npz.*member 'w\.npy' starts at "
                                                    r"byte 0, not \d+: members overlap"):
        tg.load(path)


def test_a_repeated_member_is_refused(tmp_path):
    path = tmp_path / "twice.npz"
    write_zip(path, {"w.npy": npy_bytes(np.zeros(2))})
    with zipfile.ZipFile(path, "a") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("w.npy", npy_bytes(np.ones(2)))
    with pytest.raises(tg.CheckpointError, match=r"twice\.npz.*'w' appears twice"):
        tg.load(path)


def test_other_compressions_are_refused(tmp_path):
    path = tmp_path / "bz.npz"
    write_zip(path, {"w.npy": npy_bytes(np.zeros(2))}, zipfile.ZIP_BZIP2)
    with pytest.raises(tg.CheckpointError, match=r"bz\.npz.*member 'w\.npy'.*compression"):
        tg.load(path)


def test_compressed_and_numpy_written_files_load(tmp_path):
    path = tmp_path / "c.npz"
    np.savez_compressed(path, w=np.zeros((100, 100)), b=np.arange(3))
    back = tg.load(path)
    np.testing.assert_array_equal(back["w"], np.zeros((100, 100)))
    np.testing.assert_array_equal(back["b"], np.arange(3))
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.savez(path, f=fortran, big=np.arange(3, dtype=">i4"))
    back = tg.load(path)
    np.testing.assert_array_equal(back["f"], fortran)
    assert back["big"].dtype == np.dtype(">i4") and back["big"].tolist() == [0, 1, 2]
    back["f"][0, 0] = 5   # writable, as np.load's arrays are


def test_a_plain_npy_file_loads_as_a_tensor(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(6, dtype=np.float64).reshape(2, 3))
    x = tg.load(path)
    assert isinstance(x, tg.Tensor) and x.dtype == np.float64 and not x.requires_grad
    np.testing.assert_array_equal(x.numpy(), np.arange(6).reshape(2, 3))
    np.save(path, np.array(["a"]))
    with pytest.raises(tg.CheckpointError, match=r"x\.npy.*dtype <U1"):
        tg.load(path)


# ---- how save writes -----------------------------------------------------------------------------
def test_resaving_keeps_the_files_mode(tmp_path):
    path = tmp_path / "private.npz"
    tg.save({"a": np.zeros(2)}, path)
    path.chmod(0o600)
    tg.save({"a": np.ones(2)}, path)
    assert (path.stat().st_mode & 0o777) == 0o600
    np.testing.assert_array_equal(tg.load(path)["a"], np.ones(2))


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "m.npz"
    tg.save({"a": np.zeros(2)}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(os.path.join("real", "m.npz"))
    tg.save({"a": np.ones(2)}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "m.npz")
    np.testing.assert_array_equal(tg.load(target)["a"], np.ones(2))
    assert sorted(os.listdir(tmp_path)) == ["latest.npz", "real"]
    assert os.listdir(tmp_path / "real") == ["m.npz"]


def test_a_read_only_file_is_not_replaced(tmp_path, monkeypatch):
    path = tmp_path / "frozen.npz"
    tg.save({"a": np.zeros(2)}, path)
    path.chmod(0o444)
    real_access = os.access   # root may write anything: ask as an ordinary user would
    monkeypatch.setattr(os, "access", lambda p, mode: mode != os.W_OK and real_access(p, mode))
    with pytest.raises(PermissionError, match=r"save\(\): .*frozen\.npz is read-only"):
        tg.save({"a": np.ones(2)}, path)
    np.testing.assert_array_equal(tg.load(path)["a"], np.zeros(2))


def test_bytes_and_pathlike_paths(tmp_path):
    path = os.fsencode(tmp_path / "b.npz")
    tg.save({"a": np.ones(2)}, path)
    np.testing.assert_array_equal(tg.load(path)["a"], np.ones(2))
    np.testing.assert_array_equal(tg.load(tmp_path / "b.npz")["a"], np.ones(2))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_of_a_killed_save_are_removed(tmp_path):
    path = tmp_path / "m.npz"
    now = time.time()
    dead = serialization.temporary_prefix("m.npz") + f"{serialization.HOST}-{dead_pid()}-x1y2z3"
    live = serialization.temporary_prefix("m.npz") + f"{serialization.HOST}-{os.getppid()}-abc"
    old_live = serialization.temporary_prefix("m.npz") + f"otherhost-{os.getppid()}-def"
    other = serialization.temporary_prefix("other.npz") + f"{serialization.HOST}-{dead_pid()}-q"
    legacy_old, legacy_new = ".tmp-abcd1234.npz", ".tmp-wxyz9876.npz"   # older versions' names
    for name in (dead, live, old_live, other, legacy_old, legacy_new):
        (tmp_path / name).write_bytes(b"PK half a checkpoint")
    os.utime(tmp_path / old_live, (now - 7200, now - 7200))
    os.utime(tmp_path / legacy_old, (now - 7200, now - 7200))
    tg.save({"a": np.ones(2)}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(["m.npz", live, other, legacy_new])


def test_every_numeric_dtype_and_shape_round_trips(tmp_path):
    state = {"empty": np.zeros((0, 3)), "scalar": np.array(2.5), "half": np.ones(3, np.float16),
             "complex": np.array([1 + 2j]), "mask": np.array([True, False]),
             "u8": np.arange(4, dtype=np.uint8), "big": np.arange(3, dtype=">f8"),
             "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
             "strided": np.arange(10.0)[::3]}
    tg.save(state, tmp_path / "m.npz")
    back = tg.load(tmp_path / "m.npz")
    for k, v in state.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape, k
        np.testing.assert_array_equal(back[k], v)


def test_a_flipped_bit_in_the_data_is_caught(tmp_path):
    path = tmp_path / "m.npz"
    tg.save({"w": np.zeros(100)}, path)
    data = bytearray(path.read_bytes())
    data[data.index(b"\0" * 100) + 50] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(tg.CheckpointError, match=r"m\.npz.*member 'w\.npy'.*CRC"):
        tg.load(path)


def save_npy(state, path):
    with open(path, "wb") as fh:   # np.save(path) would add ".npy" to the name
        np.save(fh, state["w"])


WRITERS = {"tg.save": tg.save, "np.savez_compressed": lambda d, p: np.savez_compressed(p, **d),
           "np.save": save_npy}


@pytest.mark.parametrize("writer", WRITERS)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_damaged_file_raises_checkpoint_error_and_nothing_else(writer, data):
    """Cut or overwrite bytes anywhere in a file: load gives the same arrays or says why, by name.

    (A plain .npy file has no checksum: only its header is damaged here.)
    """
    state = {"w": np.arange(12.0).reshape(3, 4), "b%/": np.arange(3)}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.npz")
        WRITERS[writer](state, path)
        with open(path, "rb") as fh:
            raw = bytearray(fh.read())
        end = 128 if writer == "np.save" else len(raw)
        if data.draw(st.booleans()):
            raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
        else:
            for _ in range(data.draw(st.integers(1, 4))):
                raw[data.draw(st.integers(0, end - 1))] = data.draw(st.integers(0, 255))
        with open(path, "wb") as fh:
            fh.write(raw)
        try:
            back = tg.load(path)
        except tg.CheckpointError as e:
            assert "m.npz" in str(e)
        else:
            if writer == "np.save":
                back, state = {"w": back.numpy()}, {"w": state["w"]}
            assert list(back) == list(state)
            for k, v in state.items():
                assert back[k].dtype == v.dtype
                np.testing.assert_array_equal(back[k], v)


def test_a_npy_header_with_a_bytes_key_is_a_checkpoint_error(tmp_path):
    # Found by the damaged-file property test: NumPy sorts the header's keys to report them and
    # raises TypeError when one is bytes; it must come out as CheckpointError like other damage.
    header = b"{'descr': '<f8', b'x': 1, 'fortran_order': False, 'shape': (2,), }"
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    path = tmp_path / "odd.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
                     + np.zeros(2).tobytes())
    with pytest.raises(tg.CheckpointError, match="is not a .npy array"):
        tg.load(path)


def test_load_takes_torchs_map_location_and_weights_only(tmp_path, device):
    """torch.load(path, map_location=..., weights_only=True) runs as written: a state dict
    stays host arrays (load_state_dict places them), a tensor alone goes to map_location."""
    model = tg.nn.Linear(2, 3)
    tg.save(model.state_dict(), tmp_path / "model.npz")
    for kwargs in ({"weights_only": True}, {"map_location": "cpu", "weights_only": True},
                   {"map_location": device}, {"map_location": tg.device(device)},
                   {"weights_only": False}):
        sd = tg.load(tmp_path / "model.npz", **kwargs)
        assert isinstance(sd["weight"], np.ndarray), kwargs
        np.testing.assert_array_equal(sd["weight"], model.weight.numpy())
    np.save(tmp_path / "t.npy", np.arange(3.0))
    t = tg.load(tmp_path / "t.npy", map_location=device, weights_only=True)
    assert t.device == device and t.tolist() == [0.0, 1.0, 2.0]


def test_load_refuses_other_map_locations_and_weights_only_values(tmp_path):
    tg.save({"w": tg.ones(2)}, tmp_path / "model.npz")
    with pytest.raises(TypeError, match="map_location must be 'cpu', 'cuda' or a tg.device.*dict"):
        tg.load(tmp_path / "model.npz", map_location={"cuda:0": "cpu"})
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        tg.load(tmp_path / "model.npz", map_location="tpu")
    with pytest.raises(TypeError, match="weights_only must be True or False, got 'yes'"):
        tg.load(tmp_path / "model.npz", weights_only="yes")
    with pytest.raises(TypeError):
        tg.load(tmp_path / "model.npz", "cpu", True)  # weights_only is keyword-only, as torch
