"""Saving and loading model weights safely: atomic writes, no pickled code, clear errors.

Checkpoints are plain tensors by name (a state_dict), written with `demystify.files.atomic_write`
(a temporary file, then a rename), so an interrupted run never leaves half a file.
`.safetensors` files use the safetensors format (readable from any language); other names use
`torch.save` and are read back with `torch.load(weights_only=True)`, which refuses to run
pickled code. Loading into a model is PyTorch's own `load_state_dict(strict=True)`. ImageNet
weights of torchvision's models come through `demystify.files.torchvision_checkpoint`: found in
torch.hub's cache or under `data_dir()`, downloaded only with `DEMYSTIFY_DOWNLOAD=1`, always
SHA-256-checked.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn as nn

from .files import DataCorrupt, atomic_write, torchvision_checkpoint

# torchvision's ResNet18_Weights.IMAGENET1K_V1 (= DEFAULT); the file name carries the first
# 8 hex digits of this SHA-256, as torchvision's own hash check expects.
RESNET18_SHA256 = "f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec"


def _state_dict(weights: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    state = weights.state_dict() if isinstance(weights, nn.Module) else dict(weights)
    bad = [name for name, value in state.items() if not isinstance(value, torch.Tensor)]
    if bad:
        raise TypeError(f"weights must map names to tensors; not tensors: {', '.join(bad[:5])}")
    return {name: value.detach().cpu().contiguous() for name, value in state.items()}


def save_weights(weights: nn.Module | Mapping[str, torch.Tensor], path: str | Path) -> Path:
    """Write a model's state_dict (or a name → tensor mapping) atomically; return the path.

    The format follows the suffix: `.safetensors` → safetensors, anything else → `torch.save`.
    """
    path = Path(path)
    state = _state_dict(weights)
    with atomic_write(path) as tmp:
        if path.suffix == ".safetensors":
            from safetensors.torch import save_file
            # safetensors refuses tensors that share memory (tied weights): store copies
            save_file({name: value.clone() for name, value in state.items()}, tmp)
        else:
            torch.save(state, tmp)
    return path


def load_weights(path: str | Path, model: nn.Module | None = None) -> dict[str, torch.Tensor]:
    """Read a state_dict written by `save_weights` (or any weights-only checkpoint).

    With `model`, the weights are also loaded into it with `load_state_dict(strict=True)`:
    missing, unexpected or wrongly shaped tensors raise one ValueError that names the file,
    the model and PyTorch's list of them (PyTorch has then copied the tensors that did fit:
    load again after fixing the model).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: train and save the model first "
                                f"(save_weights), or check the path")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:   # truncated, not a checkpoint, or pickled code
        raise DataCorrupt(f"{path} is not a readable weights file ({type(err).__name__}); "
                          f"delete it and save or fetch it again") from None
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataCorrupt(f"{path} does not hold a state_dict (names → tensors)")
    if model is not None:
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as err:    # PyTorch lists every missing, unexpected, misshaped name
            raise ValueError(f"{path.name} does not fit {type(model).__name__}: "
                             f"{str(err).partition(':')[2].strip()}") from None
    return dict(state)


def imagenet_resnet18(sha256: str = RESNET18_SHA256) -> nn.Module:
    """torchvision's ResNet-18 with its ImageNet weights (`ResNet18_Weights.DEFAULT`), in eval mode.

    The weights file `resnet18-f37072fd.pth` is read from torch.hub's cache
    (`$TORCH_HOME/hub/checkpoints`, where torchvision keeps it) or `data_dir()/torchvision/`,
    or downloaded with `DEMYSTIFY_DOWNLOAD=1`, and checked against `sha256`; otherwise
    `DataNotAvailable` says what to do.
    """
    from torchvision.models import ResNet18_Weights, resnet18

    path = torchvision_checkpoint(ResNet18_Weights.DEFAULT.url, sha256=sha256,
                                  what="torchvision's ImageNet ResNet-18 weights")
    model = resnet18(weights=None)
    load_weights(path, model)
    return model.eval()


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_features(model: nn.Module, images: torch.Tensor, size: int = 112,
                      batch_size: int = 256, device: torch.device | str | None = None
                      ) -> torch.Tensor:
    """Features of grey images (N, 1, H, W) in [0, 1] from an ImageNet network, on the CPU.

    Each batch is resized to size×size, copied to 3 channels and normalised with ImageNet's
    mean and standard deviation only when it is its turn, so memory holds one enlarged batch,
    never the whole set (10,000 digits at 112×112×3 would take 1.5 GB as float32).
    `model` should end in its features (e.g. a ResNet with `fc = nn.Identity()`) and be in
    eval mode, so BatchNorm uses its stored statistics.
    """
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be (N, 1 or 3, H, W), got {tuple(images.shape)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    outputs = []
    with torch.no_grad():
        for batch in images.split(batch_size):
            batch = torch.nn.functional.interpolate(batch.to(device).float(), size=(size, size),
                                                    mode="bilinear", align_corners=False)
            batch = batch.expand(-1, 3, -1, -1) if batch.shape[1] == 1 else batch
            outputs.append(model((batch - mean) / std).float().cpu())
    return torch.cat(outputs)
