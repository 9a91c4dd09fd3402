"""Copy the vendored offline assets (book/_vendor/) into the site's _static/vendored/.

Why not html_static_path: Jupyter Book adds every .js file found in a static path to *every*
page, and the widget bundle (3.6 MB) belongs only on pages that hold widgets. Here the files are
only copied; `nb_ipywidgets_js` (myst-nb) and `mathjax_path` (Sphinx) in _config.yml reference
them as `vendored/...`, which Sphinx resolves under _static/ relative to each page.
"""
from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util.fileutil import copy_asset

VENDOR = Path(__file__).resolve().parent.parent / "_vendor"
SKIP = {"README.md"}


def _copy_vendor(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / "vendored"
    # Copied before the pages are written, so Sphinx can add its ?v=checksum to the URLs.
    copy_asset(VENDOR, dest, excluded=lambda path: Path(path).name in SKIP)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _copy_vendor)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
