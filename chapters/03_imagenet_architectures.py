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
# # 3. ImageNet architectures
#
# Between 2012 and 2015 the error of the best image classifier on ImageNet fell from one in four
# to one in thirty, and four network designs carried that fall: AlexNet, VGGNet, GoogLeNet and
# ResNet. This chapter writes each of them out in a few lines of PyTorch, checks every one against
# its paper and against torchvision to the last parameter, and measures what each costs on your
# machine. Then it reproduces, on real handwritten digits, the experiment that motivated ResNet:
# a deeper plain network that trains *worse* than a shallow one, and the shortcut connections
# that fix it.
#
# **Learning goals**
# - Read the ILSVRC results: what top-5 error is, who won each year, and with which architecture.
# - Build AlexNet, all six VGG configurations (from the paper's own table), an Inception module
#   and GoogLeNet, and ResNet-18/34/50, and verify their parameter counts.
# - Explain why 3×3 stacks (VGG) and 1×1 "reduce" layers (Inception) buy depth and width cheaply.
# - See the degradation problem happen in a real training run, and residual connections cure it.
# - Compare parameters, FLOPs and measured latency, and say why they are not the same thing.
#
# **Run time:** about a minute on a 2-core laptop (CPU profile); a minute or two on a GPU, where
# the GPU profile trains deeper networks on MNIST when its files are present.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "IMAGENET" | We chart the ILSVRC top-5 error of every year's winner, 2010–2015, from a table of sourced results. |
# | "AlexNet" | We write AlexNet (the 2012 two-GPU original and torchvision's one-GPU variant) and check its parameters. |
# | "VGGNet": the *ConvNet configuration* table, A, A-LRN, B, C, D, E | The table is stored as data; one function builds all six networks from it, checked against the paper's Table 2 and torchvision. |
# | "GoogLeNet uses Inception", "Inception Module" | We write the Inception module, check inception (3a), measure what the 1×1 "reduce" layers save, and build GoogLeNet from its Table 1. |
# | "Inception performance comparison" | The paper's comparison with the 2012–2014 entries, as a table with sources. |
# | "Microsoft ResNet" | We build ResNet-18/34/50 block by block, and train plain and residual networks to watch the degradation problem. |

# %% tags=["hide-input"]
# Bootstrap: makes this notebook work alone in Colab or on an Azure VM.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:   # Colab / Azure: fetch the course helpers
    source = os.environ.get("DEMYSTIFY_SOURCE", "git+https://github.com/demystify-dl/demystifying-deep-learning")
    # %pip install -q "demystify @ {source}"
if importlib.util.find_spec("pandas") is None or importlib.util.find_spec("yaml") is None:
    # %pip install -q pandas pyyaml

# %% [markdown]
# The setup cell seeds every random number generator, picks the device (a GPU when there is one)
# and loads this chapter's **profile**: the sizes it runs with on a CPU or on a GPU.

# %%
import re
import time
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from torch.utils.flop_counter import FlopCounterMode

from demystify import fit, load_handwritten_digits, plot_history, start
from demystify.tables import read_table

device, P = start("03_imagenet_architectures")

# %% [markdown]
# ## ImageNet and its challenge
#
# ImageNet {cite}`deng2009imagenet` is a collection of millions of photographs labelled with the
# nouns of WordNet. Its yearly challenge, ILSVRC {cite}`russakovsky2015imagenet`, used 1,000 of
# those classes: about 1.2 million training images, 50,000 for validation and 100,000 for the test.
# A classifier may name **five** classes per image; the **top-5 error** is the fraction of test
# images whose true class is not among the five. Five guesses forgive the many images that hold
# several objects (a dog on a sofa) and the many classes that are hard to tell apart (120 breeds of
# dog).
#
# The results below come from `data/ilsvrc_results.csv`: one row per entry, each with the paper
# and the place in it that reports the number (`source`, `where`; keys of the bibliography).
# None of these models is trained here; training one takes days on ImageNet's 150 GB.

# %%
# NBVAL_CHECK_OUTPUT
results = read_table("ilsvrc_results.csv")
print(results[["year", "team", "architecture", "place", "top5_error_pct", "external_data", "source"]]
      .to_string(index=False))

# %% mystnb={"figure": {"caption": "Top-5 test error of the ILSVRC classification entries in data/ilsvrc_results.csv. The grey line joins each year's winning team's best entry; open squares used extra training data beyond the challenge's 1.2 million images. Deep convolutional networks (shaded) won every year from 2012.", "name": "fig-03-ilsvrc"}, "image": {"alt": "Line chart of ILSVRC top-5 error by year: 28.2 percent in 2010, 25.8 in 2011, then AlexNet 15.3 in 2012, Clarifai 11.2 in 2013, GoogLeNet 6.67 and VGG 7.32 in 2014, and ResNet 3.57 in 2015."}}
winners = results[results.place == 1].groupby("year")["top5_error_pct"].min()
fig, ax = plt.subplots(figsize=(8, 4.2))
ax.axvspan(2011.5, 2015.4, color="C2", alpha=0.08)
ax.text(2011.6, 2.0, "deep convolutional networks", color="C2", fontsize=9)
ax.plot(winners.index, winners.values, "-", color="0.6", zorder=1, label="best entry of the winning team")
extra = results.external_data != "none"
ax.scatter(results.year[~extra], results.top5_error_pct[~extra], color="C0", zorder=2,
           label="challenge training data only")
ax.scatter(results.year[extra], results.top5_error_pct[extra], marker="s", facecolors="none",
           edgecolors="C0", zorder=2, label="with external training data")
labels = {"NEC-UIUC": (8, 0), "XRCE": (8, 0), "SuperVision": (8, -4), "Clarifai": (8, -4),
          "MSRA": (8, 4), "VGG": (-8, -3), "GoogLeNet": (8, -12)}
for (team, year), row in results.groupby(["team", "year"]).first().iterrows():
    best = results[(results.team == team) & (results.year == year)].top5_error_pct.min()
    name = team if team in ("NEC-UIUC", "XRCE", "Clarifai") else row.architecture.split(" (")[0]
    dx, dy = labels.get(team, (8, 0))
    ax.annotate(f"{name} {best:g}%", (year, best), xytext=(dx, dy), textcoords="offset points",
                fontsize=8, ha="right" if dx < 0 else "left")
ax.set_xlabel("ILSVRC year"); ax.set_ylabel("top-5 test error (%)")
ax.set_xlim(2009.6, 2016.0); ax.set_ylim(0, 31); ax.set_xticks(range(2010, 2016))
ax.grid(alpha=0.3); ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# **What to notice.** The two years before 2012 were won by hand-designed features (SIFT-like
# descriptors, Fisher vectors) fed to linear classifiers: 28.2 % and 25.8 %. In 2012 a
# convolutional network, AlexNet, cut the error by ten points at once, and every winner since has
# been a deeper network. Depth went from 8 weight layers (AlexNet) to 19 (VGG), 22 (GoogLeNet) and
# 152 (ResNet). The rest of the chapter builds those networks and asks what made the extra depth
# usable.
#
# ## AlexNet
#
# AlexNet {cite}`krizhevsky2012imagenet` is LeNet grown up: five convolutional layers, three of them
# followed by max-pooling, then three fully connected layers, with three ideas that made it train on
# 1.2 million images: ReLU instead of tanh, dropout in the big fully connected layers, and two GPUs.
# The 2012 network split its 96-256-384-384-256 channels into two halves, one per GPU, that only met
# in the third convolution and the classifier; in PyTorch that is `groups=2`. It also normalised
# each activation by its neighbours across channels (local response normalisation, LRN).
# torchvision's `alexnet` follows the later one-GPU variant {cite}`krizhevsky2014one`: 64-192-384-256-256
# channels, no groups, no LRN. One class covers both.

# %%
def krizhevsky_lrn() -> nn.LocalResponseNorm:
    """LRN with the paper's k=2, n=5, α=1e-4, β=0.75. PyTorch divides α by n, so we pass n·α."""
    return nn.LocalResponseNorm(size=5, alpha=5 * 1e-4, beta=0.75, k=2.0)


class AlexNet(nn.Module):
    """Krizhevsky et al. 2012: 5 conv layers (3 with max-pooling) and 3 fully connected layers."""

    def __init__(self, widths=(64, 192, 384, 256, 256), groups: int = 1, lrn: bool = False,
                 n_classes: int = 1000):
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        norm = [krizhevsky_lrn] if lrn else []
        self.features = nn.Sequential(
            nn.Conv2d(3, c1, 11, stride=4, padding=2), nn.ReLU(inplace=True),
            *[make() for make in norm], nn.MaxPool2d(3, stride=2),
            nn.Conv2d(c1, c2, 5, padding=2, groups=groups), nn.ReLU(inplace=True),
            *[make() for make in norm], nn.MaxPool2d(3, stride=2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(inplace=True),               # both GPUs meet
            nn.Conv2d(c3, c4, 3, padding=1, groups=groups), nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, 3, padding=1, groups=groups), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))     # a no-op at 224×224; lets other sizes in
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(c5 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def alexnet_2012() -> AlexNet:
    """The network of the 2012 paper: wider, split over two GPUs (groups=2), with LRN."""
    return AlexNet(widths=(96, 256, 384, 384, 256), groups=2, lrn=True)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

# %% [markdown]
# Follow one 224×224 image through the torchvision variant: every convolution or pooling layer
# shrinks the picture and (at first) widens the channels, until 256 maps of 6×6 feed the classifier.

# %%
# NBVAL_CHECK_OUTPUT
x = torch.zeros(1, 3, 224, 224)
alexnet = AlexNet().eval()
with torch.no_grad():
    for layer in alexnet.features:
        x = layer(x)
        if not isinstance(layer, nn.ReLU):
            print(f"{type(layer).__name__:<10} → {tuple(x.shape)}")
print(f"\nAlexNet (torchvision variant): {count_parameters(alexnet):,} parameters")
print(f"AlexNet (2012 paper, 2 GPUs):  {count_parameters(alexnet_2012()):,} parameters")

# %% [markdown]
# The paper says "60 million parameters": the two-GPU version has just under 61 million. The
# one-GPU variant is narrower in its convolutions but feeds the same 9,216 numbers to the classifier,
# so it is about as big. Now the stronger check: our torchvision-style AlexNet must be *the same
# function* as torchvision's. We copy torchvision's (randomly initialised, `weights=None`) tensors
# into ours by name and compare the outputs on a random image.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
reference = tvm.alexnet(weights=None).eval()
alexnet.load_state_dict(reference.state_dict())       # fails loudly if any name or shape differs
image = torch.randn(1, 3, 224, 224)
with torch.no_grad():
    same = torch.allclose(alexnet(image), reference(image), atol=1e-6)
print(f"torchvision alexnet: {count_parameters(reference):,} parameters; same outputs: {same}")
assert count_parameters(alexnet) == count_parameters(reference) and same

# %% [markdown]
# Where do 61 million parameters live? The first fully connected layer alone connects 256·6·6 =
# 9,216 inputs to 4,096 outputs: 37.8 million weights, 62 % of the network. The convolutions, which
# do nearly all the computing, hold 2.5 million. Keep that split in mind; VGG makes it extreme.
#
# ## VGGNet: depth from a table
#
# VGG {cite}`simonyan2014very` asked one question: what does depth alone buy? Every convolution is
# 3×3 with stride 1 and padding 1, every pooling 2×2, and the channels double after each pooling
# from 64 to 512. The paper's Table 1, the slide in the talk, lists six configurations from 11 to 19
# weight layers. We keep that table as data, `data/vgg_configs.yaml`, in the paper's own notation,
# and print it back:

# %%
# NBVAL_CHECK_OUTPUT
vgg_table = read_table("vgg_configs.yaml")
configs = vgg_table["configurations"]


def table_one(configs: dict) -> pd.DataFrame:
    """Table 1 of the paper: one column per configuration, blocks (between maxpools) aligned."""
    blocks = {}
    for name, config in configs.items():
        text = " ".join(config["layers"])
        blocks[name] = [block.split() for block in text.split("maxpool") if block.strip()]
    rows = [{name: f"{config['weight_layers']} weight layers" for name, config in configs.items()},
            {name: f"input ({vgg_table['input']})" for name in configs}]
    for b in range(max(len(block) for block in blocks.values())):
        for i in range(max(len(blocks[name][b]) for name in configs)):
            rows.append({name: blocks[name][b][i] if i < len(blocks[name][b]) else ""
                         for name in configs})
        rows.append({name: "maxpool" for name in configs})
    rows += [{name: layer for name in configs} for layer in vgg_table["classifier"]]
    return pd.DataFrame(rows)


print(table_one(configs).to_string(index=False))

# %% [markdown]
# One function turns any column of that table into a network. It reads the layer names, `conv3-64`,
# `conv1-256`, `LRN`, `maxpool`, `FC-4096`, and refuses anything else with a message that says what
# it expected. The result is laid out like torchvision's VGG (`features`, `avgpool`,
# `classifier`), so torchvision's weights load into it by name.

# %%
class VGG(nn.Module):
    """A VGG network: convolutional `features`, then the fully connected `classifier`."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential):
        super().__init__()
        self.features, self.classifier = features, classifier
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))   # a no-op at 224×224; lets other sizes in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def build_vgg(name: str, table: dict = vgg_table) -> VGG:
    """Configuration `name` (A, A-LRN, B, C, D or E) of the VGG table, as a network."""
    if name not in table["configurations"]:
        raise ValueError(f"unknown VGG configuration {name!r}: choose one of "
                         f"{', '.join(table['configurations'])}")
    layers, channels = [], 3
    for token in table["configurations"][name]["layers"]:
        if conv := re.fullmatch(r"conv(\d+)-(\d+)", token):
            size, width = int(conv[1]), int(conv[2])
            layers += [nn.Conv2d(channels, width, size, padding=size // 2), nn.ReLU(inplace=True)]
            channels = width
        elif token == "LRN":
            layers.append(krizhevsky_lrn())
        elif token == "maxpool":
            layers.append(nn.MaxPool2d(2, stride=2))
        else:
            raise ValueError(f"VGG-{name}: unknown layer {token!r}; expected conv<k>-<channels>, "
                             f"LRN or maxpool")
    head, features = [], channels * 7 * 7
    for token in table["classifier"]:
        if fc := re.fullmatch(r"FC-(\d+)", token):
            if head:                                   # between two FC layers: ReLU and dropout
                head += [nn.ReLU(inplace=True), nn.Dropout(0.5)]
            head.append(nn.Linear(features, int(fc[1])))
            features = int(fc[1])
        elif token != "soft-max":                      # the softmax lives in the loss function
            raise ValueError(f"VGG-{name}: unknown classifier layer {token!r}; expected FC-<n>")
    return VGG(nn.Sequential(*layers), nn.Sequential(*head))

# %% [markdown]
# Build all six, count their parameters and compare with the paper's Table 2 (in millions) and,
# where torchvision has the same configuration, with torchvision exactly. Building on PyTorch's
# `meta` device creates every tensor's shape without allocating its memory, so six networks of
# 130–144 million parameters cost nothing.

# %%
# NBVAL_CHECK_OUTPUT
rows = []
for name in configs:
    with torch.device("meta"):
        ours = build_vgg(name)
        theirs = getattr(tvm, vgg_table["torchvision"][name])() if name in vgg_table["torchvision"] else None
    row = {"configuration": name, "weight layers": configs[name]["weight_layers"],
           "parameters": count_parameters(ours),
           "paper, Table 2 (M)": vgg_table["parameters_millions"][name]}
    if theirs is not None:
        same_tensors = [(k, v.shape) for k, v in ours.state_dict().items()] == \
                       [(k, v.shape) for k, v in theirs.state_dict().items()]
        row.update({"torchvision": vgg_table["torchvision"][name],
                    "torchvision parameters": count_parameters(theirs), "same tensors": same_tensors})
    rows.append(row)
vgg_counts = pd.DataFrame(rows).set_index("configuration").astype({"torchvision parameters": "Int64"})
print(vgg_counts.astype(object).fillna("–").to_string())

# %% [markdown]
# Every count rounds to the paper's, and A, B, D and E equal torchvision's `vgg11`, `vgg13`,
# `vgg16` and `vgg19` tensor for tensor. As for AlexNet, we go one step further for configuration
# A and check that, given torchvision's tensors, our network computes the same function.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
vgg_a, reference = build_vgg("A").eval(), tvm.vgg11(weights=None).eval()
vgg_a.load_state_dict(reference.state_dict())
image = torch.randn(1, 3, 64, 64)                      # small: the check is about the function
with torch.no_grad():
    same = torch.allclose(vgg_a(image), reference(image), atol=1e-6)
print(f"VGG-A built from the table == torchvision vgg11: {same}")
assert same
del vgg_a, reference

# %% [markdown]
# ### Why 3×3?
#
# Two stacked 3×3 convolutions see a 5×5 patch of their input, three see 7×7, with a ReLU between
# each. The paper's argument (its Section 2.3) in numbers, for 512 channels in and out:

# %%
# NBVAL_CHECK_OUTPUT
C = 512
with torch.device("meta"):
    one_7x7 = nn.Conv2d(C, C, 7, bias=False)
    three_3x3 = nn.Sequential(*[nn.Conv2d(C, C, 3, bias=False) for _ in range(3)])
print(f"one 7×7 layer:    {count_parameters(one_7x7):>10,} weights (49·C²), 1 non-linearity")
print(f"three 3×3 layers: {count_parameters(three_3x3):>10,} weights (27·C²), 3 non-linearities")
print(f"the stack needs {1 - count_parameters(three_3x3) / count_parameters(one_7x7):.0%} fewer weights")

# %% [markdown]
# ### Where the parameters live, and where the work is done
#
# A parameter count says how much a network must *store*; the number of floating-point operations
# (FLOPs) says how much it must *compute* per image. PyTorch counts FLOPs itself:
# `torch.utils.flop_counter.FlopCounterMode` records every matrix multiplication and convolution of
# a forward pass (a multiply-add counts as 2 FLOPs). It works on the `meta` device too, so counting
# VGG-E at 224×224 costs no arithmetic.

# %%
def count_flops(build, size: int = 224, per_layer: bool = False):
    """FLOPs of one forward pass of `build()` on a size×size RGB image, counted on the meta device.

    With per_layer=True, also returns {layer name: FLOPs} for every conv and linear layer.
    """
    with torch.device("meta"):
        model = build().eval()
        x = torch.empty(1, 3, size, size)
    with FlopCounterMode(display=False) as counter:
        model(x)
    if not per_layer:
        return counter.get_total_flops()
    counts = counter.get_flop_counts()
    prefix = type(model).__name__
    layers = {name: sum(counts.get(f"{prefix}.{name}", {}).values())
              for name, module in model.named_modules() if isinstance(module, (nn.Conv2d, nn.Linear))}
    return counter.get_total_flops(), layers


total, vgg_d_flops = count_flops(lambda: build_vgg("D"), per_layer=True)
with torch.device("meta"):
    vgg_d = build_vgg("D")
vgg_d_params = {name: count_parameters(module) for name, module in vgg_d.named_modules()
                if isinstance(module, (nn.Conv2d, nn.Linear))}
fc_share = sum(v for k, v in vgg_d_params.items() if k.startswith("classifier")) / count_parameters(vgg_d)
fc_flops = sum(v for k, v in vgg_d_flops.items() if k.startswith("classifier")) / total
print(f"VGG-D: {total / 1e9:.1f} GFLOPs per 224×224 image; the 3 FC layers hold {fc_share:.0%} "
      f"of the parameters and do {fc_flops:.1%} of the FLOPs")

# %% mystnb={"figure": {"caption": "VGG-D (VGG-16) layer by layer: the 13 convolutions do almost all of the computing, the 3 fully connected layers hold most of the parameters.", "name": "fig-03-vgg-layers"}, "image": {"alt": "Two bar charts over the 16 weight layers of VGG-16. Top: parameters, small for the convolutions and very large for the first fully connected layer. Bottom: FLOPs, large and even for the convolutions and tiny for the fully connected layers."}}
names = list(vgg_d_params)
short = [f"conv{i + 1}" for i in range(13)] + ["FC6", "FC7", "FC8"]
fig, (ax_params, ax_flops) = plt.subplots(2, 1, figsize=(9, 4.8), sharex=True)
colors = ["C0"] * 13 + ["C1"] * 3
ax_params.bar(short, [vgg_d_params[n] / 1e6 for n in names], color=colors)
ax_params.set_ylabel("parameters (M)")
ax_flops.bar(short, [vgg_d_flops[n] / 1e9 for n in names], color=colors)
ax_flops.set_ylabel("GFLOPs")
ax_flops.tick_params(axis="x", rotation=60)
for ax in (ax_params, ax_flops):
    ax.grid(axis="y", alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** The first fully connected layer (FC6) alone holds 103 million of VGG-16's
# 138 million parameters and does almost no work; the convolutions near the input, on 224×224 and
# 112×112 maps, do most of the work with few parameters. Both of the next architectures attack
# that FC layer: GoogLeNet and ResNet replace it by global average pooling.
#
# ## GoogLeNet and the Inception module
#
# GoogLeNet {cite}`szegedy2015going` won 2014 with 22 layers and, in its authors' words, "12 times
# fewer parameters" than AlexNet.
# Its building block, the **Inception module**, looks at the same input at several scales at once:
# a 1×1, a 3×3 and a 5×5 convolution and a 3×3 max-pooling, side by side, their outputs stacked
# along the channels. Done naively this explodes: every branch keeps the input's channels, and the
# 5×5 convolutions on a wide input are expensive. The fix is a **1×1 convolution that reduces** the
# channels before each 3×3 and 5×5, and one that projects the pooled branch. Passing `None` for a
# reduce width gives the naive module of the paper's Figure 2a.

# %%
def conv_relu(c_in: int, c_out: int, size: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, size, padding=size // 2), nn.ReLU(inplace=True))


class Inception(nn.Module):
    """Szegedy et al. 2015, Fig. 2b: 1×1 | 1×1→3×3 | 1×1→5×5 | 3×3 max-pool→1×1, concatenated.

    A reduce width (or pool_proj) of None leaves that 1×1 layer out: the naive module of Fig. 2a.
    """

    def __init__(self, c_in: int, c1x1: int, c3x3_reduce: int | None, c3x3: int,
                 c5x5_reduce: int | None, c5x5: int, pool_proj: int | None):
        super().__init__()

        def reduce_then(width: int | None, c_out: int, size: int) -> nn.Sequential:
            if width is None:
                return conv_relu(c_in, c_out, size)
            return nn.Sequential(conv_relu(c_in, width, 1), conv_relu(width, c_out, size))

        self.branch1 = conv_relu(c_in, c1x1, 1)
        self.branch2 = reduce_then(c3x3_reduce, c3x3, 3)
        self.branch3 = reduce_then(c5x5_reduce, c5x5, 5)
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                     *([conv_relu(c_in, pool_proj, 1)] if pool_proj else []))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)

# %% [markdown]
# Inception (3a), the first module of GoogLeNet, receives 192 channels of 28×28 and has, from the
# paper's Table 1: 64 1×1 filters; 96 reducing to 128 3×3 filters; 16 reducing to 32 5×5 filters;
# and a 32-filter pool projection. We check its output shape and count its cost, with and without
# the reduce layers.

# %%
# NBVAL_CHECK_OUTPUT
INCEPTION_3A = dict(c_in=192, c1x1=64, c3x3_reduce=96, c3x3=128, c5x5_reduce=16, c5x5=32, pool_proj=32)
NAIVE_3A = {**INCEPTION_3A, "c3x3_reduce": None, "c5x5_reduce": None, "pool_proj": None}


def inception_cost(**widths) -> dict:
    """Output channels, parameters and multiply-adds per branch of one module on 28×28 inputs."""
    with torch.device("meta"):
        module = Inception(**widths)
        x = torch.empty(1, widths["c_in"], 28, 28)
    with FlopCounterMode(display=False) as counter:
        out = module(x)
    counts = counter.get_flop_counts()
    cost = {"output channels": out.shape[1], "parameters": count_parameters(module)}
    for b in range(1, 5):
        cost[f"branch {b} MMACs"] = round(sum(counts.get(f"Inception.branch{b}", {}).values()) / 2e6, 1)
    cost["total MMACs"] = round(counter.get_total_flops() / 2e6, 1)
    return cost


inception_3a = Inception(**INCEPTION_3A)
print("inception (3a) output:", tuple(inception_3a(torch.zeros(1, 192, 28, 28)).shape))
savings = pd.DataFrame({"naive (Fig. 2a)": inception_cost(**NAIVE_3A),
                        "with 1×1 reduce (Fig. 2b)": inception_cost(**INCEPTION_3A)})
print(savings.map(lambda v: f"{v:,.1f}".removesuffix(".0")).to_string())

# %% [markdown]
# The reduce layers cut the multiply-adds of (3a) from about 300 million to 128 million (the paper's
# Table 1 lists "128M" ops for this module) and its output from 416 to 256 channels. The second
# saving compounds: the naive module passes all 192 pooled channels through, so every following
# module would see more input channels than the one before, and cost more.
#
# ## Try it yourself
#
# Change the widths of the two reduce layers and watch the cost of inception (3a). With a running
# kernel the sliders are live (0 means "no reduce layer", the naive branch); on the website the
# figure below shows the paper's choice next to the naive module.

# %%
import ipywidgets as widgets


def show_inception_cost(c3x3_reduce: int = 96, c5x5_reduce: int = 16) -> None:
    widths = {**INCEPTION_3A, "c3x3_reduce": c3x3_reduce or None, "c5x5_reduce": c5x5_reduce or None}
    naive, chosen = inception_cost(**NAIVE_3A), inception_cost(**widths)
    branches = [f"branch {b} MMACs" for b in range(1, 5)]
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    position = np.arange(4)
    ax.barh(position + 0.2, [naive[b] for b in branches], 0.4, color="0.7", label="naive")
    ax.barh(position - 0.2, [chosen[b] for b in branches], 0.4, color="C0", label="your widths")
    ax.set_yticks(position, ["1×1", "3×3", "5×5", "pool"]); ax.invert_yaxis()
    ax.set_xlabel("million multiply-adds"); ax.legend(fontsize=8)
    ax.set_title(f"total {chosen['total MMACs']:.0f} vs naive {naive['total MMACs']:.0f} MMACs; "
                 f"{chosen['parameters']:,} parameters", fontsize=9)
    fig.tight_layout()
    plt.show()


widgets.interact(show_inception_cost,
                 c3x3_reduce=widgets.IntSlider(96, 0, 192, 16, description="3×3 reduce"),
                 c5x5_reduce=widgets.IntSlider(16, 0, 64, 8, description="5×5 reduce"));

# %% mystnb={"figure": {"caption": "Static version of the widget: multiply-adds of each branch of inception (3a) on a 28\u00d728\u00d7192 input, naive (grey) and with the paper's 1\u00d71 reduce layers (blue).", "name": "fig-03-inception"}, "image": {"alt": "Horizontal bar chart of four branches. The 3 by 3 and 5 by 5 branches cost far less with reduce layers than without; the 1 by 1 branch is unchanged and the pool branch gains a small projection."}}
show_inception_cost(96, 16)

# %% [markdown]
# GoogLeNet stacks nine such modules, with the widths of the paper's Table 1, between a small
# convolutional stem and a global average pooling that replaces AlexNet's and VGG's big fully
# connected layers. (The paper also trained two auxiliary classifiers half-way up; they are not
# used at test time and we leave them out.)

# %%
GOOGLENET_TABLE = {  # Table 1 of Szegedy et al.: c_in, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64), "pool3": None,
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128), "pool4": None,
    "5a": (832, 256, 160, 320, 32, 128, 128), "5b": (832, 384, 192, 384, 48, 128, 128)}


class GoogLeNet(nn.Module):
    """Szegedy et al. 2015 without the auxiliary classifiers: stem, 9 Inception modules, pooling."""

    def __init__(self, n_classes: int = 1000):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, ceil_mode=True), krizhevsky_lrn(),
            conv_relu(64, 64, 1), conv_relu(64, 192, 3), krizhevsky_lrn(),
            nn.MaxPool2d(3, stride=2, ceil_mode=True))
        self.inception = nn.Sequential(*[
            Inception(*widths) if widths else nn.MaxPool2d(3, stride=2, ceil_mode=True)
            for widths in GOOGLENET_TABLE.values()])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.4),
                                  nn.Linear(1024, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.inception(self.stem(x)))

# %%
# NBVAL_CHECK_OUTPUT
with torch.device("meta"):
    googlenet = GoogLeNet()
print(f"GoogLeNet: {count_parameters(googlenet):,} parameters "
      f"({count_parameters(alexnet) / count_parameters(googlenet):.1f}× fewer than AlexNet), "
      f"{count_flops(GoogLeNet) / 2e9:.2f} billion multiply-adds per 224×224 image")

# %% [markdown]
# The paper designed GoogLeNet for "a computational budget of 1.5 billion multiply-adds at inference
# time". Our count, from the widths of its Table 1, is 1.58 billion, and the "ops" column of that
# table adds up to about the same: the budget was a round figure. (torchvision's `googlenet` is a later variant
# with batch normalisation and 3×3 instead of 5×5 convolutions, so its count differs slightly.)
#
# ### Inception performance comparison
#
# The talk's slide is Table 2 of the GoogLeNet paper: the 2014 entry against the winners of the two
# previous years and its 2014 rivals. The same numbers are rows of our results table:

# %%
# NBVAL_CHECK_OUTPUT
comparison_2014 = results[results.year.between(2012, 2014)][
    ["team", "year", "place", "top5_error_pct", "external_data", "source", "where"]]
print(comparison_2014.to_string(index=False))
best = comparison_2014.set_index("team").top5_error_pct
print(f"\nGoogLeNet vs SuperVision's best: {1 - best['GoogLeNet'] / best['SuperVision'].min():.1%} "
      f"lower error; vs Clarifai's best: {1 - best['GoogLeNet'] / best['Clarifai'].min():.1%} lower")

# %% [markdown]
# The paper reports "a 56.5 % relative reduction compared to the SuperVision approach" and "about
# 40 % relative reduction compared to the previous year's best approach (Clarifai)", both against
# the entries that used external data; our arithmetic on the table gives 56.4 % and 40.4 %. Two caveats belong next to the
# table: 6.67 % is an ensemble of 7 networks evaluated on 144 crops of every image (one network on
# one crop scored 10.07 %, the paper's Table 3), and VGG's 7.3 % came from an ensemble of 7 as well;
# the VGG authors brought theirs to 6.8 % with two networks soon after.
#
# ## ResNet
#
# If depth helps, why stop at 22 layers? He et al. {cite}`he2016deep` found that simply stacking
# more layers makes networks *harder to train*: a 56-layer plain network had a higher **training**
# error than a 20-layer one. That is not overfitting (the training error is worse, not just the
# test error), and with batch normalisation {cite}`ioffe2015batch` it is not vanishing gradients
# either; they called it the **degradation problem**. Their fix: let each pair of layers learn only
# a *residual* F(x) and add the input back, output = ReLU(F(x) + x). If the identity is the best
# thing a block can do, it only has to push F to zero.
#
# The **basic block** (ResNet-18/34) has two 3×3 convolutions. Where a block halves the size and
# doubles the channels, the shortcut must change shape too: either a 1×1 convolution (a
# "projection", torchvision's choice) or a strided identity padded with zero channels (the paper's
# "option A", no parameters). `shortcut="none"` removes it: a *plain* block, for the experiment.

# %%
class BasicBlock(nn.Module):
    """He et al. 2016, Fig. 2: two 3×3 conv + batch norm, the input added back before the last ReLU."""
    expansion = 1

    def __init__(self, c_in: int, channels: int, stride: int = 1, shortcut: str = "projection"):
        super().__init__()
        if shortcut not in ("projection", "zeros", "none"):
            raise ValueError(f"shortcut must be 'projection', 'zeros' or 'none', got {shortcut!r}")
        self.conv1 = nn.Conv2d(c_in, channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut, self.stride, self.new_channels = shortcut, stride, channels - c_in
        self.downsample = None
        if shortcut == "projection" and (stride != 1 or c_in != channels):
            self.downsample = nn.Sequential(nn.Conv2d(c_in, channels, 1, stride, bias=False),
                                            nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.shortcut == "projection":
            out = out + (x if self.downsample is None else self.downsample(x))
        elif self.shortcut == "zeros":                 # option A: subsample, pad new channels
            identity = x[:, :, ::self.stride, ::self.stride]
            out = out + F.pad(identity, (0, 0, 0, 0, 0, self.new_channels))
        return self.relu(out)

# %% [markdown]
# The **bottleneck block** (ResNet-50 and deeper) is Inception's trick applied to ResNet: a 1×1
# convolution reduces the channels 4×, a 3×3 works on the narrow tensor, and a 1×1 expands back.
# Like torchvision we put the stride on the 3×3 convolution (the paper puts it on the first 1×1;
# the parameters are the same, the FLOPs differ slightly).

# %%
class Bottleneck(nn.Module):
    """He et al. 2016, Fig. 5 right: 1×1 reduce → 3×3 → 1×1 expand (×4), plus the shortcut."""
    expansion = 4

    def __init__(self, c_in: int, channels: int, stride: int = 1):
        super().__init__()
        c_out = channels * self.expansion
        self.conv1 = nn.Conv2d(c_in, channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                            nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))

# %% [markdown]
# The ImageNet ResNets share one skeleton: a 7×7 stem, four stages of blocks at 64, 128, 256 and 512
# channels (each after the first halves the size), global average pooling and one linear layer.
# Only the block type and the number of blocks per stage differ (the paper's Table 1).

# %%
class ResNet(nn.Module):
    """He et al. 2016, Table 1: stem, four stages of blocks, global average pooling, linear layer."""

    def __init__(self, block: type[nn.Module], blocks_per_stage: list[int], n_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(64), nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        c_in, stages = 64, []
        for stage, (channels, n_blocks) in enumerate(zip((64, 128, 256, 512), blocks_per_stage)):
            blocks = []
            for i in range(n_blocks):
                blocks.append(block(c_in, channels, stride=2 if stage > 0 and i == 0 else 1))
                c_in = channels * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(c_in, n_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18() -> ResNet: return ResNet(BasicBlock, [2, 2, 2, 2])
def resnet34() -> ResNet: return ResNet(BasicBlock, [3, 4, 6, 3])
def resnet50() -> ResNet: return ResNet(Bottleneck, [3, 4, 6, 3])

# %% [markdown]
# Their parameter counts against torchvision's, exactly, and the same-function check for
# ResNet-18 and ResNet-50 (in evaluation mode, where batch normalisation uses its stored statistics):

# %%
# NBVAL_CHECK_OUTPUT
RESNETS = {"ResNet-18": (resnet18, tvm.resnet18), "ResNet-34": (resnet34, tvm.resnet34),
           "ResNet-50": (resnet50, tvm.resnet50)}
for name, (ours, theirs) in RESNETS.items():
    with torch.device("meta"):
        n_ours, n_theirs = count_parameters(ours()), count_parameters(theirs(weights=None))
    print(f"{name}: {n_ours:,} parameters (torchvision: {n_theirs:,})")
image = torch.randn(2, 3, 64, 64)
for name in ("ResNet-18", "ResNet-50"):
    ours, theirs = RESNETS[name]
    torch.manual_seed(0)
    model, reference = ours().eval(), theirs(weights=None).eval()
    model.load_state_dict(reference.state_dict())
    with torch.no_grad():
        same = torch.allclose(model(image), reference(image), atol=1e-5)
    print(f"{name} with torchvision's tensors computes the same function: {same}")
    assert same
del model, reference

# %% [markdown]
# ### The degradation problem, on real digits
#
# Now the experiment behind ResNet, small enough for a laptop. We follow the paper's CIFAR-10
# networks (its Section 4.2): a 3×3 convolution, three stages of *n* basic blocks with 16, 32 and 64
# channels, global average pooling and a linear layer: 6*n*+2 weight layers. We train three of them
# on the handwritten digits with the same optimiser, seed and number of epochs:
#
# - a **shallow plain** network (`P.shallow_blocks` blocks per stage),
# - a **deep plain** network (`P.deep_blocks` blocks per stage), and
# - the **deep residual** network: the same layers, the same parameters, plus parameter-free
#   identity shortcuts (option A).
#
# In the CPU profile that is 8 against 26 layers on the 8×8 digits; the GPU profile uses the
# paper's own pair, 20 against 56 layers, on MNIST when its files are present.

# %%
class CifarResNet(nn.Module):
    """He et al. 2016, Sec. 4.2: 3×3 conv, 3 stages of n basic blocks (w, 2w, 4w channels), pooling."""

    def __init__(self, n: int, shortcut: str, width: int = 16, c_in: int = 1, n_classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(c_in, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        blocks, channels = [], width
        for stage in range(3):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(channels, width * 2**stage, stride, shortcut))
                channels = width * 2**stage
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))

# %%
data = load_handwritten_digits(prefer=P.dataset, image_size=P.image_size)
x_train, y_train = data.x_train[:P.max_train], data.y_train[:P.max_train]
x_test, y_test = data.x_test, data.y_test

# %%
# NBVAL_CHECK_OUTPUT
networks = {f"plain, {6 * P.shallow_blocks + 2} layers": (P.shallow_blocks, "none"),
            f"plain, {6 * P.deep_blocks + 2} layers": (P.deep_blocks, "none"),
            f"residual, {6 * P.deep_blocks + 2} layers": (P.deep_blocks, "zeros")}
for name, (n, shortcut) in networks.items():
    print(f"{name:<22} {count_parameters(CifarResNet(n, shortcut, P.width)):>9,} parameters")
print(f"training on {tuple(x_train.shape)}, testing on {tuple(x_test.shape)}")

# %% [markdown]
# SGD with momentum and a little weight decay, as in the paper, and the same seed for every network,
# so each starts from the same kind of random weights and sees the batches in the same order.

# %%
@contextmanager
def one_cpu_thread(device: torch.device):
    """On the CPU, run torch on one thread inside the block; on a GPU, change nothing.

    Networks this small gain nothing from splitting each tiny convolution across threads, and on
    a busy machine the threads mostly wait for each other.
    """
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


histories = {}
with one_cpu_thread(device):
    for name, (n, shortcut) in networks.items():
        torch.manual_seed(0)
        model = CifarResNet(n, shortcut, P.width)
        optimizer = torch.optim.SGD(model.parameters(), lr=P.lr, momentum=0.9, weight_decay=1e-4)
        histories[name] = fit(model, (x_train, y_train), (x_test, y_test), epochs=P.epochs,
                              optimizer=optimizer, batch_size=P.batch_size, device=device, desc=name)

# %% mystnb={"figure": {"caption": "Training (solid) and test (dashed) loss and accuracy of a shallow plain network, a deep plain network and the same deep network with residual connections, trained identically on the handwritten digits.", "name": "fig-03-degradation"}, "image": {"alt": "Two line charts over epochs. The deep plain network's training loss stays well above the shallow plain network's; the deep residual network's training loss falls fastest and lowest."}}
fig = plot_history(histories, metrics=("loss", "accuracy"))
fig.axes[0].set_yscale("log")      # the losses span three orders of magnitude
plt.show()

# %%
summary = pd.DataFrame({name: {"final training loss": h.last("train_loss"),
                               "final training accuracy": h.last("train_accuracy"),
                               "test accuracy": h.last("val_accuracy")}
                        for name, h in histories.items()}).T
summary.style.format("{:.3f}")

# %% [markdown]
# **What to notice.** The deep plain network has more layers and several times the parameters of the
# shallow one, yet it ends with a *higher training loss*: it cannot even fit the training set as
# well. That is the degradation problem, and the optimiser, not the data, is to blame, since the
# deep network could in principle copy the shallow one and set its extra layers to the identity.
# The residual network has exactly the same layers and parameters; with shortcuts it learns fastest
# at first and ends close to the shallow network, with a training loss ten times lower than its
# plain twin's. (On another machine your
# numbers may differ a little; the Checks below assert the ordering, not the exact losses.)
#
# ## Parameters, FLOPs and latency
#
# Three ways to say how "big" a network is: how many numbers it stores (parameters), how much
# arithmetic one image costs (FLOPs, counted above with PyTorch's `FlopCounterMode`), and how long
# one forward pass takes on this device (latency). The first two are properties of the
# architecture; the third is a measurement, and yours will differ from the stored one.

# %%
# NBVAL_CHECK_OUTPUT
ARCHITECTURES = {"AlexNet": AlexNet, **{f"VGG-{name}": (lambda name=name: build_vgg(name)) for name in configs},
                 "GoogLeNet": GoogLeNet, "ResNet-18": resnet18, "ResNet-34": resnet34, "ResNet-50": resnet50}
rows = []
for name, build in ARCHITECTURES.items():
    with torch.device("meta"):
        parameters = count_parameters(build())
    rows.append({"architecture": name, "parameters (M)": parameters / 1e6,
                 "GFLOPs": count_flops(build) / 1e9})
costs = pd.DataFrame(rows).set_index("architecture")
print(costs.round(2).to_string())

# %% [markdown]
# Latency: one warm-up pass, then the median of a few timed passes of a batch of `P.latency_batch`
# images at 224×224 (random pixels: the arithmetic does not depend on the values). On a GPU we
# synchronise before reading the clock, since CUDA runs asynchronously. On the CPU we time one
# thread and read its *processor* time, which other programs on the machine cannot inflate, so
# the numbers compare architectures fairly even on a busy computer.

# %%
def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def latency_ms(model: nn.Module, device: torch.device, repeats: int, batch: int = 1) -> float:
    """Median time of one forward pass of `batch` 224×224 images, after one warm-up pass:
    wall-clock time on a GPU, this thread's processor time on the CPU."""
    clock = time.thread_time if device.type == "cpu" else time.perf_counter
    model = model.eval().to(device)
    x = torch.randn(batch, 3, 224, 224, device=device)
    times = []
    with torch.no_grad():
        for _ in range(repeats + 1):
            synchronize(device)
            start = clock()
            model(x)
            synchronize(device)
            times.append(clock() - start)
    return 1000 * float(np.median(times[1:]))


with one_cpu_thread(device):
    for name, build in ARCHITECTURES.items():
        torch.manual_seed(0)
        with torch.device(device):
            model = build()
        costs.loc[name, "latency (ms)"] = latency_ms(model, device, P.latency_repeats, P.latency_batch)
        del model
costs.style.format({"parameters (M)": "{:.1f}", "GFLOPs": "{:.2f}", "latency (ms)": "{:.1f}"})

# %% mystnb={"figure": {"caption": "Every architecture of the chapter at 224\u00d7224: parameters against FLOPs (left), and FLOPs against the forward latency measured on this device for the stored run (right; the CPU profile). Marker area is proportional to the parameter count.", "name": "fig-03-costs"}, "image": {"alt": "Two log-log scatter plots. Left: VGG networks have both the most parameters and the most FLOPs, GoogLeNet and ResNets have few parameters and moderate FLOPs, AlexNet many parameters but few FLOPs. Right: latency grows with FLOPs."}}
fig, (ax_left, ax_right) = plt.subplots(1, 2, figsize=(11, 4.3))
family = {"Al": "C3", "VG": "C0", "Go": "C2", "Re": "C1"}
for name, row in costs.iterrows():
    color, size = family[name[:2]], 10 + row["parameters (M)"] * 2
    ax_left.scatter(row["parameters (M)"], row["GFLOPs"], s=size, color=color, alpha=0.7)
    ax_right.scatter(row["GFLOPs"], row["latency (ms)"], s=size, color=color, alpha=0.7)
    dx, dy = {"VGG-A-LRN": (-6, 4), "VGG-B": (4, -9)}.get(name, (4, 3))   # keep close labels apart
    for ax, xy in ((ax_left, (row["parameters (M)"], row["GFLOPs"])),
                   (ax_right, (row["GFLOPs"], row["latency (ms)"]))):
        ax.annotate(name, xy, xytext=(dx, dy), textcoords="offset points", fontsize=7,
                    ha="right" if dx < 0 else "left")
ax_left.set(xscale="log", yscale="log", xlabel="parameters (millions)", ylabel="GFLOPs per image")
where = "1 CPU thread" if device.type == "cpu" else device.type
ax_right.set(xscale="log", yscale="log", xlabel="GFLOPs per image",
             ylabel=f"forward time (ms), batch {P.latency_batch}, {where}")
for ax in (ax_left, ax_right):
    ax.grid(alpha=0.3, which="both")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** Parameters and FLOPs are not the same thing. AlexNet stores more numbers than
# any ResNet but computes less than ResNet-18, because its parameters sit in fully connected
# layers that run once per image, while a convolution's few weights run at every position.
# GoogLeNet matches VGG's ImageNet error and ResNet-50 beats it, with a twentieth and a fifth of
# VGG-16's parameters and a tenth and a quarter of its FLOPs.
#
# Time follows FLOPs, but not exactly. The FLOP counter sees only multiplications; layers that do
# little arithmetic per byte they touch (LRN, pooling, concatenating thin branches) still take
# time. In the stored CPU run, VGG-A-LRN has exactly VGG-A's FLOPs but is clearly slower, and
# GoogLeNet, with its many narrow branches, is slower than ResNet-18 at similar FLOPs. How fast a
# network runs depends on how well its layers suit the hardware: count FLOPs to compare designs,
# but measure to know.
#
# ## Checks
#
# The claims this chapter makes, asserted on the numbers it just computed and measured. If a change
# to the code breaks one of them, the notebook fails in CI.

# %%
published = results.set_index("architecture").top5_error_pct
assert published["AlexNet (7 CNNs)"] == 15.3 and round(published["VGGNet (7 nets)"], 1) == 7.3
assert published["GoogLeNet (7 models × 144 crops)"] == 6.67 and published["ResNet (ensemble)"] == 3.57
assert winners.is_monotonic_decreasing, "every year's winner should beat the previous year's"
assert 60e6 < count_parameters(alexnet_2012()) < 61e6, "the 2012 AlexNet has about 60 million parameters"
assert count_parameters(AlexNet()) == count_parameters(tvm.alexnet(weights=None)) == 61_100_840
assert all(round(n / 1e6) == m for n, m in zip(vgg_counts["parameters"], vgg_counts["paper, Table 2 (M)"]))
assert all(vgg_counts.dropna()["parameters"] == vgg_counts.dropna()["torchvision parameters"])
assert all(vgg_counts.dropna()["same tensors"].astype(bool))
assert inception_3a(torch.zeros(1, 192, 28, 28)).shape[1] == 256
assert round(savings.loc["total MMACs", "with 1×1 reduce (Fig. 2b)"]) == 128   # Table 1: "128M"
assert savings.loc["total MMACs", "naive (Fig. 2a)"] > 2 * savings.loc["total MMACs", "with 1×1 reduce (Fig. 2b)"]
assert abs(count_flops(GoogLeNet) / 2e9 - 1.5) < 0.1, "GoogLeNet: about 1.5 billion multiply-adds"
with torch.device("meta"):
    assert [count_parameters(f()) for f in (resnet18, resnet34, resnet50)] == [11_689_512, 21_797_672, 25_557_032]
# He et al. 2016, Table 1 and Fig. 3: 1.8, 3.6 (ResNet-18/34) and 19.6 (VGG-19) billion multiply-adds
for name, paper in (("ResNet-18", 1.8), ("ResNet-34", 3.6), ("VGG-E", 19.6)):
    assert abs(costs.loc[name, "GFLOPs"] / 2 / paper - 1) < 0.03, f"{name}: FLOPs differ from the paper"
# The degradation problem, and its cure (mean training loss over the last 3 epochs)
final = {name: float(np.mean(h["train_loss"][-3:])) for name, h in histories.items()}
shallow, deep_plain, deep_residual = final.values()
assert deep_plain > shallow, f"the deep plain net should train worse than the shallow one: {final}"
assert deep_residual < 0.5 * deep_plain, f"the residual net should train much better than the plain one: {final}"
print("all checks passed:", {name: round(loss, 3) for name, loss in final.items()})

# %% [markdown]
# ## Exercises
#
# 1. **VGG's sixth column.** Add a configuration to the YAML table (in a copy of the dictionary
#    `vgg_table`) with four 3×3 layers in *every* block, build it with `build_vgg`, and count its
#    parameters and FLOPs. Where did the extra cost go?
# 2. **Depth of the plain network.** Repeat the degradation experiment with `n` = 2, 3, 5 for the
#    plain network. At which depth does the plain network start to train worse than the shallow one?
# 3. **Projection shortcuts.** Train the deep residual network with `shortcut="projection"` instead
#    of `"zeros"`. How many parameters does that add, and does it train differently?
# 4. **Bottleneck savings.** A bottleneck block with 256 input channels replaces two 3×3
#    convolutions at 256 channels. Compare the parameters of `Bottleneck(256, 64)` with two
#    `nn.Conv2d(256, 256, 3)`.
#
# ```{dropdown} Hints and solutions
# 1. `table = {**vgg_table, "configurations": {**configs, "F": {"weight_layers": 23, "layers": [...]}}}`,
#    then `build_vgg("F", table)`. The parameters barely move (convolutions are small, FC6 is
#    unchanged) but the FLOPs grow a lot, mostly in the first two blocks where the maps are large.
# 2. Loop over `n` and call `fit` as above, and compare the mean training loss of the last epochs.
#    Expect it to grow with depth; He et al. saw the gap on CIFAR-10 between 20 and 56 layers.
# 3. `CifarResNet(n, "projection")`: two 1×1 convolutions with batch norm at the two stage
#    transitions, a few thousand parameters. The paper found projections slightly better on
#    ImageNet, and not essential: the identity does the work.
# 4. The bottleneck has 256·64 + 9·64·64 + 64·256 ≈ 70 thousand weights; two 3×3 layers at 256
#    channels have 2·9·256·256 ≈ 1.18 million: 17× more, for the same input and output width.
# ```
#
# ## References
#
# ImageNet {cite}`deng2009imagenet` and its challenge {cite}`russakovsky2015imagenet`; the 2010 and
# 2011 winners {cite}`lin2011large,sanchez2011high`; AlexNet {cite}`krizhevsky2012imagenet,krizhevsky2014one`;
# ZFNet/Clarifai {cite}`zeiler2014visualizing`; SPP-net {cite}`he2014spatial`; VGG
# {cite}`simonyan2014very`; GoogLeNet {cite}`szegedy2015going`; batch normalisation
# {cite}`ioffe2015batch`; ResNet {cite}`he2016deep`; PyTorch {cite}`paszke2019pytorch`.
# Full entries are in the [bibliography](../book/bibliography.md).
