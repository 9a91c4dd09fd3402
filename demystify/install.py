"""What a chapter needs installed, and one clear error when it is not there.

Each chapter's extra packages are the optional dependency `chNN` of this package (see
pyproject.toml): a chapter opened alone installs `demystify[chNN]` in its bootstrap cell. When
the helpers were installed without that extra (for example by another chapter in the same Colab
session), `demystify.start` calls `require_chapter_packages`, which names what is missing and
the one line that installs it, instead of a bare ImportError deep inside the chapter.
"""
from __future__ import annotations

import re
from importlib import metadata

REPOSITORY = "git+https://github.com/demystify-dl/demystifying-deep-learning"

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def chapter_extra(chapter: str) -> str:
    """The extra of chapter "NN_name" (or "NN"): "chNN". Raises ValueError for other names."""
    match = re.fullmatch(r"(\d\d)(_\w+)?", chapter)
    if not match:
        raise ValueError(f"chapter should be named like '06_rcnn' or '06', got {chapter!r}")
    return f"ch{match[1]}"


def chapter_requirements(chapter: str) -> list[str]:
    """The distribution names the chapter's extra lists in the installed package's metadata
    (empty when the package is not installed with metadata, e.g. run from a bare source tree)."""
    extra = chapter_extra(chapter)
    try:
        requires = metadata.requires("demystify") or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for requirement in requires:
        marker = _EXTRA.search(requirement)
        if marker and marker[1] == extra:
            names.append(_NAME.match(requirement)[1])
    return names


def missing_packages(chapter: str) -> list[str]:
    """The chapter's required distributions that are not installed in this Python."""
    missing = []
    for name in chapter_requirements(chapter):
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def require_chapter_packages(chapter: str) -> None:
    """Raise ModuleNotFoundError, saying how to install them, if the chapter's packages are
    missing; return quietly when everything is there."""
    if not re.fullmatch(r"\d\d(_\w+)?", chapter):
        return      # a learner's own notebook: no extra to check (profile() names the problem)
    missing = missing_packages(chapter)
    if missing:
        extra = chapter_extra(chapter)
        raise ModuleNotFoundError(
            f"chapter {chapter} needs {', '.join(missing)}, which this Python does not have: "
            f"run  %pip install \"demystify[{extra}] @ {REPOSITORY}\"  (or pip install "
            f"{' '.join(missing)}) and restart the kernel")
