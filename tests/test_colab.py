"""Every chapter, copied alone into an empty folder, runs in Colab's package set and passes.

This is how a learner meets the book in Colab: one notebook, no checkout, `demystify` not
installed, and Colab's own package versions (tests/colab-constraints.txt: ipywidgets 7.7.1,
IPython 7.34, numpy 2.0.2, pandas 2.2.2, no torchmetrics, ...). A venv with those versions is
built once (from the package registry, like `make` does) and cached; each chapter then runs in
a fresh environment layered on top of it, so that what one chapter's bootstrap installs cannot
help the next. The chapter's bootstrap cell installs `demystify[chNN]` from a wheel of this
checkout (DEMYSTIFY_SOURCE) and what Colab lacks (torchmetrics) from a local wheel folder: the
kernel itself runs offline (tests/offline/sitecustomize.py) with pip's index switched off.
The chapter passes when every cell runs without error (its claims assert their thresholds) and
its widgets were made by ipywidgets 7.

What it does not test: Python and torch are this machine's (3.11, torch 2.14.1), not Colab's
(see the constraints file's header); the chapters run in the CPU profile, so the GPU profile
on Colab's T4 is not run here (`make test-gpu` runs it, on a GPU, in the project's versions);
and because Colab already has nearly every package the chapters' extras list, the extras are
checked statically (tests/test_packaging.py), not by installing each into a bare Python.

Building the base venv needs the package registry once (it is cached in
~/.cache/demystify/colab-env, or $DEMYSTIFY_COLAB_ENV); offline, point
$DEMYSTIFY_COLAB_WHEELS at a folder of the wheels it needs (pip download -r ... on a machine
with network) and it installs from there. `make colab` runs these tests alone.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
import torch
import torchvision
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "tests" / "colab-constraints.txt"
CHAPTERS = sorted(ROOT.glob("chapters/[0-9][0-9]_*.ipynb"))
# Colab's packages that the chapters and demystify use (all pinned by the constraints file).
COLAB_PACKAGES = ["pip", "ipykernel", "ipython", "ipywidgets", "numpy", "pandas", "matplotlib",
                  "scikit-learn", "scikit-image", "scipy", "gymnasium", "ale-py", "nltk",
                  "pycocotools", "safetensors", "tqdm", "PyYAML", "pillow", "threadpoolctl",
                  "pooch"]
# What a chapter's extra needs that Colab does not have: served from a local wheel folder, in
# the versions this checkout's own environment has.
NOT_IN_COLAB = ["torchmetrics", "lightning-utilities"]
TORCH = [f"torch=={torch.__version__.split('+')[0]}",
         f"torchvision=={torchvision.__version__.split('+')[0]}"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
ENV_NAMES_DROPPED = ("DEMYSTIFY_", "VIRTUAL_ENV", "PYTHONPATH", "PIP_", "JUPYTER_PATH")


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(ENV_NAMES_DROPPED)}


def _env_key() -> str:
    pinned = [CONSTRAINTS.read_text(), *COLAB_PACKAGES, *TORCH, sys.version,
              *(f"{name}=={metadata.version(name)}" for name in NOT_IN_COLAB)]
    return hashlib.sha256("\n".join(pinned).encode()).hexdigest()[:12]


def _pip(python: Path, *args: str, timeout: int = 1800) -> None:
    """Run pip in the venv of `python`: from the registry, or only from the wheel folder
    $DEMYSTIFY_COLAB_WHEELS when that is set (offline)."""
    env = _clean_environ()
    wheels = os.environ.get("DEMYSTIFY_COLAB_WHEELS")
    if wheels:
        env.update({"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": wheels})
    done = subprocess.run([str(python), "-m", "pip", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise RuntimeError(
            f"building the Colab test environment: pip {' '.join(args[:2])} failed. It needs "
            f"the package registry once (then it is cached), or DEMYSTIFY_COLAB_WHEELS set to "
            f"a folder of the wheels. pip said:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


@pytest.fixture(scope="session")
def colab_env() -> Path:
    """The cached venv with Colab's versions (built on first use, under a file lock so that
    parallel test workers build it once); its wheelhouse/ holds what Colab lacks."""
    root = Path(os.environ.get("DEMYSTIFY_COLAB_ENV")
                or Path.home() / ".cache" / "demystify" / "colab-env")
    root.mkdir(parents=True, exist_ok=True)
    env = root / _env_key()
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (env / "ready").is_file():
            shutil.rmtree(env, ignore_errors=True)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=300)
            python = env / "bin" / "python"
            _pip(python, "install", "-q", "-c", str(CONSTRAINTS), *COLAB_PACKAGES, *TORCH)
            _pip(python, "download", "-q", "--no-deps", "-d", str(env / "wheelhouse"),
                 *(f"{name}=={metadata.version(name)}" for name in NOT_IN_COLAB))
            (env / "ready").write_text(f"built in {time.perf_counter() - started:.0f} s\n")
            _prune_other_envs(root, keep=env)
        (env / "used").touch()
    return env


STALE_AFTER_DAYS = 7


def _prune_other_envs(root: Path, keep: Path) -> None:
    """Remove the cached venvs of other constraints (each is 1–6 GB) not used for a week;
    called under the lock, right after a new one was built. A venv another checkout still
    uses is recent (its "used" file is touched on every session), so it is kept."""
    cutoff = time.time() - STALE_AFTER_DAYS * 86400
    for old in root.iterdir():
        if old == keep or not re.fullmatch(r"[0-9a-f]{12}", old.name) or not old.is_dir():
            continue
        stamp = old / "used" if (old / "used").exists() else old / "ready"
        if not stamp.exists() or stamp.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)


def _layer_over(base: Path, where: Path) -> Path:
    """A new venv that sees `base`'s packages (a .pth line to its site-packages) and installs
    into its own site-packages. Returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True,
                   timeout=120)
    purelib = next((base / "lib").glob("python3*/site-packages"))
    own = next((where / "lib").glob("python3*/site-packages"))
    (own / "_colab_packages.pth").write_text(f"{purelib}\n")
    return where / "bin" / "python"


def _kernel(python: Path, jupyter: Path) -> str:
    spec = jupyter / "kernels" / "colab"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "colab", "language": "python"}))
    return "colab"


def _widget_versions(nb: nbformat.NotebookNode) -> tuple[int, set[str]]:
    """How many widget views the chapter displayed, and the versions of the controls models
    in the widget state nbclient stored (ipywidgets 7 makes "1.5.0", ipywidgets 8 "2.0.0")."""
    views = sum(WIDGET_VIEW in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                for o in c.get("outputs", []))
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    versions = {m["model_module_version"] for m in state.values()
                if m.get("model_module") == "@jupyter-widgets/controls"}
    return views, versions


@pytest.mark.slow
@pytest.mark.colab
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name[:2])
def test_chapter_runs_alone_in_colabs_package_set(chapter, colab_env, demystify_wheel,
                                                  tmp_path, monkeypatch):
    python = _layer_over(colab_env, tmp_path / "env")
    probe = subprocess.run(
        [str(python), "-c", "import importlib.util as u, ipywidgets; "
         "print(u.find_spec('demystify') is None, u.find_spec('torchmetrics') is None, "
         "ipywidgets.__version__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path, env=_clean_environ())
    assert probe.stdout.split() == ["True", "True", "7.7.1"], probe.stdout

    work = tmp_path / "work"
    work.mkdir()
    shutil.copy2(chapter, work / chapter.name)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    kernel = _kernel(python, tmp_path / "jupyter")
    env = _clean_environ()
    env.update({
        "PATH": f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
        "DEMYSTIFY_SOURCE": demystify_wheel.as_uri(),
        "DEMYSTIFY_PROFILE": "cpu", "DEMYSTIFY_DEVICE": "cpu", "DEMYSTIFY_SEED": "0",
        "PYTHONPATH": str(ROOT / "tests" / "offline"),          # the offline guard
        "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(colab_env / "wheelhouse"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CONFIG_FILE": os.devnull,
        "HOME": str(tmp_path / "home"),
    })
    nb = nbformat.read(work / chapter.name, as_version=4)
    client = NotebookClient(nb, kernel_name=kernel, timeout=900, allow_errors=True,
                            resources={"metadata": {"path": str(work)}})
    client.execute(env=env)

    errors = [f"cell {i}: {o['ename']}: {o['evalue']}" for i, c in enumerate(nb.cells)
              if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, f"{chapter.name} failed in Colab's package set:\n" + "\n".join(errors)
    installed = list((tmp_path / "env" / "lib").glob("python3*/site-packages/demystify"))
    assert installed, "the bootstrap cell did not install demystify into the kernel's env"
    unrun = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and c.source.strip() and not c.get("execution_count")]
    assert not unrun, f"cells {unrun} did not run"
    if "import ipywidgets" in chapter.read_text():
        views, versions = _widget_versions(nb)
        assert views and versions == {"1.5.0"}, \
            f"expected ipywidgets 7 widgets (controls 1.5.0), got {views} views of {versions}"
