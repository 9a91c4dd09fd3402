"""Chapter 09's exercise solutions that claim to run, run (DESIGN §8), fast and offline.

The solutions' code blocks and the chapter cells they build on (`SmallCNN`, `make_model`,
`train_few`) are read from the chapter's text twin, so the test breaks when either changes.
"""
from __future__ import annotations

import re
from types import SimpleNamespace
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from demystify.profile import Profile, profile

TWIN = Path(__file__).resolve().parents[1] / "chapters" / "09_transfer_learning.py"


def cell_defining(name: str) -> str:
    found = [c for c in re.split(r"^# %%.*$", TWIN.read_text(), flags=re.M)
             if re.search(rf"^(def|class) {name}\b", c, flags=re.M)]
    assert len(found) == 1, f"no single cell defines {name}"
    return found[0]


def solutions() -> list[str]:
    """The ```python blocks inside the Solution dropdowns, without the '# ' prefix."""
    text = TWIN.read_text()
    blocks = re.findall(r"^# ````\{dropdown\} Solution\n(.*?)^# ````$", text, flags=re.M | re.S)
    code = []
    for block in blocks:
        for snippet in re.findall(r"^# ```python\n(.*?)^# ```$", block, flags=re.M | re.S):
            code.append("\n".join(line[2:] for line in snippet.splitlines()))
    return code


@pytest.fixture
def chapter(tmp_path):
    """A namespace like the chapter's at the exercises, with small random data."""
    namespace = {"torch": torch, "nn": nn, "F": F, "device": torch.device("cpu"),
                 "P": profile("09_transfer_learning", "cpu")}
    exec(cell_defining("SmallCNN"), namespace)
    namespace["pretrained"] = namespace["SmallCNN"](size=16)
    exec(cell_defining("make_model"), namespace)
    torch.manual_seed(0)
    namespace["x_pool"], namespace["y_pool"] = torch.rand(20, 1, 16, 16), torch.arange(20) % 10
    namespace["index"] = torch.arange(10)
    return namespace


def test_every_solution_block_is_tested():
    assert len(solutions()) == 5


def test_exercise_1_replace_adds_labels(chapter):
    before = chapter["P"]
    exec(solutions()[0], chapter)
    assert isinstance(chapter["P"], Profile) and chapter["P"].shots == [*before.shots, 50]


def test_exercise_2_augmented_labels_train(chapter):
    exec(solutions()[1], chapter)
    x, y = chapter["x_pool"][:10], chapter["y_pool"][:10]
    big_x, big_y = chapter["augment"](x, y)
    assert big_x.shape == (50, 1, 16, 16) and torch.equal(big_y, y.repeat(5))
    assert torch.equal(big_x[:10], x) and torch.equal(big_x[10:20], torch.roll(x, 1, dims=3))
    exec("model = train_few(*make_model('from scratch', 1e-3, 0), "
         "*augment(x_pool[index], y_pool[index]), steps=2)", chapter)


def test_exercise_3_ladder_covers_every_parameter_and_trains(chapter):
    exec(solutions()[2], chapter)
    exec("model, _ = make_model('fine-tune all', 1e-3, 0)\n"
         "groups = ladder(model, 1e-3)\n"
         "groups = [dict(g, params=list(g['params'])) for g in groups]\n"
         "train_few(model, groups, x_pool[index], y_pool[index], steps=2)", chapter)
    groups, model = chapter["groups"], chapter["model"]
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    assert groups[0]["lr"] == pytest.approx(1e-3 * 0.3 ** 4) and groups[-1]["lr"] == 1e-3


def test_exercise_3_ladder_branch_fits_the_loop(chapter):
    """The `elif` branch, placed in the loop's if/else, trains with validation."""
    exec(solutions()[2], chapter)
    chapter["P"] = chapter["P"].replace(max_steps=4, eval_every=2)
    chapter["target"] = SimpleNamespace(x_val=chapter["x_pool"], y_val=chapter["y_pool"],
                                        x_test=chapter["x_pool"])
    chapter.update(lr=1e-3, init=0)
    loop = ("for method in ['ladder']:\n    if method == 'linear probe':\n        pass\n"
            + solutions()[3] + "\n    else:\n        raise AssertionError\n")
    exec(loop, chapter)
    assert chapter["model"].best_step in (2, 4) and chapter["x_test"] is not None


def test_exercise_4_exported_program_classifies_without_the_class(chapter, tmp_path,
                                                                  monkeypatch):
    model = chapter["SmallCNN"](size=16).eval()
    batch = torch.export.Dim("batch")
    exported = torch.export.export(model, (torch.rand(2, 1, 16, 16),),
                                   dynamic_shapes=({0: batch},))
    path = tmp_path / "checkpoints" / "09_target_cnn.pt2"
    path.parent.mkdir()
    torch.export.save(exported, str(path))
    images = torch.rand(5, 1, 16, 16)
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    namespace = {"images": images}                 # a fresh session: no torch, no SmallCNN
    exec(solutions()[4], namespace)
    assert torch.equal(namespace["digits"], model(images).argmax(1))
