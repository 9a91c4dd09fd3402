"""What this machine is, what it could do at most, and how fast it really runs.

Chapter 10 compares measured throughput with the device's *peak*: for a GPU the datasheet numbers
in data/gpu_specs.csv, for a CPU an estimate from cores × clock × SIMD width. The timers here
warm up first, synchronise the device before reading the clock (GPU work is asynchronous) and
report the median of several timed blocks.
"""
from __future__ import annotations

import logging
import os
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

# torch.utils.benchmark imports torch.utils.cpp_extension, which warns "No CUDA runtime is
# found, using CUDA_HOME=..." on a CUDA build of torch without a GPU. Nothing here compiles an
# extension, so the warning would only clutter every chapter that times something.
logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
from torch.utils import benchmark  # noqa: E402  (after the logger is quietened)

# The numeric formats a chapter can time, and the torch dtype their tensors are stored in.
PRECISIONS: dict[str, torch.dtype] = {
    "fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
SPEC_COLUMNS = ("series", "vm_size", "gpus_per_vm", "gpu", "torch_name", "architecture", "year",
                "memory_gb", "fp32_tflops", "tf32_tflops", "fp16_tflops", "bf16_tflops",
                "bandwidth_gbs", "status", "note", "gpu_source", "azure_source")


def _check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: use {', '.join(PRECISIONS)}")


@dataclass(frozen=True)
class CpuInfo:
    """The facts a CPU peak estimate needs: torch's vector level, the rest from the OS."""
    model: str
    cores: int                    # physical cores
    threads: int                  # logical CPUs (hyper-threads included)
    ghz: float | None             # nominal clock; None when the OS does not say
    simd: str                     # torch's vector level: "AVX-512", "AVX2", "SVE-256", "NEON", …
    fp32_lanes: int               # fp32 numbers per vector register
    fma: bool                     # fused multiply-add: 2 FLOPs per lane per instruction
    flags: frozenset[str] = field(default_factory=frozenset)   # the OS's CPU feature flags
    # what the OS calls the CPU: (vendor, family, model number) on x86, (implementer,
    # architecture, part) on ARM; empty where there is no /proc/cpuinfo (macOS, Windows)
    family: tuple[str, str, str] = ("", "", "")

    def flops_per_cycle(self, precision: str) -> int | None:
        """Peak FLOPs per cycle and core: 2 vector units × lanes × 2 (FMA), or the matrix unit's."""
        _check_precision(precision)
        fp32 = 2 * self.fp32_lanes * (2 if self.fma else 1)   # two vector ports on modern cores
        if precision == "tf32":
            return None                                      # a GPU tensor-core format
        if precision == "bf16":
            if "amx_bf16" in self.flags:
                return 1024                                  # Intel AMX tile unit (per core)
            return 2 * fp32 if "avx512_bf16" in self.flags else fp32
        if precision == "fp16":
            if "amx_fp16" in self.flags:
                return 1024
            return 2 * fp32 if "avx512_fp16" in self.flags else fp32
        return fp32

    def peak_tflops(self, precision: str = "fp32") -> float | None:
        """cores × GHz × FLOPs per cycle, in TFLOP/s; None when the clock or the format is unknown."""
        per_cycle = self.flops_per_cycle(precision)
        if per_cycle is None or self.ghz is None:
            return None
        return self.cores * self.ghz * per_cycle / 1e3

    def explain(self, precision: str = "fp32") -> str:
        """The peak estimate written out, e.g. '2 cores × 2.10 GHz × 64 FLOP/cycle = 0.269 TFLOP/s'."""
        per_cycle, peak = self.flops_per_cycle(precision), self.peak_tflops(precision)
        if per_cycle is None:
            return f"{precision}: no such format on a CPU"
        if peak is None:
            return f"{precision}: unknown (the operating system does not report the clock)"
        return (f"{precision}: {self.cores} cores × {self.ghz:.2f} GHz × {per_cycle} FLOP/cycle "
                f"= {peak:.3f} TFLOP/s")


def _cpuinfo_fields() -> list[dict[str, str]]:
    """/proc/cpuinfo as one dict per logical CPU (empty list where there is none)."""
    path = Path("/proc/cpuinfo")
    if not path.exists():
        return []
    blocks = []
    for block in path.read_text(errors="replace").split("\n\n"):
        entry = {}
        for line in block.splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                entry[key.strip()] = value.strip()
        if entry:
            blocks.append(entry)
    return blocks


# torch.backends.cpu.get_cpu_capability() -> (name, fp32 lanes, FMA). torch dispatches its
# AVX2 and AVX-512 kernels only on CPUs that also have FMA; ARM, POWER and IBM Z vectors all fuse.
_CAPABILITIES = {"AVX512": ("AVX-512", 16, True), "AVX2": ("AVX2", 8, True),
                 "SVE256": ("SVE-256", 8, True), "VSX": ("VSX", 4, True),
                 "ZVECTOR": ("ZVECTOR", 4, True)}


def cpu_info() -> CpuInfo:
    """This machine's CPU: model, physical cores, logical CPUs, clock and vector units.

    The vector level is torch's own (`torch.backends.cpu.get_cpu_capability()`: the kernels
    torch picked for this CPU, lowered if `ATEN_CPU_CAPABILITY` says so). What torch does not
    report is read from the operating system (/proc/cpuinfo, /sys): the model name, physical
    cores (`os.cpu_count()` counts hyper-threads), the clock, the family, and the 16-bit units
    (AVX-512 bf16/fp16, AMX) that torch exposes only through private functions.
    """
    blocks = _cpuinfo_fields()
    threads = os.cpu_count() or 1
    first = blocks[0] if blocks else {}
    flags = frozenset((first.get("flags") or first.get("Features") or "").split())
    cores = len({(b.get("physical id", "0"), b.get("core id", str(i))) for i, b in enumerate(blocks)})
    cores = cores or threads
    ghz = None
    base = Path("/sys/devices/system/cpu/cpu0/cpufreq/base_frequency")
    if base.exists():
        ghz = int(base.read_text()) / 1e6
    elif first.get("cpu MHz"):
        ghz = float(first["cpu MHz"]) / 1e3
    capability = torch.backends.cpu.get_cpu_capability()
    if capability in _CAPABILITIES:
        simd, lanes, fma = _CAPABILITIES[capability]
    elif platform.machine().lower() in ("arm64", "aarch64"):
        simd, lanes, fma = "NEON", 4, True              # every 64-bit ARM core has NEON
    else:                                               # "DEFAULT"/"NO AVX": 128-bit SSE
        simd, lanes, fma = "SSE", 4, "fma" in flags
    model = first.get("model name") or platform.processor() or platform.machine()
    keys = (("vendor_id", "cpu family", "model") if "vendor_id" in first
            else ("CPU implementer", "CPU architecture", "CPU part"))
    family = tuple(first.get(key, "") for key in keys)
    return CpuInfo(model, cores, threads, ghz, simd, lanes, fma, flags, family)


def gpu_info(device: torch.device | str) -> dict[str, object]:
    """Name, memory, compute capability and multiprocessor count of a CUDA device."""
    device = torch.device(device)
    if device.type != "cuda":
        raise ValueError(f"gpu_info needs a CUDA device, got {device}")
    props = torch.cuda.get_device_properties(device.index if device.index is not None
                                             else torch.cuda.current_device())
    return {"name": props.name, "memory_gib": round(props.total_memory / 2**30, 1),
            "capability": f"{props.major}.{props.minor}", "multiprocessors": props.multi_processor_count}


def supported_precisions(device: torch.device | str) -> dict[str, str | None]:
    """The formats chapter 10 times on `device`: precision -> None, or why it is skipped.

    fp32 everywhere. On CUDA: tf32 and bf16 from Ampere (compute capability 8.0), fp16 from
    Pascal (6.0: a P100 multiplies fp16 at twice its fp32 rate; 6.1 cards run it, slowly,
    which the timing shows). On a CPU or MPS bf16 and fp16 are timed too: a CPU without 16-bit
    units converts them, and chapter 10 shows what that costs. Which format *training* uses
    is `demystify.autocast_dtype`'s answer, always one listed here as supported (it also needs
    tensor cores, Volta 7.0 on, and keeps fp32 on CPU and MPS).
    """
    device = torch.device(device)
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        ampere = None if major >= 8 else "needs tensor cores of an Ampere (compute capability 8.0) or newer GPU"
        return {"fp32": None, "tf32": ampere, "bf16": ampere,
                "fp16": None if major >= 6 else "no fast fp16 before Pascal (compute capability 6.0)"}
    if device.type == "mps":
        return {"fp32": None, "tf32": "TF32 is an NVIDIA tensor-core format", "bf16": None, "fp16": None}
    return {"fp32": None, "tf32": "TF32 is an NVIDIA tensor-core format; CPUs have no such mode",
            "bf16": None, "fp16": None}


def synchronize(device: torch.device | str) -> None:
    """Wait until the device has finished all queued work (a no-op on the CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


# The clocks time_call can read: the wall clock, or the processor time of the calling thread
# (time a busy machine slices away from the thread is not counted).
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "thread": time.thread_time}


@dataclass(frozen=True)
class Timing:
    """What time_call measured: the median seconds of one call, and how it was measured."""
    seconds: float        # median seconds per call
    iqr: float            # interquartile range of the seconds per call (0 for a single call)
    calls: int            # calls timed (warm-up calls excluded)
    clock: str            # "wall" or "thread"
    measurement: benchmark.Measurement = field(repr=False)   # torch's record of the raw times
    result: object = field(default=None, repr=False)          # what the last call returned


def _positive_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return value


def time_call(fn: Callable[[], object], device: torch.device | str = "cpu", *,
              clock: str = "wall", warmup: int = 1, min_time: float = 0.2,
              calls: int | None = None, threads: int | None = None) -> Timing:
    """Time `fn()` the way chapter 10 teaches: warm up, synchronise, report the median.

    Built on `torch.utils.benchmark.Timer`. Its clock waits for `device` to finish its queued
    work before every reading (GPU work is asynchronous) and is either the wall clock
    (`clock="wall"`, the default) or the calling thread's processor time (`clock="thread"`,
    `time.thread_time`: on a busy machine the time other programs take is not counted; CPU
    only, and one torch thread only, since it does not see other threads' work).

    `warmup` untimed calls run first. Then, with `calls=None`, `blocked_autorange` repeats
    `fn` in blocks for at least `min_time` seconds (it also makes a few untimed calls to size
    the blocks); with `calls=n`, exactly `n` calls are timed one by one (`calls=1, warmup=0`
    times ONE call: a training run, or one pass of an interleaved round). torch runs with
    `threads` threads meanwhile (default: the current `torch.get_num_threads()`).

    Example::

        a = torch.randn(256, 256)
        t = time_call(lambda: a @ a, "cpu", min_time=0.1)
        t.seconds, t.iqr                           # median and spread, seconds per call
        run = time_call(lambda: fit(model, data), warmup=0, calls=1)
        run.seconds, run.result                     # one timed call and what it returned
    """
    if not callable(fn):
        raise TypeError(f"time_call needs a function to call, got {type(fn).__name__}: "
                        "wrap the work in a lambda, e.g. time_call(lambda: a @ b)")
    if clock not in CLOCKS:
        raise ValueError(f"unknown clock {clock!r}: use {' or '.join(map(repr, CLOCKS))}")
    warmup = _positive_int("warmup", warmup, 0)
    if calls is not None:
        calls = _positive_int("calls", calls, 1)
    elif not min_time > 0:
        raise ValueError(f"min_time must be > 0 seconds, got {min_time!r}")
    threads = _positive_int("threads", torch.get_num_threads() if threads is None else threads, 1)
    device = torch.device(device)
    if clock == "thread" and (device.type != "cpu" or threads != 1):
        raise ValueError("the thread clock counts only the calling thread's CPU work: use it on "
                         f"the CPU with threads=1 (got {device.type}, {threads} threads), "
                         "else clock='wall'")
    read = CLOCKS[clock]

    def now() -> float:
        synchronize(device)
        return read()

    last: list[object] = [None]

    def call() -> None:
        last[0] = fn()

    with benchmark.set_torch_threads(threads):
        for _ in range(warmup):
            call()
        if calls is None:
            timer = benchmark.Timer("call()", globals={"call": call}, timer=now,
                                    num_threads=threads)
            measured = timer.blocked_autorange(min_run_time=min_time)
        else:
            times = []
            for _ in range(calls):
                begin = now()
                call()
                times.append(now() - begin)
            measured = benchmark.Measurement(1, times, benchmark.TaskSpec(
                "call()", "pass", num_threads=threads))
    timed = measured.number_per_run * len(measured.raw_times)
    return Timing(measured.median, measured.iqr, timed, clock, measured, last[0])


def gpu_specs():
    """data/gpu_specs.csv as a DataFrame: Azure GPU VM series, their GPUs' peaks and sources."""
    import pandas as pd
    from .data import DataCorrupt
    from .tables import read_table

    specs = read_table("gpu_specs.csv")
    missing = [c for c in SPEC_COLUMNS if c not in specs.columns]
    if missing:
        raise DataCorrupt(f"gpu_specs.csv lacks the column(s) {', '.join(missing)}")
    for column in ("fp32_tflops", "tf32_tflops", "fp16_tflops", "bf16_tflops", "bandwidth_gbs",
                   "memory_gb", "gpus_per_vm", "year"):
        specs[column] = pd.to_numeric(specs[column], errors="raise")
    return specs


def match_gpu(name: str, specs) -> dict | None:
    """The first row of `specs` whose `torch_name` pattern matches a torch device name, or None."""
    for _, row in specs.iterrows():
        if re.search(row["torch_name"], name, flags=re.IGNORECASE):
            return row.to_dict()
    return None


def best_precision(row: dict) -> str:
    """The fastest format a GPU row has a peak for: bf16, then fp16, then fp32."""
    for precision in ("bf16", "fp16", "fp32"):
        value = row.get(f"{precision}_tflops")
        if value is not None and value == value:     # not NaN
            return precision
    raise ValueError(f"{row.get('gpu', 'this GPU')} has no peak in the table")


# One chapter's row of bench/results-<kind>.json, as `bench/run_chapters.py --bench` writes it.
BENCH_FIELDS = ("chapter", "measured", "wall_s", "budget_s", "cpu_s", "peak_rss_mib",
                "gpu_peak_mib", "profile", "device", "status")


def read_bench(path: str | Path) -> dict:
    """A bench results file (JSON: `profile`, `last_run`, `chapters`: one row per chapter).

    Raises DataCorrupt naming the file, the row and the missing field(s) when it is not
    what `bench/run_chapters.py --bench` writes.
    """
    import json

    from .data import DataCorrupt

    path = Path(path)
    fix = "rerun `make bench` (bench/run_chapters.py --bench) to write it again"
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise DataCorrupt(f"{path} is not JSON ({err}): {fix}") from None
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
        raise DataCorrupt(f"{path} has no list of 'chapters': {fix}")
    for i, row in enumerate(data["chapters"]):
        missing = [name for name in BENCH_FIELDS if not isinstance(row, dict) or name not in row]
        if missing:
            which = row.get("chapter", f"row {i}") if isinstance(row, dict) else f"row {i}"
            raise DataCorrupt(f"{path}: {which} lacks {', '.join(missing)}: {fix}")
    return data


def bench_results(kind: str = "cpu", root: str | Path | None = None):
    """The chapters that ran ok in bench/results-<kind>.json (written by `make bench`), as a
    DataFrame with the columns BENCH_FIELDS; empty if there is no such file yet."""
    import pandas as pd

    if kind not in ("cpu", "gpu"):
        raise ValueError(f"kind must be 'cpu' or 'gpu', got {kind!r}")
    root = Path(root) if root else Path(__file__).resolve().parent.parent
    path = root / "bench" / f"results-{kind}.json"
    if not path.exists():
        return pd.DataFrame(columns=list(BENCH_FIELDS))
    frame = pd.DataFrame(read_bench(path)["chapters"], columns=list(BENCH_FIELDS))
    return frame[frame["status"] == "ok"].reset_index(drop=True)
