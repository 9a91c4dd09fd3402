"""torchvision's COCO-pretrained Faster R-CNN detectors, used only when their weights are here.

Chapter 06 trains its detectors on generated scenes; this module adds the real thing when the
learner has it: a COCO-trained `fasterrcnn_*` model. Its weights file is found, verified and (only
with `DEMYSTIFY_DOWNLOAD=1`) downloaded by `demystify.files.torchvision_checkpoint`, the one
lookup of torchvision weights: torch.hub's checkpoint folder (`$TORCH_HOME/hub/checkpoints`,
where torchvision itself caches it) or `data_dir()/torchvision/`, checked against the SHA-256
prefix that torchvision writes into its name (`…-907ea3f9.pth`). Nothing here touches the
network otherwise.
"""
from __future__ import annotations

import torch.nn as nn

# checkpoint_dirs and torchvision_checkpoint are importable from here, as they always were.
from .files import DataCorrupt, checkpoint_dirs, torchvision_checkpoint  # noqa: F401
from .weights import load_weights

COCO_DETECTORS = ("fasterrcnn_mobilenet_v3_large_320_fpn", "fasterrcnn_mobilenet_v3_large_fpn",
                  "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2")


def coco_detector(name: str = "fasterrcnn_mobilenet_v3_large_320_fpn") -> tuple[nn.Module, list[str]]:
    """A COCO-trained torchvision Faster R-CNN in eval mode, and its 91 category names.

    `name` is one of COCO_DETECTORS. Built with `weights=None` (nothing is downloaded behind
    the learner's back), then loaded from the verified checkpoint by `load_weights`
    (`weights_only`, strict). Raises DataNotAvailable when the weights are absent and
    DataCorrupt when the file is unreadable or holds other weights.
    """
    from torchvision.models import get_model, get_model_weights

    if name not in COCO_DETECTORS:
        raise ValueError(f"unknown detector {name!r}: use one of {', '.join(COCO_DETECTORS)}")
    weights = get_model_weights(name).DEFAULT
    path = torchvision_checkpoint(weights.url, what=f"torchvision's COCO weights for {name}")
    model = get_model(name, weights=None, weights_backbone=None,
                      num_classes=len(weights.meta["categories"]))
    try:
        load_weights(path, model)
    except DataCorrupt:
        raise
    except ValueError as err:          # an official file that does not fit: not the weights
        raise DataCorrupt(f"{path} does not hold the weights of {name} "
                          f"({str(err).splitlines()[0][:200]}); delete it and fetch it again"
                          ) from None
    return model.eval(), list(weights.meta["categories"])
