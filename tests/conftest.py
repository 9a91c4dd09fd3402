"""Shared test settings: every test sees a clean demystify environment; the site is built once."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEMYSTIFY_VARS = ("DEMYSTIFY_DEVICE", "DEMYSTIFY_PROFILE", "DEMYSTIFY_DATA", "DEMYSTIFY_DOWNLOAD",
                  "DEMYSTIFY_SEED", "DEMYSTIFY_CLAIMS_OUT", "DEMYSTIFY_CLAIMS_COMPARE",
                  "DEMYSTIFY_CLAIMS_SOFT", "DEMYSTIFY_CLAIMS_SPREAD")


@pytest.fixture(autouse=True)
def clean_demystify_env(request, monkeypatch):
    """Tests set the variables they need; the caller's settings never leak in.

    Tests run on the CPU (DEMYSTIFY_DEVICE=cpu, which the kernels and scripts they start
    inherit), so that a GPU machine runs them as a laptop does and compares CPU results with
    CPU records; tests marked `cuda` (tests/test_gpu.py) pick their device themselves."""
    for name in DEMYSTIFY_VARS:
        monkeypatch.delenv(name, raising=False)
    if request.node.get_closest_marker("cuda") is None:
        monkeypatch.setenv("DEMYSTIFY_DEVICE", "cpu")


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The book built once per test session (`jupyter-book build --warningiserror`), in a
    temporary folder: returns its _build/html. Used by test_site.py and test_browser.py.
    DEMYSTIFY_TEST_SITE=_build/html reuses a site built before (`make book`) instead."""
    root = Path(__file__).resolve().parents[1]
    if os.environ.get("DEMYSTIFY_TEST_SITE"):
        return Path(os.environ["DEMYSTIFY_TEST_SITE"]).resolve()
    out = tmp_path_factory.mktemp("site")
    cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
           "build", str(root), "--path-output", str(out), "--warningiserror", "--keep-going"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    log = run.stdout + run.stderr
    assert run.returncode == 0, f"the site build failed or warned:\n{log[-6000:]}"
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    assert not warnings, "\n".join(warnings)
    return out / "_build" / "html"


@pytest.fixture(scope="session")
def demystify_wheel(tmp_path_factory) -> Path:
    """A wheel of this checkout's demystify package, built from a copy of the sources (so
    that parallel builds never share the checkout's build/ folder), offline."""
    root = Path(__file__).resolve().parents[1]
    src = tmp_path_factory.mktemp("demystify-src")
    folders = ("demystify", "data", "azureml")
    # Only what git tracks, as `pip install git+<repository>` would see it: a downloaded
    # dataset or a stray file in data/ must not make the test pass.
    listed = subprocess.run(["git", "ls-files", "pyproject.toml", "README.md", *folders],
                            cwd=root, capture_output=True, text=True)
    files = listed.stdout.split() if listed.returncode == 0 else []
    if not files:      # not a git checkout (e.g. an unpacked sdist): copy the folders
        files = ["pyproject.toml", "README.md",
                 *(str(p.relative_to(root)) for f in folders for p in (root / f).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and "cache" not in p.parts)]
    for name in files:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(src)],
                   check=True, capture_output=True, timeout=300)
    wheel, = out.glob("demystify-*.whl")
    return wheel
