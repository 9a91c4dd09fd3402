"""Plumbing for the Demystifying Deep Learning course book.

The models a learner should read live in the chapters; this package holds only what every
chapter needs once: the device, the profile, the data, the training loop and the plots.
"""
from __future__ import annotations

import torch

from .data import (DataCorrupt, DataNotAvailable, ImageData, data_dir, download_allowed, fetch,
                   load_digits, load_handwritten_digits, load_mnist, mnist_present, resize_images,
                   sha256sum)
from .device import autocast, autocast_dtype, configure, describe_hardware, get_device
from .plot import plot_attention, plot_history, show_feature_maps, show_filters, show_images
from .profile import Profile, profile
from .train import History, batches, evaluate, fit, predict, seed_everything

__version__ = "0.1.0"


def start(chapter: str, seed: int = 0, cpu_threads: int | None = 1) -> tuple[torch.device, Profile]:
    """A chapter's setup in one call: seed everything, pick the device, load the profile.

    On CPU, torch runs on `cpu_threads` threads (None keeps torch's default of one per core):
    the course's models are small, and for them extra threads mostly wait for each other —
    on a busy 2-core machine two threads cost up to 10× the CPU time of one.
    Prints one banner line (device, hardware, torch version, profile) and returns
    `(device, P)` where `P.<size>` are this chapter's sizes for this device.
    """
    if cpu_threads is not None and cpu_threads < 1:
        raise ValueError(f"cpu_threads must be at least 1 (or None for torch's default), got {cpu_threads}")
    seed_everything(seed)
    device = get_device()
    configure(device)
    if device.type == "cpu" and cpu_threads is not None:
        torch.set_num_threads(cpu_threads)
    chosen = profile(chapter, device)
    print(f"{describe_hardware(device)} · profile {chosen.kind} (budget {chosen.budget_s} s)")
    return device, chosen


__all__ = [
    "DataCorrupt", "DataNotAvailable", "History", "ImageData", "Profile", "autocast",
    "autocast_dtype", "batches",
    "configure", "data_dir", "describe_hardware", "download_allowed", "evaluate", "fetch", "fit",
    "get_device", "load_digits", "load_handwritten_digits", "load_mnist", "mnist_present",
    "plot_attention", "plot_history", "predict", "profile", "resize_images", "seed_everything",
    "sha256sum", "show_feature_maps", "show_filters", "show_images", "start",
]
