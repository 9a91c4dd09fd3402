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
# delivers, how close that is to what the hardware could do at most, which switches (mixed
# precision, memory layout, compilation, data loading) change a real training step — and which
# of them leave the *answer* unchanged — and what the same work is estimated to cost on each of
# Azure's GPU families. Then it scales out the way practitioners do, with PyTorch's own
# DistributedDataParallel and `torchrun`, checks that two processes train the same model as one
# up to float rounding, and shows how to run the same script on an Azure ML cluster or a plain
# GPU virtual machine.
#
# **Learning goals**
# - Time GPU and CPU work correctly (warm-up, synchronisation, medians and their spread with
#   `torch.utils.benchmark`) and compare it with the device's peak: TFLOP/s, memory bandwidth
#   and the roofline that links them.
# - Find where a training step spends its time (`torch.profiler`) and its memory (weights,
#   gradients, optimizer state, activations), and trade compute for memory with gradient
#   accumulation and activation checkpointing.
# - Read Azure's GPU families (NC, ND, … from K80 to H200 and MI300X) as peak compute and
#   bandwidth, and turn a FLOP count and a published utilisation into a labelled estimate.
# - Use the speed-ups you control: bf16/fp16 autocast (with a GradScaler for fp16),
#   `channels_last`, `torch.compile`, DataLoader workers — and check that they train the same
#   model.
# - Train with `DistributedDataParallel` launched by `torchrun`, survive a preemption with a
#   checkpoint, and submit the same script as an Azure ML job.
#
# **Run time:** about a minute on a 2-core laptop (CPU profile). The GPU profile (larger sizes,
# `torch.compile`, fp16 with a GradScaler) has **not been run** for this edition: no GPU was
# available, so every GPU number on this page is a datasheet peak or a labelled estimate, never
# a measurement.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "DL popularity grew recently … with the advent of powerful GPUs" | We measure this machine's matrix-multiply throughput and memory bandwidth against its peak, and set a decade of GPU datasheets beside it. |
# | "DL popularity grew recently … with growth of Big Data" | More data needs more devices: we train one model on several processes with DistributedDataParallel. |
# | "GPUs in Azure" | We tabulate Azure's GPU VM families with their GPUs and peaks, estimate a training run on each, and check a real Azure ML job spec. |

# %% tags=["hide-input"]
# Bootstrap: opened alone (Colab, an Azure VM), this installs the course's helpers
# with what this chapter needs (`demystify[ch10]`); in a checkout it does nothing.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:
    repository = "git+https://github.com/demystify-dl/demystifying-deep-learning"
    source = os.environ.get("DEMYSTIFY_SOURCE", repository)
    # %pip install -q "demystify[ch10] @ {source}"

# %% [markdown]
# The setup cell seeds every random number generator, picks the device (a GPU when there is
# one) and loads this chapter's **profile**: the sizes it measures with on a CPU or on a GPU. On
# a CPU, torch runs on **one thread**. That is a choice about timing, not speed: with one thread
# per core, a machine shared with other programs forces the operating system to take a core
# away from some of our threads now and then, and multi-threaded kernels wait at every
# synchronisation point for the thread that is not running. An earlier version of this chapter
# used every core and, run beside another notebook, took several times as long.

# %%
import importlib.util
import json
import os
import multiprocessing
import shutil
import socket
from pathlib import Path

# Quiet two harmless notes on a machine without CUDA, before torch loads: the profiler's
# start/stop and GPU-probe lines (section 3) and an import's "no CUDA runtime" note.
os.environ.setdefault("KINETO_LOG_LEVEL", "6")
import logging
logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils import benchmark
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import resnet18, resnet50

from demystify import (claim, glue, load_digits, mark_timed, report, resize_images,
                       start, timing)
from demystify.hardware import (PRECISIONS, best_precision, cpu_info, gpu_info,
                                gpu_specs, match_gpu, supported_precisions, synchronize,
                                time_call)
from demystify.launch import torchrun, weight_difference

device, P = start("10_azure_gpus")          # on a CPU: one torch thread

# %% [markdown]
# ## 1. What this machine is, and what it could do at most
#
# Every number in this chapter depends on the hardware, so we start by writing it down. For the
# CPU we also need its **peak**: the most floating-point operations per second the cores we use
# could ever do. A core finishes at most a few vector instructions per clock cycle; each works
# on a whole register of numbers (8 fp32 numbers in a 256-bit AVX2 register, 16 in AVX-512) and
# a *fused multiply-add* (FMA) counts as 2 operations. So
#
# $$\text{peak} = \text{cores used} \times \text{clock} \times \underbrace{\text{FMA units} \times \text{lanes} \times 2}_{\text{FLOPs per cycle}}$$
#
# We assume two FMA units per core (true of current server and desktop cores). The weak point is
# the **clock**. The operating system reports a nominal clock, but a core in *turbo* runs
# faster, and a virtual machine often hides both the CPU model and its turbo clock. A peak at
# the nominal clock is therefore not an upper bound: an earlier run of this chapter measured an
# fp32 multiply *above* it on an AMD Milan VM, which is how we found out. So the peak below uses the
# highest clock we can justify: the kernel's maximum frequency where it reports one, else the
# highest turbo clock of the CPU's product family where we know it (for AMD's third-generation
# EPYC, "Milan", the maximum boost of its fastest part, the EPYC 72F3, as listed in
# [AnandTech's Milan review](https://www.anandtech.com/show/16529/amd-epyc-milan-review/2)),
# else the nominal clock, and says which. The family key is the CPU family and model number
# only, so it matches any Milan part. On the Milan VMs this book was run on, that clock is
# probably too high: their nominal clock is that of Milan parts such as the EPYC 7763, whose
# maximum boost is well below the 72F3's ([AMD's Milan line-up, as tabulated by
# Techgage](https://techgage.com/article/amd-epyc-milan-launch-performance/)). The VM does not
# name its model, so we keep the family's highest clock: the peak is then an upper bound (at
# the 7763's boost it would be lower by the ratio of the two clocks), and every fraction of
# the peak below is a lower bound. On a CPU we know no turbo clock for, the printout below says
# "peak clock …, the nominal clock": that peak is no bound, and the chapter asserts nothing
# against it. A 16-bit
# format only has a higher peak where the CPU has units
# for it (AVX-512 bf16/fp16 or Intel's AMX matrix tiles); without them, 16-bit numbers are
# converted and multiplied in the fp32 units at best, so their peak is fp32's.

# %%
# Highest turbo clock (GHz) of a CPU family, by cpu.family: (vendor, family, model).
# AMD EPYC 7003 "Milan" (family 25, model 1: any Milan part): the EPYC 72F3's maximum
# boost clock, the family's highest, so the peak is an upper bound for every Milan part.
FAMILY_MAX_TURBO_GHZ = {("AuthenticAMD", "25", "1"): 4.1}


NOMINAL = "the nominal clock (turbo unknown: measurements may beat it)"


def max_clock_ghz() -> tuple[float | None, str]:
    """The highest clock a core can run at, and where that number comes from."""
    cpufreq = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if cpufreq.exists():
        return int(cpufreq.read_text()) / 1e6, "the kernel's maximum frequency"
    if cpu.family in FAMILY_MAX_TURBO_GHZ:
        return FAMILY_MAX_TURBO_GHZ[cpu.family], "the CPU family's highest turbo clock"
    return cpu.ghz, NOMINAL


cpu = cpu_info()
threads = torch.get_num_threads()
cores_used = min(threads, cpu.cores) if device.type == "cpu" else cpu.cores
clock, clock_source = max_clock_ghz()
peak_is_bound = device.type != "cpu" or clock_source != NOMINAL   # nothing may beat it


def cpu_peak(precision: str) -> float | None:
    """Peak TFLOP/s of the cores torch uses: cores used × clock × FLOPs per cycle."""
    per_cycle = cpu.flops_per_cycle(precision)
    if per_cycle is None or clock is None:
        return None
    return cores_used * clock * per_cycle / 1e3


print(f"CPU  {cpu.model}: {cpu.cores} cores; torch uses {threads} thread(s)")
ghz = clock or float("nan")
nominal = cpu.ghz or float("nan")
print(f"     nominal clock {nominal:.3f} GHz; peak clock {ghz:.3f} GHz, {clock_source}")
print(f"     widest vectors {cpu.simd} ({cpu.fp32_lanes} fp32 lanes), "
      f"FMA {'yes' if cpu.fma else 'no'}")
for precision in ("fp32", "bf16", "fp16"):
    peak = cpu_peak(precision)
    print(f"     {precision} peak = {cores_used} core(s) × {ghz:.3f} GHz × "
          f"{cpu.flops_per_cycle(precision)} FLOP/cycle = "
          f"{1e3 * (peak or float('nan')):.1f} GFLOP/s")
if device.type == "cuda":
    gpu = gpu_info(device)
    print(f"GPU  {gpu['name']}: {gpu['memory_gib']} GiB, compute capability "
          f"{gpu['capability']}; {torch.cuda.device_count()} GPU(s) visible")
    tf32 = (torch.backends.cuda.matmul.allow_tf32
            and supported_precisions(device)["tf32"] is None)
    print(f"     fp32 matmuls run as {'TF32' if tf32 else 'IEEE fp32'} after "
          f"configure() (it allows TF32; only Ampere and newer GPUs have it)")
elif device.type == "mps":
    print("GPU  Apple silicon (MPS): no datasheet peaks here, so no % of peak")
else:
    print(f"GPU  none: this run measures the CPU")

# %% [markdown]
# ## 2. Timing correctly, and how far a measurement is from the peak
#
# **How we time.** Every duration in this chapter comes from `torch.utils.benchmark`, PyTorch's
# own timer, used the same way each time (the `bench` function below):
#
# 1. **Warm-up.** The first call of anything pays one-off costs — loading kernels, picking
#    algorithms, filling caches, compiling — so one call runs untimed first.
# 2. **Synchronise.** PyTorch *queues* GPU work and returns at once, so a clock read right after
#    `a @ b` measures the queueing, not the multiply. The benchmark timer synchronises before
#    every clock read (CUDA; in recent PyTorch any accelerator, Apple's MPS included); our
#    `bench` also synchronises after every call, which covers MPS on older versions too (on
#    a CPU there is nothing to wait for).
# 3. **Fixed threads.** The timer runs the statement with a fixed number of CPU threads (here
#    the one the chapter uses), so a measurement does not depend on what torch picked.
# 4. **Median and spread.** `blocked_autorange` repeats the call in blocks until at least
#    `min_run_time` seconds have passed and reports the **median** time per call and the
#    **interquartile range** (IQR) over the blocks. The median ignores the occasional block
#    that another program slowed down; a large IQR says the machine was busy.
#
# The course packages the same method once, as `demystify.hardware.time_call`, for the
# other chapters and for the single calls timed below (a first step, one pass of a loader):
# its clock synchronises the device before every reading, and it can time exactly one call.
#
# The wall clock is what we report. Another program on the machine can only make a wall-clock
# measurement *slower*, never faster, so a measured rate is a lower bound on what the hardware
# does — and it can never honestly exceed the peak.
#
# The work is a square matrix multiply: $n \times n$ times $n \times n$ costs $2n^3$ FLOPs. We
# run it in every number format the device supports: **fp32**, **tf32** (NVIDIA's tensor-core
# mode for fp32 matmuls, Ampere and newer), **bf16** and **fp16** (16-bit; bf16 keeps fp32's
# range, fp16 more precision but a narrow range). On an Ampere or newer GPU the
# course's `configure()` (called by `start`) lets *every* fp32 matmul run as TF32, so
# an "fp32" timing there is a TF32 timing unless TF32 is switched off: the fp32 rows
# below switch it off (true IEEE fp32) and the tf32 rows on, and the step table prints
# what its matmuls ran in.

# %%
def bench(fn, min_run_time: float = P.min_time_s) -> tuple[float, float]:
    """Median and IQR seconds per call of fn(), by torch.utils.benchmark."""
    def call():
        fn()
        synchronize(device)                   # the timer syncs CUDA only; this adds MPS
    call()                                    # warm-up: kernels, caches, algorithms
    timer = benchmark.Timer("call()", globals={"call": call}, num_threads=threads)
    measured = timer.blocked_autorange(min_run_time=min_run_time)
    return measured.median, measured.iqr


specs = gpu_specs()
here = match_gpu(gpu_info(device)["name"], specs) if device.type == "cuda" else None


def peak_here(precision: str) -> float:
    """This device's peak TFLOP/s (GB/s for 'bandwidth'); NaN where none is known."""
    value = None
    if device.type == "cpu" and precision != "bandwidth":
        value = cpu_peak(precision)
    elif here is not None:
        column = "bandwidth_gbs" if precision == "bandwidth" else f"{precision}_tflops"
        value = here[column]
    return float("nan") if value is None else float(value)

# %% [markdown]
# 16-bit multiplies get their own (smaller) sizes: on a CPU without 16-bit units they are slow.

# %%
def matmul_row(n: int, precision: str) -> dict:
    generator = torch.Generator().manual_seed(n)
    a, b = (torch.randn(n, n, generator=generator).to(device, PRECISIONS[precision])
            for _ in range(2))
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"   # fp32 means IEEE fp32
    median, iqr = bench(lambda: a @ b)
    return {"precision": precision, "n": n, "median ms": 1e3 * median,
            "IQR ms": 1e3 * iqr, "TFLOP/s": 2 * n**3 / median / 1e12,
            "intensity": 2 * n**3 / (3 * n * n * a.element_size())}


tf32_before = torch.backends.cuda.matmul.allow_tf32
supported = supported_precisions(device)
for precision, reason in supported.items():
    if reason:
        print(f"skipping {precision}: {reason}")
sizes = {"fp32": P.matmul_sizes, "tf32": P.matmul_sizes}
matmul = pd.DataFrame([matmul_row(n, precision)
                       for precision, reason in supported.items() if reason is None
                       for n in sizes.get(precision, P.lowp_sizes)])
torch.backends.cuda.matmul.allow_tf32 = tf32_before
matmul["peak"] = matmul["precision"].map(peak_here)
matmul["% of peak"] = 100 * matmul["TFLOP/s"] / matmul["peak"]
matmul.round({"median ms": 3, "IQR ms": 3, "TFLOP/s": 4, "intensity": 1, "peak": 4,
              "% of peak": 1})

# %% [markdown]
# The check that matters: no multiply may beat the peak. If one did, either the timing is wrong
# (an unsynchronised GPU clock; CPU seconds counted for more threads than ran) or the peak is
# (a turbo clock, a matrix unit we did not count). The chapter asserts it only where the peak's
# clock is an upper bound (a GPU's datasheet, the kernel's maximum frequency, a CPU family's
# highest turbo clock). At a nominal clock it is no bound: on an AMD Zen 5 VM that reports only
# its nominal clock, bf16 multiplies ran faster than the "peak" computed from it. There the
# table still shows the fraction, but nothing is asserted about it.

# %%
known = matmul.dropna(subset=["peak"])
best = matmul.groupby("precision")["TFLOP/s"].max()
matmul_fraction = (known["TFLOP/s"] / known["peak"]).max()
if len(known) and peak_is_bound:
    top = known.loc[(known["TFLOP/s"] / known["peak"]).idxmax()]
    claim("matmul_best_fraction_of_peak", top["TFLOP/s"] / top["peak"], "<= 1",
          timed=True, parts={"tflops": top["TFLOP/s"], "peak": top["peak"]},
          says="no measured multiply exceeds the peak estimate")
elif len(known):                      # a nominal clock: shown, but nothing to assert
    glue("matmul_best_fraction_of_peak", matmul_fraction)
no_16bit_units = cpu.flops_per_cycle("bf16") == cpu.flops_per_cycle("fp32")
if device.type == "cpu" and no_16bit_units and "bf16" in best.index:
    claim("cpu_bf16_over_fp32_speed", best["bf16"] / best["fp32"], "< 0.5", timed=True,
          says="without 16-bit units, bf16 multiplies run slower than fp32",
          parts={"bf16": best["bf16"], "fp32": best["fp32"]})
elif "bf16" in best.index:            # 16-bit units (or a GPU): no slowdown to assert
    glue("cpu_bf16_over_fp32_speed", best["bf16"] / best["fp32"])

# %% [markdown]
# The best multiply reaches a fraction {glue:text}`matmul_best_fraction_of_peak:.3f` of the
# estimated peak in this run. Where the peak's clock is an upper bound (section 1's printout
# says which clock it is), that fraction must be below 1, and the chapter asserts it. The
# fraction moves from run to run (a shared machine, a core's clock that varies), by several
# hundredths between the five seeds of the chapter's robustness check
# (`bench/robustness.md`), so read it as one run's value, not a constant; where it is asserted,
# the claim says only that it stays below 1. A large matrix multiply is the one kernel libraries
# tune to keep every FMA unit busy; how close it seems to come also depends on the clock the
# peak assumes: where that is the highest one the core could run at, the true fraction is at
# least this. Peaks assume every unit busy on every cycle; no whole network gets there
# (section 3 measures a training step). bf16's best multiply runs at
# {glue:text}`cpu_bf16_over_fp32_speed:.3f` times fp32's throughput in this run. On a CPU
# without 16-bit units that is far below 1 (the chapter asserts below one half there),
# because every number is converted on the way in and out; a CPU with AVX-512 bf16 or AMX
# units has a higher bf16 peak (section 1), so there bf16 can be the faster format; and on a
# GPU with tensor cores the 16-bit formats run many times *faster* than fp32 — the datasheet table in section 4 shows by how much.
#
# Bigger matrices do more work per number loaded, so they keep the arithmetic units busier: the
# *arithmetic intensity* (FLOPs per byte moved) of an $n$-sized multiply grows like $n$. The
# other half of a device's speed is its **memory bandwidth**. A device-to-device copy reads and
# writes every byte once and does no arithmetic at all; small copies fit in the caches and run
# at cache speed, only the largest measures the main memory.

# %%
def copy_row(mib: int) -> dict:
    source = torch.empty(mib * 2**20, dtype=torch.uint8, device=device)
    target = torch.empty_like(source)
    median, iqr = bench(lambda: target.copy_(source))
    return {"copy size (MiB)": mib, "median ms": 1e3 * median, "IQR ms": 1e3 * iqr,
            "GB/s": 2 * source.numel() / median / 1e9}


copies = pd.DataFrame([copy_row(mib) for mib in P.copy_mib])
copies.round({"median ms": 3, "IQR ms": 3, "GB/s": 1})

# %% [markdown]
# The **roofline** {cite}`williams2009roofline` puts both limits in one picture. A kernel that
# does $I$ FLOPs per byte can run no faster than $\min(\text{peak FLOP/s},\ I \times
# \text{bandwidth})$: on the slanted part it waits for memory, on the flat part for arithmetic.
# Each dot is one of the matrix multiplies above.

# %% mystnb={"figure": {"caption": "Roofline of this device: matrix-multiply throughput against arithmetic intensity (log-log). Solid lines: peak compute per number format; dashed: the memory roof from the measured copy bandwidth. Dots: measured multiplies of growing size.", "name": "fig-10-roofline"}, "image": {"alt": "Log-log chart with arithmetic intensity on the x axis and TFLOP/s on the y axis. A dashed diagonal memory roof rises until it meets horizontal compute roofs; measured dots for each number format lie below their roof."}}
bandwidth = copies["GB/s"].iloc[-1] * 1e9
intensity = np.logspace(-1, 3.5, 200)
fig, ax = plt.subplots(figsize=(9.5, 4.2))
ax.plot(intensity, intensity * bandwidth / 1e12, "k--", lw=1,
        label=f"memory roof ({bandwidth / 1e9:.0f} GB/s measured)")
for i, (precision, group) in enumerate(matmul.groupby("precision", sort=False)):
    peak = peak_here(precision)
    if peak == peak:   # not NaN
        roof = np.minimum(peak, intensity * bandwidth / 1e12)
        ax.plot(intensity, roof, color=f"C{i}", lw=1.5,
                label=f"{precision} peak {peak:.3g} TFLOP/s")
    ax.plot(group["intensity"], group["TFLOP/s"], "o-", color=f"C{i}", lw=0.6,
            label=f"{precision} measured")
ax.set_xscale("log"); ax.set_yscale("log")
ax.set_xlabel("arithmetic intensity (FLOP per byte)"); ax.set_ylabel("TFLOP/s")
ax.legend(fontsize=7, loc="lower right"); ax.grid(alpha=0.3, which="both")
mark_timed(ax)                     # measured rates: the record compares the structure
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. A real training step: where time and memory go
#
# Matrix multiplies are the bricks; a training step is the building. We time one step of
# ResNet-18 {cite}`he2016deep` on 224×224 images, the ImageNet setting, on real handwritten
# digits scaled up and repeated over three colour channels. First, how much work a step is:
# PyTorch's `FlopCounterMode` counts the FLOPs of the forward and backward pass, here on the
# `meta` device, which knows every shape but computes nothing. We count ResNet-50 too: section 4
# needs it.

# %%
def training_flops(make_model) -> tuple[float, int]:
    """FLOPs of one forward + backward pass on one image, and the parameter count."""
    with torch.device("meta"):
        model = make_model(num_classes=1000)
        with FlopCounterMode(display=False) as counter:
            F.cross_entropy(model(torch.empty(1, 3, P.image_size, P.image_size)),
                            torch.zeros(1, dtype=torch.long)).backward()
    return counter.get_total_flops(), sum(p.numel() for p in model.parameters())


flops_18, params_18 = training_flops(resnet18)
flops_50, params_50 = training_flops(resnet50)
glue("resnet18_gflop", flops_18 / 1e9)
glue("resnet50_gflop", flops_50 / 1e9)

# %%
# NBVAL_CHECK_OUTPUT
for name, flops, params in (("ResNet-18", flops_18, params_18),
                            ("ResNet-50", flops_50, params_50)):
    print(f"{name} (1000 classes): {params:,} parameters; one training step on a "
          f"{P.image_size}² image = {flops / 1e9:.2f} GFLOP (forward + backward)")

# %% [markdown]
# The step below is the whole recipe of fast training on one device, each part behind a switch:
#
# - **autocast** runs matrix multiplies and convolutions in bf16 or fp16 and keeps the rest
#   (losses, normalisation statistics, the weights themselves) in fp32 — *mixed precision*
#   {cite}`micikevicius2018mixed`. bf16 has fp32's exponent range and needs nothing else
#   {cite}`kalamkar2019study`; fp16's small range lets tiny gradients underflow to zero, so a
#   **GradScaler** multiplies the loss before `backward()` and divides the gradients again
#   before the optimizer step.
# - **TF32.** On NVIDIA GPUs from Ampere on, PyTorch can run fp32 matmuls and convolutions on
#   tensor cores with a 10-bit mantissa. The course's `configure()` switches it on for speed;
#   here the **fp32** variant switches it *off* (true fp32) and a separate **tf32** variant
#   switches it on, so the two are never confused.
# - **channels_last** stores images as height × width × channels, the layout tensor cores and
#   oneDNN's CPU kernels prefer for convolutions.
# - **torch.compile** traces the model and fuses many small operations into fewer kernels.

# %%
def make_step(precision=None, channels_last=False, compile=False, tf32=False):
    """One SGD step of a fresh ResNet-18 (seed 0) on our batch, with these switches."""
    torch.manual_seed(0)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = resnet18(num_classes=10).to(device, memory_format=layout)
    x, y = images.to(device, memory_format=layout), labels.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    forward = torch.compile(model) if compile else model

    def step() -> float:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
        with torch.autocast(device.type, dtype=PRECISIONS.get(precision),
                            enabled=precision is not None):
            loss = F.cross_entropy(forward(x), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()      # fp16: loss × scale: small gradients survive
        scaler.step(optimizer)             # unscales; skips the step if any is inf/NaN
        scaler.update()
        return loss.item()
    return step


digits = load_digits(image_size=8)
images = resize_images(digits.x_train[:P.batch_size], P.image_size)
images = images.expand(-1, 3, -1, -1).contiguous()
labels = digits.y_train[:P.batch_size]

# %% [markdown]
# Some variants make no sense on some devices, and the CPU profile must stay short, so each is
# guarded and a skipped variant says why.

# %%
variants = {"fp32": {}, "tf32": {"tf32": True},
            "channels_last": {"channels_last": True},
            "bf16 autocast": {"precision": "bf16"},
            "channels_last + bf16": {"precision": "bf16", "channels_last": True},
            "fp16 autocast + GradScaler": {"precision": "fp16"},
            "compile + channels_last + bf16": {"precision": "bf16",
                                               "channels_last": True, "compile": True}}


def skip_reason(options: dict) -> str | None:
    precision = options.get("precision") or ("tf32" if options.get("tf32") else None)
    if precision and supported[precision]:
        return supported[precision]
    if device.type == "cpu" and precision in ("bf16", "fp16") and no_16bit_units:
        return ("this CPU has no 16-bit units (section 2): a 16-bit ResNet step takes "
                "many times fp32's, beyond the CPU budget; the GPU profile times it")
    if options.get("compile") and not (P.compile and device.type == "cuda"):
        return "compiling ResNet-18 for a CPU takes longer than the CPU budget"
    return None

# %% [markdown]
# Each variant is timed as in section 2 (warm-up, then the median of repeated steps). `first
# step s` is the first call alone: it includes one-off costs such as compilation. The TFLOP/s
# column is the FlopCounter's FLOPs per second, and `% of peak` compares it with the peak of the
# format the variant multiplies in.

# %%
results, matmuls_in = {}, {}
for name, options in variants.items():
    reason = skip_reason(options)
    if reason:
        print(f"skipping {name}: {reason}")
        continue
    step = make_step(**options)
    # The first call alone, no warm-up: it includes compiling, if asked.
    first_s = time_call(step, device, warmup=0, calls=1).seconds
    median, iqr = bench(step, P.step_time_s)
    # What the step's fp32 matmuls really ran in: the flag step() set, not the label.
    tf32_used = (device.type == "cuda" and torch.backends.cuda.matmul.allow_tf32
                 and supported["tf32"] is None)
    fmt = options.get("precision") or ("tf32" if tf32_used else "fp32")
    matmuls_in[name] = fmt
    results[name] = {"first step s": first_s, "median s": median, "IQR s": iqr,
                     "peak": peak_here(fmt)}
    key = "_".join(w for w in name.lower().replace("+", " ").split())
    timing(f"step_{key}_s", median)
steps = pd.DataFrame(results).T.astype(float)
steps.insert(0, "matmuls in", pd.Series(matmuls_in))
steps["images/s"] = P.batch_size / steps["median s"]
steps["TFLOP/s"] = flops_18 * P.batch_size / steps["median s"] / 1e12
steps["% of peak"] = 100 * steps["TFLOP/s"] / steps["peak"]
steps.drop(columns="peak").round(3)

# %% [markdown]
# A whole step, too, must stay below a peak that bounds, and we should expect it below the
# bare matrix multiply: much of a step is memory-bound (normalisation, activations, the
# optimizer update).

# %%
step_fraction = (steps["TFLOP/s"] / steps["peak"]).max()
if step_fraction == step_fraction and peak_is_bound:     # a known peak that bounds
    claim("step_best_fraction_of_peak", step_fraction, "<= 1", timed=True,
          says="no training step exceeds the peak", parts={"matmul": matmul_fraction})
elif step_fraction == step_fraction:                      # a nominal clock: shown only
    glue("step_best_fraction_of_peak", step_fraction)
    glue("step_best_fraction_of_peak__matmul", matmul_fraction)

# %% [markdown]
# The best ResNet-18 step uses a fraction {glue:text}`step_best_fraction_of_peak:.3f` of the
# peak, against {glue:text}`step_best_fraction_of_peak__matmul:.3f` for the best bare multiply.
# Which switch makes a step *faster* depends on the hardware and the batch, and on a shared
# machine a few steps vary from run to run, so this chapter records the step times (as
# timings) but asserts no speed-up. On NVIDIA GPUs from Ampere on, with batches that fill
# them, bf16 autocast with channels_last is the usual first choice, and `torch.compile` adds a
# further gain once its compilation (the "first step" column) is paid.
#
# ### Do the switches train the same model?
#
# A speed-up that changes the answer is a bug, and checking the first loss is not enough: it
# only exercises the forward pass at the initial weights, so a broken backward pass, a
# GradScaler that skips every step or a miscompiled graph would all pass. We therefore train
# the course's small CNN (from the DDP script `demystify.ddp_train`; it has no batch norm, whose statistics on
# tiny batches amplify rounding differences from step to step) for
# {glue:text}`variant_steps:.0f` SGD steps with each switch and compare the final weights with
# plain fp32.

# %%
from demystify import ddp_train   # the course's DDP script, shipped in the package
x_all = (digits.x_train - digits.x_train.mean()) / digits.x_train.std()
y_all = digits.y_train
glue("variant_steps", P.variant_steps)


def train_small(precision=None, channels_last=False, compile=False,
                steps=P.variant_steps, batch=64) -> tuple[float, torch.Tensor]:
    """Final loss and flat weights of the small CNN after `steps` switched steps."""
    torch.manual_seed(P.seed)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = ddp_train.SmallCNN().to(device, memory_format=layout)
    forward = torch.compile(model) if compile else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    for s in range(steps):
        x = x_all[s * batch:(s + 1) * batch].to(device, memory_format=layout)
        y = y_all[s * batch:(s + 1) * batch].to(device)
        with torch.autocast(device.type, dtype=PRECISIONS.get(precision),
                            enabled=precision is not None):
            loss = F.cross_entropy(forward(x), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    weights = torch.cat([p.detach().flatten().cpu() for p in model.parameters()])
    return loss.item(), weights

# %% [markdown]
# The gap is the size of the weight difference relative to the size of the weights
# ($\lVert w - w_\text{fp32} \rVert / \lVert w_\text{fp32} \rVert$). A layout change only
# reorders sums, so its gap is float rounding; bf16 keeps about three significant digits, so its
# gap is larger but still small. On a GPU the fp16 + GradScaler and compiled variants join in.

# %%
small_variants = {"channels_last": {"channels_last": True},
                  "bf16 autocast": {"precision": "bf16"}}
if device.type == "cuda":
    small_variants["fp16 autocast + GradScaler"] = {"precision": "fp16"}
    if P.compile:
        small_variants["compile"] = {"compile": True}
loss_fp32, w_fp32 = train_small()
same = {}
for name, options in small_variants.items():
    loss, w = train_small(**options)
    same[name] = {"final loss": loss, "loss gap": abs(loss - loss_fp32),
                  "relative weight gap": ((w - w_fp32).norm() / w_fp32.norm()).item()}
same = pd.DataFrame(same).T
print(f"fp32 final loss {loss_fp32:.4f}")
same.round(6)

# %%
gap = same["relative weight gap"]
claim("channels_last_weight_gap", gap["channels_last"], "<= 0.002", tol=0.002,
      says="channels_last trains the same weights as fp32 up to float rounding")
claim("bf16_weight_gap", gap["bf16 autocast"], "<= 0.1", tol=0.03,
      says="bf16 autocast trains weights within a few percent of fp32's")
claim("bf16_loss_gap", same.loc["bf16 autocast", "loss gap"], "<= 0.05", tol=0.02,
      says="bf16 autocast ends at the same loss as fp32 to within 0.05")

# %% [markdown]
# After {glue:text}`variant_steps:.0f` steps, channels_last holds the weights of plain fp32 up
# to a relative gap of {glue:text}`channels_last_weight_gap:.1e` — float rounding — and bf16
# autocast up to {glue:text}`bf16_weight_gap:.3f`, with a final loss
# {glue:text}`bf16_loss_gap:.4f` away from fp32's: the switches change speed, not the model
# (the fp16 and compiled variants are checked the same way in the GPU profile, not run here).
# The channels_last gap is not the same on every seed: on most it stays near the last digit
# of fp32, on a few (seed 0 in the robustness check) it is a few orders of magnitude larger,
# most likely because the changed summation order tips one ReLU or max-pool comparison that
# sat on a tie, and the two runs then drift apart slowly — still far below the bf16 gap.
#
# ### Where the time goes: `torch.profiler`
#
# A step's total time says nothing about *which* operations cost it. `torch.profiler` records
# every operator PyTorch runs (and, on a GPU, every CUDA kernel) with its time; the table
# sorts them by their *self* time, the time spent in the operator itself rather than in the
# operators it calls. One fp32 step (TF32 off, as in the fp32 row above), after one
# warm-up step:

# %%
from torch.profiler import ProfilerActivity, profile

step = make_step()
step()                                             # warm-up, outside the profile
activities = [ProfilerActivity.CPU]
if device.type == "cuda":
    activities.append(ProfilerActivity.CUDA)
with profile(activities=activities) as profiled:
    step()
    synchronize(device)
events = profiled.key_averages()
sort_by = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
print(events.table(sort_by=sort_by, row_limit=8, max_name_column_width=36))

# %%
self_time = {e.key: e.self_cpu_time_total for e in events}
conv_time = sum(t for k, t in self_time.items() if "conv" in k)
conv_share = conv_time / sum(self_time.values())
if device.type == "cpu":
    claim("profile_conv_share", conv_share, ">= 0.5", timed=True,
          says="convolutions take most of a ResNet-18 step's CPU time")

# %% [markdown]
# On this CPU the convolution operators (forward and backward) take a share
# {glue:text}`profile_conv_share:.2f` of the step's CPU time: they hold nearly all the FLOPs.
# On a GPU, sort by CUDA time instead: CPU time there is mostly the cost of *launching*
# kernels, and a step whose GPU sits idle between small kernels is what `torch.compile` and
# larger batches fix. For a timeline, `profiled.export_chrome_trace("trace.json")` writes a file
# that `chrome://tracing` or Perfetto displays.
#
# ### Where the memory goes
#
# A GPU's memory, not its speed, is usually what limits a model. Training keeps four things:
# the **weights**, their **gradients** (same size), the **optimizer state** (SGD with momentum
# one more copy, Adam two), and the **activations** that the forward pass saves for the
# backward pass — which grow with the batch and the image size. In fp32 with Adam that is 16
# bytes per parameter before a single activation, so a model with 7 billion parameters needs
# more than the 80 GB of an H100 for its weights and optimizer alone.
#
# On a GPU, `torch.cuda.max_memory_allocated()` gives the peak of a step directly. On any device
# we can *count* the activations: `saved_tensors_hooks` sees every tensor autograd saves for the
# backward pass, and we add up their bytes (weights excluded).

# %%
from torch.utils.checkpoint import checkpoint_sequential


def saved_activations(model, forward) -> tuple[int, list[torch.Tensor]]:
    """Bytes of activations saved for backward in one step, and the gradients."""
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved = {}

    def pack(t):
        key = t.untyped_storage().data_ptr()
        if key not in weights:
            saved[key] = t.untyped_storage().nbytes()
        return t
    model.zero_grad(set_to_none=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(forward(images.to(device)), labels.to(device))
    loss.backward()
    return sum(saved.values()), [p.grad.detach().clone() for p in model.parameters()]

# %% [markdown]
# **Activation checkpointing** trades compute for memory: `checkpoint_sequential` splits the
# network into segments, keeps only each segment's input during the forward pass, and recomputes
# the segment's activations during the backward pass. The gradients must be the same.

# %%
torch.manual_seed(0)
net = resnet18(num_classes=10).to(device)
seq = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2,
                    net.layer3, net.layer4, net.avgpool, nn.Flatten(), net.fc)
plain_bytes, plain_grads = saved_activations(seq, seq)
ckpt_bytes, ckpt_grads = saved_activations(
    seq, lambda x: checkpoint_sequential(seq, 4, x, use_reentrant=False))
grad_gap = max((a - b).abs().max().item() for a, b in zip(plain_grads, ckpt_grads))
print(f"weights {4 * params_18 / 2**20:.0f} MiB (fp32, 1000 classes); "
      f"saved activations at batch {P.batch_size}: "
      f"{plain_bytes / 2**20:.1f} MiB plain, "
      f"{ckpt_bytes / 2**20:.1f} MiB with 4 checkpointed segments")
if device.type == "cuda":
    torch.cuda.reset_peak_memory_stats(device)
    make_step()()
    peak_mib = torch.cuda.max_memory_allocated(device) / 2**20
    print(f"peak GPU memory of one step: {peak_mib:.0f} MiB")

# %%
claim("checkpoint_activation_ratio", ckpt_bytes / plain_bytes, "<= 0.5", tol=0.01,
      parts={"plain_mib": plain_bytes / 2**20, "checkpointed_mib": ckpt_bytes / 2**20},
      says="checkpointing keeps less than half the activations")
claim("checkpoint_grad_gap", grad_gap, "<= 1e-6", tol=1e-6,
      says="checkpointing gives the same gradients")

# %% [markdown]
# With four checkpointed segments the step keeps
# {glue:text}`checkpoint_activation_ratio__checkpointed_mib:.1f` MiB of activations instead of
# {glue:text}`checkpoint_activation_ratio__plain_mib:.1f` MiB (a fraction
# {glue:text}`checkpoint_activation_ratio:.2f`), at the price of running most of the forward
# pass twice, and the gradients differ by at most {glue:text}`checkpoint_grad_gap:.1e`.
#
# **Gradient accumulation** is the other memory lever: when a batch of $4B$ does not fit, run
# four micro-batches of $B$, divide each loss by 4, and call `optimizer.step()` only after the
# fourth `backward()` — gradients *add up* in `.grad` until they are zeroed. For a model without
# batch norm (whose statistics depend on the batch) this is the same gradient as one batch of
# $4B$, up to the order of the sums:

# %%
torch.manual_seed(0)
small = ddp_train.SmallCNN()
x_big, y_big = x_all[:256], y_all[:256]
F.cross_entropy(small(x_big), y_big).backward()             # one batch of 256
whole = [p.grad.clone() for p in small.parameters()]
small.zero_grad()
for part in range(4):                                       # four micro-batches of 64
    chunk = slice(64 * part, 64 * (part + 1))
    (F.cross_entropy(small(x_big[chunk]), y_big[chunk]) / 4).backward()
accum_gap = max((p.grad - g).abs().max().item()
                for p, g in zip(small.parameters(), whole))
claim("grad_accumulation_gap", accum_gap, "<= 1e-6", tol=1e-6,
      parts={"largest_gradient": max(g.abs().max().item() for g in whole)},
      says="4 accumulated micro-batches give the gradient of one batch of 4B")

# %% [markdown]
# The accumulated gradient differs from the whole batch's by at most
# {glue:text}`grad_accumulation_gap:.1e`, against gradients as large as
# {glue:text}`grad_accumulation_gap__largest_gradient:.3f`: float rounding.
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
    """The digits served one at a time at ResNet's input size, randomly flipped."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, size: int):
        self.images, self.labels, self.size = images, labels, size

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        image = F.interpolate(self.images[i:i + 1], size=(self.size, self.size),
                              mode="bilinear", align_corners=False)[0]
        if torch.rand(()) < 0.5:
            image = image.flip(-1)
        return image.expand(3, -1, -1).contiguous(), self.labels[i]


def load_once(dataset, workers: int) -> dict:
    """Load the whole dataset once onto the device (worker start-up included)."""
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=P.loader_batch, shuffle=True, num_workers=workers,
        pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(0),
        multiprocessing_context="fork" if workers else None)

    def load_all() -> None:
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    seconds = time_call(load_all, device, warmup=0, calls=1).seconds   # one pass
    timing(f"loader_{workers}_workers_s", seconds)
    return {"num_workers": workers, "pin_memory": device.type == "cuda",
            "seconds": seconds, "images/s": len(dataset) / seconds}

# %%
n = P.loader_images
dataset = DigitsAt224(digits.x_train[:n], digits.y_train[:n], P.image_size)
worker_counts = [0, P.workers]
if "fork" not in multiprocessing.get_all_start_methods():   # Windows cannot fork
    print("skipping workers: this system cannot fork; define the dataset in a .py file")
    worker_counts = [0]
loading = pd.DataFrame([load_once(dataset, w) for w in worker_counts])
print(f"the fastest training step consumes {steps['images/s'].max():.1f} images/s")
loading.round(2)

# %% [markdown]
# Workers do not make the work cheaper — they add the cost of starting processes and of sending
# every batch back — they run it *in parallel*, on other cores, while the model trains. They pay
# off when there are idle cores for them; on a machine shared with other programs the wall clock
# of either row depends on who else runs, so the table is recorded, not asserted. Compare the
# loader's images/s with what the training step consumes: when the loader is slower, the GPU
# waits, and no amount of mixed precision will help.
#
# ## 4. Azure's GPU families
#
# AlexNet {cite}`krizhevsky2012imagenet` trained for five to six days on two consumer GPUs with
# 3 GB each. Azure has rented GPUs by the hour since 2016, and each generation of its
# **N-series** VMs maps to one NVIDIA (or AMD) data-centre GPU: **NC** for compute on one to four
# GPUs, **ND** for deep-learning training on eight GPUs linked by NVLink and InfiniBand. The
# table below (`data/gpu_specs.csv`, with a datasheet and an Azure page for every row) lists
# each series, an example size, its GPU and the GPU's **dense** peaks — without the 2:4
# structured sparsity that NVIDIA's datasheets also quote at twice the tensor-core number;
# older series are retired and listed for comparison. The status column is as checked on the
# date given in each row's note in the CSV (for NDv2: as checked on 2024-08, with no retirement
# date on its series page then; V100 series are being retired, so check Azure's notices).

# %%
# NBVAL_CHECK_OUTPUT
families = specs.assign(
    tensor=[f"{r[best_precision(r) + '_tflops']:g} {best_precision(r)}"
            for r in specs.to_dict("records")])
print(families[["series", "vm_size", "gpus_per_vm", "gpu", "year", "fp32_tflops",
                "tensor", "bandwidth_gbs", "status"]]
      .rename(columns={"vm_size": "example size", "gpus_per_vm": "GPUs",
                       "fp32_tflops": "fp32 TFLOP/s", "tensor": "16-bit TFLOP/s",
                       "bandwidth_gbs": "GB/s"})
      .to_string(index=False))

# %% mystnb={"figure": {"caption": "Peak compute and memory bandwidth of one GPU in each Azure GPU series, by the GPU's launch year (log scale). Filled markers: the fastest dense 16-bit format; open markers: fp32. Grey: retired series.", "name": "fig-10-generations"}, "image": {"alt": "Two scatter charts against GPU launch year on a logarithmic y axis. Left: fp32 and 16-bit peak TFLOP/s, rising steeply from the oldest GPU to the newest, the 16-bit points rising fastest. Right: memory bandwidth, rising much more slowly."}}
fig, (ax_compute, ax_bandwidth) = plt.subplots(1, 2, figsize=(11, 4.2))
for r in specs.to_dict("records"):
    color = "0.6" if r["status"] == "retired" else "C0"
    tensor = r[f"{best_precision(r)}_tflops"]
    ax_compute.plot(r["year"], r["fp32_tflops"], "o", mfc="none", color=color)
    ax_compute.plot(r["year"], tensor, "o", color=color)
    ax_compute.annotate(r["series"], (r["year"], tensor), fontsize=7, xytext=(4, 2),
                        textcoords="offset points")
    ax_bandwidth.plot(r["year"], r["bandwidth_gbs"], "s", color=color)
    ax_bandwidth.annotate(r["series"], (r["year"], r["bandwidth_gbs"]), fontsize=7,
                          xytext=(4, 2), textcoords="offset points")
ax_compute.set_ylabel("peak TFLOP/s per GPU")
ax_bandwidth.set_ylabel("memory bandwidth (GB/s)")
for ax in (ax_compute, ax_bandwidth):
    ax.set_yscale("log"); ax.set_xlabel("GPU launch year")
    ax.grid(alpha=0.3, which="both")
ax_compute.set_title("compute: 16-bit (filled) and fp32 (open)", fontsize=9)
ax_bandwidth.set_title("memory bandwidth", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# Compute grew much faster than memory bandwidth, so more and more work sits on the slanted part
# of the roofline, and keeping data on the GPU (or in 16 bits, which halves the bytes) matters
# more with every generation.
#
# ### How long would it take there? An estimate, labelled as one
#
# We cannot run on every GPU, and a measurement on this CPU says nothing about how well a GPU's
# tensor cores are used. So the estimate is built from two things that do not depend on this
# machine: the **FLOPs** of the work (counted above) and a **utilisation** — the fraction of the
# peak a real training run reached — taken from a published run:
#
# $$t \approx \frac{\text{FLOPs per epoch}}{\text{peak per GPU} \times \text{GPUs} \times \text{utilisation}}.$$
#
# The run: Goyal et al. trained "ResNet-50 with a minibatch size of 8192 on 256 GPUs in one
# hour", 90 epochs of ImageNet on 256 Tesla P100 GPUs: 32 Big Basin servers of 8
# NVLink-connected P100s, joined by 50 Gbit/s Ethernet {cite}`goyal2017accurate`. With ResNet-50's FLOPs counted above and the P100's fp32 peak (NVIDIA's
# datasheet for the NVLink version, in the code), that run used the fraction of the peak
# computed below, *communication and data loading included*. We take it as a P100 in fp32
# (the paper reports no reduced precision), and "one hour" is approximate, so the fraction is
# good to about ten percent; whether a
# newer GPU reaches the same fraction of its tensor-core peak is an assumption, so each
# estimate is given twice: at the fp32 peak (the assumption the paper supports) and at the
# 16-bit tensor-core peak (optimistic: small models and input pipelines rarely keep tensor
# cores that busy). Even the fp32 estimates are likely optimistic: ResNet-18 does fewer
# operations per byte it moves than ResNet-50 and waits on its input more, so it usually
# reaches a *lower* fraction of the peak than the published ResNet-50 run.

# %%
IMAGENET_TRAIN_IMAGES = 1_281_167
P100_NVLINK_FP32_TFLOPS = 10.6     # NVIDIA Tesla P100 datasheet, NVLink (SXM2) version
utilisation = (90 * IMAGENET_TRAIN_IMAGES * flops_50
               / (3600 * 256 * P100_NVLINK_FP32_TFLOPS * 1e12))
claim("goyal_utilisation", utilisation, "<= 0.5", tol=0.005,
      says="the published ResNet-50 run used well under half of the P100's fp32 peak")
epoch_flops = IMAGENET_TRAIN_IMAGES * flops_18
print(f"one ImageNet epoch of ResNet-18: {epoch_flops / 1e15:.1f} PFLOP")

# %% [markdown]
# The published run used a fraction {glue:text}`goyal_utilisation:.2f` of the P100's fp32 peak.
# The table applies that fraction to one epoch of ResNet-18 on one VM of each series (all its
# GPUs, with the same efficiency — the paper reports the scaling that justifies it only up to its
# own setting). The last row extrapolates the step **measured** on this machine; every other
# row is an **estimate**.

# %%
def human(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def estimate(row: dict, precision: str) -> float:
    """Estimated seconds of one ResNet-18 epoch on one VM of `row`'s series."""
    peak = row[f"{precision}_tflops"] * 1e12 * row["gpus_per_vm"]
    return epoch_flops / (peak * utilisation)


records = specs.to_dict("records")
estimates = pd.DataFrame([{
    "series": r["series"], "GPUs": r["gpus_per_vm"],
    "estimate at fp32 peak": estimate(r, "fp32"),
    "estimate at 16-bit peak": estimate(r, best_precision(r)),
    "status": r["status"]} for r in records])
epoch_here = steps["median s"].min() / P.batch_size * IMAGENET_TRAIN_IMAGES
estimates.assign(**{c: estimates[c].map(human) for c in estimates.columns
                    if c.startswith("estimate")}).set_index("series")

# %%
print(f"this machine, from the measured step ({steps['median s'].idxmin()}): "
      f"{human(epoch_here)} per epoch")

# %% mystnb={"figure": {"caption": "Estimated time of one ImageNet epoch of ResNet-18 on one VM of each Azure GPU series (all its GPUs), from the FLOP count and the utilisation of a published ResNet-50 run: bars at the fp32 peak, dots at the 16-bit tensor-core peak (log scale). Red: this machine, extrapolated from its measured step. Grey: retired series.", "name": "fig-10-estimates"}, "image": {"alt": "Estimated epoch times: horizontal bar chart on a logarithmic time axis with one bar per Azure GPU series and one for this machine. This machine's bar is by far the longest; the eight-GPU ND series have the shortest bars, and for tensor-core GPUs the 16-bit dots lie well left of the fp32 bars."}}
fig, ax = plt.subplots(figsize=(8, 4.6))
names = [f"{r['series']} ({r['gpus_per_vm']}× {r['gpu'].split(' (')[0]})"
         for r in records]
fp32_times = list(estimates["estimate at fp32 peak"]) + [epoch_here]
colors = ["0.6" if r["status"] == "retired" else "C0" for r in records] + ["C3"]
y = np.arange(len(fp32_times))[::-1]
ax.barh(y, fp32_times, color=colors)
ax.plot(estimates["estimate at 16-bit peak"], y[:-1], "k.", label="at the 16-bit peak")
ax.set_yticks(y, names + ["this machine (measured step)"], fontsize=7)
ax.set_xscale("log")
ax.set_xlabel("seconds for one ImageNet epoch of ResNet-18 (log scale; estimates)")
ax.legend(fontsize=7)
mark_timed(ax)                     # this machine's bar is a measured time
fig.tight_layout()
plt.show()

# %% [markdown]
# Two cautions. A retired K80 is listed at the same efficiency as an H100, which it would not
# reach either: the figure compares datasheets, not measured runs. And when this chapter's GPU
# profile has been run (`make bench` writes `bench/results-gpu.md`), a measured step on a real GPU
# replaces the assumption for that GPU — exercise 4 asks you to make that comparison.
#
# ## 5. Beyond one GPU: DistributedDataParallel and torchrun
#
# When one device is too slow, the standard answer is **data parallelism**: run one process per
# GPU, give each a full copy of the model and a different slice of every batch, and average the
# gradients before each update, so all copies stay identical {cite}`li2020pytorch`. PyTorch's
# `DistributedDataParallel` (DDP) does the averaging *during* `backward()`, overlapping the
# network traffic (an **all-reduce**: NCCL between GPUs, gloo between CPUs) with the rest of the
# backward pass. `torchrun` starts the processes and tells each who it is through environment
# variables: `RANK` (0 … `WORLD_SIZE`−1), `LOCAL_RANK` (which GPU on its machine),
# `WORLD_SIZE`, `MASTER_ADDR`/`MASTER_PORT`.
#
# The course's script is the module `demystify.ddp_train` (the file
# `demystify/ddp_train.py`, run with `torchrun -m`). Its heart is a few lines:
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
# That is also why the model has no dropout and no batch norm: each replica would compute
# something different. Per-sample normalisation such as `GroupNorm` (`--norm group`) keeps the
# replicas equivalent; `nn.SyncBatchNorm` does for batch norm, but only on GPU backends
# such as NCCL, not on CPU/gloo (exercise 3). Let us check it: the same script, once as a single process (its `main()` run in
# this notebook, as the only member of a 1-process group) and once on two processes started by
# `torchrun`. On CPUs the processes talk over gloo; with one GPU per process they would use NCCL.
# Both runs compute in **float64** (`--dtype float64`), for a reason the result explains.

# %%
def one_process(*args) -> None:
    """Run the script's main() here, as the only rank of a 1-process group.

    That is all `torchrun --nproc_per_node=1` would do, minus starting two more Pythons.
    """
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    env = {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "LOCAL_WORLD_SIZE": "1",
           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        ddp_train.main([str(a) for a in args])
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


enough_gpus = device.type == "cuda" and torch.cuda.device_count() >= P.ddp_nproc
ddp_device = "cuda" if enough_gpus else "cpu"
runs = Path("runs") / "10_ddp"   # beside the notebook (git-ignored); cleared so
shutil.rmtree(runs, ignore_errors=True)   # that no stale run is read
common = ["--epochs", P.ddp_epochs, "--global-batch", P.ddp_global_batch,
          "--device", ddp_device, "--seed", P.seed, "--dtype", "float64"]
one_process("--out", runs / "one", *common)
print(torchrun("demystify.ddp_train", "--out", runs / "many", *common, module=True,
               nproc=P.ddp_nproc, threads_per_process=1))

# %%
one = json.loads((runs / "one" / "metrics.json").read_text())
many = json.loads((runs / "many" / "metrics.json").read_text())
weight_gap = weight_difference(runs / "one" / "weights.safetensors",
                               runs / "many" / "weights.safetensors")
loss_gap = max(abs(a - b) for a, b in zip(one["losses"], many["losses"]))
timing("ddp_one_process_s", one["train_seconds"])
timing("ddp_many_processes_s", many["train_seconds"])
columns = ("world_size", "backend", "device", "steps", "test_accuracy",
           "replica_checksum_spread", "train_seconds")
table = pd.DataFrame([{k: run[k] for k in columns} for run in (one, many)])
table.set_index("world_size")

# %%
claim("ddp_weight_gap", weight_gap, "<= 1e-10", tol=1e-10,
      parts={"loss_gap": loss_gap, "steps": many["steps"]},
      says="2-process DDP reaches the weights of one process up to float rounding")
claim("ddp_replica_spread", many["replica_checksum_spread"], "== 0", tol=0,
      says="all DDP replicas hold bit-identical weights")

# %% mystnb={"figure": {"caption": "Training loss per step with one process and with two DDP processes (left; the curves lie on top of each other), and their absolute difference on a log scale (right).", "name": "fig-10-ddp"}, "image": {"alt": "Left: two overlapping falling loss curves over the training steps. Right: the absolute difference between them per step, tiny values near floating-point rounding on a logarithmic axis."}}
fig, (ax_loss, ax_gap) = plt.subplots(1, 2, figsize=(10, 3.4))
ax_loss.plot(one["losses"], label="1 process", lw=3, alpha=0.5)
ax_loss.plot(many["losses"], "--", label=f"{P.ddp_nproc} processes (DDP)")
ax_loss.set_xlabel("step"); ax_loss.set_ylabel("training loss (global batch)")
ax_loss.legend()
gaps = np.maximum(np.abs(np.array(one["losses"]) - np.array(many["losses"])), 1e-12)
ax_gap.semilogy(gaps, ".", color="C3")
ax_gap.set_xlabel("step"); ax_gap.set_ylabel("|loss difference| (floor 1e-12)")
for ax in (ax_loss, ax_gap):
    ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** After {glue:text}`ddp_weight_gap__steps:.0f` steps the two runs hold the
# same weights up to {glue:text}`ddp_weight_gap:.1e` and their per-step losses differ by at most
# {glue:text}`ddp_weight_gap__loss_gap:.1e` — the same model up to float rounding, not bit for
# bit, because the all-reduce adds the two halves' gradients in a different order than one
# process does. Inside the 2-process run the replicas agree exactly (checksum spread
# {glue:text}`ddp_replica_spread:.0f`).
#
# Why float64? Training amplifies tiny differences: once a rounding difference tips one ReLU or
# one max-pool the other way, two runs follow different paths. In float32 — what you would
# train in — the two runs start out as close as float32 rounding allows, but that is about a
# billion times coarser than float64's, and an earlier version of this check, in float32,
# found the runs parted far beyond rounding within a few epochs on some seeds: two equally good
# models, no longer the same one. Float64 keeps the differences too small to tip anything over
# this run, so the check isolates what DDP promises — the gradient of the global batch at every
# step — from the chaos of training.
#
# The training times ({glue:text}`ddp_one_process_s:.2f` s for one process,
# {glue:text}`ddp_many_processes_s:.2f` s for two, in float64) are recorded, not compared,
# because which one wins depends on who else uses the machine. Two processes split the
# arithmetic, but every step also pays a gloo all-reduce through the operating system's network
# stack, a barrier at which the faster process waits for the slower, and the Python overhead of
# two data loaders. When both cores are free, the halved arithmetic can pay for that; when
# another program holds one core, the two processes take turns on the other and each barrier
# waits for a process that is not running. In this chapter's robustness runs, made beside
# other jobs, the two processes were mostly the slower, not always (`bench/robustness.md` lists
# both times for every seed). On GPUs
# with NVLink, for models whose steps take tens of milliseconds, the communication hides behind
# the backward pass and N GPUs come close to N times the throughput. To keep the *learning* the
# same when you add GPUs, keep the global batch fixed (each GPU gets less), or grow it and
# scale the learning rate with a warm-up {cite}`goyal2017accurate`.
#
# **Several machines.** The same script runs across nodes; only the launch changes. Run on
# every node, with the same rendezvous endpoint and job id:
#
# ```bash
# torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 \
#          --rdzv_backend=c10d --rdzv_endpoint=node0:29500 --rdzv_id=job42 \
#          -m demystify.ddp_train --out runs/two-nodes        # node_rank=1 on the other
# ```
#
# `--nnodes` is how many machines take part (`--nnodes=1:4` makes the job *elastic*),
# `--node_rank` this machine's index, `--nproc_per_node` the processes per machine (one per
# GPU), `--rdzv_endpoint` the host:port where they meet, `--rdzv_id` a name that keeps
# concurrent jobs apart, and `--max_restarts` how often to restart the workers after a failure.
# `--standalone` is the single-machine shortcut used above.
#
# **When the model does not fit: FSDP.** DDP keeps a full copy of the weights, gradients and
# optimizer state on every GPU, so it cannot train a model whose 16 bytes per parameter exceed
# one GPU's memory. *Fully Sharded Data Parallel* (`torch.distributed.fsdp.fully_shard`) splits
# all three across the GPUs: each holds one shard, gathers a layer's full weights just before
# using them (all-gather), and after the backward pass reduces and re-shards the gradients
# (reduce-scatter). Memory per GPU falls roughly with the number of GPUs, at the price of more
# communication; it is the standard way to train models of billions of parameters, and the
# training loop stays the same as above.
#
# ### Surviving a preemption: checkpoint and resume
#
# Azure sells unused capacity as **spot VMs** (and Azure ML as *low-priority* nodes) at a
# large discount, on the condition that Azure may take them back at short notice. A job on
# them must be able to stop at any step and continue later: save a **checkpoint** — weights,
# optimizer state (momentum!), the step counter and the random-number state — regularly, and
# resume from the latest one at start-up. The test of a resume is simple: a run interrupted
# and resumed must end with exactly the weights of a run that never stopped.

# %%
def small_run(model, optimizer, first: int, last: int) -> None:
    for s in range(first, last):
        x, y = x_all[64 * s:64 * (s + 1)], y_all[64 * s:64 * (s + 1)]
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


def fresh(seed: int):
    torch.manual_seed(seed)
    model = ddp_train.SmallCNN()
    return model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


straight, opt = fresh(P.seed)
small_run(straight, opt, 0, 20)                     # never interrupted
model, opt = fresh(P.seed)
small_run(model, opt, 0, 10)                        # ... preempted after step 10
checkpoint_path = runs / "checkpoint.pt"
torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 10,
            "rng": torch.get_rng_state()}, checkpoint_path)
del model, opt
resumed, opt = fresh(seed=12345)                    # a new VM, other weights
saved = torch.load(checkpoint_path)
resumed.load_state_dict(saved["model"]); opt.load_state_dict(saved["optimizer"])
torch.set_rng_state(saved["rng"])
small_run(resumed, opt, saved["step"], 20)
resume_gap = max((a - b).abs().max().item()
                 for a, b in zip(straight.parameters(), resumed.parameters()))
claim("resume_weight_gap", resume_gap, "<= 1e-7", tol=1e-7,
      says="a run resumed from a checkpoint ends with the uninterrupted run's weights")

# %% [markdown]
# The resumed run ends {glue:text}`resume_weight_gap:.1e` away from the uninterrupted one: the
# same weights. Had the checkpoint kept only the weights, the optimizer's momentum would restart
# from zero and the runs would part. In a real job, write the checkpoint to durable storage (an
# Azure ML output or a blob datastore), not the VM's local disk, which is lost with the VM.
#
# ## 6. Running it on Azure
#
# Two routes, both with this repository as it is.
#
# **Azure Machine Learning.** A *command job* uploads the code, starts a *compute cluster* of
# GPU VMs, runs a command on each and tears the VMs down again. The course's specs are in
# `azureml/` (and inside the `demystify` package, so this cell finds them in Colab too):
# `compute.yml` defines a cluster of at most one `Standard_NC4as_T4_v3` VM (one T4) that scales
# to zero when idle; `job.yml` runs on it in one of Azure ML's *curated* environments (a
# prebuilt image with PyTorch and CUDA), installs only this package with chapter 10's extra
# (`pip install ".[ch10]"`), and starts the course's script with `torchrun --standalone -m
# demystify.ddp_train`. `job-multinode.yml` with `compute-multinode.yml` is the same script on
# two ND H100 v5 nodes × eight GPUs. The cell below reads the default pair and checks that the
# module the job runs is in the package; `tests/test_azureml.py` also validates every spec
# against Azure ML's JSON schemas and parses the command's arguments.

# %%
# NBVAL_CHECK_OUTPUT
import re

import yaml

from demystify.data import azureml_spec   # the checkout's azureml/, or the package's

job = yaml.safe_load(azureml_spec("job.yml").read_text())
cluster = yaml.safe_load(azureml_spec("compute.yml").read_text())
size = specs.set_index("vm_size").loc[cluster["size"]]
nodes = f"{cluster['min_instances']}–{cluster['max_instances']}"
print(f"cluster {cluster['name']}: {nodes} × {cluster['size']} "
      f"({size['gpus_per_vm']} × {size['gpu']} each, series {size['series']}), "
      f"tier {cluster['tier']}")
print(f"job: {job['resources']['instance_count']} node(s), "
      f"distribution {job.get('distribution', 'none')}, inputs {job['inputs']}")
print("command:", job["command"].replace(" && ", " &&\n  "))
runs_module = re.search(r"-m (demystify\.\w+)", job["command"])
assert runs_module, "the job's command should run -m demystify.<the course's script>"
found = importlib.util.find_spec(runs_module[1]) is not None
print(f"  it runs {runs_module[1]}: {'found' if found else 'MISSING'} in the package")

# %% [markdown]
# Submitting it takes the Azure CLI with its `ml` extension, a subscription with GPU quota for
# the chosen size (for the default, the NCasT4_v3 family), and these commands, run from the
# repository root:
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
# # optional, 2 nodes × 8 H100 (quota for the NDSH100v5 family):
# az ml compute create --file azureml/compute-multinode.yml
# az ml job create --file azureml/job-multinode.yml --web
# ```
#
# **Data: datastores.** A job should not upload its training data with the code. An Azure ML
# *datastore* is a named connection to an Azure Blob container or a Data Lake; register one
# with `az ml datastore create --file datastore.yml`, and name a folder in it as a job input,
# e.g. `type: uri_folder` with `path: azureml://datastores/<name>/paths/imagenet/`. Azure ML
# mounts (or downloads) it on every node and passes its local path to the command as
# `${{inputs.<name>}}` — the `inputs` printed above work this way. Outputs (checkpoints,
# weights) go to a datastore the same way, so they outlive the VMs.
#
# **Tracking: MLflow.** Every Azure ML workspace is also an MLflow tracking server, and a job's
# environment is already pointed at it: `import mlflow; mlflow.log_metric("loss", value,
# step=step)` and `mlflow.log_param(...)` from rank 0 appear in the job's page in Azure ML
# studio, comparable across runs; `mlflow.set_tracking_uri(...)` points a laptop run at the same
# workspace.
#
# **Spot capacity.** Set `tier: low_priority` in `compute.yml` for a cluster of preemptible
# nodes; Azure ML requeues a preempted job, and with the checkpoint-and-resume of section 5 it
# continues where it stopped. For a single VM, `az vm create ... --priority Spot
# --eviction-policy Deallocate --max-price -1` rents spot capacity at the current spot price.
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
# ## Claims
#
# Every result sentence above rests on a claim asserted where it was measured; this cell lists
# them, with the timings recorded beside them.

# %%
report()

# %% [markdown]
# ## Exercises
#
# 1. **The ridge point.** Where the memory roof meets a compute roof, the intensity is
#    peak ÷ bandwidth. Compute it for this device and for an H100 (from the table). From which
#    matrix size $n$ on is an fp32 multiply compute-bound on each?
# 2. **Why the GradScaler.** On a GPU, train `train_small("fp16")` with the GradScaler disabled
#    and count the parameters whose gradient is exactly zero. Compare with the scaler on. What
#    happens to those gradients in fp16, and why does bf16 not need it?
# 3. **Normalisation under DDP.** Run `demystify.ddp_train` with `--norm batch` on one and on
#    two processes (CPU is fine) and compare the weights as in section 5. Then repeat with
#    `--norm group`. Which one agrees with one process, and why? (`--norm syncbatch` is the
#    third answer, but `nn.SyncBatchNorm` runs only on GPU backends, not on CPU/gloo.)
# 4. **Check an estimate.** If you have a GPU (Colab's T4 is in the table), run this notebook
#    there in the GPU profile and compare the measured ResNet-18 step with the section 4
#    estimate for that GPU. Which way is the estimate off, and why?
#
# ```{dropdown} Hints and solutions
# 1. Ridge = peak / bandwidth, in FLOP per byte. For an H100 SXM, divide the table's fp32 peak by
#    its bandwidth: about 20 FLOP/byte in fp32, and about 300 in bf16 (tensor cores need far
#    more reuse). An $n$-sized fp32 multiply has intensity $2n^3 / (12 n^2) = n/6$, so it is
#    compute-bound from $n \approx 120$ on an H100 in fp32 and from $n \approx 900$ in bf16
#    (2 bytes per number: intensity $n/3$).
# 2. fp16's smallest positive (subnormal) number is about $6 \times 10^{-8}$; smaller gradients
#    become 0 and those weights stop learning. The scaler multiplies the loss by a large factor
#    (65,536 at first) so the gradients stay representable, then divides them before the step,
#    and lowers the factor when a step overflows. bf16 has fp32's 8-bit exponent, so its range is
#    the same as fp32's.
# 3. With batch norm each process normalises with the statistics of its own half-batch, so the
#    2-process run computes a different function than one process on the whole batch and the
#    weights drift apart far beyond rounding. Group norm normalises each sample over groups of
#    its own channels, independent of the batch, so the runs agree to rounding again
#    (`tests/test_ddp.py` runs both on CPU). SyncBatchNorm all-reduces the statistics over the
#    global batch; PyTorch runs it only on GPU (accelerator) backends, not on CPU/gloo, so
#    the script refuses it there.
# 4. The estimate applies one published utilisation to every GPU. A ResNet-18 at a small batch
#    cannot keep a large GPU busy, and Python and kernel-launch overheads do not shrink with the
#    peak, so a measured step is usually slower than the estimate at the 16-bit peak; larger
#    batches, channels_last, bf16 and `torch.compile` close the gap.
# ```
#
# ## References
#
# The roofline model is from {cite}`williams2009roofline`; mixed-precision training with loss
# scaling from {cite}`micikevicius2018mixed`, and bf16 for training from {cite}`kalamkar2019study`.
# ResNet is {cite}`he2016deep`, trained on ImageNet {cite}`deng2009imagenet`; AlexNet's two-GPU
# training is in {cite}`krizhevsky2012imagenet`. PyTorch {cite}`paszke2019pytorch` and its
# DistributedDataParallel {cite}`li2020pytorch`; large-batch data-parallel training with
# learning-rate scaling and warm-up, and the utilisation our estimates use,
# {cite}`goyal2017accurate`. GPU peaks and Azure series come from the vendor datasheets and
# Microsoft Learn pages cited row by row in `data/gpu_specs.csv`. Full entries are in the
# [bibliography](../book/bibliography.md).
