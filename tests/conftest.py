"""Shared test settings: every test sees a clean demystify environment."""
import pytest

DEMYSTIFY_VARS = ("DEMYSTIFY_DEVICE", "DEMYSTIFY_PROFILE", "DEMYSTIFY_DATA", "DEMYSTIFY_DOWNLOAD")


@pytest.fixture(autouse=True)
def clean_demystify_env(monkeypatch):
    """Tests set the variables they need; the caller's settings never leak in."""
    for name in DEMYSTIFY_VARS:
        monkeypatch.delenv(name, raising=False)
