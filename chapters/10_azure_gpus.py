# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: all,-execution,-ExecuteTime,-autoscroll,-collapsed,-scrolled,-trusted
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10. GPUs in Azure
#
# Deep learning took off "with the advent of powerful GPUs". This chapter stops taking that on
# faith and measures it: how many floating-point operations per second *this* machine really
# delivers, how close that is to what its datasheet promises, which switches (mixed precision,
# memory layout, compilation, data loading) make a real training step faster, and what the same
# work would cost on each of Azure's GPU families. Then it scales out the way practitioners do,
# with PyTorch's own DistributedDataParallel and `torchrun`, proves that two processes train
# exactly the same model as one, and shows how to run the same script on an Azure ML cluster or a
# plain GPU virtual machine.
#
# **Learning goals**
# - Time GPU and CPU work correctly (warm-up, synchronisation, medians) and compare it with the
#   device's peak: TFLOP/s, memory bandwidth and the roofline that links them.
# - Read Azure's GPU families (NC, ND, … from K80 to H200 and MI300X) as peak compute and
#   bandwidth, and turn a measurement here into a labelled estimate of time and GPU-hours there.
# - Use the speed-ups you control in one training step: bf16/fp16 autocast (with a GradScaler for
#   fp16), `channels_last`, `torch.compile`, DataLoader workers and pinned memory.
# - Train with `DistributedDataParallel` launched by `torchrun`, and check that N processes reach
#   the same weights as one process on the same global batch.
# - Submit the same script as an Azure ML command job, or run it on a GPU VM — and delete it after.
#
# **Run time:** about 1½ minutes on a 2-core laptop (CPU profile, most of it spent measuring);
# about 3 minutes on a GPU, where the GPU profile also measures `torch.compile` and larger sizes.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "DL popularity grew recently … with the advent of powerful GPUs" | We measure this machine's matrix-multiply throughput and memory bandwidth, and set them against a decade of GPU datasheets. |
# | "DL popularity grew recently … with growth of Big Data" | More data needs more devices: we train one model on several processes with DistributedDataParallel. |
# | "GPUs in Azure" | We tabulate Azure's GPU VM families with their GPUs, peaks and retirements, estimate a training run on each, and submit a real Azure ML job spec. |

# %% tags=["hide-input"]
# Bootstrap: makes this notebook work alone in Colab or on an Azure VM.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:   # Colab / Azure: fetch the course helpers
    source = os.environ.get("DEMYSTIFY_SOURCE", "git+https://github.com/demystify-dl/demystifying-deep-learning")
    # %pip install -q "demystify @ {source}"
if not os.path.exists("scripts/ddp_train.py"):       # opened alone: this chapter runs the repository's scripts
    # !git clone -q --depth 1 https://github.com/demystify-dl/demystifying-deep-learning dl-course
    os.environ.setdefault("DEMYSTIFY_DATA", os.path.abspath("dl-course/data"))
    os.chdir("dl-course/chapters")
if importlib.util.find_spec("yaml") is None or importlib.util.find_spec("safetensors") is None:
    # %pip install -q pyyaml safetensors

# %% [markdown]
# The setup cell seeds every random number generator, picks the device (a GPU when there is one)
# and loads this chapter's **profile**: the sizes it measures with on a CPU or on a GPU.

# %%
import json
import multiprocessing
import shutil
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import resnet18

from demystify import load_digits, resize_images, start
from demystify.hardware import (PRECISIONS, best_precision, bench_results, cpu_info, gpu_info,
                                gpu_specs, match_gpu, measure_copy, measure_matmul,
                                supported_precisions, synchronize, time_call)
from demystify.launch import torchrun, weight_difference

device, P = start("10_azure_gpus", cpu_threads=None)   # measure with every core

# %% [markdown]
# ## 1. What this machine is
#
# Every number in this chapter depends on the hardware, so we start by writing it down. For the
# CPU we also need what its **peak** would be: the most floating-point operations per second it
# could ever do. A core finishes at most a few vector instructions per clock cycle; each
# instruction works on a whole register of numbers (16 fp32 numbers in a 512-bit AVX-512
# register, 8 in AVX2) and a *fused multiply-add* counts as 2 operations. So
#
# $$\text{peak} = \text{cores} \times \text{clock} \times \underbrace{\text{vector units} \times \text{lanes} \times 2}_{\text{FLOPs per cycle}}$$
#
# We assume two vector units per core (true of current server and desktop cores; some cheaper
# Xeons have one) and the clock the operating system reports (turbo clocks run higher, so a
# measurement can slightly beat this estimate). Some CPUs also have matrix units — Intel's AMX
# does 1,024 bf16 FLOPs per cycle and core — which is why bf16 gets its own peak.

# %%
cpu = cpu_info()
print(f"CPU     {cpu.model}: {cpu.cores} cores, {cpu.threads} logical CPUs, torch uses "
      f"{torch.get_num_threads()} threads")
print(f"        clock {cpu.ghz or float('nan'):.2f} GHz, widest vectors {cpu.simd} "
      f"({cpu.fp32_lanes} fp32 lanes), FMA {'yes' if cpu.fma else 'no'}, "
      f"AMX {'yes' if 'amx_bf16' in cpu.flags else 'no'}")
for precision in ("fp32", "bf16", "fp16"):
    print("  peak", cpu.explain(precision))
if device.type == "cuda":
    gpu = gpu_info(device)
    print(f"GPU     {gpu['name']}: {gpu['memory_gib']} GiB, compute capability {gpu['capability']}, "
          f"{gpu['multiprocessors']} multiprocessors; {torch.cuda.device_count()} GPU(s) visible")
else:
    print(f"GPU     none: this run measures the {device.type.upper()}")

# %% [markdown]
# ## 2. Measured throughput, and how far it is from the peak
#
# Timing a GPU naively gives nonsense: PyTorch *queues* GPU work and returns at once, so a clock
# read right after `a @ b` measures the queueing, not the multiply. `demystify.hardware.time_call`
# does what `torch.utils.benchmark` does: a few **warm-up** calls first (to load kernels, pick
# algorithms, fill caches), then `torch.cuda.synchronize()` around every timed call, repeated
# until enough time has passed, and the **median** reported. On a CPU the synchronisation is a
# no-op and the same code works unchanged.
#
# The work is a square matrix multiply: $n \times n$ times $n \times n$ costs $2n^3$ FLOPs. We run
# it in every number format the device supports: **fp32**, **tf32** (NVIDIA's tensor-core mode for
# fp32 matmuls, Ampere and newer), **bf16** and **fp16** (16-bit; bf16 keeps fp32's range, fp16
# more precision but a narrow range).
#
# One more trap on a CPU: other programs. When the machine is busy, the operating system slices
# our threads off their cores and the wall clock runs on without us. The *CPU time* of a call only
# counts while its threads really run, so on a CPU we report throughput from CPU seconds per call
# divided by the threads doing the work — what the call achieves on its own cores
# (`tflops_own_cores`); the wall-clock figure (`tflops`) is kept beside it. On a GPU both are the
# wall clock.

# %%
supported = supported_precisions(device)
for precision, reason in supported.items():
    if reason:
        print(f"skipping {precision}: {reason}")
rows = [measure_matmul(n, precision, device, min_time=P.min_time_s)
        for precision, reason in supported.items() if reason is None
        for n in P.matmul_sizes]
matmul = pd.DataFrame(rows)
matmul.pivot(index="n", columns="precision", values="tflops_own_cores").round(4)

# %% [markdown]
# Bigger matrices do more work per number loaded, so they keep the arithmetic units busier: the
# *arithmetic intensity* (FLOPs per byte moved) of an $n$-sized multiply grows like $n$. The other
# half of a device's speed is its **memory bandwidth**: how many bytes per second it moves. A
# device-to-device copy reads and writes every byte once and does no arithmetic at all. Small
# copies fit in the caches (a few MiB of L2, tens to hundreds of MiB of L3 on a CPU or L2 on a
# GPU) and run at cache speed; only the largest copy measures the main memory.

# %%
copies = pd.DataFrame([measure_copy(mib, device, min_time=P.min_time_s) for mib in P.copy_mib])
copies[["mib", "gbs_own_cores", "gbs"]].rename(columns={
    "mib": "copy size (MiB)", "gbs_own_cores": "GB/s, own cores", "gbs": "GB/s, wall clock"}).round(1)

# %% [markdown]
# Now the comparison the datasheets invite: the best measured throughput against the peak. For a
# GPU the peaks come from `data/gpu_specs.csv` (vendor datasheets, dense tensor-core numbers,
# sources in the file); for the CPU from the estimate above. `cores busy` tells how many CPU
# cores the process really got while measuring (its CPU seconds per wall second): on a quiet
# machine it is close to the threads torch started; when it is much lower, the wall-clock
# column shows what other programs cost us.

# %%
specs = gpu_specs()
here = match_gpu(gpu_info(device)["name"], specs) if device.type == "cuda" else None


def peak_here(precision: str) -> float:
    """This device's peak TFLOP/s (GB/s for 'bandwidth'); NaN where nothing is known."""
    if device.type == "cpu":
        value = None if precision == "bandwidth" else cpu.peak_tflops(precision)
    elif here is not None:
        value = here["bandwidth_gbs" if precision == "bandwidth" else f"{precision}_tflops"]
    else:
        value = None
    return float("nan") if value is None else float(value)


best = matmul.loc[matmul.groupby("precision")["tflops_own_cores"].idxmax()]
largest_copy = copies.iloc[-1]                 # the one that does not fit in the caches
summary = pd.DataFrame({
    "measured": list(best["tflops_own_cores"]) + [largest_copy["gbs_own_cores"]],
    "wall clock": list(best["tflops"]) + [largest_copy["gbs"]],
    "cores busy": list(best["cpu_busy"]) + [largest_copy["cpu_busy"]],
    "peak": [peak_here(p) for p in best["precision"]] + [peak_here("bandwidth")],
    "unit": ["TFLOP/s"] * len(best) + ["GB/s"],
}, index=[f"{p} matmul (n={n})" for p, n in zip(best["precision"], best["n"])] + [f"copy bandwidth ({largest_copy['mib']:.0f} MiB)"])
summary["% of peak"] = 100 * summary["measured"] / summary["peak"]
summary.round(4).round({"cores busy": 2, "peak": 3, "% of peak": 1})

# %% [markdown]
# The **roofline** {cite}`williams2009roofline` puts both limits in one picture. A kernel that does
# $I$ FLOPs per byte can run no faster than $\min(\text{peak FLOP/s},\ I \times \text{bandwidth})$:
# on the slanted part it waits for memory, on the flat part for arithmetic. Each dot is one of
# the matrix multiplies above.

# %% mystnb={"figure": {"caption": "Roofline of this device: matrix-multiply throughput against arithmetic intensity (log-log). Solid lines: peak compute per number format; dashed: the memory roof from the measured copy bandwidth. Dots: measured multiplies of growing size.", "name": "fig-10-roofline"}, "image": {"alt": "Log-log chart with arithmetic intensity on the x axis and TFLOP/s on the y axis. A dashed diagonal memory roof rises until it meets horizontal compute roofs for fp32 and bf16; measured dots for each format climb towards their roof as the matrices grow."}}
bandwidth = largest_copy["gbs_own_cores"] * 1e9
intensity = np.logspace(-1, 3.5, 200)
fig, ax = plt.subplots(figsize=(9.5, 4.2))
ax.plot(intensity, intensity * bandwidth / 1e12, "k--", lw=1, label=f"memory roof ({bandwidth / 1e9:.0f} GB/s measured)")
for i, (precision, group) in enumerate(matmul.groupby("precision", sort=False)):
    peak = peak_here(precision)
    if peak == peak:   # not NaN
        ax.plot(intensity, np.minimum(peak, intensity * bandwidth / 1e12), color=f"C{i}", lw=1.5,
                label=f"{precision} peak {peak:.3g} TFLOP/s")
    ax.plot(group["intensity"], group["tflops_own_cores"], "o-", color=f"C{i}", lw=0.6,
            label=f"{precision} measured (n = {group['n'].min()} … {group['n'].max()})")
ax.set_xscale("log"); ax.set_yscale("log")
ax.set_xlabel("arithmetic intensity (FLOP per byte)"); ax.set_ylabel("TFLOP/s")
ax.set_title(f"Roofline of {device.type.upper()}: {cpu.model if device.type == 'cpu' else gpu_info(device)['name']}",
             fontsize=9)
ax.grid(alpha=0.3, which="both"); ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** Small multiplies sit far below the roof: there is too little work per call
# to hide the overheads. The 16-bit formats are only faster where the hardware has units for
# them *and* the library uses them — Intel AMX or NVIDIA tensor cores run bf16 many times faster
# than fp32, while a CPU without such units just converts and computes at fp32 speed. And even
# the best multiply reaches only part of the peak: datasheet peaks assume every unit busy on
# every cycle, at the highest clock.
#
# ## 3. Speed-ups you control in a real training step
#
# Matrix multiplies are the bricks; a training step is the building. We time one real step of a
# course model — ResNet-18 {cite}`he2016deep` on 224×224 images, the ImageNet setting — on real
# handwritten digits, scaled up and repeated over three colour channels. First, how much work one
# step is: PyTorch's `FlopCounterMode` counts the FLOPs of the forward and backward pass, here on
# the `meta` device, which knows every shape but computes nothing.

# %%
digits = load_digits(image_size=8)
images = resize_images(digits.x_train[:P.batch_size], P.image_size).expand(-1, 3, -1, -1).contiguous()
labels = digits.y_train[:P.batch_size]

with torch.device("meta"):
    meta_model = resnet18(num_classes=10)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(meta_model(torch.empty(1, 3, P.image_size, P.image_size)),
                        torch.zeros(1, dtype=torch.long)).backward()
flops_per_image = counter.get_total_flops()

# %%
# NBVAL_CHECK_OUTPUT
print(f"ResNet-18 for 10 classes: {sum(p.numel() for p in meta_model.parameters()):,} parameters")
print(f"one training step on a {P.image_size}×{P.image_size} image: {flops_per_image / 1e9:.2f} GFLOP "
      f"(forward + backward)")
print(f"batch {tuple(images.shape)}, labels {labels.tolist()}")

# %% [markdown]
# The step below is the whole recipe of fast training on one device, each part behind a switch:
#
# - **autocast** runs matrix multiplies and convolutions in bf16 or fp16 and keeps the rest
#   (losses, normalisation statistics, the weights themselves) in fp32 — *mixed precision*
#   {cite}`micikevicius2018mixed`. bf16 has fp32's exponent range and needs nothing else; fp16's
#   small range lets tiny gradients underflow to zero, so a **GradScaler** multiplies the loss
#   before `backward()` and divides the gradients again before the optimizer step.
# - **channels_last** stores images as height × width × channels, the layout tensor cores and
#   oneDNN's CPU kernels prefer for convolutions.
# - **torch.compile** traces the model and fuses many small operations into fewer kernels.
#
# Every variant starts from the same initial weights and the same batch, so their first losses
# must agree (to the precision of the format): a speed-up that changes the answer is a bug.

# %%
def make_step(precision: str | None = None, channels_last: bool = False, compile: bool = False):
    """One SGD step of a fresh ResNet-18 (seed 0) on our batch, with the chosen speed-ups."""
    torch.manual_seed(0)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = resnet18(num_classes=10).to(device, memory_format=layout)
    x, y = images.to(device, memory_format=layout), labels.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    forward = torch.compile(model) if compile else model

    def step() -> float:
        with torch.autocast(device.type, dtype=PRECISIONS.get(precision), enabled=precision is not None):
            loss = F.cross_entropy(forward(x), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()      # with fp16: loss × scale, so small gradients survive
        scaler.step(optimizer)             # unscales the gradients; skips the step if any is inf/NaN
        scaler.update()
        return loss.item()
    return step


variants = {"fp32": {}, "bf16 autocast": {"precision": "bf16"},
            "fp16 autocast + GradScaler": {"precision": "fp16"},
            "channels_last": {"channels_last": True},
            "channels_last + bf16": {"precision": "bf16", "channels_last": True},
            "torch.compile + channels_last + bf16": {"precision": "bf16", "channels_last": True, "compile": True}}

# %% [markdown]
# Some variants make no sense on some devices, and the CPU profile must stay short, so each one
# is guarded, and a skipped variant says why. `wall s` is the measured median time of a step;
# `step s` is, on a CPU, its median CPU time divided by the threads — the time it takes on its
# own cores, as for the multiplies above. Speed-ups and TFLOP/s use `step s`; on a GPU the two
# are the same.

# %%
def skip_reason(options: dict) -> str | None:
    precision = options.get("precision")
    if precision and supported[precision]:
        return supported[precision]
    if precision == "fp16" and device.type == "cpu":
        return ("PyTorch has no fast fp16 convolution kernels for CPUs: on this machine one fp16 "
                "step took over a minute; fp16 + GradScaler is measured in the GPU profile")
    if options.get("compile") and not (P.compile and device.type == "cuda"):
        return ("torch.compile generates and compiles C++ for ResNet-18 on a CPU, which takes "
                "longer than this chapter's CPU budget; the GPU profile measures it on CUDA")
    return None



results = {}
for name, options in variants.items():
    reason = skip_reason(options)
    if reason:
        print(f"skipping {name}: {reason}")
        continue
    step = make_step(**options)
    started = time.perf_counter()
    first_loss = step()                       # the first call also compiles, when asked to
    first_s = time.perf_counter() - started
    timing = time_call(step, device, warmup=0, min_calls=P.steps, min_time=0)
    results[name] = {"first loss": first_loss, "first step s": first_s, "wall s": timing.seconds,
                     "cores busy": timing.cpu_busy,
                     "step s": timing.own_cores_seconds() if device.type == "cpu" else timing.seconds}

steps = pd.DataFrame(results).T.astype(float)
steps["images/s"] = P.batch_size / steps["step s"]
steps["speed-up"] = steps.loc["fp32", "step s"] / steps["step s"]
steps["TFLOP/s"] = flops_per_image * P.batch_size / steps["step s"] / 1e12
steps.round({"first loss": 4, "first step s": 2, "wall s": 3, "cores busy": 2, "step s": 3,
             "images/s": 1, "speed-up": 2, "TFLOP/s": 4})

# %% mystnb={"figure": {"caption": "Speed-up of one ResNet-18 training step over plain fp32 on this device, for each switch that ran. Above 1 is faster.", "name": "fig-10-speedups"}, "image": {"alt": "Horizontal bar chart of speed-ups relative to fp32, one bar per variant such as bf16 autocast and channels_last, with a vertical reference line at 1."}}
fig, ax = plt.subplots(figsize=(7, 0.5 * len(steps) + 1.2))
ax.barh(steps.index[::-1], steps["speed-up"][::-1], color=["C0" if v >= 1 else "C3" for v in steps["speed-up"][::-1]])
ax.axvline(1, color="k", lw=0.8)
for i, (value, ips) in enumerate(zip(steps["speed-up"][::-1], steps["images/s"][::-1])):
    ax.text(value, i, f" {value:.2f}× ({ips:.1f} img/s)", va="center", fontsize=8)
ax.set_xlabel("speed-up over fp32 (higher is faster)")
ax.set_xlim(0, steps["speed-up"].max() * 1.35)
ax.set_title(f"ResNet-18 training step, batch {P.batch_size} at {P.image_size}², on {device.type.upper()}", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** The first losses agree across variants: the switches change speed, not the
# model. Which switch helps depends on the hardware *and the batch*, which is why you measure
# rather than guess. With the tiny batches of the CPU profile, fixed costs of every step
# (converting the weights to bf16, reordering them for the matrix units) eat much of what AMX
# gains, and a few steps timed on a shared machine vary by tens of percent from run to run:
# run the cell twice before believing a 20 % difference. On NVIDIA GPUs from Ampere on, with
# batches that fill them, bf16 autocast with channels_last usually gives the largest gain, and
# `torch.compile` adds a further one once its compilation (the "first step" column) is paid. The TFLOP/s column counts the FlopCounter's FLOPs per second: compare it
# with the matrix-multiply table to see how much of the device a whole network really uses.
#
# ### Feeding the model: DataLoader workers and pinned memory
#
# A step can only be as fast as its data arrives. Real pipelines decode, resize and augment every
# image on the CPU; a `DataLoader` with `num_workers > 0` does that in parallel worker processes
# while the model trains, and `pin_memory=True` (GPU only) puts each batch in page-locked memory
# so that `.to(device, non_blocking=True)` can copy it while the GPU is busy. Here each image is
# resized from 8×8 to 224×224 and randomly flipped, one at a time.

# %%
class DigitsAt224(torch.utils.data.Dataset):
    """The digits served one at a time at ResNet's input size, randomly flipped: per-image CPU work."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, size: int):
        self.images, self.labels, self.size = images, labels, size

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        image = F.interpolate(self.images[i:i + 1], size=(self.size, self.size), mode="bilinear",
                              align_corners=False)[0]
        if torch.rand(()) < 0.5:
            image = image.flip(-1)
        return image.expand(3, -1, -1).contiguous(), self.labels[i]


def load_once(dataset, workers: int) -> dict:
    """Load the whole dataset once onto the device (worker start-up included)."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=P.loader_batch, shuffle=True,
                                         num_workers=workers, pin_memory=device.type == "cuda",
                                         generator=torch.Generator().manual_seed(0),
                                         multiprocessing_context="fork" if workers else None)
    started = time.perf_counter()
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    synchronize(device)
    return {"num_workers": workers, "pin_memory": device.type == "cuda",
            "images/s": len(dataset) / (time.perf_counter() - started)}


dataset = DigitsAt224(digits.x_train[:P.loader_images], digits.y_train[:P.loader_images], P.image_size)
worker_counts = [0, P.workers]
if "fork" not in multiprocessing.get_all_start_methods():   # Windows: notebook-defined datasets cannot be sent to workers
    print("skipping workers: this system cannot fork; use workers from a .py module instead")
    worker_counts = [0]
loading = pd.DataFrame([load_once(dataset, w) for w in worker_counts])
fastest_step = steps["images/s"].max()
print(f"the fastest training step above consumes {fastest_step:.1f} images/s")
loading.round(1)

# %% [markdown]
# **What to notice.** Workers do not make the work cheaper — they add the cost of starting
# processes and of sending every batch back — they run it *in parallel*, on other cores, while
# the model trains. They pay off when there are idle cores for them; on a machine shared with
# other programs, several processes also win a bigger share of the CPU than one, so this wall-clock
# comparison flatters them. Compare the loader's images/s with what the training step consumes:
# when the loader is slower, the GPU waits, and no amount of mixed precision will help.
#
# ## 4. Azure's GPU families
#
# AlexNet {cite}`krizhevsky2012imagenet` trained for five to six days on two consumer GPUs with
# 3 GB each. Azure has rented GPUs by the hour since 2016, and each generation of its **N-series**
# VMs maps to one NVIDIA (or AMD) data-centre GPU: **NC** for compute on one to four GPUs, **ND**
# for deep-learning training on eight GPUs linked by NVLink and InfiniBand. The table below
# (`data/gpu_specs.csv`, with a datasheet and an Azure page for every row) lists each series, an
# example size, its GPU and the GPU's dense peaks; older series are retired and listed for
# comparison.

# %%
# NBVAL_CHECK_OUTPUT
families = specs.assign(
    tensor=[f"{r[best_precision(r) + '_tflops']:g} {best_precision(r)}" for r in specs.to_dict("records")])
print(families[["series", "vm_size", "gpus_per_vm", "gpu", "year", "fp32_tflops", "tensor",
                "bandwidth_gbs", "status"]]
      .rename(columns={"vm_size": "example size", "gpus_per_vm": "GPUs", "fp32_tflops": "fp32 TFLOP/s",
                       "tensor": "16-bit TFLOP/s", "bandwidth_gbs": "GB/s"})
      .to_string(index=False))

# %% mystnb={"figure": {"caption": "Peak compute and memory bandwidth of one GPU in each Azure GPU series, by the GPU's launch year (log scale). Filled markers: the fastest dense 16-bit format; open markers: fp32. Grey: retired series.", "name": "fig-10-generations"}, "image": {"alt": "Two scatter charts against launch year from 2014 to 2024 on a logarithmic y axis. Left: fp32 and 16-bit peak TFLOP/s, rising from about 4 for the K80 to about 1000 for the H100 and H200 and 1300 for the MI300X. Right: memory bandwidth rising from 240 GB/s to 5300 GB/s."}}
fig, (ax_compute, ax_bandwidth) = plt.subplots(1, 2, figsize=(11, 4.2))
for r in specs.to_dict("records"):
    color = "0.6" if r["status"] == "retired" else "C0"
    tensor = r[f"{best_precision(r)}_tflops"]
    ax_compute.plot(r["year"], r["fp32_tflops"], "o", mfc="none", color=color)
    ax_compute.plot(r["year"], tensor, "o", color=color)
    ax_compute.annotate(r["series"], (r["year"], tensor), fontsize=7, xytext=(4, 2), textcoords="offset points")
    ax_bandwidth.plot(r["year"], r["bandwidth_gbs"], "s", color=color)
    ax_bandwidth.annotate(r["series"], (r["year"], r["bandwidth_gbs"]), fontsize=7, xytext=(4, 2),
                          textcoords="offset points")
ax_compute.set_ylabel("peak TFLOP/s per GPU"); ax_bandwidth.set_ylabel("memory bandwidth (GB/s)")
for ax in (ax_compute, ax_bandwidth):
    ax.set_yscale("log"); ax.set_xlabel("GPU launch year"); ax.grid(alpha=0.3, which="both")
ax_compute.set_title("compute: 16-bit (filled) and fp32 (open)", fontsize=9)
ax_bandwidth.set_title("memory bandwidth", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# In ten years the 16-bit peak grew about 200-fold and the bandwidth about 20-fold: compute grew
# much faster than memory, so more and more work sits on the slanted part of the roofline, and
# keeping data on the GPU (or in 16 bits, which halves the bytes) matters more with every
# generation.
#
# ### How long would it take there? An estimate
#
# We cannot run on every GPU, but we can **estimate**: assume a workload reaches the same fraction
# of peak on another device as it did here, so its time scales with the ratio of the peaks,
#
# $$t_\text{there} \approx t_\text{here} \times \frac{\text{peak}_\text{here}}{\text{peak}_\text{there} \times \text{GPUs}}.$$
#
# It is a rough guide, not a promise: small models cannot fill a big GPU, and several GPUs never
# scale perfectly. The reference is the fastest eager training step measured above; the chapters'
# own times come from `make bench` (`bench/results-*.md`) when they have been measured.

# %%
reference = steps.drop(index=[n for n in steps.index if "compile" in n])["step s"].idxmin()
ref_precision = variants[reference].get("precision") or (
    "tf32" if device.type == "cuda" and supported["tf32"] is None else "fp32")
ref_peak = peak_here(ref_precision)
if ref_peak != ref_peak:   # a device without a known peak: the best multiply measured here stands in
    ref_peak = matmul.loc[matmul["precision"] == ref_precision, "tflops_own_cores"].max()
print(f"reference: the '{reference}' step, {steps.loc[reference, 'TFLOP/s']:.4f} TFLOP/s = "
      f"{100 * steps.loc[reference, 'TFLOP/s'] / ref_peak:.1f} % of this device's {ref_precision} peak "
      f"({ref_peak:.3g} TFLOP/s)")

IMAGENET_TRAIN_IMAGES = 1_281_167
epoch_here = steps.loc[reference, "step s"] / P.batch_size * IMAGENET_TRAIN_IMAGES
workloads = {"ResNet-18: one ImageNet epoch (1.28 M images at 224²)": (epoch_here, ref_peak, True),
             "ResNet-18: 90 ImageNet epochs (torchvision's recipe)": (90 * epoch_here, ref_peak, True)}
for _, r in bench_results("cpu").iterrows():
    if cpu.peak_tflops("fp32"):     # make bench ran the chapters on this kind of CPU, in fp32
        workloads[f"chapter {r['chapter']} (CPU profile, measured by make bench)"] = (
            r["wall s"], cpu.peak_tflops("fp32"), False)
for _, r in bench_results("gpu").iterrows():
    measured_on = match_gpu(str(r.get("device", "")), specs)
    if measured_on is not None:
        workloads[f"chapter {r['chapter']} (GPU profile, measured on {measured_on['gpu']})"] = (
            r["wall s"], measured_on[f"{best_precision(measured_on)}_tflops"], False)


def human(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def estimate(workload: str, row: dict, all_gpus: bool) -> tuple[float, int]:
    """Estimated seconds of `workload` on one VM of `row`'s series, and the GPUs it uses."""
    seconds_here, peak_from, multi_gpu = workloads[workload]
    gpus = int(row["gpus_per_vm"]) if (all_gpus and multi_gpu) else 1
    return seconds_here * peak_from / (row[f"{best_precision(row)}_tflops"] * gpus), gpus


first = next(iter(workloads))
print(f"on this machine: {first} ≈ {human(epoch_here)}")
pd.DataFrame([{"series": r["series"], "GPUs used": estimate(first, r, True)[1],
               "estimated time": human(estimate(first, r, True)[0]),
               "GPU-hours": estimate(first, r, True)[0] * estimate(first, r, True)[1] / 3600,
               "status": r["status"]} for r in specs.to_dict("records")]).round(2)

# %% [markdown]
# ### Try it yourself
#
# Pick a GPU family and a workload; the estimate uses all GPUs of the VM (perfect data-parallel
# scaling) for the ResNet workloads and one GPU for a chapter notebook. Prices differ by region
# and change often, so type the pay-as-you-go price per VM-hour from the
# [Azure pricing calculator](https://azure.microsoft.com/pricing/calculator/) to see the cost.

# %%
import ipywidgets as widgets

family = widgets.Dropdown(description="GPU family", style={"description_width": "initial"},
                          options=[(f"{r['series']} · {r['gpus_per_vm']}× {r['gpu']}"
                                    + (" (retired)" if r["status"] == "retired" else ""), i)
                                   for i, r in enumerate(specs.to_dict("records"))], value=7)
workload = widgets.Dropdown(description="workload", options=list(workloads),
                            style={"description_width": "initial"}, layout={"width": "520px"})
all_gpus = widgets.Checkbox(value=True, description="use every GPU of the VM")
price = widgets.BoundedFloatText(value=0.0, min=0.0, max=1e4, step=0.1, description="$ per VM-hour")


def show_estimate(index: int, name: str, use_all: bool, dollars: float) -> None:
    row = specs.to_dict("records")[index]
    seconds, gpus = estimate(name, row, use_all)
    print(f"{name}\n  on one {row['vm_size']} ({gpus} of its {row['gpus_per_vm']} × {row['gpu']}): "
          f"≈ {human(seconds)}  [estimate: measured time here × peak ratio]")
    print(f"  GPU-hours: {seconds * gpus / 3600:.2f}")
    if row["status"] == "retired":
        print(f"  note: {row['note'].split('.')[0]} — listed for comparison only")
    if dollars > 0:
        print(f"  cost at ${dollars:.2f} per VM-hour (billed per second while the VM runs): "
              f"${dollars * seconds / 3600:.2f}")
    else:
        print("  cost: enter your region's price per VM-hour to see it")


controls = widgets.VBox([widgets.HBox([family, all_gpus]), workload, price])
display(controls, widgets.interactive_output(show_estimate, {"index": family, "name": workload,
                                                             "use_all": all_gpus, "dollars": price}))

# %% mystnb={"figure": {"caption": "Static version of the widget: estimated time of one ImageNet epoch of ResNet-18 on one VM of each Azure GPU series (all its GPUs, perfect scaling), scaled from the step measured on this machine (log scale). Grey: retired series.", "name": "fig-10-estimates"}, "image": {"alt": "Horizontal bar chart on a logarithmic time axis: this machine needs the longest by far; retired K80 and P100 series need hours; eight-GPU ND H100, H200 and MI300X VMs need a few minutes."}}
records = specs.to_dict("records")
times = [estimate(first, r, True)[0] for r in records]
fig, ax = plt.subplots(figsize=(8, 4.6))
names = [f"{r['series']} ({r['gpus_per_vm']}× {r['gpu'].split(' (')[0]})" for r in records] + ["this machine (measured step)"]
values = times + [epoch_here]
colors = ["0.6" if r["status"] == "retired" else "C0" for r in records] + ["C3"]
ax.barh(names[::-1], values[::-1], color=colors[::-1])
for i, value in enumerate(values[::-1]):
    ax.text(value, i, f" {human(value)}", va="center", fontsize=7)
ax.set_xscale("log"); ax.set_xlim(min(values) / 2, max(values) * 20)
ax.set_xlabel("estimated seconds for one ImageNet epoch of ResNet-18 (log scale)")
ax.tick_params(axis="y", labelsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Beyond one GPU: DistributedDataParallel and torchrun
#
# When one device is too slow, the standard answer is **data parallelism**: run one process per
# GPU, give each a full copy of the model and a different slice of every batch, and average the
# gradients before each update, so all copies stay identical {cite}`li2020pytorch`. PyTorch's
# `DistributedDataParallel` (DDP) does the averaging *during* `backward()`, overlapping the
# network traffic (an **all-reduce**: NCCL between GPUs, gloo between CPUs) with the rest of the
# backward pass. `torchrun` starts the processes and tells each who it is through environment
# variables: `RANK` (0 … `WORLD_SIZE`−1), `LOCAL_RANK` (which GPU on its machine), `WORLD_SIZE`,
# `MASTER_ADDR`/`MASTER_PORT`.
#
# The course's script is `chapters/scripts/ddp_train.py`. Its heart is a few lines:
#
# ```python
# dist.init_process_group("nccl" if on_gpus else "gloo")        # join the group torchrun set up
# sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=0)
# loader = DataLoader(train_set, batch_size=global_batch // world, sampler=sampler)
# model = DistributedDataParallel(SmallCNN().to(device))          # same initial weights everywhere
# for epoch in range(epochs):
#     sampler.set_epoch(epoch)                                    # same shuffle on every rank
#     for x, y in loader:
#         loss = F.cross_entropy(model(x.to(device)), y.to(device))
#         optimizer.zero_grad(); loss.backward(); optimizer.step()  # backward() averages gradients
# ```
#
# Because every rank's loss is a mean over an equal share of the global batch, the averaged
# gradient *is* the gradient of the whole global batch: N processes should reach the same
# weights as one process with the same global batch, up to the order of floating-point sums.
# (That is also why the model has no dropout and no batch norm: each replica would compute
# something different; `nn.SyncBatchNorm` fixes batch norm.) Let us check it: the same script,
# once on one process and once on two. On CPUs the processes talk over gloo; with one GPU per
# process they would use NCCL.

# %%
script = Path("scripts/ddp_train.py")
ddp_device = "cuda" if device.type == "cuda" and torch.cuda.device_count() >= P.ddp_nproc else "cpu"
runs = Path("../data/cache/10_ddp")              # git-ignored; cleared so no stale run is read
shutil.rmtree(runs, ignore_errors=True)
common = ["--epochs", P.ddp_epochs, "--global-batch", P.ddp_global_batch, "--device", ddp_device]
print(torchrun(script, "--out", runs / "one", *common, nproc=1, threads_per_process=1))
print(torchrun(script, "--out", runs / f"n{P.ddp_nproc}", *common, nproc=P.ddp_nproc, threads_per_process=1))

# %%
one = json.loads((runs / "one" / "metrics.json").read_text())
many = json.loads((runs / f"n{P.ddp_nproc}" / "metrics.json").read_text())
weight_gap = weight_difference(runs / "one" / "weights.safetensors",
                               runs / f"n{P.ddp_nproc}" / "weights.safetensors")
loss_gap = max(abs(a - b) for a, b in zip(one["losses"], many["losses"]))
print(f"largest difference between the two runs: weights {weight_gap:.1e}, per-step loss {loss_gap:.1e}")
pd.DataFrame([{k: run[k] for k in ("world_size", "backend", "device", "steps", "test_accuracy",
                                   "replica_checksum_spread", "train_seconds")} for run in (one, many)]
             ).set_index("world_size").round(3)

# %% mystnb={"figure": {"caption": "Training loss per step with one process and with two DDP processes (left; the curves lie on top of each other), and their absolute difference on a log scale (right).", "name": "fig-10-ddp"}, "image": {"alt": "Left: two identical falling loss curves over the training steps. Right: the absolute difference between them per step, tiny values near floating-point rounding on a logarithmic axis."}}
fig, (ax_loss, ax_gap) = plt.subplots(1, 2, figsize=(10, 3.4))
ax_loss.plot(one["losses"], label="1 process", lw=3, alpha=0.5)
ax_loss.plot(many["losses"], "--", label=f"{P.ddp_nproc} processes (DDP)")
ax_loss.set_xlabel("step"); ax_loss.set_ylabel("training loss (global batch)"); ax_loss.legend()
gaps = np.maximum(np.abs(np.array(one["losses"]) - np.array(many["losses"])), 1e-12)
ax_gap.semilogy(gaps, ".", color="C3")
ax_gap.set_xlabel("step"); ax_gap.set_ylabel("|loss difference| (floor 1e-12)")
for ax in (ax_loss, ax_gap):
    ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** The two runs agree to rounding error — not just at the end but at every
# step — and the replicas inside the 2-process run hold bit-identical weights (the checksum
# spread is 0). On two CPU cores the 2-process run is not much faster: the all-reduce costs time
# and there are no spare cores. On GPUs with NVLink the communication hides behind the backward
# pass and N GPUs come close to N times the throughput. To keep the *learning* the same when you
# add GPUs, keep the global batch fixed (each GPU gets less), or grow it and scale the learning
# rate with a warm-up {cite}`goyal2017accurate`.
#
# **Several machines.** The same script runs across nodes; only the launch changes. Run on every
# node, with the same rendezvous endpoint and job id:
#
# ```bash
# torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 \
#          --rdzv_backend=c10d --rdzv_endpoint=node0:29500 --rdzv_id=job42 \
#          chapters/scripts/ddp_train.py --out runs/two-nodes        # node_rank=1 on the other
# ```
#
# `--nnodes` is how many machines take part (`--nnodes=1:4` makes the job *elastic*), `--node_rank`
# this machine's index, `--nproc_per_node` the processes per machine (one per GPU),
# `--rdzv_endpoint` the host:port where they meet (the c10d rendezvous runs on the first node),
# `--rdzv_id` a name that keeps concurrent jobs apart, and `--max_restarts` how often to restart
# the workers after a failure. `--standalone` is the single-machine shortcut used above.
#
# ## 6. Running it on Azure
#
# Two routes, both with this repository as it is.
#
# **Azure Machine Learning.** A *command job* uploads the code, starts a *compute cluster* of GPU
# VMs, runs a command on each and tears the VMs down again. The course's specs are in `azureml/`:
# `compute.yml` defines a cluster of ND H100 v5 VMs that scales to zero when idle, `job.yml` installs
# `requirements.txt` and runs `torchrun` on two nodes × eight GPUs. The cell below reads them and
# checks that every file they name is in the repository (`tests/test_azureml.py` does the same in CI).

# %%
# NBVAL_CHECK_OUTPUT
import yaml

job = yaml.safe_load(Path("../azureml/job.yml").read_text())
cluster = yaml.safe_load(Path("../azureml/compute.yml").read_text())
size = specs.set_index("vm_size").loc[cluster["size"]]
print(f"cluster {cluster['name']}: {cluster['min_instances']}–{cluster['max_instances']} × {cluster['size']} "
      f"({size['gpus_per_vm']} × {size['gpu']} each, series {size['series']})")
print(f"job: {job['resources']['instance_count']} nodes, distribution {job['distribution']}, "
      f"inputs {job['inputs']}")
print("command:", job["command"].replace(" && ", " &&\n  "))
code = (Path("../azureml") / job["code"]).resolve()
for path in ("requirements.txt", "pyproject.toml", "chapters/scripts/ddp_train.py"):
    print(f"  {path}: {'found' if (code / path).is_file() else 'MISSING'} in the uploaded code")

# %% [markdown]
# Submitting it takes the Azure CLI with its `ml` extension, a subscription with GPU quota for the
# chosen size, and these commands, run from the repository root:
#
# ```bash
# az extension add --name ml                      # once
# az login
# az group create --name dl-course --location eastus
# az ml workspace create --name dl-course-ws --resource-group dl-course
# az configure --defaults group=dl-course workspace=dl-course-ws
# az ml compute create --file azureml/compute.yml  # the cluster (no VM runs until a job does)
# az ml job create --file azureml/job.yml --web     # submit; opens the job in Azure ML studio
# az ml job stream --name <job-name>                # follow its log
# az ml job download --name <job-name> --output-name run --download-path runs/azure
# ```
#
# **A plain GPU VM.** For interactive work, rent one VM, run the course there, and delete it:
#
# ```bash
# az group create --name dl-vm --location eastus
# az vm create --resource-group dl-vm --name dl-gpu --size Standard_NC4as_T4_v3 \
#     --image microsoft-dsvm:ubuntu-hpc:2204:latest --admin-username azureuser --generate-ssh-keys
# ssh azureuser@<public-ip>                       # then, on the VM (the image has the NVIDIA driver):
#   git clone https://github.com/demystify-dl/demystifying-deep-learning && cd demystifying-deep-learning
#   make test && make bench                       # the README's commands; bench writes bench/results-gpu.md
# az group delete --name dl-vm --yes              # teardown: deletes the VM, its disk and its IP
# ```
#
# ```{warning}
# **A GPU VM bills every second it is allocated**, whether or not it computes: an eight-GPU ND VM
# costs more per hour than many laptops. Stopping it from inside the operating system does *not*
# stop the bill — deallocate it (`az vm deallocate`) or, when you are done, delete the whole
# resource group as above. For Azure ML, keep `min_instances: 0` so the cluster shrinks to zero
# VMs when no job runs, and delete the workspace's resource group when the course is over.
# ```
#
# ## Checks
#
# The claims this chapter makes, asserted on the numbers it just measured.

# %%
peaks = matmul["precision"].map(peak_here)
known = peaks.notna()
assert (matmul["tflops_own_cores"] > 0).all() and (copies["gbs_own_cores"] > 0).all()
if peak_here("bandwidth") == peak_here("bandwidth"):   # a GPU with a datasheet bandwidth
    assert largest_copy["gbs_own_cores"] < 1.2 * peak_here("bandwidth"), "a copy cannot beat the memory"
# Rates per CPU-second overshoot when a busy machine deschedules the kernel's threads;
# wall-clock rates cannot, so a CPU is checked by wall clock.
rate = matmul["tflops"] if device.type == "cpu" else matmul["tflops_own_cores"]
assert (rate[known] < 1.5 * peaks[known]).all(), \
    "a multiply measured above 1.5× the peak means the timing (or the peak) is wrong"
best_by_precision = matmul.groupby("precision")["tflops_own_cores"].max()
if "bf16" in best_by_precision and (device.type == "cuda" or "amx_bf16" in cpu.flags):
    assert best_by_precision["bf16"] > best_by_precision["fp32"], \
        "a device with bf16 matrix units should multiply faster in bf16 than in fp32"
first_losses = steps["first loss"]
assert (first_losses - first_losses["fp32"]).abs().max() < 0.05, \
    f"every speed-up should start from the same loss as fp32: {first_losses.to_dict()}"
assert steps["TFLOP/s"].max() < 1.5 * np.nanmax([ref_peak] + [peak_here(p) for p in supported]), \
    "a whole training step cannot beat the device's peak"
tolerance = 1e-5 if ddp_device == "cpu" else 1e-4
assert weight_gap < tolerance and loss_gap < tolerance, \
    f"{P.ddp_nproc}-process DDP should reach the weights of one process (gap {weight_gap:.1e})"
assert many["replica_checksum_spread"] == 0.0, "all DDP replicas should hold the same weights"
assert many["test_accuracy"] >= 0.9, f"the DDP run should learn the digits, got {many['test_accuracy']:.3f}"
by_series = {r["series"]: estimate(first, r, True)[0] for r in records}
assert by_series["ND H200 v5"] < by_series["ND A100 v4"] < by_series["NDv2"] < by_series["NC"] < epoch_here, \
    "each newer ND generation should be estimated faster than the one before, and all faster than here"
assert set(specs["series"]) >= {"NC", "NCv2", "NCv3", "NDv2", "NCasT4_v3", "ND A100 v4", "NC A100 v4",
                                "ND H100 v5", "NCads H100 v5", "ND H200 v5", "ND MI300X v5"}
print(f"best measured: {', '.join(f'{p} {v:.4f}' for p, v in best_by_precision.items())} TFLOP/s; "
      f"fastest step: {steps['speed-up'].idxmax()} at {steps['speed-up'].max():.2f}× fp32; "
      f"DDP weight gap {weight_gap:.1e}, test accuracy {many['test_accuracy']:.3f}")

# %% [markdown]
# ## Exercises
#
# 1. **The ridge point.** Where the memory roof meets a compute roof, the intensity is
#    peak ÷ bandwidth. Compute it for this device and for an H100 (from the table). From which
#    matrix size $n$ on is an fp32 multiply compute-bound on each?
# 2. **Why the GradScaler.** On a GPU, train `make_step("fp16")` for a few steps with
#    `GradScaler(enabled=False)` and count the parameters whose gradient is exactly zero. Compare
#    with the scaler on. What happens to those gradients in fp16, and why does bf16 not need it?
# 3. **Batch norm under DDP.** Add `nn.BatchNorm2d` after each convolution of `SmallCNN` in
#    `scripts/ddp_train.py` and repeat the 1- vs 2-process comparison. Then wrap the model with
#    `nn.SyncBatchNorm.convert_sync_batchnorm` before DDP. Which version agrees with one process?
# 4. **Check an estimate.** If you have a GPU (Colab's T4 is in the table), run this notebook there
#    in the GPU profile and compare the measured ResNet-18 step with the estimate for that GPU
#    made on your laptop. Which way is the estimate off, and why?
#
# ```{dropdown} Hints and solutions
# 1. Ridge = peak / bandwidth, in FLOP per byte. For an H100 SXM: 67 TFLOP/s ÷ 3,350 GB/s ≈ 20
#    FLOP/byte in fp32 (and ≈ 295 in bf16: tensor cores need far more reuse). An $n$-sized fp32
#    multiply has intensity $2n^3 / (12 n^2) = n/6$, so it is compute-bound from $n \approx 120$
#    on an H100 in fp32 and from $n \approx 900$ in bf16 (2 bytes per number: intensity $n/3$).
# 2. fp16's smallest positive (subnormal) number is about $6 \times 10^{-8}$; smaller gradients
#    become 0 and those weights stop learning. The scaler multiplies the loss by a large factor
#    (65,536 at first) so the gradients stay representable, then divides them before the step,
#    and lowers the factor when a step overflows. bf16 has fp32's 8-bit exponent, so its range is
#    the same as fp32's.
# 3. With plain batch norm each process normalises with the statistics of its own half-batch, so
#    the runs drift apart (differences of order $10^{-3}$ and growing). SyncBatchNorm all-reduces
#    the statistics, computing them over the global batch, and the runs agree again.
# 4. The estimate usually errs on the optimistic side for small models: a ResNet-18 at a small batch
#    cannot keep thousands of GPU cores busy, and Python and kernel-launch overheads do not shrink
#    with the peak. Larger batches, channels_last, bf16 and `torch.compile` close the gap.
# ```
#
# ## References
#
# The roofline model is from {cite}`williams2009roofline`; mixed-precision training with loss
# scaling from {cite}`micikevicius2018mixed`, and bf16 for training from {cite}`kalamkar2019study`.
# ResNet is {cite}`he2016deep`, trained on ImageNet {cite}`deng2009imagenet`; AlexNet's two-GPU
# training is in {cite}`krizhevsky2012imagenet`. PyTorch {cite}`paszke2019pytorch` and its
# DistributedDataParallel {cite}`li2020pytorch`; large-batch data-parallel training with learning-rate
# scaling and warm-up {cite}`goyal2017accurate`. GPU peaks and Azure series come from the vendor
# datasheets and Microsoft Learn pages cited row by row in `data/gpu_specs.csv`. Full entries are in
# the [bibliography](../book/bibliography.md).
