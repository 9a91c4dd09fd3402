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
# # 9. Transfer learning and fine-tuning
#
# Training a deep network from scratch needs many labelled examples, and most real problems have
# few. Transfer learning reuses what a network learned on one task, where data was plentiful,
# for another task where it is scarce. In this chapter we pre-train a convolutional network on
# thousands of MNIST digits, save it the way models are shared, and reuse it on a *different*
# collection of handwritten digits, collected from other writers and stored at a far lower
# resolution, from one to twenty labelled examples per class. We compare three ways of reusing
# it with training from scratch and with a classifier that trains nothing, over several random
# draws of the labels, and report each gap with its uncertainty. Then we repeat, in miniature,
# the experiment that showed *which* layers of a network transfer, and export the model so that
# code which has never seen its class can still run it. Every number in the text is measured
# when the chapter runs, and every claim is checked on five random seeds.
#
# **Learning goals**
# - Explain why early-layer features are general and later ones specific to a task
#   {cite:p}`yosinski2014transferable`.
# - Pre-train a CNN, save it as a checkpoint safely (atomic write, safetensors) and load it back.
# - Compare training from scratch, a linear probe on frozen features, full fine-tuning and
#   fine-tuning with a smaller learning rate for the early layers, with the same tuning budget,
#   and a nearest-class-mean baseline, as the number of labels grows.
# - Measure which layers transfer by copying the first *n* layers, frozen or fine-tuned.
# - Export a model (`torch.export`) and verify that the exported copy gives the same outputs.
# - Know when to fine-tune what (dataset size × similarity), and where pre-trained models
#   come from in practice.
#
# **Run time**: about a minute on a 2-core CPU (the stored outputs). The GPU profile (more
# draws, more pre-training, the full MNIST when its files are present) has not been run yet.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "Increasing Re-usability of Deep Learning models" | We save the trained network as a checkpoint and as an exported program, load both back and check they compute the same thing; a helper extracts torchvision's ImageNet ResNet-18 features, batch by batch, when its weights are present (not run here). |
# | "Transfer Learning & Fine-tuning" | We reuse a network trained on MNIST to learn another set of digits from 1 to 20 labels per class, three ways, and measure what each buys over training from scratch and over a nearest-class-mean classifier. |

# %% tags=["hide-input"]
# Bootstrap: opened alone (Colab, an Azure VM), this installs the course's helpers
# with what this chapter needs (`demystify[ch09]`); in a checkout it does nothing.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:
    repository = "git+https://github.com/demystify-dl/demystifying-deep-learning"
    source = os.environ.get("DEMYSTIFY_SOURCE", repository)
    # %pip install -q "demystify[ch09] @ {source}"

# %% [markdown]
# **Official data.** Everything here runs offline on what the course ships. Two things change
# when you allow downloads (run `%env DEMYSTIFY_DOWNLOAD=1` before the setup cell, in Colab
# too) or put the files in the data folder (`DEMYSTIFY_DATA`, see [Setup](../book/setup.md)):
# in the GPU profile the chapter trains on the full MNIST instead of MNIST's 10,000 test digits,
# which ship with the course; and section 9 runs the ImageNet-pre-trained ResNet-18 (45 MB of
# weights) instead of skipping it.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.stats
import torch
import torch.nn as nn
import torch.nn.functional as F

from demystify import (DataNotAvailable, claim, data_dir, evaluate, fit, glue,
                       load_digits, load_handwritten_digits, report, show_feature_maps,
                       show_images, start)
from demystify.weights import (imagenet_features, imagenet_resnet18, load_weights,
                               save_weights)

# `start` seeds everything, picks the device and, on a CPU, runs torch on one thread:
# small networks on small batches waste least time that way, and reruns add in the same
# order.
device, P = start("09_transfer_learning")

# %% [markdown]
# ## 1. Why transfer works
#
# A convolutional network trained on images learns a hierarchy. Its first layer learns small
# edge and blob detectors, much the same whatever the images are; deeper layers combine them into
# parts, and the last layers into the concepts the task asked for. {cite:t}`yosinski2014transferable`
# measured this on ImageNet: features of the first layers are *general*, and transfer to a new
# task almost for free; features of the last layers are *specific* to the classes they were
# trained on, and transfer worse the further the new task is from the old one. That is why
# practitioners take a network pre-trained on a large dataset, keep its lower layers and retrain
# only what must change {cite:p}`donahue2014decaf,razavian2014cnn`.
#
# ## 2. A source task and a related target task
#
# The *source* task is MNIST {cite:p}`lecun1998mnist`: here its 10,000 official test digits,
# which ship with the course, split once into 7,000 for training, 1,000 for validation and
# 2,000 for testing. The *target* task is another collection of handwritten digits, the 1,797
# that ship with scikit-learn {cite:p}`pedregosa2011scikit` (from the UCI repository): other
# writers (43 people), and only 8×8 pixels, each pixel counting the ink in a 4×4 block of a
# 32×32 bitmap. We shrink MNIST to 16×16 and enlarge the 8×8 digits to 12×12 in a 16×16 frame,
# so that both fit one network and a digit fills about as much of its frame in both. The classes
# are the same ten digits, the images are not: a *related but different* task, the usual
# situation of transfer (a network trained on web photos, used on x-rays or on a factory's
# camera). The target digits are split once, with a fixed seed, into a *pool* from which the few
# labelled examples are drawn, a validation set on which every method's learning rate is chosen,
# and a test set read only to report.

# %%
source = load_handwritten_digits(prefer=P.dataset, image_size=P.image_size)
target = load_digits(image_size=P.image_size, margin=P.image_size // 8,
                     val_fraction=0.2)
x_pool, y_pool = target.x_train, target.y_train    # the few labels are drawn from here

# %%
# NBVAL_CHECK_OUTPUT
print(f"source (MNIST): {len(source.x_train):,} training, "
      f"{len(source.x_val):,} validation, {len(source.x_test):,} test digits")
print(f"target (scikit-learn's digits): a pool of {len(x_pool):,} to draw labels from, "
      f"{len(target.x_val)} validation, {len(target.x_test)} test digits; "
      f"all {P.image_size}×{P.image_size}")

# %% mystnb={"figure": {"caption": "Top: source-task digits (MNIST, shrunk to 16\u00d716); bottom: target-task digits (scikit-learn's 8\u00d78 digits, enlarged and framed).", "name": "fig-09-tasks"}, "image": {"alt": "Two rows of eight small grey handwritten digits: the top row sharp MNIST digits, the bottom row blurrier, blockier digits from the 8 by 8 collection."}}
examples = torch.cat([source.x_test[:8], target.x_test[:8]])
labels = ([f"MNIST {d}" for d in source.y_test[:8].tolist()]
          + [f"target {d}" for d in target.y_test[:8].tolist()])
fig = show_images(examples, labels=labels, ncols=8, size=1.0)
plt.show()

# %% [markdown]
# ## 3. Pre-train on the source task
#
# A small CNN with named layers, so that we can later copy or freeze them one by one: three
# convolution blocks (convolution, ReLU, 2×2 max-pooling) that we call the *trunk*, a fully
# connected layer of 128 units, and a classification head.

# %%
def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2))


class SmallCNN(nn.Module):
    """conv1 → conv2 → conv3 → fc → head; named layers, to copy or freeze one by one."""
    LAYERS = ("conv1", "conv2", "conv3", "fc")

    def __init__(self, n_classes: int = 10, size: int = 16):
        super().__init__()
        self.conv1, self.conv2 = conv_block(1, 8), conv_block(8, 16)
        self.conv3 = conv_block(16, 32)
        side = size // 8                        # three poolings halve the size 3 times
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(32 * side * side, 128),
                                nn.ReLU())
        self.head = nn.Linear(128, n_classes)

    def trunk(self, x):                                    # the convolutions' output
        return self.conv3(self.conv2(self.conv1(x)))

    def forward(self, x):
        return self.head(self.fc(self.trunk(x)))


# NBVAL_CHECK_OUTPUT
source_model = SmallCNN(size=P.image_size)
for name, layer in source_model.named_children():
    print(f"{name:<6} {sum(p.numel() for p in layer.parameters()):>7,} parameters")
print(f"total  {sum(p.numel() for p in source_model.parameters()):>7,}")

# %% [markdown]
# We train it on the source digits, keep the epoch with the best validation accuracy, and read
# the source test set once. We also run the trained network, head and all, on the target test
# digits: the classes are the same, so it can answer without seeing a single target label.

# %%
history = fit(source_model, (source.x_train, source.y_train),
              (source.x_val, source.y_val), epochs=P.source_epochs, lr=1e-3,
              batch_size=P.batch_size, device=device, keep_best=True,
              desc="pre-training on MNIST")
source_model.to("cpu").eval()
source_accuracy = evaluate(source_model, (source.x_test, source.y_test))["accuracy"]
zero_shot = evaluate(source_model, (target.x_test, target.y_test))["accuracy"]
glue("source_epochs", P.source_epochs)
claim("source_test_accuracy", source_accuracy, ">= 0.8", tol=0.03,
      says="the source network recognises MNIST digits it never saw")
claim("source_minus_unchanged_on_target", source_accuracy - zero_shot, ">= 0.15",
      tol=0.05, parts={"source": source_accuracy, "target": zero_shot},
      says="the source network, unchanged, is far worse on the target digits")
print(f"MNIST test accuracy {source_accuracy:.3f}; "
      f"the same network on the target test digits {zero_shot:.3f}")

# %% [markdown]
# The network recognises {glue:text}`source_minus_unchanged_on_target__source:.3f`
# of the MNIST test digits (low for MNIST: 7,000 training digits shrunk to 16×16 and
# {glue:text}`source_epochs` epochs; enough for transfer), but only
# {glue:text}`source_minus_unchanged_on_target__target:.3f` of the target digits: the two tasks
# share their classes, not their images, and the network must adapt.
#
# ## 4. Save it, load it back
#
# A trained model is shared as a **checkpoint**: its `state_dict`, the tensors by name, not the
# Python object. We use the *safetensors* format, which stores only tensors and so, unlike a
# pickle, cannot carry code that runs when the file is opened. `save_weights` writes to a
# temporary file and renames it, so an interrupted save never leaves half a checkpoint behind.
# Every target model below starts from the reloaded copy.

# %%
checkpoint = save_weights(source_model,
                          data_dir() / "checkpoints" / "09_source_cnn.safetensors")
pretrained = SmallCNN(size=P.image_size)
state = load_weights(checkpoint, pretrained)    # strict: names and shapes must match
size_kib = checkpoint.stat().st_size / 1024
print(f"{checkpoint.name}: {len(state)} tensors, {size_kib:.0f} KiB")

# %% [markdown]
# ## 5. Transfer with few labels
#
# Now the target task, with only *k* labelled examples of each digit, drawn at random from the
# pool. Four ways to train a network on them, each with a new head (ten outputs, random
# weights), full-batch Adam for up to the same number of steps:
#
# | method | starts from | trains |
# |---|---|---|
# | **from scratch** | random weights | everything |
# | **linear probe** | the pre-trained trunk, frozen | only a linear classifier on the trunk's output |
# | **fine-tune all** | the pre-trained network | everything, at one learning rate |
# | **fine-tune, trunk at lr/10** | the pre-trained network | everything; the convolutions at a tenth of the rate |
#
# The last method protects the general early features from being overwritten by a handful of
# examples while letting the specific later layers adapt {cite:p}`howard2018universal`. Each
# method gets the same tuning budget: two learning rates, of which the target *validation* set
# picks one for each number of labels, and the number of steps, also chosen on validation:
# every run is checked on the validation set at regular intervals and keeps the weights of its
# best check. That set has {glue:text}`target_val_size` labelled digits, far more than the few
# we train on; it is generous, and equally so to every method.
#
# Two more classifiers train nothing: the **nearest class mean** assigns a digit to the class
# whose average training image is closest, on raw **pixels** or on the pre-trained trunk's
# **features**. With one label per class the "class mean" is that one example, so this is a
# nearest-neighbour classifier, the simplest fair baseline for one-shot learning (and the idea
# behind prototypical networks {cite:p}`snell2017prototypical`).

# %%
def draw_labels(k: int, draw: int) -> torch.Tensor:
    """Pool positions of k examples of each digit: draw `draw` of this run's seed."""
    generator = torch.Generator().manual_seed(1000 * P.seed + 10 * k + draw)
    chosen = []
    for c in range(10):
        of_class = torch.nonzero(y_pool == c).squeeze(1)
        chosen.append(of_class[torch.randperm(len(of_class), generator=generator)[:k]])
    return torch.cat(chosen)


def make_model(method: str, lr: float, init: int, copy_layers: int = 4,
               freeze: bool = False):
    """A target model and its optimizer's parameter groups, for one method."""
    torch.manual_seed(init)
    model = SmallCNN(size=P.image_size)
    if method == "from scratch":
        copy_layers = 0
    for name in SmallCNN.LAYERS[:copy_layers]:    # copy the first layers of the source
        getattr(model, name).load_state_dict(getattr(pretrained, name).state_dict())
        getattr(model, name).requires_grad_(not freeze)
    if method == "fine-tune, trunk at lr/10":
        trunk = [p for name in ("conv1", "conv2", "conv3")
                 for p in getattr(model, name).parameters()]
        top = [*model.fc.parameters(), *model.head.parameters()]
        return model, [{"params": trunk, "lr": lr / 10}, {"params": top, "lr": lr}]
    trainable = [p for p in model.parameters() if p.requires_grad]
    return model, [{"params": trainable, "lr": lr}]


def accuracy(model: nn.Module, x, y) -> float:
    at = next(model.parameters()).device
    with torch.no_grad():
        return (model(x.to(at)).argmax(1).cpu() == y).float().mean().item()


def train_few(model: nn.Module, groups, x, y, steps: int = P.steps, val=None):
    """Full-batch Adam on the few labelled examples. With `val` = (x, y), check the
    validation accuracy every `P.eval_every` steps and keep the best step's weights."""
    model.to(device).train()
    optimizer = torch.optim.Adam(groups)
    x, y = x.to(device), y.to(device)
    best = (-1.0, 0, None)                          # validation accuracy, step, weights
    for step in range(1, steps + 1):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if val is not None and step % P.eval_every == 0:
            score = accuracy(model, *val)
            if score > best[0]:                     # ties keep the earlier step
                best = (score, step, {n: t.clone() for n, t in
                                      model.state_dict().items()})
    if val is not None:
        model.load_state_dict(best[2])
        model.best_val, model.best_step = best[0], best[1]
    return model

# %% [markdown]
# The linear probe never changes the trunk, so we compute the trunk's features of every target
# digit once, and train the probe on them; the nearest class mean uses the same features.

# %%
with torch.no_grad():
    trunk_features = {split: pretrained.trunk(x).flatten(1) for split, x in
                      (("pool", x_pool), ("val", target.x_val),
                       ("test", target.x_test))}


def probe(index: torch.Tensor, lr: float, init: int) -> nn.Linear:
    """A linear classifier on the frozen trunk's features, trained like the networks."""
    torch.manual_seed(init)
    head = nn.Linear(trunk_features["pool"].shape[1], 10)
    return train_few(head, [{"params": head.parameters(), "lr": lr}],
                     trunk_features["pool"][index], y_pool[index], steps=P.max_steps,
                     val=(trunk_features["val"], target.y_val))


def nearest_class_mean(train_x, train_y, test_x) -> torch.Tensor:
    means = torch.stack([train_x[train_y == c].mean(0) for c in range(10)])
    return torch.cdist(test_x.flatten(1), means.flatten(1)).argmin(1)


# %% [markdown]
# Every method sees exactly the same labelled examples for a given *k* and draw; this run makes
# {glue:text}`draws` draws for each *k*. A draw's model is scored on the validation set (to pick
# the learning rate) and on the test set (to report).

# %%
from tqdm.auto import tqdm

LR_GRID = {"from scratch": (3e-3, 1e-2), "linear probe": (1e-2, 3e-2),
           "fine-tune all": (1e-3, 3e-3), "fine-tune, trunk at lr/10": (1e-3, 3e-3)}
TRANSFER = ("linear probe", "fine-tune all", "fine-tune, trunk at lr/10")
glue("draws", P.draws)
glue("target_val_size", len(target.x_val))
runs = [(k, method, lr, draw) for k in P.shots for method, grid in LR_GRID.items()
        for lr in grid for draw in range(P.draws)]
records = []
for k, method, lr, draw in tqdm(runs, desc="target runs", mininterval=1):
    index, init = draw_labels(k, draw), 1000 * P.seed + draw
    if method == "linear probe":
        model, x_test = probe(index, lr, init), trunk_features["test"]
    else:
        model = train_few(*make_model(method, lr, init), x_pool[index], y_pool[index],
                          steps=P.max_steps, val=(target.x_val, target.y_val))
        x_test = target.x_test
    records.append(dict(k=k, method=method, lr=lr, draw=draw, val=model.best_val,
                        step=model.best_step,
                        test=accuracy(model.eval(), x_test, target.y_test)))
for k in P.shots:
    for draw in range(P.draws):
        index = draw_labels(k, draw)
        for method, x_train, x_test in (
                ("nearest mean, pixels", x_pool, target.x_test),
                ("nearest mean, features", trunk_features["pool"],
                 trunk_features["test"])):
            predicted = nearest_class_mean(x_train[index], y_pool[index], x_test)
            hits = predicted == target.y_test
            records.append(dict(k=k, method=method, lr=np.nan, draw=draw, val=np.nan,
                                test=hits.float().mean().item()))
records = pd.DataFrame(records)

# %% [markdown]
# For each method and *k*, the learning rate with the best mean validation accuracy over the
# draws is kept; the table shows its mean test accuracy and, beside it, the mean *paired*
# difference from training from scratch on the same draws, ± the half-width of its
# {glue:text}`confidence:.0%` t-interval over the draws: with {glue:text}`draws` draws that is
# {glue:text}`t_factor:.2f` standard errors each side, a wide interval, because so few draws
# say little about their own spread.

# %%
tuned = records[records.method.isin(list(LR_GRID))]
mean_val = tuned.groupby(["k", "method", "lr"])["val"].mean().reset_index()
best_lr = {(r.k, r.method): r.lr for r in mean_val.sort_values("val", ascending=False)
           .drop_duplicates(["k", "method"]).itertuples()}
chosen = records[[(r.k, r.method) not in best_lr or r.lr == best_lr[(r.k, r.method)]
                  for r in records.itertuples()]]
scores = chosen.pivot_table(index=["k", "draw"], columns="method", values="test")
METHODS = ["from scratch", *TRANSFER, "nearest mean, pixels", "nearest mean, features"]
gain = scores[METHODS[1:]].sub(scores["from scratch"], axis=0)     # paired: same draws
confidence = 0.95                                 # a t-interval: P.draws - 1 dof
t_factor = scipy.stats.t.ppf(0.5 + confidence / 2, P.draws - 1)
glue("confidence", confidence), glue("t_factor", t_factor)
two_se = t_factor * gain.groupby("k").std() / np.sqrt(P.draws)
mean, gain_mean = scores.groupby("k").mean()[METHODS], gain.groupby("k").mean()
table = mean.round(3).astype(str)
for method in METHODS[1:]:
    table[method] += [f" ({g:+.3f} ± {s:.3f})"
                      for g, s in zip(gain_mean[method], two_se[method])]
table.index.name = "labels per class"
table.T

# %% [markdown]
# The settings validation chose: for each method and number of labels, the learning rate
# and the median, over the draws, of the step whose weights were kept (every method trains
# up to {glue:text}`max_steps` steps and is checked on validation every
# {glue:text}`eval_every`):

# %%
step = tuned.groupby(["k", "method", "lr"])["step"].median()
settings = pd.DataFrame([dict(method=m, k=k,
                              chosen=f"lr {lr:g}, step {step[k, m, lr]:.0f}")
                         for (k, m), lr in best_lr.items()])
settings = settings.pivot(index="method", columns="k", values="chosen")
settings = settings.loc[list(LR_GRID)]
settings.columns.name = "labels per class"
settings

# %% [markdown]
# Read this table as a limit of our tuning, not a result. For most methods with five and
# twenty labels the chosen rate is the higher of its two, and with twenty labels the kept step
# is often the last one allowed: a higher rate or a longer run might help every method. We
# did not widen the grid or lengthen the runs, to keep the page within its time budget, so
# every method is tuned equally coarsely. The figure shows the accuracies of the table:

# %% mystnb={"figure": {"caption": "Target test accuracy against the number of labelled examples per class: training from scratch (dashed), three ways of reusing the MNIST network, and two nearest-class-mean classifiers (dotted). Bars: t-intervals of the same level as the table's, of each method's mean over the draws of labels, unpaired; differences between methods are judged by the table's paired intervals, which are narrower than these bars suggest.", "name": "fig-09-transfer"}, "image": {"alt": "Line chart of accuracy against labels per class on a logarithmic axis. All curves rise with more labels. At one and five labels the transfer curves and the pixel nearest-mean curve lie above the dashed from-scratch curve; at twenty labels the curves meet."}}
spread = t_factor * scores.groupby("k").std()[METHODS] / np.sqrt(P.draws)
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for i, method in enumerate(METHODS):
    style = "--" if method == "from scratch" else ":" if "nearest" in method else "-"
    ax.errorbar(mean.index, mean[method], yerr=spread[method], marker="o", capsize=3,
                color=f"C{i}", ls=style, label=method)
ax.set_xscale("log")
ax.set_xticks(list(P.shots), [str(k) for k in P.shots])
ax.set(xlabel="labelled examples per class (log scale)", ylabel="target test accuracy")
ax.legend(fontsize=8, loc="lower right")
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# What the draws support, on every one of five seeds:

# %%
one, few, many = P.shots[0], P.shots[1], P.shots[-1]
worst = {k: gain_mean.loc[k, list(TRANSFER)].idxmin() for k in (one, few)}
val_mean = chosen.groupby(["k", "method"])["val"].mean()     # validation picks "best"
best = {k: val_mean.loc[k].loc[list(TRANSFER)].idxmax() for k in (one, few)}
for name, value in (("shots_one", one), ("shots_few", few), ("shots_many", many),
                    ("worst_transfer_1", worst[one]), ("worst_transfer_5", worst[few]),
                    ("best_transfer_1", best[one]), ("best_transfer_5", best[few]),
                    ("max_steps", P.max_steps), ("eval_every", P.eval_every)):
    glue(name, value)
claim("transfer_minus_scratch_1_label", gain_mean.loc[one, worst[one]], ">= 0.05",
      tol=0.03, parts={"worst_transfer": mean.loc[one, worst[one]],
                       "scratch": mean.loc[one, "from scratch"]},
      says=f"with {one} label per class every transfer method beats from scratch")
claim("transfer_minus_scratch_5_labels", gain_mean.loc[few, worst[few]], ">= 0.02",
      tol=0.03, parts={"worst_transfer": mean.loc[few, worst[few]],
                       "scratch": mean.loc[few, "from scratch"]},
      says=f"with {few} labels per class every transfer method still beats scratch")
lead_many = mean.loc[many, list(TRANSFER)].max() - mean.loc[many, "from scratch"]
claim("transfer_lead_shrinks", gain_mean.loc[one, worst[one]] - lead_many, ">= 0.05",
      tol=0.03, parts={"weakest_lead_1": gain_mean.loc[one, worst[one]],
                       "best_lead_20": lead_many},
      says=f"the best lead with {many} labels is 5 points below the weakest with {one}")
claim("probe_lead_20_labels", gain_mean.loc[many, "linear probe"], "< 0.03", tol=0.02,
      says=f"with {many} labels per class the probe leads by less than 3 points")
pixels = "nearest mean, pixels"
claim("pixel_mean_minus_scratch_1_label", gain_mean.loc[one, pixels], ">= 0.03",
      tol=0.03, parts={"pixels": mean.loc[one, pixels],
                       "scratch": mean.loc[one, "from scratch"]},
      says=f"with {one} label per class the nearest mean on pixels beats from scratch")
best_one, best_few = mean.loc[one, best[one]], mean.loc[few, best[few]]
claim("transfer_minus_pixel_mean_1_label", best_one - mean.loc[one, pixels], "< 0.1",
      tol=0.04, parts={"best_transfer": best_one, "pixels": mean.loc[one, pixels]},
      says=f"with {one} label per class the best transfer method is < 10 points above")
claim("transfer_minus_pixel_mean_5_labels", abs(best_few - mean.loc[few, pixels]),
      "< 0.05", tol=0.03, parts={"best_transfer": best_few,
                                 "pixels": mean.loc[few, pixels]},
      says=f"with {few} labels per class the nearest mean on pixels is as good")

# %% [markdown]
# **What to notice.** With {glue:text}`shots_one` label per class, every way of
# reusing the MNIST network beats the same network trained from scratch: even the weakest, the
# {glue:text}`worst_transfer_1:s`, by {glue:text}`transfer_minus_scratch_1_label:.3f`
# ({glue:text}`transfer_minus_scratch_1_label__worst_transfer:.3f` against
# {glue:text}`transfer_minus_scratch_1_label__scratch:.3f`). The pre-trained network starts from
# features that already fit digits; a network trained from scratch on ten examples does not.
# With {glue:text}`shots_few` labels per class every transfer method still leads: the weakest,
# the {glue:text}`worst_transfer_5:s`, by {glue:text}`transfer_minus_scratch_5_labels:.3f`. With
# {glue:text}`shots_many` labels the lead has shrunk: the best transfer method is only
# {glue:text}`transfer_lead_shrinks__best_lead_20:+.3f` from scratch, at least five points less,
# on every seed, than the weakest led by with one label. The linear probe, whose features cannot
# adapt, is {glue:text}`probe_lead_20_labels:+.3f` from scratch (less than three points ahead on
# every seed). Transfer matters most when labels are scarcest.
#
# The nearest class mean is the sobering column. On raw pixels, with nothing trained, it beats
# the CNN trained from scratch on one label per class, on every seed
# ({glue:text}`pixel_mean_minus_scratch_1_label__pixels:.3f` against
# {glue:text}`pixel_mean_minus_scratch_1_label__scratch:.3f` on this run). The transfer method
# with the best validation accuracy, the {glue:text}`best_transfer_1:s`, is
# {glue:text}`transfer_minus_pixel_mean_1_label:+.3f` from it on this run, but less than ten
# points on every seed, and less than one point on two of the five (`bench/robustness.md`):
# against this baseline, transfer's advantage with one label per class is not reliable. With
# {glue:text}`shots_few` labels per class the best by validation, the
# {glue:text}`best_transfer_5:s`, and the pixel nearest mean are within
# {glue:text}`transfer_minus_pixel_mean_5_labels:.3f` of each other. The scikit-learn digits
# are centred and size-normalised by their preprocessing, so a pixel template works unusually
# well on them, while a CNN trained from scratch on ten examples has little to learn from,
# even with its learning rate and its number of steps chosen on validation. Comparing a
# transferred network only with a network trained from scratch would have overstated what
# transfer buys here. The table also shows the nearest class mean on the pre-trained trunk's
# features; we draw no conclusion from that row.
#
# ### When to fine-tune what
#
# The CS231n notes on transfer learning
# ([cs231n.github.io/transfer-learning](https://cs231n.github.io/transfer-learning/)) sum up
# practice along two axes, the size of the new dataset and its similarity to the original one:
# a small, similar dataset calls for a linear classifier on the top features (fine-tuning risks
# overfitting); a large, similar one for fine-tuning the whole network; a small, *different*
# one for a linear classifier on earlier features, which are more general; a large, different
# one for fine-tuning everything, still starting from the pre-trained weights. Our target is
# small and similar. The guide's advice is not contradicted here: a linear probe, on the
# frozen convolutions rather than on the top layer, beats training from scratch with one
# label per class, and with twenty it helps little or not at all. We measured no reliable
# difference between the probe and fine-tuning.
#
# Two practical details matter once networks have **batch normalization**
# {cite:p}`ioffe2015batch` (ours has none). A frozen BatchNorm layer must also be kept in
# evaluation mode (`layer.eval()`, after each `model.train()`): in training mode it would
# normalise with the statistics of each small batch of the new data and update its running
# averages, changing the "frozen" features; with a handful of examples those statistics are
# noise. And with few labels, **augmentation** multiplies them: small shifts (as chapter 1 did
# for MNIST), rotations or crops of each labelled example make the few examples cover more of
# what the test digits look like. We did not augment here, to keep every method on the same data;
# exercise 2 tries it.
#
# ## 6. Which layers transfer?
#
# {cite:t}`yosinski2014transferable` copied the first *n* layers of a network trained on one
# half of ImageNet's classes into a network for the other half, kept them *frozen* or let them
# be *fine-tuned*, and trained the rest from random weights. The same experiment in miniature,
# with our four layers, {glue:text}`yosinski_shots` labels per class, the same draws, and one
# fixed learning rate of 3·10⁻³ and {glue:text}`steps` steps for every variant (neither tuned:
# this is a comparison between variants, not a contest with section 5):

# %%
glue("yosinski_shots", P.yosinski_shots)
glue("steps", P.steps)
yosinski = []
for n in tqdm(range(len(SmallCNN.LAYERS) + 1), desc="copied layers", mininterval=1):
    for freeze in (True, False):
        if n == 0 and freeze:         # nothing copied, nothing to freeze: from scratch
            continue
        for draw in range(P.draws):
            index, init = draw_labels(P.yosinski_shots, draw), 1000 * P.seed + draw
            model, groups = make_model("copy", 3e-3, init, copy_layers=n, freeze=freeze)
            model = train_few(model, groups, x_pool[index], y_pool[index]).eval()
            score = accuracy(model, target.x_test, target.y_test)
            yosinski.append(dict(n=n, mode="frozen" if freeze else "fine-tuned",
                                 draw=draw, accuracy=score))
layers = pd.DataFrame(yosinski).pivot_table(index="n", columns="mode",
                                            values="accuracy")
layers.loc[0, "frozen"] = layers.loc[0, "fine-tuned"]
layers.index = [f"{n}: " + (" + ".join(SmallCNN.LAYERS[:n]) or "none (from scratch)")
                for n in layers.index]
layers.round(3)

# %% mystnb={"figure": {"caption": "Target accuracy when the first n layers are copied from the source network and kept frozen or fine-tuned; the remaining layers start from random weights.", "name": "fig-09-layers"}, "image": {"alt": "Line chart of accuracy against the number of copied layers from 0 to 4: both lines rise as the convolutions are copied; the frozen line dips when the fully connected layer is frozen too."}}
fig, ax = plt.subplots(figsize=(6, 3.4))
for mode, style in (("frozen", "o-"), ("fine-tuned", "s--")):
    ax.plot(range(len(layers)), layers[mode], style, label=f"copied layers {mode}")
ax.set_xticks(range(len(layers)), ["0"] + list(SmallCNN.LAYERS), fontsize=8)
ax.set(xlabel="copied from the source network, up to and including",
       ylabel="target test accuracy")
ax.set_title(f"{P.yosinski_shots} labels per class, mean of {P.draws} draws",
             fontsize=9)
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %%
frozen = layers["frozen"].to_numpy()
claim("frozen_trunk_minus_scratch", frozen[3] - frozen[0], ">= 0.03", tol=0.03,
      parts={"frozen_trunk": frozen[3], "scratch": frozen[0]},
      says="the three convolutions, copied and frozen, beat training from scratch")
claim("frozen_fc_minus_frozen_trunk", frozen[4] - frozen[3], "< 0.01", tol=0.02,
      parts={"frozen_fc": frozen[4], "frozen_trunk": frozen[3]},
      says="freezing the source's fc layer as well does not help")

# %% [markdown]
# **What to notice.** The three convolutions, copied and *frozen*, beat training
# from scratch ({glue:text}`frozen_trunk_minus_scratch__frozen_trunk:.3f` against
# {glue:text}`frozen_trunk_minus_scratch__scratch:.3f`): they are general enough to serve the
# new digits unchanged. Freezing the fully connected layer as well does not help
# ({glue:text}`frozen_fc_minus_frozen_trunk:+.3f`), presumably because it was shaped by MNIST's
# classification and is more *specific* to it. We make no claim about the fine-tuned column: one
# fixed learning rate, not tuned, for copied and new layers alike, which is the situation
# section 5's trunk-at-lr/10 variant avoids. {cite:t}`yosinski2014transferable` found two
# effects on ImageNet: frozen upper layers hurt because they are specific to the old classes,
# and because layers trained together "co-adapt", so cutting between them loses something;
# fine-tuning repairs both. Our network is far smaller and our target far closer to the source,
# so we do not expect effects of the same size; the table shows ours layer by layer.
#
# ## 7. Looking inside: the features a target digit produces
#
# The source network never saw a digit of the target collection, yet its first layers respond
# to their strokes as they would to any digit's. Pick a target image and a layer (with a running
# kernel); below, the static version.

# %%
def feature_maps(index: int, layer: str):
    x = target.x_test[index:index + 1]
    with torch.no_grad():
        for name in SmallCNN.LAYERS[:SmallCNN.LAYERS.index(layer) + 1]:
            x = getattr(pretrained, name)(x)
    return x[0]


import ipywidgets as widgets


def show_maps(index, layer):
    fig = show_feature_maps(feature_maps(index, layer)[:16], ncols=8,
                            title=f"{layer} of the source network, target digit "
                                  f"{int(target.y_test[index])}")
    plt.show()


last = len(target.x_test) - 1
widgets.interact(show_maps,
                 index=widgets.IntSlider(0, 0, last, description="test image"),
                 layer=widgets.Dropdown(options=["conv1", "conv2", "conv3"],
                                        value="conv1"));

# %% mystnb={"figure": {"caption": "Static version of the widget: the 8 feature maps of the source network's first layer for the first target test digit.", "name": "fig-09-feature-maps"}, "image": {"alt": "Eight activation maps of the first convolution layer, each highlighting different strokes and edges."}}
fig = show_feature_maps(feature_maps(0, "conv1"), ncols=8,
                        title="conv1 of the source network, target digit "
                              f"{int(target.y_test[0])}")
plt.show()

# %% [markdown]
# ## 8. Re-usability: exporting a model
#
# A checkpoint needs the code of its class to be useful: `load_weights` filled a `SmallCNN` we
# had defined. To hand a model to someone who has only PyTorch, or to a serving system, we
# **export** it: `torch.export` traces the network into a graph of tensor operations that carries
# its weights, and saves both in one `.pt2` file. The same graph is what `torch.onnx.export(...,
# dynamo=True)` turns into an ONNX file for other runtimes (that needs the `onnx` and `onnxscript`
# packages). Here we export a network fine-tuned on the most labels, load the file back, and
# check that it computes the same outputs, for a batch size it was not traced with. This is a
# demonstration that the round trip works, not a finding: it would fail only if the export did.

# %%
from demystify.files import atomic_write

index = draw_labels(many, 0)
final_model = train_few(*make_model("fine-tune all", best_lr[(many, "fine-tune all")],
                                    1000 * P.seed), x_pool[index], y_pool[index])
final_model.to("cpu").eval()
batch = torch.export.Dim("batch")
exported = torch.export.export(final_model, (target.x_test[:2],),
                               dynamic_shapes=({0: batch},))
path = data_dir() / "checkpoints" / "09_target_cnn.pt2"
with atomic_write(path) as tmp:          # a temporary file, renamed once it is complete
    torch.export.save(exported, tmp)

program = torch.export.load(path).module()                 # no SmallCNN class needed
with torch.no_grad():
    original, again = final_model(target.x_test), program(target.x_test)
max_difference = (original - again).abs().max().item()
agree = (original.argmax(1) == again.argmax(1)).float().mean().item()
print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB; outputs on "
      f"{len(target.x_test)} test images differ by at most {max_difference:.1e}, "
      f"predictions agree on {agree:.0%}")

# %% [markdown]
# ## 9. Pre-trained models in practice
#
# In practice the source network is rarely trained by you. torchvision, like other libraries,
# publishes networks pre-trained on ImageNet's 1.2 million images {cite:p}`deng2009imagenet`,
# and `torchvision.models.resnet18(weights=ResNet18_Weights.DEFAULT)` {cite:p}`he2016deep` is a
# usual first step of a transfer-learning project. Its 45 MB of weights come from the internet;
# this book never downloads silently, so `imagenet_resnet18()` uses them when they are already
# in torch's cache (`$TORCH_HOME/hub/checkpoints`, where torchvision keeps what it downloaded)
# or under the data folder, or when you allow the download with `DEMYSTIFY_DOWNLOAD=1`, and
# checks their SHA-256 either way. The cell below then does what section 5's linear probe did, with
# ImageNet features and with a fixed learning rate and number of steps: `imagenet_features`
# enlarges each batch of digits to {glue:text}`resnet_size`×{glue:text}`resnet_size` pixels,
# copies the grey channel three times and normalises it the way the network was trained, one
# batch at a time, so memory never holds the whole set enlarged; the network is in evaluation
# mode, so its BatchNorm layers use their stored statistics. **This path was not run for the
# outputs on this page** (the weights are not on the machine that ran it, and the cell prints
# so); a test runs it on randomly initialised weights of the same architecture, so we know it
# works, not what it scores.

# %%
glue("resnet_size", P.resnet_size)
try:
    resnet = imagenet_resnet18()
except DataNotAvailable:
    resnet = None
    print("ImageNet ResNet-18 weights are not on this machine (set "
          "DEMYSTIFY_DOWNLOAD=1 to fetch them, 45 MB): skipped")

if resnet is not None:
    resnet.fc = nn.Identity()             # keep the 512 features, drop ImageNet's head
    resnet.to(device).eval()
    features = {split: imagenet_features(resnet, x, size=P.resnet_size, device=device)
                for split, x in (("pool", x_pool), ("test", target.x_test))}
    for k in P.shots:
        hits = []
        for draw in range(P.draws):
            index, head = draw_labels(k, draw), nn.Linear(512, 10)
            optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)
            for _ in range(P.steps):
                loss = F.cross_entropy(head(features["pool"][index]), y_pool[index])
                optimizer.zero_grad(), loss.backward(), optimizer.step()
            hits.append(accuracy(head, features["test"], target.y_test))
        print(f"{k} labels per class: ImageNet features + linear head "
              f"{np.mean(hits):.3f}")

# %% [markdown]
# Today the strongest general-purpose starting points are often *foundation models* trained on
# far more data. CLIP {cite:p}`radford2021learning` learned image features from 400 million
# image–text pairs, and its frozen features with a linear probe are a strong baseline on many
# image tasks; DINOv2 {cite:p}`oquab2023dinov2` learned features from images alone, by
# self-supervision, meant to be used frozen. Model hubs make such networks one line away: the
# Hugging Face Hub ([huggingface.co/models](https://huggingface.co/models)), `timm`'s collection
# of image models and `torch.hub` publish weights with their model cards (training data,
# licence, intended use), which are worth reading before reuse. And when the pre-trained model
# is large, fine-tuning all its weights for every new task is costly: *parameter-efficient*
# fine-tuning trains a small number of new parameters instead, such as small *adapter* layers
# inserted between the frozen ones {cite:p}`houlsby2019parameter` or low-rank updates of the
# weight matrices, LoRA {cite:p}`hu2022lora`; a single frozen network then serves many tasks,
# each with its own small set of extra weights.
#
# ## Checks
#
# Every result the text above reports was asserted where it was measured, with `claim`: the
# condition it must meet, and how far a re-run at the same seed may drift from the stored record
# before the tests fail. All of them also hold on seeds 0–4 (`make robustness`, whose report is
# `bench/robustness.md`). The seeds change the source network's training and which labelled
# examples each draw takes; they do not change the splits, so the target test set is the same
# {glue:text}`target_test_size` digits in every run, and the t-intervals in section 5's
# table describe the draws of labels, not that choice. They also leave out the variation
# between source networks: each run pre-trains one, and only the five seeds show that
# variation. Here are the claims of this run:

# %%
glue("target_test_size", len(target.x_test))
report()

# %% [markdown]
# ## Exercises
#
# 1. **More labels.** Add 50 labels per class to `P.shots` and rerun section 5 from the cell
#    that defines `draw_labels` up to the figure (the cell after it re-asserts this page's
#    claims). Does training from scratch overtake the transfer methods?
#
# ````{dropdown} Solution
# A profile is read-only; `replace` returns a copy with the sizes you change (an unknown name
# is an error, so a typo cannot be silently ignored):
#
# ```python
# P = P.replace(shots=[*P.shots, 50])
# ```
#
# Then rerun the cells from `draw_labels` up to the figure. We have not measured 50 labels per
# class for this page; at 20 the lead had already shrunk on every seed. The intervals in the
# table tell you whether a difference you see is more than the noise of the draws.
# ````
#
# 2. **Augment the few labels.** Make each labelled example count several times by adding
#    copies shifted by one pixel, and train from scratch and with fine-tuning on them.
#
# ````{dropdown} Solution
# ```python
# def augment(x, y, shifts=((0, 1), (0, -1), (1, 0), (-1, 0))):
#     """x with four copies of every image moved by one pixel; y repeated to match."""
#     copies = [x] + [torch.roll(x, shift, dims=(2, 3)) for shift in shifts]
#     return torch.cat(copies), y.repeat(len(copies))
# ```
#
# `torch.roll` wraps the pixels pushed off one edge around to the other; that is harmless
# here, because every target digit has a 2-pixel empty margin. Train with
# `train_few(model, groups, *augment(x_pool[index], y_pool[index]))`. Full-batch
# training then sees five times as many images per step, and costs five times as much. We have
# not measured the effect here; compare the paired differences with and without augmentation
# over the same draws before you believe a change.
# ````
#
# 3. **Layer-wise learning rates.** Try a ladder of learning rates, the full rate for the head
#    down to `0.3 ** 4` (less than a hundredth) of it for `conv1` ("discriminative fine-tuning"
#    in {cite:p}`howard2018universal`; ULMFiT divides the rate by 2.6 per layer, its section
#    3.2; we use 0.3, about a third).
#
# ````{dropdown} Solution
# One parameter group per layer, each a third of the rate of the layer above it:
#
# ```python
# def ladder(model, lr):
#     groups = [{"params": getattr(model, name).parameters(), "lr": lr * 0.3 ** (4 - i)}
#               for i, name in enumerate(SmallCNN.LAYERS)]
#     return groups + [{"params": model.head.parameters(), "lr": lr}]
# ```
#
# To give it the same tuning budget as the other methods, add `"ladder": (1e-3, 3e-3)` to
# `LR_GRID` and a branch for it in the loop over `runs`, before the `else:`:
#
# ```python
#     elif method == "ladder":
#         model, _ = make_model("fine-tune all", lr, init)
#         model = train_few(model, ladder(model, lr), x_pool[index], y_pool[index],
#                           steps=P.max_steps, val=(target.x_val, target.y_val))
#         x_test = target.x_test
# ```
# ````
#
# 4. **Reuse the exported model.** In a fresh Python session, load `09_target_cnn.pt2` with
#    `torch.export.load(...).module()` and classify a few digits, without defining `SmallCNN`.
#
# ````{dropdown} Solution
# ```python
# import torch
# from demystify import data_dir
#
# program = torch.export.load(data_dir() / "checkpoints" / "09_target_cnn.pt2").module()
# digits = program(images).argmax(1)
# ```
#
# for a batch `images` of shape (N, 1, 16, 16) with values in [0, 1]. The exported program
# fixes everything except the batch size, which we declared dynamic.
# ````
#
# ## References
#
# Transferability of features: {cite:t}`yosinski2014transferable`; off-the-shelf CNN features:
# {cite:p}`donahue2014decaf,razavian2014cnn`; discriminative fine-tuning
# {cite:p}`howard2018universal`; prototypical networks {cite:p}`snell2017prototypical`; batch
# normalization {cite:p}`ioffe2015batch`; ResNet {cite:p}`he2016deep` and ImageNet
# {cite:p}`deng2009imagenet`; CLIP {cite:p}`radford2021learning`; DINOv2
# {cite:p}`oquab2023dinov2`; adapters {cite:p}`houlsby2019parameter`; LoRA
# {cite:p}`hu2022lora`; the digits {cite:p}`lecun1998mnist,pedregosa2011scikit`; PyTorch
# {cite:p}`paszke2019pytorch`.
