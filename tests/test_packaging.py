"""The package a chapter opened alone installs: each chapter's extra covers what it imports,
a missing extra gets one clear error, and the wheel ships what the chapters read."""
from __future__ import annotations

import ast
import re
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from demystify import install

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(ROOT.glob("chapters/[0-9][0-9]_*.py"))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _optional_imports(tree: ast.AST) -> set[int]:
    """ids of import nodes inside a `try` that catches ImportError: optional by design (the
    code says what it skips without them), so no extra needs to list them."""
    optional = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError",
                                                               "ModuleNotFoundError")
                for h in node.handlers):
            optional.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return optional


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(top-level modules, demystify submodules) that the code in `path` imports anywhere,
    functions included, except optional imports (jupytext's commented magics are skipped)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    optional = _optional_imports(tree)
    names, ours = set(), set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
            ours.update(a.name for a in node.names if a.name.startswith("demystify."))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:                                   # inside demystify: from .x import
                ours.add(f"demystify.{node.module}")
            else:
                names.add(node.module.split(".")[0])
                if node.module.startswith("demystify."):
                    ours.add(node.module)
    return names, ours


def _imported_top_modules(chapter: Path) -> set[str]:
    """What a chapter imports, with everything the demystify modules it uses import (lazy
    imports in their functions included): importing `demystify` runs its __init__."""
    names, todo = _imports(chapter)
    todo |= {"demystify"}
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        seen.add(module)
        parts = module.split(".")[1:]
        path = ROOT.joinpath("demystify", *parts).with_suffix(".py")
        if not path.is_file():
            path = ROOT.joinpath("demystify", *parts, "__init__.py")
        more, ours = _imports(path)
        names |= more
        todo |= ours - seen
    return names


def _base_requirements() -> set[str]:
    return {_canonical(re.match(r"[A-Za-z0-9._-]+", r)[0])
            for r in metadata.requires("demystify") if "extra ==" not in r}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name[:2])
def test_each_chapter_extra_covers_what_the_chapter_imports(chapter):
    providers = metadata.packages_distributions()
    allowed = _base_requirements() | {_canonical(n) for n in
                                      install.chapter_requirements(chapter.stem)}
    # torch brings these with it; IPython is the kernel itself.
    allowed |= {"torch", "torchvision", "ipython"}
    needed = {}
    for module in _imported_top_modules(chapter) - set(sys.stdlib_module_names) - {"demystify"}:
        dists = providers.get(module)
        assert dists, f"{chapter.name} imports {module}, which no installed distribution provides"
        needed[module] = {_canonical(d) for d in dists}
    uncovered = {m: d for m, d in needed.items() if not d & allowed}
    assert not uncovered, (f"{chapter.name} imports {sorted(uncovered)} but neither demystify's "
                           f"dependencies nor its extra {install.chapter_extra(chapter.stem)} "
                           f"(pyproject.toml) list them")


def test_every_chapter_has_an_extra_and_its_bootstrap_installs_it():
    extras = metadata.metadata("demystify").get_all("Provides-Extra")
    for chapter in CHAPTERS:
        extra = install.chapter_extra(chapter.stem)
        assert extra in extras, f"pyproject.toml has no extra {extra} for {chapter.name}"
        assert f'%pip install -q "demystify[{extra}] @ {{source}}"' in chapter.read_text(), \
            f"{chapter.name}'s bootstrap cell should install demystify[{extra}]"


def test_a_missing_extra_names_the_packages_and_the_install_line(monkeypatch):
    real_version = metadata.version

    def version(name):
        if _canonical(name) == "torchmetrics":
            raise metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(install.metadata, "version", version)
    assert install.missing_packages("06_rcnn") == ["torchmetrics"]
    with pytest.raises(ModuleNotFoundError, match=r"needs torchmetrics.*demystify\[ch06\]"):
        install.require_chapter_packages("06_rcnn")
    install.require_chapter_packages("01_ml_vs_dl")           # its extra is complete
    install.require_chapter_packages("my_own_notebook")       # not a course chapter: no check
    with pytest.raises(ValueError, match="named like '06_rcnn'"):
        install.chapter_extra("rcnn")


def test_the_wheel_ships_tables_mnist_azure_specs_and_the_ddp_script(demystify_wheel):
    names = set(zipfile.ZipFile(demystify_wheel).namelist())
    for needed in ("demystify/ddp_train.py", "demystify/install.py",
                   "demystify/course_data/ilsvrc_results.csv",
                   "demystify/course_data/vgg_configs.yaml",
                   "demystify/course_data/gpu_specs.csv",
                   "demystify/course_data/mnist/t10k-images-idx3-ubyte.gz",
                   "demystify/azure_specs/job.yml", "demystify/azure_specs/compute.yml"):
        assert needed in names, f"the wheel lacks {needed}"
    assert not [n for n in names if "/cache/" in n], "the data cache must not ship"


def test_azureml_spec_reads_the_checkout_then_the_package(monkeypatch, tmp_path):
    from demystify import data
    from demystify.data import DataNotAvailable, azureml_spec

    assert azureml_spec("job.yml") == ROOT / "azureml" / "job.yml"
    packaged = tmp_path / "azure_specs"
    packaged.mkdir()
    (packaged / "job.yml").write_text("type: command\n")
    monkeypatch.setattr(data, "CHECKOUT_AZUREML", tmp_path / "no-checkout")
    monkeypatch.setattr(data, "PACKAGED_AZUREML", packaged)
    assert azureml_spec("job.yml") == packaged / "job.yml"
    with pytest.raises(DataNotAvailable, match="compute.yml is neither.*reinstall demystify"):
        azureml_spec("compute.yml")
