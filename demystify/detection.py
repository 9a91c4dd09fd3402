"""torchvision's COCO-pretrained Faster R-CNN detectors, used only when their weights are here.

Chapter 06 trains its detectors on generated scenes; this module adds the real thing when the
learner has it: a COCO-trained `fasterrcnn_*` model. Its weights file is read from torch.hub's
checkpoint folder (`$TORCH_HOME/hub/checkpoints`, where torchvision itself caches it) or from
`data_dir()/torchvision/`, and downloaded only with `DEMYSTIFY_DOWNLOAD=1`. Every file is checked
against the SHA-256 prefix that torchvision writes into its name (`…-907ea3f9.pth`), the same check
`torch.hub` makes. Nothing here touches the network otherwise.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn as nn

from .data import DataCorrupt, DataNotAvailable, data_dir, download_allowed, sha256sum

COCO_DETECTORS = ("fasterrcnn_mobilenet_v3_large_320_fpn", "fasterrcnn_mobilenet_v3_large_fpn",
                  "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2")


def checkpoint_dirs() -> list[Path]:
    """Where torchvision weights are looked for: torch.hub's checkpoints, then data_dir()/torchvision."""
    return [Path(torch.hub.get_dir()) / "checkpoints", data_dir() / "torchvision"]


def _hash_prefix(filename: str) -> str:
    match = re.search(r"-([0-9a-f]{8,})\.pth$", filename)
    if match is None:
        raise ValueError(f"{filename!r} carries no SHA-256 prefix (name-<hex>.pth), so it cannot "
                         f"be verified")
    return match.group(1)


def torchvision_checkpoint(url: str, *, what: str) -> Path:
    """The verified local copy of a torchvision weights file (`url` names it), never an implicit download.

    Raises DataNotAvailable (where to put it, or DEMYSTIFY_DOWNLOAD=1) when absent, and DataCorrupt
    when its SHA-256 does not start with the prefix in its name.
    """
    filename = url.rsplit("/", 1)[-1]
    prefix = _hash_prefix(filename)
    found = next((d / filename for d in checkpoint_dirs() if (d / filename).is_file()), None)
    if found is None:
        if not download_allowed():
            raise DataNotAvailable(
                f"{what} is not on this machine: put {filename} in {checkpoint_dirs()[0]} "
                f"(from {url}), or set DEMYSTIFY_DOWNLOAD=1 to download it")
        found = checkpoint_dirs()[0] / filename
        found.parent.mkdir(parents=True, exist_ok=True)
        # writes a temporary file, checks the hash prefix, then renames it into place
        torch.hub.download_url_to_file(url, str(found), hash_prefix=prefix, progress=False)
    actual = sha256sum(found)
    if not actual.startswith(prefix):
        raise DataCorrupt(f"{found} is corrupt (SHA-256 {actual[:12]}…, expected {prefix}…): "
                          f"delete it and fetch it again")
    return found


def coco_detector(name: str = "fasterrcnn_mobilenet_v3_large_320_fpn") -> tuple[nn.Module, list[str]]:
    """A COCO-trained torchvision Faster R-CNN in eval mode, and its 91 category names.

    `name` is one of COCO_DETECTORS. Built with `weights=None` (nothing is downloaded behind
    the learner's back), then loaded from the verified checkpoint with `weights_only=True`.
    """
    from torchvision.models import get_model, get_model_weights

    if name not in COCO_DETECTORS:
        raise ValueError(f"unknown detector {name!r}: use one of {', '.join(COCO_DETECTORS)}")
    weights = get_model_weights(name).DEFAULT
    path = torchvision_checkpoint(weights.url, what=f"torchvision's COCO weights for {name}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:      # truncated file, not a checkpoint, or pickled code
        raise DataCorrupt(f"{path} is not a readable weights file ({type(err).__name__}); "
                          f"delete it and fetch it again") from None
    model = get_model(name, weights=None, weights_backbone=None,
                      num_classes=len(weights.meta["categories"]))
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as err:
        raise DataCorrupt(f"{path} does not hold the weights of {name} "
                          f"({str(err).splitlines()[0][:200]}); delete it and fetch it again") from None
    return model.eval(), list(weights.meta["categories"])
