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
# Between 2011 and 2015 the top-5 error of the winning ImageNet classifier fell from about one
# image in four to about one in twenty-eight, and four network designs carried that fall: AlexNet,
# VGGNet, GoogLeNet and ResNet. This chapter writes each of them out in a few lines of PyTorch,
# checks every one against its paper and against torchvision to the last parameter, and measures
# what each costs on your machine. Then it trains, on real handwritten digits (MNIST), a shallow
# and a deep plain network and the deep network with shortcut connections, and asks what that
# small experiment does and does not show about the problem that motivated ResNet.
#
# **Learning goals**
# - Read the ILSVRC results: what top-5 error is, who won each year, and with which architecture.
# - Build AlexNet, all six VGG configurations (from the paper's own table), an Inception module
#   and GoogLeNet, and ResNet-18/34/50, and verify their parameter counts.
# - Explain why 3×3 stacks (VGG) and 1×1 "reduce" layers (Inception) buy depth and width cheaply.
# - See a deep plain network optimise more slowly than a shallow one at the same training budget,
#   and residual connections remove the gap; tell that apart from He et al.'s degradation problem.
# - Compare parameters, multiply-adds and measured latency, and say why they are not the same.
#
# **Run time:** about a minute and a half on a 2-core laptop (CPU profile). A GPU profile is
# set up for the paper's 20- and 56-layer networks on full-size digits, but its settings (its
# learning rate, and the depths) have not yet been validated on a GPU.

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
# | "Microsoft ResNet" | We build ResNet-18/34/50 block by block, and train plain and residual networks to see how fast each optimises, and what that says about the degradation problem. |

# %% tags=["hide-input"]
# Bootstrap: opened alone (Colab, an Azure VM), this installs the course's helpers
# with what this chapter needs (`demystify[ch03]`); in a checkout it does nothing.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:
    repository = "git+https://github.com/demystify-dl/demystifying-deep-learning"
    source = os.environ.get("DEMYSTIFY_SOURCE", repository)
    # %pip install -q "demystify[ch03] @ {source}"

# %% [markdown]
# The setup cell seeds every random number generator, picks the device (a GPU when there is one)
# and loads this chapter's **profile**: the sizes it runs with on a CPU or on a GPU.

# %%
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from torch.utils.flop_counter import FlopCounterMode

from demystify import (
    claim,
    evaluate,
    fit,
    glue,
    load_mnist_t10k,
    mark_timed,
    plot_history,
    report,
    start,
    timing,
)
from demystify.hardware import time_call
from demystify.tables import read_table

device, P = start("03_imagenet_architectures")

# %% [markdown]
# ## ImageNet and its challenge
#
# ImageNet {cite}`deng2009imagenet` is a collection of millions of photographs labelled with the
# nouns of WordNet. Its yearly challenge, ILSVRC {cite}`russakovsky2015imagenet`, used 1,000 of
# those classes: about 1.2 million training images, 50,000 for validation and (from 2012)
# 100,000 for the test.
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
print(
    results[
        ["year", "team", "architecture", "place", "top5_error_pct", "external_data",
         "source"]
    ].to_string(index=False)
)

# %% mystnb={"figure": {"caption": "Top-5 test error of the ILSVRC classification entries in data/ilsvrc_results.csv. The grey line joins each year's winning team's best entry; open squares used extra training data beyond the challenge's 1.2 million images. Deep convolutional networks (shaded) won every year from 2012.", "name": "fig-03-ilsvrc"}, "image": {"alt": "Line chart of ILSVRC top-5 error by year. The two winners before 2012 used hand-designed features; the winning error then falls every year, through AlexNet, Clarifai, GoogLeNet (with VGG just behind it) and ResNet, to about a seventh of the 2011 winner's."}}
winners = results[results.place == 1].groupby("year")["top5_error_pct"].min()
fig, ax = plt.subplots(figsize=(8, 4.2))
ax.axvspan(2011.5, 2015.4, color="C2", alpha=0.08)
ax.text(2011.6, 2.0, "deep convolutional networks", color="C2", fontsize=9)
ax.plot(winners.index, winners.values, "-", color="0.6", zorder=1,
        label="best entry of the winning team")
extra = results.external_data != "none"
ax.scatter(results.year[~extra], results.top5_error_pct[~extra], color="C0", zorder=2,
           label="challenge training data only")
ax.scatter(results.year[extra], results.top5_error_pct[extra], marker="s",
           facecolors="none", edgecolors="C0", zorder=2,
           label="with external training data")
labels = {"NEC-UIUC": (8, 0), "XRCE": (8, 0), "SuperVision": (8, -4),
          "Clarifai": (8, -4), "MSRA": (8, 4), "VGG": (-8, -3), "GoogLeNet": (8, -12)}
for (team, year), row in results.groupby(["team", "year"]).first().iterrows():
    best = results[(results.team == team) & (results.year == year)].top5_error_pct.min()
    is_team = team in ("NEC-UIUC", "XRCE", "Clarifai")
    name = team if is_team else row.architecture.split(" (")[0]
    dx, dy = labels.get(team, (8, 0))
    ax.annotate(f"{name} {best:g}%", (year, best), xytext=(dx, dy), fontsize=8,
                textcoords="offset points", ha="right" if dx < 0 else "left")
ax.set_xlabel("ILSVRC year"); ax.set_ylabel("top-5 test error (%)")
ax.set_xlim(2009.6, 2016.0); ax.set_ylim(0, 31); ax.set_xticks(range(2010, 2016))
ax.grid(alpha=0.3); ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# **What to notice.** The two years before 2012 were won by hand-designed features (SIFT-like
# descriptors, Fisher vectors) fed to linear classifiers; the 2011 winner, XRCE, missed about one
# image in four (the 2011 challenge's published results). In 2012 a
# convolutional network, AlexNet, won by a margin of about ten points (15.3 %, with extra
# pre-training data; 16.4 % without), against 26.2 % for the second-best 2012 entry (abstract and
# Table 2 {cite}`krizhevsky2012imagenet`), and convolutional networks won every year after. Not
# every winner was deeper than the one before: Clarifai's entry, built on the network of Zeiler
# and Fergus {cite}`zeiler2014visualizing`, which keeps AlexNet's 8 weight layers but with a
# smaller first-layer filter and stride, won 2013. Depth came
# in 2014 and 2015: 19 weight layers (VGG), 22 (GoogLeNet) and 152 (ResNet). For scale, the
# ILSVRC paper measured two trained human annotators on a random sample of test images; the better
# one, "A1" in its Section 6.4 (human accuracy), had a top-5 error of 5.1 % on 1,500 images
# {cite}`russakovsky2015imagenet`, a level the 2015 winner passed (3.57 % on the whole test set,
# {cite}`he2016deep` Table 5). The rest of the chapter builds those networks and asks what made
# the extra depth usable.
#
# ## AlexNet
#
# AlexNet {cite}`krizhevsky2012imagenet` is LeNet grown up: five convolutional layers, three of them
# followed by max-pooling, then three fully connected layers, with the ideas that made it work on
# 1.2 million images: ReLU instead of tanh (faster training), dropout and data augmentation
# (against overfitting), and two GPUs.
# Its Section 3.5 and Figure 2 {cite}`krizhevsky2012imagenet` give the network, which we build as they describe it:
#
# - conv1: 96 filters of 11×11 with stride 4, then local response normalisation (LRN: each
#   activation divided by the energy of its neighbours across channels) and an *overlapping*
#   max-pooling (3×3 windows, stride 2);
# - conv2: 256 filters of 5×5, LRN, pooling; conv3: 384 of 3×3; conv4: 384 of 3×3; conv5: 256 of
#   3×3 and pooling;
# - FC6 and FC7 with 4,096 units each, dropout on their outputs, and FC8 with 1,000 classes.
#
# The paper split every layer into two halves, one per GPU, that met only in conv3 and in the
# fully connected layers; in PyTorch that connectivity is `groups=2` on conv2, conv4 and conv5.
# The paper's text says the input is 224×224, but an 11×11 filter with stride 4 produces the
# 55×55 maps of its Figure 2 only from 227×227 pixels (with no padding), so we feed 227×227, as
# Caffe's reproduction of the network did. torchvision's `alexnet` is a different network, based
# on the one-GPU variant of "One weird trick" {cite}`krizhevsky2014one`: 64-192-384-256-256
# channels (the paper's footnote gives 384 for conv4; torchvision follows Krizhevsky's
# cuda-convnet2 one-GPU configuration), no groups, no LRN, 224×224 inputs padded by 2 pixels, and
# dropout *before* FC6 and FC7.
#
# Two small helpers first: the paper's LRN (PyTorch's `LocalResponseNorm` divides α by the
# window size, so we multiply it back), a ReLU that overwrites its input, and a parameter count.

# %%
def krizhevsky_lrn() -> nn.LocalResponseNorm:
    """LRN with the paper's k=2, n=5, α=1e-4, β=0.75 (PyTorch divides α by n)."""
    return nn.LocalResponseNorm(size=5, alpha=5 * 1e-4, beta=0.75, k=2.0)


def relu() -> nn.ReLU:
    return nn.ReLU(inplace=True)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

# %% [markdown]
# The 2012 network as one PyTorch model: `features` (the five convolutions, with LRN and
# pooling) and `classifier` (the three fully connected layers).

# %%
class AlexNet2012(nn.Module):
    """Krizhevsky et al. 2012 (Sec. 3.5, Fig. 2): the two-GPU network as one model."""

    def __init__(self, n_classes: int = 1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4),
            relu(),
            krizhevsky_lrn(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2, groups=2),
            relu(),
            krizhevsky_lrn(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1),
            relu(),  # the two GPUs meet
            nn.Conv2d(384, 384, 3, padding=1, groups=2),
            relu(),
            nn.Conv2d(384, 256, 3, padding=1, groups=2),
            relu(),
            nn.MaxPool2d(3, 2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(256 * 6 * 6, 4096), relu(), nn.Dropout(0.5),    # FC6
            nn.Linear(4096, 4096), relu(), nn.Dropout(0.5),            # FC7
            nn.Linear(4096, n_classes))                                # FC8

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))

# %% [markdown]
# Follow one 227×227 image through the 2012 network: every convolution or pooling layer shrinks
# the picture and (at first) widens the channels, until 256 maps of 6×6 feed the classifier.
# Then the check against the paper's abstract: "The neural network, which has 60 million
# parameters and 650,000 neurons, consists of five convolutional layers".

# %%
# NBVAL_CHECK_OUTPUT
x = torch.zeros(1, 3, 227, 227)
alexnet_2012 = AlexNet2012().eval()
with torch.no_grad():
    for layer in alexnet_2012.features:
        x = layer(x)
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
            print(f"{type(layer).__name__:<10} → {tuple(x.shape)}")
n_2012 = count_parameters(alexnet_2012)
claim("alexnet_2012_parameters_vs_paper", abs(n_2012 / 60e6 - 1), "< 0.02", tol=0.001,
      parts={"ours_millions": n_2012 / 1e6, "paper_millions": 60},
      says="the 2012 network as the paper describes it has its 60 million parameters")

# %% [markdown]
# The network as the paper describes it has {glue:text}`alexnet_2012_parameters_vs_paper__ours_millions:.2f`
# million parameters: the paper's "60 million", rounded. torchvision's one-GPU variant has fewer
# filters in its convolutions but feeds the same 256·6·6 = 9,216 numbers to the same fully
# connected layers, so it is about as big. We write it too, with torchvision's layer names, and
# check that it is *the same function* as torchvision's: we copy torchvision's (randomly
# initialised, `weights=None`) tensors into ours by name and compare the outputs on a random image.

# %%
class AlexNet(nn.Module):
    """torchvision's AlexNet: based on Krizhevsky 2014's one-GPU net (conv4: 256)."""

    def __init__(self, n_classes: int = 1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), relu(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), relu(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), relu(),
            nn.Conv2d(384, 256, 3, padding=1), relu(),
            nn.Conv2d(256, 256, 3, padding=1), relu(), nn.MaxPool2d(3, 2))
        # a no-op at 224×224; lets other sizes in
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), relu(),
            nn.Dropout(0.5), nn.Linear(4096, 4096), relu(), nn.Linear(4096, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

# %% [markdown]
# The check: torchvision's tensors into ours, the same random image through both, and the
# largest difference of the outputs; then the two parameter counts.

# %%
torch.manual_seed(0)
alexnet, reference = AlexNet().eval(), tvm.alexnet(weights=None).eval()
# load_state_dict fails loudly if a name or shape differs
alexnet.load_state_dict(reference.state_dict())
image = torch.randn(1, 3, 224, 224)
with torch.no_grad():
    difference = (alexnet(image) - reference(image)).abs().max().item()
claim("alexnet_vs_torchvision_output_difference", difference, "< 1e-5", tol=1e-5,
      says="our one-GPU AlexNet with torchvision's tensors computes its function")
n_ours, n_theirs = count_parameters(alexnet), count_parameters(reference)
claim("alexnet_vs_torchvision_parameters", n_ours - n_theirs, "== 0", tol=0,
      parts={"ours": n_ours, "torchvision": n_theirs},
      says="our one-GPU AlexNet has exactly torchvision's parameters")
fc6 = alexnet_2012.classifier[0]
convs = sum(
    count_parameters(m) for m in alexnet_2012.features if isinstance(m, nn.Conv2d)
)
glue("alexnet_2012_fc6_millions", count_parameters(fc6) / 1e6)
glue("alexnet_2012_fc6_share", 100 * count_parameters(fc6) / n_2012)
glue("alexnet_2012_conv_millions", convs / 1e6)

# %% [markdown]
# Where do the 2012 network's 61 million parameters live? The first fully connected layer alone
# connects 256·6·6 = 9,216 inputs to 4,096 outputs: {glue:text}`alexnet_2012_fc6_millions:.1f`
# million weights, {glue:text}`alexnet_2012_fc6_share:.0f` percent of the network. The
# convolutions, which do nearly all the computing, hold {glue:text}`alexnet_2012_conv_millions:.1f`
# million. Keep that split in mind; VGG makes it extreme.
#
# ## VGGNet: depth from a table
#
# VGG {cite}`simonyan2014very` asked one question: what does depth alone buy? Every convolution is
# 3×3 (C also uses 1×1) with stride 1 and padding 1, every pooling 2×2, and the channels double after each pooling
# from 64 to 512. The paper's Table 1, the slide in the talk, lists six configurations from 11 to 19
# weight layers. We keep that table as data, `data/vgg_configs.yaml`, in the paper's own notation,
# and print it back:

# %%
# NBVAL_CHECK_OUTPUT
vgg_table = read_table("vgg_configs.yaml")
configs = vgg_table["configurations"]


def table_one(configs: dict) -> pd.DataFrame:
    """The paper's Table 1: a column per configuration, blocks between pools aligned."""
    blocks = {}
    for name, config in configs.items():
        text = " ".join(config["layers"])
        blocks[name] = [
            block.split() for block in text.split("maxpool") if block.strip()
        ]
    rows = [
        {
            name: f"{config['weight_layers']} weight layers"
            for name, config in configs.items()
        },
        {name: f"input ({vgg_table['input']})" for name in configs},
    ]
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
    """VGG: convolutional `features`, then the fully connected `classifier`."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential):
        super().__init__()
        self.features, self.classifier = features, classifier
        # a no-op at 224×224; lets other sizes in
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

# %% [markdown]
# `build_vgg` reads one column of the table token by token: convolutions (each with a ReLU),
# LRN and pooling become `features`; the `FC-` rows become `classifier`.

# %%
def build_vgg(name: str, table: dict = vgg_table) -> VGG:
    """Configuration `name` (A, A-LRN, B, C, D or E) of the VGG table, as a network."""
    if name not in table["configurations"]:
        raise ValueError(f"unknown VGG configuration {name!r}: choose one of "
                         f"{', '.join(table['configurations'])}")
    layers, channels = [], 3
    for token in table["configurations"][name]["layers"]:
        if conv := re.fullmatch(r"conv(\d+)-(\d+)", token):
            size, width = int(conv[1]), int(conv[2])
            layers += [nn.Conv2d(channels, width, size, padding=size // 2),
                       nn.ReLU(inplace=True)]
            channels = width
        elif token == "LRN":
            layers.append(krizhevsky_lrn())
        elif token == "maxpool":
            layers.append(nn.MaxPool2d(2, stride=2))
        else:
            raise ValueError(
                f"VGG-{name}: unknown layer {token!r}; expected conv<k>-<channels>, "
                f"LRN or maxpool"
            )
    head, features = [], channels * 7 * 7
    for token in table["classifier"]:
        if fc := re.fullmatch(r"FC-(\d+)", token):
            if head:  # between two FC layers: ReLU and dropout
                head += [nn.ReLU(inplace=True), nn.Dropout(0.5)]
            head.append(nn.Linear(features, int(fc[1])))
            features = int(fc[1])
        elif token != "soft-max":  # the softmax lives in the loss function
            raise ValueError(
                f"VGG-{name}: unknown classifier layer {token!r}; expected FC-<n>"
            )
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
        theirs = (
            getattr(tvm, vgg_table["torchvision"][name])()
            if name in vgg_table["torchvision"]
            else None
        )
    row = {"configuration": name, "weight layers": configs[name]["weight_layers"],
           "parameters": count_parameters(ours),
           "paper, Table 2 (M)": vgg_table["parameters_millions"][name]}
    if theirs is not None:
        same_tensors = [(k, v.shape) for k, v in ours.state_dict().items()] == \
                       [(k, v.shape) for k, v in theirs.state_dict().items()]
        row.update(
            {"torchvision": vgg_table["torchvision"][name],
             "torchvision parameters": count_parameters(theirs),
             "same tensors": same_tensors}
        )
    rows.append(row)
vgg_counts = pd.DataFrame(rows).set_index("configuration")
vgg_counts = vgg_counts.astype({"torchvision parameters": "Int64"})
print(vgg_counts.astype(object).fillna("–").to_string())
millions = vgg_counts["parameters"] / 1e6
claim("vgg_parameters_vs_table_2",
      (millions - vgg_counts["paper, Table 2 (M)"]).abs().max(), "< 0.5", tol=0.005,
      says="every VGG count rounds to the paper's Table 2 (millions)")
shared = vgg_counts.dropna()
mismatches = (~shared["same tensors"].astype(bool)).sum() + (
    shared["parameters"] != shared["torchvision parameters"]).sum()
claim("vgg_torchvision_mismatches", int(mismatches), "== 0", tol=0,
      parts={"configurations": len(shared)},
      says="A, B, D and E equal torchvision's vgg11/13/16/19 tensor for tensor")

# %% [markdown]
# Every count rounds to the paper's, and A, B, D and E equal torchvision's `vgg11`, `vgg13`,
# `vgg16` and `vgg19` tensor for tensor. As for AlexNet, we go one step further for configuration
# A and check that, given torchvision's tensors, our network computes the same function.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
vgg_a, reference = build_vgg("A").eval(), tvm.vgg11(weights=None).eval()
vgg_a.load_state_dict(reference.state_dict())
image = torch.randn(1, 3, 64, 64)  # small: the check is about the function
with torch.no_grad():
    difference = (vgg_a(image) - reference(image)).abs().max().item()
claim("vgg_a_vs_torchvision_output_difference", difference, "< 1e-5", tol=1e-5,
      says="VGG-A from the table, with vgg11's tensors, computes vgg11's function")
del vgg_a, reference

# %% [markdown]
# ### Why 3×3?
#
# Two stacked 3×3 convolutions see a 5×5 patch of their input, three see 7×7, with a ReLU between
# each. The paper's argument (its Section 2.3 {cite}`simonyan2014very`) in numbers, for 512 channels in and out:

# %%
# NBVAL_CHECK_OUTPUT
C = 512
with torch.device("meta"):
    one_7x7 = nn.Conv2d(C, C, 7, bias=False)
    three_3x3 = nn.Sequential(*[nn.Conv2d(C, C, 3, bias=False) for _ in range(3)])
print(
    f"one 7×7 layer:    {count_parameters(one_7x7):>10,} weights (49·C²), "
    "1 non-linearity"
)
print(
    f"three 3×3 layers: {count_parameters(three_3x3):>10,} weights (27·C²), "
    "3 non-linearities"
)
print(
    f"the stack needs "
    f"{1 - count_parameters(three_3x3) / count_parameters(one_7x7):.0%} fewer weights"
)

# %% [markdown]
# ### Where the parameters live, and where the work is done
#
# A parameter count says how much a network must *store*; the number of arithmetic operations
# says how much it must *compute* per image. PyTorch counts them itself:
# `torch.utils.flop_counter.FlopCounterMode` records every matrix multiplication and convolution
# of a forward pass and counts a multiply-add as **2** floating-point operations (FLOPs). The
# papers of this chapter write "FLOPs" or "ops" but count **multiply-adds** (MACs): ResNet's
# "3.8×10⁹ FLOPs" for ResNet-50 {cite}`he2016deep` are 3.8 billion multiply-adds. So we halve PyTorch's count and
# report multiply-adds wherever we compare with a paper. Like the papers, the count covers only
# the convolutions and fully connected layers; the cheap element-wise work (ReLU, normalisation,
# additions, pooling) is left out. The counter works on the `meta` device too, so counting VGG-E
# at 224×224 costs no arithmetic.

# %%
def count_flops(build, size: int = 224, per_layer: bool = False):
    """FLOPs of one forward pass of `build()` on a size×size RGB image (meta device).

    With per_layer=True, also returns {layer name: FLOPs} of the conv and linear layers.
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
    layers = {
        name: sum(counts.get(f"{prefix}.{name}", {}).values())
        for name, module in model.named_modules()
        if isinstance(module, (nn.Conv2d, nn.Linear))
    }
    return counter.get_total_flops(), layers


total, vgg_d_flops = count_flops(lambda: build_vgg("D"), per_layer=True)
with torch.device("meta"):
    vgg_d = build_vgg("D")
vgg_d_params = {name: count_parameters(module) for name, module in vgg_d.named_modules()
                if isinstance(module, (nn.Conv2d, nn.Linear))}
fc_share = sum(
    v for k, v in vgg_d_params.items() if k.startswith("classifier")
) / count_parameters(vgg_d)
fc_flops = sum(v for k, v in vgg_d_flops.items() if k.startswith("classifier")) / total
print(
    f"VGG-D: {total / 2e9:.1f} billion multiply-adds per 224×224 image; the 3 FC "
    f"layers hold {fc_share:.0%} of the parameters and do {fc_flops:.1%} of the "
    f"multiply-adds"
)
block, conv_block = 0, {}                # the block (between poolings) of each conv
for name, module in vgg_d.features.named_children():
    if isinstance(module, nn.MaxPool2d):
        block += 1
    elif isinstance(module, nn.Conv2d):
        conv_block[f"features.{name}"] = block
conv_total = sum(vgg_d_flops[name] for name in conv_block)
share = [sum(vgg_d_flops[n] for n, b in conv_block.items() if b in blocks) / conv_total
         for blocks in ((0, 1), (2, 3))]
claim("vgg_d_first_two_blocks_share_of_conv_macs", share[0], "< 0.35", tol=0.005,
      parts={"blocks_3_4": share[1]},
      says="the 224 and 112 blocks of VGG-D do about 30 % of the convolutions' work")

# %% mystnb={"figure": {"caption": "VGG-D (VGG-16) layer by layer: the 13 convolutions do almost all of the computing, the 3 fully connected layers hold most of the parameters.", "name": "fig-03-vgg-layers"}, "image": {"alt": "Two bar charts over the 16 weight layers of VGG-16. Top: parameters, small for the convolutions and very large for the first fully connected layer. Bottom: multiply-adds, of similar size for most convolutions, smaller for the first layer and the last block, and tiny for the fully connected layers."}}
names = list(vgg_d_params)
short = [f"conv{i + 1}" for i in range(13)] + ["FC6", "FC7", "FC8"]
fig, (ax_params, ax_flops) = plt.subplots(2, 1, figsize=(9, 4.8), sharex=True)
colors = ["C0"] * 13 + ["C1"] * 3
ax_params.bar(short, [vgg_d_params[n] / 1e6 for n in names], color=colors)
ax_params.set_ylabel("parameters (M)")
ax_flops.bar(short, [vgg_d_flops[n] / 2e9 for n in names], color=colors)
ax_flops.set_ylabel("billion MACs")
ax_flops.tick_params(axis="x", rotation=60)
for ax in (ax_params, ax_flops):
    ax.grid(axis="y", alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** The first fully connected layer (FC6) alone holds 103 million of VGG-16's
# 138 million parameters and does almost no work; the 13 convolutions do nearly all of it, in
# roughly equal shares per layer (halving the map while doubling the channels keeps the cost of a
# layer constant), with few parameters. The four convolutions on 224×224 and 112×112 maps do
# {glue:text}`vgg_d_first_two_blocks_share_of_conv_macs:.0%` of the convolutions' multiply-adds,
# the six on 56×56 and 28×28 maps {glue:text}`vgg_d_first_two_blocks_share_of_conv_macs__blocks_3_4:.0%`.
# Both of the next architectures attack that FC layer: GoogLeNet and ResNet replace it by global
# average pooling.
#
# ## GoogLeNet and the Inception module
#
# GoogLeNet {cite}`szegedy2015going` won 2014 with 22 layers and, in its authors' words, "12×
# fewer parameters than the winning architecture of Krizhevsky et al" (we check that below).
# It also took two ideas from Network in Network {cite}`lin2013network`: 1×1 convolutions, which
# mix the channels at each position, and global average pooling in place of big fully connected
# layers.
# Its building block, the **Inception module**, looks at the same input at several scales at once:
# a 1×1, a 3×3 and a 5×5 convolution and a 3×3 max-pooling, side by side, their outputs stacked
# along the channels. Done naively this explodes: every branch keeps the input's channels, and the
# 5×5 convolutions on a wide input are expensive. The fix is a **1×1 convolution that reduces** the
# channels before each 3×3 and 5×5, and one that projects the pooled branch. Passing `None` for a
# reduce width gives the naive module of the paper's Figure 2a.

# %%
def conv_relu(c_in: int, c_out: int, size: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, size, padding=size // 2), nn.ReLU(inplace=True)
    )


class Inception(nn.Module):
    """Szegedy et al. 2015, Fig. 2b: 1×1 | 1×1→3×3 | 1×1→5×5 | 3×3 max-pool→1×1.

    The four outputs are concatenated. A reduce width (or pool_proj) of None leaves that
    1×1 layer out: the naive module of Fig. 2a.
    """

    def __init__(self, c_in: int, c1x1: int, c3x3_reduce: int | None, c3x3: int,
                 c5x5_reduce: int | None, c5x5: int, pool_proj: int | None):
        super().__init__()

        def reduce_then(width: int | None, c_out: int, size: int) -> nn.Sequential:
            if width is None:
                return conv_relu(c_in, c_out, size)
            return nn.Sequential(
                conv_relu(c_in, width, 1), conv_relu(width, c_out, size)
            )

        self.branch1 = conv_relu(c_in, c1x1, 1)
        self.branch2 = reduce_then(c3x3_reduce, c3x3, 3)
        self.branch3 = reduce_then(c5x5_reduce, c5x5, 5)
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1),
            *([conv_relu(c_in, pool_proj, 1)] if pool_proj else []),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1
        )

# %% [markdown]
# Inception (3a), the first module of GoogLeNet, receives 192 channels of 28×28 and has, from the
# paper's Table 1: 64 1×1 filters; 96 reducing to 128 3×3 filters; 16 reducing to 32 5×5 filters;
# and a 32-filter pool projection. We check its output shape and count its cost, with and without
# the reduce layers.

# %%
# NBVAL_CHECK_OUTPUT
INCEPTION_3A = dict(
    c_in=192, c1x1=64, c3x3_reduce=96, c3x3=128, c5x5_reduce=16, c5x5=32, pool_proj=32
)
NAIVE_3A = {**INCEPTION_3A, "c3x3_reduce": None, "c5x5_reduce": None, "pool_proj": None}


def inception_cost(**widths) -> dict:
    """Output channels, parameters and multiply-adds per branch, on 28×28 inputs."""
    with torch.device("meta"):
        module = Inception(**widths)
        x = torch.empty(1, widths["c_in"], 28, 28)
    with FlopCounterMode(display=False) as counter:
        out = module(x)
    counts = counter.get_flop_counts()
    cost = {"output channels": out.shape[1], "parameters": count_parameters(module)}
    for b in range(1, 5):
        cost[f"branch {b} MMACs"] = round(
            sum(counts.get(f"Inception.branch{b}", {}).values()) / 2e6, 1
        )
    cost["total MMACs"] = round(counter.get_total_flops() / 2e6, 1)
    return cost


inception_3a = Inception(**INCEPTION_3A)
print("inception (3a) output:", tuple(inception_3a(torch.zeros(1, 192, 28, 28)).shape))
savings = pd.DataFrame({"naive (Fig. 2a)": inception_cost(**NAIVE_3A),
                        "with 1×1 reduce (Fig. 2b)": inception_cost(**INCEPTION_3A)})
print(savings.map(lambda v: f"{v:,.1f}".removesuffix(".0")).to_string())
naive, reduced = savings.loc["total MMACs"]
claim("inception_3a_mmacs_vs_table_1", abs(reduced - 128), "< 0.5", tol=0.05,
      parts={"naive": naive, "reduced": reduced},
      says="with its reduce layers, inception (3a) costs the 128M ops of Table 1")
claim("inception_3a_output_channels", savings.loc["output channels"].iloc[1], "== 256",
      tol=0, parts={"naive": savings.loc["output channels"].iloc[0]},
      says="inception (3a) outputs 256 channels; the naive module 416")

# %% [markdown]
# The reduce layers cut the multiply-adds of (3a) from
# {glue:text}`inception_3a_mmacs_vs_table_1__naive:.0f` million to
# {glue:text}`inception_3a_mmacs_vs_table_1__reduced:.0f` million (the paper's Table 1 lists
# "128M" ops for this module {cite}`szegedy2015going`) and its output from
# {glue:text}`inception_3a_output_channels__naive:.0f` to 256 channels. The second
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
    widths = {**INCEPTION_3A, "c3x3_reduce": c3x3_reduce or None,
              "c5x5_reduce": c5x5_reduce or None}
    naive, chosen = inception_cost(**NAIVE_3A), inception_cost(**widths)
    branches = [f"branch {b} MMACs" for b in range(1, 5)]
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    position = np.arange(4)
    ax.barh(
        position + 0.2, [naive[b] for b in branches], 0.4, color="0.7", label="naive"
    )
    ax.barh(position - 0.2, [chosen[b] for b in branches], 0.4, color="C0",
            label="your widths")
    ax.set_yticks(position, ["1×1", "3×3", "5×5", "pool"]); ax.invert_yaxis()
    ax.set_xlabel("million multiply-adds"); ax.legend(fontsize=8)
    ax.set_title(
        f"total {chosen['total MMACs']:.0f} vs naive {naive['total MMACs']:.0f} MMACs; "
        f"{chosen['parameters']:,} parameters",
        fontsize=9,
    )
    fig.tight_layout()
    plt.show()


widgets.interact(
    show_inception_cost,
    c3x3_reduce=widgets.IntSlider(96, 0, 192, 16, description="3×3 reduce"),
    c5x5_reduce=widgets.IntSlider(16, 0, 64, 8, description="5×5 reduce"),
)

# %% mystnb={"figure": {"caption": "Static version of the widget: multiply-adds of each branch of inception (3a) on a 28\u00d728\u00d7192 input, naive (grey) and with the paper's 1\u00d71 reduce layers (blue).", "name": "fig-03-inception"}, "image": {"alt": "Horizontal bar chart of four branches. The 3 by 3 and 5 by 5 branches cost far less with reduce layers than without; the 1 by 1 branch is unchanged and the pool branch gains a small projection."}}
show_inception_cost(96, 16)

# %% [markdown]
# GoogLeNet stacks nine such modules, with the widths of the paper's Table 1, between a small
# convolutional stem and a global average pooling that replaces AlexNet's and VGG's big fully
# connected layers. (The paper also trained two auxiliary classifiers half-way up; they are not
# used at test time and we leave them out.)

# %%
# Table 1 of Szegedy et al.: c_in, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj
GOOGLENET_TABLE = {"3a": (192, 64, 96, 128, 16, 32, 32),
                   "3b": (256, 128, 128, 192, 32, 96, 64), "pool3": None,
                   "4a": (480, 192, 96, 208, 16, 48, 64),
                   "4b": (512, 160, 112, 224, 24, 64, 64),
                   "4c": (512, 128, 128, 256, 24, 64, 64),
                   "4d": (512, 112, 144, 288, 32, 64, 64),
                   "4e": (528, 256, 160, 320, 32, 128, 128), "pool4": None,
                   "5a": (832, 256, 160, 320, 32, 128, 128),
                   "5b": (832, 384, 192, 384, 48, 128, 128)}


class GoogLeNet(nn.Module):
    """Szegedy et al. 2015 without auxiliary classifiers: stem, 9 modules, pooling."""

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
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Dropout(0.4), nn.Linear(1024, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.inception(self.stem(x)))

# %%
# NBVAL_CHECK_OUTPUT
# Table 1's "params" column, in thousands: conv, conv, 3a … 5b, the final linear layer
TABLE_1_PARAMS_K = [2.7, 112, 159, 380, 364, 437, 463, 580, 840, 1072, 1388, 1000]
with torch.device("meta"):
    googlenet = GoogLeNet()
n_googlenet, table_1 = count_parameters(googlenet), 1e3 * sum(TABLE_1_PARAMS_K)
print(f"GoogLeNet: {n_googlenet:,} parameters; Table 1's column sums to {table_1:,.0f}")
claim("googlenet_parameters_vs_table_1", abs(n_googlenet / table_1 - 1), "< 0.05",
      tol=0.001,
      parts={"ours_millions": n_googlenet / 1e6, "table_millions": table_1 / 1e6},
      says="our GoogLeNet has the parameters its Table 1 lists, within 5 percent")
claim("alexnet_over_googlenet_parameters", n_2012 / n_googlenet, "< 10", rel_tol=0.01,
      parts={"table_1": 60e6 / table_1},
      says="AlexNet has about 9 times, not 12 times, GoogLeNet's parameters")
macs = count_flops(GoogLeNet) / 2
claim("googlenet_macs_vs_budget", abs(macs / 1.5e9 - 1), "< 0.1", tol=0.005,
      parts={"billions": macs / 1e9},
      says="GoogLeNet costs about the paper's budget of 1.5 billion multiply-adds")

# %% [markdown]
# Two numbers to reconcile. The paper's "12× fewer parameters" compares GoogLeNet with
# AlexNet's 60 million, which would leave GoogLeNet 5 million; but the "params" column of its own
# Table 1 sums to {glue:text}`googlenet_parameters_vs_table_1__table_millions:.1f` million (the
# final 1,000-way linear layer alone is 1 million of them), and our network, built from the same
# table with biases, has {glue:text}`googlenet_parameters_vs_table_1__ours_millions:.2f` million.
# Counted either way AlexNet has about {glue:text}`alexnet_over_googlenet_parameters:.1f` times
# as many parameters (the table's sum gives
# {glue:text}`alexnet_over_googlenet_parameters__table_1:.1f`), not 12; the paper does not say
# what it counted. The paper also designed GoogLeNet for "a computational budget of 1.5 billion
# multiply-adds at inference time" {cite}`szegedy2015going`. Our count, from the widths of its Table 1, is
# {glue:text}`googlenet_macs_vs_budget__billions:.2f` billion: the budget was a round figure.
# (torchvision's `googlenet` is a later variant with batch normalisation and 3×3 instead of 5×5
# convolutions, so its count differs slightly.)
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
vs_supervision = 1 - best["GoogLeNet"] / best["SuperVision"].min()
vs_clarifai = 1 - best["GoogLeNet"] / best["Clarifai"].min()
print(f"\nGoogLeNet vs SuperVision's best: {vs_supervision:.1%} lower error; "
      f"vs Clarifai's best: {vs_clarifai:.1%} lower")
glue("googlenet_reduction_vs_supervision", float(100 * vs_supervision))
glue("googlenet_reduction_vs_clarifai", float(100 * vs_clarifai))

# %% [markdown]
# The GoogLeNet paper reports "a 56.5 % relative reduction compared to the SuperVision approach"
# and "about 40 % relative reduction compared to the previous year's best approach (Clarifai)",
# both against the entries that used external data {cite}`szegedy2015going`; our arithmetic on
# the table gives {glue:text}`googlenet_reduction_vs_supervision:.1f` and
# {glue:text}`googlenet_reduction_vs_clarifai:.1f` percent. Two caveats belong next to the table.
# GoogLeNet's 6.67 % is an ensemble of 7 networks evaluated on 144 crops of every image, and VGG's
# 7.3 % came from an ensemble of 7 as well {cite}`szegedy2015going,simonyan2014very`: the two
# *ensembles* are close. As *single networks* VGG is ahead: the VGG paper's Table 7 lists one VGG
# net (multi-crop and dense evaluation) at 7.1 % top-5 validation error and "GoogLeNet (1 net)"
# at 7.9 % {cite}`simonyan2014very`, the 7.89 % of GoogLeNet's Table 3 for one model on 144
# crops (one model on one crop: 10.07 %) {cite}`szegedy2015going`. GoogLeNet's advantage is cost:
# it gets close with a fraction of VGG's parameters and arithmetic (next sections).
#
# ## ResNet
#
# If depth helps, why stop at 22 layers? He et al. {cite}`he2016deep` found that simply stacking
# more layers makes networks *harder to train*: on CIFAR-10, trained to the end of a full schedule
# (learning rate divided by 10 twice, 64,000 iterations), a 56-layer plain network kept a higher
# **training** error than a 20-layer one (their Fig. 1 and Fig. 6, left, plain networks of 20 to
# 56 layers). That is not overfitting (the training error is worse, not just the test error), and
# it is not vanishing gradients either: their networks use batch normalisation.
#
# **Batch normalisation** {cite}`ioffe2015batch` follows every convolution of a ResNet. During
# training it standardises each channel over the mini-batch (subtract the batch's mean, divide by
# its standard deviation), then scales and shifts it by two learned numbers per channel; at test
# time it uses running averages of the batch statistics instead. It keeps the signals of a deep
# network at a sensible scale from layer to layer, and He et al. checked that with it the
# gradients of their plain networks had healthy norms. So they called the problem something else:
# **degradation**, an optimisation difficulty that persists after convergence. Their fix: let each
# pair of layers learn only a *residual* F(x) and add the input back, output = ReLU(F(x) + x). If
# the identity is the best thing a block can do, it only has to push F to zero.
#
# The **basic block** (ResNet-18/34) has two 3×3 convolutions. Where a block halves the size and
# doubles the channels, the shortcut must change shape too: either a 1×1 convolution (a
# "projection", torchvision's choice) or a strided identity padded with zero channels (the paper's
# "option A", no parameters). `shortcut="none"` removes it: a *plain* block, for the experiment.

# %%
class BasicBlock(nn.Module):
    """He et al. 2016, Fig. 2: two 3×3 conv + batch norm, input added before ReLU."""
    expansion = 1

    def __init__(self, c_in: int, channels: int, stride: int = 1,
                 shortcut: str = "projection"):
        super().__init__()
        if shortcut not in ("projection", "zeros", "none"):
            raise ValueError(f"shortcut must be 'projection', 'zeros' or 'none', "
                             f"got {shortcut!r}")
        self.conv1 = nn.Conv2d(c_in, channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut, self.stride = shortcut, stride
        self.new_channels = channels - c_in
        self.downsample = None
        if shortcut == "projection" and (stride != 1 or c_in != channels):
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, channels, 1, stride, bias=False),
                nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.shortcut == "projection":
            out = out + (x if self.downsample is None else self.downsample(x))
        elif self.shortcut == "zeros":  # option A: subsample, pad new channels
            identity = x[:, :, ::self.stride, ::self.stride]
            out = out + F.pad(identity, (0, 0, 0, 0, 0, self.new_channels))
        return self.relu(out)

# %% [markdown]
# The **bottleneck block** (ResNet-50 and deeper) is Inception's trick applied to ResNet: a 1×1
# convolution reduces the channels 4×, a 3×3 works on the narrow tensor, and a 1×1 expands back.
# Like torchvision we put the stride on the 3×3 convolution by default; the paper puts it on the
# first 1×1 (`stride_in_1x1=True`). The parameters are the same, the multiply-adds are not: with
# the stride on the 3×3, the first 1×1 of every down-sampling block runs on the larger map.

# %%
class Bottleneck(nn.Module):
    """He et al. 2016, Fig. 5 right: 1×1 reduce → 3×3 → 1×1 expand (×4), shortcut."""
    expansion = 4
    stride_in_1x1 = False                              # True: the paper's placement

    def __init__(self, c_in: int, channels: int, stride: int = 1):
        super().__init__()
        c_out = channels * self.expansion
        s1, s3 = (stride, 1) if self.stride_in_1x1 else (1, stride)
        self.conv1 = nn.Conv2d(c_in, channels, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, s3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

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
    """He et al. 2016, Table 1: stem, four stages of blocks, average pooling, linear."""

    def __init__(self, block: type[nn.Module], blocks_per_stage: list[int],
                 n_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(64), nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        c_in, stages = 64, []
        for stage, channels in enumerate((64, 128, 256, 512)):
            blocks = []
            for i in range(blocks_per_stage[stage]):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(block(c_in, channels, stride=stride))
                c_in = channels * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(c_in, n_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out",
                                        nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18() -> ResNet: return ResNet(BasicBlock, [2, 2, 2, 2])
def resnet34() -> ResNet: return ResNet(BasicBlock, [3, 4, 6, 3])
def resnet50() -> ResNet: return ResNet(Bottleneck, [3, 4, 6, 3])


class PaperBottleneck(Bottleneck):
    stride_in_1x1 = True


def resnet50_paper() -> ResNet: return ResNet(PaperBottleneck, [3, 4, 6, 3])

# %% [markdown]
# Their parameter counts against torchvision's, exactly, and the same-function check for
# ResNet-18 and ResNet-50 (in evaluation mode, where batch normalisation uses its stored statistics):

# %%
# NBVAL_CHECK_OUTPUT
RESNETS = {"ResNet-18": (resnet18, tvm.resnet18), "ResNet-34": (resnet34, tvm.resnet34),
           "ResNet-50": (resnet50, tvm.resnet50)}
differences = 0
for name, (ours, theirs) in RESNETS.items():
    with torch.device("meta"):
        n_ours = count_parameters(ours())
        n_theirs = count_parameters(theirs(weights=None))
    print(f"{name}: {n_ours:,} parameters (torchvision: {n_theirs:,})")
    differences += abs(n_ours - n_theirs)
claim("resnet_vs_torchvision_parameters", differences, "== 0", tol=0,
      says="ResNet-18/34/50 have exactly torchvision's parameter counts")
image = torch.randn(2, 3, 64, 64)
for name in ("ResNet-18", "ResNet-50"):
    ours, theirs = RESNETS[name]
    torch.manual_seed(0)
    model, reference = ours().eval(), theirs(weights=None).eval()
    model.load_state_dict(reference.state_dict())
    with torch.no_grad():
        difference = (model(image) - reference(image)).abs().max().item()
    claim(f"{name.lower().replace('-', '')}_vs_torchvision_output_difference",
          difference, "< 1e-4", tol=1e-4,
          says=f"{name} with torchvision's tensors computes torchvision's function")
del model, reference

# %% [markdown]
# ### Deep plain networks on real digits: slower to optimise
#
# Now an experiment in the spirit of the paper's, small enough for a laptop. We follow the paper's
# CIFAR-10 networks (its Section 4.2 {cite}`he2016deep`): a 3×3 convolution, three stages of *n* basic blocks with
# 16, 32 and 64 channels, global average pooling and a linear layer: 6*n*+2 weight layers. We
# train three of them on MNIST digits {cite}`lecun1998gradient` (the course's copy of its 10,000
# test digits, split once into 7,000 for training, 1,000 for validation and 2,000 for the test),
# with the same data, optimiser (SGD with momentum and a little weight decay, as in the paper),
# number of epochs and seed:
#
# - a **shallow plain** network (`P.shallow_blocks` blocks per stage),
# - a **deep plain** network (`P.deep_blocks` blocks per stage), and
# - the **deep residual** network: the same layers, the same parameters, plus parameter-free
#   identity shortcuts (option A).
#
# In the CPU profile that is 8 against 26 layers, trained for `P.epochs` epochs on 1,000 of the
# training digits shrunk to 8×8 pixels, with no learning-rate schedule: a short, fixed budget.
# The learning rate `P.lr` was chosen on the validation digits, in a separate sweep at seed 0:
# of `0.005`, `0.01`, `0.02`, `0.05` and `0.1` it gave the deep plain network, the one at a
# disadvantage, its best validation accuracy after `P.epochs` epochs. The GPU
# profile is set up for the paper's own pair, 20 against 56 layers, on all 7,000 full-size
# digits, with its own learning rate; those settings have not yet been validated on a GPU.

# %%
class CifarResNet(nn.Module):
    """He et al. 2016, Sec. 4.2: 3×3 conv, 3 stages of n basic blocks, w/2w/4w wide."""

    def __init__(self, n: int, shortcut: str, width: int = 16, c_in: int = 1,
                 n_classes: int = 10):
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
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(channels, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))

# %%
# NBVAL_CHECK_OUTPUT
data = load_mnist_t10k().resized(P.image_size)
x_train, y_train = data.x_train[:P.max_train], data.y_train[:P.max_train]
networks = {f"plain, {6 * P.shallow_blocks + 2} layers": (P.shallow_blocks, "none"),
            f"plain, {6 * P.deep_blocks + 2} layers": (P.deep_blocks, "none"),
            f"residual, {6 * P.deep_blocks + 2} layers": (P.deep_blocks, "zeros")}
for name, (n, shortcut) in networks.items():
    size = count_parameters(CifarResNet(n, shortcut, P.width))
    print(f"{name:<22} {size:>9,} parameters")
print(f"training on {tuple(x_train.shape)}, validating on {tuple(data.x_val.shape)}, "
      f"testing on {tuple(data.x_test.shape)}")

# %% [markdown]
# Each network starts from the run's seed, so all three see the batches in the same order. After
# training we measure what the question is about, how well each network *fits its training
# digits*: the loss on the whole training set, in evaluation mode.

# %%
histories, fitted = {}, {}
for name, (n, shortcut) in networks.items():
    torch.manual_seed(P.seed)
    model = CifarResNet(n, shortcut, P.width)
    optimizer = torch.optim.SGD(model.parameters(), lr=P.lr, momentum=0.9,
                                weight_decay=1e-4)
    histories[name] = fit(model, (x_train, y_train), (data.x_val, data.y_val),
                          epochs=P.epochs, optimizer=optimizer, batch_size=P.batch_size,
                          device=device, desc=name)
    fitted[name] = {
        "training loss": evaluate(model, (x_train, y_train))["loss"],
        "validation accuracy": histories[name].last("val_accuracy"),
        "test accuracy": evaluate(model, (data.x_test, data.y_test))["accuracy"],
    }
summary = pd.DataFrame(fitted).T
print(summary.round(4).to_string())

# %% mystnb={"figure": {"caption": "Loss (left) and accuracy (right) on the training digits (solid, measured during each epoch) and the validation digits (dashed) of a shallow plain network, a deep plain network and the same deep network with residual connections, trained identically on MNIST digits for a short, fixed budget.", "name": "fig-03-degradation"}, "image": {"alt": "Two line charts over epochs. The deep plain network's training loss stays well above the other two; the residual network's loss falls lowest, the shallow one's next; the deep plain network's validation accuracy lags behind theirs."}}
fig = plot_history(histories, metrics=("loss", "accuracy"))
fig.axes[0].set_yscale("log")      # the losses span orders of magnitude
plt.show()

# %% [markdown]
# The comparison the sentence below needs is a pair of differences of training loss, on the same
# digits after the same budget: the deep plain network against the shallow one, and against its
# residual twin. The loss in evaluation mode uses batch normalisation's running statistics,
# which after a few dozen steps may still be stale, and most so for the deep plain stack; so we
# make the same two claims on the training-mode loss of the last epoch (batch statistics), from
# the training histories. Last, how many times lower the residual network's loss is.

# %%
shallow, deep_plain, deep_residual = summary["training loss"]
claim("deep_plain_minus_shallow_training_loss", deep_plain - shallow, "> 0.1", tol=0.1,
      parts={"deep_plain": deep_plain, "shallow": shallow},
      says="at equal budget the deep plain net fits its training digits worse than the "
           "shallow one")
claim("deep_plain_minus_residual_training_loss", deep_plain - deep_residual, "> 0.1",
      tol=0.1, parts={"deep_plain": deep_plain, "residual": deep_residual},
      says="at equal budget the deep plain net fits its training digits worse than its "
           "residual twin")
last = {name: histories[name].last("train_loss") for name in networks}
shallow_t, deep_plain_t, deep_residual_t = last.values()
claim("deep_plain_minus_shallow_train_mode_loss", deep_plain_t - shallow_t, "> 0.1",
      tol=0.1, parts={"deep_plain": deep_plain_t, "shallow": shallow_t},
      says="the same holds for the training-mode loss of the last epoch (vs shallow)")
claim("deep_plain_minus_residual_train_mode_loss", deep_plain_t - deep_residual_t,
      "> 0.1", tol=0.1, parts={"deep_plain": deep_plain_t, "residual": deep_residual_t},
      says="the same holds for the training-mode loss of the last epoch (vs residual)")
claim("deep_plain_over_residual_training_loss", deep_plain / deep_residual, "> 3",
      rel_tol=0.2, parts={"deep_plain": deep_plain, "residual": deep_residual},
      says="the residual net's training loss is several times below its plain twin's")

# %% [markdown]
# **What to notice.** After the same `P.epochs` epochs on the same digits, the deep plain network
# has more layers and several times the parameters of the shallow one, yet a *higher training
# loss*: {glue:text}`deep_plain_minus_shallow_training_loss__deep_plain:.3f` against
# {glue:text}`deep_plain_minus_shallow_training_loss__shallow:.3f`. The residual network has
# exactly the deep plain network's layers and parameters; with the shortcuts its training loss is
# {glue:text}`deep_plain_minus_residual_training_loss__residual:.3f`. The deep plain network could
# in principle copy the shallow one and set its extra layers to the identity, so the data and the
# network's capacity are not to blame: the optimiser is slower to find good weights for it. Nor
# is batch normalisation's running average: measured in training mode during the last epoch, the
# deep plain network's loss is still
# {glue:text}`deep_plain_minus_shallow_train_mode_loss:.3f` above the shallow one's and
# {glue:text}`deep_plain_minus_residual_train_mode_loss:.3f` above the residual one's.
#
# Say exactly what this shows. It is **slower optimisation at a fixed, short budget**, not He et
# al.'s degradation problem: we expect the deep plain network to catch up given more epochs on
# these easy digits (exercise 2 lets you check). He et al.'s degradation is a
# gap that *persists after convergence*: on CIFAR-10, with the full schedule, their plain 56-layer network
# ended with a higher training error than the 20-layer one (their Fig. 6, left)
# {cite}`he2016deep`. Reproducing that takes CIFAR-10 and hours of training, beyond this chapter's
# budget. What the small experiment does show is the direction the paper builds on: a deeper
# plain stack is harder to optimise, and identity shortcuts remove that difficulty: with the
# same layers, the residual network's training loss is
# {glue:text}`deep_plain_over_residual_training_loss:.0f` times lower than its plain twin's.
#
# ## Parameters, multiply-adds and latency
#
# Three ways to say how "big" a network is: how many numbers it stores (parameters), how much
# arithmetic one image costs (multiply-adds, counted above with PyTorch's `FlopCounterMode` and
# halved), and how long one forward pass takes on this device (latency). The first two are
# properties of the architecture; the third is a measurement, and yours will differ from the
# stored one. We add one network that is not in any paper: GoogLeNet with its two LRN layers
# removed, to see what they cost.

# %%
# NBVAL_CHECK_OUTPUT
def googlenet_without_lrn() -> GoogLeNet:
    model = GoogLeNet()
    for i, layer in enumerate(model.stem):
        if isinstance(layer, nn.LocalResponseNorm):
            model.stem[i] = nn.Identity()
    return model


ARCHITECTURES = {"AlexNet (1 GPU)": AlexNet,
                 **{f"VGG-{name}": (lambda n=name: build_vgg(n)) for name in configs},
                 "GoogLeNet": GoogLeNet, "GoogLeNet, no LRN": googlenet_without_lrn,
                 "ResNet-18": resnet18, "ResNet-34": resnet34, "ResNet-50": resnet50}
rows = []
for name, build in ARCHITECTURES.items():
    with torch.device("meta"):
        parameters = count_parameters(build())
    rows.append({"architecture": name, "parameters (M)": parameters / 1e6,
                 "GMACs": count_flops(build) / 2e9})
costs = pd.DataFrame(rows).set_index("architecture")
print(costs.round(2).to_string())

# %% [markdown]
# He et al. {cite}`he2016deep` list the cost of their networks in multiply-adds ("FLOPs"): 1.8, 3.6
# and 3.8 billion for ResNet-18, -34 and -50 (their Table 1) and 19.6 billion for VGG-19 (VGG-E,
# their Fig. 3). We check ours against each, and ResNet-50 twice: in torchvision's layout (stride
# on the 3×3) and in the paper's (stride on the first 1×1).

# %%
PAPER_GMACS = {"ResNet-18": 1.8, "ResNet-34": 3.6, "VGG-E": 19.6}
for name, paper in PAPER_GMACS.items():
    ours = costs.loc[name, "GMACs"]
    claim(f"{name.lower().replace('-', '_')}_macs_vs_paper", abs(ours / paper - 1),
          "< 0.03", tol=0.001, parts={"ours": ours, "paper": paper},
          says=f"our {name} costs the multiply-adds He et al. list, within 3 percent")
resnet50_paper_layout = count_flops(resnet50_paper) / 2e9
claim("resnet_50_macs_vs_paper", costs.loc["ResNet-50", "GMACs"] / 3.8 - 1, "> 0.05",
      tol=0.001, parts={"ours": costs.loc["ResNet-50", "GMACs"], "paper": 3.8},
      says="torchvision's ResNet-50 layout costs about 8 percent more than the paper's")
claim("resnet_50_paper_layout_macs_vs_paper", abs(resnet50_paper_layout / 3.8 - 1),
      "< 0.03", tol=0.001, parts={"ours": resnet50_paper_layout, "paper": 3.8},
      says="with the stride on the first 1×1, ResNet-50 costs the paper's 3.8 billion")

# %% [markdown]
# ResNet-18, ResNet-34 and VGG-E land within a few percent of the paper (ResNet-18:
# {glue:text}`resnet_18_macs_vs_paper__ours:.2f` billion). ResNet-50 in torchvision's layout costs
# {glue:text}`resnet_50_macs_vs_paper__ours:.2f` billion, {glue:text}`resnet_50_macs_vs_paper:.1%`
# above the paper's figure. The difference is where the down-sampling stride sits: with the
# stride on the first 1×1, as in the paper, the count is
# {glue:text}`resnet_50_paper_layout_macs_vs_paper__ours:.2f` billion; torchvision moved it to the
# 3×3 (which is a little more accurate) and pays for it in the first 1×1 of each down-sampling
# block, which now runs on the larger map.
#
# Latency: we time a forward pass of a batch of `P.latency_batch` images at 224×224 (random
# pixels: the arithmetic does not depend on the values), on one thread, with the course's
# `time_call` (built on `torch.utils.benchmark`; chapter 10 explains the method). On a GPU it
# synchronises with the device before reading the clock. On the CPU it reads the thread's
# *processor* time (`clock="thread"`, Python's `time.thread_time`), which excludes time the
# thread spends waiting, though a shared cache and memory bus can still slow it. Single
# timings vary from run to run by about as much as the effect of GoogLeNet's LRN layers, so we
# time in interleaved rounds: after two warm-up passes of every network, each round times one
# pass of each (`time_call` with `calls=1`), and the table shows each network's median over
# the `P.latency_repeats` rounds. A slow spell of the machine then hits every
# network of a round alike, and the claims below use medians of per-round ratios.

# %%
def forward_pass(name: str) -> tuple[nn.Module, torch.Tensor]:
    """Network `name` and a batch of P.latency_batch random 224×224 images for it."""
    torch.manual_seed(0)
    with torch.device(device):
        model = ARCHITECTURES[name]().eval()
    return model, torch.randn(P.latency_batch, 3, 224, 224, device=device)


def seconds_per_pass(model: nn.Module, x: torch.Tensor) -> float:
    """One forward pass: the thread's processor time on a CPU, wall time on a GPU."""
    clock = "thread" if device.type == "cpu" else "wall"
    return time_call(lambda: model(x), device, clock=clock, warmup=0, calls=1).seconds


# VGG-B and -C are between A and D in every respect: leaving them out saves time
TIMED = [name for name in ARCHITECTURES if name not in ("VGG-B", "VGG-C")]
passes = {name: forward_pass(name) for name in TIMED}
with torch.no_grad():
    for _ in range(2):                                                  # warm-up
        for model, x in passes.values():
            model(x)
    rounds = pd.DataFrame([{name: seconds_per_pass(*passes[name]) for name in TIMED}
                           for _ in range(P.latency_repeats)])
del passes
for name, value in rounds.median().items():
    costs.loc[name, "latency (ms)"] = 1000 * value
    timing(f"latency_{re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')}", value)
costs.style.format(
    {"parameters (M)": "{:.1f}", "GMACs": "{:.2f}", "latency (ms)": "{:.1f}"}
)

# %% mystnb={"figure": {"caption": "Every architecture of the chapter at 224\u00d7224: parameters against multiply-adds (left), and multiply-adds against the forward latency measured on this device for the stored run (right; the CPU profile, one thread). Marker area is proportional to the parameter count.", "name": "fig-03-costs"}, "image": {"alt": "Two log-log scatter plots. Left: VGG networks have both the most parameters and the most multiply-adds, GoogLeNet and ResNets have few parameters and moderate multiply-adds, AlexNet many parameters but few multiply-adds. Right: latency grows with multiply-adds, with GoogLeNet above the trend."}}
fig, (ax_left, ax_right) = plt.subplots(1, 2, figsize=(11, 4.3))
family = {"Al": "C3", "VG": "C0", "Go": "C2", "Re": "C1"}
offsets = {"VGG-A-LRN": (-6, 4), "VGG-B": (4, -9), "GoogLeNet, no LRN": (4, -9)}
for name, row in costs.iterrows():
    color, size = family[name[:2]], 10 + row["parameters (M)"] * 2
    ax_left.scatter(row["parameters (M)"], row["GMACs"], s=size, color=color, alpha=0.7)
    ax_right.scatter(row["GMACs"], row["latency (ms)"], s=size, color=color, alpha=0.7)
    dx, dy = offsets.get(name, (4, 3))                  # keep close labels apart
    points = [(ax_left, (row["parameters (M)"], row["GMACs"]))]
    if not np.isnan(row["latency (ms)"]):               # VGG-B and -C are not timed
        points.append((ax_right, (row["GMACs"], row["latency (ms)"])))
    for ax, xy in points:
        ax.annotate(name, xy, xytext=(dx, dy), textcoords="offset points", fontsize=7,
                    ha="right" if dx < 0 else "left")
ax_left.set(xscale="log", yscale="log", xlabel="parameters (millions)",
            ylabel="billion multiply-adds per image")
where = "1 CPU thread" if device.type == "cpu" else device.type
ax_right.set(xscale="log", yscale="log", xlabel="billion multiply-adds per image",
             ylabel=f"forward time (ms), batch {P.latency_batch}, {where}")
for ax in (ax_left, ax_right):
    ax.grid(alpha=0.3, which="both")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())
mark_timed(ax_right)     # timings: the figure check compares its structure only
fig.tight_layout()
plt.show()

# %% [markdown]
# Which orderings of the measured times hold? Each is one claim on a ratio of two latencies
# (the median over the rounds of the ratio within a round), with a margin that held on every
# seed of the robustness runs. Being computed from timings, these claims are checked on every
# run but never compared with the stored record.

# %%
ms, gmacs = 1000 * rounds, costs["GMACs"]    # ms: every round's times, milliseconds
RATIOS = {"vgg_e_over_vgg_d": ("VGG-E", "VGG-D", 1.05),
          "vgg_a_lrn_over_vgg_a": ("VGG-A-LRN", "VGG-A", 1.1),
          "googlenet_over_no_lrn": ("GoogLeNet", "GoogLeNet, no LRN", 1.05)}
for key, (slow, fast, margin) in RATIOS.items():
    claim(f"latency_{key}", (ms[slow] / ms[fast]).median(), f"> {margin}", timed=True,
          parts={"slow_ms": ms[slow].median(), "fast_ms": ms[fast].median()},
          says=f"{slow} takes more than {margin} times as long as {fast}")
per_mac = (ms["GoogLeNet, no LRN"] / gmacs["GoogLeNet, no LRN"]) / (
    ms["ResNet-18"] / gmacs["ResNet-18"])
claim("latency_per_mac_googlenet_no_lrn_over_resnet_18", per_mac.median(), "> 1.1",
      timed=True, parts={"googlenet_no_lrn": ms["GoogLeNet, no LRN"].median(),
                         "resnet_18": ms["ResNet-18"].median()},
      says="per multiply-add, GoogLeNet without LRN is slower than ResNet-18")
vgg16, params = costs.loc["VGG-D"], costs["parameters (M)"]
for name in ("GoogLeNet", "ResNet-50"):
    slug = name.lower().replace("-", "_")
    glue(f"{slug}_params_fraction_of_vgg16",
         float(params[name] / vgg16["parameters (M)"]))
    glue(f"{slug}_macs_fraction_of_vgg16", float(gmacs[name] / vgg16["GMACs"]))

# %% [markdown]
# **What to notice.** Parameters and multiply-adds are not the same thing. AlexNet stores more
# numbers than any ResNet but computes less than ResNet-18, because its parameters sit in fully
# connected layers that run once per image, while a convolution's few weights run at every
# position. GoogLeNet and ResNet-50 need {glue:text}`googlenet_params_fraction_of_vgg16:.2f` and
# {glue:text}`resnet_50_params_fraction_of_vgg16:.2f` of VGG-16's parameters and
# {glue:text}`googlenet_macs_fraction_of_vgg16:.2f` and
# {glue:text}`resnet_50_macs_fraction_of_vgg16:.2f` of its multiply-adds.
#
# Time follows multiply-adds, but not exactly:
#
# - VGG-E, with a quarter more multiply-adds than VGG-D, takes
#   {glue:text}`latency_vgg_e_over_vgg_d:.2f` times as long.
# - Local response normalisation adds no counted multiply-adds (the counter sees only
#   convolutions and linear layers), and its arithmetic is tiny next to VGG-A's (a few
#   operations per activation of one layer); the time goes to PyTorch's memory-bound
#   implementation (several passes over the activations and a
#   fractional power), which is the point: counted operations miss it. VGG-A-LRN has exactly
#   VGG-A's multiply-adds and takes
#   {glue:text}`latency_vgg_a_lrn_over_vgg_a:.2f` times as long; GoogLeNet with its two LRN
#   layers takes {glue:text}`latency_googlenet_over_no_lrn:.2f` times as long as without them
#   ({glue:text}`latency_googlenet_over_no_lrn__slow_ms:.0f` against
#   {glue:text}`latency_googlenet_over_no_lrn__fast_ms:.0f` ms). The VGG paper had already found
#   that LRN does not help: A-LRN's top-5 validation error was 10.5 % against A's 10.4 % (its
#   Table 3) {cite}`simonyan2014very`, which is why configurations B to E leave it out.
# - Without LRN, GoogLeNet does fewer multiply-adds than ResNet-18 but takes
#   {glue:text}`latency_per_mac_googlenet_no_lrn_over_resnet_18:.2f` times as long *per
#   multiply-add* ({glue:text}`latency_per_mac_googlenet_no_lrn_over_resnet_18__googlenet_no_lrn:.0f`
#   against {glue:text}`latency_per_mac_googlenet_no_lrn_over_resnet_18__resnet_18:.0f` ms in
#   all). Probably its many narrow branches, small 1×1 convolutions and concatenations keep one
#   CPU thread less busy than ResNet's wide 3×3 convolutions; we did not profile it.
#
# How fast a network runs depends on how well its layers suit the hardware: count multiply-adds to
# compare designs, but measure to know.
#
# ## The claims of this chapter
#
# Every result the prose reports was asserted where it was measured; here is the list of this
# run's claims and timings. If a change to the code breaks one of them, the notebook fails.

# %%
report()

# %% [markdown]
# ## Exercises
#
# 1. **VGG's sixth column.** Add a configuration to the YAML table (in a copy of the dictionary
#    `vgg_table`) with four 3×3 layers in *every* block, build it with `build_vgg`, and count its
#    parameters and multiply-adds. Where did the extra cost go, and why there?
# 2. **Depth of the plain network.** Repeat the experiment with `n` = 2, 3, 5 for the plain
#    network. From which depth on does it fit its training digits worse than the shallow one at
#    this budget? And with three times the epochs?
# 3. **Projection shortcuts.** Train the deep residual network with `shortcut="projection"` instead
#    of `"zeros"`. How many parameters does that add, and does it train differently?
# 4. **Bottleneck savings.** A bottleneck block with 256 input channels replaces two 3×3
#    convolutions at 256 channels. Compare the parameters of `Bottleneck(256, 64)` with two
#    `nn.Conv2d(256, 256, 3)` (weights only; BatchNorm and biases add a little).
#
# ```{dropdown} Hints and solutions
# 1. `table = {**vgg_table, "configurations": {**configs, "F": {"weight_layers": 23, "layers": [...]}}}`,
#    then `build_vgg("F", table)`. The parameters barely move (convolutions are small, FC6 is
#    unchanged) but the multiply-adds grow a lot. Each added same-width 3×3 layer costs as much
#    as any other wherever it sits (halving the map and doubling the channels keeps a layer's
#    cost constant); the extra cost lands in blocks 1 and 2 because they are the only
#    blocks that gain layers over E.
# 2. Loop over `n`, call `fit` as above and compare `evaluate(model, (x_train, y_train))["loss"]`.
#    Expect the loss at a fixed budget to grow with depth, and the gap to shrink with more epochs:
#    that is slower optimisation. He et al.'s gap on CIFAR-10 persisted after convergence.
# 3. `CifarResNet(n, "projection")`: two 1×1 convolutions with batch norm at the two stage
#    transitions, a few thousand parameters. The paper found projections slightly better on
#    ImageNet, and not essential: the identity does the work.
# 4. The bottleneck has 256·64 + 9·64·64 + 64·256 = 69,632 weights; two 3×3 layers at 256
#    channels have 2·9·256·256 = 1,179,648: 17× more, for the same input and output width.
# ```
#
# ## References
#
# ImageNet {cite}`deng2009imagenet` and its challenge {cite}`russakovsky2015imagenet`; MNIST
# {cite}`lecun1998gradient`; Network in Network {cite}`lin2013network`; the 2010 and
# 2011 winners {cite}`lin2011large,sanchez2011high`; AlexNet {cite}`krizhevsky2012imagenet,krizhevsky2014one`;
# ZFNet/Clarifai {cite}`zeiler2014visualizing`; SPP-net {cite}`he2014spatial`; VGG
# {cite}`simonyan2014very`; GoogLeNet {cite}`szegedy2015going`; batch normalisation
# {cite}`ioffe2015batch`; ResNet {cite}`he2016deep`; PyTorch {cite}`paszke2019pytorch`.
# Full entries are in the [bibliography](../book/bibliography.md).
