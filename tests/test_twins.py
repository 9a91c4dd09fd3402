"""Every chapter notebook has a jupytext twin, chapters/NN_name.py (percent format), that agrees
with it cell for cell: the twin is what authors edit, the notebook carries the outputs (DESIGN §4,
CONTRIBUTING §1). Fast: reads 20 files, executes nothing."""
import json
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
SYNC = "make sync  (= .venv/bin/jupytext --sync chapters/[0-9][0-9]_*.ipynb)"

# The pairing every chapter carries in its notebook metadata (and so in its twin's header).
# notebook_metadata_filter: only kernelspec (and jupytext's own section) go into the twin; the
#   stored widget state (`widgets`, megabytes) and `language_info` stay in the .ipynb only.
# cell_metadata_filter: every cell metadata key goes into the twin (tags such as hide-input,
#   mystnb figure caption/alt, ...) except jupytext's default volatile front-end keys below.
PAIRING = {
    "formats": "ipynb,py:percent",
    "notebook_metadata_filter": "kernelspec,jupytext,-all",
    "cell_metadata_filter": "all,-execution,-ExecuteTime,-autoscroll,-collapsed,-scrolled,-trusted",
}

# What the comparison ignores, and why:
# - cell fields `id`, `outputs`, `execution_count`, `attachments`: the percent format stores only
#   a cell's type, source and metadata; `jupytext --update` keeps these from the .ipynb.
# - cell metadata `execution`, `ExecuteTime`, `autoscroll`, `collapsed`, `scrolled`, `trusted`:
#   execution timestamps and front-end display state, excluded from the twin by the
#   cell_metadata_filter above (jupytext restores them from the .ipynb on --update).
# - cell metadata `lines_to_next_cell`, `lines_to_end_of_cell_marker`, `cell_marker`, `skipline`,
#   `noskipline`: jupytext's record of the twin's blank lines and markers, recomputed each time
#   the twin is read; they describe the text layout, not the notebook's content.
# - notebook-level metadata (widgets, language_info): deliberately not in the twin; the pairing
#   itself is checked by test_pairing_metadata.
IGNORED_CELL_METADATA = frozenset({
    "execution", "ExecuteTime", "autoscroll", "collapsed", "scrolled", "trusted",
    "lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker", "skipline", "noskipline",
})


def _excerpt(text: str, width: int = 70) -> str:
    """The first non-blank line of a cell source, shortened, for a failure message."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    return repr(line if len(line) <= width else line[: width - 1] + "…")


def _metadata(cell) -> dict:
    return {k: v for k, v in cell.metadata.items() if k not in IGNORED_CELL_METADATA}


def twin_mismatch(notebook: Path, twin: Path | None = None) -> str | None:
    """None when `twin` (default: the notebook's .py beside it) has the notebook's cells - same
    number, types, sources and metadata (less IGNORED_CELL_METADATA); else a message naming the
    chapter, the first differing cell and the command that syncs them."""
    twin = twin or notebook.with_suffix(".py")
    name = notebook.stem
    if not twin.exists():
        return (f"{name}: the twin {twin.name} is missing. Pair and write it with `{SYNC}` (a new "
                "chapter: copy the jupytext header of another chapter's twin, see CONTRIBUTING.md)")
    nb = nbformat.read(notebook, as_version=4)
    text = jupytext.read(twin, fmt="py:percent")
    for i, (a, b) in enumerate(zip(nb.cells, text.cells)):
        where = f"{name}: cell {i} ({a.cell_type}, notebook {_excerpt(a.source)})"
        if a.cell_type != b.cell_type:
            problem = f"is a {b.cell_type} cell in {twin.name}"
        elif a.source != b.source:
            diff = next((j for j, (x, y) in enumerate(zip(a.source.splitlines(),
                                                          b.source.splitlines())) if x != y),
                        min(len(a.source.splitlines()), len(b.source.splitlines())))
            line_a = a.source.splitlines()[diff:diff + 1] or ["<end of cell>"]
            line_b = b.source.splitlines()[diff:diff + 1] or ["<end of cell>"]
            problem = (f"has a different source in {twin.name}: line {diff + 1} reads "
                       f"{_excerpt(line_b[0])} there, {_excerpt(line_a[0])} in the notebook")
        elif _metadata(a) != _metadata(b):
            problem = (f"has different metadata: {json.dumps(_metadata(b))[:200]} in {twin.name}, "
                       f"{json.dumps(_metadata(a))[:200]} in the notebook")
        else:
            continue
        return f"{where} {problem}. Sync them with `{SYNC}`"
    if len(nb.cells) != len(text.cells):
        i = min(len(nb.cells), len(text.cells))
        extra, where = (nb.cells[i], "the notebook") if len(nb.cells) > i else (text.cells[i], twin.name)
        return (f"{name}: {len(nb.cells)} cells in the notebook, {len(text.cells)} in {twin.name}; "
                f"the first unmatched is cell {i} ({extra.cell_type}, {_excerpt(extra.source)}) "
                f"in {where}. Sync them with `{SYNC}`")
    return None


def test_every_chapter_is_found():
    assert len(CHAPTERS) >= 10, [p.name for p in CHAPTERS]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_twin_agrees_with_notebook(notebook):
    problem = twin_mismatch(notebook)
    assert problem is None, problem


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_pairing_metadata(notebook):
    """The notebook is paired with the agreed filters, and its twin's header holds no widget
    state or language_info."""
    meta = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]
    pairing = {k: meta.get("jupytext", {}).get(k) for k in PAIRING}
    assert pairing == PAIRING, (
        f"{notebook.stem}: jupytext pairing metadata is {pairing}, expected {PAIRING} "
        "(see CONTRIBUTING.md §1)")
    twin = notebook.with_suffix(".py")
    if twin.exists():   # a missing twin is reported by test_twin_agrees_with_notebook
        header = twin.read_text(encoding="utf-8").split("\n# ---\n", 1)[0]
        assert "kernelspec:" in header, f"{twin.name}: no kernelspec in the header"
        for key in ("widgets:", "language_info:", "widget-state"):
            assert key not in header, f"{twin.name}: the header carries {key} - run `{SYNC}`"


# --- the comparison itself can fail ------------------------------------------------------------

def _pair(tmp_path: Path) -> tuple[Path, Path]:
    """A small notebook with outputs and its twin, in sync."""
    nb = nbformat.v4.new_notebook(metadata={"jupytext": dict(PAIRING), "kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}})
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A chapter\n\nSome prose."),
        nbformat.v4.new_code_cell("x = 1\nprint(x)", metadata={"tags": ["hide-input"]},
                                  execution_count=1,
                                  outputs=[nbformat.v4.new_output("stream", text="1\n")]),
        nbformat.v4.new_code_cell("plt.show()", metadata={"mystnb": {
            "figure": {"caption": "A figure.", "name": "fig-x"}, "image": {"alt": "Alt text."}}}),
    ]
    notebook = tmp_path / "99_example.ipynb"
    nbformat.write(nb, notebook)
    jupytext.write(nb, notebook.with_suffix(".py"), fmt="py:percent")
    return notebook, notebook.with_suffix(".py")


def test_comparison_accepts_a_pair_in_sync(tmp_path):
    notebook, _ = _pair(tmp_path)
    assert twin_mismatch(notebook) is None
    # volatile metadata only in the notebook is ignored
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    nb.cells[1].metadata["collapsed"] = False
    nbformat.write(nb, notebook)
    assert twin_mismatch(notebook) is None


@pytest.mark.parametrize("edit, expected", [
    (lambda t: t.replace("print(x)", "print(x + 1)"), ["cell 1", "'x = 1'", "line 2",
                                                        "'print(x + 1)'", "'print(x)'"]),
    (lambda t: t.replace('tags=["hide-input"]', ""), ["cell 1", "metadata", "hide-input"]),
    (lambda t: t.replace('"alt": "Alt text."', '"alt": "Other."'), ["cell 2", "metadata"]),
    (lambda t: t.replace("# %% [markdown]", "# %%", 1), ["cell 0", "is a code cell"]),
    (lambda t: t + "\n# %%\nextra = 2\n", ["3 cells in the notebook, 4", "cell 3", "'extra = 2'"]),
    (lambda t: t.split("# %% mystnb")[0], ["3 cells in the notebook, 2", "cell 2",
                                           "'plt.show()'", "in the notebook"]),
], ids=["source", "tag-removed", "mystnb-changed", "type", "extra-cell", "missing-cell"])
def test_comparison_reports_an_out_of_sync_pair(tmp_path, edit, expected):
    notebook, twin = _pair(tmp_path)
    twin.write_text(edit(twin.read_text(encoding="utf-8")), encoding="utf-8")
    problem = twin_mismatch(notebook)
    assert problem is not None
    for fragment in ["99_example", "make sync", *expected]:
        assert fragment in problem, (fragment, problem)


def test_comparison_reports_a_missing_twin(tmp_path):
    notebook, twin = _pair(tmp_path)
    twin.unlink()
    problem = twin_mismatch(notebook)
    assert problem is not None and "99_example" in problem and "missing" in problem


def test_comparison_catches_an_edit_to_a_real_chapter(tmp_path):
    """A one-character edit in a copy of a real chapter's twin is reported at the right cell."""
    notebook = CHAPTERS[0]
    twin_text = notebook.with_suffix(".py").read_text(encoding="utf-8")
    nb = nbformat.read(notebook, as_version=4)
    i, cell = next((i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source)
    first = cell.source.splitlines()[0]
    assert twin_text.count(first) >= 1
    copy = tmp_path / notebook.name
    copy.write_bytes(notebook.read_bytes())
    copy.with_suffix(".py").write_text(twin_text.replace(first, first + "  # edited", 1),
                                       encoding="utf-8")
    problem = twin_mismatch(copy)
    assert problem is not None and f"cell {i} " in problem and "make sync" in problem, problem
