"""Plumbing for the Demystifying Deep Learning course book.

The models a learner should read live in the chapters; this package holds only what every
chapter needs once: the device, the profile, the data, the training loop and the plots.
"""
from __future__ import annotations

import os

import torch

from . import claims as _claims
from .claims import claim, glue, report, timing
from .data import (DataCorrupt, DataNotAvailable, ImageData, course_file, data_dir,
                   download_allowed, fetch, load_digits, load_handwritten_digits, load_mnist,
                   load_mnist_t10k, mnist_present, resize_images, sha256sum)
from .device import (MixedPrecision, autocast, autocast_dtype, configure, describe_hardware,
                     get_device)
from .plot import (mark_timed, mark_varying, plot_attention, plot_heatmap, plot_history,
                   show_feature_maps, show_filters, show_images)
from .install import require_chapter_packages
from .profile import Profile, profile
from .train import (History, batches, count_parameters, evaluate, fit, predict,
                    seed_everything)

__version__ = "0.1.0"


def run_seed() -> int:
    """The seed of this run: $DEMYSTIFY_SEED (an integer), default 0; stored outputs use 0."""
    text = os.environ.get("DEMYSTIFY_SEED", "").strip()
    if not text:
        return 0
    try:
        seed = int(text)
    except ValueError:
        raise ValueError(f"DEMYSTIFY_SEED={text!r} is not an integer seed (e.g. 0 … 4)") from None
    if not 0 <= seed < 2**32:
        raise ValueError(f"DEMYSTIFY_SEED must be from 0 to 2**32 - 1, got {seed}")
    return seed


def start(chapter: str, seed: int | None = None,
          cpu_threads: int | None = 1) -> tuple[torch.device, Profile]:
    """A chapter's setup in one call: seed everything, pick the device, load the profile.

    The seed is `seed`, else $DEMYSTIFY_SEED, else 0 (`P.seed` gives it to the chapter; `fit`
    uses it too). It also starts recording the chapter's claims (`demystify.claim`) and, in
    IPython, the fingerprint of every figure the chapter shows (`demystify.claims`).

    On CPU, torch runs on `cpu_threads` threads (None keeps torch's default of one per core):
    the course's models are small, and for them extra threads mostly wait for each other —
    on a busy 2-core machine two threads cost up to 10× the CPU time of one.
    Prints one banner line (device, hardware, torch version, profile) and returns
    `(device, P)` where `P.<size>` are this chapter's sizes for this device.
    """
    if cpu_threads is not None and cpu_threads < 1:
        raise ValueError(f"cpu_threads must be at least 1 (or None for torch's default), got {cpu_threads}")
    require_chapter_packages(chapter)      # one clear error if this chapter's extra is missing
    seed = run_seed() if seed is None else seed
    seed_everything(seed)
    device = get_device()
    configure(device)
    if device.type == "cpu" and cpu_threads is not None:
        torch.set_num_threads(cpu_threads)
    chosen = profile(chapter, device, seed=seed)
    _claims.begin(chapter, seed, chosen.kind)
    _claims.watch_figures()     # in IPython: every figure shown is fingerprinted and checked
    print(f"{describe_hardware(device)} · profile {chosen.kind} (budget {chosen.budget_s} s)"
          f" · seed {seed}")
    return device, chosen


__all__ = [
    "DataCorrupt", "DataNotAvailable", "History", "ImageData", "MixedPrecision", "Profile",
    "autocast",
    "autocast_dtype", "batches", "claim", "count_parameters", "course_file", "glue",
    "load_mnist_t10k", "mark_timed", "mark_varying", "report", "run_seed", "timing",
    "configure", "data_dir", "describe_hardware", "download_allowed", "evaluate", "fetch", "fit",
    "get_device", "load_digits", "load_handwritten_digits", "load_mnist", "mnist_present",
    "plot_attention", "plot_heatmap", "plot_history", "predict", "profile", "resize_images",
    "seed_everything",
    "sha256sum", "show_feature_maps", "show_filters", "show_images", "start",
]
