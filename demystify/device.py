"""Which device a chapter runs on, and the few device-specific switches that make it fast."""
from __future__ import annotations

import contextlib
import os
import platform

import torch

VALID_DEVICES = "cpu, cuda, cuda:N or mps"


def as_device(device: torch.device | str) -> torch.device:
    """`device` (a torch.device or a name: cpu, cuda, cuda:N, mps) as a torch.device.

    The one check of a device name: an unknown name or a type the course does not run on
    raises one ValueError naming the valid ones, a non-name a TypeError. Whether the device
    is present is get_device's question; this only reads the name.
    """
    if isinstance(device, torch.device):
        parsed = device
    elif isinstance(device, str):
        try:
            parsed = torch.device(device.strip().lower())
        except (RuntimeError, ValueError):
            raise ValueError(f"unknown device {device!r}: use {VALID_DEVICES}") from None
    else:
        raise TypeError(f"device name must be a string such as 'cpu' or 'cuda:0', got {device!r}")
    if parsed.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unknown device {device!r}: use {VALID_DEVICES}")
    return parsed


def get_device(name: str | None = None) -> torch.device:
    """The device chapters run on: `name`, else $DEMYSTIFY_DEVICE, else CUDA, else MPS, else CPU.

    An unknown or unavailable name raises one `ValueError` that says what to use instead.
    """
    name = name or os.environ.get("DEMYSTIFY_DEVICE") or None
    if name is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = as_device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name!r} requested but this machine has no CUDA GPU; use cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"{name!r} requested but this machine has "
                             f"{torch.cuda.device_count()} CUDA GPU(s): use cuda:0 … "
                             f"cuda:{torch.cuda.device_count() - 1}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name!r} requested but MPS (Apple GPU) is not available; use cpu")
    return device


def autocast_dtype(device: torch.device | str) -> torch.dtype | None:
    """The type mixed-precision *training* uses on `device`, or None for plain fp32.

    Autocast pays off on tensor cores, which NVIDIA GPUs have from Volta (compute
    capability 7.0) on: bf16 where the GPU has it (Ampere, 8.0, and newer), else fp16 (7.x:
    V100, T4; train with a GradScaler). None on Pascal (6.x) and older GPUs, CPU and MPS.
    `demystify.hardware.supported_precisions` answers another question, which formats
    chapter 10 *times*: it lists fp16 from Pascal on (a P100 multiplies fp16 at twice its fp32
    rate, a 6.1 card at 1/64), but without tensor cores autocast would buy little, so the
    course trains in fp32 there. Whatever this returns, supported_precisions lists it as
    supported (tests/test_hardware.py checks both on every capability).
    """
    device = as_device(device)
    if device.type != "cuda":
        return None
    major, _ = torch.cuda.get_device_capability(device)
    if major >= 8:
        return torch.bfloat16
    return torch.float16 if major >= 7 else None


def autocast(device: torch.device | str) -> contextlib.AbstractContextManager:
    """Autocast to `autocast_dtype(device)` (CUDA from Volta on); a no-op context elsewhere."""
    device = as_device(device)
    dtype = autocast_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


class MixedPrecision:
    """Mixed precision for a hand-written training loop: autocast, plus a gradient scaler when
    (and only when) the autocast type is fp16.

        amp = MixedPrecision(device)
        for x, y in batches:
            with amp.autocast():
                loss = F.cross_entropy(model(x).float(), y)
            amp.step(loss, optimizer)        # zero_grad, backward, (clip), optimizer step

    The type is `autocast_dtype(device)`. bf16 keeps fp32's exponent range, so its gradients
    need no help. fp16 (T4, V100) flushes gradients below about 6e-8 to zero, so `step`
    multiplies the loss by a large scale before backward() and divides the gradients by it
    before the optimizer step; a step whose gradients overflowed to inf or NaN is skipped and
    the scale halved (torch.amp.GradScaler). On CPU, MPS and pre-Volta GPUs (no autocast)
    `step` is the plain zero_grad, backward, step. For gradient accumulation, use `scaler` directly.
    """

    def __init__(self, device: torch.device | str):
        self.device = as_device(device)
        self.dtype = autocast_dtype(self.device)
        # Only fp16 needs loss scaling; a disabled scaler passes every call straight through.
        self.scaler = torch.amp.GradScaler(self.device.type,
                                           enabled=self.dtype == torch.float16)

    def autocast(self) -> contextlib.AbstractContextManager:
        """The forward pass's context: `demystify.autocast(device)` (a no-op where dtype is None)."""
        return autocast(self.device)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, *,
             clip_grad_norm: float | None = None) -> bool:
        """Zero the gradients, backpropagate `loss`, optionally clip, and step `optimizer`.

        `clip_grad_norm` clips the global gradient norm of the optimizer's parameters; under
        fp16 the gradients are unscaled first, so the limit applies to the true gradients.
        Returns False when the fp16 scaler skipped the step (inf/NaN gradients), else True.
        """
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(f"clip_grad_norm must be a positive number (or None for no "
                             f"clipping), got {clip_grad_norm!r}")
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if clip_grad_norm is not None:
            self.scaler.unscale_(optimizer)      # clip the true gradients, not scaled ones
            parameters = [p for group in optimizer.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(parameters, clip_grad_norm)
        if not self.scaler.is_enabled():
            optimizer.step()
            return True
        scale = self.scaler.get_scale()
        self.scaler.step(optimizer)
        self.scaler.update()
        # update() lowers the scale exactly when it found inf/NaN and skipped the step.
        return self.scaler.get_scale() >= scale

    def __repr__(self) -> str:
        dtype = str(self.dtype).removeprefix("torch.") if self.dtype is not None else "none"
        scaler = "on" if self.scaler.is_enabled() else "off"
        return f"MixedPrecision(device {self.device}, autocast {dtype}, grad scaler {scaler})"


def configure(device: torch.device | str) -> None:
    """Turn on the fast paths a GPU has (cuDNN autotuning, TF32 matmuls); nothing on CPU."""
    device = as_device(device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def describe_hardware(device: torch.device | str | None = None) -> str:
    """One banner line: device name, torch version, CPU threads or GPU memory."""
    device = as_device(device) if device is not None else get_device()
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        what = (f"{props.name} ({props.total_memory / 2**30:.0f} GiB, "
                f"compute capability {props.major}.{props.minor})")
    elif device.type == "mps":
        what = f"Apple GPU (MPS) on {platform.machine()}"
    else:
        cpu = platform.processor() or platform.machine()
        what = f"CPU {cpu}, {torch.get_num_threads()} threads"
    return f"device {device} · {what} · torch {torch.__version__}"
