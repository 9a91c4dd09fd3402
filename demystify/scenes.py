"""Scenes of real handwritten digits for detection (chapter 06) and captioning (chapter 07).

No detection or captioning dataset ships offline, so the course composes one from real digits:
`make_scenes` places 1–4 handwritten digits (scikit-learn's, or MNIST's when given) at random
sizes and positions on a dark canvas, adds mild clutter (faint strokes and noise), and records the
ground truth:

* boxes in torchvision's convention — `(x1, y1, x2, y2)` pixels, tight around each digit's ink —
  and labels from 1 (`label = digit + 1`; 0 is the background class of a detector);
* several reference captions per scene from a small grammar, e.g.
  "a 3 to the left of a large 7" — every relation and size word is true of the layout.

Digits of the training scenes come from the digits' training split and those of the test scenes
from the test split, so no handwritten digit is shared between them. Everything is seeded.

Harder scenes (chapter 06): `photo_backgrounds(split)` cuts grey crops from scikit-image's
photographs — different photographs for the train, validation and test splits — and
`make_scenes(..., backgrounds=..., max_overlap=...)` draws the digits on them and lets digits
overlap, so proposals miss digits and the background looks like ink.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .data import ImageData, load_digits

NUMBER_WORDS = ("zero", "one", "two", "three", "four")
INK_THRESHOLD = 0.25     # a pixel belongs to a digit's box when it has ≥ 25 % of the digit's ink


@dataclass
class Scenes:
    """A batch of generated scenes and their ground truth.

    images: (N, 1, H, W) float32 in [0, 1]; boxes[i]: (k_i, 4) float32 xyxy; labels[i]: (k_i,)
    int64, digit + 1; sizes[i]: "small", "" or "large" per digit; captions[i]: reference captions.
    """
    images: torch.Tensor
    boxes: list[torch.Tensor]
    labels: list[torch.Tensor]
    sizes: list[list[str]]
    captions: list[list[str]]
    source: str = "scikit-learn digits"
    seed: int = 0
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def canvas(self) -> int:
        return self.images.shape[-1]

    def digits(self, i: int) -> list[int]:
        """The digits of scene i, in the order of its boxes."""
        return (self.labels[i] - 1).tolist()

    def target(self, i: int) -> dict[str, torch.Tensor]:
        """Scene i's ground truth as torchvision detection models and torchmetrics expect it."""
        return {"boxes": self.boxes[i], "labels": self.labels[i]}

    def targets(self) -> list[dict[str, torch.Tensor]]:
        return [self.target(i) for i in range(len(self))]

    def describes(self, i: int, caption: str) -> bool:
        """Whether `caption` is a true description of scene i (see `is_true`)."""
        return is_true(caption, self.boxes[i].numpy(), self.digits(i), self.sizes[i])

    def __repr__(self) -> str:
        n_digits = sum(len(b) for b in self.boxes)
        n_captions = sum(len(c) for c in self.captions)
        return (f"{len(self)} scenes of {self.canvas}×{self.canvas} px with {n_digits} digits "
                f"(from {self.source}) and {n_captions} reference captions")


def _digit_pool(source: ImageData | None, split: str) -> tuple[torch.Tensor, torch.Tensor, str]:
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    data = source if source is not None else load_digits(image_size=8)
    if split == "val" and data.x_val is None:
        raise ValueError(f"split 'val' needs a digit source with a validation split; "
                         f"{data.name!r} has none (e.g. use source=load_mnist_t10k())")
    images, labels = {"train": (data.x_train, data.y_train), "val": (data.x_val, data.y_val),
                      "test": (data.x_test, data.y_test)}[split]
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"digit source {data.name!r} must hold grey images (N, 1, H, W), "
                         f"got {tuple(images.shape)}")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"digit source {data.name!r} must have labels 0–9")
    return images.float(), labels.long(), data.name


def _draw_stroke(canvas: np.ndarray, rng: np.random.Generator, intensity: float) -> None:
    """A short, faint straight stroke: clutter a detector must learn to call background."""
    size = canvas.shape[0]
    x0, y0 = rng.uniform(0, size - 1, 2)
    angle, length = rng.uniform(0, np.pi), rng.uniform(3, 8)
    x1 = np.clip(x0 + length * np.cos(angle), 0, size - 1)
    y1 = np.clip(y0 + length * np.sin(angle), 0, size - 1)
    t = np.linspace(0, 1, 24)
    rows, cols = np.rint(y0 + t * (y1 - y0)).astype(int), np.rint(x0 + t * (x1 - x0)).astype(int)
    canvas[rows, cols] = np.maximum(canvas[rows, cols], intensity)


def _overlaps(box: tuple[int, int, int, int], placed: list[tuple[int, int, int, int]], gap: int) -> bool:
    x1, y1, x2, y2 = box
    return any(x1 < b[2] + gap and b[0] < x2 + gap and y1 < b[3] + gap and b[1] < y2 + gap
               for b in placed)


def _box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


# scikit-image photographs that load offline, one list per split: test backgrounds are unseen
PHOTOS = {"train": ("astronaut", "coffee", "chelsea", "rocket", "brick", "grass", "page", "horse"),
          "val": ("camera", "gravel", "clock"),
          "test": ("coins", "text", "moon", "immunohistochemistry", "hubble_deep_field")}


def photo_backgrounds(split: str, n: int = 64, *, canvas: int = 64, seed: int = 0,
                      dim: float = 0.6) -> torch.Tensor:
    """`n` grey crops (n, canvas, canvas) in [0, `dim`] of the scikit-image photographs of `split`.

    Each crop is a random square of 1.5–4 canvas sides from a random photograph of the split
    (`PHOTOS`), resized to the canvas and scaled to [0, dim] so bright ink still stands out.
    """
    from skimage import data as photos
    from skimage.color import rgb2gray

    if split not in PHOTOS:
        raise ValueError(f"split must be one of {', '.join(PHOTOS)}, got {split!r}")
    greys = []
    for name in PHOTOS[split]:
        image = np.asarray(getattr(photos, name)(), dtype=np.float32)
        image = rgb2gray(image) if image.ndim == 3 else image
        greys.append(torch.from_numpy(image / max(float(image.max()), 1e-6)).float())
    rng = np.random.default_rng([seed, 7, list(PHOTOS).index(split)])
    crops = []
    for _ in range(n):
        grey = greys[int(rng.integers(len(greys)))]
        side = int(min(rng.uniform(1.5, 4) * canvas, *grey.shape))
        y, x = (int(rng.integers(0, d - side + 1)) for d in grey.shape)
        crop = grey[y:y + side, x:x + side][None, None]
        crop = F.interpolate(crop, size=(canvas, canvas), mode="bilinear", antialias=True,
                             align_corners=False)[0, 0]
        crops.append(crop * dim)
    return torch.stack(crops).clamp(0, 1)


def _size_word(size: int, size_range: tuple[int, int]) -> str:
    low, high = size_range
    third = (high - low) / 3
    return "small" if size < low + third else "large" if size > high - third else ""


def _noun(digit: int, size: str) -> str:
    """'a 3', 'a large 3', 'an 8' (said "an eight")."""
    if size:
        return f"a {size} {digit}"
    return f"an {digit}" if digit == 8 else f"a {digit}"


def _relation(a: np.ndarray, b: np.ndarray) -> tuple[str, str]:
    """How box a stands to box b, and the inverse: ('to the left of', 'to the right of'), …

    Horizontal when the centres differ more across than down, else vertical.
    """
    dx = (b[0] + b[2]) / 2 - (a[0] + a[2]) / 2
    dy = (b[1] + b[3]) / 2 - (a[1] + a[3]) / 2
    if abs(dx) >= abs(dy):
        return ("to the left of", "to the right of") if dx > 0 else ("to the right of", "to the left of")
    return ("above", "below") if dy > 0 else ("below", "above")


def describe(boxes: np.ndarray, digits: list[int], sizes: list[str]) -> list[str]:
    """Reference captions of one layout (boxes xyxy, digits, size words), from the grammar.

    1. the digits left to right, each related to the next: "a 3 to the left of a large 7";
    2. the same chain read right to left with the inverse relations;
    3. the chain without size words;
    4. a count and a list: "two digits : a 3 and a large 7".
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if not len(boxes) == len(digits) == len(sizes):
        raise ValueError(f"describe needs one box and one size word per digit, got {len(boxes)} "
                         f"boxes, {len(digits)} digits and {len(sizes)} size words")
    if len(digits) == 0:
        return ["an empty canvas"]
    order = sorted(range(len(digits)), key=lambda i: ((boxes[i, 0] + boxes[i, 2]) / 2, i))

    def chain(indices: list[int], with_size: bool) -> str:
        words = [_noun(digits[indices[0]], sizes[indices[0]] if with_size else "")]
        for prev, nxt in zip(indices, indices[1:]):
            words += [_relation(boxes[prev], boxes[nxt])[0],
                      _noun(digits[nxt], sizes[nxt] if with_size else "")]
        return " ".join(words)

    nouns = [_noun(digits[i], sizes[i]) for i in order]
    listing = nouns[0] if len(nouns) == 1 else " , ".join(nouns[:-1]) + " and " + nouns[-1]
    count = f"{NUMBER_WORDS[len(digits)]} digit{'s' if len(digits) > 1 else ''} : {listing}"
    captions = [chain(order, True), chain(order[::-1], True), chain(order, False), count]
    return list(dict.fromkeys(captions))      # drop duplicates, keep the order


_NOUN = r"an? (?:(?:small|large) )?\d"
_RELATION = r"to the left of|to the right of|above|below"
_CHAIN = re.compile(rf"({_NOUN})((?: (?:{_RELATION}) {_NOUN})*)")
_COUNT = re.compile(rf"(\w+) digits? : ({_NOUN}(?: , {_NOUN})*(?: and {_NOUN})?)")


def _parse_noun(text: str) -> tuple[int, str] | None:
    """'a large 7' → (7, 'large'); None when the article is wrong ('a 8', 'an 3')."""
    words = text.split()
    digit, size = int(words[-1]), words[1] if len(words) == 3 else ""
    return (digit, size) if _noun(digit, size) == text else None


def is_true(caption: str, boxes, digits: list[int], sizes: list[str]) -> bool:
    """Whether `caption` is a grammatical and true description of a layout, in the grammar of `describe`.

    A chain ("a 3 to the left of a large 7") must name every digit once, with right size words
    (when it uses any) and a true relation between each digit and the next. A count ("two digits :
    a 3 and a large 7") must give the right number and list the digits left to right. A caption
    that is right by BLEU's standards can still be false by these: that is what this checks.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    caption = " ".join(caption.split())
    if len(digits) == 0:
        return caption == "an empty canvas"
    chain, count = _CHAIN.fullmatch(caption), _COUNT.fullmatch(caption)
    if chain:
        nouns = [chain.group(1)] + re.findall(rf"(?:{_RELATION}) ({_NOUN})", chain.group(2))
        relations = re.findall(rf"({_RELATION}) {_NOUN}", chain.group(2))
    elif count:
        if count.group(1) != NUMBER_WORDS[min(len(digits), 4)] or \
                caption.split()[1] != ("digits" if len(digits) > 1 else "digit"):
            return False
        nouns = re.findall(_NOUN, count.group(2))
        if len(nouns) > 1 and not count.group(2).endswith(" and " + nouns[-1]):
            return False
    else:
        return False
    parsed = [_parse_noun(noun) for noun in nouns]
    if None in parsed or len(parsed) != len(digits):
        return False

    def fits(j: int, noun: tuple[int, str]) -> bool:
        return digits[j] == noun[0] and noun[1] in ("", sizes[j])

    if count:
        order = sorted(range(len(digits)), key=lambda i: ((boxes[i, 0] + boxes[i, 2]) / 2, i))
        return all(fits(j, noun) for j, noun in zip(order, parsed))
    for assignment in itertools.permutations(range(len(digits))):
        if all(fits(j, noun) for j, noun in zip(assignment, parsed)) and \
                all(_relation(boxes[p], boxes[q])[0] == r
                    for r, p, q in zip(relations, assignment, assignment[1:])):
            return True
    return False


def make_scenes(n: int, *, split: str = "train", canvas: int = 64, digits: tuple[int, int] = (1, 4),
                size: tuple[int, int] = (12, 28), clutter: int = 3, noise: float = 0.03,
                source: ImageData | None = None, seed: int = 0,
                backgrounds: torch.Tensor | None = None,
                max_overlap: float | None = None) -> Scenes:
    """`n` seeded scenes of 1–4 real handwritten digits with boxes, labels and captions.

    split: which digits to draw ('train', 'val' or 'test' split of `source`, default
    scikit-learn's digits, which have no 'val'); canvas: side in pixels; digits: (fewest, most)
    per scene; size: (smallest, largest) digit side in pixels; clutter: at most this many faint
    strokes per scene; noise: std of the Gaussian pixel noise. Without `max_overlap`, digits
    never overlap (2 px apart at least); when no free place is left after 50 tries, a scene
    keeps fewer digits than drawn.

    backgrounds: optional (K, canvas, canvas) grey images (e.g. `photo_backgrounds`); each
    scene is drawn on a random one, its digits' ink painted over the photograph. max_overlap:
    when given, digits may overlap as long as the IoU of any two of their squares stays below it
    (the box of a digit partly hidden by another still frames all its ink).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    low_d, high_d = digits
    if not 1 <= low_d <= high_d <= 4:
        raise ValueError(f"digits must be (fewest, most) with 1 ≤ fewest ≤ most ≤ 4, got {digits}")
    low_s, high_s = size
    if not 6 <= low_s <= high_s:
        raise ValueError(f"size must be (smallest, largest) with 6 ≤ smallest ≤ largest, got {size}")
    if high_s > canvas:
        raise ValueError(f"a canvas of {canvas} px is too small for digits up to {high_s} px: "
                         f"use canvas ≥ {high_s} (≥ {2 * high_s} leaves room for several digits) "
                         f"or a smaller largest size")
    if clutter < 0 or noise < 0:
        raise ValueError(f"clutter and noise must be ≥ 0, got {clutter} and {noise}")
    if backgrounds is not None and tuple(backgrounds.shape[1:]) != (canvas, canvas):
        raise ValueError(f"backgrounds must be (K, {canvas}, {canvas}), "
                         f"got {tuple(backgrounds.shape)}")
    pool, pool_labels, name = _digit_pool(source, split)
    rng = np.random.default_rng([seed, {"train": 0, "test": 1, "val": 2}[split]])
    images = np.zeros((n, canvas, canvas), dtype=np.float32)
    if backgrounds is not None:
        picks = rng.integers(len(backgrounds), size=n)
        images[:] = backgrounds.float().numpy()[picks]
    all_boxes, all_labels, all_sizes, all_captions = [], [], [], []
    for i in range(n):
        image, boxes, labels, sizes, placed = images[i], [], [], [], []
        for _ in range(rng.integers(low_d, high_d + 1)):
            for _attempt in range(50):
                side = int(rng.integers(low_s, high_s + 1))
                x, y = (int(v) for v in rng.integers(0, canvas - side + 1, 2))
                square = (x, y, x + side, y + side)
                if max_overlap is None and not _overlaps(square, placed, gap=2):
                    break
                if max_overlap is not None and \
                        all(_box_iou(square, b) < max_overlap for b in placed):
                    break
            else:
                continue     # no room left on this canvas: the scene keeps fewer digits
            k = int(rng.integers(len(pool)))
            patch = F.interpolate(pool[k:k + 1], size=(side, side), mode="bilinear",
                                  antialias=True, align_corners=False)[0, 0].clamp(0, 1).numpy()
            patch = patch / max(float(patch.max()), 1e-6) * rng.uniform(0.8, 1.0)
            ink_rows, ink_cols = np.nonzero(patch >= INK_THRESHOLD * patch.max())
            image[y:y + side, x:x + side] = np.maximum(image[y:y + side, x:x + side], patch)
            placed.append((x, y, x + side, y + side))
            boxes.append([x + ink_cols.min(), y + ink_rows.min(), x + ink_cols.max() + 1,
                          y + ink_rows.max() + 1])
            labels.append(int(pool_labels[k]) + 1)
            sizes.append(_size_word(side, size))
        for _ in range(rng.integers(0, clutter + 1)):
            _draw_stroke(image, rng, intensity=float(rng.uniform(0.2, 0.45)))
        box_array = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        all_boxes.append(torch.from_numpy(box_array))
        all_labels.append(torch.tensor(labels, dtype=torch.int64))
        all_sizes.append(sizes)
        all_captions.append(describe(box_array, [lab - 1 for lab in labels], sizes))
    if noise:
        images += rng.normal(0, noise, images.shape).astype(np.float32)
    np.clip(images, 0, 1, out=images)
    return Scenes(torch.from_numpy(images).unsqueeze(1), all_boxes, all_labels, all_sizes,
                  all_captions, source=name, seed=seed,
                  meta={"split": split, "digits": digits, "size": size, "clutter": clutter})


def show_detections(image: torch.Tensor, boxes: torch.Tensor | None = None,
                    labels: torch.Tensor | None = None, scores: torch.Tensor | None = None, *,
                    ax: plt.Axes | None = None, color: str = "tab:orange", title: str | None = None,
                    linewidth: float = 1.5, names: bool = True) -> Figure:
    """One scene with boxes (xyxy) drawn on it, each named 'digit' or 'digit score'.

    `labels` follow the detection convention (digit + 1); pass `names=False` for bare boxes
    (e.g. hundreds of region proposals).
    """
    image = torch.as_tensor(image).detach().float().cpu()
    if image.ndim == 3:
        image = image[0]
    if image.ndim != 2:
        raise ValueError(f"show_detections expects one image (H, W) or (1, H, W), got {tuple(image.shape)}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(3, 3))
    else:
        fig = ax.figure
    ax.imshow(image.numpy(), cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    if boxes is not None:
        boxes = torch.as_tensor(boxes).detach().float().cpu().reshape(-1, 4)
        for j, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False,
                                   edgecolor=color, linewidth=linewidth))
            if names and labels is not None:
                text = str(int(labels[j]) - 1)
                if scores is not None:
                    text += f" {float(scores[j]):.2f}"
                ax.text(x1 - 0.5, y1 - 1.5, text, color="black", fontsize=7,
                        bbox={"facecolor": color, "edgecolor": "none", "pad": 0.6, "alpha": 0.9})
    if title:
        ax.set_title(title, fontsize=9)
    return fig
