"""Moving images and measuring how much a representation changes (chapters 1 and 2).

`move` shifts (and optionally rotates) a batch of images the way a writer who started a little
further along the line would have drawn them; `mean_relative_change` says how different two
batches of representations are, relative to the first: 0 means unchanged, and two non-negative
images of equal size that share no ink are √2 ≈ 1.41 apart.
"""
from __future__ import annotations

import torch
import torchvision.transforms.v2.functional as TF


def move(images: torch.Tensor, dx: float = 0, dy: float = 0,
         angle: float = 0.0) -> torch.Tensor:
    """Images (..., H, W) shifted right by `dx` and down by `dy` pixels, then rotated by `angle`
    degrees about their centre; pixels uncovered at the border are 0 (no ink).

    Whole-pixel shifts copy pixels exactly; fractional ones and rotations interpolate
    bilinearly.
    """
    if not isinstance(images, torch.Tensor) or images.ndim < 2:
        raise ValueError(f"move expects a tensor of images (..., H, W), got "
                         f"{getattr(images, 'shape', type(images))}")
    return TF.affine(images, angle=angle, translate=[dx, dy], scale=1.0,
                     shear=[0.0, 0.0], interpolation=TF.InterpolationMode.BILINEAR)


def mean_relative_change(original: torch.Tensor, changed: torch.Tensor) -> float:
    """Mean over the batch of ‖changed − original‖ / ‖original‖, each item flattened.

    `original` and `changed` are (N, ...) batches of the same shape: images, or any layer's
    response to them. An item whose original is all zeros counts its change against 1e-8.
    """
    if original.shape != changed.shape or original.ndim < 2:
        raise ValueError(f"mean_relative_change needs two (N, ...) batches of the same shape, "
                         f"got {tuple(original.shape)} and {tuple(changed.shape)}")
    a, b = original.flatten(1).float(), changed.flatten(1).float()
    return ((b - a).norm(dim=1) / a.norm(dim=1).clamp_min(1e-8)).mean().item()
