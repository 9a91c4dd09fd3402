from pathlib import Path

import pytest
import torch
import torch.nn as nn

from demystify import DataCorrupt, DataNotAvailable, sha256sum
from demystify.weights import RESNET18_SHA256, imagenet_resnet18, load_weights, save_weights


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


@pytest.mark.parametrize("name", ["net.safetensors", "net.pt"])
def test_save_and_load_round_trip(tmp_path, name):
    model = _model()
    path = save_weights(model, tmp_path / "sub" / name)
    assert path.exists() and not list(path.parent.glob("*.tmp"))
    fresh = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    state = load_weights(path, fresh)
    x = torch.rand(2, 1, 8, 8)
    assert torch.equal(model(x), fresh(x))
    assert set(state) == set(model.state_dict())


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "net.pt"
    save_weights(_model(), path)
    before = path.read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_weights(nn.Linear(2, 2), path)
    assert path.read_bytes() == before and not list(tmp_path.glob("*.tmp"))


def test_save_rejects_non_tensors(tmp_path):
    with pytest.raises(TypeError, match="not tensors: step"):
        save_weights({"w": torch.zeros(2), "step": 3}, tmp_path / "bad.pt")


def test_load_reports_missing_corrupt_and_mismatched_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_weights"):
        load_weights(tmp_path / "absent.safetensors")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(DataCorrupt, match="delete it"):
        load_weights(corrupt)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(save_weights(_model(), tmp_path / "full.pt").read_bytes()[:100])
    with pytest.raises(DataCorrupt):
        load_weights(truncated)
    path = save_weights(_model(), tmp_path / "net.pt")
    wider = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    with pytest.raises(ValueError, match="net.pt does not fit Sequential: size mismatch for "
                                         "3.weight.*torch.Size\\(\\[3, 144\\]\\)"):
        load_weights(path, wider)
    with pytest.raises(ValueError, match='Unexpected key.*"3.weight"'):
        load_weights(path, nn.Sequential(nn.Conv2d(1, 4, 3)))
    with pytest.raises(ValueError, match='Missing key.*"5.weight"'):
        load_weights(path, nn.Sequential(*_model(), nn.ReLU(), nn.Linear(3, 2)))


def test_load_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(1), "f": print}, path)   # a callable needs unpickling code
    with pytest.raises(DataCorrupt):
        load_weights(path)


def test_resnet18_checksum_matches_torchvision_file_name():
    from torchvision.models import ResNet18_Weights
    assert Path(ResNet18_Weights.DEFAULT.url).stem.split("-")[-1] == RESNET18_SHA256[:8]


def test_resnet18_absent_without_download_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    with pytest.raises(DataNotAvailable, match="DEMYSTIFY_DOWNLOAD=1"):
        imagenet_resnet18()


def test_resnet18_loads_a_present_verified_file(tmp_path, monkeypatch):
    from torchvision.models import resnet18
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    torch.manual_seed(0)
    reference = resnet18(weights=None).eval()
    path = save_weights(reference, tmp_path / "torchvision" / "resnet18-f37072fd.pth")
    model = imagenet_resnet18(sha256=sha256sum(path))
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))
    assert not model.training
    with pytest.raises(DataCorrupt, match="corrupt"):     # the official checksum rejects it
        imagenet_resnet18()


def test_imagenet_features_transform_each_batch_only(tmp_path, monkeypatch):
    """Chapter 09's ResNet-18 path on small weights made here: never the whole set enlarged."""
    import torch.nn as nn
    import torch.nn.functional as F
    from torchvision.models import resnet18

    from demystify.data import sha256sum
    from demystify.weights import imagenet_features

    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    monkeypatch.delenv("DEMYSTIFY_DOWNLOAD", raising=False)
    torch.manual_seed(0)
    path = save_weights(resnet18(weights=None), tmp_path / "torchvision" / "resnet18-f37072fd.pth")
    model = imagenet_resnet18(sha256=sha256sum(path))
    model.fc = nn.Identity()
    images = torch.rand(10, 1, 16, 16)
    seen = []
    interpolate = F.interpolate

    def spy(x, *args, **kwargs):
        seen.append(len(x))
        return interpolate(x, *args, **kwargs)

    monkeypatch.setattr(F, "interpolate", spy)
    features = imagenet_features(model, images, size=32, batch_size=4)
    assert features.shape == (10, 512) and seen == [4, 4, 2]
    one = imagenet_features(model, images[7:8], size=32, batch_size=4)
    assert torch.allclose(one[0], features[7], atol=1e-5)  # batching does not change a feature
    with pytest.raises(ValueError, match="must be"):
        imagenet_features(model, images[:, 0], size=32)


def test_resnet18_weights_in_torch_home_are_found(tmp_path, monkeypatch):
    """Weights torchvision already cached ($TORCH_HOME/hub/checkpoints) serve chapter 09 too."""
    from torchvision.models import resnet18
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("DEMYSTIFY_DOWNLOAD", raising=False)
    torch.manual_seed(1)
    reference = resnet18(weights=None).eval()
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    path = save_weights(reference, cached)
    model = imagenet_resnet18(sha256=sha256sum(path))
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))
    with pytest.raises(DataCorrupt, match="resnet18-f37072fd.pth is corrupt"):
        imagenet_resnet18()                     # the official full SHA-256 rejects the stand-in
