import pytest
import torch

from demystify import autocast, describe_hardware, get_device, profile, start
from demystify.profile import BUDGETS, Profile


def test_default_device_is_available_one(monkeypatch):
    monkeypatch.delenv("DEMYSTIFY_DEVICE", raising=False)   # the automatic choice
    device = get_device()
    assert device.type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available() and not torch.backends.mps.is_available():
        assert device.type == "cpu"


def test_environment_overrides_device(monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


@pytest.mark.parametrize("name", ["gpu", "tpu:0", "banana", "cuda:x"])
def test_unknown_device_names_the_valid_choices(name):
    with pytest.raises(ValueError, match="cpu, cuda, cuda:N or mps"):
        get_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_cuda_says_use_cpu():
    with pytest.raises(ValueError, match="no CUDA GPU; use cpu"):
        get_device("cuda")


def test_autocast_is_a_no_op_on_cpu():
    with autocast("cpu"):
        y = torch.ones(2, 2) @ torch.ones(2, 2)
    assert y.dtype == torch.float32


def test_banner_names_device_and_torch():
    line = describe_hardware("cpu")
    assert "device cpu" in line and torch.__version__ in line and "\n" not in line


def test_profile_follows_device_and_override(monkeypatch):
    assert profile("01_ml_vs_dl", "cpu").kind == "cpu"
    monkeypatch.setenv("DEMYSTIFY_PROFILE", "gpu")
    p = profile("01_ml_vs_dl", "cpu")
    assert p.kind == "gpu" and p.budget_s == BUDGETS["01_ml_vs_dl"]["budget_s"]["gpu"]


def test_bad_profile_value_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_PROFILE", "fast")
    with pytest.raises(ValueError, match="use cpu or gpu"):
        profile("01_ml_vs_dl", "cpu")


def test_unknown_chapter_lists_known_ones():
    with pytest.raises(ValueError, match="01_ml_vs_dl"):
        profile("99_nope")


def test_profile_sizes_read_as_attributes_and_keys():
    p = profile("01_ml_vs_dl", "cpu")
    assert isinstance(p, Profile) and p.cnn_epochs == p["cnn_epochs"]
    with pytest.raises(AttributeError, match="has no size 'epochz'"):
        p.epochz


def test_every_chapter_has_both_profiles_with_the_same_sizes():
    for chapter, entry in BUDGETS.items():
        assert set(entry["budget_s"]) == {"cpu", "gpu"}, chapter
        assert set(entry["cpu"]) == set(entry["gpu"]), chapter
        for key, cpu_value in entry["cpu"].items():     # a number stays a number, a list a list
            gpu_value = entry["gpu"][key]
            numbers = (int, float)
            same_kind = (isinstance(cpu_value, numbers) and isinstance(gpu_value, numbers)
                         and isinstance(cpu_value, bool) == isinstance(gpu_value, bool)
                         or type(cpu_value) is type(gpu_value))
            assert same_kind, f"{chapter}.{key}: cpu {cpu_value!r} vs gpu {gpu_value!r}"


def test_start_seeds_and_prints_one_banner(capsys, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_DEVICE", "cpu")
    device, p = start("01_ml_vs_dl", seed=3)
    first = torch.rand(1)
    start("01_ml_vs_dl", seed=3)
    assert torch.equal(first, torch.rand(1))
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and "profile cpu" in out[0] and device.type == "cpu"


def test_mixed_precision_type_is_none_on_cpu():
    from demystify import autocast_dtype
    assert autocast_dtype("cpu") is None


@pytest.mark.parametrize("capability, gpu, expected", [
    ((3, 7), "K80", None), ((6, 0), "P100", None), ((6, 1), "P40", None),
    ((7, 0), "V100", torch.float16),
    ((7, 5), "T4", torch.float16), ((8, 0), "A100", torch.bfloat16),
    ((8, 6), "A10", torch.bfloat16), ((9, 0), "H100", torch.bfloat16)])
def test_mixed_precision_type_follows_the_gpu(monkeypatch, capability, gpu, expected):
    """bf16 from Ampere (compute capability 8.0) on, fp16 on Volta and Turing (7.x), none
    (fp32) before them: Pascal's fp16 is slow; the capability asked for is the device's."""
    from demystify import autocast_dtype
    asked = []
    monkeypatch.setattr(torch.cuda, "get_device_capability",
                        lambda device=None: asked.append(device) or capability)
    assert autocast_dtype("cuda:1") == expected, gpu
    assert asked == [torch.device("cuda:1")]


def test_mixed_precision_type_is_none_on_mps(monkeypatch):
    from demystify import autocast_dtype
    monkeypatch.setattr(torch.cuda, "get_device_capability",
                        lambda device=None: pytest.fail("asked a CUDA capability for MPS"))
    assert autocast_dtype("mps") is None


def test_start_runs_small_models_on_one_cpu_thread(monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_DEVICE", "cpu")
    before = torch.get_num_threads()
    try:
        start("01_ml_vs_dl")
        assert torch.get_num_threads() == 1
        torch.set_num_threads(before)
        start("01_ml_vs_dl", cpu_threads=None)
        assert torch.get_num_threads() == before
        with pytest.raises(ValueError, match="at least 1"):
            start("01_ml_vs_dl", cpu_threads=0)
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("name", ["meta", "xla", " CUDA:1 ", torch.device("meta"), 3])
def test_one_check_of_device_names(name):
    """as_device reads every name get_device and the device helpers take: the same errors."""
    from demystify.device import as_device
    if name == " CUDA:1 ":
        assert as_device(name) == torch.device("cuda:1")      # read, not checked for presence
        return
    error = TypeError if name == 3 else ValueError
    for call in (as_device, get_device, describe_hardware, autocast):
        with pytest.raises(error, match="cpu, cuda, cuda:N or mps|string such as 'cpu'"):
            call(name)
