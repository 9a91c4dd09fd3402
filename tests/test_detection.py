import hashlib

import pytest
import torch

import demystify.detection as detection
from demystify import DataCorrupt, DataNotAvailable
from demystify.detection import coco_detector, torchvision_checkpoint


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch.hub folder and data folder: no real weights are ever used or fetched."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path / "data"))
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    return checkpoints


def _named(folder, content: bytes, stem="tiny"):
    name = f"{stem}-{hashlib.sha256(content).hexdigest()[:8]}.pth"
    (folder / name).write_bytes(content)
    return name


def test_absent_weights_say_what_to_do_and_never_download(hub, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("tried to download")
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    with pytest.raises(DataNotAvailable, match="DEMYSTIFY_DOWNLOAD=1"):
        torchvision_checkpoint("https://example.org/models/tiny-0123abcd.pth", what="tiny weights")
    with pytest.raises(DataNotAvailable, match=str(hub)):
        coco_detector()


def test_present_file_is_found_and_verified(hub, tmp_path):
    name = _named(hub, b"weights")
    assert torchvision_checkpoint(f"https://example.org/{name}", what="w") == hub / name
    other = tmp_path / "data" / "torchvision"          # the course's own data folder works too
    other.mkdir(parents=True)
    name2 = _named(other, b"other weights", stem="other")
    assert torchvision_checkpoint(f"https://example.org/{name2}", what="w") == other / name2


def test_corrupt_file_is_refused(hub):
    name = _named(hub, b"weights")
    (hub / name).write_bytes(b"tampered")
    with pytest.raises(DataCorrupt, match="corrupt"):
        torchvision_checkpoint(f"https://example.org/{name}", what="w")
    with pytest.raises(ValueError, match="SHA-256 prefix"):
        torchvision_checkpoint("https://example.org/plain.pth", what="w")


def test_opt_in_download_goes_through_torch_hub_with_the_hash_prefix(hub, monkeypatch):
    content = b"downloaded"
    name = f"dl-{hashlib.sha256(content).hexdigest()[:8]}.pth"
    calls = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, hash_prefix))
        with open(dst, "wb") as handle:
            handle.write(content)
    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    monkeypatch.setenv("DEMYSTIFY_DOWNLOAD", "1")
    path = torchvision_checkpoint(f"https://example.org/{name}", what="w")
    assert path == hub / name and calls == [(f"https://example.org/{name}", name[3:11])]


def test_unknown_detector_lists_the_choices():
    with pytest.raises(ValueError, match="fasterrcnn_mobilenet_v3_large_320_fpn"):
        coco_detector("yolo")


def test_detector_loads_a_matching_checkpoint_and_rejects_a_wrong_one(hub, monkeypatch):
    from torchvision.models import get_model, get_model_weights
    name = "fasterrcnn_mobilenet_v3_large_320_fpn"
    torch.manual_seed(0)
    reference = get_model(name, weights=None, weights_backbone=None, num_classes=91).eval()
    path = hub / "stand-in.pth"
    torch.save(reference.state_dict(), path)
    stand_in = _named(hub, path.read_bytes(), stem="stand-in")
    weights = get_model_weights(name).DEFAULT

    class StandIn:       # the real enum's metadata with a URL naming our stand-in file
        url, meta = f"https://example.org/{stand_in}", weights.meta

    monkeypatch.setattr("torchvision.models.get_model_weights",
                        lambda n: type("W", (), {"DEFAULT": StandIn}))
    model, categories = coco_detector(name)
    assert len(categories) == 91 and categories[1] == "person" and not model.training
    x = [torch.rand(3, 64, 64)]
    with torch.no_grad():
        assert torch.equal(model(x)[0]["boxes"], reference(x)[0]["boxes"])
    wrong = _named(hub, _saved_bytes(hub, {"layer.weight": torch.zeros(2)}), stem="wrong")
    StandIn.url = f"https://example.org/{wrong}"
    with pytest.raises(DataCorrupt, match="does not hold the weights"):
        coco_detector(name)
    garbage = _named(hub, b"not a checkpoint", stem="garbage")
    StandIn.url = f"https://example.org/{garbage}"
    with pytest.raises(DataCorrupt, match="not a readable weights file"):
        coco_detector(name)


def _saved_bytes(folder, state):
    path = folder / "tmp-state.pth"
    torch.save(state, path)
    return path.read_bytes()


def test_checkpoint_dirs_follow_torch_home(hub):
    assert detection.checkpoint_dirs()[0] == hub
