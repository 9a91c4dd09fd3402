"""demystify.images: the shift and the relative change that chapters 1 and 2 share."""
import math

import pytest
import torch

from demystify.images import mean_relative_change, move


def test_whole_pixel_move_copies_pixels_and_fills_with_zeros():
    images = torch.rand(3, 1, 8, 8)
    right = move(images, dx=2)
    assert torch.allclose(right[..., 2:], images[..., :-2], atol=1e-6)
    assert (right[..., :2] == 0).all()
    down = move(images, dy=1)
    assert torch.allclose(down[..., 1:, :], images[..., :-1, :], atol=1e-6)
    assert (down[..., :1, :] == 0).all()
    assert torch.equal(move(images), images)


def test_relative_change_values():
    a = torch.zeros(2, 1, 4, 4)
    a[:, 0, 0, 0] = 1.0
    b = torch.zeros_like(a)
    b[:, 0, 3, 3] = 1.0                          # the same ink somewhere else: no overlap
    assert mean_relative_change(a, a) == 0.0
    assert mean_relative_change(a, b) == pytest.approx(math.sqrt(2))
    assert mean_relative_change(a, 0.5 * a) == pytest.approx(0.5)
    # the mean of the per-image ratios, not the ratio of the totals
    c = torch.stack([a[0], 2 * a[1]])
    assert mean_relative_change(c, torch.stack([b[0], 2 * a[1]])) == pytest.approx(
        math.sqrt(2) / 2)


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match="same shape"):
        mean_relative_change(torch.ones(2, 4), torch.ones(3, 4))
    with pytest.raises(ValueError, match="images"):
        move(torch.ones(5))
