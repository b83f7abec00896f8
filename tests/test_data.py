"""tg.data: the tiny-Shakespeare loader (checksum, errors, vocabulary, split, batches) and the
synthetic tasks. Nothing here touches the network: the corpus is read from the shared copy
beside the repository, and the download path is exercised with a fake ``urlopen``."""
import doctest
import io
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tinygrad_rnn import data
from tinygrad_rnn.data import shakespeare, slots, synthetic

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "tinyshakespeare.txt"
needs_corpus = pytest.mark.skipif(not SHARED.exists(),
                                  reason=f"the shared tiny-Shakespeare copy is not at {SHARED}")


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """No test may download: urlopen fails, and the cache is an empty temporary folder."""
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to download")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.delenv(shakespeare.DATA_ENV, raising=False)
    monkeypatch.setenv(shakespeare.CACHE_ENV, str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def corpus():
    if not SHARED.exists():
        pytest.skip(f"the shared tiny-Shakespeare copy is not at {SHARED}")
    return data.load_shakespeare(SHARED)


# ---- the loader ------------------------------------------------------------------------------
@needs_corpus
def test_checksum_of_the_shared_copy_is_accepted():
    assert shakespeare.shakespeare_path(SHARED) == SHARED
    assert shakespeare.sha256_of(SHARED) == shakespeare.SHA256


@needs_corpus
def test_env_variable_names_a_file_or_a_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(shakespeare.DATA_ENV, str(SHARED))
    assert len(data.load_text()) == shakespeare.N_CHARS
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "tinyshakespeare.txt").write_bytes(SHARED.read_bytes())
    monkeypatch.setenv(shakespeare.DATA_ENV, str(folder))
    assert data.shakespeare_path() == folder / "tinyshakespeare.txt"


def test_wrong_checksum_is_a_clear_error_naming_the_file(tmp_path):
    bad = tmp_path / "input.txt"
    bad.write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n")
    with pytest.raises(data.DataError, match="sha256") as e:
        data.load_shakespeare(bad)
    assert str(bad) in str(e.value)


def test_missing_file_is_a_clear_error_naming_the_file(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "tinyshakespeare.txt"
    with pytest.raises(data.DataError, match="no such file") as e:
        data.load_shakespeare(missing)
    assert str(missing) in str(e.value) and shakespeare.DATA_ENV in str(e.value)
    monkeypatch.setenv(shakespeare.DATA_ENV, str(missing))
    with pytest.raises(data.DataError, match=str(missing)):
        data.load_text()


def test_cache_without_download_names_the_cached_file(tmp_path):
    with pytest.raises(data.DataError) as e:
        data.shakespeare_path(download_ok=False)
    assert str(tmp_path / "cache" / "tinyshakespeare.txt") in str(e.value)


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@needs_corpus
def test_download_goes_to_the_cache_once_and_is_checked(monkeypatch, tmp_path):
    calls = []

    def fake(url, timeout):
        calls.append(url)
        return FakeResponse(SHARED.read_bytes())

    monkeypatch.setattr(urllib.request, "urlopen", fake)
    path = data.shakespeare_path()
    assert path == tmp_path / "cache" / "tinyshakespeare.txt" and path.exists()
    assert data.shakespeare_path() == path and calls == [shakespeare.URL]  # cached: no second fetch


def test_download_with_a_wrong_checksum_leaves_no_file(monkeypatch, tmp_path):
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: FakeResponse(b"nope"))
    with pytest.raises(data.DataError, match="sha256"):
        data.shakespeare_path()
    assert list((tmp_path / "cache").iterdir()) == []


def test_download_failure_says_what_to_do(monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(data.DataError, match=shakespeare.DATA_ENV):
        data.shakespeare_path()


def test_vocabulary_and_split(corpus):
    assert len(corpus.vocab) == 65
    assert corpus.vocab.chars[:2] == ["\n", " "] and "z" in corpus.vocab.chars
    assert len(corpus.train) + len(corpus.val) == shakespeare.N_CHARS
    assert len(corpus.val) == round(0.1 * shakespeare.N_CHARS)
    text = SHARED.read_text(encoding="utf-8")
    assert corpus.vocab.decode(corpus.train[:14]) == "First Citizen:"
    assert corpus.vocab.decode(corpus.val[-20:]) == text[-20:]
    assert corpus.train.dtype == np.int64


def test_split_fraction_is_checked():
    with pytest.raises(ValueError, match="val_fraction"):
        data.load_shakespeare(SHARED, val_fraction=1.0)


def test_vocab_round_trip():
    v = data.Vocab("to be, or not to be")
    assert v.decode(v.encode("be not")) == "be not"
    with pytest.raises(ValueError, match=r"character 'x' at position 3 is not in the "
                       r"vocabulary of 8 characters \(it is built from the training text"):
        v.encode("be x")
    with pytest.raises(ValueError, match=r"'\\n' at position 0"):
        v.encode("\nbe")


def test_random_batch_windows_and_targets():
    ids = np.arange(1000)
    x, y = data.random_batch(ids, 8, 16, np.random.default_rng(0))
    assert x.shape == y.shape == (16, 8)
    np.testing.assert_array_equal(y, x + 1)                    # the next id, along time
    np.testing.assert_array_equal(x[1:], x[:-1] + 1)            # each column is a window
    again, _ = data.random_batch(ids, 8, 16, np.random.default_rng(0))
    np.testing.assert_array_equal(x, again)
    with pytest.raises(ValueError, match="seq_len"):
        data.random_batch(ids[:10], 2, 10, np.random.default_rng(0))


def test_sequential_batches_are_parallel_streams():
    ids = np.arange(103)
    batches = list(data.sequential_batches(ids, 4, 10))
    steps = (len(ids) - 1) // 4  # 25 per stream: 10 + 10 + 5
    assert [b[0].shape for b in batches] == [(10, 4), (10, 4), (5, 4)]
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    for n in range(4):
        np.testing.assert_array_equal(x[:, n], ids[n * steps:(n + 1) * steps])
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="streams"):
        next(data.sequential_batches(ids[:3], 4, 10))


# ---- synthetic tasks -------------------------------------------------------------------------
def test_adding_problem():
    x, y = data.adding_problem(50, 20, seed=3)
    assert x.shape == (20, 50, 2) and y.shape == (50,) and x.dtype == y.dtype == np.float32
    markers = x[:, :, 1]
    assert (markers.sum(axis=0) == 2).all()
    assert (markers[:10].sum(axis=0) == 1).all() and (markers[10:].sum(axis=0) == 1).all()
    np.testing.assert_allclose((x[:, :, 0] * markers).sum(axis=0), y, rtol=1e-6)
    assert ((x[:, :, 0] >= 0) & (x[:, :, 0] < 1)).all()
    x2, y2 = data.adding_problem(50, 20, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(y, data.adding_problem(50, 20, seed=4)[1])
    with pytest.raises(ValueError):
        data.adding_problem(2, 1)


@pytest.mark.parametrize("task,reverse", [(data.copy_task, False), (data.reversal_task, True)])
def test_copy_and_reversal(task, reverse):
    L, K, delay = 4, 6, 3
    x, y = task(30, length=L, n_symbols=K, delay=delay, seed=1)
    assert x.shape == y.shape == (2 * L + delay, 30)
    symbols = x[:L]
    assert ((symbols >= 1) & (symbols <= K)).all()
    assert (x[L:L + delay] == synthetic.BLANK).all() and (x[L + delay] == K + 1).all()
    assert (x[L + delay + 1:] == synthetic.BLANK).all() and (y[:L + delay] == synthetic.BLANK).all()
    np.testing.assert_array_equal(y[L + delay:], symbols[::-1] if reverse else symbols)
    with pytest.raises(ValueError):
        task(1, length=0)


def test_slot_filling_tags_follow_the_verb():
    words, tags = data.tagged_sentence("leave", "taipei", "november", "2nd", prefix="i want to")
    assert words == ["i", "want", "to", "leave", "taipei", "on", "november", "2nd"]
    assert tags[4:] == ["departure", "other", "departure time", "departure time"]
    for words, tags in data.slot_sentences(200, seed=0):
        assert len(words) == len(tags)
        city = tags[words.index("on") - 1]
        assert city == ("destination" if "arrive" in words else "departure")
    verbs = [w[-5] for w, _ in data.slot_sentences(400, seed=1)]
    assert 150 < verbs.count("arrive") < 250  # both verbs, about equally often


def test_slot_filling_encoding():
    d = data.slot_filling(20, seed=2)
    assert d.x.shape == d.y.shape and d.x.shape[1] == 20
    lengths = [len(w) for w, _ in d.sentences]
    assert d.x.shape[0] == max(lengths)
    for j, (words, tags) in enumerate(d.sentences):
        assert [data.WORDS[i] for i in d.x[:len(words), j]] == words
        assert [data.TAGS[i] for i in d.y[:len(tags), j]] == tags
        assert (d.x[len(words):, j] == 0).all() and (d.y[len(words):, j] == slots.IGNORE).all()
    np.testing.assert_array_equal(d.x, data.slot_filling(20, seed=2).x)
    assert slots.ordinal(1) == "1st" and slots.ordinal(12) == "12th" and slots.ordinal(23) == "23rd"


@pytest.mark.parametrize("module", [shakespeare, synthetic, slots])
def test_doctests(module):
    failed, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failed == 0
