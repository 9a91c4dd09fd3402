"""Shared test settings: every test sees a clean demystify environment; the site is built once."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

DEMYSTIFY_VARS = ("DEMYSTIFY_DEVICE", "DEMYSTIFY_PROFILE", "DEMYSTIFY_DATA", "DEMYSTIFY_DOWNLOAD",
                  "DEMYSTIFY_SEED", "DEMYSTIFY_CLAIMS_OUT", "DEMYSTIFY_CLAIMS_COMPARE",
                  "DEMYSTIFY_CLAIMS_SOFT")


@pytest.fixture(autouse=True)
def clean_demystify_env(monkeypatch):
    """Tests set the variables they need; the caller's settings never leak in."""
    for name in DEMYSTIFY_VARS:
        monkeypatch.delenv(name, raising=False)


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
