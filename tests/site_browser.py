"""Drive the built site in headless Chromium: serve it on 127.0.0.1, visit pages, take screenshots.

Used by the browser tests (tests/test_browser.py) and by `make screenshots`:

    python tests/site_browser.py _build/html _build/screenshots

Chromium is Debian's `chromium` package (never `playwright install`): $DEMYSTIFY_CHROMIUM, else
`chromium` or `chromium-browser` on PATH. The flags below keep it from calling Google's servers
by itself (component updates, sync, field trials), so that every request a test sees comes
from the page.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-features=Translate,OptimizationHints,MediaRouter"]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Widgets a learner can operate (not the progress bars and labels that training leaves behind).
CONTROL_SELECTOR = (".jupyter-widgets.widget-slider, .jupyter-widgets.widget-dropdown, "
                    ".jupyter-widgets.widget-toggle-buttons, .jupyter-widgets.widget-checkbox, "
                    ".jupyter-widgets.widget-radio, .jupyter-widgets.widget-text, "
                    ".jupyter-widgets.widget-textarea, .jupyter-widgets.widget-select, "
                    ".jupyter-widgets.widget-button, .jupyter-widgets.widget-toggle-button")
VIEWPORT = {"width": 1280, "height": 800}


def toc_files(root: Path = ROOT) -> list[str]:
    """Every `file:` of _toc.yml (without suffix), root first, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def chapter_pages(root: Path = ROOT) -> list[str]:
    """The toc entries that are notebooks (the chapters), without suffix."""
    return [f for f in toc_files(root) if (root / f"{f}.ipynb").exists()]


def chromium_path() -> str:
    """Debian's Chromium: $DEMYSTIFY_CHROMIUM, else `chromium`/`chromium-browser` on PATH."""
    for candidate in (os.environ.get("DEMYSTIFY_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    raise FileNotFoundError("no Chromium found: install Debian's package (`apt-get install chromium`; "
                            "`make test` does it when missing) or set DEMYSTIFY_CHROMIUM to its path")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:   # keep test output clean
        pass


@contextlib.contextmanager
def serve(directory: str | Path) -> Iterator[str]:
    """Serve `directory` over HTTP on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    directory = Path(directory)
    if not (directory / "index.html").is_file():
        raise FileNotFoundError(f"{directory} holds no built site (index.html): run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium (Playwright Browser), closed afterwards.

    Playwright's launch() gives every browser a fresh, temporary user-data-dir of its own.
    """
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """What happened while one page loaded: its console errors, requests, and the page itself."""
    url: str
    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    page: object = None


def is_local(url: str, base: str) -> bool:
    """Whether a request stays on the test server (data: and blob: URLs never leave the page)."""
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == urlsplit(base).hostname


@contextlib.contextmanager
def visit(browser, base: str, path: str, color_scheme: str = "light") -> Iterator[Visit]:
    """Open `path` in a fresh browser context, blocking (and recording) any non-local request.

    Waits until the network is idle and, on pages that store widget state, until the widgets
    are rendered. Yields a Visit whose `page` is the open Playwright page.
    """
    context = browser.new_context(viewport=VIEWPORT, color_scheme=color_scheme,
                                  service_workers="block")
    record = Visit(url=base + path)

    def route(route_, request):
        if is_local(request.url, base):
            route_.continue_()
        else:
            record.external_requests.append(request.url)
            route_.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and record.console_errors.append(
        f"{msg.text} [{msg.location.get('url', '')}]"))
    page.on("pageerror", lambda err: record.console_errors.append(f"uncaught {err}"))
    page.on("websocket", lambda ws: record.external_requests.append(ws.url))
    page.on("response", lambda r: r.status >= 400 and record.failed_requests.append(
        f"{r.status} {r.url}"))
    try:
        response = page.goto(record.url, wait_until="load", timeout=30_000)
        record.status = response.status if response else None
        page.wait_for_load_state("networkidle", timeout=30_000)
        if page.locator(f'script[type="{WIDGET_STATE}"]').count():
            page.wait_for_selector(".jupyter-widgets", state="attached", timeout=30_000)
            page.wait_for_load_state("networkidle", timeout=30_000)
        record.page = page
        yield record
    finally:
        context.close()


def screenshot_name(path: str) -> str:
    """chapters/01_ml_vs_dl -> 01_ml_vs_dl.png; book/intro -> intro.png."""
    return Path(path).name + ".png"


def screenshot_pages(browser, base: str, out: str | Path, pages: list[str] | None = None) -> list[Path]:
    """A PNG of the first screen (1280×800) of each page (default: the root page and every
    chapter) of the site served at `base`, written under `out` as <page name>.png."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pages = pages if pages is not None else [toc_files()[0], *chapter_pages()]
    written = []
    for path in pages:
        with visit(browser, base, f"{path}.html") as seen:
            target = out / screenshot_name(path)
            seen.page.screenshot(path=str(target))
            written.append(target)
    return written


MIN_INK = 0.03     # a chapter's first screen: 8–10 % of its pixels are text, figures, the theme


def ink(png: str | Path) -> float:
    """The fraction of a screenshot's pixels that differ clearly from its background colour
    (its most common colour): about 0 for a blank page, under 1 % for a bare error page such
    as a 404, 8–10 % for a page of the book. What a screenshot check should look at: its file
    size says little (PNG compresses a blank page, but also a page of text, well)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    background = colours[counts.argmax()]
    return float((np.abs(pixels - background).sum(axis=1) > 48).mean())


def take_screenshots(site: str | Path, out: str | Path, pages: list[str] | None = None) -> list[Path]:
    """Serve the built site `site`, start Chromium, and write the screenshots (screenshot_pages)."""
    with serve(site) as base, chromium() as browser:
        return screenshot_pages(browser, base, out, pages)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    site = Path(args[0]) if args else ROOT / "_build" / "html"
    out = Path(args[1]) if len(args) > 1 else ROOT / "_build" / "screenshots"
    for path in take_screenshots(site, out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
