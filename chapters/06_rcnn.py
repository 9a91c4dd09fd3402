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
# average precision. Then it trains the successor, Faster R-CNN {cite}`ren2015faster`, on the same
# images and times both: the story of R-CNN is a story of speed, from 13 seconds an image to five
# images a second.
#
# **Learning goals**
# - Name R-CNN's stages and run each one: region proposals, warping, a CNN with a background
#   class, bounding-box regression, non-maximum suppression.
# - Turn ground-truth boxes into training labels with intersection-over-union (IoU).
# - Evaluate a detector with mean average precision at IoU 0.5 (mAP@0.5).
# - Explain, and measure, why Fast and Faster R-CNN are so much faster: one shared CNN pass,
#   RoI pooling, and a region proposal network.
#
# **Run time:** about 1½ minutes on a 2-core laptop (CPU profile). On a GPU the GPU profile trains
# on more than three times as many scenes for longer.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "Other commonly used DNNs" | Detection is the first of them: the CNN of chapters 1–3 becomes a part of a larger system. |
# | "Region Based CNN (RCNN)" | We build R-CNN stage by stage on scenes of real handwritten digits, then train torchvision's Faster R-CNN on the same scenes. |
# | (the speed behind the name: R-CNN → Fast → Faster) | We time both detectors per image on this machine and set the numbers beside the papers'. |

# %% tags=["hide-input"]
# Bootstrap: makes this notebook work alone in Colab or on an Azure VM.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:   # Colab / Azure: fetch the course helpers
    source = os.environ.get("DEMYSTIFY_SOURCE", "git+https://github.com/demystify-dl/demystifying-deep-learning")
    # %pip install -q "demystify @ {source}"
if importlib.util.find_spec("skimage") is None or importlib.util.find_spec("torchmetrics") is None \
        or importlib.util.find_spec("pycocotools") is None:
    # %pip install -q scikit-image torchmetrics pycocotools

# %% [markdown]
# The setup cell seeds every random number generator, picks the device (a GPU when there is one)
# and loads this chapter's **profile**: the sizes it runs with on a CPU or on a GPU.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm
from torchvision.ops import batched_nms, box_iou, roi_align

from demystify import autocast, start
from demystify.scenes import make_scenes, show_detections

device, P = start("06_rcnn")

# %% [markdown]
# ## Scenes of real digits
#
# No detection dataset ships with the packages this course installs, so we compose one from real
# handwriting: `demystify.scenes.make_scenes` places one to four of scikit-learn's handwritten
# digits at random sizes (12–28 pixels) and positions on a 64×64 canvas, adds a few faint strokes
# and some noise as clutter, and records a tight box around each digit. Boxes follow torchvision's
# conventions: `(x1, y1, x2, y2)` in pixels, and labels from 1 (label = digit + 1), because label 0
# is reserved for **background**. The test scenes are made from the digits' test split, so the
# detectors are scored on handwriting they never saw.

# %%
# NBVAL_CHECK_OUTPUT
train = make_scenes(P.train_scenes, split="train", canvas=P.canvas, seed=0)
test = make_scenes(P.test_scenes, split="test", canvas=P.canvas, seed=1)
print("train:", train)
print("test: ", test)
print("first test scene: digits", test.digits(0), "boxes", test.boxes[0].int().tolist())

# %% mystnb={"figure": {"caption": "Six test scenes with their ground-truth boxes and digits. Faint strokes and noise are clutter that a detector must learn to call background.", "name": "fig-06-scenes"}, "image": {"alt": "Six dark square images, each with one to four handwritten digits of different sizes, each digit framed by an orange box labelled with the digit."}}
fig, axes = plt.subplots(1, 6, figsize=(12, 2.3))
for i, ax in enumerate(axes):
    show_detections(test.images[i], test.boxes[i], test.labels[i], ax=ax)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Step 1 — region proposals
#
# A classifier answers "what is in this window?". To detect, R-CNN asks that question of a couple
# of thousand windows per image that are *likely* to hold an object: the **region proposals**.
# The simplest proposals are sliding windows — every position, at every size and shape — but that
# is many windows, almost all of them empty. Let us count them for our small canvas:

# %%
# NBVAL_CHECK_OUTPUT
sizes = range(10, 33, 2)             # window heights 10 … 32 px, three widths each, stride 2 px
n_windows = sum(len(range(0, P.canvas - h + 1, 2)) * len(range(0, P.canvas - int(w * h) + 1, 2))
                for h in sizes for w in (0.5, 0.75, 1.0))
print(f"sliding windows on a {P.canvas}×{P.canvas} canvas: {n_windows:,}")

# %% [markdown]
# R-CNN used **selective search** {cite}`uijlings2013selective` instead: cut the image into small
# regions of similar pixels {cite}`felzenszwalb2004efficient`, then greedily merge the two most
# similar neighbouring regions, again and again, until one region is left. Every region that exists
# along the way proposes its bounding box. Objects are made of similar, touching pixels, so
# some region along the way is usually one whole object. Two rules decide what "similar" means:
#
# - **size**: merge small regions first, so that every scale gets its chance;
# - **fill**: prefer two regions that fill their joint box well (they belong together);
# - **intensity**: prefer regions of similar brightness (the paper uses colour and texture).

# %%
from skimage.segmentation import felzenszwalb


def similarity(a: list, b: list, image_area: int) -> float:
    """Selective search's similarity of two regions [x1, y1, x2, y2, size, mean intensity]."""
    box_area = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    size = 1 - (a[4] + b[4]) / image_area
    fill = 1 - (box_area - a[4] - b[4]) / image_area
    intensity = 1 - abs(a[5] - b[5])
    return size + fill + intensity


def merge(a: list, b: list) -> list:
    """The region made of a and b: the joint box, the summed size, the size-weighted mean."""
    size = a[4] + b[4]
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]), size,
            (a[5] * a[4] + b[5] * b[4]) / size]


# %%
def selective_search(image: np.ndarray, scales=(50, 200)) -> torch.Tensor:
    """Region proposals (N, 4) xyxy: Felzenszwalb segments, merged greedily by similarity."""
    boxes = []
    for scale in scales:               # two segmentations, coarse and fine, diversify proposals
        segments = felzenszwalb(image, scale=scale, sigma=0.5, min_size=8)
        regions = {}
        for label in np.unique(segments):
            rows, cols = np.nonzero(segments == label)
            regions[label] = [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1,
                              len(rows), image[rows, cols].mean()]
        neighbours = {tuple(sorted(pair)) for a, b in ((segments[:, :-1], segments[:, 1:]),
                                                      (segments[:-1], segments[1:]))
                      for pair in zip(a[a != b].tolist(), b[a != b].tolist())}
        boxes += [region[:4] for region in regions.values()]
        new = max(regions) + 1
        while neighbours:              # merge the most similar neighbours until one region is left
            a, b = max(neighbours, key=lambda p: similarity(regions[p[0]], regions[p[1]], image.size))
            regions[new] = merge(regions.pop(a), regions.pop(b))
            boxes.append(regions[new][:4])
            neighbours = {tuple(sorted(new if r in (a, b) else r for r in pair)) for pair in neighbours}
            neighbours = {pair for pair in neighbours if pair[0] != pair[1]}
            new += 1
    boxes = torch.tensor(boxes, dtype=torch.float32)
    boxes = boxes[(boxes[:, 2] - boxes[:, 0] >= 4) & (boxes[:, 3] - boxes[:, 1] >= 4)]
    return torch.unique(boxes, dim=0)


# %% [markdown]
# We propose regions for every training and test scene once, and measure the **recall** of the
# proposals: the share of real digits that some proposal covers with IoU ≥ 0.5. IoU, the
# *intersection over union* of two boxes, is how detection measures overlap: 1 for identical boxes,
# 0 for disjoint ones (`torchvision.ops.box_iou` computes it for all pairs at once).

# %%
train_proposals = [selective_search(image[0].numpy()) for image in tqdm(train.images, desc="train proposals")]
test_proposals = [selective_search(image[0].numpy()) for image in tqdm(test.images, desc="test proposals")]
best_iou = torch.cat([box_iou(test.boxes[i], test_proposals[i]).max(dim=1).values
                      for i in range(len(test))])
recall = (best_iou >= 0.5).float().mean().item()
print(f"{np.mean([len(p) for p in test_proposals]):.0f} proposals per image on average, "
      f"{n_windows / np.mean([len(p) for p in test_proposals]):.0f}× fewer than sliding windows")
print(f"recall at IoU 0.5: {recall:.1%}; at IoU 0.7: {(best_iou >= 0.7).float().mean():.1%}")

# %% mystnb={"figure": {"caption": "Selective search on one test scene. Left: the fine Felzenszwalb segmentation it starts from. Middle: every proposal. Right: for each digit, the proposal that overlaps it best, with its IoU.", "name": "fig-06-proposals"}, "image": {"alt": "Three panels of the same scene: a colourful segmentation into small regions, the scene covered by many thin boxes of all sizes, and the scene with one box per digit labelled with its IoU."}}
i = 0
image, proposals = test.images[i], test_proposals[i]
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
axes[0].imshow(felzenszwalb(image[0].numpy(), scale=50, sigma=0.5, min_size=8), cmap="tab20")
axes[0].set_title("segments", fontsize=9); axes[0].axis("off")
show_detections(image, proposals, ax=axes[1], names=False, linewidth=0.5,
                title=f"{len(proposals)} proposals")
ious = box_iou(test.boxes[i], proposals)
best = proposals[ious.argmax(dim=1)]
show_detections(image, best, torch.ones(len(best), dtype=torch.long), ious.max(dim=1).values,
                ax=axes[2], color="tab:green", title="best proposal per digit (IoU)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Step 2 — warp every region to the CNN's input size
#
# A CNN wants a fixed input size; proposals come in every size and shape. R-CNN simply **warps**
# each proposal, ignoring its aspect ratio, to the CNN's input, after growing it a little so the CNN
# also sees some context (16 pixels at 227: we add 8 % of the box on each side).
# `torchvision.ops.roi_align` crops and resizes many boxes in one call with bilinear sampling: it
# is the same operation that Fast R-CNN later applies to feature maps instead of pixels.

# %%
def warp(image: torch.Tensor, boxes: torch.Tensor, size: int = P.crop, context: float = 0.08) -> torch.Tensor:
    """Each box of one image (1, H, W), grown by `context` per side, resampled to size×size."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * (0.5 + context)
    grown = torch.cat([centre - half, centre + half], dim=1)
    return roi_align(image[None], [grown], output_size=size, sampling_ratio=2, aligned=True)


# %% [markdown]
# ## Step 3 — labels for every region: what it is, and how to fix its box
#
# To train, every proposal needs a target. As in the paper, a proposal whose IoU with a digit is at
# least 0.5 is labelled with that digit; every other proposal is **background**. Proposals that
# overlap a digit well (IoU ≥ 0.6) also learn to **regress** the digit's box: four numbers that
# move the proposal's centre (in units of its size) and scale its width and height (in log
# space), so the same correction fits small and large boxes. As in Fast R-CNN the four numbers
# are scaled by (10, 10, 5, 5) so that both losses have a similar size.

# %%
WEIGHTS = torch.tensor([10.0, 10.0, 5.0, 5.0])


def encode(gt: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """R-CNN's regression targets: how to move and scale each box onto its ground truth."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    dx = (gt[:, 0] + gw / 2 - boxes[:, 0] - w / 2) / w
    dy = (gt[:, 1] + gh / 2 - boxes[:, 1] - h / 2) / h
    return torch.stack([dx, dy, torch.log(gw / w), torch.log(gh / h)], dim=1) * WEIGHTS.to(boxes.device)


def decode(deltas: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """The inverse of encode: apply predicted corrections to the boxes."""
    dx, dy, dw, dh = (deltas / WEIGHTS.to(deltas.device)).unbind(dim=1)
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cx, cy = boxes[:, 0] + w / 2 + dx * w, boxes[:, 1] + h / 2 + dy * h
    w, h = w * torch.exp(dw.clamp(max=4)), h * torch.exp(dh.clamp(max=4))
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=1)


def label_proposals(proposals, gt_boxes, gt_labels):
    """Class (0 = background), regression target and whether to regress, for each proposal."""
    best_iou, best = box_iou(proposals, gt_boxes).max(dim=1)
    labels = torch.where(best_iou >= 0.5, gt_labels[best], 0)
    return labels, encode(gt_boxes[best], proposals), best_iou >= 0.6


# %% [markdown]
# Now the training set of the region classifier: every proposal of every training scene, plus the
# ground-truth boxes themselves (R-CNN adds them as extra positives), warped and labelled.

# %%
crops, labels, targets, regress = [], [], [], []
for i in range(len(train)):
    boxes = torch.cat([train_proposals[i], train.boxes[i]])
    y, t, m = label_proposals(boxes, train.boxes[i], train.labels[i])
    crops.append(warp(train.images[i], boxes)); labels.append(y); targets.append(t); regress.append(m)
crops, labels = torch.cat(crops).to(device), torch.cat(labels).to(device)
targets, regress = torch.cat(targets).to(device), torch.cat(regress).to(device)

# %%
# NBVAL_CHECK_OUTPUT
print(f"{len(crops):,} warped regions of {tuple(crops.shape[1:])}: "
      f"{(labels > 0).sum().item():,} digits, {(labels == 0).sum().item():,} background, "
      f"{regress.sum().item():,} with a box to regress")

# %% mystnb={"figure": {"caption": "What the region classifier sees: warped proposals of the training scenes with their labels. Proposals that overlap a digit less than IoU 0.5 are background ('bg'), even when they show part of a digit.", "name": "fig-06-crops"}, "image": {"alt": "A grid of 24 small square crops: some show a whole digit, labelled with it, others show parts of digits, empty space or faint strokes, labelled bg."}}
generator = torch.Generator().manual_seed(1)
digit_rows, background_rows = torch.nonzero(labels > 0)[:, 0].cpu(), torch.nonzero(labels == 0)[:, 0].cpu()
pick = torch.cat([digit_rows[torch.randperm(len(digit_rows), generator=generator)[:12]],
                  background_rows[torch.randperm(len(background_rows), generator=generator)[:12]]])
fig, axes = plt.subplots(2, 12, figsize=(12, 2.4))
for ax, index in zip(axes.flat, pick.tolist()):
    ax.imshow(crops[index, 0].cpu(), cmap="gray", vmin=0, vmax=1)   # the same grey scale for all
    ax.set_title(str(int(labels[index]) - 1) if labels[index] > 0 else "bg", fontsize=8)
    ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Step 4 — the CNN: a classifier with a background class, and a box regressor
#
# The paper fine-tuned an ImageNet AlexNet on 227×227 warps; our 24×24 digits need far less.
# The convolutional layers (`conv_stack`, three layers with 16, 32 and 64 filters) will be reused
# unchanged as the backbone of Faster R-CNN below, so the comparison is fair. On top of them,
# one hidden layer feeds two outputs: scores for 11 classes (10 digits + background) and the four
# box corrections. (The paper trained separate SVMs on the CNN's features and one regressor per
# class; Fast R-CNN showed that a softmax and one network do as well.)

# %%
def conv_stack() -> nn.Sequential:
    """Three 3×3 convolutions with 16, 32 and 64 filters; the first two halve the resolution."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU())


class RegionCNN(nn.Module):
    """R-CNN's network for one warped region: class scores (0 = background) and box corrections."""
    def __init__(self, n_classes: int = 11):
        super().__init__()
        self.features = nn.Sequential(conv_stack(), nn.AdaptiveMaxPool2d(3), nn.Flatten())
        self.hidden = nn.Sequential(nn.Linear(64 * 3 * 3, 128), nn.ReLU())
        self.classify = nn.Linear(128, n_classes)
        self.regress = nn.Linear(128, 4)

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.hidden(self.features(crops))
        return self.classify(h), self.regress(h)


# %% [markdown]
# Most regions are background, so each minibatch of 128 regions is drawn as the paper did: 32
# digits and 96 background regions. The loss adds the classification loss of all regions to the
# (smooth L1) box loss of the regions that have a box to regress.

# %%
def train_rcnn(model: nn.Module, steps: int, batch: int = 128, lr: float = 1e-3, seed: int = 0) -> list[float]:
    """Train on random 1:3 mixes of digit and background regions; return the loss per step."""
    generator = torch.Generator().manual_seed(seed)
    digits, background = torch.nonzero(labels > 0)[:, 0].cpu(), torch.nonzero(labels == 0)[:, 0].cpu()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.to(device).train()
    losses = []
    for _ in tqdm(range(steps), desc="R-CNN"):
        pick = torch.cat([digits[torch.randint(len(digits), (batch // 4,), generator=generator)],
                          background[torch.randint(len(background), (batch - batch // 4,), generator=generator)]])
        pick = pick.to(device)
        with autocast(device):
            scores, deltas = model(crops[pick])
        m = regress[pick]
        loss = F.cross_entropy(scores.float(), labels[pick]) + \
            F.smooth_l1_loss(deltas.float()[m], targets[pick][m], beta=1 / 9)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


torch.manual_seed(0)
rcnn = RegionCNN()
rcnn_losses = train_rcnn(rcnn, P.rcnn_steps, P.rcnn_batch)

# %% mystnb={"figure": {"caption": "R-CNN's training loss (classification + box regression), averaged over 25 steps.", "name": "fig-06-rcnn-loss"}, "image": {"alt": "A falling curve of loss against training step."}}
fig, ax = plt.subplots(figsize=(5, 2.6))
smooth = np.convolve(rcnn_losses, np.ones(25) / 25, mode="valid")
ax.plot(range(25, len(rcnn_losses) + 1), smooth)
ax.set_xlabel("step"); ax.set_ylabel("loss"); ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Step 5 — detect: score, correct, suppress
#
# At test time R-CNN scores every proposal, applies its box correction, drops low scores, and
# then runs **non-maximum suppression** (NMS) for each class: keep the highest-scoring box, delete
# every box of the same class that overlaps it by more than a threshold, repeat. Without NMS every
# digit would be found ten times over. `torchvision.ops.batched_nms` does it per class in one call.

# %%
@torch.no_grad()
def rcnn_detect(image: torch.Tensor, proposals: torch.Tensor | None = None, score_threshold: float = 0.05,
                nms_iou: float = 0.3, refine: bool = True) -> dict[str, torch.Tensor]:
    """R-CNN on one image (1, H, W): proposals → warp → CNN → box regression → NMS."""
    if proposals is None:
        proposals = selective_search(image[0].numpy())
    rcnn.eval()
    proposals = proposals.to(device)
    with autocast(device):
        scores, deltas = rcnn(warp(image.to(device), proposals))
    probabilities = scores.float().softmax(dim=1)[:, 1:]       # drop the background column
    score, label = probabilities.max(dim=1)
    boxes = decode(deltas.float(), proposals).clamp(0, image.shape[-1]) if refine else proposals
    keep = score >= score_threshold
    boxes, score, label = boxes[keep], score[keep], label[keep] + 1
    keep = batched_nms(boxes, score, label, nms_iou)
    return {"boxes": boxes[keep].cpu(), "scores": score[keep].cpu(), "labels": label[keep].cpu()}


# %% mystnb={"figure": {"caption": "R-CNN's stages on one test scene: all proposals; the proposals the CNN scores as a digit with probability \u2265 0.5, after box regression; what is left after non-maximum suppression.", "name": "fig-06-stages"}, "image": {"alt": "Three panels of the same scene: many thin boxes; several overlapping orange boxes around each digit; exactly one labelled box per digit."}}
i = 0
before = rcnn_detect(test.images[i], test_proposals[i], score_threshold=0.5, nms_iou=1.0)
after = rcnn_detect(test.images[i], test_proposals[i], score_threshold=0.5)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
show_detections(test.images[i], test_proposals[i], ax=axes[0], names=False, linewidth=0.5,
                title=f"{len(test_proposals[i])} proposals")
show_detections(test.images[i], before["boxes"], before["labels"], ax=axes[1], names=False,
                title=f"{len(before['boxes'])} boxes scored ≥ 0.5")
show_detections(test.images[i], **after, ax=axes[2], title=f"{len(after['boxes'])} after NMS")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## How good is it? Mean average precision
#
# Detection papers report **mean average precision** (mAP). For one class, sort all detections on
# all test images by score; walk down the list, counting a detection as correct when it overlaps a
# not-yet-found ground-truth box of its class with IoU ≥ 0.5; the area under the resulting
# precision–recall curve is that class's *average precision*; mAP is the mean over classes. It
# rewards finding every object (recall) and not inventing any (precision), at every score
# threshold at once. We use torchmetrics' implementation, which calls the COCO evaluation code
# (`pycocotools`), with the PASCAL VOC IoU threshold 0.5 {cite}`everingham2010pascal`.
#
# We also switch the box regression off, to see what it adds. At IoU 0.5 a roughly placed box
# already counts, so we report the stricter mAP at IoU 0.75 too, where a box must fit tightly.

# %%
from torchmetrics.detection import MeanAveragePrecision


def average_precision(predictions: list[dict], scenes) -> dict[str, float]:
    """Mean average precision of a detector's predictions at IoU 0.5 (the main number) and 0.75."""
    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox")
    metric.update(predictions, scenes.targets())
    result = metric.compute()
    return {"mAP@0.5": result["map_50"].item(), "mAP@0.75": result["map_75"].item()}


rcnn_scores = average_precision([rcnn_detect(test.images[i], test_proposals[i]) for i in range(len(test))], test)
unrefined = average_precision([rcnn_detect(test.images[i], test_proposals[i], refine=False)
                               for i in range(len(test))], test)
rcnn_map = rcnn_scores["mAP@0.5"]
print(f"R-CNN on {len(test)} held-out scenes: mAP@0.5 {rcnn_map:.3f}, mAP@0.75 {rcnn_scores['mAP@0.75']:.3f}")
print(f"without box regression:          mAP@0.5 {unrefined['mAP@0.5']:.3f}, mAP@0.75 {unrefined['mAP@0.75']:.3f}")

# %% [markdown]
# On PASCAL VOC 2007 — 20 kinds of real objects in real photographs — R-CNN reached 58.5 % mAP,
# against 33–35 % for the best methods before it. Our digits on a dark canvas are far easier, so
# the numbers are not comparable; what carries over is the method, and the effect of each stage.
#
# ## Fast R-CNN and Faster R-CNN
#
# R-CNN is slow because it runs the CNN once **per proposal** — 2,000 times per image in the paper,
# 13 seconds per image on a GPU. Two follow-ups removed the waste:
#
# - **Fast R-CNN** {cite}`girshick2015fast` runs the convolutional layers **once per image** and
#   crops each proposal from the resulting *feature map* (RoI pooling — `roi_align` again, now on
#   features), then classifies and regresses all proposals in one batch: 213× faster at test time.
# - **Faster R-CNN** {cite}`ren2015faster` also replaces selective search, which by then took most
#   of the time, by a small **region proposal network** (RPN) on the same feature map: at every
#   position it scores a few *anchor* boxes of fixed sizes and shapes as object or not, and
#   regresses them, so proposals cost almost nothing.
#
# torchvision implements Faster R-CNN; we give it exactly the convolutional layers of our R-CNN as
# its backbone (`weights=None`: no pretrained weights), anchors that fit digits (12–28 px, square or
# 1.5× taller than wide), and the image size of our scenes.

# %%
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops import MultiScaleRoIAlign

torch.manual_seed(0)
backbone = conv_stack()
backbone.out_channels = 64                          # FasterRCNN reads the feature depth from here
faster = FasterRCNN(
    backbone, min_size=P.canvas, max_size=P.canvas, image_mean=[0.0], image_std=[1.0],
    rpn_anchor_generator=AnchorGenerator(sizes=((12, 20, 28),), aspect_ratios=((1.0, 1.5),)),
    rpn_pre_nms_top_n_train=300, rpn_post_nms_top_n_train=100,
    rpn_pre_nms_top_n_test=300, rpn_post_nms_top_n_test=50, rpn_batch_size_per_image=64,
    box_roi_pool=MultiScaleRoIAlign(["0"], output_size=7, sampling_ratio=1),
    box_head=TwoMLPHead(64 * 7 * 7, 128), box_predictor=FastRCNNPredictor(128, 11),
    box_batch_size_per_image=32, box_score_thresh=0.05, box_nms_thresh=0.3, box_detections_per_img=20,
).to(device)

# %%
# NBVAL_CHECK_OUTPUT
def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


print(f"R-CNN region network: {count(rcnn):,} parameters")
print(f"Faster R-CNN: {count(faster):,} parameters — backbone {count(faster.backbone):,}, "
      f"RPN {count(faster.rpn):,}, RoI heads {count(faster.roi_heads):,}")

# %% [markdown]
# In training mode torchvision's detectors take images and targets and return their four losses:
# the RPN's objectness and box losses, and the detection head's classification and box losses.

# %%
def train_faster(model: nn.Module, scenes, epochs: int, batch_size: int, lr: float = 2e-3,
                 seed: int = 0) -> list[float]:
    """Train a torchvision detector on scenes; return the mean total loss per epoch."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in (bar := tqdm(range(epochs), desc="Faster R-CNN")):
        model.train()
        total = 0.0
        for batch in torch.randperm(len(scenes), generator=generator).split(batch_size):
            images = [scenes.images[i].to(device) for i in batch]
            targets = [{k: v.to(device) for k, v in scenes.target(i).items()} for i in batch]
            with autocast(device):
                loss = sum(model(images, targets).values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        history.append(total / len(scenes))
        bar.set_postfix(loss=f"{history[-1]:.3f}")
    return history


faster_losses = train_faster(faster, train, P.faster_epochs, P.faster_batch)

# %%
@torch.no_grad()
def faster_detect(image: torch.Tensor, score_threshold: float = 0.05, nms_iou: float = 0.3) -> dict[str, torch.Tensor]:
    """Faster R-CNN on one image (1, H, W), with the same thresholds as rcnn_detect."""
    faster.eval()
    faster.roi_heads.score_thresh, faster.roi_heads.nms_thresh = score_threshold, nms_iou
    with autocast(device):
        output = faster([image.to(device)])[0]
    return {key: value.float().cpu() if key != "labels" else value.cpu() for key, value in output.items()}


faster_scores = average_precision([faster_detect(image) for image in test.images], test)
faster_map = faster_scores["mAP@0.5"]
print(f"Faster R-CNN on {len(test)} held-out scenes: mAP@0.5 {faster_map:.3f}, "
      f"mAP@0.75 {faster_scores['mAP@0.75']:.3f} (loss {faster_losses[0]:.2f} → {faster_losses[-1]:.2f} "
      f"over {len(faster_losses)} epochs)")

# %% [markdown]
# ## The speed story, measured here
#
# Now the point of the whole line of work: time per image, from pixels to final boxes, for both
# detectors on this machine — one image at a time, as the papers measured, alternating the two
# detectors on the same test images and taking the median to damp noise from other programs.

# %%
def synchronize():
    if device.type == "cuda":
        torch.cuda.synchronize()


def seconds(detect, image) -> float:
    synchronize()
    started = time.perf_counter()
    detect(image)
    synchronize()
    return time.perf_counter() - started


rcnn_detect(test.images[0]); faster_detect(test.images[0])          # warm up
times = {"R-CNN": [], "Faster R-CNN": [], "selective search": []}
for image in test.images[:P.timed_images]:
    times["R-CNN"].append(seconds(rcnn_detect, image))           # includes selective search
    times["Faster R-CNN"].append(seconds(faster_detect, image))
    times["selective search"].append(seconds(lambda im: selective_search(im[0].numpy()), image))
rcnn_time, faster_time, search_time = (float(np.median(t)) for t in times.values())
print(f"median over {P.timed_images} images: R-CNN {rcnn_time * 1000:.1f} ms per image (selective search "
      f"{search_time * 1000:.1f} ms of it), Faster R-CNN {faster_time * 1000:.1f} ms ({rcnn_time / faster_time:.1f}× faster)")

# %%
pd.DataFrame([
    ["R-CNN (AlexNet), paper", "PASCAL VOC 2007", "58.5 %", "13 s (GPU), all included"],
    ["Fast R-CNN (VGG16), paper", "PASCAL VOC 2007", "66.9 %", "0.32 s (GPU) + ~2 s proposals"],
    ["Faster R-CNN (VGG16), paper", "PASCAL VOC 2007", "69.9 %", "0.198 s (GPU), all included"],
    ["our R-CNN", f"{len(test)} digit scenes", f"{rcnn_map:.1%}", f"{rcnn_time * 1000:.0f} ms ({device.type})"],
    ["our Faster R-CNN", f"{len(test)} digit scenes", f"{faster_map:.1%}", f"{faster_time * 1000:.0f} ms ({device.type})"],
], columns=["detector", "test set", "mAP@0.5", "time per image"]).set_index("detector")

# %% [markdown]
# What to notice:
#
# - Our R-CNN runs the CNN on only about 70 regions of 24×24 pixels, not 2,000 of 227×227, so it
#   is fast in absolute terms; yet Faster R-CNN is still several times faster, for the same two
#   reasons as in the papers: it runs the convolutions once, and it needs no selective search.
# - Accuracy did not suffer: with proposals *learned* rather than hand-designed, Faster R-CNN comes
#   close to our R-CNN (the checks below require it to be within 0.1 mAP). In the papers it did
#   better (58.5 → 66.9 → 69.9 %), with far deeper networks and days of training; ours trained for
#   a minute, and its loss was still falling.
# - Selective search, plain Python here, takes a large share of R-CNN's time (measured above); in
#   the papers it took about 2 seconds per image on a CPU, which is why Fast R-CNN's 0.32 s was
#   not the end of the story.
#
# ## Try it: thresholds
#
# Two numbers turn a detector's raw scores into an answer: the **score threshold** (how sure it must
# be) and the **NMS IoU** (how much two boxes of the same digit may overlap before the weaker one is
# deleted). Raise the NMS IoU to 1 to switch suppression off and watch duplicates appear; lower the
# score threshold and watch faint strokes become "digits". With a running kernel the controls are
# live; on the website the figure after them shows the same scene at three settings.

# %%
import ipywidgets as widgets


def show_thresholds(scene: int = 3, detector: str = "R-CNN", score: float = 0.5, nms_iou: float = 0.3) -> None:
    image = test.images[scene]
    if detector == "R-CNN":
        found = rcnn_detect(image, test_proposals[scene], score_threshold=score, nms_iou=nms_iou)
    else:
        found = faster_detect(image, score_threshold=score, nms_iou=nms_iou)
    fig, axes = plt.subplots(1, 2, figsize=(6, 3.1))
    show_detections(image, test.boxes[scene], test.labels[scene], ax=axes[0], color="tab:green",
                    title="ground truth")
    show_detections(image, **found, ax=axes[1], title=f"{detector}: {len(found['boxes'])} boxes")
    fig.tight_layout()
    plt.show()


widgets.interact(show_thresholds,
                 scene=widgets.IntSlider(3, 0, len(test) - 1, description="test scene"),
                 detector=widgets.Dropdown(options=["R-CNN", "Faster R-CNN"], description="detector"),
                 score=widgets.FloatSlider(0.5, min=0.05, max=0.95, step=0.05, description="score ≥"),
                 nms_iou=widgets.FloatSlider(0.3, min=0.1, max=1.0, step=0.1, description="NMS IoU"));

# %% mystnb={"figure": {"caption": "Static version of the widget: one test scene, both detectors, three settings. Without NMS (IoU 1.0) and with a low score threshold every digit is found many times and clutter appears; the default keeps about one box per digit; a high score threshold starts to miss digits the detector is unsure of.", "name": "fig-06-thresholds"}, "image": {"alt": "A grid of six panels of the same scene, two rows for R-CNN and Faster R-CNN and three columns for the settings: crowded overlapping boxes, one box per digit, and fewer boxes."}}
settings = [(0.05, 1.0, "score ≥ 0.05, no NMS"), (0.5, 0.3, "score ≥ 0.5, NMS 0.3"), (0.9, 0.3, "score ≥ 0.9, NMS 0.3")]
scene = 5
fig, axes = plt.subplots(2, 3, figsize=(9, 6.2))
for col, (score, nms_iou, title) in enumerate(settings):
    for row, (name, found) in enumerate([
            ("R-CNN", rcnn_detect(test.images[scene], test_proposals[scene], score_threshold=score, nms_iou=nms_iou)),
            ("Faster R-CNN", faster_detect(test.images[scene], score_threshold=score, nms_iou=nms_iou))]):
        show_detections(test.images[scene], **found, ax=axes[row, col], names=score > 0.1,
                        title=f"{name}, {title}: {len(found['boxes'])}")
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
    print(f"COCO weights for {COCO_MODEL} not found (put the file in $TORCH_HOME/hub/checkpoints "
          f"or set DEMYSTIFY_DOWNLOAD=1): skipping this section.")

# %% mystnb={"figure": {"caption": "A COCO-trained Faster R-CNN (MobileNet-v3 backbone) on scikit-image's astronaut photograph: detections with score \u2265 0.5.", "name": "fig-06-coco"}, "image": {"alt": "A photograph of an astronaut with boxes labelled with COCO categories such as person."}}
if coco is not None:
    from skimage import data as skimage_data
    photo = torch.from_numpy(skimage_data.astronaut()).permute(2, 0, 1).float() / 255
    with torch.no_grad():
        found = coco([photo])[0]
    keep = found["scores"] >= 0.5
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.imshow(photo.permute(1, 2, 0)); ax.axis("off")
    for (x1, y1, x2, y2), label, score in zip(found["boxes"][keep].tolist(), found["labels"][keep].tolist(),
                                                found["scores"][keep].tolist()):
        ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color="tab:orange", lw=2))
        ax.text(x1, y1 - 4, f"{categories[label]} {score:.2f}", color="black", fontsize=8,
                bbox={"facecolor": "tab:orange", "edgecolor": "none", "pad": 1})
    plt.show()

# %% [markdown]
# ## Checks
#
# The claims this chapter makes, asserted on the numbers it just measured. If a change to the code
# breaks one of them, the notebook fails in CI.

# %%
assert recall >= 0.95, f"selective search should cover ≥ 95 % of the digits at IoU 0.5, got {recall:.3f}"
assert rcnn_map >= 0.6, f"R-CNN should reach mAP@0.5 ≥ 0.6 on held-out scenes, got {rcnn_map:.3f}"
assert rcnn_scores["mAP@0.75"] > unrefined["mAP@0.75"], "box regression should make R-CNN's boxes fit tighter"
assert faster_map >= rcnn_map - 0.1, \
    f"Faster R-CNN's mAP should be within 0.1 of R-CNN's, got {faster_map:.3f} vs {rcnn_map:.3f}"
assert faster_time < rcnn_time, \
    f"Faster R-CNN should take less time per image than R-CNN ({faster_time:.4f} vs {rcnn_time:.4f} s)"
print(f"proposal recall {recall:.3f}; mAP@0.5: R-CNN {rcnn_map:.3f}, Faster R-CNN {faster_map:.3f}; mAP@0.75 "
      f"R-CNN {rcnn_scores['mAP@0.75']:.3f} (without box regression {unrefined['mAP@0.75']:.3f}); "
      f"Faster R-CNN {rcnn_time / faster_time:.1f}× faster per image")

# %% [markdown]
# ## Exercises
#
# 1. **Sliding windows.** Replace `selective_search` by the sliding windows counted above. What are
#    the recall, the mAP and the time per image? Why did R-CNN prefer selective search?
# 2. **No suppression.** Compute the mAP with `nms_iou=1.0`. Why does it fall, although every digit
#    is still found?
# 3. **Anchors that do not fit.** Give Faster R-CNN a single anchor size of 48 pixels and retrain.
#    What happens to the RPN's losses and to the mAP, and why?
# 4. **Fast R-CNN.** Build the middle step yourself: run `conv_stack` once on the whole image,
#    crop the selective-search proposals from its feature map with `roi_align(..., spatial_scale=0.25)`,
#    and classify them with the same head. How does its time per image compare with both detectors?
#
# ```{dropdown} Hints and solutions
# 1. `torch.tensor([[x, y, x + int(w * h), y + h] for h in sizes for w in (0.5, 0.75, 1.0) for x in
#    range(0, 65 - int(w * h), 2) for y in range(0, 65 - h, 2)], dtype=torch.float32)` gives the
#    windows. Recall at IoU 0.5 is high, but the CNN must now run on tens of thousands of regions
#    per image: R-CNN's time grows accordingly, and with many more near-misses to reject the
#    background class gets harder. Selective search gave the paper high recall with ~2,000
#    regions instead of ~100,000.
# 2. Every duplicate of a found digit counts as a false positive (each ground-truth box can be
#    matched once), so precision, and with it the area under the precision–recall curve, drops.
# 3. Anchors that never reach IoU 0.7 with a digit give the RPN (almost) no positive examples; the
#    RPN learns little, few proposals cover digits, and mAP collapses. Anchor design encodes the
#    object sizes you expect.
# 4. Use `features = conv_stack()(image[None])` once, `roi_align(features, [proposals],
#    output_size=3, spatial_scale=0.25, sampling_ratio=2, aligned=True)`, then a head like
#    `RegionCNN.hidden`/`classify`/`regress`, trained like `train_rcnn` but on feature crops. It
#    removes the per-region convolutions; selective search remains, so it lands between the two.
# ```
#
# ## References
#
# R-CNN {cite}`girshick2014rich`, Fast R-CNN {cite}`girshick2015fast` and Faster R-CNN
# {cite}`ren2015faster`; selective search {cite}`uijlings2013selective` and the segmentation it starts
# from {cite}`felzenszwalb2004efficient`; the PASCAL VOC benchmark and its mAP
# {cite}`everingham2010pascal`; COCO {cite}`lin2014microsoft`. The digits are the UCI handwritten
# digits shipped with scikit-learn {cite}`pedregosa2011scikit`. Full entries are in the
# [bibliography](../book/bibliography.md).
