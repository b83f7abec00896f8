"""``tg.save`` / ``tg.load``: state dicts as ``.npz`` files, without pickle.

A checkpoint is a zip of ``.npy`` arrays, one member per key, as ``np.savez`` writes it, except
that a member's name is its key percent-encoded (``urllib.parse.quote``) plus ``.npy``, so every
string key, whatever its name, comes back exactly (the zip's comment says a file is written so).
Ordinary keys (letters, digits, ``_.-~``) are unchanged, and ``np.load`` reads such files.

Saving writes a temporary file next to the target and renames it over the target, so a crash
never leaves a half-written file; the temporary's name says whose it is, and the next save of
the same target removes those left by a killed writer. ``load`` reads no pickle and checks every
member's declared size against what the file really holds before allocating anything (the
guarantees are listed in SECURITY.md).
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import socket
import struct
import tempfile
import time
import tokenize
import warnings
import zipfile
import zlib
from urllib.parse import quote, unquote

import numpy as np

from .backend import check_device, to_device, to_numpy
from .creation import NUMERIC_KINDS
from .tensor import Tensor

MARKER = b"tinygrad_rnn.save 1: member names are percent-encoded keys + .npy"
MAX_NAME_BYTES = 65535            # a zip stores a member's name length in 16 bits
MAX_DEFLATE_RATIO = 1032          # deflate cannot expand its input more than this
STALE_AFTER_S = 3600              # a temporary this old is nobody's, whatever its pid says
HOST = f"{zlib.crc32(socket.gethostname().encode()):08x}"  # names this machine in temporaries
NPY_MAGIC, ZIP_MAGICS = b"\x93NUMPY", (b"PK\x03\x04", b"PK\x05\x06")
# what reading a damaged zip or .npy header can raise
DAMAGE = (zipfile.BadZipFile, zlib.error, struct.error, tokenize.TokenError, SyntaxError,
          EOFError, KeyError, NotImplementedError, ValueError, OSError)


class CheckpointError(ValueError):
    """A file is not a readable tinygrad_rnn checkpoint."""


# ---- saving ------------------------------------------------------------------------------------
def save(state_dict: dict, path) -> None:
    """Write ``state_dict`` (name -> tensor or array) to ``path`` as an ``.npz`` file.

    ``path`` is a str, bytes or ``os.PathLike``; a symlink is followed (its target is replaced,
    the link stays) and an existing file keeps its permissions.
    """
    path = os.fsdecode(os.fspath(path))
    if not hasattr(state_dict, "items"):
        raise TypeError(f"save(): expected a dict of name -> array, got "
                        f"{type(state_dict).__name__} (save one tensor as {{'name': t}})")
    members = {member_name(name): checked_array(name, value) for name, value in state_dict.items()}
    target = os.path.realpath(path)
    folder, base = os.path.split(target)
    if os.path.exists(target):
        if not os.access(target, os.W_OK):
            raise PermissionError(f"save(): {path} is read-only")
        mode = os.stat(target).st_mode & 0o777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    remove_stale_temporaries(folder, base)
    fd, tmp = tempfile.mkstemp(prefix=f"{temporary_prefix(base)}{HOST}-{os.getpid()}-",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write_archive(fh, members)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # mkstemp makes it private; keep the mode the target had
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def member_name(key) -> str:
    """The zip member holding ``key``: ``quote(key) + ".npy"``, one name per key."""
    if not isinstance(key, str):
        raise TypeError(f"save(): keys must be strings, got {key!r}")
    name = quote(key, safe="", errors="surrogatepass") + ".npy"
    if len(name) > MAX_NAME_BYTES:
        raise ValueError(f"save(): key {key[:20]!r}... is too long for a zip member name "
                         f"({len(name)} bytes encoded, at most {MAX_NAME_BYTES})")
    return name


def checked_array(key: str, value) -> np.ndarray:
    """``value`` (a tensor or array-like) as a host array of numbers, else ``TypeError``."""
    if isinstance(value, Tensor):
        value = value.data
    try:
        array = to_numpy(value) if hasattr(value, "shape") else np.asarray(value)
    except Exception as e:
        raise TypeError(f"save(): entry {key!r} is not an array ({type(value).__name__})") from e
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"save(): entry {key!r} has dtype {array.dtype}, not numbers or booleans "
                        f"({type(value).__name__})")
    return array


def write_archive(fh, members: dict) -> None:
    """Write ``members`` (name -> array) to the open file ``fh`` as an uncompressed zip."""
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.comment = MARKER
        for name, array in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # same bytes each time
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def temporary_prefix(base: str) -> str:
    """How the temporary files of a save to ``base`` begin: ``.<base>.tgsave-``."""
    return f".{base[:64]}.tgsave-"


def remove_stale_temporaries(folder: str, base: str) -> None:
    """Remove temporaries of ``base`` whose writer is gone (or that are over an hour old).

    A temporary is named ``.<base>.tgsave-<host>-<pid>-<random>``. Its writer is gone when it
    ran on this host and no process has its pid; on another host (a shared folder) only the
    age tells. The ``.tmp-XXXXXXXX.npz`` files of earlier versions go when over an hour old.
    """
    prefix, now = temporary_prefix(base), time.time()
    for name in os.listdir(folder):
        legacy = re.fullmatch(r"\.tmp-[a-z0-9_]{8}\.npz", name)
        if not (name.startswith(prefix) or legacy):
            continue
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError, ValueError):
            host, pid, _ = ("", "0", "") if legacy else name[len(prefix):].split("-", 2)
            gone = host == HOST and not process_exists(int(pid))
            if gone or now - os.lstat(path).st_mtime > STALE_AFTER_S:
                os.unlink(path)


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (assumed so where it cannot be asked)."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) would end the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        pass
    return True


# ---- loading -----------------------------------------------------------------------------------
def load(path, map_location=None, *, weights_only: bool = True):
    """Read a file written by :func:`save` (or ``np.savez``): a dict of name -> host NumPy array.

    A plain ``.npy`` file (``np.save``) gives its one array as a :class:`Tensor`, as
    ``torch.load`` gives back a saved tensor. Anything else, and any member that is not a
    numeric ``.npy`` array or declares more bytes than the file holds, raises
    :class:`CheckpointError` naming the file and the member (SECURITY.md has the full list).

    ``map_location`` and ``weights_only`` are torch's, so that ``torch.load(path,
    map_location="cpu", weights_only=True)`` runs as written. A saved tensor alone goes to
    ``map_location`` (``"cpu"``, ``"cuda"`` or a :class:`~tinygrad_rnn.device`; ``None``: the
    CPU); a state dict holds host arrays whatever it says, and ``load_state_dict`` puts each on
    its parameter's device. ``weights_only`` changes nothing: the file holds arrays and nothing
    else, and loading it never runs code.
    """
    location = load_location(map_location)
    if not isinstance(weights_only, bool):
        raise TypeError(f"load(): weights_only must be True or False, got {weights_only!r}")
    path = os.fsdecode(os.fspath(path))
    if not os.path.exists(path):
        raise FileNotFoundError(f"load(): no such file: {path}")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
            fh.seek(0)
            if magic == NPY_MAGIC:
                array = read_npy(fh, os.fstat(fh.fileno()).st_size, f"load(): {path}")
                return Tensor(to_device(array, location))
            if magic[:4] not in ZIP_MAGICS:
                raise CheckpointError(f"load(): {path} is not a readable .npz checkpoint "
                                      f"(another format: it starts with {magic!r})")
            return read_archive(fh, path)
    except CheckpointError:
        raise
    except DAMAGE as e:
        raise CheckpointError(f"load(): {path} is not a readable .npz checkpoint "
                              f"(truncated or another format): {e}") from e


def load_location(map_location) -> str:
    """The device a loaded tensor goes to: ``"cpu"`` for ``None``, else the device named."""
    if map_location is None:
        return "cpu"
    if not isinstance(map_location, str):  # a tg.device is a str
        raise TypeError(f"load(): map_location must be 'cpu', 'cuda' or a tg.device, got "
                        f"{type(map_location).__name__} (torch's dict and function forms are "
                        "not supported)")
    return check_device(map_location)


def read_archive(fh, path: str) -> dict:
    """The arrays of the zip ``fh``, each member's size checked before it is read."""
    fh.seek(max(0, os.fstat(fh.fileno()).st_size - len(MARKER)))
    tail = fh.read()
    with zipfile.ZipFile(fh) as zf:
        infos = zf.infolist()
        encoded = zf.comment == MARKER
        # the file ends with tg.save's comment, or with an end record declaring no comment
        no_comment = zf.comment == b"" and tail[-22:-18] == b"PK\x05\x06" and tail[-2:] == b"\0\0"
        if not (no_comment or encoded and tail == MARKER):
            raise CheckpointError(f"load(): {path}: a zip written neither by tg.save nor by "
                                  f"np.savez, or damaged (its comment is {zf.comment[:80]!r})")
        check_layout(fh, infos, zf.start_dir, path)
        arrays = {}
        for info in infos:
            key = key_of(info.filename, encoded, f"load(): {path}: member {info.filename!r}")
            where = f"load(): {path}: member {info.filename!r} (key {key!r})"
            if key in arrays:
                raise CheckpointError(f"load(): {path}: key {key!r} appears twice")
            check_member(info, where)
            try:
                with zf.open(info) as member:
                    arrays[key] = read_npy(member, info.file_size, where)
            except CheckpointError:
                raise
            except DAMAGE as e:
                raise CheckpointError(f"{where} cannot be read: {e}") from e
    return arrays


def check_layout(fh, infos: list, start_dir: int, path: str) -> None:
    """The members must lie end to end from the file's start up to its directory.

    So none overlaps another (a zip bomb lists one member many times) and none is hidden from
    the directory (a damaged directory that lists fewer members).
    """
    at = 0
    for info in sorted(infos, key=lambda info: info.header_offset):
        slack = 24 if info.flag_bits & 0x08 else 0  # a data descriptor may follow the data
        if not at <= info.header_offset <= at + slack:
            raise CheckpointError(f"load(): {path}: member {info.filename!r} starts at byte "
                                  f"{info.header_offset}, not {at}: members overlap or bytes "
                                  "belong to none")
        fh.seek(info.header_offset)
        header = fh.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise CheckpointError(f"load(): {path}: member {info.filename!r} has no header")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        at = info.header_offset + 30 + name_length + extra_length + info.compress_size
    if not at <= start_dir <= at + (24 if infos and infos[-1].flag_bits & 0x08 else 0):
        raise CheckpointError(f"load(): {path}: its members end at byte {at} but its directory "
                              f"starts at {start_dir}: members overlap or bytes belong to none")


def key_of(name: str, encoded: bool, where: str) -> str:
    """The key a member holds: its name less ``.npy``, decoded in files :func:`save` wrote."""
    if not name.endswith(".npy"):
        raise CheckpointError(f"{where} is not a .npy array (a checkpoint holds only arrays)")
    key = name[:-4]
    if encoded:
        key = unquote(key, errors="surrogatepass")
        if quote(key, safe="", errors="surrogatepass") != name[:-4]:
            raise CheckpointError(f"{where} is not a name tg.save writes")
    return key


def check_member(info: zipfile.ZipInfo, where: str) -> None:
    """Refuse a member whose declared size cannot be what the file holds, or that is encrypted."""
    if info.flag_bits & 0x1:
        raise CheckpointError(f"{where} is encrypted")
    if info.compress_type == zipfile.ZIP_STORED:
        limit = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        limit = MAX_DEFLATE_RATIO * info.compress_size + 1024
    else:
        raise CheckpointError(f"{where} uses compression method {info.compress_type}: only "
                              "stored and deflated members are read")
    if info.file_size > limit:
        raise CheckpointError(f"{where} declares {info.file_size} bytes but can hold at most "
                              f"{limit} ({info.compress_size} bytes in the file)")


def read_npy(fh, size: int, where: str) -> np.ndarray:
    """One ``.npy`` array of ``size`` bytes from ``fh``: header checked, data read into place."""
    start = fh.tell()
    try:
        version = np.lib.format.read_magic(fh)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy version {version}")
        read_header = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
        with warnings.catch_warnings():  # a damaged header may warn as it is parsed
            warnings.simplefilter("ignore", SyntaxWarning)
            shape, fortran_order, dtype = read_header(fh)
    except (ValueError, TypeError, tokenize.TokenError, SyntaxError) as e:  # TypeError: NumPy
        raise CheckpointError(f"{where} is not a .npy array: {e}") from e  # sorts the header's keys
    if dtype.kind not in NUMERIC_KINDS:
        raise CheckpointError(f"{where} has dtype {dtype}, not numeric (numbers or booleans only)")
    if any(n < 0 for n in shape):
        raise CheckpointError(f"{where} declares a negative shape {shape}")
    nbytes = math.prod(shape) * dtype.itemsize
    available = size - (fh.tell() - start)
    if nbytes != available:
        raise CheckpointError(f"{where} declares shape {shape} of {dtype} ({nbytes} bytes) but "
                              f"holds {available} bytes of data")
    data = bytearray(nbytes)
    view, done = memoryview(data), 0
    while done < nbytes:
        n = fh.readinto(view[done:])
        if not n:
            raise CheckpointError(f"{where} ends after {done} of {nbytes} bytes of data")
        done += n
    if fh.read(1):
        raise CheckpointError(f"{where} has data after its array")
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)
