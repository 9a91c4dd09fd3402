"""demystify.hardware: CPU peak arithmetic, the timer, the GPU table, the bench results."""
import json
import os
import time

import pandas as pd
import pytest
import torch

from demystify.data import DataCorrupt
from demystify.hardware import (BENCH_FIELDS, PRECISIONS, CpuInfo, best_precision,
                                bench_results, cpu_info, gpu_specs, match_gpu,
                                supported_precisions, time_call)

# The Azure GPU series chapter 10 promises, and the GPU each runs.
AZURE_SERIES = {"NC": "K80", "NCv2": "P100", "NCv3": "V100", "NDv2": "V100", "NCasT4_v3": "T4",
                "ND A100 v4": "A100", "NC A100 v4": "A100", "ND H100 v5": "H100",
                "NCads H100 v5": "H100", "ND H200 v5": "H200", "ND MI300X v5": "MI300X"}


def fake_cpu(flags=(), ghz=2.0, cores=4, lanes=16):
    return CpuInfo("test CPU", cores, cores * 2, ghz, "AVX-512", lanes, True, frozenset(flags))


def test_cpu_peak_is_cores_times_clock_times_flops_per_cycle():
    cpu = fake_cpu()
    assert cpu.flops_per_cycle("fp32") == 64                       # 2 units × 16 lanes × FMA
    assert cpu.peak_tflops("fp32") == pytest.approx(4 * 2.0 * 64 / 1e3)
    assert "4 cores × 2.00 GHz × 64 FLOP/cycle" in cpu.explain("fp32")
    assert cpu.flops_per_cycle("tf32") is None and cpu.peak_tflops("tf32") is None
    assert fake_cpu({"avx512_bf16"}).flops_per_cycle("bf16") == 128
    assert fake_cpu({"amx_bf16"}).flops_per_cycle("bf16") == 1024
    assert fake_cpu().flops_per_cycle("fp16") == 64                # no fp16 unit: fp32 rate
    assert fake_cpu(ghz=None).peak_tflops("fp32") is None
    assert "unknown" in fake_cpu(ghz=None).explain("fp32")


def test_unknown_precision_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown precision 'fp8'.*fp32"):
        fake_cpu().flops_per_cycle("fp8")


def test_this_cpu_is_described():
    cpu = cpu_info()
    assert 1 <= cpu.cores <= cpu.threads == os.cpu_count() and cpu.model
    capability = torch.backends.cpu.get_cpu_capability()          # torch's word, not /proc's
    assert cpu.fp32_lanes == {"AVX512": 16, "AVX2": 8, "SVE256": 8}.get(capability, 4)
    assert supported_precisions("cpu")["tf32"] is not None        # skipped, with a reason
    assert supported_precisions("cpu")["fp32"] is None


@pytest.mark.parametrize("capability, machine, flags, expected", [
    ("AVX512", "x86_64", "", ("AVX-512", 16, True)), ("AVX2", "x86_64", "", ("AVX2", 8, True)),
    ("DEFAULT", "x86_64", "sse2 fma", ("SSE", 4, True)), ("NO AVX", "x86_64", "sse2", ("SSE", 4, False)),
    ("DEFAULT", "aarch64", "asimd", ("NEON", 4, True)), ("SVE256", "aarch64", "", ("SVE-256", 8, True))])
def test_vector_units_come_from_torch(monkeypatch, capability, machine, flags, expected):
    import demystify.hardware as hardware
    proc = [{"model name": "Test CPU", "flags": flags, "vendor_id": "GenuineTest",
             "cpu family": "6", "model": "85", "physical id": "0", "core id": str(i)}
            for i in (0, 1, 0, 1)]                       # 2 cores, 2 hyper-threads each
    monkeypatch.setattr(hardware, "_cpuinfo_fields", lambda: proc)
    monkeypatch.setattr(hardware.torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.setattr(hardware.platform, "machine", lambda: machine)
    cpu = hardware.cpu_info()
    assert (cpu.simd, cpu.fp32_lanes, cpu.fma) == expected   # AVX2 with no 'avx2' flag: torch's word
    assert cpu.model == "Test CPU" and cpu.cores == 2
    assert cpu.family == ("GenuineTest", "6", "85")


def test_an_arm_cpu_is_named_by_implementer_architecture_and_part(monkeypatch):
    # no vendor_id/cpu family/model on ARM: the claims record still tells two CPUs apart
    import demystify.hardware as hardware
    proc = [{"processor": str(i), "Features": "fp asimd", "CPU implementer": "0x41",
             "CPU architecture": "8", "CPU part": "0xd0c"} for i in (0, 1)]
    monkeypatch.setattr(hardware, "_cpuinfo_fields", lambda: proc)
    monkeypatch.setattr(hardware.platform, "machine", lambda: "aarch64")
    assert hardware.cpu_info().family == ("0x41", "8", "0xd0c")       # Arm Neoverse N1
    monkeypatch.setattr(hardware, "_cpuinfo_fields", lambda: [])      # macOS: unnamed
    assert hardware.cpu_info().family == ("", "", "")


def test_time_call_times_exact_calls_on_the_wall_clock():
    calls = []

    def nap():
        calls.append(torch.get_num_threads())
        time.sleep(0.03)
        return len(calls)

    before = torch.get_num_threads()
    torch.set_num_threads(2)           # differs from threads=1, so a missing restore shows
    try:
        timing = time_call(nap, "cpu", warmup=2, calls=3, threads=1)
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert len(calls) == 5 and timing.calls == 3 and timing.clock == "wall"
    assert 0.029 <= timing.seconds < 0.3                 # the sleep, measured
    assert timing.result == 5                            # what the last call returned
    assert calls == [1] * 5 and after == 2               # threads set, then restored
    assert len(timing.measurement.raw_times) == 3


def test_time_call_reports_the_median_not_the_mean():
    naps = iter([0.2, 0.01, 0.01])                       # one slow call among fast ones
    timing = time_call(lambda: time.sleep(next(naps)), "cpu", warmup=0, calls=3)
    assert 0.009 <= timing.seconds < 0.05                # the mean would be above 0.07


def test_thread_clock_does_not_count_sleeping():
    timing = time_call(lambda: time.sleep(0.05), "cpu", clock="thread", warmup=0, calls=1,
                       threads=1)
    assert timing.calls == 1 and timing.iqr == 0 and timing.seconds < 0.02
    busy = time_call(lambda: sum(range(300_000)), "cpu", clock="thread", warmup=0, calls=1,
                     threads=1)
    assert busy.seconds > 0.001                          # work, unlike sleep, is counted


def test_time_call_autorange_repeats_for_min_time():
    calls = []
    timing = time_call(lambda: (calls.append(1), time.sleep(0.002)), "cpu", min_time=0.05)
    assert 0.0019 <= timing.seconds < 0.05
    assert timing.calls == timing.measurement.number_per_run * len(timing.measurement.raw_times)
    assert len(calls) >= 1 + timing.calls and timing.calls * timing.seconds >= 0.04


def test_time_call_waits_for_the_device_before_every_clock_reading(monkeypatch):
    import demystify.hardware as hardware
    synced = []
    monkeypatch.setattr(hardware, "synchronize", lambda device: synced.append(str(device)))
    hardware.time_call(lambda: None, "cuda:0", warmup=0, calls=3)
    assert synced == ["cuda:0"] * 6                      # before and after each timed call


@pytest.mark.parametrize("kwargs, message", [
    ({"clock": "cpu"}, "unknown clock 'cpu'"), ({"warmup": -1}, "warmup must be"),
    ({"calls": 0}, "calls must be"), ({"calls": 1.5}, "calls must be"),
    ({"min_time": 0}, "min_time must be"), ({"threads": 0}, "threads must be"),
    ({"clock": "thread", "threads": 2}, "thread clock"),
    ({"clock": "thread", "threads": 1, "device": "cuda"}, "thread clock")])
def test_time_call_rejects_bad_arguments(kwargs, message):
    kwargs = {"device": "cpu", **kwargs}
    with pytest.raises(ValueError, match=message):
        time_call(lambda: None, kwargs.pop("device"), **kwargs)
    with pytest.raises(TypeError, match="wrap the work in a lambda"):
        time_call(42, "cpu")


def test_gpu_table_lists_every_azure_series_with_sources():
    specs = gpu_specs()
    assert dict(zip(specs["series"], specs["gpu"])).keys() == AZURE_SERIES.keys()
    for _, row in specs.iterrows():
        assert AZURE_SERIES[row["series"]] in row["gpu"]
        assert row["gpu_source"].startswith("https://") and row["azure_source"].startswith("https://")
        assert row["fp32_tflops"] > 0 and row["bandwidth_gbs"] > 0 and row["gpus_per_vm"] >= 1
        assert row["status"] in ("available", "retired")
        tensor = [row[f"{p}_tflops"] for p in ("tf32", "fp16", "bf16") if pd.notna(row[f"{p}_tflops"])]
        assert all(value > row["fp32_tflops"] for value in tensor) or row["gpu"].startswith("AMD")
    assert set(specs.loc[specs["status"] == "retired", "series"]) == {"NC", "NCv2", "NCv3"}


@pytest.mark.parametrize("torch_name, series", [
    ("NVIDIA H100 80GB HBM3", "ND H100 v5"), ("NVIDIA H100 NVL", "NCads H100 v5"),
    ("NVIDIA H200", "ND H200 v5"), ("NVIDIA A100-SXM4-40GB", "ND A100 v4"),
    ("NVIDIA A100 80GB PCIe", "NC A100 v4"), ("Tesla V100-PCIE-16GB", "NCv3"),
    ("Tesla V100-SXM2-32GB", "NDv2"), ("Tesla T4", "NCasT4_v3"), ("Tesla K80", "NC"),
    ("Tesla P100-PCIE-16GB", "NCv2"), ("AMD Instinct MI300X", "ND MI300X v5")])
def test_torch_device_names_match_their_rows(torch_name, series):
    assert match_gpu(torch_name, gpu_specs())["series"] == series


def test_unknown_gpus_and_best_precision():
    specs = gpu_specs()
    assert match_gpu("NVIDIA GeForce RTX 4090", specs) is None
    assert match_gpu("Quadro T400", specs) is None
    rows = {row["series"]: row for row in specs.to_dict("records")}
    assert best_precision(rows["ND H100 v5"]) == "bf16"
    assert best_precision(rows["NCasT4_v3"]) == "fp16"
    assert best_precision(rows["NC"]) == "fp32"
    with pytest.raises(ValueError, match="no peak"):
        best_precision({"gpu": "X", "fp32_tflops": float("nan")})


def bench_row(chapter="01_ml_vs_dl", status="ok", **changes):
    row = {"chapter": chapter, "measured": "2026-11-30", "wall_s": 61.5, "budget_s": 90,
           "cpu_s": 60.0, "peak_rss_mib": 900.0, "gpu_peak_mib": None, "profile": "cpu",
           "device": "cpu", "status": status}
    return {**row, **changes}


def write_bench(root, rows):
    (root / "bench").mkdir(exist_ok=True)
    (root / "bench" / "results-cpu.json").write_text(json.dumps(
        {"profile": "cpu", "last_run": {}, "chapters": rows}))


def test_bench_results_read_the_json(tmp_path):
    assert bench_results("cpu", root=tmp_path).empty
    write_bench(tmp_path, [bench_row(), bench_row("02_x", "FAILED: boom")])
    frame = bench_results("cpu", root=tmp_path)
    assert frame["chapter"].tolist() == ["01_ml_vs_dl"] and frame["wall_s"].tolist() == [61.5]
    assert list(frame.columns) == list(BENCH_FIELDS)
    with pytest.raises(ValueError, match="'cpu' or 'gpu'"):
        bench_results("tpu")


@pytest.mark.parametrize("field", BENCH_FIELDS)
def test_bench_results_name_a_missing_field(tmp_path, field):
    row = bench_row()
    del row[field]
    write_bench(tmp_path, [bench_row("00_first"), row])
    which = "row 1" if field == "chapter" else "01_ml_vs_dl"
    with pytest.raises(DataCorrupt, match=f"{which} lacks {field}: rerun `make bench`"):
        bench_results("cpu", root=tmp_path)


def test_bench_results_reject_what_is_not_a_results_file(tmp_path):
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "results-cpu.json").write_text("| chapter | wall s |")
    with pytest.raises(DataCorrupt, match="is not JSON"):
        bench_results("cpu", root=tmp_path)
    (tmp_path / "bench" / "results-cpu.json").write_text("{}")
    with pytest.raises(DataCorrupt, match="no list of 'chapters'"):
        bench_results("cpu", root=tmp_path)


def test_the_committed_bench_results_are_complete():
    frame = bench_results("cpu")
    assert len(frame) == 10 and frame["wall_s"].gt(0).all()


@pytest.mark.parametrize("capability", [(3, 7), (5, 2), (6, 0), (6, 1), (7, 0), (7, 5), (8, 0),
                                        (8, 6), (9, 0), (10, 0)])
def test_training_type_is_one_the_timings_list_as_supported(monkeypatch, capability):
    from demystify import autocast_dtype
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    supported = supported_precisions("cuda")
    chosen = autocast_dtype("cuda")
    names = {torch.bfloat16: "bf16", torch.float16: "fp16"}
    assert chosen is None or supported[names[chosen]] is None         # never an unlisted format
    assert (chosen is torch.bfloat16) == (supported["bf16"] is None)   # bf16 wherever it runs
    assert (chosen is None) == (capability[0] < 7)                      # tensor cores: Volta on
    assert (supported["fp16"] is None) == (capability[0] >= 6)


def test_precisions_map_to_storage_dtypes():
    assert PRECISIONS["tf32"] is torch.float32 and PRECISIONS["bf16"] is torch.bfloat16


def test_importing_the_timers_prints_no_cuda_warning():
    """torch.utils.benchmark imports cpp_extension, whose "No CUDA runtime is found" warning
    landed in the stored outputs of every chapter that times something."""
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-c", "import demystify.hardware"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "CUDA_HOME" not in run.stderr, run.stderr

