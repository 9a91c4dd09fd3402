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
# what changed after 2006 was above all the data and the hardware. This chapter walks that
# lineage with code that runs: Fukushima's **Neocognitron** with hand-set S-cells and
# C-cells, LeCun's **LeNet-5** as the 1998 paper drew it (down to its odd C3 wiring and its
# 60,000 parameters), except for its output layer, and the three "common DNNs" of the talk,
# with a **deep belief network** trained the 2006 way, one restricted Boltzmann machine at a
# time, and measured against baselines that work. Along the way you time one convolution on
# your own hardware to see why GPUs mattered, and see where convolutional networks went next.
#
# **Learning goals**
# - Place the milestones of the talk's timeline (Neocognitron 1980, LeCun 1989, LSTM 1997,
#   LeNet-5 1998, DBN 2006, ImageNet and GPUs 2009–2012) and say what each one added.
# - Explain S-cells (feature detectors = convolution) and C-cells (tolerance to position =
#   pooling), and measure the tolerance on real digits.
# - Write LeNet-5 layer by layer, check its parameter and connection counts against the paper,
#   train it on MNIST, and read its learned kernels and feature maps.
# - Train a restricted Boltzmann machine with contrastive divergence, stack two into a deep
#   belief network, and measure when greedy pretraining helps, against a tuned network from
#   random initialisation and logistic regression.
#
# **Run time:** sized for the CPU profile's budget of 90 s on a 2-core laptop (measured with
# `make bench`); the GPU profile trains on the full MNIST when its files are present.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "DL models has been here for a long time — Fukushima (1980) Neo-Cognitron" | We build the Neocognitron's two kinds of cells and measure how C-cells tolerate a shifted digit. |
# | "LeCun (1989) Convolutional Neural Network" | We write out its 1998 descendant, LeNet-5, check its 60,000 parameters and train it on MNIST digits. |
# | "DL popularity grew recently — with growth of Big Data" | A timeline of the milestones and the size of the training sets they had. |
# | "— with the advent of powerful GPUs" | We time the same batch of convolutions on the CPU and, when there is one, on the GPU. |
# | "Common DNNs: DCNN … images; RNN … sequential data; DBN … hierarchical representation" | LeNet-5 is the DCNN; a recurrent network reads a digit row by row; a deep belief network is pretrained layer by layer and fine-tuned. |
# | "Supervised: ConvNets are everywhere" (face verification, photo search, self-driving cars) | A short section on three of those uses, with their papers. |

# %% tags=["hide-input"]
# Bootstrap: opened alone (Colab, an Azure VM), this installs the course's helpers
# with what this chapter needs (`demystify[ch02]`); in a checkout it does nothing.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:
    repository = "git+https://github.com/demystify-dl/demystifying-deep-learning"
    source = os.environ.get("DEMYSTIFY_SOURCE", repository)
    # %pip install -q "demystify[ch02] @ {source}"

# %% [markdown]
# The setup cell seeds every random number generator (seed 0 unless `DEMYSTIFY_SEED` says
# otherwise), picks the device (a GPU when there is one) and loads this chapter's **profile**:
# the sizes it runs with on a CPU or on a GPU.
#
# **Official data.** Everything here runs offline on what the course ships. In the GPU profile
# the chapter trains on the full MNIST (55,000 training and 5,000 validation digits) when its
# files are in the data folder (`DEMYSTIFY_DATA`, see [Setup](../book/setup.md)) or when you
# allow the download: run `%env DEMYSTIFY_DOWNLOAD=1` before the setup cell (in Colab too).
# Without them, and always in the CPU profile, it uses MNIST's 10,000 test digits, which ship
# with the course; the `dataset:` line the chapter prints says which it loaded.

# %%
import copy
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from skimage.morphology import dilation, skeletonize
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from demystify import (claim, evaluate, fit, glue, load_digits, load_handwritten_digits,
                       plot_history, report, show_feature_maps, show_filters,
                       show_images, start, timing)
from demystify.hardware import time_call
from demystify.images import mean_relative_change, move

device, P = start("02_cnn_history")

# %% [markdown]
# ## 1 · Why now? Forty years of ideas, then data and hardware
#
# The talk's point is that the models are old and their popularity is new. The timeline below
# marks the papers this chapter rests on. Blue entries are *ideas*: Hubel and Wiesel's simple and
# complex cells in the cat's visual cortex {cite:p}`hubel1962receptive`, the Neocognitron that
# copied them {cite:p}`fukushima1980neocognitron`, backpropagation
# {cite:p}`rumelhart1986learning`, LeCun's convolutional network trained on U.S. zip codes
# {cite:p}`lecun1989backpropagation`, Elman's recurrent network {cite:p}`elman1990finding`, the
# long short-term memory (LSTM) that let recurrent networks keep information over long
# sequences {cite:p}`hochreiter1997long`, LeNet-5 {cite:p}`lecun1998gradient` and deep belief
# nets {cite:p}`hinton2006fast`. Green entries are *data*, orange ones *hardware*: ImageNet
# {cite:p}`deng2009imagenet`, deep networks trained on graphics cards {cite:p}`raina2009large`,
# Cireșan and colleagues' convolutional networks on GPUs {cite:p}`ciresan2011flexible`, whose
# committee won the preliminary phase of the German traffic-sign recognition benchmark in 2011
# {cite:p}`ciresan2011committee`, a year before AlexNet {cite:p}`krizhevsky2012imagenet` brought
# data and GPUs together and won ImageNet's 2012 challenge by a wide margin.

# %% mystnb={"figure": {"caption": "The lineage of this chapter: ideas (blue) from 1962 to 2006, then the data (green) and hardware (orange) that made them practical.", "name": "fig-02-timeline"}, "image": {"alt": "A timeline chart with one row per milestone, from 1962 at the top to 2012 at the bottom: simple and complex cells, Neocognitron, backpropagation, LeCun's zip-code convnet, Elman's recurrent network, the LSTM, LeNet-5 and MNIST, deep belief nets in blue; ImageNet in green; GPU training, GPU convnets winning contests and AlexNet in orange."}}
MILESTONES = [  # (year, what, kind)
    (1962, "Hubel & Wiesel: simple and complex cells", "idea"),
    (1980, "Fukushima: the Neocognitron", "idea"),
    (1986, "Rumelhart, Hinton & Williams: backpropagation", "idea"),
    (1989, "LeCun et al.: a convnet trained on 7,291 zip-code digits", "idea"),
    (1990, "Elman: the simple recurrent network", "idea"),
    (1997, "Hochreiter & Schmidhuber: the LSTM", "idea"),
    (1998, "LeCun et al.: LeNet-5 and MNIST (60,000 digits)", "idea"),
    (2006, "Hinton et al.: deep belief nets", "idea"),
    (2009, "Deng et al.: ImageNet, millions of labelled images", "data"),
    (2009, "Raina et al.: deep nets trained on a GPU", "hardware"),
    (2011, "Cireșan et al.: GPU convnets win contests", "hardware"),
    (2012, "Krizhevsky et al.: AlexNet, 1.2 M images, 2 GPUs, 6 days", "hardware"),
]
COLOURS = {"idea": "tab:blue", "data": "tab:green", "hardware": "tab:orange"}
fig, ax = plt.subplots(figsize=(10, 4.6))
for row, (year, label, kind) in enumerate(MILESTONES):
    ax.plot([1960, year], [-row, -row], color="lightgrey", lw=1, zorder=1)
    ax.plot(year, -row, "o", color=COLOURS[kind], zorder=2)
    right = year < 1995                    # late entries put their label on the left
    text = f"{year}  {label}" if right else f"{label}  {year}"
    ax.text(year + (1 if right else -1), -row, text, va="center",
            ha="left" if right else "right", fontsize=9, color=COLOURS[kind],
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
for kind, colour in COLOURS.items():
    ax.plot([], [], "o", color=colour, label=kind)
ax.set_xlim(1958, 2016); ax.set_ylim(-len(MILESTONES) + 0.4, 0.8)
ax.set_yticks([]); ax.set_xlabel("year")
ax.legend(loc="upper right", fontsize=8, frameon=False)
for side in ("left", "right", "top"):
    ax.spines[side].set_visible(False)
plt.show()

# %% [markdown]
# ### Big data
#
# Each generation of these models was trained on a much larger set of labelled images. The digits
# this chapter uses on a CPU (MNIST's 10,000 official test digits, re-split into training,
# validation and test digits) are the small end of that scale; the numbers of the others are
# the training-set sizes their papers report.

# %%
data = load_handwritten_digits(prefer=P.dataset, image_size=28)
x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
x_val, y_val = data.x_val, data.y_val      # settings are chosen on these, never on test

# %%
# NBVAL_CHECK_OUTPUT
TRAINING_SETS = {"USPS zip codes (LeCun et al. 1989)": 7_291,
                 "MNIST (LeNet-5, 1998)": 60_000,
                 "ImageNet ILSVRC-2012 (AlexNet)": 1_281_167,
                 f"{data.name} (this chapter)": len(x_train)}
for name, size in TRAINING_SETS.items():
    bar_chart = "█" * round(math.log10(size) * 4)
    print(f"{name:>42}: {size:>9,} training images  {bar_chart}")

# %% [markdown]
# ### Powerful GPUs: one convolution, timed
#
# A convolutional network spends almost all of its time in convolutions, and a convolution is
# millions of independent multiply-adds: exactly what a graphics card does in parallel. Here is one
# real layer, the second convolution of AlexNet as torchvision builds it
# {cite:p}`krizhevsky2014one` (64 → 192 channels, 5×5 kernels, on 27×27 feature maps), applied to
# the same random batch on the CPU and, when this machine has one, on the GPU. We count the
# arithmetic (two operations per weight per output position) and report the rate.
#
# The timing uses the course's `time_call`, built on PyTorch's `torch.utils.benchmark` (chapter
# 10 explains the method): it warms up, repeats the call until it has a stable median, waits
# for the GPU to finish, and runs on a stated number of CPU threads: here the threads this
# chapter runs on (one, set by `start`, so that the chapter's numbers do not depend on the
# machine's cores). Exercise 5 tries more.

# %%
torch.manual_seed(0)
conv2 = nn.Conv2d(64, 192, kernel_size=5, padding=2)   # AlexNet's conv2 (torchvision)
conv2.requires_grad_(False)                    # forward only: no graph is recorded
batch = torch.randn(P.conv_batch, 64, 27, 27)
flops = 2 * conv2.weight.numel() * 27 * 27 * P.conv_batch   # 2 per weight per pixel
threads = torch.get_num_threads()


def time_convolution(on: torch.device) -> tuple[float, torch.Tensor]:
    """Median seconds of conv2 over the batch on one device, and its output."""
    layer, inputs = copy.deepcopy(conv2).to(on), batch.to(on)
    timed = time_call(lambda: layer(inputs), on, threads=threads,
                      min_time=P.conv_seconds)
    return timed.seconds, timed.result.cpu()          # the median, and the last output


timings = {"cpu": time_convolution(torch.device("cpu"))}
if device.type == "cuda":
    timings[str(device)] = time_convolution(device)
for name, (seconds, _) in timings.items():
    epoch_hours = len(range(0, 1_281_167, P.conv_batch)) * seconds / 3600
    timing(f"conv2_seconds_{name.replace(':', '_')}", seconds)
    glue(f"conv2_imagenet_hours_{name.replace(':', '_')}", epoch_hours)
    print(f"{name:>6}: {seconds * 1e3:8.2f} ms per batch of {P.conv_batch}, "
          f"{flops / seconds / 1e9:7.1f} GFLOP/s; one ImageNet epoch through this "
          f"layer alone: {epoch_hours:6.2f} h")
glue("cpu_threads", threads)
if device.type != "cuda":
    print("(no CUDA GPU here: open this notebook in Colab with a GPU runtime "
          "to add a GPU row)")

# %% [markdown]
# **What to notice.** On this machine's CPU, with {glue:text}`cpu_threads` thread(s), this one
# layer, forward only, would need {glue:text}`conv2_imagenet_hours_cpu:.1f` hours for a single
# pass over ImageNet's training images; AlexNet has five convolutions and three large fully
# connected layers, needs a backward pass as well, and was trained for roughly 90 passes. Run
# this cell on a GPU to see the same arithmetic done many times faster: in 2009 Raina et al.
# trained deep belief networks on a graphics card tens of times faster than on a dual-core CPU
# {cite:p}`raina2009large`. The models of the 1980s simply could not be trained at this scale
# on the hardware of their time; chapter 10 measures GPUs in more depth.

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
# - **C-cells** (complex) each look at a neighbourhood of S-cells of one plane and respond when
#   S-cells there respond. Fukushima's C-cell adds its inputs with fixed positive weights and
#   squashes the sum with a saturating function: a blurred, OR-like pooling, closer to
#   average-pooling followed by a soft threshold than to a maximum. This is where tolerance to
#   position comes from. **Max-pooling**, which keeps only the strongest input, came later: in
#   Weng, Ahuja and Huang's Cresceptron {cite:p}`weng1992cresceptron`, as a model of complex
#   cells {cite:p}`riesenhuber1999hierarchical` and in trained convolutional networks
#   {cite:p}`ranzato2007unsupervised`; our C-cells use it, because it is what most networks
#   since do and it makes the OR explicit.
#
# Fukushima's S-cells learned their patterns without a teacher; here we set them by hand as four
# oriented line detectors, and show the network what it was shown in 1980: line drawings. We thin
# each digit to its skeleton and redraw it with a 2-pixel pen. To move a digit we use `move`
# from `demystify.images`, the same helper chapter 1 uses: a whole-pixel shift that fills the
# uncovered border with blank paper.

# %%
def line_drawing(images: torch.Tensor, threshold: float = 0.35) -> torch.Tensor:
    """Each digit thinned to its skeleton and redrawn with a 2-pixel pen (binary)."""
    pen = np.ones((2, 2), dtype=bool)
    drawn = [dilation(skeletonize(image > threshold), pen)
             for image in images[:, 0].cpu().numpy()]
    return torch.tensor(np.stack(drawn), dtype=torch.float32).unsqueeze(1)


bar = torch.tensor([[-1., -1, -1], [2, 2, 2], [-1, -1, -1]]) / 6   # line, dark surround
slash = torch.tensor([[-1., -1, 2], [-1, 2, -1], [2, -1, -1]]) / 6
S_KERNELS = torch.stack([bar, slash, bar.T, slash.flip(1)]).unsqueeze(1)  # (4, 1, 3, 3)
ORIENTATIONS = ["—", "/", "|", "\\"]


def s_cells(x: torch.Tensor, threshold: float = 0.1) -> torch.Tensor:
    """S-layer: four oriented line detectors swept over the image, above a threshold."""
    return F.relu(F.conv2d(x, S_KERNELS.to(x.device), padding=1) - threshold)


def c_cells(s: torch.Tensor, size: int = 8, stride: int = 4) -> torch.Tensor:
    """C-layer: the strongest S-cell of its plane in its 8×8 neighbourhood."""
    return F.max_pool2d(s, size, stride, padding=(size - stride) // 2)


lines = line_drawing(x_test[:P.shift_samples])
s_shape = tuple(s_cells(lines[:1]).shape[1:])
c_shape = tuple(c_cells(s_cells(lines[:1])).shape[1:])
print(f"{len(lines)} test digits as line drawings; S-layer {s_shape}, "
      f"C-layer {c_shape}")

# %% mystnb={"figure": {"caption": "One digit as a line drawing (left), the responses of the four oriented S-cell planes, and of the four C-cell planes; bottom row: the same digit moved 2 pixels right. The S-planes move with the digit; the coarse C-planes change much less than the S-planes.", "name": "fig-02-neocognitron"}, "image": {"alt": "Two rows of nine small images: a line-drawing digit, four thin orientation maps and four coarse 7 by 7 maps; the second row shows the digit shifted right, with coarse maps that change little."}}
fig, axes = plt.subplots(2, 9, figsize=(13, 3.4))
for row, pixels in enumerate((0, 2)):
    image = move(lines[:1], dx=pixels)
    s, c = s_cells(image)[0], c_cells(s_cells(image))[0]
    panels = [(image[0, 0], f"input, shift {pixels}")]
    panels += [(s[k], f"S {ORIENTATIONS[k]}") for k in range(4)]
    panels += [(c[k], f"C {ORIENTATIONS[k]}") for k in range(4)]
    for ax, (panel, title) in zip(axes[row], panels):
        cmap = "gray" if title.startswith("input") else "viridis"
        ax.imshow(panel, cmap=cmap, vmin=0)
        ax.set_title(title, fontsize=9); ax.set_xticks([]); ax.set_yticks([])
plt.show()

# %% [markdown]
# Now the measurement, over all the test digits: move each one by 0 to 4 pixels and ask how much
# each representation changes, as the distance between the shifted and the original response
# relative to the original's size (`mean_relative_change`, the measure chapter 1 applies to
# pixels): 0 means unchanged, and $\sqrt 2 \approx 1.41$ means the two share nothing.

# %%
layers = {"raw pixels": lambda x: x, "S-cells": s_cells,
          "C-cells": lambda x: c_cells(s_cells(x))}
shifts = list(range(P.max_shift + 1))
change = {name: [mean_relative_change(f(lines), f(move(lines, dx=p))) for p in shifts]
          for name, f in layers.items()}
print("shift (px)  " + "".join(f"{p:>7}" for p in shifts))
for name, values in change.items():
    print(f"{name:<11} " + "".join(f"{v:7.2f}" for v in values))
# The C-cells' change as a fraction of the pixels' and S-cells' (worst of 1 and 2 px)
worst_vs_pixels = max(change["C-cells"][p] / change["raw pixels"][p] for p in (1, 2))
worst_vs_s = max(change["C-cells"][p] / change["S-cells"][p] for p in (1, 2))
claim("c_cells_change_vs_pixels", worst_vs_pixels, "< 0.5", tol=0.005,
      says="at 1 and 2 px the C-cells change less than half as much as the pixels")
claim("c_cells_change_vs_s_cells", worst_vs_s, "< 0.5", tol=0.005,
      says="at 1 and 2 px the C-cells change less than half as much as the S-cells")
claim("s_cells_minus_pixels_change_1px", change["S-cells"][1] - change["raw pixels"][1],
      ">= 0", tol=0.005, parts={"s_cells": change["S-cells"][1],
                                "pixels": change["raw pixels"][1]},
      says="at 1 px the S-cells change at least as much as the pixels");

# %% mystnb={"figure": {"caption": "How much each layer's response changes when the digits move right, averaged over the test digits. Raw pixels and S-cells head for the no-overlap line within a pixel or two; the C-cells change far less.", "name": "fig-02-shift"}, "image": {"alt": "Line chart of relative change against the shift in pixels: the raw pixels and the S-cells rise steeply towards the no-overlap line, the C-cells rise slowly and stay well below them."}}
fig, ax = plt.subplots(figsize=(5.5, 3.4))
for name, values in change.items():
    ax.plot(shifts, values, "o-", label=name)
ax.axhline(math.sqrt(2), color="grey", ls=":", lw=1, label="no overlap (√2)")
ax.set_xlabel("shift (pixels)"); ax.set_ylabel("relative change"); ax.set_xticks(shifts)
ax.set_ylim(-0.05, 1.5); ax.grid(alpha=0.3); ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **What to notice.** A 1-pixel shift already changes a line drawing's pixels by
# {glue:text}`s_cells_minus_pixels_change_1px__pixels:.2f` relative to the drawing's own size
# (its norm), and the
# S-cells, which are position-specific, change at least as much
# ({glue:text}`s_cells_minus_pixels_change_1px__s_cells:.2f`). The C-cells change less than half
# as much: at 1 and 2 pixels their change is at most {glue:text}`c_cells_change_vs_pixels:.2f` of the
# pixels' and {glue:text}`c_cells_change_vs_s_cells:.2f` of the S-cells', because a line that
# moves a pixel or two stays inside the same C-cell's neighbourhood. The
# price is resolution: 28×28 positions became 7×7. Part of the price is also orientation: our
# hand-set S-cells tell orientations apart only roughly (in the figure above, a stroke of one
# slant also drives planes of other orientations), and taking the strongest S-cell
# over an 8×8 neighbourhood blurs that distinction further, so some of the C-cells' tolerance
# comes from losing orientation information, not only position. The Neocognitron alternates S
# and C layers so that each stage combines features *and* tolerates a bit more displacement;
# most convolutional networks since, LeNet-5 included, do the same with convolution and
# pooling.

# %% [markdown]
# ## 3 · LeNet-5, as the 1998 paper drew it (except its output layer)
#
# LeCun and colleagues kept the Neocognitron's local, shared-weight feature detectors and its
# step-by-step loss of resolution, and trained every weight with backpropagation instead of
# Fukushima's unsupervised learning, first on zip codes {cite:p}`lecun1989backpropagation`
# (where strided convolutions did the subsampling), then in LeNet-5
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
# weights; we use an ordinary linear layer and cross-entropy. As in the paper, MNIST's 28×28
# digits are padded to 32×32, which C1's `padding=2` does.
#
# We write C3 as one 6 → 16 convolution whose weights are multiplied by a fixed 0/1 *connection
# mask* built from the paper's table: a masked weight never touches the output, gets no gradient,
# and is not counted as a parameter. (Sixteen separate small convolutions would read the table
# more literally, but train about two and a half times slower on a CPU.)

# %%
class ScaledTanh(nn.Module):
    """LeNet-5's squashing function f(a) = 1.7159 tanh(2a/3) (the paper, Appendix A)."""
    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(2 * a / 3)


class Subsampling(nn.Module):
    """S2/S4: each 2×2 block summed, times a trainable coefficient, plus a bias."""
    def __init__(self, maps: int):
        super().__init__()
        self.coefficient = nn.Parameter(torch.ones(maps))
        self.bias = nn.Parameter(torch.zeros(maps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block_sums = 4 * F.avg_pool2d(x, 2)
        return block_sums * self.coefficient[:, None, None] + self.bias[:, None, None]


# Table I of the paper: the S2 maps that feed each of the 16 C3 maps.
C3_TABLE = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1],
            [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1],
            [5, 0, 1, 2], [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]


class C3(nn.Module):
    """Sixteen 5×5 convolutions, each over only the S2 maps its row of C3_TABLE names"""
    def __init__(self, table: list[list[int]] = C3_TABLE):
        super().__init__()
        self.conv = nn.Conv2d(6, len(table), kernel_size=5)
        mask = torch.zeros(len(table), 6, 1, 1)
        for out, inputs in enumerate(table):
            mask[out, inputs] = 1.0              # C3 map `out` sees these S2 maps
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.conv.weight * self.mask, self.conv.bias)

    def n_parameters(self) -> int:
        """Trainable parameters: the unmasked weights and the 16 biases."""
        return int(self.mask.sum()) * 25 + self.conv.bias.numel()

# %% [markdown]
# With those three pieces, the network itself is seven lines of layers and a forward pass that
# reads like the paper's figure.

# %%
class LeNet5(nn.Module):
    """LeCun et al. 1998, Fig. 2: C1, S2, C3, S4, C5, F6 and a 10-way output."""
    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.C1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)  # 28×28 padded → 6@28×28
        self.S2 = Subsampling(6)                                # → 6@14×14
        self.C3 = C3()                                          # → 16@10×10
        self.S4 = Subsampling(16)                               # → 16@5×5
        self.C5 = nn.Conv2d(16, 120, kernel_size=5)             # → 120@1×1
        self.F6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, n_classes)   # the paper: 10 fixed RBF units
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
PAPER = {"C1": (156, 122_304), "S2": (12, 5_880), "C3": (1_516, 151_600),
         "S4": (32, 2_000), "C5": (48_120, 48_120), "F6": (10_164, 10_164)}
shapes = {}


def remember_shape(name: str):
    """A forward hook that stores the output shape of layer `name` in `shapes`."""
    def hook(module, inputs, output):
        shapes[name] = tuple(output.shape[1:])
    return hook


hooks = [getattr(lenet, name).register_forward_hook(remember_shape(name))
         for name in [*PAPER, "output"]]
lenet(torch.zeros(1, 1, 28, 28))
for hook in hooks:
    hook.remove()
print(f"{'layer':<7}{'output':>14}{'parameters':>12}{'connections':>13}"
      "   paper (parameters, connections)")
counts = {}
for name, shape in shapes.items():
    layer = getattr(lenet, name)
    params = (layer.n_parameters() if isinstance(layer, C3)
              else sum(p.numel() for p in layer.parameters()))
    positions = math.prod(shape[1:]) if len(shape) == 3 else 1
    connections = (5 * math.prod(shape) if isinstance(layer, Subsampling)
                   else params * positions)
    counts[name] = (params, connections)
    paper = (f"{PAPER[name][0]:,}, {PAPER[name][1]:,}" if name in PAPER
             else "10 fixed RBF units")
    size = "×".join(map(str, shape))
    print(f"{name:<7}{size:>14}{params:>12,}{connections:>13,}   {paper}")
trainable_c1_f6 = sum(counts[name][0] for name in PAPER)
connections_c1_f6 = sum(counts[name][1] for name in PAPER)
print(f"C1–F6: {trainable_c1_f6:,} trainable parameters, {connections_c1_f6:,} "
      f"connections; with our linear output layer: "
      f"{trainable_c1_f6 + counts['output'][0]:,} parameters")

# %% [markdown]
# The same comparison as two claims, so that a change to any layer cannot go unnoticed:

# %%
layers_off = sum(counts[name] != PAPER[name] for name in PAPER)
claim("lenet_layers_differing_from_paper", layers_off, "== 0", tol=0,
      says="every layer's parameter and connection counts match the paper's")
claim("lenet_c1_f6_parameters", trainable_c1_f6, "== 60000", tol=0,
      says="C1–F6 have exactly the paper's 60,000 trainable parameters")
claim("lenet_connections_with_rbf_output", connections_c1_f6 + 84 * 10, "== 340908",
      tol=0, parts={"c1_f6": connections_c1_f6, "rbf_output": 84 * 10},
      says="C1–F6 plus the 84×10 RBF output make the paper's 340,908 connections");

# %% [markdown]
# Every count matches the paper, including its totals: "The network in figure 2 contains
# 340,908 connections, but only 60,000 trainable free parameters because of the weight
# sharing" (section II.B) {cite:p}`lecun1998gradient`. Our C1–F6 have exactly
# {glue:text}`lenet_c1_f6_parameters:,.0f` trainable parameters and
# {glue:text}`lenet_connections_with_rbf_output__c1_f6:,.0f` connections; the paper's output
# layer of ten RBF units, each comparing the 84 F6 outputs with its fixed code, adds
# {glue:text}`lenet_connections_with_rbf_output__rbf_output:,.0f` connections and no
# trainable parameters, for {glue:text}`lenet_connections_with_rbf_output:,.0f` in all.
# Notice where they are: C5 and F6 hold almost all the parameters, while
# C1 and C3 do most of the arithmetic, because their few weights are reused at every position.
#
# Now we train it. The paper used a second-order variant of gradient descent for 20 passes over
# MNIST's 60,000 digits; we use Adam {cite:p}`kingma2015adam` on the profile's training digits
# (on a CPU: 7,000 of MNIST's test digits), for at most the profile's number of epochs, and keep
# the epoch that scores best on the validation digits. The test digits are scored once, after.

# %%
lenet_history = fit(lenet, (x_train, y_train), (x_val, y_val), epochs=P.lenet_epochs,
                    lr=P.lr, batch_size=P.batch_size, device=device, desc="LeNet-5",
                    keep_best=True)
lenet_accuracy = evaluate(lenet, (x_test, y_test))["accuracy"]
glue("lenet_train_digits", len(x_train))
print(f"LeNet-5 (epoch {lenet_history.best_epoch} of {P.lenet_epochs}, chosen on "
      f"validation): "
      f"test accuracy {lenet_accuracy:.3f} on {len(x_test):,} test digits")
claim("lenet_test_accuracy", lenet_accuracy, ">= 0.95", tol=0.015,
      says="LeNet-5 classifies at least 95 % of the test digits correctly");

# %% [markdown]
# LeNet-5 classifies a fraction {glue:text}`lenet_test_accuracy:.3f` of the test digits
# correctly, trained on {glue:text}`lenet_train_digits` digits (the paper had 60,000) for a
# few epochs.

# %% mystnb={"figure": {"caption": "LeNet-5's learning curves on MNIST digits: loss and accuracy on the training digits (solid) and the validation digits (dashed) per epoch.", "name": "fig-02-lenet-curves"}, "image": {"alt": "Two line charts over the training epochs: loss falling and accuracy rising, for training and validation digits."}}
fig = plot_history(lenet_history, title="LeNet-5")
plt.show()

# %% [markdown]
# What did C1 learn? Its six 5×5 kernels are drawn below in red (positive weights) and blue
# (negative). Compare them with the hand-set line detectors of the Neocognitron above.

# %% mystnb={"figure": {"caption": "The six 5\u00d75 kernels LeNet-5's first layer C1 learned from the digits (red positive, blue negative weights).", "name": "fig-02-lenet-kernels"}, "image": {"alt": "Six small 5 by 5 colour patches with red and blue stripes and blobs, the learned first-layer convolution kernels."}}
fig = show_filters(lenet.C1.weight, ncols=6, title="C1 kernels")
plt.show()

# %% mystnb={"figure": {"caption": "One test digit (first panel) seen through LeNet-5's first layer: its six C1 feature maps, 28\u00d728 each.", "name": "fig-02-lenet-maps"}, "image": {"alt": "A handwritten test digit and its six first-layer feature maps, each highlighting different strokes and edges of the digit."}}
with torch.no_grad():
    digit = x_test[:1].to(device)
    c1 = lenet.squash(lenet.C1(digit))
    c3 = lenet.squash(lenet.C3(lenet.squash(lenet.S2(c1))))
fig = show_feature_maps(torch.cat([digit[0], c1[0]]).cpu(), ncols=7,
                        title=f"a test digit ({y_test[0].item()}) and its C1 maps")
plt.show()

# %% mystnb={"figure": {"caption": "The same digit's sixteen C3 feature maps (10\u00d710 each): each combines several C1 maps, as the connection table says.", "name": "fig-02-lenet-c3-maps"}, "image": {"alt": "Sixteen small coarse feature maps of the digit, each a different blend of strokes."}}
fig = show_feature_maps(c3[0].cpu(), ncols=8, title="C3 maps")
plt.show()

# %% [markdown]
# **What to notice.** The kernels themselves look rough: a few epochs on part of MNIST may not
# smooth them the way 20 passes over all 60,000 training digits would. Their feature maps show what they do:
# each C1 map
# brings out a different side or stroke of the digit (an edge of one orientation and polarity),
# the same kind of feature Fukushima set by hand, but learned from labels by backpropagation. The
# C3 maps are coarser and each combines several C1 maps: the "hierarchy of features" the talk
# attributes to deep networks.

# %% [markdown]
# ## 4 · Try it: pick a kernel, see the feature map
#
# A convolution layer is nothing more than a small kernel swept over the image. Below, six classic
# 3×3 kernels are applied to the same digit; the widget after it lets you choose the kernel and the
# digit, or type your own nine numbers. It also offers the six 5×5 kernels LeNet-5's C1 learned
# above: compare what a learned kernel does with what the hand-made ones do.

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
        raise ValueError(f"the custom kernel must be numbers only, got {text!r}") \
            from None
    if len(values) != 9:
        raise ValueError(f"a 3×3 kernel needs 9 numbers, got {len(values)}: "
                         "e.g. '0 1 0, 1 -4 1, 0 1 0'")
    return torch.tensor(values).reshape(3, 3)


def feature_map(image: torch.Tensor, kernel) -> torch.Tensor:
    """One image (1, H, W) convolved with one odd-sized square kernel; same size."""
    weight = torch.as_tensor(kernel, dtype=torch.float32)
    size = weight.shape[-1]
    return F.conv2d(image[None].cpu(), weight.reshape(1, 1, size, size),
                    padding=size // 2)[0, 0]


LEARNED = {f"LeNet-5 C1 kernel {i} (5×5)": w[0].detach().cpu()
           for i, w in enumerate(lenet.C1.weight)}

# %% mystnb={"figure": {"caption": "Static version of the widget: one test digit convolved with six classic 3\u00d73 kernels (red: positive response, blue: negative).", "name": "fig-02-kernels"}, "image": {"alt": "A handwritten digit and six feature maps of it: vertical edges, horizontal edges, two oriented lines, a blurred copy and a sharpened copy."}}
fig, axes = plt.subplots(1, len(KERNELS) + 1, figsize=(2 * (len(KERNELS) + 1), 2.4))
axes[0].imshow(x_test[0, 0], cmap="gray"); axes[0].set_title("digit", fontsize=9)
for ax, (name, kernel) in zip(axes[1:], KERNELS.items()):
    response = feature_map(x_test[0], kernel)
    limit = response.abs().max().item() or 1.0
    ax.imshow(response, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(name, fontsize=8)
for ax in axes:
    ax.axis("off")
plt.show()

# %%
def show_kernel(kernel: str, custom: str, index: int) -> None:
    """Draw the digit, the kernel's numbers and the feature map; explain bad input."""
    try:
        weights = (parse_kernel(custom) if kernel == "custom"
                   else torch.as_tensor({**KERNELS, **LEARNED}[kernel]))
    except ValueError as err:
        print(f"⚠ {err}")
        return
    response = feature_map(x_test[index], weights)
    limit = response.abs().max().item() or 1.0
    fig, (ax_digit, ax_kernel, ax_map) = plt.subplots(1, 3, figsize=(7.5, 2.6))
    ax_digit.imshow(x_test[index, 0], cmap="gray")
    ax_digit.set_title(f"test digit {index}", fontsize=9)
    top = float(weights.abs().max()) or 1.0
    ax_kernel.imshow(weights, cmap="RdBu_r", vmin=-top, vmax=top)
    for (r, c), value in np.ndenumerate(weights.numpy()):
        ax_kernel.text(c, r, f"{value:.2g}", ha="center", va="center", fontsize=7)
    ax_kernel.set_title("kernel", fontsize=9)
    ax_map.imshow(response, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax_map.set_title("feature map", fontsize=9)
    for ax in (ax_digit, ax_kernel, ax_map):
        ax.axis("off")
    plt.show()


widgets.interact(show_kernel,
                 kernel=widgets.Dropdown(options=[*KERNELS, *LEARNED, "custom"],
                                         description="kernel"),
                 custom=widgets.Text("0 1 0, 1 -4 1, 0 1 0", description="custom 3×3",
                                     continuous_update=False),
                 index=widgets.IntSlider(0, 0, len(x_test) - 1,
                                         description="test digit"));

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
# $h_t = \tanh(W x_t + U h_{t-1} + b)$, the modern form of Elman's network, whose units were
# logistic {cite:p}`elman1990finding`. Any digit is a sequence if we
# read it row by row, so this one reads scikit-learn's small 8×8 digits, 8 pixels at a time, and
# classifies the digit from its final state (a short sequence keeps it cheap on a CPU). Chapter 4
# uses the same idea to fold a sentence into one vector.
#
# Such a network is trained by backpropagation *through time*: the gradient that reaches step
# $t$ from the end has been multiplied, once per later step, by $U$ and by the slope of the tanh.
# Over long sequences that product shrinks (or blows up) exponentially, so an error late in the
# sequence barely reaches the steps early in it: Bengio, Simard and Frasconi showed in 1994 that
# this *vanishing gradient* makes long-range dependencies very hard to learn by gradient
# descent {cite:p}`bengio1994learning`. The LSTM {cite:p}`hochreiter1997long` answered with a
# memory cell whose content is carried forward by addition, opened and closed by learned gates,
# so that the error can flow back over many steps (the 1997 LSTM had input and output gates;
# the forget gate of today's LSTMs was added later). Eight rows are short enough for the plain
# Elman network.

# %%
class ElmanRNN(nn.Module):
    """Elman network: h_t = tanh(W x_t + U h_{t-1} + b), classified from h_T."""
    def __init__(self, n_inputs: int = 8, n_hidden: int = 64, n_classes: int = 10):
        super().__init__()
        self.W = nn.Linear(n_inputs, n_hidden)
        self.U = nn.Linear(n_hidden, n_hidden, bias=False)
        self.classify = nn.Linear(n_hidden, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        rows = images.flatten(1, 2)             # (N, 1, 8, 8) → (N, 8 rows, 8 pixels)
        h = torch.zeros(len(rows), self.U.in_features, device=rows.device)
        for t in range(rows.shape[1]):         # one row per step, top to bottom
            h = torch.tanh(self.W(rows[:, t]) + self.U(h))
        return self.classify(h)


digits8 = load_digits(image_size=8, val_fraction=0.2)    # scikit-learn's 8×8 digits
rnn = ElmanRNN()
rnn_history = fit(rnn, (digits8.x_train, digits8.y_train),
                  (digits8.x_val, digits8.y_val), epochs=P.rnn_epochs, lr=3e-3,
                  batch_size=32, device=device, desc="RNN", keep_best=True)
rnn_accuracy = evaluate(rnn, (digits8.x_test, digits8.y_test))["accuracy"]
print(f"RNN reading rows: test accuracy {rnn_accuracy:.3f} "
      f"({sum(p.numel() for p in rnn.parameters()):,} parameters)")
claim("rnn_test_accuracy", rnn_accuracy, ">= 0.9", tol=0.02,
      says="the row-reading RNN classifies at least 90 % of the 8×8 test digits");

# %% [markdown]
# Reading one row at a time, with nothing but its 64-number state to remember the rows before,
# the network classifies {glue:text}`rnn_test_accuracy:.3f` of the test digits correctly.

# %% [markdown]
# ### DBN: a hierarchical representation, learned without labels
#
# A deep belief network {cite:p}`hinton2006fast` is built from **restricted Boltzmann machines**
# (RBMs). An RBM has a layer of visible units $v$ (the 784 pixels of an MNIST digit) and a layer
# of binary hidden units $h$, joined by weights $W$ and nothing else, and gives every joint
# state an energy $E(v, h) = -v^\top W h - b_v^\top v - b_h^\top h$; low energy means probable.
# Because there are no connections within a layer, each layer is easy to compute given the
# other: $p(h_j = 1 \mid v) = \sigma(b_{h,j} + v^\top W_{:,j})$ and
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

    def contrastive_divergence(self, v0: torch.Tensor,
                               k: int = 1) -> tuple[torch.Tensor, ...]:
        """CD-k estimates of the gradients for W, b_v and b_h (data minus k steps)."""
        p_h0 = self.hidden(v0)
        h = self.sample(p_h0)
        for _ in range(k):                           # k steps of Gibbs sampling
            v_k = self.visible(h)                    # mean-field visible units
            p_hk = self.hidden(v_k)
            h = self.sample(p_hk)
        n = len(v0)
        return ((v0.T @ p_h0 - v_k.T @ p_hk) / n, (v0 - v_k).mean(0),
                (p_h0 - p_hk).mean(0))

    def reconstruction_error(self, v: torch.Tensor) -> float:
        """Squared distance between the data and v → p(h|v) → p(v|h), per example."""
        return ((v - self.visible(self.hidden(v))) ** 2).sum(1).mean().item()

# %% [markdown]
# The training loop is plain stochastic gradient *ascent* with momentum, a small learning rate
# (`lr` below) and a little weight decay. Hinton's practical guide {cite:p}`hinton2012practical` advises
# starting the momentum at 0.5 and raising it to 0.9 once progress slows; we raise it after five
# epochs (the CPU profile trains for only five).

# %%
def train_rbm(rbm: RBM, data: torch.Tensor, epochs: int, k: int = 1, lr: float = 0.05,
              weight_decay: float = 1e-4, batch_size: int = 32) -> list[float]:
    """Train with CD-k; returns the reconstruction error after each epoch."""
    params = (rbm.W, rbm.b_v, rbm.b_h)
    velocity = [torch.zeros_like(p) for p in params]
    errors = []
    for epoch in range(epochs):
        momentum = 0.5 if epoch < 5 else 0.9
        order = torch.randperm(len(data), generator=rbm.generator,
                               device=rbm.generator.device)
        for start in range(0, len(data), batch_size):
            batch_rows = data[order[start:start + batch_size]]
            grad_W, grad_b_v, grad_b_h = rbm.contrastive_divergence(batch_rows, k)
            grads = (grad_W - weight_decay * rbm.W, grad_b_v, grad_b_h)
            for p, v, g in zip(params, velocity, grads):
                v.mul_(momentum).add_(lr * g)
                p.add_(v)
        errors.append(rbm.reconstruction_error(data))
    return errors

# %% [markdown]
# **Greedy layer-wise training.** The first RBM learns features of the pixels. Its hidden
# probabilities then become the "data" of a second RBM, which learns features of those features.
# No labels are used. The digits' grey levels in [0, 1] are read as pixel probabilities. We
# score each RBM by its reconstruction error (data → hidden → data), and compare it with the
# simplest reconstruction there is: predicting the average of the RBM's input for every example
# (for the first RBM, the average digit). An untrained RBM is no yardstick: with tiny weights and zero
# biases it predicts the same mid-grey for every pixel, a reconstruction that looks like no
# digit.

# %%
generator = torch.Generator(device=device).manual_seed(P.seed)
v_train = x_train.flatten(1)[:P.rbm_digits].to(device)   # (N, 784), values in [0, 1]
v_test = x_test.flatten(1).to(device)
h1_size, h2_size = P.rbm_hidden
rbm1 = RBM(784, h1_size, generator)
before1 = rbm1.reconstruction_error(v_train)
errors1 = train_rbm(rbm1, v_train, P.rbm_epochs, k=P.cd_k)
rbm2 = RBM(h1_size, h2_size, generator)
h1_train = rbm1.hidden(v_train)
before2 = rbm2.reconstruction_error(h1_train)
errors2 = train_rbm(rbm2, h1_train, P.rbm_epochs, k=P.cd_k)
mean_err1 = ((v_train - v_train.mean(0)) ** 2).sum(1).mean().item()
mean_err2 = ((h1_train - h1_train.mean(0)) ** 2).sum(1).mean().item()
print(f"RBM 1 (784 → {h1_size}) on {len(v_train):,} digits: reconstruction error "
      f"{before1:.1f} untrained → {errors1[-1]:.1f} trained; the average digit "
      f"{mean_err1:.1f}")
print(f"RBM 2 ({h1_size} → {h2_size}): {before2:.1f} untrained → {errors2[-1]:.1f} "
      f"trained; the average h1 {mean_err2:.1f}")
print(f"test digits through RBM 1: reconstruction error "
      f"{rbm1.reconstruction_error(v_test):.1f}")
claim("rbm1_error_over_mean_digit", errors1[-1] / mean_err1, "< 0.5", rel_tol=0.1,
      parts={"rbm": errors1[-1], "mean_digit": mean_err1},
      says="RBM 1 reconstructs with under half the error of the average digit")
claim("rbm2_error_over_mean_h1", errors2[-1] / mean_err2, "< 0.5", rel_tol=0.1,
      parts={"rbm": errors2[-1], "mean_h1": mean_err2},
      says="RBM 2 reconstructs h1 with under half the error of the average h1");

# %% [markdown]
# Training cuts the first RBM's reconstruction error to
# {glue:text}`rbm1_error_over_mean_digit:.2f` of what predicting the average digit gives, and
# the second RBM's to {glue:text}`rbm2_error_over_mean_h1:.2f` of what predicting the average
# first-layer code gives: both learned something about their input that its average does not
# capture.

# %% mystnb={"figure": {"caption": "The features the first RBM learned without labels: the weights of 32 of its hidden units, each drawn as a 28\u00d728 image (red positive, blue negative).", "name": "fig-02-rbm-features"}, "image": {"alt": "A grid of 32 small colour patches with red and blue blobs and strokes, the learned RBM features."}}
fig = show_filters(rbm1.W.T[:32].reshape(-1, 1, 28, 28), ncols=8,
                   title="RBM 1 features")
plt.show()

# %% mystnb={"figure": {"caption": "Top row: test digits the RBMs never saw. Middle: reconstructed by the first RBM (v \u2192 h\u2081 \u2192 v). Bottom: reconstructed through both layers of the DBN (v \u2192 h\u2081 \u2192 h\u2082 \u2192 h\u2081 \u2192 v).", "name": "fig-02-dbn-reconstructions"}, "image": {"alt": "Three rows of twelve digits: originals, their one-layer reconstructions, and their two-layer reconstructions, which look like smoother versions of the same digits."}}
with torch.no_grad():
    originals = v_test[:12]
    one_layer = rbm1.visible(rbm1.hidden(originals))
    two_layers = rbm1.visible(rbm2.visible(rbm2.hidden(rbm1.hidden(originals))))
rows = torch.cat([originals, one_layer, two_layers]).reshape(-1, 28, 28).cpu()
fig = show_images(rows, ncols=12)
plt.show()

# %% [markdown]
# A DBN is also a **generative** model: run Gibbs sampling in the top RBM (alternating between
# $h_1$ and $h_2$) from a random start, then map $h_1$ down to pixels through the first RBM. Below,
# eight chains after 1, 10, 100 and the profile's full number of steps.

# %% mystnb={"figure": {"caption": "Samples dreamed by the DBN: eight Gibbs chains in the top RBM started from random noise (columns), shown after 1, 10, 100 and more steps (rows).", "name": "fig-02-dbn-samples"}, "image": {"alt": "Four rows of eight images: rough, blotchy strokes in the first row that become smoother digit-like shapes, many of them ones, in later rows."}}
h1 = rbm2.sample(torch.full((8, h1_size), 0.5, device=device))
snapshots, checkpoints = [], sorted({1, 10, 100, P.gibbs_steps})
with torch.no_grad():
    for step in range(1, P.gibbs_steps + 1):
        p_h1 = rbm2.visible(rbm2.sample(rbm2.hidden(h1)))
        h1 = rbm2.sample(p_h1)
        if step in checkpoints:
            snapshots.append(rbm1.visible(p_h1))
labels = [f"step {s}" if i == 0 else "" for s in checkpoints for i in range(8)]
samples = torch.cat(snapshots).reshape(-1, 28, 28).cpu()
fig = show_images(samples, ncols=8, labels=labels)
plt.show()

# %% [markdown]
# **What to notice.** Without a single label, the first RBM's units became detectors of blobs
# and pieces of strokes (each weighs some pixels for and others against); the reconstructions
# keep each digit's identity; and the chains wander from noise towards digit-like shapes. The
# samples are blurry and sometimes ambiguous: CD-1 with a few epochs is a rough estimate of the
# model's gradient (try the exercises).
#
# ### Fine-tuning: when does pretraining help?
#
# Hinton, Osindero and Teh fine-tuned their stack generatively (an "up-down" variant of the
# wake-sleep algorithm) and wrote that the resulting model "gives better digit classification
# than the best discriminative learning algorithms" on MNIST {cite:p}`hinton2006fast`. The recipe
# that spread soon after, and that we follow, turns the stack into an ordinary feed-forward
# network with the same sigmoid units, adds an output layer and fine-tunes everything with
# backpropagation. In 2006 that mattered: deep sigmoid networks started from small random
# weights and trained with plain gradient descent were notoriously hard to train, and the
# layer-wise start was the recipe that made them train reliably.
#
# Is it still true, against baselines a reviewer would ask for today? The interesting case is
# *semi-supervised*: the RBMs saw all the training digits without labels, and only a few digits
# per class are labelled for training. We compare three learners, each given the same labelled
# digits and scored on the same test digits:
#
# - the **pretrained** network, its first two layers taken from the RBMs;
# - the **same network from random initialisation** (PyTorch's default);
# - **logistic regression** on the pixels, its regularisation chosen on the validation digits.
#
# Both networks are fine-tuned with the same small grid of settings, and each keeps the one
# that scores best on the validation digits: SGD with momentum at learning rate 0.1 (the 2006
# way), and Adam {cite:p}`kingma2015adam`, an adaptive optimiser from 2014, at learning rates
# 0.001 and 0.01. Every network keeps its best epoch on the validation digits. All three
# learners choose their epoch and setting on the same 1,000 labelled validation digits, far
# more labels than they train on. A real few-label project would not have them, so read the
# curve below as a comparison of learners, not as what 30 labels alone can achieve.
# With one label per class an
# "epoch" would be a single step, so tiny label sets are repeated to make each epoch at least
# `P.min_epoch_digits` digits long.

# %%
def dbn_classifier(pretrained: bool) -> nn.Sequential:
    """784 → h1 → h2 → 10 sigmoid network; layers 1, 2 from the RBMs if pretrained."""
    torch.manual_seed(P.seed)
    net = nn.Sequential(nn.Linear(784, h1_size), nn.Sigmoid(),
                        nn.Linear(h1_size, h2_size), nn.Sigmoid(),
                        nn.Linear(h2_size, 10))
    if pretrained:
        with torch.no_grad():
            for layer, rbm in ((net[0], rbm1), (net[2], rbm2)):
                layer.weight.copy_(rbm.W.T)
                layer.bias.copy_(rbm.b_h)
    return net


GRID = [("SGD", 0.1), ("Adam", 1e-3), ("Adam", 1e-2)]   # both networks, chosen on val
v_val = x_val.flatten(1)


def fine_tune(pretrained: bool, x: torch.Tensor, y: torch.Tensor, optimiser: str,
              lr: float) -> tuple[nn.Module, float]:
    """Train one network on (x, y), keep its best validation epoch; (net, val acc)."""
    net = dbn_classifier(pretrained)
    copies = math.ceil(P.min_epoch_digits / len(x))
    opt = (torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9) if optimiser == "SGD"
           else torch.optim.Adam(net.parameters(), lr=lr))
    history = fit(net, (x.repeat(copies, 1), y.repeat(copies)), (v_val, y_val),
                  epochs=P.finetune_epochs, optimizer=opt, batch_size=32, device=device,
                  progress=False, keep_best=True)
    return net, max(history["val_accuracy"])


def logistic_regression(x: np.ndarray, y: np.ndarray) -> LogisticRegression:
    """Logistic regression on pixels, its C chosen on the validation digits."""
    with threadpool_limits(threads):         # BLAS on the chapter's threads, too
        fits = [LogisticRegression(C=C, max_iter=1000).fit(x, y)
                for C in (0.01, 0.1, 1, 10)]
    return max(fits, key=lambda model: model.score(v_val.numpy(), y_val.numpy()))

# %% [markdown]
# Now the curve. For each number of labels per class we draw that many training digits of each
# class (the smaller sets inside the larger ones), train all three, and score them once on the
# test digits.

# %%
pool = x_train.flatten(1)[:P.rbm_digits]          # the digits the RBMs saw, unlabelled
pool_labels = y_train[:P.rbm_digits]
draw = torch.Generator().manual_seed(P.seed)
order = [torch.nonzero(pool_labels == c)[:, 0] for c in range(10)]
order = [members[torch.randperm(len(members), generator=draw)] for members in order]
curve = {"DBN-pretrained": [], "random init": [], "logistic regression": []}
for k in P.labels_per_class:
    few = torch.cat([members[:k] for members in order])
    x, y = pool[few], pool_labels[few]
    chosen = []
    for name in ("DBN-pretrained", "random init"):
        runs = [fine_tune(name == "DBN-pretrained", x, y, *s) for s in GRID]
        best = max(range(len(GRID)), key=lambda i: runs[i][1])
        score = evaluate(runs[best][0], (v_test, y_test), device=device)["accuracy"]
        curve[name].append(score)
        chosen.append(f"{name} {GRID[best][0]} lr {GRID[best][1]:g}")
    model = logistic_regression(x.numpy(), y.numpy())
    score = model.score(v_test.cpu().numpy(), y_test.numpy())
    curve["logistic regression"].append(score)
    print(f"{k:>4} labels per class: " + ", ".join(f"{name} {values[-1]:.3f}"
                                                   for name, values in curve.items()))
    print(f"     chosen on validation: {'; '.join(chosen)}")

# %% mystnb={"figure": {"caption": "Test accuracy against the number of labelled digits per class (log scale) for the DBN-pretrained network, the same network from random initialisation (both with the setting chosen on the validation digits) and logistic regression on pixels. The dotted line is chance.", "name": "fig-02-dbn-labels"}, "image": {"alt": "Line chart of test accuracy against labels per class on a logarithmic axis: three rising curves, the pretrained network's above the other two at small label counts, with a dotted chance line at the bottom."}}
fig, ax = plt.subplots(figsize=(6, 3.6))
for name, values in curve.items():
    ax.plot(P.labels_per_class, values, "o-", label=name)
ax.axhline(0.1, color="grey", ls=":", lw=1, label="chance")
ax.set_xscale("log"); ax.set_xticks(P.labels_per_class, map(str, P.labels_per_class))
ax.set_xlabel("labelled digits per class"); ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1); ax.grid(alpha=0.3); ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The claims, on the label counts both profiles measure:

# %%
at = {k: i for i, k in enumerate(P.labels_per_class)}
dbn, rand, logreg = (curve[name] for name in curve)
claim("random_init_minus_chance", min(rand) - 0.1, "> 0.2", tol=0.03,
      says="the tuned random-init network is 20+ points above chance at every count")
for k in (3, 10, 30):
    claim(f"dbn_minus_random_init_{k}_per_class", dbn[at[k]] - rand[at[k]], "> 0.01",
          tol=0.03, parts={"dbn": dbn[at[k]], "random": rand[at[k]]},
          says=f"with {k} labels per class pretraining beats a tuned random init")
claim("random_init_vs_logistic_max_abs",
      max(abs(rand[at[k]] - logreg[at[k]]) for k in (3, 10, 30)), "< 0.05", tol=0.03,
      says="at 3-30 labels per class random init is within 5 points of logistic reg.")
gap = min(dbn[at[k]] - max(rand[at[k]], logreg[at[k]]) for k in (3, 10, 30))
claim("dbn_minus_best_baseline_worst", gap, "> 0.01", tol=0.03,
      says="with 3-30 labels per class the DBN beats the better baseline by 1+ point")
claim("dbn_gain_at_30_minus_gain_at_3",
      (dbn[at[30]] - rand[at[30]]) - (dbn[at[3]] - rand[at[3]]), "< 0", tol=0.04,
      says="pretraining's advantage is smaller with 30 labels per class than with 3");

# %% [markdown]
# **What to notice.** Here, on every one of the five seeds we ran, greedy pretraining *does*
# help when labels are few: with 3, 10 and 30 labelled digits per class the pretrained network
# beats the same network from random initialisation, tuned on the same grid, by
# {glue:text}`dbn_minus_random_init_3_per_class:.3f`,
# {glue:text}`dbn_minus_random_init_10_per_class:.3f` and
# {glue:text}`dbn_minus_random_init_30_per_class:.3f` (at 30:
# {glue:text}`dbn_minus_random_init_30_per_class__dbn:.3f` against
# {glue:text}`dbn_minus_random_init_30_per_class__random:.3f`). The random-init network learns
# (at least {glue:text}`random_init_minus_chance:.2f` above chance at every count) and is about
# as good as logistic regression (within {glue:text}`random_init_vs_logistic_max_abs:.3f` of
# it at 3, 10 and 30 labels per class); the pretrained network beats the better of the two by
# at least {glue:text}`dbn_minus_best_baseline_worst:.3f`. With a single label per class all
# three depend mostly on which digit was drawn, and we assert nothing there.
#
# Where does the advantage come from? Both networks have the same units, see the same labels
# and choose from the same grid of settings on the same validation digits; the only difference
# is their starting weights. The pretrained one starts from features the RBMs learned from
# *all* the training digits, without their labels, so fine-tuning begins from a description of
# digits rather than from noise. (The printout above shows which setting each network chose at
# each count.) And the advantage is smaller with more labels: at 30 per class it is smaller
# than at 3 (the gain at 30 minus the gain at 3 is
# {glue:text}`dbn_gain_at_30_minus_gain_at_3:.3f`). The GPU profile extends the curve to more
# labels; exercise 3 asks what is left with all of them. Deep belief networks faded after
# 2010–2012 because better initialisations, ReLU units, dropout and, above all, large labelled
# datasets on GPUs made direct training work; unsupervised pretraining came back later in other
# forms, for exactly the case this curve shows: unlabelled data plentiful, labels scarce.

# %% [markdown]
# ## 6 · ConvNets are everywhere
#
# The talk's next slide shows where supervised convolutional networks had gone by the
# mid-2010s. Three of its examples, each from its own paper or report:
#
# - **Face verification.** DeepFace {cite:p}`taigman2014deepface` first turns each face to the
#   front with a 3D model, then feeds it to a nine-layer network (convolutions first, then
#   locally connected layers that do not share weights, then two fully connected layers)
#   trained on four million labelled photos of more than 4,000 people. Deciding whether two
#   photos show the same person, an ensemble of such networks reaches 97.35 % accuracy on the
#   Labeled Faces in the Wild benchmark (the paper's abstract), "closely approaching
#   human-level performance" {cite:p}`taigman2014deepface`.
# - **Photo search.** In 2013 Google let people search their own, untagged photos for things
#   such as "flower" or "car"; the visual tags come from convolutional networks built like the
#   one that had just won ImageNet, combined with other sources such as text tags and the
#   photos' metadata {cite:p}`rosenberg2013improving`.
# - **Self-driving cars.** Bojarski and colleagues at NVIDIA trained a convolutional network to
#   map the raw pixels of a single front-facing camera directly to steering commands, with the
#   human driver's steering angle as the only training signal, and drove with it in traffic on
#   local roads and highways {cite:p}`bojarski2016end`.
#
# None of these fits in a notebook: each was trained on far more labelled images than our
# digits, on GPUs, the two ingredients of section 1. Chapter 3 follows the networks that made
# them possible, from AlexNet on.

# %% [markdown]
# ## Checks
#
# Every claim above was asserted where it was measured. On a GPU, the timing cell also checks
# that the GPU computed the same convolution as the CPU; `report()` lists the chapter's claims.

# %%
if device.type == "cuda":   # the GPU computes the same convolution (TF32 tolerance)
    torch.testing.assert_close(timings[str(device)][1], timings["cpu"][1], rtol=2e-2,
                               atol=2e-2)
report()

# %% [markdown]
# ## Exercises
#
# 1. **Blurry digits.** Repeat the shift measurement of section 2 on the digits as they are
#    (`x_test[:P.shift_samples]`) instead of line drawings. Why do the raw pixels change much
#    less?
# 2. **A fully connected C3.** Replace `C3()` by `nn.Conv2d(6, 16, kernel_size=5)`. How many
#    parameters does the layer get, and does the accuracy change?
# 3. **Why DBNs faded.** Add 100 and 800 to `P.labels_per_class` (800 per class is more than
#    any class has, so every training digit of the CPU profile; the GPU profile goes further). Does pretraining still
#    help with all the labels? Then give the random-init network `nn.ReLU()` units instead of
#    `nn.Sigmoid()`: what is left of the advantage with 3 to 30 labels per class?
# 4. **Better samples.** Train the RBMs with `k=10` (CD-10) and more epochs. Do the DBN's samples
#    look more like digits? What does it cost?
# 5. **Your hardware.** Set `threads` to your number of cores before the timing cell and run
#    it again; then run it in Colab with a GPU runtime and increase `P.conv_batch`. How much do
#    the extra cores buy, and at which batch size does the GPU stop getting faster per image?
#
# ```{dropdown} Hints and solutions
# 1. `lines = x_test[:P.shift_samples]` and rerun the measurement cell. MNIST's digits are
#    anti-aliased, with strokes 2–3 pixels wide and soft edges, so a 1-pixel shift leaves most
#    of the ink overlapping; blurring is itself a weak form of pooling. Expect the C-cells'
#    advantage to shrink.
# 2. 6·16·25 + 16 = 2,416 parameters instead of 1,516 (and 241,600 connections instead of
#    151,600). Compare the validation accuracy, not the test accuracy, to decide: the table was
#    a 1998 economy and a way to make the C3 maps differ, not a source of accuracy, so expect a
#    small difference either way.
# 3. With all the labels, expect the advantage of pretraining over the sigmoid network from
#    random initialisation to shrink to little or nothing, and a random-init *ReLU* network to
#    come close to the pretrained one, with all the networks ahead of logistic regression. With
#    3 to 30 labels per class, expect ReLU units to change less: the unlabelled digits are what
#    the pretrained network has and the others lack. Units that do not saturate, a good
#    initialisation and adaptive optimisers removed the 2006 need for a layer-wise start when
#    labels are plentiful; they do not replace what unlabelled data teach when labels are
#    scarce. Measure it on several seeds before you believe it.
# 4. Longer chains give a better gradient estimate, so samples get sharper and more varied, at k
#    times the cost per update. Persistent CD (keeping the chains between updates) is the classic
#    cheaper alternative.
# 5. Convolutions use several cores well, so the time falls with more threads, though rarely in
#    proportion. On a GPU the time per image drops as the batch grows while the GPU still has
#    idle units; once the batch keeps the whole GPU busy, the time per batch grows in proportion
#    to its size.
# ```
#
# ## References
#
# Simple and complex cells {cite:p}`hubel1962receptive`; the Neocognitron
# {cite:p}`fukushima1980neocognitron`; backpropagation {cite:p}`rumelhart1986learning`; LeCun's
# zip-code network {cite:p}`lecun1989backpropagation` and LeNet-5 {cite:p}`lecun1998gradient`;
# recurrent networks {cite:p}`elman1990finding`, vanishing gradients {cite:p}`bengio1994learning`
# and the LSTM {cite:p}`hochreiter1997long`; max-pooling {cite:p}`weng1992cresceptron`,
# {cite:p}`riesenhuber1999hierarchical`,
# {cite:p}`ranzato2007unsupervised`; contrastive divergence {cite:p}`hinton2002training` and its
# practice {cite:p}`hinton2012practical`; deep belief nets {cite:p}`hinton2006fast`; Adam
# {cite:p}`kingma2015adam`; GPUs for deep networks {cite:p}`raina2009large`,
# {cite:p}`ciresan2011flexible`, {cite:p}`ciresan2011committee`; ImageNet
# {cite:p}`deng2009imagenet` and AlexNet {cite:p}`krizhevsky2012imagenet`,
# {cite:p}`krizhevsky2014one`; DeepFace {cite:p}`taigman2014deepface`, photo search
# {cite:p}`rosenberg2013improving` and end-to-end driving {cite:p}`bojarski2016end`. MNIST
# {cite:p}`lecun1998mnist`; the 8×8 digits ship with scikit-learn {cite:p}`pedregosa2011scikit`.
# Full entries are in the [bibliography](../book/bibliography.md).
