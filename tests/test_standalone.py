"""A chapter notebook copied alone, as a Colab or Azure user gets it, runs and passes.

The notebook is copied into an empty folder and run in a fresh kernel whose Python environment
has everything a Colab image has (torch, scikit-learn, Jupyter…) but not `demystify`: its
bootstrap cell must notice and install the helpers. DEMYSTIFY_SOURCE points that install at a
copy of this checkout's package (instead of `git+` the repository URL), and pip works offline.
The kernel also runs under the offline guard (tests/offline/sitecustomize.py).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "01_ml_vs_dl.ipynb"


def make_env_without_demystify(where: Path) -> Path:
    """A new venv that sees this .venv's packages (a .pth line to its site-packages) but not
    demystify: the editable install's own .pth in there is not processed from a .pth-added path.
    Returns the venv's python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "_course_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def package_copy(dest: Path) -> Path:
    """What `pip install demystify @ <url>` needs of the checkout: the package and the committed
    data/ it ships (pip builds in the source folder, so it builds in a copy)."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "demystify", dest / "demystify",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # data/ ships inside the package (demystify/course_data); the cache is never part of it.
    shutil.copytree(ROOT / "data", dest / "data", ignore=shutil.ignore_patterns("cache"))
    return dest


@pytest.mark.slow
def test_chapter_copied_alone_bootstraps_demystify_and_passes(tmp_path, monkeypatch):
    python = make_env_without_demystify(tmp_path / "env")
    probe = subprocess.run([str(python), "-c", "import importlib.util as u; "
                            "print(u.find_spec('demystify') is None, u.find_spec('torch') is not None)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path)
    assert probe.stdout.split() == ["True", "True"], "the test env should lack demystify only"

    work = tmp_path / "work"
    work.mkdir()
    notebook = work / CHAPTER.name
    shutil.copy2(CHAPTER, notebook)
    assert [p.name for p in work.iterdir()] == [CHAPTER.name]

    kernels = tmp_path / "jupyter" / "kernels" / "standalone"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "standalone", "language": "python"}))
    drop = ("DEMYSTIFY_", "VIRTUAL_ENV", "PYTHONPATH", "PIP_", "JUPYTER_PATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update({
        "PATH": f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
        "DEMYSTIFY_SOURCE": package_copy(tmp_path / "src").as_uri(),
        "DEMYSTIFY_PROFILE": "cpu", "DEMYSTIFY_DEVICE": "cpu",
        "PYTHONPATH": str(ROOT / "tests" / "offline"),       # the offline guard
        "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",   # offline: build with setuptools here
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CONFIG_FILE": os.devnull,
        "HOME": str(tmp_path / "home"),
    })
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))   # finds the kernel above
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, kernel_name="standalone", timeout=900, allow_errors=False,
                            resources={"metadata": {"path": str(work)}})
    client.execute(env=env)

    installed = list((tmp_path / "env" / "lib").glob("python*/site-packages/demystify/__init__.py"))
    assert installed, "the bootstrap cell did not install demystify into the notebook's environment"
    # A chapter asserts its results with `assert` or, on the claims machinery, `claim(...)`
    checks = [c for c in nb.cells if c.cell_type == "code"
              and ("assert" in c.source or "claim(" in c.source or "report()" in c.source)]
    assert checks and all(c.get("execution_count") for c in checks), "the Checks cells did not run"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
