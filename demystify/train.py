"""One training loop for the whole course: fit(), evaluate(), predict(), seeding."""
from __future__ import annotations

import numbers
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from .device import MixedPrecision, autocast, get_device

Batches = tuple[torch.Tensor, torch.Tensor] | Iterable[tuple[torch.Tensor, torch.Tensor]]


_last_seed = 0     # the seed of the run: fit() shuffles with it unless given another
DEFAULT_LR = 1e-3  # fit()'s Adam learning rate when no lr= is given


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); returns a torch.Generator for shuffling.

    Not PYTHONHASHSEED: Python fixes its string-hash salt when the interpreter starts, so
    setting the variable in a running kernel changes nothing there (only in the processes it
    starts later). The course never depends on the order of a set or of a dict's keys built
    from a set, so the hash salt cannot change a result; run with PYTHONHASHSEED=0 to fix it.
    """
    global _last_seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer from 0 to 2**32 - 1, got {seed!r}")
    _last_seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = False,
            generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Minibatches of two aligned tensors; faster than a DataLoader for data already in memory."""
    if len(x) != len(y):
        raise ValueError(f"inputs and targets differ in length: {len(x)} vs {len(y)}")
    if len(x) == 0:
        raise ValueError("cannot make batches of an empty dataset")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = torch.randperm(len(x), generator=generator) if shuffle else torch.arange(len(x))
    for start in range(0, len(x), batch_size):
        index = order[start:start + batch_size].to(x.device)
        yield x[index], y[index]


def _as_batches(data: Batches, batch_size: int, shuffle: bool,
                generator: torch.Generator | None) -> Iterable:
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        return batches(data[0], data[1], batch_size, shuffle, generator)
    return data


def _move(data: Batches, device: torch.device) -> Batches:
    """Keep in-memory tensors on the device once, instead of copying every batch."""
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        return data[0].to(device), data[1].to(device)
    return data


@dataclass
class History:
    """Per-epoch metrics of one fit(): lists keyed by 'train_loss', 'val_accuracy', …"""
    metrics: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    best_epoch: int | None = None      # 1-based; set when fit(keep_best=True) restored it

    def log(self, **values: float) -> None:
        for key, value in values.items():
            self.metrics.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.metrics:
            raise KeyError(f"history has no {key!r}; it has {', '.join(self.metrics)}")
        return self.metrics[key]

    def last(self, key: str) -> float:
        return self[key][-1]

    def __repr__(self) -> str:
        last = ", ".join(f"{k} {v[-1]:.4f}" for k, v in self.metrics.items())
        epochs = len(next(iter(self.metrics.values()), []))
        best = f", kept epoch {self.best_epoch}" if self.best_epoch else ""
        return f"History({epochs} epochs in {self.seconds:.1f} s: {last}{best})"


def _model_device(model: nn.Module) -> torch.device:
    """Where a model's parameters live (CPU for a model without parameters)."""
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """How many numbers `model` holds (only those with requires_grad when `trainable_only`)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def evaluate(model: nn.Module, data: Batches, *, loss_fn: Callable = F.cross_entropy,
             batch_size: int = 512, device: torch.device | None = None) -> dict[str, float]:
    """Mean loss and accuracy of a classifier over a dataset (eval mode, no gradients)."""
    device = device or _model_device(model)
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad(), autocast(device):
        for x, y in _as_batches(_move(data, device), batch_size, False, None):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = model(x).float()
            total_loss += loss_fn(logits, y, reduction="sum").item()
            correct += (logits.argmax(-1) == y).sum().item()
            count += len(y)
    if count == 0:
        raise ValueError("evaluate() got an empty dataset")
    return {"loss": total_loss / count, "accuracy": correct / count}


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """The model's outputs for a tensor of inputs, batched, on the CPU."""
    if len(x) == 0:
        raise ValueError("predict() got no inputs (an empty tensor)")
    device = _model_device(model)
    model.eval()
    outputs = []
    with torch.no_grad(), autocast(device):
        for start in range(0, len(x), batch_size):
            outputs.append(model(x[start:start + batch_size].to(device)).float().cpu())
    return torch.cat(outputs)


def fit(model: nn.Module, train: Batches, val: Batches | None = None, *, epochs: int,
        lr: float | None = None, batch_size: int = 64,
        optimizer: torch.optim.Optimizer | None = None,
        loss_fn: Callable = F.cross_entropy, device: torch.device | None = None,
        seed: int | None = None, progress: bool = True, desc: str = "training",
        keep_best: bool = False) -> History:
    """Train a classifier with Adam (or `optimizer`) and return its per-epoch History.

    The learning rate is `lr` for the default Adam (1e-3 when not given); an `optimizer` of
    your own carries its learning rate itself, so `lr=` with an optimizer whose rate differs
    is an error (it would be ignored).

    `train`/`val` are (inputs, targets) tensors, batched here, or any iterable of batches
    (e.g. a DataLoader); pass the validation split as `val`, never the test split. Batches are
    shuffled with `seed`, by default the run's seed (`seed_everything`, called by `start`).
    On CUDA the forward pass runs under autocast: bf16 where the GPU has it, else fp16 with a
    gradient scaler (`MixedPrecision`); elsewhere each step is a plain fp32 step.

    `keep_best=True` chooses the epoch count on validation data: after training, the model
    holds the weights of the epoch with the highest validation accuracy (the first such epoch),
    and `History.best_epoch` says which.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if keep_best and val is None:
        raise ValueError("keep_best=True picks the epoch on validation data: pass val=")
    device = device or get_device()
    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=DEFAULT_LR if lr is None else lr)
    elif lr is not None and any(group.get("initial_lr", group["lr"]) != lr
                                for group in optimizer.param_groups):
        # a scheduler moves group["lr"] and keeps the rate it started from in "initial_lr"
        rates = sorted({group.get("initial_lr", group["lr"]) for group in optimizer.param_groups})
        raise ValueError(f"fit(lr={lr}) would be ignored: the optimizer you passed sets the "
                         f"learning rate ({', '.join(f'{r:g}' for r in rates)}); give it to "
                         f"the optimizer and drop lr=")
    generator = torch.Generator().manual_seed(_last_seed if seed is None else seed)
    train, val = _move(train, device), (_move(val, device) if val is not None else None)
    history, start = History(), time.perf_counter()
    amp = MixedPrecision(device)     # a gradient scaler only where autocast uses fp16
    bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=True)
    best_accuracy, best_state = -1.0, None
    for epoch in bar:
        model.train()
        total_loss, correct, count = 0.0, 0, 0
        for x, y in _as_batches(train, batch_size, True, generator):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with amp.autocast():
                logits = model(x).float()
                loss = loss_fn(logits, y)
            amp.step(loss, optimizer)
            total_loss += loss.item() * len(y)
            correct += (logits.argmax(-1) == y).sum().item()
            count += len(y)
        if count == 0:
            raise ValueError("fit() got an empty training set")
        history.log(train_loss=total_loss / count, train_accuracy=correct / count)
        if val is not None:
            scores = evaluate(model, val, loss_fn=loss_fn, device=device)
            history.log(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
            if keep_best and scores["accuracy"] > best_accuracy:
                best_accuracy, history.best_epoch = scores["accuracy"], epoch + 1
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        bar.set_postfix({k: f"{v[-1]:.3f}" for k, v in history.metrics.items()})
    if best_state is not None:
        model.load_state_dict(best_state)
    history.seconds = time.perf_counter() - start
    return history
