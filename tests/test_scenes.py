import itertools
import re

import matplotlib
import pytest
import torch

from demystify import ImageData
from demystify.scenes import NUMBER_WORDS, describe, is_true, make_scenes, show_detections

matplotlib.use("Agg")

NOUN = r"an? (?:(small|large) )?(\d)"
RELATION = r"(to the left of|to the right of|above|below)"


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(200, seed=3)


def test_shapes_and_torchvision_conventions(scenes):
    assert scenes.images.shape == (200, 1, 64, 64) and scenes.images.dtype == torch.float32
    assert 0.0 <= scenes.images.min() and scenes.images.max() <= 1.0
    for boxes, labels in zip(scenes.boxes, scenes.labels):
        assert boxes.shape == (len(labels), 4) and boxes.dtype == torch.float32
        assert labels.dtype == torch.int64 and 1 <= len(labels) <= 4
        assert labels.min() >= 1 and labels.max() <= 10        # digit + 1; 0 is background
    target = scenes.target(0)
    assert set(target) == {"boxes", "labels"} and len(scenes.targets()) == len(scenes)
    assert scenes.digits(0) == (scenes.labels[0] - 1).tolist()
    counts = {len(labels) for labels in scenes.labels}
    assert counts == {1, 2, 3, 4}


def test_boxes_lie_inside_the_canvas_hold_ink_and_do_not_overlap(scenes):
    for image, boxes in zip(scenes.images, scenes.boxes):
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 64).all()
        assert (boxes[:, 2:] > boxes[:, :2]).all()
        for x1, y1, x2, y2 in boxes.long().tolist():
            assert image[0, y1:y2, x1:x2].max() > 0.6           # a digit is bright in its box
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_scenes_are_seeded_and_splits_use_different_digits():
    a, b = make_scenes(20, seed=7), make_scenes(20, seed=7)
    assert torch.equal(a.images, b.images) and a.captions == b.captions
    assert not torch.equal(a.images, make_scenes(20, seed=8).images)
    # A source whose train split holds only 0–4 and test split only 5–9 shows which is drawn.
    x = torch.rand(10, 1, 8, 8)
    source = ImageData("split", x, torch.arange(5).repeat(2), x, torch.arange(5, 10).repeat(2))
    train = make_scenes(30, source=source, split="train")
    test = make_scenes(30, source=source, split="test")
    assert max(max(s.digits(i)) for s in [train] for i in range(30)) <= 4
    assert min(min(s.digits(i)) for s in [test] for i in range(30)) >= 5
    assert train.source == "split" and "30 scenes" in repr(train)


def _centre(box):
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _holds(relation, a, b):
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    horizontal = abs(bx - ax) >= abs(by - ay)
    return {"to the left of": horizontal and ax < bx, "to the right of": horizontal and ax > bx,
            "above": not horizontal and ay < by, "below": not horizontal and ay > by}[relation]


def _fits(caption, boxes, digits, sizes):
    """Whether some assignment of the caption's nouns to the boxes makes every word true."""
    nouns, relations = re.findall(NOUN, caption), re.findall(RELATION, caption)
    for order in itertools.permutations(range(len(digits))):
        if all(digits[j] == int(d) and size in ("", sizes[j]) for (size, d), j in zip(nouns, order)) \
                and all(_holds(r, boxes[p], boxes[q]) for r, p, q in zip(relations, order, order[1:])):
            return True
    return False


def test_captions_are_consistent_with_the_layout(scenes):
    for i in range(len(scenes)):
        boxes, digits, sizes = scenes.boxes[i].tolist(), scenes.digits(i), scenes.sizes[i]
        captions = scenes.captions[i]
        assert len(captions) >= 2 and len(set(captions)) == len(captions)
        for caption in captions[:-1]:     # relational chains: noun (relation noun)*
            assert re.fullmatch(rf"{NOUN}(?: {RELATION} {NOUN})*", caption), caption
            assert len(re.findall(NOUN, caption)) == len(digits)
            assert _fits(caption, boxes, digits, sizes), (caption, boxes, digits, sizes)
        assert any("small" not in c and "large" not in c for c in captions[:-1])
        count = captions[-1]
        assert count.startswith(f"{NUMBER_WORDS[len(digits)]} digit")
        assert sorted(int(d) for _, d in re.findall(NOUN, count)) == sorted(digits)
        # a wrong digit or a flipped relation is caught by the same check
        flipped = captions[0].replace("left", "LEFT").replace("right", "left").replace("LEFT", "right")
        if flipped != captions[0] and len(digits) == 2 and digits[0] != digits[1]:
            assert not _fits(flipped, boxes, digits, sizes)


def test_is_true_accepts_every_reference_and_rejects_false_captions(scenes):
    for i in range(len(scenes)):
        for caption in scenes.captions[i]:
            assert scenes.describes(i, caption), (caption, scenes.boxes[i], scenes.digits(i))
    boxes, digits, sizes = [[0, 20, 10, 34], [30, 18, 50, 46]], [3, 7], ["", "large"]
    true = ["a 3 to the left of a large 7", "a 7 to the right of a 3", "a large 7 to the right of a 3",
            "two digits : a 3 and a large 7", "two digits : a 3 and a 7"]
    false = ["a 3 to the right of a large 7", "a small 3 to the left of a 7", "a 3 to the left of a 8",
             "a 3 above a 7", "a 3", "a 3 to the left of a 7 to the left of a 7",
             "three digits : a 3 and a 7", "two digits : a 7 and a 3", "two digits : a 3 , a 7",
             "two digit : a 3 and a 7", "an 3 to the left of a 7", "the 3 is left of the 7", ""]
    assert all(is_true(c, boxes, digits, sizes) for c in true)
    assert not any(is_true(c, boxes, digits, sizes) for c in false)
    assert is_true("an 8 above a 1", [[10, 0, 20, 10], [12, 30, 22, 40]], [8, 1], ["", ""])
    assert not is_true("a 8 above a 1", [[10, 0, 20, 10], [12, 30, 22, 40]], [8, 1], ["", ""])
    assert is_true("an empty canvas", [], [], []) and not is_true("a 1", [], [], [])


def test_size_words_follow_the_drawn_size():
    scenes = make_scenes(100, seed=1, size=(12, 30))
    for i in range(len(scenes)):
        for box, size in zip(scenes.boxes[i], scenes.sizes[i]):
            height = float(box[3] - box[1])
            if size == "small":
                assert height < 12 + 6 + 0.5
            elif size == "large":
                assert height > 30 - 6 - 8            # tight ink box: at most a few px shorter


def test_describe_examples():
    boxes = [[0, 20, 10, 34], [30, 18, 50, 46]]
    captions = describe(boxes, [3, 7], ["", "large"])
    assert captions[0] == "a 3 to the left of a large 7"
    assert captions[1] == "a large 7 to the right of a 3"
    assert captions[2] == "a 3 to the left of a 7"
    assert captions[3] == "two digits : a 3 and a large 7"
    assert describe([[10, 0, 20, 10], [12, 30, 22, 40]], [8, 1], ["", ""])[0] == "an 8 above a 1"
    assert describe([], [], []) == ["an empty canvas"]


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "n must be"), ({"digits": (0, 2)}, "digits must be"), ({"digits": (3, 5)}, "digits must be"),
    ({"size": (20, 10)}, "size must be"), ({"canvas": 24}, "too small"), ({"split": "val"}, "split"),
    ({"clutter": -1}, "clutter"),
])
def test_bad_arguments_say_what_to_do(kwargs, message):
    args = {"n": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_scenes(**args)


def test_mnist_like_source_gets_tight_boxes():
    x = torch.zeros(4, 1, 28, 28)
    x[:, :, 4:24, 8:20] = 1.0          # a 12×20 block of ink in a 28×28 frame, like MNIST
    source = ImageData("mnist-like", x, torch.arange(4), x, torch.arange(4))
    scenes = make_scenes(10, source=source, digits=(1, 1), size=(28, 28), noise=0, clutter=0)
    for boxes in scenes.boxes:
        width, height = (boxes[0, 2:] - boxes[0, :2]).tolist()
        assert 10 <= width <= 14 and 18 <= height <= 22


def test_show_detections_draws_boxes_and_rejects_batches(scenes):
    fig = show_detections(scenes.images[0], scenes.boxes[0], scenes.labels[0],
                          torch.ones(len(scenes.labels[0])), title="scene")
    assert len(fig.axes[0].patches) == len(scenes.boxes[0])
    with pytest.raises(ValueError, match="one image"):
        show_detections(scenes.images[:2])


def test_photo_backgrounds_use_different_photographs_per_split():
    from demystify.scenes import PHOTOS, photo_backgrounds

    assert not set(PHOTOS["train"]) & set(PHOTOS["test"])
    assert not set(PHOTOS["val"]) & (set(PHOTOS["train"]) | set(PHOTOS["test"]))
    crops = photo_backgrounds("test", 5, canvas=32, seed=3)
    assert crops.shape == (5, 32, 32) and 0 <= crops.min() and crops.max() <= 0.6 + 1e-6
    assert torch.equal(crops, photo_backgrounds("test", 5, canvas=32, seed=3))
    with pytest.raises(ValueError, match="split"):
        photo_backgrounds("holdout")


def test_scenes_on_backgrounds_may_overlap_and_use_the_validation_split():
    x = torch.zeros(6, 1, 28, 28)
    x[:, :, 4:24, 8:20] = 1.0
    source = ImageData("v", x, torch.arange(6), x, torch.arange(6),
                       x_val=x, y_val=torch.full((6,), 9))
    backgrounds = torch.full((2, 48, 48), 0.3)
    scenes = make_scenes(40, split="val", canvas=48, source=source, digits=(4, 4),
                         size=(20, 24), backgrounds=backgrounds, max_overlap=0.3)
    assert all((labels == 10).all() for labels in scenes.labels)      # val digits only
    assert scenes.images.min() >= 0.3 - 0.2                           # the photo is behind
    placed = sum(len(b) for b in scenes.boxes)
    apart = make_scenes(40, split="val", canvas=48, source=source, digits=(4, 4),
                        size=(20, 24), backgrounds=backgrounds)
    assert placed > sum(len(b) for b in apart.boxes)                  # overlap fits more
    with pytest.raises(ValueError, match="backgrounds"):
        make_scenes(2, canvas=48, backgrounds=torch.zeros(2, 32, 32))
