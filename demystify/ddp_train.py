"""Data-parallel training with PyTorch's DistributedDataParallel (DDP), launched by torchrun.

Chapter 10 of "Demystifying Deep Learning" (shipped in the package, so that the chapter and an
Azure ML job run it without a checkout of the book). Every process (a *rank*) holds a full copy of a small
CNN and trains on its own shard of every global batch of handwritten digits. During backward()
DDP averages the gradients of all ranks (an all-reduce: gloo on CPUs, NCCL on GPUs), so after
each step every replica holds the same weights — the same weights one process would reach on the
whole global batch. The chapter and tests/test_ddp.py check exactly that.

    # one machine, 2 processes (CPU: gloo; one GPU per process: NCCL)
    torchrun --standalone --nproc_per_node=2 -m demystify.ddp_train --out runs/ddp2
    # the same global batch in one process, for comparison
    torchrun --standalone --nproc_per_node=1 -m demystify.ddp_train --out runs/ddp1
    # two machines with 8 GPUs each: run on both, node_rank 0 and 1, same endpoint and id
    torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 --rdzv_backend=c10d \
             --rdzv_endpoint=HOST0:29500 --rdzv_id=job42 -m demystify.ddp_train --out runs/n2

Rank 0 writes OUT/weights.safetensors and OUT/metrics.json (atomically: temp file + rename,
by demystify.files.atomic_write).

--norm adds a normalisation layer after each convolution: `group` (GroupNorm, per sample, so the
1- and N-process runs stay equivalent on any device), `batch` (BatchNorm: each rank normalises
with its own shard's statistics, so the runs differ), or `syncbatch` (SyncBatchNorm: statistics
all-reduced over the global batch; PyTorch runs it only on CUDA with NCCL, so it is refused on
CPU/gloo).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


NORMS = ("none", "group", "batch", "syncbatch")


class SmallCNN(nn.Module):
    """Two 3×3 conv layers, a max-pool and two linear layers for 8×8 digits.

    No dropout and, by default, no normalisation: dropout and batch norm would make each replica
    compute something different (random masks; statistics of its own half-batch), and the 1- and
    2-process runs would no longer be comparable. `norm="group"` adds GroupNorm (per sample:
    comparable); `norm="batch"` BatchNorm (not comparable; convert it with
    nn.SyncBatchNorm.convert_sync_batchnorm on GPUs — SyncBatchNorm has no CPU implementation).
    """
    def __init__(self, n_classes: int = 10, norm: str = "none"):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")

        def normalise(channels: int) -> list[nn.Module]:
            if norm == "group":
                return [nn.GroupNorm(4, channels)]
            if norm in ("batch", "syncbatch"):
                return [nn.BatchNorm2d(channels)]
            return []
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), *normalise(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), *normalise(32), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for weights and metrics")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--global-batch", type=int, default=64,
                        help="images per optimizer step, summed over all processes")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto: one GPU per process when there are enough, else CPU")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="float64 makes rounding differences ~1e9 times smaller (checks)")
    parser.add_argument("--norm", choices=NORMS, default="none",
                        help="normalisation after each conv (syncbatch: GPUs with NCCL only)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    if args.global_batch < 1:
        parser.error(f"--global-batch must be at least 1, got {args.global_batch}")
    return args


def setup(choice: str) -> tuple[int, int, torch.device]:
    """Join the process group torchrun describes (RANK, WORLD_SIZE, MASTER_ADDR… in the env)."""
    if "RANK" not in os.environ:
        raise SystemExit("run this script with torchrun, e.g. "
                         "torchrun --standalone --nproc_per_node=2 -m demystify.ddp_train --out runs/ddp2")
    local_rank = int(os.environ["LOCAL_RANK"])
    local_world = int(os.environ["LOCAL_WORLD_SIZE"])
    enough_gpus = torch.cuda.is_available() and torch.cuda.device_count() >= local_world
    if choice == "cuda" and not enough_gpus:
        raise SystemExit(f"--device cuda needs one GPU per process: {local_world} processes, "
                         f"{torch.cuda.device_count()} GPU(s); use fewer processes or --device cpu")
    if choice == "cuda" or (choice == "auto" and enough_gpus):
        # Plain fp32 (no TF32) so that runs with different process counts stay comparable.
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    else:
        device = torch.device("cpu")
        dist.init_process_group("gloo")
    return dist.get_rank(), dist.get_world_size(), device


def digits(global_batch: int, seed: int, dtype: torch.dtype = torch.float32):
    """The course's digit split, trimmed to whole global batches so no rank is ever padded."""
    from demystify import load_digits
    data = load_digits(image_size=8, seed=seed)
    usable = len(data.x_train) // global_batch * global_batch
    if usable == 0:
        raise SystemExit(f"--global-batch {global_batch} is larger than the "
                         f"{len(data.x_train)} training images")
    mean, std = data.x_train.mean(), data.x_train.std()      # standardise: faster, steadier SGD
    return (TensorDataset(((data.x_train[:usable] - mean) / std).to(dtype), data.y_train[:usable]),
            TensorDataset(((data.x_test - mean) / std).to(dtype), data.y_test))


def save(out: Path, model: nn.Module, metrics: dict) -> None:
    """Write the weights and metrics, each atomically (demystify.files.atomic_write)."""
    from demystify.files import atomic_write
    from demystify.weights import save_weights
    save_weights(model, out / "weights.safetensors")
    with atomic_write(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rank, world, device = setup(args.device)
    if args.global_batch % world:
        raise SystemExit(f"--global-batch {args.global_batch} must divide evenly over {world} processes")
    torch.manual_seed(args.seed)                       # same initial weights on every rank
    dtype = getattr(torch, args.dtype)
    train_set, test_set = digits(args.global_batch, args.seed, dtype)
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train_set, batch_size=args.global_batch // world, sampler=sampler)
    if args.norm == "syncbatch" and device.type != "cuda":
        raise SystemExit("--norm syncbatch needs one GPU per process (SyncBatchNorm runs only "
                         "on CUDA with NCCL); on CPU/gloo use --norm group")
    model = SmallCNN(norm=args.norm).to(device, dtype)
    if args.norm == "syncbatch":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = DistributedDataParallel(model,
                                    device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    if rank == 0:
        print(f"{world} process(es) · {dist.get_backend()} on {device.type} · "
              f"{len(train_set)} images per epoch, {args.global_batch // world} per process per step")
    losses, start = [], time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)                       # a new shuffle each epoch, the same on all ranks
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = F.cross_entropy(model(x), y)        # the mean over this rank's shard
            optimizer.zero_grad(set_to_none=True)
            loss.backward()                            # DDP all-reduces (averages) the gradients here
            optimizer.step()
            global_loss = loss.detach().clone()
            dist.all_reduce(global_loss)               # for the log only: the loss of the global batch
            losses.append(global_loss.item() / world)
        if rank == 0:
            print(f"epoch {epoch + 1}: mean training loss {sum(losses[-len(loader):]) / len(loader):.4f}")
    seconds = time.perf_counter() - start
    # Every replica must hold the same weights: compare each rank's checksum with rank 0's.
    flat = torch.cat([p.detach().flatten() for p in model.module.parameters()])
    checksums = [torch.zeros(2, dtype=torch.float64, device=device) for _ in range(world)]
    dist.all_gather(checksums, torch.stack([flat.double().sum(), flat.double().abs().sum()]))
    spread = max((c - checksums[0]).abs().max().item() for c in checksums)
    if rank == 0:
        model.module.eval()
        with torch.no_grad():
            x_test, y_test = test_set.tensors
            accuracy = (model.module(x_test.to(device)).argmax(1).cpu() == y_test).float().mean().item()
        metrics = {"world_size": world, "backend": dist.get_backend(), "device": device.type,
                   "norm": args.norm, "dtype": args.dtype,
                   "epochs": args.epochs, "global_batch": args.global_batch, "steps": len(losses),
                   "losses": losses, "test_accuracy": accuracy, "replica_checksum_spread": spread,
                   "train_seconds": seconds}
        save(args.out, model.module, metrics)
        print(f"test accuracy {accuracy:.3f} · replicas agree to {spread:.1e} · "
              f"wrote weights.safetensors and metrics.json")
    # Tear down together: a rank that destroyed its gloo group while rank 0 was still saving
    # was seen to abort ("terminate called without an active exception", exit -6).
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
