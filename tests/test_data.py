import gzip
import hashlib

import numpy as np
import pytest
import torch

from demystify import (DataCorrupt, DataNotAvailable, ImageData, fetch, load_digits,
                       load_handwritten_digits, load_mnist, mnist_present, resize_images)


def test_digits_are_split_stratified_and_scaled():
    data = load_digits(seed=0)
    assert data.x_train.shape[1:] == (1, 8, 8) and len(data.x_train) + len(data.x_test) == 1797
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert set(data.y_test.tolist()) == set(range(10))
    again = load_digits(seed=0)
    assert torch.equal(data.x_test, again.x_test)


def test_digits_resize_to_mnist_size():
    data = load_digits(image_size=28)
    assert data.x_train.shape[1:] == (1, 28, 28) and data.image_size == 28
    framed = load_digits(image_size=28, margin=4)
    assert framed.x_train.shape[1:] == (1, 28, 28)
    assert framed.x_train[..., :4, :].abs().sum() == 0 and framed.x_train[..., 4:24, 4:24].sum() > 0


@pytest.mark.parametrize("kwargs", [{"test_fraction": 0}, {"test_fraction": 1.5}, {"image_size": 4},
                                    {"image_size": 12, "margin": 4}])
def test_digits_reject_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        load_digits(**kwargs)


def test_resize_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        resize_images(torch.zeros(8, 8), 28)


def test_image_data_rejects_mismatched_or_empty_splits():
    x, y = torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)
    with pytest.raises(ValueError, match="expected images"):
        ImageData("bad", x, y[:3], x, y)
    with pytest.raises(ValueError, match="empty"):
        ImageData("empty", x[:0], y[:0], x, y)


def _write_idx(path, array: np.ndarray, magic: int):
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(str(path) + ".gz", "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def _fake_mnist(root, n=12, truncate=False):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split in ("train", "t10k"):
        images = rng.integers(0, 256, size=(n, 28, 28))
        _write_idx(raw / f"{split}-images-idx3-ubyte", images, 2051)
        _write_idx(raw / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, size=n), 2049)
    if truncate:   # a download cut short: the header promises more than the file holds
        path = raw / "train-images-idx3-ubyte.gz"
        data = gzip.decompress(path.read_bytes())[:200]
        path.write_bytes(gzip.compress(data))


def test_mnist_reader_reads_official_format(tmp_path):
    _fake_mnist(tmp_path)
    assert mnist_present(tmp_path)
    data = load_mnist(tmp_path, download=False)
    assert data.name == "MNIST" and data.x_train.shape == (12, 1, 28, 28)
    assert data.x_train.max() <= 1.0


def test_missing_mnist_says_what_to_do(tmp_path):
    with pytest.raises(DataNotAvailable, match="DEMYSTIFY_DOWNLOAD=1"):
        load_mnist(tmp_path, download=False)


def test_corrupt_mnist_names_the_folder(tmp_path):
    _fake_mnist(tmp_path, truncate=True)
    with pytest.raises(DataCorrupt, match="MNIST train files under .*raw"):
        load_mnist(tmp_path, download=False)


def test_handwritten_digits_fall_back_and_say_why(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    data = load_handwritten_digits(prefer="mnist")
    assert data.name == "scikit-learn digits"
    assert "MNIST is not under" in capsys.readouterr().out
    _fake_mnist(tmp_path)
    assert load_handwritten_digits(prefer="mnist").name == "MNIST"
    with pytest.raises(ValueError, match="'digits' or 'mnist'"):
        load_handwritten_digits(prefer="imagenet")


def test_fetch_verifies_present_files(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    (tmp_path / "tasks.tar.gz").write_bytes(b"official bytes")
    good = hashlib.sha256(b"official bytes").hexdigest()
    assert fetch("https://example.org/tasks.tar.gz", "tasks.tar.gz", good, what="bAbI") \
        == tmp_path / "tasks.tar.gz"
    with pytest.raises(DataCorrupt, match="tasks.tar.gz is corrupt"):
        fetch("https://example.org/tasks.tar.gz", "tasks.tar.gz", "0" * 64, what="bAbI")


def test_fetch_never_downloads_without_opt_in(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    with pytest.raises(DataNotAvailable, match="set DEMYSTIFY_DOWNLOAD=1"):
        fetch("https://example.org/x.bin", "x.bin", "0" * 64, what="the x file")
