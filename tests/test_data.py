import gzip
import hashlib
import io
import shutil

import numpy as np
import pytest
import torch

from demystify import (DataCorrupt, DataNotAvailable, ImageData, fetch, load_digits,
                       load_handwritten_digits, load_mnist, load_mnist_t10k, mnist_present,
                       resize_images)
from demystify.data import MNIST_FILES


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


def _fake_mnist(root, monkeypatch, n=12, truncate=False):
    """MNIST's four .gz files with random digits; their MD5s stand in for the official ones."""
    from demystify import data as data_module
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
    monkeypatch.setattr(data_module, "MNIST_MD5", {
        name: hashlib.md5((raw / f"{name}.gz").read_bytes()).hexdigest()
        for name in data_module.MNIST_MD5})
    return raw


def test_mnist_reader_reads_official_format(tmp_path, monkeypatch):
    raw = _fake_mnist(tmp_path, monkeypatch)
    assert mnist_present(tmp_path)
    data = load_mnist(tmp_path, download=False)
    assert data.name == "MNIST" and data.x_train.shape == (12, 1, 28, 28)
    assert data.x_train.max() <= 1.0
    expected = gzip.decompress((raw / "t10k-labels-idx1-ubyte.gz").read_bytes())[8:]
    assert data.y_test.tolist() == list(expected)


def test_mnist_files_are_checked_against_their_md5(tmp_path, monkeypatch):
    raw = _fake_mnist(tmp_path, monkeypatch)
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(8 + 12)))
    with pytest.raises(DataCorrupt, match="t10k-labels-idx1-ubyte.gz is corrupt .*MD5"):
        load_mnist(tmp_path, download=False)


def test_mnist_md5s_are_torchvisions():
    """The MD5s quoted in demystify.data are the ones torchvision's MNIST class checks."""
    from torchvision.datasets import MNIST

    from demystify.data import MNIST_MD5, MNIST_URL
    assert {f"{name}.gz": md5 for name, md5 in MNIST_MD5.items()} == dict(MNIST.resources)
    assert MNIST_URL in MNIST.mirrors


def test_mnist_download_goes_through_the_verified_fetch(tmp_path, monkeypatch):
    served = _fake_mnist(tmp_path / "server", monkeypatch)
    urls = []

    def serve(url, timeout):
        urls.append(url)
        return io.BytesIO((served / url.rsplit("/", 1)[-1]).read_bytes())

    monkeypatch.setattr("urllib.request.urlopen", serve)
    with pytest.raises(DataNotAvailable):
        load_mnist(tmp_path / "here")                       # no opt-in: no network
    assert urls == []
    monkeypatch.setenv("DEMYSTIFY_DOWNLOAD", "1")
    data = load_mnist(tmp_path / "here")
    assert len(data.x_train) == 12 and mnist_present(tmp_path / "here")
    assert sorted(u.rsplit("/", 1)[-1] for u in urls) == sorted(
        f"{name}.gz" for name in MNIST_FILES)


def test_missing_mnist_says_what_to_do(tmp_path):
    with pytest.raises(DataNotAvailable, match="DEMYSTIFY_DOWNLOAD=1"):
        load_mnist(tmp_path, download=False)


def test_corrupt_mnist_names_the_file(tmp_path, monkeypatch):
    _fake_mnist(tmp_path, monkeypatch, truncate=True)
    with pytest.raises(DataCorrupt, match="raw/train-images-idx3-ubyte.gz holds .*header says"):
        load_mnist(tmp_path, download=False)


def test_handwritten_digits_fall_back_and_say_why(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    data = load_handwritten_digits(prefer="mnist")
    assert data.name == "MNIST's 10,000 test digits"
    assert "the full MNIST is not under" in capsys.readouterr().out
    _fake_mnist(tmp_path, monkeypatch, n=240)
    full = load_handwritten_digits(prefer="mnist", image_size=16)
    assert full.name == "MNIST" and full.x_val is not None and full.x_test.shape[-1] == 16
    with pytest.raises(ValueError, match="'mnist_t10k', 'mnist', 'digits'"):
        load_handwritten_digits(prefer="imagenet")


def test_mnist_t10k_is_committed_verified_and_split_the_same_way_every_time():
    data = load_mnist_t10k()
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (7000, 1000, 2000)
    assert data.x_train.shape[1:] == (1, 28, 28) and 0 <= data.x_train.min() < data.x_train.max() <= 1
    assert torch.bincount(data.y_test).min() >= 170            # stratified: every digit there
    again = load_mnist_t10k()
    assert torch.equal(data.y_test, again.y_test) and torch.equal(data.x_val, again.x_val)
    seen = {tuple(x.flatten().tolist()) for x in data.x_test[:50]}
    assert not seen & {tuple(x.flatten().tolist()) for x in data.x_train}   # disjoint splits
    with pytest.raises(ValueError, match="n_test and n_val"):
        load_mnist_t10k(n_test=5000, n_val=5000)


def test_mnist_t10k_is_found_in_the_installed_package_and_checked(tmp_path, monkeypatch):
    from demystify import data as data_module
    packaged = tmp_path / "course_data" / "mnist"
    packaged.mkdir(parents=True)
    for name in data_module.MNIST_T10K:
        shutil.copy2(data_module.CHECKOUT_DATA / "mnist" / name, packaged / name)
    monkeypatch.setattr(data_module, "CHECKOUT_DATA", tmp_path / "no-checkout")
    monkeypatch.setattr(data_module, "PACKAGED_DATA", tmp_path / "course_data")
    assert len(load_mnist_t10k().x_test) == 2000
    name = "t10k-labels-idx1-ubyte.gz"
    labels = bytearray(gzip.decompress((packaged / name).read_bytes()))
    labels[-1] = (labels[-1] + 1) % 10
    (packaged / name).write_bytes(gzip.compress(bytes(labels)))
    with pytest.raises(DataCorrupt, match="official bytes.*git checkout -- data/mnist/"):
        load_mnist_t10k()
    (packaged / name).unlink()
    with pytest.raises(DataNotAvailable, match="reinstall demystify"):
        load_mnist_t10k()


def test_idx_reader_rejects_a_short_file():
    from demystify.data import read_idx
    header = bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big")
    assert read_idx(header + bytes(range(5)), "x").tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(DataCorrupt, match="header says"):
        read_idx(header + bytes(3), "x")
    with pytest.raises(DataCorrupt, match="not an IDX"):
        read_idx(b"PK\x03\x04", "x")


def test_digits_can_hold_out_a_validation_split():
    data = load_digits(val_fraction=0.2)
    assert data.x_val is not None and len(data.x_val) + len(data.x_train) == 1347
    assert "validation" in repr(data)
    with pytest.raises(ValueError, match="val_fraction"):
        load_digits(val_fraction=1.0)


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
