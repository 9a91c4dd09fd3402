"""Bad inputs across demystify/: each public function, given an invalid argument (unknown device
or profile, missing or corrupt file, wrong tensor shape, empty dataset), raises one clear error
that says what is wrong — never a bare torch/numpy/Python internals message.

The modules' own test files cover many cases already; this file holds the ones they lacked
(audited for device, profile, data, train, plot, scenes, tables and babi).
"""
from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest
import torch
import torch.nn as nn

import demystify
from demystify import data, device, plot, train
from demystify.profile import profile, profile_kind
from demystify.data import DataCorrupt, DataNotAvailable

CPU = torch.device("cpu")


def xy(n: int = 4, features: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.zeros(n, features), torch.zeros(n, dtype=torch.long)


# --- device and profile -----------------------------------------------------------------------

@pytest.mark.parametrize("call", [device.autocast, device.configure, device.describe_hardware,
                                  lambda name: profile("01_ml_vs_dl", name),
                                  profile_kind, device.get_device])
def test_unknown_device_names_the_valid_ones(call):
    with pytest.raises(ValueError, match="unknown device 'tpu': use cpu, cuda, cuda:N or mps"):
        call("tpu")


def test_device_name_of_the_wrong_type():
    with pytest.raises(TypeError, match="string such as 'cpu'"):
        device.get_device(3)


def test_unknown_device_in_the_environment(monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_DEVICE", "gpu0")
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        demystify.start("01_ml_vs_dl")


def test_unknown_profile_and_chapter(monkeypatch):
    with pytest.raises(ValueError, match="no profile for chapter '99_nope'.*add yours"):
        demystify.start("99_nope")
    monkeypatch.setenv("DEMYSTIFY_PROFILE", "tpu")
    with pytest.raises(ValueError, match="use cpu or gpu"):
        demystify.start("01_ml_vs_dl")


# --- data -------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, -3])
def test_resize_to_no_pixels(size):
    with pytest.raises(ValueError, match="at least 1 pixel"):
        data.resize_images(torch.zeros(2, 1, 8, 8), size)


def test_load_digits_bad_sizes():
    with pytest.raises(ValueError, match="at least 8"):
        data.load_digits(image_size=28, margin=12)
    with pytest.raises(ValueError, match="at least 8"):
        data.load_digits(image_size=8, margin=-1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        data.load_digits(test_fraction=1.0)


def test_fetch_missing_and_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    with pytest.raises(DataNotAvailable, match=r"put w.bin at .*w.bin .*DEMYSTIFY_DOWNLOAD=1"):
        data.fetch("https://example.org/w.bin", "w.bin", "0" * 64, what="a weights file")
    (tmp_path / "w.bin").write_bytes(b"not the real file")
    with pytest.raises(DataCorrupt, match="w.bin is corrupt .*delete it"):
        data.fetch("https://example.org/w.bin", "w.bin", "0" * 64, what="a weights file")


def test_mnist_truncated_gzip(tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    cut = gzip.compress(b"\0" * 64)[:20]
    for name in data.MNIST_FILES:
        (raw / f"{name}.gz").write_bytes(cut)                       # cut short
    with pytest.raises(DataCorrupt, match="is corrupt .*MD5.*delete it"):
        data.load_mnist(root=tmp_path)
    # a cut file that passed its checksum (a wrong checksum on record) still gets one clear error
    monkeypatch.setattr(data, "MNIST_MD5", {n: hashlib.md5(cut).hexdigest()
                                            for n in data.MNIST_FILES})
    with pytest.raises(DataCorrupt, match="not a valid gzip file.*delete it"):
        data.load_mnist(root=tmp_path)


def test_mnist_missing_without_download(tmp_path):
    with pytest.raises(DataNotAvailable, match="copy its four .gz files"):
        data.load_mnist(root=tmp_path, download=False)


def test_image_data_shapes_and_empty_splits():
    with pytest.raises(ValueError, match=r"expected images \(N, C, H, W\) and N labels"):
        data.ImageData("x", torch.zeros(3, 1, 8, 8), torch.zeros(2), torch.zeros(1, 1, 8, 8), torch.zeros(1))
    with pytest.raises(ValueError, match="test split is empty"):
        data.ImageData("x", torch.zeros(3, 1, 8, 8), torch.zeros(3), torch.zeros(0, 1, 8, 8), torch.zeros(0))


# --- train ------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [0, -1])
def test_batch_size_below_one(batch_size):
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        list(train.batches(*xy(), batch_size))
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        train.fit(nn.Linear(2, 3), xy(), epochs=1, batch_size=batch_size, progress=False, device=CPU)


def test_fit_and_evaluate_empty_or_misaligned_data():
    with pytest.raises(ValueError, match="empty training set"):
        train.fit(nn.Linear(2, 3), [], epochs=1, progress=False, device=CPU)
    with pytest.raises(ValueError, match="empty dataset"):
        train.fit(nn.Linear(2, 3), xy(0), epochs=1, progress=False, device=CPU)
    with pytest.raises(ValueError, match="differ in length: 4 vs 3"):
        train.fit(nn.Linear(2, 3), (torch.zeros(4, 2), torch.zeros(3, dtype=torch.long)),
                  epochs=1, progress=False, device=CPU)
    with pytest.raises(ValueError, match="empty dataset"):
        train.evaluate(nn.Linear(2, 3), [])
    with pytest.raises(ValueError, match="empty dataset"):
        train.evaluate(nn.Linear(2, 3), xy(0))


def test_predict_without_inputs():
    with pytest.raises(ValueError, match="no inputs"):
        train.predict(nn.Linear(2, 3), torch.zeros(0, 2))


def test_predict_and_evaluate_a_model_without_parameters():
    """A parameter-free model runs on the CPU instead of failing with a bare StopIteration."""
    assert train.predict(nn.Identity(), torch.ones(3, 2)).shape == (3, 2)
    scores = train.evaluate(nn.Identity(), (torch.eye(2), torch.tensor([0, 1])))
    assert scores["accuracy"] == 1.0


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True])
def test_seed_must_be_an_integer_in_range(seed):
    with pytest.raises(ValueError, match="seed must be an integer"):
        train.seed_everything(seed)


# --- plot -------------------------------------------------------------------------------------

def test_plot_history_bad_inputs():
    history = train.History()
    history.log(train_loss=1.0)
    with pytest.raises(ValueError, match="non-empty mapping"):
        plot.plot_history({})
    with pytest.raises(ValueError, match="non-empty mapping"):
        plot.plot_history([history])
    with pytest.raises(ValueError, match="no history has the metric.*they have: loss"):
        plot.plot_history(history, metrics=("accuracy",))


def test_image_grids_bad_inputs():
    with pytest.raises(ValueError, match="ncols must be at least 1"):
        plot.show_images(torch.zeros(3, 8, 8), ncols=0)
    with pytest.raises(ValueError, match="3 images but only 1 labels"):
        plot.show_images(torch.zeros(3, 8, 8), labels=[1])
    with pytest.raises(ValueError, match="conv weights"):
        plot.show_filters(torch.zeros(0, 1, 3, 3))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        plot.show_feature_maps(torch.zeros(8, 8))


# --- scenes, tables, babi ---------------------------------------------------------------------

def test_scene_captions_need_one_box_per_digit():
    from demystify.scenes import describe, make_scenes
    with pytest.raises(ValueError, match="one box and one size word per digit"):
        describe(np.zeros((2, 4)), [1], ["", ""])
    with pytest.raises(ValueError, match="'train', 'val' or 'test'"):
        make_scenes(2, split="validation")
    with pytest.raises(ValueError, match="needs a digit source with a validation split"):
        make_scenes(2, split="val")     # scikit-learn's digits have no validation split


def test_unknown_table():
    from demystify.tables import read_table
    with pytest.raises(ValueError, match="unknown table 'imagenet.csv'; the committed tables are"):
        read_table("imagenet.csv")


def test_babi_bad_inputs(tmp_path, monkeypatch):
    babi = pytest.importorskip("demystify.babi")
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    monkeypatch.delenv("BABI_DIR", raising=False)
    with pytest.raises(babi.BabiFormatError, match="line 2: a question needs exactly three"):
        babi.parse_babi("1 Mary went home.\n2 Where is Mary?\tkitchen\n")
    with pytest.raises(DataNotAvailable, match="no bAbI file"):
        babi.read_babi(tmp_path / "qa1.txt")
    (tmp_path / "qa1.txt").write_bytes(gzip.compress(b"1 Mary went home.\n"))
    with pytest.raises(DataCorrupt, match="not UTF-8 text"):
        babi.read_babi(tmp_path / "qa1.txt")
    with pytest.raises(ValueError, match="unknown bAbI task 5"):
        babi.task_filename(5, "train")
    with pytest.raises(ValueError, match="'auto', 'official' or 'simulated'"):
        babi.load_babi(source="web")
    with pytest.raises(DataNotAvailable, match="official bAbI v1.2 files are not on this machine"):
        babi.load_babi(tasks=[1], source="official", verbose=False)
    with pytest.raises(ValueError, match="memory_size must be at least 1"):
        babi.questions([], memory_size=0)
    with pytest.raises(ValueError, match="at least one question"):
        babi.vectorize([], babi.Vocabulary([]), 5)
