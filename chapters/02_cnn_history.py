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
# # 2. A short history of convolutional networks
#
# Deep learning is not new. The ideas behind today's image models were drawn on paper in 1980,
# trained by backpropagation in 1989 and read the cheques of American banks by the late 1990s;
# what changed after 2006 was the data and the hardware. This chapter walks that lineage with code
# that runs: Fukushima's **Neocognitron** with hand-set S-cells and C-cells, LeCun's **LeNet-5**
# exactly as the 1998 paper drew it (down to its odd C3 wiring and its 60,000 parameters), and the
# three "common DNNs" of the talk, with a **deep belief network** trained the 2006 way, one
# restricted Boltzmann machine at a time. Along the way you time one convolution on your own
# hardware to see why GPUs mattered.
#
# **Learning goals**
# - Place the milestones of the talk's timeline (Neocognitron 1980, LeCun 1989, LeNet-5 1998, DBN 2006,
#   ImageNet and GPUs 2009–2012) and say what each one added.
# - Explain S-cells (feature detectors = convolution) and C-cells (tolerance to position = pooling),
#   and measure the tolerance on real digits.
# - Write LeNet-5 layer by layer, check its parameter and connection counts against the paper, train
#   it, and read its learned kernels and feature maps.
# - Train a restricted Boltzmann machine with contrastive divergence, stack two into a deep belief
#   network, and measure what greedy pretraining does for a deep sigmoid network.
#
# **Run time:** under a minute on a 2-core laptop (CPU profile, budget 90 s); well under a minute
# on a GPU, where the GPU profile uses MNIST for LeNet-5 when its files are present.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "DL models has been here for a long time — Fukushima (1980) Neo-Cognitron" | We build the Neocognitron's two kinds of cells and measure how C-cells tolerate a shifted digit. |
# | "LeCun (1989) Convolutional Neural Network" | We write out its 1998 descendant, LeNet-5, check its 60,000 parameters and train it on digits. |
# | "DL popularity grew recently — with growth of Big Data" | A timeline of the milestones and the size of the training sets they had. |
# | "— with the advent of powerful GPUs" | We time the same batch of convolutions on the CPU and, when there is one, on the GPU. |
# | "Common DNNs: DCNN … images; RNN … sequential data; DBN … hierarchical representation" | LeNet-5 is the DCNN; a recurrent network reads a digit row by row; a deep belief network is pretrained layer by layer and fine-tuned. |

# %% tags=["hide-input"]
# Bootstrap: makes this notebook work alone in Colab or on an Azure VM.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:   # Colab / Azure: fetch the course helpers
    source = os.environ.get("DEMYSTIFY_SOURCE", "git+https://github.com/demystify-dl/demystifying-deep-learning")
    # %pip install -q "demystify @ {source}"
if importlib.util.find_spec("skimage") is None or importlib.util.find_spec("ipywidgets") is None:
    # %pip install -q scikit-image ipywidgets

# %% [markdown]
# The setup cell seeds every random number generator, picks the device (a GPU when there is one)
# and loads this chapter's **profile**: the sizes it runs with on a CPU or on a GPU.

# %%
import copy
import math
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from skimage.morphology import dilation, skeletonize

from demystify import (evaluate, fit, load_digits, load_handwritten_digits, plot_history,
                       show_feature_maps, show_filters, show_images, start)

device, P = start("02_cnn_history")

# %% [markdown]
# ## 1 · Why now? Forty years of ideas, then data and hardware
#
# The talk's point is that the models are old and their popularity is new. The timeline below
# marks the papers this chapter rests on. Blue entries are *ideas*: Hubel and Wiesel's simple and
# complex cells in the cat's visual cortex {cite:p}`hubel1962receptive`, the Neocognitron that
# copied them {cite:p}`fukushima1980neocognitron`, backpropagation
# {cite:p}`rumelhart1986learning`, LeCun's convolutional network trained on U.S. zip codes
# {cite:p}`lecun1989backpropagation`, Elman's recurrent network {cite:p}`elman1990finding`, LeNet-5
# {cite:p}`lecun1998gradient` and deep belief nets {cite:p}`hinton2006fast`. Green entries are
# *data*, orange ones *hardware*: ImageNet {cite:p}`deng2009imagenet`, deep networks trained on
# graphics cards {cite:p}`raina2009large`, and AlexNet {cite:p}`krizhevsky2012imagenet`, which
# brought the two together and won ImageNet's 2012 challenge by a wide margin.

# %% mystnb={"figure": {"caption": "The lineage of this chapter: ideas (blue) from 1962 to 2006, then the data (green) and hardware (orange) that made them practical.", "name": "fig-02-timeline"}, "image": {"alt": "A timeline chart with one row per milestone, from 1962 at the top to 2012 at the bottom: simple and complex cells, Neocognitron, backpropagation, LeCun's zip-code convnet, Elman's recurrent network, LeNet-5 and MNIST, deep belief nets in blue; ImageNet in green; GPU training and AlexNet in orange."}}
MILESTONES = [  # (year, what, kind)
    (1962, "Hubel & Wiesel: simple and complex cells", "idea"),
    (1980, "Fukushima: the Neocognitron", "idea"),
    (1986, "Rumelhart, Hinton & Williams: backpropagation", "idea"),
    (1989, "LeCun et al.: a convnet trained on 7,291 zip-code digits", "idea"),
    (1990, "Elman: the simple recurrent network", "idea"),
    (1998, "LeCun et al.: LeNet-5 and MNIST (60,000 digits)", "idea"),
    (2006, "Hinton et al.: deep belief nets", "idea"),
    (2009, "Deng et al.: ImageNet, millions of labelled images", "data"),
    (2009, "Raina et al.: deep nets on a GPU, up to 70× faster", "hardware"),
    (2012, "Krizhevsky et al.: AlexNet, 1.2 M images, 2 GPUs, 6 days", "hardware"),
]
COLOURS = {"idea": "tab:blue", "data": "tab:green", "hardware": "tab:orange"}
fig, ax = plt.subplots(figsize=(10, 4))
for row, (year, label, kind) in enumerate(MILESTONES):
    ax.plot([1960, year], [-row, -row], color="lightgrey", lw=1, zorder=1)
    ax.plot(year, -row, "o", color=COLOURS[kind], zorder=2)
    right = year < 1995                                     # late entries put their label on the left
    ax.text(year + (1 if right else -1), -row, f"{year}  {label}" if right else f"{label}  {year}",
            va="center", ha="left" if right else "right", fontsize=9, color=COLOURS[kind],
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
for kind, colour in COLOURS.items():
    ax.plot([], [], "o", color=colour, label=kind)
ax.set_xlim(1958, 2016); ax.set_ylim(-len(MILESTONES) + 0.4, 0.8)
ax.set_yticks([]); ax.set_xlabel("year"); ax.legend(loc="upper right", fontsize=8, frameon=False)
for side in ("left", "right", "top"):
    ax.spines[side].set_visible(False)
plt.show()

# %% [markdown]
# ### Big data
#
# Each generation of these models was trained on a much larger set of labelled images. The digits
# this chapter uses on a CPU are the small end of that scale; the numbers of the others are the
# training-set sizes their papers report.

# %%
data = load_handwritten_digits(prefer=P.dataset, image_size=P.image_size, margin=P.margin)
x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test

# %%
# NBVAL_CHECK_OUTPUT
TRAINING_SETS = {"USPS zip codes (LeCun et al. 1989)": 7_291,
                 "MNIST (LeNet-5, 1998)": 60_000,
                 "ImageNet ILSVRC-2012 (AlexNet)": 1_281_167,
                 f"{data.name} (this chapter)": len(x_train)}
for name, size in TRAINING_SETS.items():
    print(f"{name:>36}: {size:>9,} training images  {'█' * round(math.log10(size) * 4)}")

# %% [markdown]
# ### Powerful GPUs: one convolution, timed
#
# A convolutional network spends almost all of its time in convolutions, and a convolution is
# millions of independent multiply-adds: exactly what a graphics card does in parallel. Here is one
# real layer, the second convolution of AlexNet as torchvision builds it
# {cite:p}`krizhevsky2014one` (64 → 192 channels, 5×5 kernels, on 27×27 feature maps), applied to
# the same random batch on the CPU and, when this machine has one, on the GPU. We count the
# arithmetic (two operations per weight per output position) and report the rate.

# %%
torch.manual_seed(0)
conv2 = nn.Conv2d(64, 192, kernel_size=5, padding=2)           # AlexNet's conv2 (torchvision)
batch = torch.randn(P.conv_batch, 64, 27, 27)
flops = 2 * conv2.weight.numel() * 27 * 27 * P.conv_batch      # multiply + add per weight per pixel


def time_convolution(on: torch.device) -> tuple[float, torch.Tensor]:
    """Best of P.conv_repeats runs of conv2 over the batch on one device (after a warm-up run)."""
    layer, inputs = copy.deepcopy(conv2).to(on), batch.to(on)
    best = math.inf
    with torch.no_grad():
        for attempt in range(P.conv_repeats + 1):
            if on.type == "cuda":
                torch.cuda.synchronize(on)
            started = time.perf_counter()
            output = layer(inputs)
            if on.type == "cuda":
                torch.cuda.synchronize(on)                     # wait for the GPU to finish
            if attempt > 0:                                     # attempt 0 warms up
                best = min(best, time.perf_counter() - started)
    return best, output.cpu()


timings = {"cpu": time_convolution(torch.device("cpu"))}
if device.type == "cuda":
    timings[str(device)] = time_convolution(device)
for name, (seconds, _) in timings.items():
    epoch_hours = len(range(0, 1_281_167, P.conv_batch)) * seconds / 3600
    print(f"{name:>6}: {seconds * 1e3:8.2f} ms per batch of {P.conv_batch}, {flops / seconds / 1e9:7.1f} GFLOP/s;"
          f" one ImageNet epoch through this layer alone: {epoch_hours:6.2f} h")
if device.type != "cuda":
    print("(no CUDA GPU here: open this notebook in Colab with a GPU runtime to add a GPU row)")

# %% [markdown]
# **What to notice.** On a laptop CPU this one layer, forward only, needs hours for a single pass
# over ImageNet; AlexNet has five convolutions and three large fully connected layers, needs a
# backward pass as well, and was trained for roughly 90 passes. Run this cell on a GPU to see the
# same arithmetic done many times faster: in 2009 Raina et al. measured up to 70× for deep belief
# networks {cite:p}`raina2009large`, and GPUs have grown far faster than CPUs since. The models of
# the 1980s simply could not be trained at this scale on the hardware of their time; chapter 10
# measures GPUs in more depth.

# %% [markdown]
# ## 2 · The Neocognitron: S-cells and C-cells
#
# Hubel and Wiesel found two kinds of cells in the visual cortex: *simple* cells that respond to a
# line of one orientation at one place, and *complex* cells that respond to that line anywhere in a
# small neighbourhood {cite:p}`hubel1962receptive`. Fukushima's Neocognitron
# {cite:p}`fukushima1980neocognitron` stacks layers of both:
#
# - **S-cells** (simple) in a *cell plane* all share one set of input weights and differ only in
#   where they look: sweeping one small pattern over the image is exactly a **convolution**. A cell
#   fires only when its input exceeds a threshold.
# - **C-cells** (complex) each look at a neighbourhood of S-cells of one plane and fire if any of
#   them fires: today we call that **max-pooling**. This is where tolerance to position comes from.
#
# Fukushima's S-cells learned their patterns without a teacher; here we set them by hand as four
# oriented line detectors, and show the network what it was shown in 1980: line drawings. We thin
# each digit to its skeleton and redraw it with a 2-pixel pen.

# %%
def line_drawing(images: torch.Tensor, threshold: float = 0.35) -> torch.Tensor:
    """Each digit thinned to its skeleton and redrawn with a 2-pixel pen (binary, same size)."""
    pen = np.ones((2, 2), dtype=bool)
    drawn = [dilation(skeletonize(image > threshold), pen) for image in images[:, 0].cpu().numpy()]
    return torch.tensor(np.stack(drawn), dtype=torch.float32).unsqueeze(1)


bar = torch.tensor([[-1., -1, -1], [2, 2, 2], [-1, -1, -1]]) / 6        # a line on a dark surround
slash = torch.tensor([[-1., -1, 2], [-1, 2, -1], [2, -1, -1]]) / 6
S_KERNELS = torch.stack([bar, slash, bar.T, slash.flip(1)]).unsqueeze(1)  # (4, 1, 3, 3)
ORIENTATIONS = ["—", "/", "|", "\\"]


def s_cells(x: torch.Tensor, threshold: float = 0.1) -> torch.Tensor:
    """S-layer: four oriented line detectors swept over the image; a cell fires above threshold."""
    return F.relu(F.conv2d(x, S_KERNELS.to(x.device), padding=1) - threshold)


def c_cells(s: torch.Tensor, size: int = 8, stride: int = 4) -> torch.Tensor:
    """C-layer: a cell fires if any S-cell of its plane in its 8×8 neighbourhood fires."""
    return F.max_pool2d(s, size, stride, padding=(size - stride) // 2)


def shift(x: torch.Tensor, pixels: int) -> torch.Tensor:
    """Move images right by `pixels` (the digits sit in a blank frame, so nothing falls off)."""
    return torch.roll(x, shifts=pixels, dims=-1)


lines = line_drawing(x_test[:P.shift_samples])
print(f"{len(lines)} test digits as line drawings; S-layer {tuple(s_cells(lines[:1]).shape[1:])}, "
      f"C-layer {tuple(c_cells(s_cells(lines[:1])).shape[1:])}")

# %% mystnb={"figure": {"caption": "One digit as a line drawing (left), the responses of the four oriented S-cell planes, and of the four C-cell planes; bottom row: the same digit moved 2 pixels right. The S-planes move with the digit; the coarse C-planes barely change.", "name": "fig-02-neocognitron"}, "image": {"alt": "Two rows of nine small images: a line-drawing digit, four thin orientation maps and four coarse 7 by 7 maps; the second row shows the digit shifted right, with nearly the same coarse maps."}}
fig, axes = plt.subplots(2, 9, figsize=(13, 3.4))
for row, pixels in enumerate((0, 2)):
    image = shift(lines[:1], pixels)
    s, c = s_cells(image)[0], c_cells(s_cells(image))[0]
    panels = [(image[0, 0], f"input, shift {pixels}")]
    panels += [(s[k], f"S {ORIENTATIONS[k]}") for k in range(4)]
    panels += [(c[k], f"C {ORIENTATIONS[k]}") for k in range(4)]
    for ax, (panel, title) in zip(axes[row], panels):
        ax.imshow(panel, cmap="gray" if title.startswith("input") else "viridis", vmin=0)
        ax.set_title(title, fontsize=9); ax.set_xticks([]); ax.set_yticks([])
plt.show()

# %% [markdown]
# Now the measurement, over all the test digits: move each one by 0 to 4 pixels and ask how much
# each representation changes, as the distance between the shifted and the original response
# relative to the original's size: 0 means unchanged, and √2 ≈ 1.41 means the two share nothing.

# %%
def relative_change(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over images of ‖a − b‖ / ‖a‖: 0 = unchanged, √2 = no overlap at all."""
    a, b = a.flatten(1), b.flatten(1)
    return ((a - b).norm(dim=1) / a.norm(dim=1).clamp_min(1e-8)).mean().item()


layers = {"raw pixels": lambda x: x, "S-cells": s_cells, "C-cells": lambda x: c_cells(s_cells(x))}
shifts = list(range(P.max_shift + 1))
change = {name: [relative_change(f(lines), f(shift(lines, p))) for p in shifts]
          for name, f in layers.items()}
print("shift (px)  " + "".join(f"{p:>7}" for p in shifts))
for name, values in change.items():
    print(f"{name:<11} " + "".join(f"{v:7.2f}" for v in values))

# %% mystnb={"figure": {"caption": "How much each layer's response changes when the digits move right, averaged over the test digits. Raw pixels and S-cells change almost completely after a pixel or two; the C-cells change far less.", "name": "fig-02-shift"}, "image": {"alt": "Line chart of relative change against shift in pixels from 0 to 4: raw pixels and S-cells rise quickly towards 1.3, C-cells rise slowly to about 0.7."}}
fig, ax = plt.subplots(figsize=(5.5, 3.4))
for name, values in change.items():
    ax.plot(shifts, values, "o-", label=name)
ax.axhline(math.sqrt(2), color="grey", ls=":", lw=1, label="no overlap (√2)")
ax.set_xlabel("shift (pixels)"); ax.set_ylabel("relative change"); ax.set_xticks(shifts)
ax.set_ylim(-0.05, 1.5); ax.grid(alpha=0.3); ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **What to notice.** A 1-pixel shift already changes most of a line drawing's pixels, and the
# S-cells (which are position-specific) change just as much. The C-cells change less than half as
# much, because a line that moves a pixel or two stays inside the same C-cell's neighbourhood. The
# price is resolution: 28×28 positions became 7×7. The Neocognitron alternates S and C layers so
# that each stage combines features *and* tolerates a bit more displacement; every convolutional
# network since, LeNet-5 included, does the same with convolution and pooling.

# %% [markdown]
# ## 3 · LeNet-5, as the 1998 paper drew it
#
# LeCun and colleagues kept Fukushima's architecture and replaced its unsupervised learning with
# backpropagation, first on zip codes {cite:p}`lecun1989backpropagation`, then in LeNet-5
# {cite:p}`lecun1998gradient`. The paper's Fig. 2 reads: a 32×32 input; **C1**, six 5×5
# convolutions; **S2**, subsampling; **C3**, sixteen 5×5 convolutions; **S4**, subsampling; **C5**,
# 120 convolutions that cover the whole 5×5 map; **F6**, 84 units; and 10 outputs. Three details
# are easy to miss in modern re-implementations and we keep all three:
#
# - Subsampling is *trainable*: each S unit adds its four inputs, multiplies by a learned
#   coefficient and adds a learned bias (2 parameters per map).
# - The squashing function is a scaled tanh, $f(a) = 1.7159 \tanh(2a/3)$, after every layer up to F6.
# - C3 is *not* fully connected to S2: a table decides which S2 maps each C3 map sees. The paper
#   gives two reasons: it keeps the number of connections within bounds and, "more importantly, it
#   forces a break of symmetry in the network".
#
# One change we do make: the paper's output layer is ten radial basis units with fixed, hand-drawn
# weights; we use an ordinary linear layer and cross-entropy. MNIST's 28×28 digits are padded to
# 32×32, which C1's `padding=2` does.

# %%
class ScaledTanh(nn.Module):
    """LeNet-5's squashing function f(a) = 1.7159 tanh(2a/3) (the paper's Appendix A)."""
    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(2 * a / 3)


class Subsampling(nn.Module):
    """S2/S4: the sum of each 2×2 block, times a trainable coefficient, plus a trainable bias."""
    def __init__(self, maps: int):
        super().__init__()
        self.coefficient = nn.Parameter(torch.ones(maps))
        self.bias = nn.Parameter(torch.zeros(maps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block_sums = 4 * F.avg_pool2d(x, 2)
        return block_sums * self.coefficient[:, None, None] + self.bias[:, None, None]


# Table I of the paper: the S2 maps that feed each of the 16 C3 maps.
C3_TABLE = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1],
            [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1], [5, 0, 1, 2],
            [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]


class C3(nn.Module):
    """Sixteen 5×5 convolutions, each over only the S2 maps its row of C3_TABLE names."""
    def __init__(self, table: list[list[int]] = C3_TABLE):
        super().__init__()
        self.table = table
        self.maps = nn.ModuleList(nn.Conv2d(len(inputs), 1, kernel_size=5) for inputs in table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x[:, inputs]) for conv, inputs in zip(self.maps, self.table)], dim=1)

# %% [markdown]
# With those three pieces, the network itself is seven lines of layers and a forward pass that
# reads like the paper's figure.

# %%
class LeNet5(nn.Module):
    """LeCun et al. 1998, Fig. 2: C1, S2, C3, S4, C5, F6 and a 10-way output."""
    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.C1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)    # 28×28 padded to 32×32 → 6@28×28
        self.S2 = Subsampling(6)                                # → 6@14×14
        self.C3 = C3()                                          # → 16@10×10
        self.S4 = Subsampling(16)                               # → 16@5×5
        self.C5 = nn.Conv2d(16, 120, kernel_size=5)             # → 120@1×1
        self.F6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, n_classes)                  # the paper: 10 fixed RBF units
        self.squash = ScaledTanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in (self.C1, self.S2, self.C3, self.S4, self.C5):
            x = self.squash(layer(x))
        return self.output(self.squash(self.F6(x.flatten(1))))


lenet = LeNet5()

# %% [markdown]
# The paper lists, for every layer, its trainable parameters and its *connections* (how many
# multiply-adds it performs, because a shared weight is used at every position). We count both
# from our model and compare them with the paper's numbers.

# %%
# NBVAL_CHECK_OUTPUT
PAPER = {"C1": (156, 122_304), "S2": (12, 5_880), "C3": (1_516, 151_600), "S4": (32, 2_000),
         "C5": (48_120, 48_120), "F6": (10_164, 10_164)}
shapes = {}
hooks = [getattr(lenet, name).register_forward_hook(
             lambda module, inputs, output, name=name: shapes.__setitem__(name, tuple(output.shape[1:])))
         for name in [*PAPER, "output"]]
lenet(torch.zeros(1, 1, 28, 28))
for hook in hooks:
    hook.remove()
print(f"{'layer':<7}{'output':>14}{'parameters':>12}{'connections':>13}   paper (parameters, connections)")
counts = {}
for name, shape in shapes.items():
    layer = getattr(lenet, name)
    params = sum(p.numel() for p in layer.parameters())
    positions = math.prod(shape[1:]) if len(shape) == 3 else 1
    connections = 5 * math.prod(shape) if isinstance(layer, Subsampling) else params * positions
    counts[name] = (params, connections)
    paper = f"{PAPER[name][0]:,}, {PAPER[name][1]:,}" if name in PAPER else "10 fixed RBF units"
    print(f"{name:<7}{'×'.join(map(str, shape)):>14}{params:>12,}{connections:>13,}   {paper}")
trainable_c1_f6 = sum(counts[name][0] for name in PAPER)
print(f"C1–F6: {trainable_c1_f6:,} trainable parameters; with our linear output layer: "
      f"{sum(p.numel() for p in lenet.parameters()):,}")
assert all(counts[name] == PAPER[name] for name in PAPER), "a layer's counts differ from the paper"

# %% [markdown]
# Every count matches the paper, including the famous total: "about 60,000" trainable parameters is
# exactly 60,000 for C1–F6. Notice where they are: C5 and F6 hold almost all the parameters, while
# C1 and C3 do almost all the arithmetic, because their few weights are reused at every position.
#
# Now we train it. The paper used a second-order variant of gradient descent for 20 passes over
# MNIST's 60,000 digits; we use Adam {cite:p}`paszke2019pytorch` and the profile's number of epochs
# (on a CPU: the scikit-learn digits, framed like MNIST).

# %%
lenet_history = fit(lenet, (x_train, y_train), (x_test, y_test), epochs=P.lenet_epochs,
                    lr=P.lr, batch_size=P.batch_size, device=device, desc="LeNet-5")
lenet_accuracy = evaluate(lenet, (x_test, y_test))["accuracy"]
print(f"LeNet-5 test accuracy: {lenet_accuracy:.3f} on {len(x_test):,} test digits")

# %% mystnb={"figure": {"caption": "LeNet-5's learning curves on the handwritten digits: loss and accuracy on the training set (solid) and the test set (dashed) per epoch.", "name": "fig-02-lenet-curves"}, "image": {"alt": "Two line charts over the training epochs: loss falling towards zero and accuracy rising above 95 percent, for training and test data."}}
fig = plot_history(lenet_history, title="LeNet-5")
plt.show()

# %% [markdown]
# What did C1 learn? Its six 5×5 kernels are drawn below in red (positive weights) and blue
# (negative). Compare them with the hand-set line detectors of the Neocognitron above.

# %% mystnb={"figure": {"caption": "The six 5\u00d75 kernels LeNet-5's first layer C1 learned from the digits (red positive, blue negative weights).", "name": "fig-02-lenet-kernels"}, "image": {"alt": "Six small 5 by 5 colour patches with red and blue stripes and blobs, the learned first-layer convolution kernels."}}
fig = show_filters(lenet.C1.weight, ncols=6, title="C1 kernels")
plt.show()

# %% mystnb={"figure": {"caption": "One test digit seen through LeNet-5: the six C1 feature maps (28\u00d728, top) and the sixteen C3 feature maps (10\u00d710, below).", "name": "fig-02-lenet-maps"}, "image": {"alt": "A handwritten test digit's feature maps: six 28 by 28 maps that each highlight different strokes and edges, then sixteen coarser 10 by 10 maps."}}
with torch.no_grad():
    digit = x_test[:1].to(device)
    c1 = lenet.squash(lenet.C1(digit))[0].cpu()
    c3 = lenet.squash(lenet.C3(lenet.squash(lenet.S2(c1[None].to(device)))))[0].cpu()
fig, axes = plt.subplots(3, 8, figsize=(10, 4.2))
panels = [(digit[0, 0].cpu(), f"digit ({y_test[0].item()})", "gray")]
panels += [(m, f"C1 map {i}", "viridis") for i, m in enumerate(c1)] + [(None, "", "")]
panels += [(m, f"C3 map {i}", "viridis") for i, m in enumerate(c3)]
for ax, (panel, title, cmap) in zip(axes.flat, panels):
    ax.axis("off")
    if panel is not None:
        ax.imshow(panel, cmap=cmap); ax.set_title(title, fontsize=8)
plt.show()

# %% [markdown]
# **What to notice.** The kernels themselves look rough: a few epochs on 1,347 digits do not smooth
# them the way 20 passes over MNIST's 60,000 do. Their feature maps show what they do: each C1 map
# brings out a different side or stroke of the digit (an edge of one orientation and polarity),
# the same kind of feature Fukushima set by hand, but learned from labels by backpropagation. The
# C3 maps are coarser and each combines several C1 maps: the "hierarchy of features" the talk
# attributes to deep networks.

# %% [markdown]
# ## 4 · Try it: pick a kernel, see the feature map
#
# A convolution layer is nothing more than a small kernel swept over the image. Below, six classic
# 3×3 kernels are applied to the same digit; the widget after it lets you choose the kernel and the
# digit, or type your own nine numbers.

# %%
KERNELS = {
    "vertical edge (Sobel)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "horizontal edge (Sobel)": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "line — (S-cell)": (bar * 6).tolist(),
    "line / (S-cell)": (slash * 6).tolist(),
    "blur (3×3 box)": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}


def parse_kernel(text: str) -> torch.Tensor:
    """Nine numbers (separated by spaces, commas or semicolons) as a 3×3 kernel."""
    words = text.replace(",", " ").replace(";", " ").split()
    try:
        values = [float(word) for word in words]
    except ValueError:
        raise ValueError(f"the custom kernel must be numbers only, got {text!r}") from None
    if len(values) != 9:
        raise ValueError(f"a 3×3 kernel needs 9 numbers, got {len(values)}: e.g. '0 1 0, 1 -4 1, 0 1 0'")
    return torch.tensor(values).reshape(3, 3)


def feature_map(image: torch.Tensor, kernel) -> torch.Tensor:
    """The convolution of one image (1, H, W) with one 3×3 kernel, same size as the image."""
    weight = torch.as_tensor(kernel, dtype=torch.float32).reshape(1, 1, 3, 3)
    return F.conv2d(image[None].cpu(), weight, padding=1)[0, 0]

# %% mystnb={"figure": {"caption": "Static version of the widget: one test digit convolved with six classic 3\u00d73 kernels (red: positive response, blue: negative).", "name": "fig-02-kernels"}, "image": {"alt": "A handwritten digit and six feature maps of it: vertical edges, horizontal edges, two oriented lines, a blurred copy and a sharpened copy."}}
fig, axes = plt.subplots(1, len(KERNELS) + 1, figsize=(2 * (len(KERNELS) + 1), 2.4))
axes[0].imshow(x_test[0, 0], cmap="gray"); axes[0].set_title("digit", fontsize=9)
for ax, (name, kernel) in zip(axes[1:], KERNELS.items()):
    response = feature_map(x_test[0], kernel)
    limit = response.abs().max().item() or 1.0
    ax.imshow(response, cmap="RdBu_r", vmin=-limit, vmax=limit); ax.set_title(name, fontsize=8)
for ax in axes:
    ax.axis("off")
plt.show()

# %%
def show_kernel(kernel: str, custom: str, index: int) -> None:
    """Draw the digit, the kernel's numbers and the feature map; explain bad custom input."""
    try:
        weights = parse_kernel(custom) if kernel == "custom" else torch.tensor(KERNELS[kernel])
    except ValueError as err:
        print(f"⚠ {err}")
        return
    response = feature_map(x_test[index], weights)
    limit = response.abs().max().item() or 1.0
    fig, (ax_digit, ax_kernel, ax_map) = plt.subplots(1, 3, figsize=(7.5, 2.6))
    ax_digit.imshow(x_test[index, 0], cmap="gray"); ax_digit.set_title(f"test digit {index}", fontsize=9)
    top = float(weights.abs().max()) or 1.0
    ax_kernel.imshow(weights, cmap="RdBu_r", vmin=-top, vmax=top)
    for (r, c), value in np.ndenumerate(weights.numpy()):
        ax_kernel.text(c, r, f"{value:.2g}", ha="center", va="center", fontsize=9)
    ax_kernel.set_title("kernel", fontsize=9)
    ax_map.imshow(response, cmap="RdBu_r", vmin=-limit, vmax=limit); ax_map.set_title("feature map", fontsize=9)
    for ax in (ax_digit, ax_kernel, ax_map):
        ax.axis("off")
    plt.show()


widgets.interact(show_kernel,
                 kernel=widgets.Dropdown(options=[*KERNELS, "custom"], description="kernel"),
                 custom=widgets.Text("0 1 0, 1 -4 1, 0 1 0", description="custom 3×3",
                                     continuous_update=False),
                 index=widgets.IntSlider(0, 0, len(x_test) - 1, description="test digit"));

# %% [markdown]
# ## 5 · The talk's common DNNs: DCNN, RNN, DBN
#
# The talk names three families. The **deep convolutional network** (DCNN) is LeNet-5 above, and
# chapter 3 scales it up to AlexNet, VGG, GoogLeNet and ResNet. The other two are below, small but
# real: a recurrent network, and a deep belief network trained the way it was in 2006.
#
# ### RNN: a representation of sequential data
#
# A recurrent network reads a sequence one step at a time and carries a *state* from step to step:
# $h_t = \tanh(W x_t + U h_{t-1} + b)$ {cite:p}`elman1990finding`. Any digit is a sequence if we read
# it row by row, so this one reads the original 8×8 scans, 8 pixels at a time, and classifies the
# digit from its final state. Chapter 4 uses the same idea to fold a sentence into one vector.

# %%
class ElmanRNN(nn.Module):
    """A simple recurrent network: h_t = tanh(W x_t + U h_{t-1} + b), classified from h_T."""
    def __init__(self, n_inputs: int = 8, n_hidden: int = 64, n_classes: int = 10):
        super().__init__()
        self.W = nn.Linear(n_inputs, n_hidden)
        self.U = nn.Linear(n_hidden, n_hidden, bias=False)
        self.classify = nn.Linear(n_hidden, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        rows = images.flatten(1, 2)                             # (N, 1, 8, 8) → (N, 8 rows, 8 pixels)
        h = torch.zeros(len(rows), self.U.in_features, device=rows.device)
        for t in range(rows.shape[1]):                         # one row per step, top to bottom
            h = torch.tanh(self.W(rows[:, t]) + self.U(h))
        return self.classify(h)


digits8 = load_digits(image_size=8)                          # the 8×8 scans, same split as above
rnn = ElmanRNN()
rnn_history = fit(rnn, (digits8.x_train, digits8.y_train), (digits8.x_test, digits8.y_test),
                  epochs=P.rnn_epochs, lr=3e-3, batch_size=32, device=device, desc="RNN")
rnn_accuracy = evaluate(rnn, (digits8.x_test, digits8.y_test))["accuracy"]
print(f"RNN reading rows: test accuracy {rnn_accuracy:.3f} "
      f"({sum(p.numel() for p in rnn.parameters()):,} parameters)")

# %% [markdown]
# ### DBN: a hierarchical representation, learned without labels
#
# A deep belief network {cite:p}`hinton2006fast` is built from **restricted Boltzmann machines**
# (RBMs). An RBM has a layer of visible units $v$ (the 64 pixels) and a layer of binary hidden units
# $h$, joined by weights $W$ and nothing else, and gives every joint state an energy
# $E(v, h) = -v^\top W h - b_v^\top v - b_h^\top h$; low energy means probable. Because there are no
# connections within a layer, each layer is easy to compute given the other:
# $p(h_j = 1 \mid v) = \sigma(b_{h,j} + v^\top W_{:,j})$ and
# $p(v_i = 1 \mid h) = \sigma(b_{v,i} + W_{i,:} h)$.
#
# Training raises the probability of the data. The exact gradient needs the model's own statistics,
# which would take a long Markov chain to estimate; **contrastive divergence** (CD-k)
# {cite:p}`hinton2002training` starts the chain at the data and runs only $k$ steps:
# $\Delta W \propto \langle v h^\top \rangle_{\text{data}} - \langle v h^\top \rangle_{k\text{ steps}}$.

# %%
class RBM:
    """A restricted Boltzmann machine: visible units in [0, 1], binary hidden units."""
    def __init__(self, n_visible: int, n_hidden: int, generator: torch.Generator):
        self.generator, on = generator, generator.device
        self.W = 0.01 * torch.randn(n_visible, n_hidden, generator=generator, device=on)
        self.b_v = torch.zeros(n_visible, device=on)
        self.b_h = torch.zeros(n_hidden, device=on)

    def hidden(self, v: torch.Tensor) -> torch.Tensor:          # p(h = 1 | v)
        return torch.sigmoid(v @ self.W + self.b_h)

    def visible(self, h: torch.Tensor) -> torch.Tensor:         # p(v = 1 | h)
        return torch.sigmoid(h @ self.W.T + self.b_v)

    def sample(self, p: torch.Tensor) -> torch.Tensor:
        return torch.bernoulli(p, generator=self.generator)

    def contrastive_divergence(self, v0: torch.Tensor, k: int = 1) -> tuple[torch.Tensor, ...]:
        """CD-k estimates of the gradients for W, b_v and b_h (data term minus k-step term)."""
        p_h0 = self.hidden(v0)
        h = self.sample(p_h0)
        for _ in range(k):                                      # k steps of Gibbs sampling
            v_k = self.visible(h)                               # mean-field visible units
            p_hk = self.hidden(v_k)
            h = self.sample(p_hk)
        n = len(v0)
        return ((v0.T @ p_h0 - v_k.T @ p_hk) / n, (v0 - v_k).mean(0), (p_h0 - p_hk).mean(0))

    def reconstruction_error(self, v: torch.Tensor) -> float:
        """Mean squared distance between the data and v → p(h|v) → p(v|h), per example."""
        return ((v - self.visible(self.hidden(v))) ** 2).sum(1).mean().item()

# %% [markdown]
# The training loop is plain stochastic gradient *ascent* with momentum and a little weight decay,
# with the settings of Hinton's practical guide {cite:p}`hinton2012practical`: momentum 0.5 for the
# first epochs, then 0.9.

# %%
def train_rbm(rbm: RBM, data: torch.Tensor, epochs: int, k: int = 1, lr: float = 0.05,
              weight_decay: float = 1e-4, batch_size: int = 32) -> list[float]:
    """Train with CD-k; returns the reconstruction error after each epoch."""
    params = (rbm.W, rbm.b_v, rbm.b_h)
    velocity = [torch.zeros_like(p) for p in params]
    errors = []
    for epoch in range(epochs):
        momentum = 0.5 if epoch < 5 else 0.9
        order = torch.randperm(len(data), generator=rbm.generator, device=rbm.generator.device)
        for start in range(0, len(data), batch_size):
            grad_W, grad_b_v, grad_b_h = rbm.contrastive_divergence(data[order[start:start + batch_size]], k)
            grads = (grad_W - weight_decay * rbm.W, grad_b_v, grad_b_h)
            for p, v, g in zip(params, velocity, grads):
                v.mul_(momentum).add_(lr * g)
                p.add_(v)
        errors.append(rbm.reconstruction_error(data))
    return errors

# %% [markdown]
# **Greedy layer-wise training.** The first RBM learns features of the pixels. Its hidden
# probabilities then become the "data" of a second RBM, which learns features of those features.
# No labels are used. The 8×8 digits, with grey levels in [0, 1], are read as pixel probabilities.

# %%
generator = torch.Generator(device=device).manual_seed(0)
v_train = digits8.x_train.flatten(1).to(device)              # (N, 64), values in [0, 1]
v_test = digits8.x_test.flatten(1).to(device)
h1_size, h2_size = P.rbm_hidden
rbm1 = RBM(64, h1_size, generator)
errors1 = train_rbm(rbm1, v_train, P.rbm_epochs, k=P.cd_k)
rbm2 = RBM(h1_size, h2_size, generator)
errors2 = train_rbm(rbm2, rbm1.hidden(v_train), P.rbm_epochs, k=P.cd_k)
print(f"RBM 1 (64 → {h1_size}): reconstruction error {errors1[0]:.2f} → {errors1[-1]:.2f} per digit")
print(f"RBM 2 ({h1_size} → {h2_size}): reconstruction error {errors2[0]:.2f} → {errors2[-1]:.2f}")
print(f"test digits through RBM 1: reconstruction error {rbm1.reconstruction_error(v_test):.2f}")

# %% mystnb={"figure": {"caption": "The features the first RBM learned without labels: the weights of 32 of its hidden units, each drawn as an 8\u00d78 image (red positive, blue negative).", "name": "fig-02-rbm-features"}, "image": {"alt": "A grid of 32 small 8 by 8 colour patches with red and blue blobs and strokes, the learned RBM features."}}
fig = show_filters(rbm1.W.T[:32].reshape(-1, 1, 8, 8), ncols=8, title="RBM 1 features")
plt.show()

# %% mystnb={"figure": {"caption": "Top row: test digits the RBMs never saw. Middle: reconstructed by the first RBM (v \u2192 h\u2081 \u2192 v). Bottom: reconstructed through both layers of the DBN (v \u2192 h\u2081 \u2192 h\u2082 \u2192 h\u2081 \u2192 v).", "name": "fig-02-dbn-reconstructions"}, "image": {"alt": "Three rows of twelve 8 by 8 digits: originals, their one-layer reconstructions, and their two-layer reconstructions, which look like smoother versions of the same digits."}}
with torch.no_grad():
    originals = v_test[:12]
    one_layer = rbm1.visible(rbm1.hidden(originals))
    two_layers = rbm1.visible(rbm2.visible(rbm2.hidden(rbm1.hidden(originals))))
fig = show_images(torch.cat([originals, one_layer, two_layers]).reshape(-1, 8, 8).cpu(), ncols=12)
plt.show()

# %% [markdown]
# A DBN is also a **generative** model: run Gibbs sampling in the top RBM (alternating between
# $h_1$ and $h_2$) from a random start, then map $h_1$ down to pixels through the first RBM. Below,
# eight chains after 1, 10, 100 and the profile's full number of steps.

# %% mystnb={"figure": {"caption": "Samples dreamed by the DBN: eight Gibbs chains in the top RBM started from random noise (columns), shown after 1, 10, 100 and more steps (rows).", "name": "fig-02-dbn-samples"}, "image": {"alt": "Four rows of eight 8 by 8 images: noisy blobs in the first row that turn into digit-like shapes in later rows."}}
h1 = rbm2.sample(torch.full((8, h1_size), 0.5, device=device))
snapshots, checkpoints = [], sorted({1, 10, 100, P.gibbs_steps})
with torch.no_grad():
    for step in range(1, P.gibbs_steps + 1):
        p_h1 = rbm2.visible(rbm2.sample(rbm2.hidden(h1)))
        h1 = rbm2.sample(p_h1)
        if step in checkpoints:
            snapshots.append(rbm1.visible(p_h1))
fig = show_images(torch.cat(snapshots).reshape(-1, 8, 8).cpu(), ncols=8,
                  labels=[f"step {s}" if i == 0 else "" for s in checkpoints for i in range(8)])
plt.show()

# %% [markdown]
# **What to notice.** Without a single label, the first RBM's units became local detectors of
# blobs and short strokes (each weighs a few neighbouring pixels for and others against); the reconstructions keep each digit's identity; and the chains wander from noise to
# digit-like shapes. The samples are blurry and sometimes ambiguous: CD-1 with a few epochs on 1,347
# digits is a rough estimate of the model's gradient (try the exercises).
#
# ### Fine-tuning: what pretraining buys
#
# The 2006 recipe then turns the stack into an ordinary feed-forward network with the same sigmoid
# units, adds an output layer and fine-tunes everything with backpropagation. We compare it with the
# *same* network, trained the same way (SGD with momentum), from a random initialisation.

# %%
def dbn_classifier(pretrained: bool) -> nn.Sequential:
    """64 → h1 → h2 → 10 sigmoid network; its first two layers copied from the RBMs if pretrained."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, h1_size), nn.Sigmoid(),
                        nn.Linear(h1_size, h2_size), nn.Sigmoid(), nn.Linear(h2_size, 10))
    if pretrained:
        with torch.no_grad():
            for layer, rbm in ((net[0], rbm1), (net[2], rbm2)):
                layer.weight.copy_(rbm.W.T)
                layer.bias.copy_(rbm.b_h)
    return net


def fine_tune(net: nn.Module, x: torch.Tensor, y: torch.Tensor, name: str):
    sgd = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    return fit(net, (x, y), (v_test.cpu(), digits8.y_test), epochs=P.finetune_epochs, optimizer=sgd,
               batch_size=32, device=device, desc=name)


runs = {name: fine_tune(dbn_classifier(pretrained), v_train.cpu(), digits8.y_train, name)
        for name, pretrained in (("DBN-pretrained", True), ("random init", False))}
for name, history in runs.items():
    print(f"{name:>15}: test accuracy after epoch 1: {history['val_accuracy'][0]:.3f}, "
          f"after {P.finetune_epochs}: {history.last('val_accuracy'):.3f}")

# %% mystnb={"figure": {"caption": "Fine-tuning the same sigmoid network from the DBN's weights (blue) and from a random initialisation (orange): loss and accuracy on training (solid) and test (dashed) digits.", "name": "fig-02-dbn-finetune"}, "image": {"alt": "Two line charts over fine-tuning epochs: the pretrained network's accuracy is high from the first epoch, while the randomly initialised one stays near 10 percent for several epochs before rising."}}
fig = plot_history(runs, title="Same network, two starting points")
plt.show()

# %% [markdown]
# With all 1,347 labels, pretraining mostly buys *speed*: the random network sits on a plateau at
# chance level for several epochs, a classic difficulty of deep sigmoid networks, and is still a few
# points behind at the end. The larger benefit
# of the 2006 recipe is when labels are scarce but unlabelled data are not. The RBMs already saw all
# training images without labels; now we fine-tune with only ten labelled digits per class
# (`P.labels_per_class`).

# %%
few = torch.cat([torch.nonzero(digits8.y_train == c)[:P.labels_per_class, 0] for c in range(10)])
few_label_accuracy = {}
for name, pretrained in (("DBN-pretrained", True), ("random init", False)):
    history = fine_tune(dbn_classifier(pretrained), v_train.cpu()[few], digits8.y_train[few], name)
    few_label_accuracy[name] = history.last("val_accuracy")
    print(f"{name:>15} with {len(few)} labels: test accuracy {few_label_accuracy[name]:.3f}")

# %% [markdown]
# **What to notice.** With ten labels per class the pretrained network is far ahead: its features
# were learned from all the unlabelled digits, and the labels only have to name them. This is why
# deep belief networks revived deep learning in 2006. They faded again after 2010–2012 because
# better initialisations, ReLU units, dropout and, above all, large labelled datasets on GPUs made
# direct training work (see the exercises); unsupervised pretraining came back later in other forms.

# %% [markdown]
# ## Checks
#
# The claims this chapter makes, asserted on the numbers it just measured.

# %%
for name, (seconds, output) in timings.items():
    assert 0 < seconds < 60 and torch.isfinite(output).all(), f"timing on {name} failed"
if device.type == "cuda":   # the GPU computes the same convolution (TF32 tolerance)
    torch.testing.assert_close(timings[str(device)][1], timings["cpu"][1], rtol=2e-2, atol=2e-2)
for p in (1, 2):
    assert change["C-cells"][p] < 0.5 * change["raw pixels"][p], f"C-cells not shift-tolerant at {p} px"
    assert change["C-cells"][p] < 0.5 * change["S-cells"][p], f"C-cells no better than S-cells at {p} px"
assert trainable_c1_f6 == 60_000, "LeNet-5's C1–F6 should have the paper's 60,000 parameters"
assert lenet_accuracy >= 0.95, f"LeNet-5 should reach 95 % test accuracy, got {lenet_accuracy:.3f}"
assert rnn_accuracy >= 0.90, f"the row-reading RNN should reach 90 %, got {rnn_accuracy:.3f}"
assert errors1[-1] < 0.5 * errors1[0] and errors2[-1] < 0.5 * errors2[0], "RBM training did not converge"
pretrained, random_init = runs["DBN-pretrained"]["val_accuracy"], runs["random init"]["val_accuracy"]
assert pretrained[-1] >= 0.95, f"the fine-tuned DBN should reach 95 %, got {pretrained[-1]:.3f}"
assert pretrained[0] >= random_init[0] + 0.3, "pretraining should give a head start in epoch 1"
assert few_label_accuracy["DBN-pretrained"] >= few_label_accuracy["random init"] + 0.2, \
    "with few labels, pretraining should help by at least 20 points"
print(f"all checks passed: LeNet-5 {lenet_accuracy:.3f}, RNN {rnn_accuracy:.3f}, DBN {pretrained[-1]:.3f} "
      f"(random init {random_init[-1]:.3f}); with {len(few)} labels: "
      f"DBN {few_label_accuracy['DBN-pretrained']:.3f} vs {few_label_accuracy['random init']:.3f}")

# %% [markdown]
# ## Exercises
#
# 1. **Blurry digits.** Repeat the shift measurement of section 2 on the digits as they are
#    (`x_test[:P.shift_samples]`) instead of line drawings. Why do the raw pixels change much less?
# 2. **A fully connected C3.** Replace `C3()` by `nn.Conv2d(6, 16, kernel_size=5)`. How many
#    parameters does the layer get, and does the accuracy change?
# 3. **Why DBNs faded.** Fine-tune the random network with `torch.optim.Adam(net.parameters(), 1e-3)`,
#    or with `nn.ReLU()` instead of `nn.Sigmoid()`. How much of the pretraining advantage is left
#    with all labels? With ten per class?
# 4. **Better samples.** Train the RBMs with `k=10` (CD-10) and more epochs. Do the DBN's samples
#    look more like digits? What does it cost?
# 5. **Your GPU.** Run the timing cell in Colab with a GPU runtime and increase `P.conv_batch`. At
#    which batch size does the GPU stop getting faster per image?
#
# ```{dropdown} Hints and solutions
# 1. `lines = x_test[:P.shift_samples]` and rerun the measurement cell. The upsampled scans are
#    smooth, with strokes 2–3 pixels wide and soft edges, so a 1-pixel shift leaves most of the ink
#    overlapping; blurring is itself a weak form of pooling. The C-cells' advantage shrinks.
# 2. 6·16·25 + 16 = 2,416 parameters instead of 1,516 (and 241,600 connections instead of 151,600).
#    On these digits the accuracy stays within a point or so: the table was a 1998 economy and a way
#    to make the C3 maps differ, not a source of accuracy.
# 3. With ReLU units (same SGD) the random network learns from the first epoch and ends level with
#    the pretrained one, with all labels and, on these digits, even with ten per class. With Adam
#    and sigmoids it leaves the plateau after two or three epochs and ends a few points behind with
#    all labels, but with ten per class it is still near chance after 20 epochs. Units that do not
#    saturate, good initialisation and adaptive optimisers removed most of the need for greedy
#    pretraining.
# 4. Longer chains give a better gradient estimate, so samples get sharper and more varied, at k
#    times the cost per update. Persistent CD (keeping the chains between updates) is the classic
#    cheaper alternative.
# 5. The time per image drops as the batch grows, while the GPU still has idle units; once the
#    batch keeps the whole GPU busy, the time per batch grows in proportion to its size.
# ```
#
# ## References
#
# Simple and complex cells {cite:p}`hubel1962receptive`; the Neocognitron
# {cite:p}`fukushima1980neocognitron`; backpropagation {cite:p}`rumelhart1986learning`; LeCun's
# zip-code network {cite:p}`lecun1989backpropagation` and LeNet-5 {cite:p}`lecun1998gradient`;
# recurrent networks {cite:p}`elman1990finding`; contrastive divergence {cite:p}`hinton2002training`
# and its practice {cite:p}`hinton2012practical`; deep belief nets {cite:p}`hinton2006fast`; GPUs
# for deep networks {cite:p}`raina2009large`; ImageNet {cite:p}`deng2009imagenet` and AlexNet
# {cite:p}`krizhevsky2012imagenet`, {cite:p}`krizhevsky2014one`. The digits ship with scikit-learn
# {cite:p}`pedregosa2011scikit`. Full entries are in the [bibliography](../book/bibliography.md).
