"""What this machine is, what it could do at most, and how fast it really runs.

Chapter 10 compares measured throughput with the device's *peak*: for a GPU the datasheet numbers
in data/gpu_specs.csv, for a CPU an estimate from cores × clock × SIMD width. The timers here
warm up first, synchronise the device before reading the clock (GPU work is asynchronous) and
report the median of several timed blocks.
"""
from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

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
    """The facts a CPU peak estimate needs, read from the operating system."""
    model: str
    cores: int                    # physical cores
    threads: int                  # logical CPUs (hyper-threads included)
    ghz: float | None             # nominal clock; None when the OS does not say
    simd: str                     # widest vector unit: "AVX-512", "AVX2", "AVX", "NEON", "SSE"
    fp32_lanes: int               # fp32 numbers per vector register
    fma: bool                     # fused multiply-add: 2 FLOPs per lane per instruction
    flags: frozenset[str] = field(default_factory=frozenset)

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


def cpu_info() -> CpuInfo:
    """This machine's CPU: model, physical cores, logical CPUs, clock and vector units."""
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
    if {"avx512f"} <= flags:
        simd, lanes = "AVX-512", 16
    elif "avx2" in flags:
        simd, lanes = "AVX2", 8
    elif "avx" in flags:
        simd, lanes = "AVX", 8
    elif "asimd" in flags or platform.machine() in ("arm64", "aarch64"):
        simd, lanes = "NEON", 4
    else:
        simd, lanes = "SSE", 4
    fma = "fma" in flags or simd == "NEON"
    model = first.get("model name") or platform.processor() or platform.machine()
    return CpuInfo(model, cores, threads, ghz, simd, lanes, fma, flags)


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
    """precision -> None where this device runs it natively, else the reason it is skipped."""
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


@dataclass(frozen=True)
class Timing:
    """The median wall and CPU seconds of one call, and how many cores the process really got."""
    seconds: float        # median wall-clock seconds per call
    cpu_seconds: float    # median process CPU seconds per call (all threads together)
    calls: int
    cpu_busy: float       # process CPU seconds / wall seconds while timing (≈ cores used)

    def own_cores_seconds(self, threads: int | None = None) -> float:
        """The wall time a CPU call would take on its own cores: CPU seconds ÷ threads.

        On a machine shared with other programs the wall time depends on who else runs; the CPU
        time does not (time-slicing away is not counted), so this is the steadier number.
        """
        threads = threads or torch.get_num_threads()
        return self.cpu_seconds / threads


def time_call(fn: Callable[[], object], device: torch.device | str, *, warmup: int = 1,
              min_time: float = 0.2, min_calls: int = 3, max_calls: int = 10_000) -> Timing:
    """Time `fn()` properly: warm-up calls, a device sync around every timed call, the median.

    Calls `fn` at least `min_calls` times and until `min_time` seconds have passed.
    """
    if min_calls < 1 or warmup < 0:
        raise ValueError(f"need min_calls ≥ 1 and warmup ≥ 0, got {min_calls} and {warmup}")
    for _ in range(warmup):
        fn()
    synchronize(device)
    times, cpu_times, wall0, cpu0 = [], [], time.perf_counter(), time.process_time()
    while len(times) < min_calls or (sum(times) < min_time and len(times) < max_calls):
        start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    wall = time.perf_counter() - wall0
    return Timing(statistics.median(times), statistics.median(cpu_times), len(times),
                  (time.process_time() - cpu0) / max(wall, 1e-9))


class _Float32Matmul:
    """Set how fp32 matrix multiplies run on CUDA (IEEE fp32 or TF32) and restore it afterwards."""

    def __init__(self, tf32: bool):
        self.tf32 = tf32

    def __enter__(self):
        self.saved = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = self.tf32

    def __exit__(self, *exc):
        torch.backends.cuda.matmul.allow_tf32 = self.saved


def measure_matmul(n: int, precision: str, device: torch.device | str, min_time: float = 0.2
                   ) -> dict[str, float]:
    """TFLOP/s of an n×n by n×n matrix multiply (2n³ FLOPs) and its arithmetic intensity.

    `tflops` is from the wall clock; `tflops_own_cores` on a CPU from the CPU time per call
    (see Timing.own_cores_seconds), on a GPU the same as `tflops`. Intensity is FLOPs per byte
    moved, counting the two inputs and the output once each.
    """
    _check_precision(precision)
    if n < 1:
        raise ValueError(f"matrix size must be positive, got {n}")
    device = torch.device(device)
    dtype = PRECISIONS[precision]
    generator = torch.Generator().manual_seed(n)
    a = torch.randn(n, n, generator=generator).to(device, dtype)
    b = torch.randn(n, n, generator=generator).to(device, dtype)
    with _Float32Matmul(tf32=precision == "tf32"):
        timing = time_call(lambda: a @ b, device, warmup=2, min_time=min_time)
    flops = 2 * n ** 3
    moved = 3 * n * n * a.element_size()
    own = timing.own_cores_seconds() if device.type == "cpu" else timing.seconds
    return {"n": n, "precision": precision, "tflops": flops / timing.seconds / 1e12,
            "tflops_own_cores": flops / max(own, 1e-12) / 1e12, "intensity": flops / moved,
            "seconds": timing.seconds, "cpu_busy": timing.cpu_busy}


def measure_copy(mib: int, device: torch.device | str, min_time: float = 0.2) -> dict[str, float]:
    """Memory bandwidth in GB/s of a device-to-device copy of `mib` MiB (read + write counted).

    `gbs` is from the wall clock, `gbs_own_cores` as in measure_matmul.
    """
    if mib < 1:
        raise ValueError(f"copy size must be at least 1 MiB, got {mib}")
    device = torch.device(device)
    source = torch.empty(mib * 2**20, dtype=torch.uint8, device=device)
    target = torch.empty_like(source)
    timing = time_call(lambda: target.copy_(source), device, warmup=2, min_time=min_time)
    own = timing.own_cores_seconds() if device.type == "cpu" else timing.seconds
    return {"mib": mib, "gbs": 2 * source.numel() / timing.seconds / 1e9,
            "gbs_own_cores": 2 * source.numel() / max(own, 1e-12) / 1e9,
            "seconds": timing.seconds, "cpu_busy": timing.cpu_busy}


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


def bench_results(kind: str = "cpu", root: str | Path | None = None):
    """bench/results-<kind>.md (written by `make bench`) as a DataFrame; empty if not there yet."""
    import pandas as pd

    if kind not in ("cpu", "gpu"):
        raise ValueError(f"kind must be 'cpu' or 'gpu', got {kind!r}")
    root = Path(root) if root else Path(__file__).resolve().parent.parent
    path = root / "bench" / f"results-{kind}.md"
    rows = []
    if path.exists():
        lines = [line for line in path.read_text().splitlines() if line.startswith("|")]
        if lines:
            header = [cell.strip() for cell in lines[0].strip("|").split("|")]
            for line in lines[2:]:
                cells = [cell.strip() for cell in line.strip("|").split("|")]
                if len(cells) == len(header):
                    rows.append(dict(zip(header, cells)))
    if not rows or "wall s" not in rows[0]:
        return pd.DataFrame(columns=["chapter", "wall s", "device", "status"])
    frame = pd.DataFrame(rows)
    frame = frame[frame.get("status", "ok") == "ok"].copy()
    frame["wall s"] = pd.to_numeric(frame["wall s"], errors="coerce")
    return frame.dropna(subset=["wall s"]).reset_index(drop=True)
