import os
import random

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn as nn

from demystify import (batches, evaluate, fit, plot_attention, plot_history, predict,
                       seed_everything, show_feature_maps, show_filters, show_images)
from demystify.plot import fingerprint

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


def test_plots_draw_what_they_are_given_and_reject_wrong_shapes():
    x, y = _separable()
    history = fit(nn.Linear(2, 2), (x, y), (x, y), epochs=2, progress=False)
    loss, accuracy = fingerprint(plot_history({"linear": history}))
    assert loss["lines"] == accuracy["lines"] == [2, 2]          # train and val, 2 epochs each
    assert loss["mean"] == pytest.approx(
        (sum(history["train_loss"] + history["val_loss"]) + 2 * (1 + 2)) / 8, rel=1e-5)
    images = fingerprint(show_images(torch.rand(5, 1, 8, 8), labels=list("abcde"), ncols=3))
    assert [a["images"] for a in images] == [[[8, 8]]] * 5 + [[]]    # 2 x 3 grid, 5 images
    assert [a["images"] for a in fingerprint(show_filters(torch.randn(6, 1, 5, 5)))] == \
        [[[5, 5]]] * 6
    assert [a["images"] for a in fingerprint(show_feature_maps(torch.rand(1, 4, 6, 6)))] == \
        [[[6, 6]]] * 4
    weights = torch.rand(2, 3)
    (attention,) = fingerprint(plot_attention(weights, ["q1", "q2"], ["a", "b", "c"]))
    assert (attention["images"], attention["texts"]) == ([[2, 3]], 6)    # each weight printed
    assert attention["mean"] == pytest.approx(weights.mean().item(), rel=1e-5)
    with pytest.raises(ValueError, match="conv weights"):
        show_filters(torch.randn(6, 5, 5))
    with pytest.raises(ValueError, match="does not match"):
        plot_attention(torch.rand(2, 3), ["q1"], ["a", "b", "c"])
    with pytest.raises(ValueError, match="non-empty batch"):
        show_images(torch.rand(0, 8, 8))
    plt.close("all")


def test_fit_takes_the_learning_rate_from_lr_or_from_the_optimizer_never_both():
    x, y = _separable()
    runs = []
    for lr in (None, 1e-3, 0.1):     # no lr= trains with Adam at 1e-3
        model = nn.Linear(2, 2)
        model.load_state_dict(_init())
        fit(model, (x, y), epochs=1, lr=lr, progress=False, seed=0)
        runs.append(model.weight.detach().clone())
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[1], runs[2])
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    with pytest.raises(ValueError, match=r"fit\(lr=0.1\) would be ignored.*\(0.05\)"):
        fit(model, (x, y), epochs=1, lr=0.1, optimizer=optimizer, progress=False)
    fit(model, (x, y), epochs=1, lr=0.05, optimizer=optimizer, progress=False)  # agrees: fine


def _init():
    torch.manual_seed(3)
    return nn.Linear(2, 2).state_dict()


def test_seed_everything_leaves_the_environment_alone(monkeypatch):
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    seed_everything(5)         # the hash salt is fixed at start-up: setting it would mislead
    assert "PYTHONHASHSEED" not in os.environ
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(5)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    with pytest.raises(ValueError, match="integer from 0"):
        seed_everything(-1)


def test_plot_heatmap_and_count_parameters():
    from demystify import count_parameters, plot_heatmap
    (heatmap,) = fingerprint(plot_heatmap(torch.rand(2, 3), ["w1", "w2"], ["a", "b", "c"]))
    assert (heatmap["images"], heatmap["texts"]) == ([[2, 3]], 6)
    with pytest.raises(ValueError):
        plot_heatmap(torch.rand(2, 3), ["w1"], ["a", "b", "c"])
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    model[0].weight.requires_grad_(False)
    assert count_parameters(model) == 6 + 2 + 2 + 1
    assert count_parameters(model, trainable_only=True) == 2 + 2 + 1


def test_fit_lr_is_compared_with_the_rate_a_scheduler_started_from():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    optimizer.step(); scheduler.step()                  # the group's lr is now 0.05
    fit(model, (x, y), epochs=1, optimizer=optimizer, lr=0.1, progress=False)  # its rate
    with pytest.raises(ValueError, match=r"fit\(lr=0.05\) would be ignored"):
        fit(model, (x, y), epochs=1, optimizer=optimizer, lr=0.05, progress=False)
