"""The site: one repository URL everywhere, offline assets in place, and a clean build.

Fast tests read the configuration and the notebooks; the `slow` test builds the whole book
(`jupyter-book build --warningiserror`) into a temporary folder and inspects the HTML.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml
from site_browser import toc_files

ROOT = Path(__file__).resolve().parents[1]
REPO_URL = "https://github.com/demystify-dl/demystifying-deep-learning"
VENDOR = ROOT / "book" / "_vendor"
WIDGET_JS = ("vendored/widgets/require.js", "vendored/widgets/offline-config.js",
             "vendored/widgets/embed-amd.js")
MATHJAX_JS = "vendored/mathjax/tex-chtml.js"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _toc_files() -> list[str]:
    """Every `file:` of _toc.yml, root first, in reading order."""
    return toc_files(ROOT)


def _source(path: str) -> Path:
    """The source of a toc entry (given without its suffix)."""
    found = [p for p in (ROOT / f"{path}.md", ROOT / f"{path}.ipynb") if p.exists()]
    assert found, f"_toc.yml lists {path!r} but neither {path}.md nor {path}.ipynb exists"
    return found[0]


def _chapter_notebooks() -> list[Path]:
    """The chapter notebooks the book publishes (those _toc.yml lists)."""
    return [ROOT / f"{path}.ipynb" for path in _toc_files() if (ROOT / f"{path}.ipynb").exists()]


# --- fast -------------------------------------------------------------------------------------

def test_config_names_the_one_repository_url():
    config = _config()
    assert config["repository"]["url"] == REPO_URL
    assert config["repository"]["branch"] == "main"
    launch = config["launch_buttons"]
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert config["execute"]["execute_notebooks"] == "off", "the site renders stored outputs"
    assert config["sphinx"]["recursive_update"] is True, "else html_theme_options drop buttons"


@pytest.mark.parametrize("notebook", _chapter_notebooks(), ids=lambda p: p.name)
def test_bootstrap_cell_installs_from_the_repository_url(notebook):
    nb = json.loads(notebook.read_text())
    bootstraps = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
                  and 'find_spec("demystify")' in "".join(c["source"])]
    assert bootstraps, f"{notebook.name} has no bootstrap cell (find_spec(\"demystify\") … %pip)"
    urls = re.findall(r"git\+(https?://[^\s\"'@{}]+)", bootstraps[0])
    assert urls, f"{notebook.name}: the bootstrap cell installs from no git+ URL"
    assert set(urls) == {REPO_URL}, f"{notebook.name} installs from {urls}, not {REPO_URL}"


def test_every_toc_entry_has_a_source():
    files = _toc_files()
    assert files[:2] == ["book/intro", "book/setup"] and files[-1] == "book/bibliography"
    for path in files:
        _source(path)


def test_offline_assets_are_wired_and_present():
    sphinx = _config()["sphinx"]["config"]
    assert list(sphinx["nb_ipywidgets_js"]) == list(WIDGET_JS)
    assert sphinx["mathjax_path"] == MATHJAX_JS
    for rel in (*WIDGET_JS, MATHJAX_JS):
        assert (VENDOR / rel.removeprefix("vendored/")).is_file(), rel


def test_vendored_files_match_their_recorded_checksums():
    """book/_vendor/README.md records every vendored file with its SHA-256."""
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$",
                      (VENDOR / "README.md").read_text(), flags=re.M)
    recorded = dict(rows)
    present = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*")
               if p.is_file() and p.name != "README.md"}
    assert set(recorded) == present, "README.md and book/_vendor/ list different files"
    for rel, digest in recorded.items():
        assert hashlib.sha256((VENDOR / rel).read_bytes()).hexdigest() == digest, rel


# --- slow: the real build ---------------------------------------------------------------------

# `site` (the book built once per session into a temporary folder) is a fixture of conftest.py,
# shared with the browser tests (test_browser.py).


def _title(source: Path) -> str:
    """The first `# ` heading of a page's source (markdown file or notebook)."""
    if source.suffix == ".ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(source.read_text())["cells"]
                         if c["cell_type"] == "markdown")
    else:
        text = source.read_text()
    match = re.search(r"^# (.+)$", text, re.M)
    assert match, f"{source.name} has no `# ` title"
    return match.group(1).strip()


def _stored_images(notebook: Path) -> int:
    """How many image outputs (figures) a notebook's stored outputs hold."""
    return sum("image/png" in output.get("data", {})
               for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code"
               for output in cell.get("outputs", []))


def _words(html: str) -> list[str]:
    return re.findall(r"\w+", re.sub(r"<[^>]+>|&\w+;|&#\d+;", " ", html))


@pytest.mark.slow
def test_build_writes_every_page_with_its_title_and_figures(site):
    """Each page of the toc is written with its source's title as its <h1>, and each chapter
    page shows one image per figure stored in the notebook (an empty or truncated page, or a
    build that drops outputs, fails here; the browser tests look at the rendered pages)."""
    for path in _toc_files():
        html = (site / f"{path}.html").read_text()
        headings = [_words(h) for h in re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)]
        assert _words(_title(_source(path))) in headings, f"{path}.html lacks its title"
        if _source(path).suffix == ".ipynb":
            shown = len(re.findall(r'<img [^>]*src="(?:\.\./)*_images/', html))
            assert shown == _stored_images(_source(path)), f"{path}.html: {shown} figures"
    assert 'http-equiv="Refresh"' in (site / "index.html").read_text()


@pytest.mark.slow
def test_bibliography_lists_every_reference(site):
    n_entries = len(re.findall(r"^@\w+\{", (ROOT / "book/references.bib").read_text(), re.M))
    page = (site / "book/bibliography.html").read_text()
    assert page.count('role="doc-biblioentry"') == n_entries


@pytest.mark.slow
def test_vendored_assets_are_copied(site):
    for rel in (*WIDGET_JS, MATHJAX_JS):     # the vendored files themselves, byte for byte
        assert (site / "_static" / rel).read_bytes() == \
            (VENDOR / rel.removeprefix("vendored/")).read_bytes(), rel
    assert list((site / "_static/vendored/widgets/fonts").glob("*.woff2"))
    assert list((site / "_static/vendored/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))


def _loaded(page: str) -> list[str]:
    """URLs a page loads by itself: script sources and stylesheets (not links to click)."""
    scripts = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", page)
    styles = re.findall(r"<link[^>]*rel=\"stylesheet\"[^>]*href=\"([^\"]+)\"", page)
    styles += re.findall(r"<link[^>]*href=\"([^\"]+)\"[^>]*rel=\"stylesheet\"", page)
    return scripts + styles


@pytest.mark.slow
def test_pages_load_nothing_from_outside_the_site(site):
    pages = [site / f"{path}.html" for path in _toc_files()]
    widget_pages = 0
    for html in pages:
        page = html.read_text()
        external = [u for u in _loaded(page) if re.match(r"(https?:)?//", u)]
        assert not external, f"{html.relative_to(site)} loads {external}"
        for cdn in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "unpkg.com/@jupyter-widgets"):
            assert cdn not in page, f"{html.relative_to(site)} mentions {cdn}"
        depth = "../" * (len(html.relative_to(site).parts) - 1)
        loaded = _loaded(page)
        if WIDGET_STATE in page:
            widget_pages += 1
            for rel in WIDGET_JS:
                assert any(u.startswith(f"{depth}_static/{rel}") for u in loaded), \
                    f"{html.relative_to(site)} has widgets but does not load {rel}"
        else:
            assert not any("embed-amd.js" in u for u in loaded), \
                f"{html.relative_to(site)} loads the widget bundle without any widget"
        if any("mathjax" in u.lower() for u in loaded):
            assert any(u.startswith(f"{depth}_static/{MATHJAX_JS}") for u in loaded)
        for url in loaded:  # every local URL a page loads resolves to a file of the site
            target = (html.parent / url.split("?")[0]).resolve()
            assert target.is_file(), f"{html.relative_to(site)} loads missing {url}"
    if _chapter_notebooks():
        assert widget_pages, "no chapter page renders a widget (DESIGN §2.6)"


@pytest.mark.slow
def test_notebook_pages_offer_launch_and_download(site):
    for nb in _chapter_notebooks():
        rel = nb.relative_to(ROOT).as_posix()
        page = (site / rel.replace(".ipynb", ".html")).read_text()
        owner_repo = REPO_URL.removeprefix("https://github.com/")
        assert f"https://colab.research.google.com/github/{owner_repo}/blob/main/{rel}" in page
        assert f"https://mybinder.org/v2/gh/{owner_repo}/main" in page
        assert f'href="../_sources/{rel}"' in page, "no .ipynb download link"
