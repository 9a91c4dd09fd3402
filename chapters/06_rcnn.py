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
# # 6. R-CNN: finding every object in an image
#
# The networks of the earlier chapters look at one centred digit and name it. A real image holds
# several objects, anywhere, at any size, and a detector must say *what* each one is and *where*.
# This chapter builds R-CNN {cite}`girshick2014rich` the way the paper did, one stage at a time —
# propose regions, warp each one, classify it with a CNN that knows a "background" class, refine
# its box, suppress duplicates — and measures it with the metric detection papers report, mean
# average precision. It tests the paper's second idea too: pretrain the CNN on a classification
# task, then fine-tune it for detection. Then it trains the successor, Faster R-CNN
# {cite}`ren2015faster`, on the same images with the same head and times both: the story of
# R-CNN is a story of speed.
#
# **Learning goals**
# - Name R-CNN's stages and run each one: region proposals, warping, a CNN with a background
#   class, bounding-box regression, non-maximum suppression.
# - Turn ground-truth boxes into training labels with intersection-over-union (IoU).
# - Evaluate a detector with mean average precision at IoU `0.5` (`mAP@0.5`).
# - Measure what supervised pretraining adds, and why background regions need care.
# - Explain why Fast and Faster R-CNN are faster — one shared CNN pass, RoI pooling, a region
#   proposal network — and measure it for Faster R-CNN.
#
# **Run time:** about 2 minutes on a 2-core laptop (CPU profile). The GPU profile trains on
# more than three times as many scenes for more steps (its sizes are not yet checked on a GPU).

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "Other commonly used DNNs" | Detection is the first of them: the CNN of chapters 1–3 becomes a part of a larger system. |
# | "Region Based CNN (RCNN)" | We build R-CNN stage by stage on scenes of real handwritten digits on photographs, then train torchvision's Faster R-CNN on the same scenes. |
# | (the speed behind the name: R-CNN → Fast → Faster) | We time both detectors per image on this machine and set the numbers beside the papers'. |

# %% tags=["hide-input"]
# Bootstrap: opened alone (Colab, an Azure VM), this installs the course's helpers
# with what this chapter needs (`demystify[ch06]`); in a checkout it does nothing.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:
    repository = "git+https://github.com/demystify-dl/demystifying-deep-learning"
    source = os.environ.get("DEMYSTIFY_SOURCE", repository)
    # %pip install -q "demystify[ch06] @ {source}"

# %% [markdown]
# The setup cell seeds every random number generator, picks the device (a GPU when there is one)
# and loads this chapter's **profile**: the sizes it runs with on a CPU or on a GPU.
#
# **Official data.** Everything here runs offline on what the course ships. One section changes
# when you allow downloads (run `%env DEMYSTIFY_DOWNLOAD=1` before the setup cell, in Colab
# too) or the file is already in torch's cache: *The real thing* then runs torchvision's
# COCO-trained Faster R-CNN on a photograph instead of skipping it.

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm
from torchvision.ops import batched_nms, box_iou, roi_align

from demystify import (MixedPrecision, autocast, claim, count_parameters, fit, glue,
                       load_mnist_t10k, mark_varying, report, start, timing)
from demystify.hardware import time_call
from demystify.scenes import PHOTOS, make_scenes, photo_backgrounds, show_detections

device, P = start("06_rcnn")

# %% [markdown]
# ## Scenes of real digits on real photographs
#
# No detection dataset ships with the packages this course installs, so we compose one:
# `demystify.scenes.make_scenes` places one to four of MNIST's handwritten digits at random sizes
# (12–28 pixels) and positions on a 64×64 crop of a photograph, lets digits overlap (two
# digits' squares may overlap up to an IoU of `0.3`), adds a few faint strokes and some noise,
# and records a tight box around each digit. The photographs are scikit-image's: the training,
# validation and test scenes are drawn on *different* photographs, so the test backgrounds are
# unseen. The digits
# come from MNIST's 10,000 test digits, split once into training, validation and test digits
# (`load_mnist_t10k`): the test scenes hold only test digits. Boxes follow torchvision's
# conventions: `(x1, y1, x2, y2)` in pixels, and labels from 1 (label = digit + 1), because
# label 0 is reserved for **background**.

# %%
# NBVAL_CHECK_OUTPUT
mnist = load_mnist_t10k()


def scenes(n: int, split: str, seed: int):
    """n scenes of the split's digits on crops of the split's photographs."""
    backgrounds = photo_backgrounds(split, P.backgrounds, canvas=P.canvas, seed=seed)
    return make_scenes(n, split=split, canvas=P.canvas, source=mnist, seed=seed,
                       backgrounds=backgrounds, max_overlap=0.3)


train = scenes(P.train_scenes, "train", 0)
val = scenes(P.val_scenes, "val", 1)
test = scenes(P.test_scenes, "test", 2)
for name, split in [("train", train), ("val", val), ("test", test)]:
    n_digits = sum(len(boxes) for boxes in split.boxes)
    print(f"{name:5}: {len(split)} scenes with {n_digits} digits; "
          f"photographs: {', '.join(PHOTOS[name])}")

# %% mystnb={"figure": {"caption": "Six test scenes with their ground-truth boxes and digits. The photographs behind them were never seen in training; digits may overlap.", "name": "fig-06-scenes"}, "image": {"alt": "Six grey photographic squares (crops of printed text, coins and the moon) with one to four white handwritten digits each, some overlapping, every digit framed by an orange box labelled with the digit."}}
fig, axes = plt.subplots(1, 6, figsize=(12, 2.3))
for i, ax in enumerate(axes):
    show_detections(test.images[i], test.boxes[i], test.labels[i], ax=ax)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Step 1 — region proposals
#
# A classifier answers "what is in this window?". To detect, R-CNN asks that question of about
# 2,000 windows per image that are *likely* to hold an object: the **region proposals**. The
# simplest proposals are sliding windows — every position, at every size and shape — but that
# is many windows, almost all of them empty. Let us count them for our small canvas:

# %%
# NBVAL_CHECK_OUTPUT
sizes = range(10, 33, 2)         # heights 10 … 32 px, three widths each, stride 2 px
n_windows = sum(len(range(0, P.canvas - h + 1, 2))
                * len(range(0, P.canvas - int(w * h) + 1, 2))
                for h in sizes for w in (0.5, 0.75, 1.0))
print(f"sliding windows on a {P.canvas}×{P.canvas} canvas: {n_windows:,}")

# %% [markdown]
# R-CNN used **selective search** {cite}`uijlings2013selective` instead: cut the image into small
# regions of similar pixels {cite}`felzenszwalb2004efficient`, then greedily merge the two most
# similar neighbouring regions, again and again, until one region is left. Every region that
# exists along the way proposes its bounding box. Objects are made of similar, touching pixels,
# so some region along the way is often one whole object. Three rules decide what "similar"
# means:
#
# - **size**: merge small regions first, so that every scale gets its chance;
# - **fill**: prefer two regions that fill their joint box well (they belong together);
# - **intensity**: prefer regions of similar brightness (the paper uses colour and texture).

# %%
from skimage.segmentation import felzenszwalb


def similarity(a: list, b: list, image_area: int) -> float:
    """Similarity of two regions [x1, y1, x2, y2, size, mean intensity]."""
    box_area = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    size = 1 - (a[4] + b[4]) / image_area
    fill = 1 - (box_area - a[4] - b[4]) / image_area
    intensity = 1 - abs(a[5] - b[5])
    return size + fill + intensity


def merge(a: list, b: list) -> list:
    """The region made of a and b: joint box, summed size, size-weighted mean."""
    size = a[4] + b[4]
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]), size,
            (a[5] * a[4] + b[5] * b[4]) / size]


# %% [markdown]
# The search itself: two segmentations (coarse and fine) to diversify the proposals, then the
# greedy merging, which records the box of every region it creates.

# %%
def regions_and_neighbours(image: np.ndarray, scale: float):
    """Felzenszwalb segments as regions [box, size, mean], and the pairs that touch."""
    segments = felzenszwalb(image, scale=scale, sigma=0.5, min_size=8)
    regions = {}
    for label in np.unique(segments):
        rows, cols = np.nonzero(segments == label)
        regions[label] = [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1,
                          len(rows), image[rows, cols].mean()]
    pairs = ((segments[:, :-1], segments[:, 1:]), (segments[:-1], segments[1:]))
    neighbours = {tuple(sorted(pair)) for a, b in pairs
                  for pair in zip(a[a != b].tolist(), b[a != b].tolist())}
    return regions, neighbours


def selective_search(image: np.ndarray, scales=(50, 200)) -> torch.Tensor:
    """Region proposals (N, 4) xyxy: Felzenszwalb segments, merged greedily."""
    boxes = []
    for scale in scales:
        regions, neighbours = regions_and_neighbours(image, scale)
        boxes += [region[:4] for region in regions.values()]
        new, known = max(regions) + 1, {}      # known: similarities computed so far
        while neighbours:           # merge the most similar pair until one is left
            for p in neighbours - known.keys():
                known[p] = similarity(regions[p[0]], regions[p[1]], image.size)
            a, b = max(neighbours, key=known.get)
            regions[new] = merge(regions.pop(a), regions.pop(b))
            boxes.append(regions[new][:4])
            neighbours = {tuple(sorted(new if r in (a, b) else r for r in pair))
                          for pair in neighbours}
            neighbours = {pair for pair in neighbours if pair[0] != pair[1]}
            new += 1
    boxes = torch.tensor(boxes, dtype=torch.float32)
    boxes = boxes[(boxes[:, 2] - boxes[:, 0] >= 4) & (boxes[:, 3] - boxes[:, 1] >= 4)]
    return torch.unique(boxes, dim=0)


# %% [markdown]
# We propose regions for every scene once, and measure the **recall** of the proposals on the
# test scenes: the share of real digits that some proposal covers with IoU ≥ 0.5. IoU, the
# *intersection over union* of two boxes, is how detection measures overlap: 1 for identical
# boxes, 0 for disjoint ones (`torchvision.ops.box_iou` computes it for all pairs at once).

# %%
def propose(split) -> list[torch.Tensor]:
    return [selective_search(image[0].numpy())
            for image in tqdm(split.images, desc="proposals")]


train_proposals, val_proposals = propose(train), propose(val)
test_proposals = propose(test)
best_iou = torch.cat([box_iou(test.boxes[i], test_proposals[i]).max(dim=1).values
                      for i in range(len(test))])
recall = (best_iou >= 0.5).float().mean().item()
per_image = float(np.mean([len(p) for p in test_proposals]))
claim("proposal_recall", recall, "< 1", tol=0.005,
      says="selective search misses some test digits at IoU 0.5")
claim("proposals_per_image", per_image, "< 200", tol=1,
      says="selective search proposes this many regions per test scene on average")
glue("windows_per_proposal", n_windows / per_image)
glue("recall_at_07", (best_iou >= 0.7).float().mean().item())

# %% [markdown]
# Selective search proposes {glue:text}`proposals_per_image:.0f` regions per test scene on
# average, {glue:text}`windows_per_proposal:.0f` times fewer than the sliding windows, and covers
# {glue:text}`proposal_recall:.3f` of the test digits at IoU `0.5` ({glue:text}`recall_at_07:.3f`
# at IoU `0.7`). A digit that no proposal covers is lost before the CNN ever sees it; likely
# causes are overlapping digits that merge into one region, and textured photographs that cut a
# digit into pieces which merge with the background first. Later stages rarely win these digits
# back: the CNN learned to call regions with IoU < `0.5` background, and box regression learned
# only small corrections (from IoU ≥ `0.6`).

# %% mystnb={"figure": {"caption": "Selective search on one test scene. Left: the fine Felzenszwalb segmentation it starts from. Middle: every proposal. Right: for each digit, the proposal that overlaps it best, labelled with the digit and its IoU.", "name": "fig-06-proposals"}, "image": {"alt": "Three panels of the same scene: a colourful segmentation into many small regions, the scene covered by many thin boxes of all sizes, and the scene with one box per digit labelled with its IoU."}}
i = 0
image, proposals = test.images[i], test_proposals[i]
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
segments = felzenszwalb(image[0].numpy(), scale=50, sigma=0.5, min_size=8)
axes[0].imshow(segments, cmap="tab20")
axes[0].set_title("segments", fontsize=9); axes[0].axis("off")
show_detections(image, proposals, ax=axes[1], names=False, linewidth=0.5,
                title=f"{len(proposals)} proposals")
ious = box_iou(test.boxes[i], proposals)
best = proposals[ious.argmax(dim=1)]
show_detections(image, best, test.labels[i], ious.max(dim=1).values, ax=axes[2],
                color="tab:green",
                title="best proposal per digit (IoU)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Step 2 — warp every region to the CNN's input size
#
# A CNN wants a fixed input size; proposals come in every size and shape. R-CNN simply **warps**
# each proposal, ignoring its aspect ratio, to the CNN's input, after growing it a little so the
# CNN also sees some context (16 pixels at 227: we add `0.08` of the box on each side).
# `torchvision.ops.roi_align` crops and resizes many boxes in one call with bilinear sampling:
# a bilinear cousin of the RoI pooling that Fast R-CNN later applies to feature maps (Mask R-CNN
# {cite}`he2017mask` introduced this version, RoIAlign).

# %%
def warp(image: torch.Tensor, boxes: torch.Tensor, size: int = P.crop,
         context: float = 0.08) -> torch.Tensor:
    """Each box of image (1, H, W), grown by `context` a side, resized to size²."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * (0.5 + context)
    grown = torch.cat([centre - half, centre + half], dim=1)
    return roi_align(image[None], [grown], output_size=size, sampling_ratio=2,
                     aligned=True)


# %% [markdown]
# ## Step 3 — labels for every region: what it is, and how to fix its box
#
# To train, every proposal needs a target. As in the paper's fine-tuning, a proposal whose IoU
# with a digit is at least `0.5` is labelled with that digit; every other proposal is
# **background**. Proposals that overlap a digit well (IoU ≥ `0.6`) also learn to **regress** the
# digit's box: four numbers that move the proposal's centre (in units of its size) and scale its
# width and height (in log space), so the same correction fits small and large boxes. R-CNN
# regressed these numbers as they are; the weights (10, 10, 5, 5) that scale them here come from
# the public Faster R-CNN code (py-faster-rcnn, then Detectron and torchvision; the Fast R-CNN
# paper instead normalises the targets to zero mean and unit variance). They bring the box loss
# to the size of the classification loss.

# %%
WEIGHTS = torch.tensor([10.0, 10.0, 5.0, 5.0])


def encode(gt: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """R-CNN's regression targets: how to move and scale each box onto its truth."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    dx = (gt[:, 0] + gw / 2 - boxes[:, 0] - w / 2) / w
    dy = (gt[:, 1] + gh / 2 - boxes[:, 1] - h / 2) / h
    deltas = torch.stack([dx, dy, torch.log(gw / w), torch.log(gh / h)], dim=1)
    return deltas * WEIGHTS.to(boxes.device)


def decode(deltas: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """The inverse of encode: apply predicted corrections to the boxes."""
    dx, dy, dw, dh = (deltas / WEIGHTS.to(deltas.device)).unbind(dim=1)
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cx, cy = boxes[:, 0] + w / 2 + dx * w, boxes[:, 1] + h / 2 + dy * h
    w, h = w * torch.exp(dw.clamp(max=4)), h * torch.exp(dh.clamp(max=4))
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=1)


def label_proposals(proposals, gt_boxes, gt_labels):
    """Class (0 = background), regression target and whether to regress."""
    best_iou, best = box_iou(proposals, gt_boxes).max(dim=1)
    labels = torch.where(best_iou >= 0.5, gt_labels[best], 0)
    return labels, encode(gt_boxes[best], proposals), best_iou >= 0.6


# %% [markdown]
# Now the training set of the region classifier: every proposal of every training scene, plus
# the ground-truth boxes themselves (R-CNN adds them as extra positives), warped and labelled.

# %%
# NBVAL_CHECK_OUTPUT
crops, labels, targets, regress, overlaps = [], [], [], [], []
for i in range(len(train)):
    boxes = torch.cat([train_proposals[i], train.boxes[i]])
    y, t, m = label_proposals(boxes, train.boxes[i], train.labels[i])
    crops.append(warp(train.images[i], boxes))
    labels.append(y); targets.append(t); regress.append(m)
    overlaps.append(box_iou(boxes, train.boxes[i]).max(dim=1).values)   # best IoU
crops, labels = torch.cat(crops).to(device), torch.cat(labels).to(device)
targets, regress = torch.cat(targets).to(device), torch.cat(regress).to(device)
overlaps = torch.cat(overlaps).to(device)
print(f"{len(crops):,} warped regions of {tuple(crops.shape[1:])}: "
      f"{(labels > 0).sum().item():,} digits, "
      f"{(labels == 0).sum().item():,} background, "
      f"{regress.sum().item():,} with a box to regress")

# %% mystnb={"figure": {"caption": "What the region classifier sees: warped proposals of the training scenes with their labels. Proposals that overlap a digit less than IoU 0.5 are background ('bg'), even when they show part of a digit.", "name": "fig-06-crops"}, "image": {"alt": "A grid of 24 small square crops: some show a whole digit, labelled with it, others show parts of digits, photographic texture or faint strokes, labelled bg."}}
generator = torch.Generator().manual_seed(1)
digit_rows = torch.nonzero(labels > 0)[:, 0].cpu()
background_rows = torch.nonzero(labels == 0)[:, 0].cpu()
pick = torch.cat([rows[torch.randperm(len(rows), generator=generator)[:12]]
                  for rows in (digit_rows, background_rows)])
fig, axes = plt.subplots(2, 12, figsize=(12, 2.4))
for ax, index in zip(axes.flat, pick.tolist()):
    ax.imshow(crops[index, 0].cpu(), cmap="gray", vmin=0, vmax=1)   # one grey scale
    ax.set_title(str(int(labels[index]) - 1) if labels[index] > 0 else "bg", fontsize=8)
    ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Step 4 — the CNN: a classifier with a background class, and a box regressor
#
# The paper fine-tuned an ImageNet AlexNet on 227×227 warps; our 24×24 digits need far less.
# The convolutional layers (`conv_stack`, three layers with 16, 32 and 64 filters) will be
# reused as the backbone of Faster R-CNN below. On top of them, one hidden layer (the `trunk`
# ends there) feeds two outputs: scores for 11 classes (10 digits + background) and the four box
# corrections, shared by all classes, trained with one joint loss. This two-output head is Fast
# R-CNN's multi-task head {cite}`girshick2015fast`: R-CNN itself fine-tuned its CNN with a
# softmax, then trained one linear SVM per class on the fc7 features and a separate ridge
# regressor per class on the pool5 features.

# %%
def conv_stack() -> nn.Sequential:
    """Three 3×3 convolutions, 16, 32 and 64 filters; the first two halve the size."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU())


def trunk() -> nn.Sequential:
    """conv_stack, pooled to 3×3, and one hidden layer of 128 units."""
    return nn.Sequential(conv_stack(), nn.AdaptiveMaxPool2d(3), nn.Flatten(),
                         nn.Linear(64 * 3 * 3, 128), nn.ReLU())


class RegionCNN(nn.Module):
    """R-CNN's network for a warped region: class scores (0 = background), box fix."""
    def __init__(self, body: nn.Module | None = None, n_classes: int = 11):
        super().__init__()
        self.trunk = body if body is not None else trunk()
        self.classify = nn.Linear(128, n_classes)
        self.regress = nn.Linear(128, 4)

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(crops)
        return self.classify(h), self.regress(h)


# %% [markdown]
# ### Pretraining, R-CNN's second idea
#
# PASCAL VOC had too few labelled boxes to train a large CNN, so R-CNN first trained it to
# *classify* ImageNet's images (supervised pretraining), then went on training it on warped
# proposals (fine-tuning). We do the same on a small scale: the trunk first learns to classify
# the training digits, centred on a black background, with `demystify.fit` (for
# `P.pretrain_epochs` epochs — two in the CPU profile — keeping the better on the validation
# digits). These are the same training digits the training scenes are made of: a warm-up on the
# same labels, not extra data as in the paper. None of them appears in a test scene.

# %%
digits = mnist.resized(P.crop)
classifier = nn.Sequential(trunk(), nn.Linear(128, 10))
history = fit(classifier, (digits.x_train, digits.y_train),
              (digits.x_val, digits.y_val), epochs=P.pretrain_epochs, batch_size=64,
              keep_best=True, desc="pretraining")
print(f"pretrained trunk: validation accuracy {max(history['val_accuracy']):.3f} "
      f"(epoch {history.best_epoch})")

# %% [markdown]
# ### Fine-tuning on regions
#
# Most regions are background, so each minibatch of 128 regions is drawn as the paper did for
# fine-tuning: 32 digits and 96 background regions, uniformly at random. The loss adds the
# classification loss of all regions to the (smooth L1) box loss of the regions that have a box
# to regress. This sampling is the lesson here, so the loop is written out instead of calling
# `fit`, which expects one loss per batch of (input, label) pairs. We train three networks
# with the same batch, learning rate and seed: one from the pretrained trunk, one from scratch
# with the same fine-tuning steps, and a copy of the latter trained on for as many steps as
# pretraining took, so that it has as many steps in all as pretraining plus fine-tuning.
# (`MixedPrecision` runs the forward pass under autocast on a GPU and, where that is fp16, adds
# the gradient scaler that keeps small gradients from underflowing, as `fit` does; on a CPU
# each step is a plain one.)

# %%
def train_rcnn(model: nn.Module, steps: int, batch: int = 128,
               lr: float = 1e-3) -> list[float]:
    """Train on random 1:3 mixes of digit and background regions; loss per step."""
    generator = torch.Generator().manual_seed(P.seed)
    digits = torch.nonzero(labels > 0)[:, 0].cpu()
    background = torch.nonzero(labels == 0)[:, 0].cpu()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    amp = MixedPrecision(device)
    model.to(device).train()
    losses = []
    for _ in tqdm(range(steps), desc="R-CNN"):
        pick = torch.cat([
            digits[torch.randint(len(digits), (batch // 4,), generator=generator)],
            background[torch.randint(len(background), (batch - batch // 4,),
                                     generator=generator)]]).to(device)
        with amp.autocast():
            scores, deltas = model(crops[pick])
        m = regress[pick]
        loss = F.cross_entropy(scores.float(), labels[pick]) + \
            F.smooth_l1_loss(deltas.float()[m], targets[pick][m], beta=1 / 9)
        amp.step(loss, optimizer)       # zero_grad, backward, step (scaled under fp16)
        losses.append(loss.item())
    return losses


torch.manual_seed(P.seed)
rcnn = RegionCNN(copy.deepcopy(classifier[0]))     # the pretrained trunk, fine-tuned
rcnn_losses = train_rcnn(rcnn, P.rcnn_steps, P.rcnn_batch)
torch.manual_seed(P.seed)
scratch = RegionCNN()                                  # the same network, from scratch
scratch_losses = train_rcnn(scratch, P.rcnn_steps, P.rcnn_batch)
pretrain_steps = P.pretrain_epochs * -(-len(digits.x_train) // 64)
scratch_long = copy.deepcopy(scratch)    # go on training it for pretraining's steps
long_losses = train_rcnn(scratch_long, pretrain_steps, P.rcnn_batch)

# %% mystnb={"figure": {"caption": "R-CNN's training loss (classification + box regression), averaged over 25 steps, for the pretrained trunk and for the same network trained from scratch.", "name": "fig-06-rcnn-loss"}, "image": {"alt": "Two falling curves of loss against training step; the pretrained one starts slightly higher, drops below the other within the first quarter of training and stays below."}}
fig, ax = plt.subplots(figsize=(5, 2.6))
for losses, name in [(rcnn_losses, "pretrained, fine-tuned"),
                     (scratch_losses, "from scratch")]:
    smooth = np.convolve(losses, np.ones(25) / 25, mode="valid")
    ax.plot(range(25, len(losses) + 1), smooth, label=name)
ax.set_xlabel("step"); ax.set_ylabel("loss"); ax.grid(alpha=0.3); ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Step 5 — detect: score, correct, suppress
#
# At test time R-CNN scores every proposal **for every class** (in the paper, one SVM per
# class), applies the box correction, drops low scores, and then runs **non-maximum
# suppression** (NMS) for each class on its own: keep the highest-scoring box, delete every box
# of the same class that overlaps it by more than a threshold, repeat. A proposal can therefore
# yield a "3" and an "8" at once, when both are likely; without NMS every digit would be found
# many times over. `torchvision.ops.batched_nms` does the per-class NMS in one call.

# %%
@torch.no_grad()
def rcnn_detect(image: torch.Tensor, proposals: torch.Tensor | None = None,
                model: nn.Module | None = None, score_threshold: float = 0.05,
                nms_iou: float = 0.3, refine: bool = True) -> dict[str, torch.Tensor]:
    """R-CNN on one image (1, H, W): proposals, warp, CNN, every class, box, NMS."""
    model = model if model is not None else rcnn
    if proposals is None:
        proposals = selective_search(image[0].numpy())
    model.eval()
    proposals = proposals.to(device)
    with autocast(device):
        scores, deltas = model(warp(image.to(device), proposals))
    probabilities = scores.float().softmax(dim=1)[:, 1:]       # drop the background
    rows, classes = torch.nonzero(probabilities >= score_threshold, as_tuple=True)
    boxes = decode(deltas.float(), proposals) if refine else proposals
    boxes = boxes.clamp(0, image.shape[-1])[rows]
    score, label = probabilities[rows, classes], classes + 1
    keep = batched_nms(boxes, score, label, nms_iou)
    return {"boxes": boxes[keep].cpu(), "scores": score[keep].cpu(),
            "labels": label[keep].cpu()}


# %% mystnb={"figure": {"caption": "R-CNN's stages on one test scene: all proposals; the proposals the CNN scores as a digit with probability \u2265 0.5, after box regression; what is left after non-maximum suppression. A box left on part of a digit is a hard negative, discussed below.", "name": "fig-06-stages"}, "image": {"alt": "Three panels of the same scene: many thin boxes; orange boxes on the digits, some overlapping; a few labelled boxes."}}
i = 0
image, proposals = test.images[i], test_proposals[i]
before = rcnn_detect(image, proposals, score_threshold=0.5, nms_iou=1.0)
after = rcnn_detect(image, proposals, score_threshold=0.5)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
show_detections(image, proposals, ax=axes[0], names=False, linewidth=0.5,
                title=f"{len(proposals)} proposals")
show_detections(image, before["boxes"], before["labels"], ax=axes[1], names=False,
                title=f"{len(before['boxes'])} boxes scored ≥ 0.5")
show_detections(image, **after, ax=axes[2], title=f"{len(after['boxes'])} after NMS")
mark_varying(axes[1]); mark_varying(axes[2])     # box counts: the model's call
fig.tight_layout()
plt.show()

# %% [markdown]
# ## How good is it? Mean average precision
#
# Detection papers report **mean average precision** (mAP). For one class, sort all detections
# on all test images by score; walk down the list, counting a detection as correct when it
# overlaps a not-yet-found ground-truth box of its class with IoU ≥ `0.5`; the area under the
# resulting precision–recall curve is that class's *average precision*; mAP is the mean over
# classes. It rewards finding every object (recall) and not inventing any (precision), at every
# score threshold at once. We use torchmetrics' implementation, which calls the COCO evaluation
# code (`pycocotools`) at the PASCAL VOC IoU threshold 0.5 {cite}`everingham2010pascal`. Its
# "AP50" is COCO's: precision is read at 101 recall points, whereas VOC 2007's official AP (the
# one R-CNN reports) reads it at 11 points, so the two differ a little on the same detections.
# COCO's evaluation also keeps only the 100 highest-scoring detections per image
# (`max_detection_thresholds`); with every class scored at ≥ `0.05` a busy scene can yield
# more, and the dropped ones, the least confident, add little to AP, so we silence
# torchmetrics' warning about them.
#
# One setting is ours to choose, the NMS threshold. We choose it on the **validation scenes**
# (other photographs, other digits) and read the test scenes once, with that setting.

# %%
from torchmetrics.detection import MeanAveragePrecision


def average_precision(predictions: list[dict], scenes) -> dict[str, float]:
    """Mean average precision of a detector's predictions at IoU 0.5 and at IoU 0.75."""
    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox",
                                  max_detection_thresholds=[1, 10, 100])
    metric.warn_on_many_detections = False
    metric.update(predictions, scenes.targets())
    result = metric.compute()
    return {"mAP@0.5": result["map_50"].item(), "mAP@0.75": result["map_75"].item()}


def rcnn_map_on(scenes, proposals, **options) -> dict[str, float]:
    found = [rcnn_detect(image, boxes, **options)
             for image, boxes in zip(scenes.images, proposals)]
    return average_precision(found, scenes)


NMS_CHOICES = (0.3, 0.5)
val_maps = {nms: rcnn_map_on(val, val_proposals, nms_iou=nms)["mAP@0.5"]
            for nms in NMS_CHOICES}
rcnn_nms = max(val_maps, key=val_maps.get)
print("validation mAP@0.5 by NMS threshold:",
      {k: round(v, 3) for k, v in val_maps.items()}, "→ NMS IoU", rcnn_nms)

# %% [markdown]
# Now the test scenes, once, for the pretrained R-CNN, for the same network without its box
# regression, and for the two networks trained from scratch.

# %%
rcnn_scores = rcnn_map_on(test, test_proposals, nms_iou=rcnn_nms)
unrefined = rcnn_map_on(test, test_proposals, nms_iou=rcnn_nms, refine=False)
scratch_scores = rcnn_map_on(test, test_proposals, nms_iou=rcnn_nms, model=scratch)
long_scores = rcnn_map_on(test, test_proposals, nms_iou=rcnn_nms, model=scratch_long)
rcnn_map = rcnn_scores["mAP@0.5"]
pd.DataFrame({"R-CNN (pretrained)": rcnn_scores, "without box regression": unrefined,
              "from scratch": scratch_scores,
              "from scratch, more steps": long_scores}).T.round(3)

# %%
claim("rcnn_map", rcnn_map, ">= 0.5", tol=0.03,
      says="the pretrained R-CNN's mAP@0.5 on the test scenes")
scratch_map = scratch_scores["mAP@0.5"]
claim("pretrained_minus_scratch", rcnn_map - scratch_map, "> 0.1", tol=0.04,
      parts={"pretrained": rcnn_map, "scratch": scratch_map},
      says="at equal fine-tuning budget the pretrained trunk beats one from scratch")
claim("box_regression_gain_075", rcnn_scores["mAP@0.75"] - unrefined["mAP@0.75"], "> 0",
      tol=0.03,
      parts={"with": rcnn_scores["mAP@0.75"], "without": unrefined["mAP@0.75"]},
      says="box regression raises mAP@0.75")
claim("box_regression_gain_05", rcnn_scores["mAP@0.5"] - unrefined["mAP@0.5"], "> 0",
      tol=0.01, parts={"with": rcnn_scores["mAP@0.5"], "without": unrefined["mAP@0.5"]},
      says="box regression also raises mAP@0.5")
claim("scratch_long_minus_scratch", long_scores["mAP@0.5"] - scratch_map, "> 0.05",
      tol=0.04, parts={"long": long_scores["mAP@0.5"], "short": scratch_map},
      says="from scratch, pretraining + fine-tuning's steps beat fine-tuning's alone")

# %% [markdown]
# On the unseen photographs, with unseen digits, the pretrained R-CNN reaches an `mAP@0.5` of
# {glue:text}`rcnn_map:.3f`. At equal fine-tuning steps the same network trained from scratch
# reaches {glue:text}`pretrained_minus_scratch__scratch:.3f`
# ({glue:text}`pretrained_minus_scratch:.3f` less). Given as many steps in all as pretraining
# plus fine-tuning, the scratch network reaches {glue:text}`scratch_long_minus_scratch__long:.3f`
# instead: at least part of what pretraining adds here is simply more training. Our
# "pretraining" uses the same training digits, centred — a warm-up, not extra data as in the
# paper. Box regression makes the boxes fit: at IoU
# `0.75` it lifts mAP from {glue:text}`box_regression_gain_075__without:.3f` to
# {glue:text}`box_regression_gain_075__with:.3f`; at IoU `0.5`, where a roughly placed box
# already counts, it adds {glue:text}`box_regression_gain_05:.3f`.
#
# In the paper, on PASCAL VOC — 20 kinds of real objects in real photographs — the same two ideas
# mattered. On VOC 2007 test (Table 2 of {cite}`girshick2014rich`), R-CNN's features pretrained on
# ImageNet but not fine-tuned gave 44.7 % mAP (row "R-CNN fc7"), fine-tuning raised it to 54.2 %
# ("R-CNN FT fc7"), and bounding-box regression to 58.5 % ("R-CNN FT fc7 BB"), against 33.7 % for
# the HOG-based DPM v5 and 34.3 % for DPM HSC in the same table. On VOC 2010 test (Table 1 of
# {cite}`girshick2014rich`), R-CNN reached 50.2 % without and 53.7 % with box regression, against
# 40.4 % for SegDPM, the leaderboard's best at publication time (SegDPM and DPM use context
# rescoring, Table 1's footnote), and 39.7 % for Regionlets; on VOC 2011/12 test it reached 53.3 %.
# The paper did not train its CNN from scratch: Table 2 measures fine-tuning, not pretraining. Our
# digits are not PASCAL's objects, so the numbers are not comparable; what carries over is the
# method, and the direction of each effect.
#
# ### Background regions: easy ones and hard ones
#
# The paper trained its per-class SVMs with **hard negative mining**: train, collect the
# background regions the detector wrongly scores high (the *hard negatives*), retrain on them,
# repeat. Our network was fine-tuned on background drawn uniformly at random instead, as the
# paper fine-tuned its CNN. How many of its background regions are still hard? We score a
# random sample of 8,000 background regions of the training scenes (a quarter of them, to save
# time) with the trained network and count those it calls a digit with probability ≥ 0.5.

# %%
rows = torch.nonzero(labels == 0)[:, 0].cpu()
rows = rows[torch.randperm(len(rows), generator=torch.Generator().manual_seed(P.seed))]
rows = rows[:8000].to(device)                   # a random sample of background regions
with torch.no_grad():
    rcnn.eval()
    background = crops[rows]
    digit_probability = torch.cat(
        [rcnn(chunk)[0].float().softmax(dim=1)[:, 1:].sum(dim=1)
         for chunk in background.split(4096)])
hard = digit_probability >= 0.5
overlap = overlaps[rows]                        # each region's best IoU with a digit
claim("hard_negative_share", hard.float().mean().item(), "< 0.1", tol=0.01,
      says="few background regions are still scored as digits after training")
glue("hard_negatives", int(hard.sum()))
glue("background_regions", len(background))
glue("hard_negatives_per_batch", hard.float().mean().item() * (P.rcnn_batch * 3 // 4))
claim("hard_touch_digit", (overlap[hard] >= 0.1).float().mean().item(), "> 0.8",
      tol=0.03, says="most hard negatives overlap a digit (IoU >= 0.1)")
claim("hard_near_miss", (overlap[hard] >= 0.3).float().mean().item(), "> 0.25",
      tol=0.05,
      says="many hard negatives are near-misses, IoU 0.3 to 0.5 with a digit")

# %% [markdown]
# Only {glue:text}`hard_negatives:.0f` of the {glue:text}`background_regions:.0f` sampled
# background regions are still scored as a digit (a share of
# {glue:text}`hard_negative_share:.3f`): a random batch of 96 background regions holds
# {glue:text}`hard_negatives_per_batch:.1f` of them on average, so most background regions in a
# step are ones the network already rejects. A share of {glue:text}`hard_touch_digit:.2f` of the
# hard ones overlap a digit (IoU ≥ `0.1`), and {glue:text}`hard_near_miss:.2f` are near-misses
# with IoU between `0.3` and the `0.5` label boundary — which is why the paper's SVMs used only
# regions with IoU < `0.3` as negatives, ignoring those between `0.3` and `0.5`. The paper mined
# hard negatives because its training set did not fit in memory {cite}`girshick2014rich`; exercise
# 3 asks whether mining helps here.
#
# ## Fast R-CNN and Faster R-CNN
#
# R-CNN is slow because it runs the CNN once **per proposal** — about 2,000 times per image in
# the paper, which reports 13 seconds per image on a GPU (53 on a CPU) for proposals and
# features {cite}`girshick2014rich`. Two follow-ups removed the waste:
#
# - **Fast R-CNN** {cite}`girshick2015fast` runs the convolutional layers **once per image**
#   and crops each proposal from the resulting *feature map* (RoI pooling, a max-pooling
#   relative of `roi_align`), then classifies and regresses all proposals in one batch.
# - **Faster R-CNN** {cite}`ren2015faster` also replaces selective search, which by then took
#   most of the time, by a small **region proposal network** (RPN) on the same feature map: at
#   every position it scores a few *anchor* boxes of fixed sizes and shapes as object or not,
#   and regresses them, so proposals cost almost nothing.
#
# torchvision implements Faster R-CNN. To set it beside our R-CNN, we give it the same network: the
# pretrained `conv_stack` as its backbone, the same hidden layer (also pretrained) and the same two
# outputs, with box corrections shared by all classes. Only the pooling differs: R-CNN max-pools the
# features of a bilinearly warped crop to 3×3; Faster R-CNN samples the shared feature map
# bilinearly (RoIAlign, 6×6) and then max-pools to 3×3, as close as we can come. It adds the RPN,
# with anchors that fit digits (12–28 px, square or half as tall again as wide). At this chapter's
# CPU budget it trains for fewer steps than R-CNN: its accuracy below is no comparison.

# %%
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.ops import MultiScaleRoIAlign


class SharedBoxPredictor(nn.Module):
    """RegionCNN's two outputs; one box correction for all classes, as in R-CNN."""
    def __init__(self, hidden: int = 128, n_classes: int = 11):
        super().__init__()
        self.classify, self.regress = nn.Linear(hidden, n_classes), nn.Linear(hidden, 4)
        self.n_classes = n_classes

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.classify(h), self.regress(h).repeat(1, self.n_classes)


torch.manual_seed(P.seed)
pretrained = copy.deepcopy(classifier[0])     # conv_stack, pool, flatten, linear, ReLU
backbone = pretrained[0]
backbone.out_channels = 64                    # FasterRCNN reads the feature depth here
faster = FasterRCNN(
    backbone, min_size=P.canvas, max_size=P.canvas, image_mean=[0.0], image_std=[1.0],
    rpn_anchor_generator=AnchorGenerator(sizes=((12, 20, 28),),
                                         aspect_ratios=((1.0, 1.5),)),
    rpn_pre_nms_top_n_train=300, rpn_post_nms_top_n_train=100,
    rpn_pre_nms_top_n_test=300, rpn_post_nms_top_n_test=100,
    rpn_batch_size_per_image=64,
    box_roi_pool=MultiScaleRoIAlign(["0"], output_size=6, sampling_ratio=2),
    box_head=nn.Sequential(nn.MaxPool2d(2), nn.Flatten(), pretrained[3], pretrained[4]),
    box_predictor=SharedBoxPredictor(), box_batch_size_per_image=32,
    box_score_thresh=0.05, box_detections_per_img=100,
).to(device)

# %% [markdown]
# The two detectors side by side: a check that their region heads (everything after the
# convolutions) hold the same number of parameters; Faster R-CNN adds the RPN.

# %%
# NBVAL_CHECK_OUTPUT
rcnn_head = count_parameters(rcnn) - count_parameters(rcnn.trunk[0])
faster_head = count_parameters(faster.roi_heads)
assert rcnn_head == faster_head, (rcnn_head, faster_head)
print(f"convolutions: R-CNN {count_parameters(rcnn.trunk[0]):,}, "
      f"Faster R-CNN {count_parameters(faster.backbone):,}")
print(f"region head: R-CNN {rcnn_head:,}, Faster R-CNN {faster_head:,}")
print(f"region proposal network (Faster R-CNN only): {count_parameters(faster.rpn):,}")

# %% [markdown]
# In training mode torchvision's detectors take images and targets and return their four losses:
# the RPN's objectness and box losses, and the detection head's classification and box losses.
# That dict of losses is why the loop is written out instead of calling `fit`. With a batch of 8
# scenes we train for `P.faster_epochs` epochs — in the CPU profile fewer steps than R-CNN's (both
# printed below), to keep the chapter within its time budget — and print the four losses per
# epoch. A step is not the same work, though: each of its scenes contributes 32 sampled RoIs (256
# per step, against R-CNN's 128 regions) and trains the RPN too.

# %%
def train_faster(model: nn.Module, scenes, epochs: int, batch_size: int,
                 lr: float = 1e-3) -> list[float]:
    """Train a torchvision detector on scenes; return its mean losses per epoch."""
    generator = torch.Generator().manual_seed(P.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    amp = MixedPrecision(device)
    history = []
    for _ in (bar := tqdm(range(epochs), desc="Faster R-CNN")):
        model.train()
        totals = {}
        for batch in torch.randperm(len(scenes), generator=generator).split(batch_size):
            images = [scenes.images[i].to(device) for i in batch]
            targets = [{k: v.to(device) for k, v in scenes.target(i).items()}
                       for i in batch]
            with amp.autocast():
                parts = model(images, targets)          # a dict of four losses
            amp.step(sum(parts.values()), optimizer)
            for key, value in parts.items():
                totals[key] = totals.get(key, 0.0) + value.item() * len(batch)
        history.append({key: total / len(scenes) for key, total in totals.items()})
        bar.set_postfix(loss=f"{sum(history[-1].values()):.3f}")
    return history


faster_losses = train_faster(faster, train, P.faster_epochs, P.faster_batch)
print(f"{P.faster_epochs * -(-len(train) // P.faster_batch)} steps "
      f"(R-CNN: {P.rcnn_steps})")
print(pd.DataFrame(faster_losses).rename_axis("epoch").round(3))

# %% [markdown]
# Detection with the same thresholds as `rcnn_detect`, its NMS threshold chosen on the
# validation scenes in the same way, then one read of the test scenes.

# %%
@torch.no_grad()
def faster_detect(image: torch.Tensor, score_threshold: float = 0.05,
                  nms_iou: float = 0.3) -> dict[str, torch.Tensor]:
    """Faster R-CNN on one image (1, H, W), with the same thresholds as rcnn_detect."""
    faster.eval()
    faster.roi_heads.score_thresh = score_threshold
    faster.roi_heads.nms_thresh = nms_iou
    with autocast(device):
        output = faster([image.to(device)])[0]
    return {key: value.float().cpu() if key != "labels" else value.cpu()
            for key, value in output.items()}


def faster_map_on(scenes, **options) -> dict[str, float]:
    found = [faster_detect(image, **options) for image in scenes.images]
    return average_precision(found, scenes)


val_maps = {nms: faster_map_on(val, nms_iou=nms)["mAP@0.5"] for nms in NMS_CHOICES}
faster_nms = max(val_maps, key=val_maps.get)
faster_scores = faster_map_on(test, nms_iou=faster_nms)
faster_map = faster_scores["mAP@0.5"]
print(f"validation: NMS IoU {faster_nms}; test mAP@0.5 {faster_map:.3f}, "
      f"mAP@0.75 {faster_scores['mAP@0.75']:.3f}")
glue("faster_map", faster_map)
glue("faster_classifier_loss_last", faster_losses[-1]["loss_classifier"])

# %% [markdown]
# ## The speed story, measured here
#
# Now the point of the whole line of work: time per image, from pixels to final boxes, for both
# detectors on this machine — one image at a time, as the papers measured, alternating the two
# detectors on the same test images and taking the median to damp noise from other programs.
# Each detection is timed with `time_call`, the book's one timer (chapter 10 shows how it
# works: the device is synchronised before every clock reading).

# %%
def seconds(detect, image) -> float:
    """Wall seconds of one detection (time_call synchronises the device)."""
    return time_call(lambda: detect(image), device, warmup=0, calls=1).seconds


rcnn_detect(test.images[0]); faster_detect(test.images[0])          # warm up
times = {"R-CNN": [], "Faster R-CNN": [], "selective search": []}
for image in test.images[:P.timed_images]:
    times["R-CNN"].append(seconds(lambda x: rcnn_detect(x, nms_iou=rcnn_nms), image))
    times["Faster R-CNN"].append(
        seconds(lambda x: faster_detect(x, nms_iou=faster_nms), image))
    times["selective search"].append(
        seconds(lambda x: selective_search(x[0].numpy()), image))
rcnn_time, faster_time, search_time = (float(np.median(t)) for t in times.values())
timing("rcnn_ms", rcnn_time * 1000, says="R-CNN's median time per test image, ms")
timing("faster_ms", faster_time * 1000, says="Faster R-CNN's median ms per test image")
timing("search_ms", search_time * 1000, says="selective search's median ms per image")
glue("rcnn_without_search_ms", (rcnn_time - search_time) * 1000)
claim("rcnn_over_faster_time", rcnn_time / faster_time, "> 2", timed=True,
      says="Faster R-CNN takes less than half R-CNN's time per image")

# %% [markdown]
# Beside the papers' numbers, each from the table named in the first column (R-CNN
# {cite}`girshick2014rich`; Fast and Faster R-CNN as measured in the Faster R-CNN paper
# {cite}`ren2015faster` (Tables 2 and 4 of the NIPS version), all trained on VOC 2007
# trainval; its times are on a K40 GPU except selective search, which ran on a CPU:

# %%
pd.DataFrame([
    ["R-CNN (AlexNet), paper Table 2, FT fc7 BB", "PASCAL VOC 2007 test", "58.5 %",
     "13 s (GPU) for proposals and features"],
    ["Fast R-CNN (VGG16) + selective search, Faster R-CNN paper Tables 2 and 4",
     "PASCAL VOC 2007 test", "66.9 %",
     "1.83 s: network on a K40 GPU, selective search 1.51 s of it on a CPU"],
    ["Faster R-CNN (VGG16, RPN, shared), paper Tables 2 and 4", "PASCAL VOC 2007 test",
     "69.9 %", "0.198 s (K40 GPU), all included"],
    ["our R-CNN", f"{len(test)} digit scenes", f"{rcnn_map:.1%}",
     f"{rcnn_time * 1000:.0f} ms ({device.type})"],
    ["our Faster R-CNN", f"{len(test)} digit scenes", f"{faster_map:.1%}",
     f"{faster_time * 1000:.0f} ms ({device.type})"],
], columns=["detector", "test set", "mAP@0.5", "time per image"]).set_index("detector")

# %% [markdown]
# What to notice:
#
# - Our R-CNN runs the CNN on only about {glue:text}`proposals_per_image:.0f` regions of 24×24
#   pixels, not 2,000 of 227×227, so it takes {glue:text}`rcnn_ms:.0f` ms per image, of which
#   selective search (plain Python here) takes {glue:text}`search_ms:.0f` ms. Faster R-CNN takes
#   {glue:text}`faster_ms:.0f` ms: R-CNN takes {glue:text}`rcnn_over_faster_time:.1f` times as
#   long on this run (timings vary from run to run; on every seed it took more than twice as
#   long). Without selective search R-CNN would still take
#   {glue:text}`rcnn_without_search_ms:.0f` ms: the papers' two reasons are the per-region
#   convolutions, which Faster R-CNN runs once per image, and selective search, which it does
#   not need.
# - Accuracy: at this budget our Faster R-CNN has not learned to be confident — its head's
#   classification loss is still {glue:text}`faster_classifier_loss_last:.2f` in the last epoch
#   (all four losses per epoch are printed above) — so its `mAP@0.5` of
#   {glue:text}`faster_map:.3f` says nothing about the design. It must also learn its
#   proposals, which R-CNN gets from selective search, and it trains on other regions — the
#   RPN's proposals as they change, twice as many RoIs per step — with a second loss. In the
#   Faster R-CNN paper, with VGG16 trained far longer, 300 learned proposals gave a higher mAP
#   than 2,000 from selective search (VOC 2007 test, Table 2: 69.9 % against 66.9 %, the Fast
#   R-CNN paper's figure; with the authors' own code selective search gave 68.0 %)
#   {cite}`ren2015faster`.
#
# ## Try it: thresholds
#
# Two numbers turn a detector's raw scores into an answer: the **score threshold** (how sure it
# must be) and the **NMS IoU** (how much two boxes of the same digit may overlap before the
# weaker one is deleted). Raise the NMS IoU to 1 to switch suppression off and watch duplicates
# appear; lower the score threshold and watch weak boxes appear. With a running kernel
# the controls are live; on the website the figure after them shows one scene at three
# settings.

# %%
import ipywidgets as widgets


def show_thresholds(scene: int = 3, detector: str = "R-CNN", score: float = 0.5,
                    nms_iou: float = 0.3) -> None:
    image = test.images[scene]
    if detector == "R-CNN":
        found = rcnn_detect(image, test_proposals[scene], score_threshold=score,
                            nms_iou=nms_iou)
    else:
        found = faster_detect(image, score_threshold=score, nms_iou=nms_iou)
    fig, axes = plt.subplots(1, 2, figsize=(6, 3.1))
    show_detections(image, test.boxes[scene], test.labels[scene], ax=axes[0],
                    color="tab:green", title="ground truth")
    show_detections(image, **found, ax=axes[1],
                    title=f"{detector}: {len(found['boxes'])} boxes")
    mark_varying(axes[1])                  # box counts: the model's call
    fig.tight_layout()
    plt.show()


widgets.interact(
    show_thresholds,
    scene=widgets.IntSlider(3, 0, len(test) - 1, description="test scene"),
    detector=widgets.Dropdown(options=["R-CNN", "Faster R-CNN"],
                              description="detector"),
    score=widgets.FloatSlider(0.5, min=0.05, max=0.95, step=0.05,
                              description="score ≥"),
    nms_iou=widgets.FloatSlider(0.3, min=0.1, max=1.0, step=0.1,
                                description="NMS IoU"));

# %% mystnb={"figure": {"caption": "Static version of the widget: one test scene, R-CNN (top) and Faster R-CNN (bottom), three settings (columns): every box scored \u2265 0.05 without NMS; boxes scored \u2265 0.5 after NMS at IoU 0.3; boxes scored \u2265 0.9 after NMS. Each panel's title gives its number of boxes.", "name": "fig-06-thresholds"}, "image": {"alt": "A grid of six panels of the same scene, two rows for R-CNN and Faster R-CNN and three columns for the settings: the left column crowded with overlapping boxes, the other two with few boxes or none."}}
settings = [(0.05, 1.0, "score ≥ 0.05, no NMS"), (0.5, 0.3, "score ≥ 0.5, NMS 0.3"),
            (0.9, 0.3, "score ≥ 0.9, NMS 0.3")]
scene = 5
fig, axes = plt.subplots(2, 3, figsize=(9, 6.2))
for col, (score, nms_iou, title) in enumerate(settings):
    for row, (name, found) in enumerate([
            ("R-CNN", rcnn_detect(test.images[scene], test_proposals[scene],
                                  score_threshold=score, nms_iou=nms_iou)),
            ("Faster R-CNN", faster_detect(test.images[scene], score_threshold=score,
                                           nms_iou=nms_iou))]):
        show_detections(test.images[scene], **found, ax=axes[row, col],
                        names=score > 0.1,
                        title=f"{name}, {title}: {len(found['boxes'])}")
mark_varying(fig)                    # how many boxes: the trained models' call
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The real thing: a COCO-trained Faster R-CNN on a photograph
#
# torchvision ships Faster R-CNN models trained on the 80 object categories of COCO
# {cite}`lin2014microsoft`. Their weights are not part of this course's offline installation; when
# the file is in torch's cache (`$TORCH_HOME/hub/checkpoints`) or you set `DEMYSTIFY_DOWNLOAD=1`,
# the next cells run the MobileNet-v3 Faster R-CNN on a photograph that ships with scikit-image
# (an astronaut portrait by NASA, in the public domain). Without the file they say so and move on.

# %%
from demystify import DataNotAvailable
from demystify.detection import coco_detector

COCO_MODEL = "fasterrcnn_mobilenet_v3_large_320_fpn"
try:
    coco, categories = coco_detector(COCO_MODEL)
except DataNotAvailable:
    coco = None
    print(f"COCO weights for {COCO_MODEL} not found (put the file in "
          f"$TORCH_HOME/hub/checkpoints or set DEMYSTIFY_DOWNLOAD=1): "
          f"skipping this section.")

# %% mystnb={"figure": {"caption": "A COCO-trained Faster R-CNN (MobileNet-v3 backbone) on scikit-image's astronaut photograph: detections with score \u2265 0.5.", "name": "fig-06-coco"}, "image": {"alt": "A photograph of an astronaut with boxes labelled with COCO categories such as person."}}
if coco is not None:
    from skimage import data as skimage_data
    photo = torch.from_numpy(skimage_data.astronaut()).permute(2, 0, 1).float() / 255
    with torch.no_grad():
        found = coco([photo])[0]
    keep = found["scores"] >= 0.5
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.imshow(photo.permute(1, 2, 0)); ax.axis("off")
    for (x1, y1, x2, y2), label, score in zip(found["boxes"][keep].tolist(),
                                                found["labels"][keep].tolist(),
                                                found["scores"][keep].tolist()):
        ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                   color="tab:orange", lw=2))
        ax.text(x1, y1 - 4, f"{categories[label]} {score:.2f}", color="black",
                fontsize=8,
                bbox={"facecolor": "tab:orange", "edgecolor": "none", "pad": 1})
    plt.show()

# %% [markdown]
# ## After Faster R-CNN
#
# Three lines of work grew from here; each is a short step from what this chapter built.
#
# - **One-stage detectors** drop the second stage: YOLO {cite}`redmon2016you` and SSD
#   {cite}`liu2016ssd` classify and regress the anchors (or grid cells) directly, like an RPN
#   that names the class too. YOLO traded accuracy for speed; SSD matched Faster R-CNN's
#   accuracy at several times its speed.
# - **Mask R-CNN** {cite}`he2017mask` adds a third output to Faster R-CNN's head — a small mask
#   per RoI — and replaces RoI pooling by RoIAlign, the bilinear `roi_align` used above.
# - **DETR** {cite}`carion2020end` removes proposals, anchors and NMS altogether: a transformer
#   predicts a fixed set of boxes, matched one-to-one to the ground truth during training.
#
# ## Checks
#
# The claims above are asserted where they are made (`claim` fails the notebook when one does not
# hold, and `make test` compares them with the stored record). `report()` lists them all.

# %%
report()

# %% [markdown]
# ## Exercises
#
# 1. **Sliding windows.** Replace `selective_search` by the sliding windows counted above. What
#    are the recall, the mAP and the time per image? Why did R-CNN prefer selective search?
# 2. **No suppression.** Compute the mAP with `nms_iou=1.0`. Why does it fall, although every
#    digit is still found?
# 3. **Hard negative mining.** Retrain R-CNN in two rounds: after the first half of the steps,
#    draw half of each batch's background from the hard negatives counted above. Choose the
#    share on the validation scenes. Does the test mAP move, on several seeds?
# 4. **Fast R-CNN.** Build the middle step yourself: run `conv_stack` once on the whole image,
#    crop the selective-search proposals from its feature map with
#    `roi_align(..., spatial_scale=0.25)`, and classify them with the same head. How does its
#    time per image compare with both detectors?
#
# ```{dropdown} Hints and solutions
# 1. `torch.tensor([[x, y, x + int(w * h), y + h] for h in sizes for w in (0.5, 0.75, 1.0)
#    for x in range(0, P.canvas + 1 - int(w * h), 2) for y in range(0, P.canvas + 1 - h, 2)],
#    dtype=torch.float32)` gives the windows. Recall at IoU `0.5` may rise (measure it), but
#    the CNN must now run on tens of thousands of regions per image: R-CNN's time grows
#    accordingly, and there are many more near-misses to reject. Selective search gave
#    the paper high recall with about 2,000 regions per image.
# 2. Every duplicate of a found digit counts as a false positive (each ground-truth box can be
#    matched once), so precision, and with it the area under the precision–recall curve, drops.
# 3. Recompute `digit_probability` with the half-trained network, keep the background rows
#    with probability ≥ `0.5` (or the top few thousand), and sample from them as `train_rcnn`
#    samples `background`. Compare at equal steps, on the validation scenes first.
# 4. Use `features = rcnn.trunk[0](image[None])` once, `roi_align(features, [proposals],
#    output_size=6, spatial_scale=0.25, sampling_ratio=2, aligned=True)`, then the rest of the head
#    (`rcnn.trunk[1:]`: pool to 3×3, flatten, hidden layer; then `rcnn.classify`, `rcnn.regress`),
#    trained like `train_rcnn` but on feature crops. It removes the per-region convolutions;
#    selective search remains, so it lands between the two.
# ```
#
# ## References
#
# R-CNN {cite}`girshick2014rich`, Fast R-CNN {cite}`girshick2015fast` and Faster R-CNN
# {cite}`ren2015faster`; selective search {cite}`uijlings2013selective` and the segmentation it
# starts from {cite}`felzenszwalb2004efficient`; the PASCAL VOC benchmark and its mAP
# {cite}`everingham2010pascal`; COCO {cite}`lin2014microsoft`; YOLO {cite}`redmon2016you`, SSD
# {cite}`liu2016ssd`, Mask R-CNN {cite}`he2017mask` and DETR {cite}`carion2020end`. The digits
# are MNIST's {cite}`lecun1998gradient`; the photographs ship with scikit-image. Full entries are
# in the [bibliography](../book/bibliography.md).
