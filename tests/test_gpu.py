"""Real-CUDA checks, run by `make test-gpu` (`pytest -m cuda`): fit, autocast and the gradient
scaler on the GPU, and DistributedDataParallel with NCCL. Every test here is marked `cuda` and
skipped on a machine without a CUDA GPU; tests/test_amp.py checks the same logic on the CPU.
"""
import json

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from demystify import MixedPrecision, autocast, autocast_dtype, evaluate, fit
from demystify import device as device_module
from demystify.launch import torchrun, weight_difference

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(),
                                 reason="needs a CUDA GPU (run make test-gpu on a GPU machine)")]

SCRIPT = "demystify.ddp_train"
CUDA = torch.device("cuda")


def has_bf16() -> bool:
    return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 8


# Each precision the GPU can run: fp16 on every CUDA GPU the course supports (autocast_dtype
# picks it only from Volta on, where it is fast; forced here), bf16 from Ampere on.
PRECISIONS = [pytest.param(torch.float16, id="fp16"),
              pytest.param(torch.bfloat16, id="bf16", marks=pytest.mark.skipif(
                  not has_bf16(), reason="bf16 needs an Ampere (8.0) or newer GPU"))]


def blobs(n: int = 2048, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Four well separated Gaussian clusters in 16 dimensions: any working loop learns them."""
    generator = torch.Generator().manual_seed(seed)
    centres = 4 * torch.randn(4, 16, generator=generator)
    y = torch.randint(4, (n,), generator=generator)
    return centres[y] + torch.randn(n, 16, generator=generator), y


def mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4))


def test_autocast_runs_matmuls_in_the_type_chosen_for_this_gpu():
    a = torch.randn(64, 64, device=CUDA)
    with autocast(CUDA):
        product = a @ a
    # Which type is chosen per compute capability is tested with the capability mocked
    # (tests/test_device_profile.py); here: the real GPU multiplies in that type.
    assert product.dtype == (autocast_dtype(CUDA) or torch.float32)


@pytest.mark.parametrize("dtype", PRECISIONS)
def test_mixed_precision_loop_learns_on_cuda(monkeypatch, dtype):
    """A hand-written loop with MixedPrecision in each precision the GPU has (the type
    decision forced, so that an Ampere GPU also runs the fp16 + scaler path of a T4)."""
    monkeypatch.setattr(device_module, "autocast_dtype", lambda device: dtype)
    x, y = (t.to(CUDA) for t in blobs())
    model = mlp().to(CUDA)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    amp = MixedPrecision(CUDA)
    assert amp.scaler.is_enabled() == (dtype == torch.float16)
    losses, skipped = [], []
    for step in range(200):
        batch = slice(64 * (step % 32), 64 * (step % 32 + 1))
        with amp.autocast():
            logits = model(x[batch])
            loss = F.cross_entropy(logits.float(), y[batch])
        assert logits.dtype == dtype
        if not amp.step(loss, optimizer, clip_grad_norm=5.0):
            skipped.append(step)
        losses.append(loss.item())
    if dtype == torch.float16:
        # GradScaler starts at a scale of 65536, which overflows fp16 gradients: the first few
        # steps are skipped (and the scale halved each time) on any GPU; later ones must not be.
        assert len(skipped) <= 3 and all(step < 10 for step in skipped), skipped
        assert amp.scaler.get_scale() < 65536.0      # the scaler's path really ran
    else:
        assert skipped == []                         # bf16 has no scaler: nothing is skipped
    assert all(p.dtype == torch.float32 for p in model.parameters())     # fp32 master weights
    assert sum(losses[-20:]) / 20 < 0.2 * sum(losses[:20]) / 20
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert accuracy > 0.95


def test_fp16_scaler_skips_an_overflowed_step_on_cuda(monkeypatch):
    monkeypatch.setattr(device_module, "autocast_dtype", lambda device: torch.float16)
    model = mlp().to(CUDA)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    amp = MixedPrecision(CUDA)
    before = [p.detach().clone() for p in model.parameters()]
    scale = amp.scaler.get_scale()
    with amp.autocast():
        loss = float("inf") * model(blobs(64)[0].to(CUDA)).float().sum()
    assert amp.step(loss, optimizer) is False
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert amp.scaler.get_scale() == scale / 2


def test_fit_trains_on_cuda_with_this_gpus_mixed_precision():
    x, y = blobs()
    x_val, y_val = blobs(512, seed=1)
    model = mlp()
    history = fit(model, (x, y), (x_val, y_val), epochs=3, batch_size=64, device=CUDA,
                  progress=False)
    assert next(model.parameters()).device.type == "cuda"
    assert history.last("val_accuracy") > 0.95
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert evaluate(model, (x_val, y_val))["accuracy"] == pytest.approx(
        history.last("val_accuracy"))


def test_ddp_trains_with_nccl_on_one_gpu(tmp_path):
    output = torchrun(SCRIPT, "--out", tmp_path / "nccl1", "--epochs", 2, "--global-batch", 64,
                      "--device", "cuda", nproc=1, echo=False, timeout=300, module=True)
    assert "1 process(es) · nccl on cuda" in output
    metrics = json.loads((tmp_path / "nccl1" / "metrics.json").read_text())
    assert metrics["backend"] == "nccl" and metrics["device"] == "cuda"
    assert metrics["losses"][-1] < metrics["losses"][0]


def test_syncbatch_option_starts_with_nccl_on_one_gpu(tmp_path):
    """Exercise 3's --norm syncbatch, refused on CPU/gloo, starts and trains with NCCL on one GPU.

    A smoke test only: with one process SyncBatchNorm falls back to plain batch norm, so no
    statistics are synchronised here; test_syncbatchnorm_synchronises_two_gpus checks that."""
    output = torchrun(SCRIPT, "--out", tmp_path / "sync", "--epochs", 1, "--global-batch", 64,
                      "--device", "cuda", "--norm", "syncbatch", nproc=1, echo=False,
                      timeout=300, module=True)
    assert "1 process(es) · nccl on cuda" in output


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs")
def test_syncbatchnorm_synchronises_two_gpus(tmp_path):
    """With SyncBatchNorm two GPUs (32 images each) normalise over the whole global batch of 64,
    as one process does, so in float64 they end with one process's weights; plain BatchNorm
    (each GPU its own 32 images' statistics) is the control that does not."""
    def run(norm: str, nproc: int) -> str:
        return torchrun(SCRIPT, "--out", tmp_path / f"{norm}{nproc}", "--epochs", 1,
                        "--global-batch", 64, "--device", "cuda", "--dtype", "float64",
                        "--norm", norm, nproc=nproc, echo=False, timeout=300, module=True)

    def difference(norm: str) -> float:
        return weight_difference(tmp_path / f"{norm}1" / "weights.safetensors",
                                 tmp_path / f"{norm}2" / "weights.safetensors")

    for norm in ("syncbatch", "batch"):
        assert "2 process(es) · nccl on cuda" in run(norm, 2)
        run(norm, 1)
    assert difference("syncbatch") < 1e-8
    assert difference("batch") > 1e-6          # per-GPU statistics really change the result


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs")
def test_two_gpus_reach_the_weights_of_one(tmp_path):
    """Chapter 10's DDP claim with NCCL: in float64 one and two GPUs end with the same weights."""
    def run(nproc: int) -> str:
        return torchrun(SCRIPT, "--out", tmp_path / f"g{nproc}", "--epochs", 1,
                        "--global-batch", 64, "--device", "cuda", "--dtype", "float64",
                        nproc=nproc, echo=False, timeout=300, module=True)

    assert "2 process(es) · nccl on cuda" in run(2)
    run(1)
    assert weight_difference(tmp_path / "g1" / "weights.safetensors",
                             tmp_path / "g2" / "weights.safetensors") < 1e-8
