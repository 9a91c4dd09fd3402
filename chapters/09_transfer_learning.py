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
# few. Transfer learning reuses what a network learned on one task, where data was plentiful, for
# another task where it is scarce. In this chapter we pre-train a convolutional network on one set
# of handwritten digits, save it the way models are shared, and reuse it to recognise *other*
# digits from as little as one labelled example per class, comparing four ways of doing so against
# training from scratch. Then we repeat, in miniature, the experiment that showed *which* layers
# of a network transfer, and export the model so that code which has never seen its class can
# still run it.
#
# **Learning goals**
# - Explain why early-layer features are general and later ones specific to a task
#   {cite:p}`yosinski2014transferable`.
# - Pre-train a CNN, save it as a checkpoint safely (atomic write, safetensors) and load it back.
# - Compare training from scratch with frozen features + a linear head, full fine-tuning, and
#   fine-tuning with a smaller learning rate for early layers, as the number of labels grows.
# - Measure which layers transfer by copying the first *n* layers, frozen or fine-tuned.
# - Export a model (`torch.export`) and verify that the exported copy gives the same outputs.
#
# **Run time**: about a minute on a 2-core CPU (the stored outputs); on a GPU the profile uses
# more seeds, and MNIST when its files are present.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "Increasing Re-usability of Deep Learning models" | We save the trained network as a checkpoint and as an exported program, load both back and check they compute the same thing; torchvision's ImageNet ResNet-18 is used when its weights are present. |
# | "Transfer Learning & Fine-tuning" | We reuse a network trained on digits 0–4 to learn digits 5–9 from 1 to 20 labels per class, four ways, and measure what each buys over training from scratch. |

# %% tags=["hide-input"]
# Bootstrap: makes this notebook work alone in Colab or on an Azure VM.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:   # Colab / Azure: fetch the course helpers
    source = os.environ.get("DEMYSTIFY_SOURCE", "git+https://github.com/demystify-dl/demystifying-deep-learning")
    # %pip install -q "demystify @ {source}"
if importlib.util.find_spec("safetensors") is None:
    # %pip install -q safetensors

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from demystify import (DataNotAvailable, data_dir, evaluate, fit, load_handwritten_digits,
                       show_feature_maps, show_images, start)
from demystify.weights import imagenet_resnet18, load_weights, save_weights

device, P = start("09_transfer_learning")
# Small networks on small batches: on a CPU one thread wastes least time waiting for the others,
# and a fixed thread count keeps every sum in the same order, so reruns give the same numbers.
torch.set_num_threads(1)

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
# ## 2. Two tasks from one dataset
#
# The *source* task is to recognise the digits 0–4; the *target* task is to recognise 5–9,
# classes the source network never sees. The scans that ship with scikit-learn are centred and
# size-normalised by their preprocessing, so well that a pixel template recognises them; real
# handwriting in a form or a photo is not. We therefore place every digit at a random position
# (±2 pixels) and angle (±10°) on a slightly larger canvas: the source task gets a fresh placement
# every epoch (data augmentation), the target task one fixed, seeded placement.

# %%
def jitter(images: torch.Tensor, canvas: int, max_shift: float, max_angle: float,
           generator: torch.Generator) -> torch.Tensor:
    """Each image centred on a canvas, then moved by ±max_shift pixels and turned by ±max_angle°."""
    pad = (canvas - images.shape[-1]) // 2
    images = F.pad(images, (pad, canvas - images.shape[-1] - pad) * 2)
    n = len(images)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_angle)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * max_shift * 2 / canvas
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False).clamp(0, 1)


data = load_handwritten_digits(prefer=P.dataset, image_size=P.digit_size)
generator = torch.Generator().manual_seed(0)
place = lambda x: jitter(x, P.canvas, P.max_shift, P.max_angle, generator)
is_source, is_source_test = data.y_train < 5, data.y_test < 5
x_source, y_source = data.x_train[is_source], data.y_train[is_source]             # jittered per epoch
x_source_test, y_source_test = place(data.x_test[is_source_test]), data.y_test[is_source_test]
x_pool, y_pool = place(data.x_train[~is_source]), data.y_train[~is_source] - 5    # labels 0–4 = digits 5–9
x_target_test, y_target_test = place(data.x_test[~is_source_test]), data.y_test[~is_source_test] - 5

# %%
# NBVAL_CHECK_OUTPUT
print(f"source (digits 0–4): {len(x_source)} training, {len(x_source_test)} test images")
print(f"target (digits 5–9): a pool of {len(x_pool)} to draw the few labels from, "
      f"{len(x_target_test)} test images; all {P.canvas}×{P.canvas}")

# %% mystnb={"figure": {"caption": "Top: source-task digits 0\u20134; bottom: target-task digits 5\u20139, each placed at a random position and angle.", "name": "fig-09-tasks"}, "image": {"alt": "Two rows of eight small grey handwritten digits: the top row shows digits from 0 to 4, the bottom row digits from 5 to 9, slightly shifted and rotated."}}
examples = torch.cat([x_source_test[:8], x_target_test[:8]])
labels = [f"source {d}" for d in y_source_test[:8].tolist()] + [f"target {d + 5}" for d in y_target_test[:8].tolist()]
fig = show_images(examples, labels=labels, ncols=8, size=1.0)
plt.show()

# %% [markdown]
# ## 3. Pre-train on the source task
#
# A small CNN with named layers, so that we can later copy or freeze them one by one: three
# convolution blocks (convolution, ReLU, 2×2 max-pooling), a fully connected layer of 128 units,
# and a classification head.

# %%
def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))


class SmallCNN(nn.Module):
    """conv1 → conv2 → conv3 → fc → head; each a named layer that can be copied or frozen."""
    LAYERS = ("conv1", "conv2", "conv3", "fc")

    def __init__(self, n_classes: int = 5, canvas: int = 20):
        super().__init__()
        self.conv1, self.conv2, self.conv3 = conv_block(1, 8), conv_block(8, 16), conv_block(16, 32)
        side = canvas // 8                                 # three poolings halve the size 3 times
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(32 * side * side, 128), nn.ReLU())
        self.head = nn.Linear(128, n_classes)

    def features(self, x):
        return self.fc(self.conv3(self.conv2(self.conv1(x))))

    def forward(self, x):
        return self.head(self.features(x))


# NBVAL_CHECK_OUTPUT
source_model = SmallCNN(canvas=P.canvas)
for name, layer in source_model.named_children():
    print(f"{name:<6} {sum(p.numel() for p in layer.parameters()):>7,} parameters")
print(f"total  {sum(p.numel() for p in source_model.parameters()):>7,}")

# %% [markdown]
# `fit` accepts any iterable of batches; this one draws a new random placement of every source
# digit each time it is iterated, that is, every epoch.

# %%
class Jittered:
    """Shuffled minibatches of (jittered images, labels), freshly jittered on every pass."""
    def __init__(self, x, y, batch_size, seed=0):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self):
        order = torch.randperm(len(self.x), generator=self.generator)
        for index in order.split(self.batch_size):
            yield jitter(self.x[index], P.canvas, P.max_shift, P.max_angle, self.generator), self.y[index]


history = fit(source_model, Jittered(x_source, y_source, P.batch_size), (x_source_test, y_source_test),
              epochs=P.source_epochs, lr=1e-3, device=device, desc="pre-training on digits 0–4")
print(f"source task test accuracy: {history.last('val_accuracy'):.3f}")

# %% [markdown]
# ## 4. Save it, load it back
#
# A trained model is shared as a **checkpoint**: its `state_dict`, the tensors by name, not the
# Python object. We use the *safetensors* format, which stores only tensors and so, unlike a
# pickle, cannot carry code that runs when the file is opened. `save_weights` writes to a
# temporary file and renames it, so an interrupted save never leaves half a checkpoint behind.

# %%
checkpoint = save_weights(source_model, data_dir() / "checkpoints" / "09_source_cnn.safetensors")
reloaded = SmallCNN(canvas=P.canvas)
state = load_weights(checkpoint, reloaded)          # strict: every name and shape must match
source_model.to("cpu").eval(), reloaded.eval()
with torch.no_grad():
    same = torch.equal(source_model(x_target_test), reloaded(x_target_test))
print(f"{checkpoint.name}: {len(state)} tensors, {checkpoint.stat().st_size / 1024:.0f} KiB; "
      f"reloaded model gives identical outputs: {same}")

# %% [markdown]
# ## 5. Transfer with few labels
#
# Now the target task, with only *k* labelled examples of each digit 5–9, drawn at random from the
# pool. Four ways to train a classifier on them:
#
# | method | starts from | trains |
# |---|---|---|
# | **from scratch** | random weights | everything, learning rate $10^{-3}$ |
# | **frozen features + linear head** | the source network's convolutions | only a linear classifier on their frozen output, learning rate $10^{-2}$ |
# | **full fine-tuning** | the source network | everything, learning rate $10^{-3}$ |
# | **fine-tuning, smaller rate for early layers** | the source network | everything; the convolutions at $10^{-4}$ |
#
# The head is always new: the source network's head names digits 0–4, which mean nothing here.
# The frozen features are those of the last convolution block; the `fc` layer above it was shaped
# by the source classes alone (section 6 measures what it is worth). The last method protects the general early features from being overwritten by a handful of
# examples while letting the specific later layers adapt {cite:p}`howard2018universal`.

# %%
def label_index(k: int, seed: int) -> torch.Tensor:
    """Positions in the pool of k labelled examples of each target class, drawn with a seed."""
    generator = torch.Generator().manual_seed(seed)
    per_class = [torch.nonzero(y_pool == c).squeeze(1) for c in range(5)]
    return torch.cat([i[torch.randperm(len(i), generator=generator)[:k]] for i in per_class])


def sample_labels(k: int, seed: int):
    index = label_index(k, seed)
    return x_pool[index], y_pool[index]

# %%
def make_model(method: str, seed: int, copy_layers: int = 4, freeze: bool = False):
    """A target model and its optimizer's parameter groups, for one of the methods."""
    torch.manual_seed(seed)
    model = SmallCNN(canvas=P.canvas)
    if method == "from scratch":
        copy_layers = 0
    if method == "frozen features + linear head":         # the convolutions' output, 5 linear units
        copy_layers, freeze = 3, True
        model.fc, model.head = nn.Flatten(), nn.Linear(32 * (P.canvas // 8) ** 2, 5)
    for name in SmallCNN.LAYERS[:copy_layers]:            # copy the first layers from the source
        getattr(model, name).load_state_dict(getattr(source_model, name).state_dict())
        getattr(model, name).requires_grad_(not freeze)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if method == "fine-tuning, smaller rate for early layers":
        early = [p for name in ("conv1", "conv2", "conv3") for p in getattr(model, name).parameters()]
        late = [*model.fc.parameters(), *model.head.parameters()]
        return model, [{"params": early, "lr": 1e-4}, {"params": late, "lr": 1e-3}]
    if method == "frozen features + linear head":         # a linear model on fixed inputs: larger steps
        return model, [{"params": trainable, "lr": 1e-2}]
    return model, [{"params": trainable, "lr": 1e-3}]


def train_few(model, groups, x, y, steps: int = P.steps) -> float:
    """Full-batch Adam on the few labelled examples; returns accuracy on the target test set."""
    model.to(device).train()
    x, y = x.to(device), y.to(device)
    optimizer = torch.optim.Adam(groups)
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return evaluate(model, (x_target_test, y_target_test), device=device)["accuracy"]

# %% [markdown]
# Every method sees exactly the same labelled examples for a given budget and seed; each number
# is the mean over several random draws of the labels.

# %%
from tqdm.auto import tqdm

METHODS = ("from scratch", "frozen features + linear head", "full fine-tuning",
           "fine-tuning, smaller rate for early layers")
runs = [(k, seed, method) for k in P.shots for seed in range(P.seeds) for method in METHODS]
records = []
for k, seed, method in tqdm(runs, desc="target runs", mininterval=1):
    x, y = sample_labels(k, seed)
    model, groups = make_model(method, seed)
    records.append(dict(k=k, seed=seed, method=method, accuracy=train_few(model, groups, x, y)))
results = pd.DataFrame(records)
table = results.pivot_table(index="k", columns="method", values="accuracy", aggfunc="mean")[list(METHODS)]
table.index.name = "labels per class"
table.round(3)

# %% mystnb={"figure": {"caption": "Target-task test accuracy against the number of labelled examples per class, for training from scratch and three ways of transferring the source network (mean over seeds; bars show the standard deviation).", "name": "fig-09-transfer"}, "image": {"alt": "Line chart of accuracy against labels per class on a logarithmic axis. All four curves rise from about 0.4 to about 0.8. At one label per class the three transfer curves lie above the dashed from-scratch curve; from five labels on only full fine-tuning stays slightly above it."}}
spread = results.pivot_table(index="k", columns="method", values="accuracy", aggfunc="std")
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for i, method in enumerate(METHODS):
    ax.errorbar(table.index, table[method], yerr=spread[method], marker="o", capsize=3,
                color=f"C{i}", ls="--" if method == "from scratch" else "-", label=method)
ax.axhline(0.2, color="0.6", lw=1, ls=":", label="chance (5 classes)")
ax.set_xscale("log")
ax.set_xticks(list(P.shots), [str(k) for k in P.shots])
ax.set(xlabel="labelled examples per class (log scale)", ylabel="target test accuracy", ylim=(0, 1))
ax.legend(fontsize=8, loc="lower right")
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** With one label per class, every way of reusing the source network beats
# training from scratch, by 7 to 9 points: the network arrives already knowing strokes, curves
# and how to ignore small shifts and turns, which five examples cannot teach. From five labels
# on, only full fine-tuning stays ahead, by a few points; the frozen features cannot adapt, the
# slowly-moving early layers adapt too little in 60 steps, and the from-scratch network catches
# up. Transfer matters most when labels are scarcest. Our source task is tiny (675 images of five
# digits); with a source such as ImageNet the advantage is far larger and lasts much longer,
# which is why practice starts from a pre-trained network almost always.
#
# ## 6. Which layers transfer?
#
# {cite:t}`yosinski2014transferable` copied the first *n* layers of a network trained on one half
# of ImageNet's classes into a network for the other half, kept them *frozen* or let them be
# *fine-tuned*, and trained the rest from random weights. The same experiment in miniature, with
# our four layers and a fixed budget of labels:

# %%
yosinski = []
for n in tqdm(range(len(SmallCNN.LAYERS) + 1), desc="copied layers", mininterval=1):
    for freeze in (True, False):
        for seed in range(P.seeds):
            if n == 0 and freeze:                # nothing copied, nothing to freeze: from scratch
                continue
            x, y = sample_labels(P.yosinski_shots, seed)
            model, groups = make_model("copy", seed, copy_layers=n, freeze=freeze)
            yosinski.append(dict(n=n, mode="frozen" if freeze else "fine-tuned", seed=seed,
                                 accuracy=train_few(model, groups, x, y)))
layers = pd.DataFrame(yosinski).pivot_table(index="n", columns="mode", values="accuracy", aggfunc="mean")
layers.loc[0, "frozen"] = layers.loc[0, "fine-tuned"]
layers.index = [f"{n}: " + (" + ".join(SmallCNN.LAYERS[:n]) or "none (from scratch)") for n in layers.index]
layers.round(3)

# %% mystnb={"figure": {"caption": "Target accuracy when the first n layers are copied from the source network and kept frozen or fine-tuned; the remaining layers start from random weights.", "name": "fig-09-layers"}, "image": {"alt": "Line chart of accuracy against the number of copied layers from 0 to 4: the fine-tuned line stays near 0.8 throughout; the frozen line falls as more layers are frozen, slowly through the convolutions and steeply at the fully connected layer."}}
fig, ax = plt.subplots(figsize=(6, 3.4))
for mode, style in (("frozen", "o-"), ("fine-tuned", "s--")):
    ax.plot(range(len(layers)), layers[mode], style, label=f"copied layers {mode}")
ax.set_xticks(range(len(layers)), ["0"] + list(SmallCNN.LAYERS), fontsize=8)
ax.set(xlabel="copied from the source network, up to and including", ylabel="target test accuracy")
ax.set_title(f"{P.yosinski_shots} labels per class, mean of {P.seeds} seeds", fontsize=9)
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** Copied and fine-tuned, the first layers help a little, most when one or two
# are copied: they are the general part. Copied and *frozen*, every extra layer costs accuracy,
# and the fully connected layer costs most: it was shaped by the digits 0–4 alone and is
# *specific* to them, while the convolutions can be reused unchanged at a small price. Yosinski et
# al. found the same two effects on ImageNet: frozen upper layers hurt because they are specific
# to the old classes, and because layers trained together "co-adapt", so cutting between them
# loses something; fine-tuning repairs both.
#
# ## 7. Looking inside: the features a digit 5–9 produces
#
# The source network never saw a 5, 6, 7, 8 or 9, yet its first layers respond to their strokes
# as they would to any digit's. Pick a target image and a layer (with a running kernel); below,
# the static version.

# %%
def feature_maps(index: int, layer: str):
    x = x_target_test[index:index + 1]
    with torch.no_grad():
        for name in SmallCNN.LAYERS[:SmallCNN.LAYERS.index(layer) + 1]:
            x = getattr(source_model, name)(x)
    return x[0]


import ipywidgets as widgets


def show_maps(index, layer):
    fig = show_feature_maps(feature_maps(index, layer)[:16], ncols=8,
                            title=f"{layer} of the source network, target digit {int(y_target_test[index]) + 5}")
    plt.show()


widgets.interact(show_maps, index=widgets.IntSlider(0, 0, len(x_target_test) - 1, description="test image"),
                 layer=widgets.Dropdown(options=["conv1", "conv2", "conv3"], value="conv1"));

# %% mystnb={"figure": {"caption": "Static version of the widget: the 8 feature maps of the source network's first layer for the first target test digit, a class it never saw.", "name": "fig-09-feature-maps"}, "image": {"alt": "Eight activation maps of the first convolution layer, each highlighting different strokes and edges."}}
fig = show_feature_maps(feature_maps(0, "conv1"), ncols=8,
                        title=f"conv1 of the source network, target digit {int(y_target_test[0]) + 5}")
plt.show()

# %% [markdown]
# ## 8. Re-usability: exporting a model
#
# A checkpoint needs the code of its class to be useful: `load_weights` filled a `SmallCNN` we
# had defined. To hand a model to someone who has only PyTorch, or to a serving system, we
# **export** it: `torch.export` traces the network into a graph of tensor operations that carries
# its weights, and saves both in one `.pt2` file. The same graph is what `torch.onnx.export(...,
# dynamo=True)` turns into an ONNX file for other runtimes (that needs the `onnx` and `onnxscript`
# packages). Here we export the target network fine-tuned with the most labels, load the file
# back, and check that it computes the same outputs, for a batch size it was not traced with.

# %%
import os
import tempfile

final_model, groups = make_model("full fine-tuning", seed=0)
final_accuracy = train_few(final_model, groups, *sample_labels(max(P.shots), seed=0))
final_model.to("cpu").eval()
batch = torch.export.Dim("batch")
exported = torch.export.export(final_model, (x_target_test[:2],), dynamic_shapes=({0: batch},))
path = data_dir() / "checkpoints" / "09_target_cnn.pt2"
with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".", suffix=".pt2", delete=False) as tmp:
    torch.export.save(exported, tmp.name)                  # write, then rename: atomic
os.replace(tmp.name, path)

program = torch.export.load(path).module()                 # no SmallCNN class needed
with torch.no_grad():
    original, again = final_model(x_target_test), program(x_target_test)
max_difference = (original - again).abs().max().item()
agree = (original.argmax(1) == again.argmax(1)).float().mean().item()
print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB; outputs on {len(x_target_test)} test images "
      f"differ by at most {max_difference:.1e}, predictions agree on {agree:.0%}")

# %% [markdown]
# ## 9. ImageNet models
#
# In practice the source network is rarely trained by you: torchvision, like other libraries,
# publishes networks pre-trained on ImageNet's 1.2 million images {cite:p}`deng2009imagenet`, and
# `torchvision.models.resnet18(weights=ResNet18_Weights.DEFAULT)` {cite:p}`he2016deep` is the
# usual first step of a transfer-learning project. Its 45 MB of weights are downloaded from the
# internet; this book never downloads silently, so `imagenet_resnet18()` uses them when they are
# already under the data folder or when you allow the download with `DEMYSTIFY_DOWNLOAD=1`, and
# checks their SHA-256 either way. With the weights, the cell below adds a fifth method to the
# table: ImageNet features (frozen) with a linear head, on the same labels.

# %%
try:
    resnet = imagenet_resnet18()
except DataNotAvailable:
    resnet = None
    print("ImageNet ResNet-18 weights are not on this machine (set DEMYSTIFY_DOWNLOAD=1 to fetch "
          "them, 45 MB): continuing with our own pre-trained network")

if resnet is not None:
    resnet.fc = nn.Identity()                               # keep the 512 features, drop ImageNet's head
    resnet.to(device).eval()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def imagenet_features(x):
        x = F.interpolate(x, size=P.resnet_size, mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
        with torch.no_grad():
            return torch.cat([resnet(((b - mean) / std).to(device)).float().cpu() for b in x.split(256)])

    pool_features, test_features = imagenet_features(x_pool), imagenet_features(x_target_test)
    column = []
    for k in P.shots:
        accuracies = []
        for seed in range(P.seeds):
            index, head = label_index(k, seed), nn.Linear(512, 5)
            optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)
            for _ in range(P.steps):
                loss = F.cross_entropy(head(pool_features[index]), y_pool[index])
                optimizer.zero_grad(), loss.backward(), optimizer.step()
            accuracies.append((head(test_features).argmax(1) == y_target_test).float().mean().item())
        column.append(np.mean(accuracies))
    table["ImageNet ResNet-18 features + linear head"] = column
    display(table.round(3))

# %% [markdown]
# ## Checks

# %%
scratch = table["from scratch"]
transfer = table[[m for m in METHODS if m != "from scratch"]].max(axis=1)
assert history.last("val_accuracy") >= 0.9, "the source network learned digits 0–4"
assert same, "the reloaded checkpoint computes exactly what the trained network did"
smallest, next = P.shots[0], P.shots[1]
assert (table.loc[smallest].drop("from scratch") >= scratch[smallest] + 0.05).all(), \
    f"with {smallest} label per class every transfer method beats training from scratch by 5 points"
assert transfer[next] > scratch[next], f"with {next} labels per class transfer still beats from scratch"
assert table.loc[max(P.shots)].min() > 0.5, "every method learns with the largest budget"
frozen, tuned = layers["frozen"].to_numpy(), layers["fine-tuned"].to_numpy()
assert tuned[1:3].max() > tuned[0], "copying the early layers and fine-tuning them helps"
assert frozen[4] < frozen[3] - 0.05, "the frozen fc layer is specific to the source classes"
assert max_difference < 1e-4 and agree == 1.0, "the exported program computes the same function"
print("all checks passed")

# %% [markdown]
# ## Exercises
#
# 1. **More labels.** Add 50 and 100 labels per class to `P.shots` (with `P = P | {...}` or by
#    editing the profile). Where does training from scratch catch up with fine-tuning?
#
# ```{dropdown} Solution
# The gap closes as labels grow: somewhere between a few dozen and a hundred examples per class
# the from-scratch network matches the fine-tuned one on this small task, while the frozen
# features plateau below both, because they cannot adapt to what distinguishes 5–9. On harder
# tasks (ImageNet-sized images, many classes) the crossing point is much later, which is why
# fine-tuning pre-trained networks is the default there.
# ```
#
# 2. **A distant source.** Pre-train on the digits *without* jitter and transfer to the jittered
#    target. What happens to the frozen features, and to fine-tuning?
#
# ```{dropdown} Solution
# The source network then never needed to ignore shifts and turns, so its features are less
# useful for the jittered target: the frozen-feature method suffers most, fine-tuning less, since
# it can still learn the invariance from the target examples. Transfer helps in proportion to
# how much the source task shares with the target one, the point Yosinski et al. make with their
# "natural vs man-made" ImageNet split.
# ```
#
# 3. **Layer-wise learning rates.** Try a ladder of learning rates, $10^{-3}$ for the head down to
#    $10^{-5}$ for `conv1` ("discriminative fine-tuning" in {cite:p}`howard2018universal`).
#
# ```{dropdown} Solution
# Build one parameter group per layer:
# `[{"params": getattr(model, name).parameters(), "lr": 1e-3 * 0.3 ** (4 - i)} for i, name in enumerate(SmallCNN.LAYERS)] + [{"params": model.head.parameters(), "lr": 1e-3}]`.
# With one or five labels it behaves like the frozen-feature method, with twenty it approaches
# full fine-tuning: the ladder interpolates between the two.
# ```
#
# 4. **Reuse the exported model.** In a fresh Python session, load `09_target_cnn.pt2` with
#    `torch.export.load(...).module()` and classify a few digits, without defining `SmallCNN`.
#
# ```{dropdown} Solution
# `program = torch.export.load(path).module()`, then `program(images).argmax(1) + 5` gives the
# digits for a batch `images` of shape (N, 1, 20, 20) with values in [0, 1]. The exported program
# fixes everything except the batch size, which we declared dynamic.
# ```
#
# ## References
#
# Transferability of features: {cite:t}`yosinski2014transferable`; off-the-shelf CNN features:
# {cite:p}`donahue2014decaf,razavian2014cnn`; discriminative fine-tuning
# {cite:p}`howard2018universal`; ResNet {cite:p}`he2016deep` and ImageNet
# {cite:p}`deng2009imagenet`; the digits {cite:p}`pedregosa2011scikit`; PyTorch
# {cite:p}`paszke2019pytorch`.
