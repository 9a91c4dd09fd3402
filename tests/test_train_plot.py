import matplotlib
import pytest
import torch
import torch.nn as nn

from demystify import (batches, evaluate, fit, plot_attention, plot_history, predict,
                       seed_everything, show_feature_maps, show_filters, show_images)

matplotlib.use("Agg")


def _separable(n=200):
    seed_everything(0)
    x = torch.randn(n, 2)
    return x, (x[:, 0] + x[:, 1] > 0).long()


def test_fit_learns_and_records_history():
    x, y = _separable()
    model = nn.Linear(2, 2)
    history = fit(model, (x, y), (x, y), epochs=15, lr=0.05, device=torch.device("cpu"),
                  progress=False)
    assert len(history["train_loss"]) == 15 and history.last("val_accuracy") > 0.95
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert evaluate(model, (x, y))["accuracy"] == pytest.approx(history.last("val_accuracy"))
    assert predict(model, x).shape == (len(x), 2)


def test_fit_is_deterministic_with_a_seed():
    x, y = _separable()
    runs = []
    for _ in range(2):
        seed_everything(1)
        model = nn.Linear(2, 2)
        fit(model, (x, y), epochs=2, device=torch.device("cpu"), progress=False, seed=1)
        runs.append(model.weight.detach().clone())
    assert torch.equal(*runs)


def test_fit_keeps_the_best_validation_epoch_and_uses_the_run_seed():
    x, y = _separable()
    seed_everything(0)
    model = nn.Linear(2, 2)
    noisy_val = (x[:50], 1 - y[:50])        # the worse the model gets, the better it scores
    history = fit(model, (x, y), noisy_val, epochs=6, lr=0.05, device=torch.device("cpu"),
                  progress=False, keep_best=True)
    best = max(range(6), key=lambda e: (history["val_accuracy"][e], -e))
    assert history.best_epoch == best + 1
    assert evaluate(model, noisy_val)["accuracy"] == pytest.approx(history["val_accuracy"][best])
    with pytest.raises(ValueError, match="pass val="):
        fit(model, (x, y), epochs=1, keep_best=True, progress=False)
    runs = []
    for _ in range(2):       # seed=None shuffles with the seed given to seed_everything
        seed_everything(7)
        model = nn.Linear(2, 2)
        fit(model, (x, y), epochs=2, device=torch.device("cpu"), progress=False)
        runs.append(model.weight.detach().clone())
    assert torch.equal(*runs)


def test_fit_accepts_a_dataloader():
    x, y = _separable()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    history = fit(nn.Linear(2, 2), loader, epochs=1, device=torch.device("cpu"), progress=False)
    assert "train_loss" in history.metrics


def test_bad_training_inputs_raise_clear_errors():
    x, y = _separable()
    with pytest.raises(ValueError, match="differ in length"):
        list(batches(x, y[:-1], 8))
    with pytest.raises(ValueError, match="empty"):
        list(batches(x[:0], y[:0], 8))
    with pytest.raises(ValueError, match="at least 1"):
        fit(nn.Linear(2, 2), (x, y), epochs=0, progress=False)
    with pytest.raises(KeyError, match="history has no"):
        fit(nn.Linear(2, 2), (x, y), epochs=1, progress=False)["val_loss"]


def test_plots_return_figures_and_reject_wrong_shapes():
    x, y = _separable()
    history = fit(nn.Linear(2, 2), (x, y), (x, y), epochs=2, progress=False)
    assert plot_history({"linear": history}).axes
    assert show_images(torch.rand(5, 1, 8, 8), labels=list("abcde")).axes
    assert show_filters(torch.randn(6, 1, 5, 5)).axes
    assert show_feature_maps(torch.rand(1, 4, 6, 6)).axes
    assert plot_attention(torch.rand(2, 3), ["q1", "q2"], ["a", "b", "c"]).axes
    with pytest.raises(ValueError, match="conv weights"):
        show_filters(torch.randn(6, 5, 5))
    with pytest.raises(ValueError, match="does not match"):
        plot_attention(torch.rand(2, 3), ["q1"], ["a", "b", "c"])
    with pytest.raises(ValueError, match="non-empty batch"):
        show_images(torch.rand(0, 8, 8))


def test_plot_heatmap_and_count_parameters():
    from demystify import count_parameters, plot_heatmap
    assert plot_heatmap(torch.rand(2, 3), ["w1", "w2"], ["a", "b", "c"]).axes
    with pytest.raises(ValueError):
        plot_heatmap(torch.rand(2, 3), ["w1"], ["a", "b", "c"])
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    model[0].weight.requires_grad_(False)
    assert count_parameters(model) == 6 + 2 + 2 + 1
    assert count_parameters(model, trainable_only=True) == 2 + 2 + 1
