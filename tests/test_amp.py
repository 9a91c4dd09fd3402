"""MixedPrecision: autocast plus a gradient scaler exactly when autocast runs in fp16.

There is no GPU here, so the type decision (`autocast_dtype`) is mocked and the fp16 and bf16
paths run on the CPU, where torch has both autocast and a GradScaler ("cpu"). The same code
runs for real on CUDA in tests/test_gpu.py.
"""
import contextlib
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import demystify
from demystify import MixedPrecision, device as device_module
from demystify.train import fit


@pytest.fixture
def use_dtype(monkeypatch):
    """Make autocast_dtype answer `dtype` for every device, as a GPU of that kind would."""
    def choose(dtype):
        monkeypatch.setattr(device_module, "autocast_dtype", lambda device: dtype)
    return choose


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Linear(8, 3)


def batch(seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(16, 8, generator=generator), torch.randint(3, (16,), generator=generator)


def weights(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_it_is_exported_from_the_package():
    assert demystify.MixedPrecision is MixedPrecision and "MixedPrecision" in demystify.__all__


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, None])
def test_the_scaler_is_on_exactly_for_fp16(use_dtype, dtype):
    use_dtype(dtype)
    amp = MixedPrecision("cpu")
    assert amp.dtype == dtype
    assert amp.scaler.is_enabled() == (dtype == torch.float16)
    scaler = "on" if dtype == torch.float16 else "off"
    assert f"grad scaler {scaler}" in repr(amp)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_autocast_runs_the_forward_pass_in_the_chosen_type(use_dtype, dtype):
    use_dtype(dtype)
    x, _ = batch()
    with MixedPrecision("cpu").autocast():
        assert tiny_model()(x).dtype == dtype


def test_the_real_decision_on_cpu_is_plain_fp32():
    amp = MixedPrecision("cpu")
    x, _ = batch()
    with amp.autocast():
        out = tiny_model()(x)
    assert amp.dtype is None and not amp.scaler.is_enabled() and out.dtype == torch.float32


def test_the_cpu_path_is_exactly_a_plain_step():
    x, y = batch()
    model, reference = tiny_model(), tiny_model()
    amp = MixedPrecision("cpu")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    ref_optimizer = torch.optim.Adam(reference.parameters(), lr=0.1)
    for _ in range(3):
        with amp.autocast():
            loss = F.cross_entropy(model(x), y)
        assert amp.step(loss, optimizer) is True
        ref_optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(reference(x), y).backward()
        ref_optimizer.step()
    assert torch.equal(weights(model), weights(reference))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, None])
def test_a_step_updates_the_parameters_by_the_true_gradient(use_dtype, dtype):
    """SGD with lr 1 moves the weights by exactly minus the unscaled gradient."""
    use_dtype(dtype)
    amp = MixedPrecision("cpu")
    model, x = tiny_model(), batch()[0]
    before = weights(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    with amp.autocast():
        loss = model(x).float().pow(2).mean()
    assert amp.step(loss, optimizer) is True
    reference = tiny_model()
    with amp.autocast():                     # the same forward pass, gradient not scaled
        reference(x).float().pow(2).mean().backward()
    true_gradient = torch.cat([p.grad.flatten() for p in reference.parameters()])
    assert not torch.equal(weights(model), before)
    torch.testing.assert_close(before - weights(model), true_gradient, rtol=1e-3, atol=1e-6)


def test_fp16_scaling_keeps_gradients_that_fp16_would_flush_to_zero(use_dtype):
    """A loss of ~1e-8 per output: its gradient underflows in fp16 unless the loss is scaled."""
    use_dtype(torch.float16)
    x = batch()[0]
    plain = tiny_model()
    with torch.autocast("cpu", dtype=torch.float16):
        (1e-8 * plain(x).float().sum()).backward()
    assert torch.count_nonzero(plain.weight.grad) == 0      # what a bare backward() gets
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    amp = MixedPrecision("cpu")
    with amp.autocast():
        loss = 1e-8 * model(x).float().sum()
    assert amp.step(loss, optimizer) is True
    # The step left the unscaled gradient in .grad (the weights move by less than fp32 shows).
    # The weight gradient of sum(W x + b) is 1e-8 times the sum of the inputs, in every row.
    expected = (1e-8 * x.sum(0)).expand(3, -1)
    assert torch.count_nonzero(model.weight.grad) == model.weight.numel()
    torch.testing.assert_close(model.weight.grad, expected, rtol=2e-2, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, None])
def test_clipping_applies_to_the_true_gradients(use_dtype, dtype):
    """With lr 1, a clipped step moves the weights by exactly the clip norm: had fp16's scaled
    gradients been clipped, the step would be 65,536 (the initial scale) times shorter."""
    use_dtype(dtype)
    amp = MixedPrecision("cpu")
    model, x = tiny_model(), batch()[0]
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    with amp.autocast():
        loss = model(x).float().pow(2).mean()            # gradient norm 0.64, above 0.1
    before = weights(model)
    assert amp.step(loss, optimizer, clip_grad_norm=0.1) is True
    assert (before - weights(model)).norm().item() == pytest.approx(0.1, rel=1e-3)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan")])
def test_a_bad_clip_norm_is_one_clear_error(bad):
    model = tiny_model()
    loss = model(batch()[0]).sum()
    with pytest.raises(ValueError, match="clip_grad_norm must be a positive number"):
        MixedPrecision("cpu").step(loss, torch.optim.SGD(model.parameters(), lr=1.0),
                                   clip_grad_norm=bad)


@pytest.mark.parametrize("poison", [float("inf"), float("nan")])
def test_fp16_skips_a_step_whose_gradients_overflowed(use_dtype, poison):
    use_dtype(torch.float16)
    amp = MixedPrecision("cpu")
    model, x = tiny_model(), batch()[0]
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scale = amp.scaler.get_scale()
    with amp.autocast():
        loss = poison * model(x).float().sum()
    before = weights(model)
    assert amp.step(loss, optimizer) is False
    assert torch.equal(weights(model), before)           # skipped, weights untouched
    assert amp.scaler.get_scale() == scale / 2           # and the scale halved
    with amp.autocast():                                  # the next good step goes through
        loss = model(x).float().pow(2).mean()
    assert amp.step(loss, optimizer) is True and not torch.equal(weights(model), before)


def test_without_fp16_a_poisoned_step_is_taken_as_in_plain_pytorch():
    amp = MixedPrecision("cpu")
    model, x = tiny_model(), batch()[0]
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    assert amp.step(float("nan") * model(x).sum(), optimizer) is True
    assert torch.isnan(weights(model)).all()


def test_fit_steps_through_mixed_precision(use_dtype, monkeypatch):
    """fit() trains with the helper: every batch is one MixedPrecision.step, scaled under fp16."""
    use_dtype(torch.float16)
    steps = []

    class Recording(MixedPrecision):
        def step(self, loss, optimizer, **options):
            steps.append(self.scaler.is_enabled())
            return super().step(loss, optimizer, **options)

    monkeypatch.setattr(demystify.train, "MixedPrecision", Recording)
    x, y = batch()
    model = tiny_model()
    before = copy.deepcopy(model)
    fit(model, (x, y), epochs=2, batch_size=8, device=torch.device("cpu"), progress=False)
    assert steps == [True] * 4
    assert not torch.equal(weights(model), weights(before))


def _autocast_loops_without_scaler(source: str) -> list[str]:
    """Functions that run a forward pass under autocast and call a bare `.backward()` (one
    not on `scaler.scale(...)`): under fp16 their small gradients would underflow."""
    import ast

    def is_autocast(node: ast.expr) -> bool:
        func = node.func if isinstance(node, ast.Call) else None
        return (isinstance(func, ast.Name) and func.id == "autocast"
                or isinstance(func, ast.Attribute) and func.attr == "autocast"
                and not (isinstance(func.value, ast.Name) and func.value.id == "amp"))

    def bare_backward(node: ast.AST) -> bool:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "backward"):
            return False
        target = node.func.value
        return not (isinstance(target, ast.Call) and isinstance(target.func, ast.Attribute)
                    and target.func.attr == "scale")

    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        nodes = list(ast.walk(function))
        uses_autocast = any(isinstance(n, ast.With) and any(is_autocast(i.context_expr)
                                                             for i in n.items) for n in nodes)
        if uses_autocast and any(bare_backward(n) for n in nodes):
            found.append(function.name)
    return found


def test_the_guard_finds_a_bare_backward_under_autocast():
    loop = ("def train(model, x, optimizer):\n"
            "    with autocast(device):\n"
            "        loss = model(x).sum()\n"
            "    loss.backward()\n")
    assert _autocast_loops_without_scaler(loop) == ["train"]
    fixed = loop.replace("with autocast(device)", "with amp.autocast()").replace(
        "loss.backward()", "amp.step(loss, optimizer)")
    assert _autocast_loops_without_scaler(fixed) == []


def test_no_chapter_trains_under_autocast_without_a_gradient_scaler():
    """Every hand-written loop of the chapters that uses autocast steps through
    MixedPrecision (or, as chapter 10's lesson does, its own GradScaler)."""
    from pathlib import Path
    chapters = sorted((Path(__file__).resolve().parents[1] / "chapters").glob("[0-9][0-9]_*.py"))
    assert len(chapters) == 10
    offenders = {p.stem: names for p in chapters
                 if (names := _autocast_loops_without_scaler(p.read_text()))}
    assert not offenders, f"autocast with a bare backward() (use MixedPrecision): {offenders}"


def test_mixed_precision_autocast_is_demystify_autocast(monkeypatch):
    """One autocast: MixedPrecision's forward context is demystify.autocast(device)."""
    asked = []
    monkeypatch.setattr(device_module, "autocast",
                        lambda device: asked.append(device) or contextlib.nullcontext())
    with MixedPrecision("cpu").autocast():
        pass
    assert asked == [torch.device("cpu")]
