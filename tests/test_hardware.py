"""demystify.hardware: CPU peak arithmetic, timers, throughput measurements, the GPU table."""
import pandas as pd
import pytest
import torch

from demystify.hardware import (PRECISIONS, CpuInfo, Timing, best_precision, bench_results,
                                cpu_info, gpu_specs, match_gpu, measure_copy, measure_matmul,
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
    with pytest.raises(ValueError, match="unknown precision"):
        measure_matmul(8, "int4", "cpu")


def test_this_cpu_is_described():
    cpu = cpu_info()
    assert cpu.cores >= 1 and cpu.threads >= cpu.cores
    assert cpu.fp32_lanes in (4, 8, 16) and cpu.model
    assert supported_precisions("cpu")["tf32"] is not None        # skipped, with a reason
    assert supported_precisions("cpu")["fp32"] is None


def test_time_call_warms_up_and_repeats():
    calls = []
    timing = time_call(lambda: calls.append(1), "cpu", warmup=2, min_time=0.0, min_calls=5)
    assert len(calls) == 7 and timing.calls == 5 and timing.seconds >= 0 and timing.cpu_seconds >= 0
    with pytest.raises(ValueError, match="min_calls"):
        time_call(lambda: None, "cpu", min_calls=0)


def test_own_cores_time_is_cpu_time_shared_by_the_threads():
    timing = Timing(seconds=4.0, cpu_seconds=1.0, calls=3, cpu_busy=0.25)   # sliced away 3/4 of the time
    assert timing.own_cores_seconds(threads=2) == 0.5


def test_matmul_and_copy_measurements_are_plausible():
    result = measure_matmul(64, "fp32", "cpu", min_time=0.0)
    assert result["tflops"] > 0 and result["tflops_own_cores"] > 0
    assert result["intensity"] == pytest.approx(2 * 64 / (3 * 4))
    assert measure_matmul(64, "bf16", "cpu", min_time=0.0)["intensity"] == pytest.approx(2 * 64 / 6)
    copy = measure_copy(1, "cpu", min_time=0.0)
    assert copy["gbs"] > 0 and copy["gbs_own_cores"] > 0
    with pytest.raises(ValueError, match="positive"):
        measure_matmul(0, "fp32", "cpu")
    with pytest.raises(ValueError, match="at least 1 MiB"):
        measure_copy(0, "cpu")


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


def test_bench_results_parse_the_markdown_table(tmp_path):
    assert bench_results("cpu", root=tmp_path).empty
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "results-cpu.md").write_text(
        "# Chapter run times\n\n| chapter | wall s | budget s | device | status |\n|---|---:|---:|---|---|\n"
        "| 01_ml_vs_dl | 61.5 | 90 | cpu | ok |\n| 02_x | 12.0 | 90 | cpu | FAILED: boom |\n")
    frame = bench_results("cpu", root=tmp_path)
    assert frame["chapter"].tolist() == ["01_ml_vs_dl"] and frame["wall s"].tolist() == [61.5]
    with pytest.raises(ValueError, match="'cpu' or 'gpu'"):
        bench_results("tpu")


def test_precisions_map_to_storage_dtypes():
    assert PRECISIONS["tf32"] is torch.float32 and PRECISIONS["bf16"] is torch.bfloat16
