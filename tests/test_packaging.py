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


def _imported_top_modules(path: Path) -> set[str]:
    """Top-level modules a chapter's code imports (jupytext's commented magics are skipped)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
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
