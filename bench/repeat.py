"""Repeatability: run every chapter twice, compare what must not change; write bench/repeat.md.

    python bench/repeat.py                          # make repeat: every chapter, 2 runs
    python bench/repeat.py chapters/01_ml_vs_dl.ipynb --runs 3
    python bench/repeat.py chapters/01_ml_vs_dl.ipynb --threads 1   # as torch on 1 core

Each run is a fresh kernel in the CPU profile (as `make execute`), without touching the
notebook. Compared between runs, exactly:
  * every `# NBVAL_CHECK_OUTPUT` cell's text output, after tests/nbval_sanitize.cfg (as nbval);
  * every value an `assert` of the chapter reads: the variables named in its assert statements
    (accuracies, scores tables, parameter counts), captured after the last cell; floats by repr;
  * every claim the chapter makes (`demystify.claim`, collected through DEMYSTIFY_CLAIMS_OUT):
    value, parts, condition and whether it held. Timings are recorded, never compared.
The runs are on seed 0 (DEMYSTIFY_SEED=0, as the stored outputs) without the caller's
DEMYSTIFY_CLAIMS_COMPARE / _SOFT. The checked cells are also compared with the outputs stored in
the notebook, and the claims with the committed record chapters/claims/<chapter>.json (both
reported, not failing: make test judges those). Slow (each chapter runs twice), so it is not part
of `make test`; the lead runs it before a release.
"""
from __future__ import annotations

import argparse
import ast
import configparser
import datetime as dt
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
# bench/ is on sys.path when run as a script
from run_chapters import CLAIMS_DIR, chapter_notebooks, claims_env, execute

ROOT = Path(__file__).resolve().parent.parent
CHECK = "# NBVAL_CHECK_OUTPUT"
MARK = "REPEAT_PROBE"

# Runs in the kernel after the chapter: the asserted variables, made comparable as JSON.
PROBE = r'''
def _repeat_norm(value, depth=0):
    import numbers, types
    try:
        import torch
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            return value.tolist() if value.numel() <= 256 else \
                f"tensor{tuple(value.shape)} sum={float(value.double().sum())!r}"
    except ImportError:
        pass
    try:
        import numpy as np
        if isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, np.ndarray):
            return value.tolist() if value.size <= 256 else \
                f"array{value.shape} sum={float(value.astype('float64').sum())!r}"
    except ImportError:
        pass
    if hasattr(value, "to_dict") and hasattr(value, "index"):      # pandas Series/DataFrame
        value = value.to_dict()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, numbers.Number):
        return repr(value)
    if depth < 4 and isinstance(value, dict) and len(value) <= 256:
        return {str(k): _repeat_norm(v, depth + 1) for k, v in value.items()}
    if depth < 4 and isinstance(value, (list, tuple, set)) and len(value) <= 256:
        items = sorted(value, key=repr) if isinstance(value, set) else value
        return [_repeat_norm(v, depth + 1) for v in items]
    if hasattr(value, "metrics") and isinstance(getattr(value, "metrics"), dict):   # History
        return _repeat_norm(value.metrics, depth + 1)
    return None                  # models, modules, functions: not a value to compare
import json as _repeat_json
_repeat_values = {}
for _repeat_name in NAMES:
    if _repeat_name in globals():
        _repeat_value = _repeat_norm(globals()[_repeat_name])
        if _repeat_value is not None:
            _repeat_values[_repeat_name] = _repeat_value
import torch as _repeat_torch
print("MARK" + _repeat_json.dumps({"values": _repeat_values, "threads": _repeat_torch.get_num_threads()},
                                  sort_keys=True))
'''


def sanitizers() -> list[tuple[re.Pattern, str]]:
    """nbval's substitutions (tests/nbval_sanitize.cfg), applied to checked outputs."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def output_text(cell, rules) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    text = "".join(parts)
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and any(line.strip() == CHECK for line in cell.source.splitlines())


def asserted_names(nb) -> list[str]:
    """Variables read by the chapter's assert statements (cells with magics are skipped)."""
    names: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                names |= {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
    return sorted(names)


COMPARED = ("value", "parts", "condition", "held")      # what must repeat exactly in a claim


def read_claims(folder: Path) -> dict[str, dict]:
    """The claims (not timings nor figures) a run appended under DEMYSTIFY_CLAIMS_OUT=folder,
    by name: the fields in COMPARED (floats exact: JSON keeps a float's repr)."""
    made = {}
    for jsonl in sorted(Path(folder).glob("*.jsonl")):
        for line in jsonl.read_text().splitlines():
            c = json.loads(line) if line.strip() else {}
            if c and c.get("kind", "claim") not in ("timing", "figure"):
                made[c["name"]] = {k: c.get(k) for k in COMPARED}
    return made


def stored_claims_diff(chapter: str, made: dict[str, dict], folder: Path = CLAIMS_DIR) -> list[str]:
    """How a run's claims differ from the committed record (exactly; [] when there is none)."""
    record = Path(folder) / f"{chapter}.json"
    if not record.exists():
        return []
    stored = {c["name"]: {k: c.get(k) for k in COMPARED}
              for c in json.loads(record.read_text())["claims"] if c.get("kind", "claim") != "timing"}
    return [f"claim `{name}` differs from the stored record (stored vs run 1): "
            f"{field_diff(stored.get(name), made.get(name))}"
            for name in sorted(set(stored) | set(made)) if stored.get(name) != made.get(name)]


def run_once(path: Path, names: list[str], timeout: int) -> dict:
    nb = nbformat.read(path, as_version=4)
    probe = PROBE.replace("NAMES", repr(names)).replace('"MARK"', repr(MARK))
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    with tempfile.TemporaryDirectory(prefix=f"repeat-{path.stem}-") as out:
        status, wall = execute(nb, path, timeout, claims_env(out, seed=0))
        claims = read_claims(Path(out))
    values, threads = {}, None
    for out in nb.cells.pop().get("outputs", []):
        if MARK in out.get("text", ""):
            probe_out = json.loads(out["text"].split(MARK, 1)[1])
            values, threads = probe_out["values"], probe_out["threads"]
    rules = sanitizers()
    checked = {i: output_text(c, rules) for i, c in enumerate(nb.cells) if is_checked(c)}
    return {"status": status, "wall_s": wall, "checked": checked, "values": values, "threads": threads,
            "claims": claims}


def compare(path: Path, runs: int, timeout: int) -> dict:
    stored = nbformat.read(path, as_version=4)
    rules = sanitizers()
    stored_checked = {i: output_text(c, rules) for i, c in enumerate(stored.cells) if is_checked(c)}
    names = asserted_names(stored)
    results = []
    for k in range(runs):
        print(f"  run {k + 1}/{runs} …", flush=True)
        results.append(run_once(path, names, timeout))
        print(f"    {results[-1]['status']} in {results[-1]['wall_s']:.0f} s", flush=True)
    first = results[0]
    differences = []
    for k, other in enumerate(results[1:], start=2):
        for i, text in first["checked"].items():
            if other["checked"].get(i) != text:
                differences.append(f"cell {i}: checked output differs between run 1 and run {k}")
        for name in sorted(set(first["values"]) | set(other["values"])):
            if first["values"].get(name) != other["values"].get(name):
                differences.append(f"`{name}` differs between run 1 and run {k}")
        differences += claims_diff(first["claims"], other["claims"], k)
    stored_diff = [f"cell {i}: checked output differs from the stored one"
                   for i, text in stored_checked.items() if first["checked"].get(i) != text]
    stored_diff += stored_claims_diff(path.stem, first["claims"])
    return {"runs": results, "names": names, "differences": differences, "stored_diff": stored_diff,
            "ok": all(r["status"] == "ok" for r in results) and not differences}


def claims_diff(first: dict[str, dict], other: dict[str, dict], k: int) -> list[str]:
    """Claims of run 1 and run k that differ in any compared field (or are made in one only)."""
    return [f"claim `{name}` differs between run 1 and run {k}: {field_diff(first.get(name), other.get(name))}"
            for name in sorted(set(first) | set(other)) if first.get(name) != other.get(name)]


def field_diff(a: dict | None, b: dict | None) -> str:
    """'value 0.91 vs 0.92' for the fields that differ; 'made in one run only' for a missing claim."""
    if a is None or b is None:
        return "made in " + ("the second" if a is None else "the first") + " only"
    return "; ".join(f"{k} {a.get(k)!r} vs {b.get(k)!r}" for k in COMPARED if a.get(k) != b.get(k))


def write_report(records: dict[str, dict], out: Path) -> None:
    """bench/repeat.md from every record (one per chapter and torch thread count)."""
    lines = ["# Repeatability — every chapter run twice", "",
             "Written by `make repeat` (bench/repeat.py; the raw record is bench/repeat.json). Each",
             "chapter runs twice or more, each time in a fresh kernel in the CPU profile. Compared",
             "exactly between the runs: the text of every `# NBVAL_CHECK_OUTPUT` cell (after",
             "tests/nbval_sanitize.cfg, as nbval compares them), every value the chapter's `assert`",
             "statements read (floats by their full repr) and every claim (`demystify.claim`: value,",
             "parts, condition, held; timings are not compared). The checked cells are also compared",
             "with the outputs stored in the notebook, the claims with chapters/claims/<chapter>.json.",
             "Wall times come from a shared machine: not a benchmark.",
             "", "| chapter | torch threads | date | runs ok | checked cells | asserted values | claims | "
             "identical across runs | checked cells, claims = stored | wall s per run |",
             "|---|---:|---|---:|---:|---:|---:|---|---|---|"]
    for key, r in sorted(records.items()):
        runs = r["runs"]
        walls = ", ".join(f"{run['wall_s']:.0f}" for run in runs)
        lines.append(f"| {r['chapter']} | {runs[0]['threads']} | {r['date']} | "
                     f"{sum(run['status'] == 'ok' for run in runs)}/{len(runs)} | "
                     f"{len(runs[0]['checked'])} | {len(runs[0]['values'])} | "
                     f"{len(runs[0]['claims']) if 'claims' in runs[0] else '–'} | "
                     f"{'yes' if r['ok'] else '**NO**'} | {'yes' if not r['stored_diff'] else '**NO**'} | "
                     f"{walls} |")
    by_chapter: dict[str, list[dict]] = {}
    for key, r in sorted(records.items()):
        by_chapter.setdefault(r["chapter"], []).append(r)
    for chapter, rs in by_chapter.items():
        if len(rs) < 2:
            continue
        first = rs[0]["runs"][0]
        for other in rs[1:]:
            values = other["runs"][0]["values"]
            differ = sorted(n for n in set(first["values"]) | set(values)
                            if first["values"].get(n) != values.get(n))
            lines += ["", f"{chapter}, {first['threads']} vs {other['runs'][0]['threads']} torch "
                      f"threads: " + (f"the asserted values {', '.join(differ)} differ (a different "
                      f"summation order in float32 kernels; each is still identical run to run)"
                      if differ else "identical asserted values.")]
    for key, r in sorted(records.items()):
        lines += ["", f"## {r['chapter']}, {r['runs'][0]['threads']} torch thread(s)", ""]
        for problem in r["differences"] + r["stored_diff"] + \
                [run["status"] for run in r["runs"] if run["status"] != "ok"]:
            lines.append(f"- **{problem}**")
        if r["runs"][0]["values"]:
            lines += ["", "Asserted values (run 1; identical in every run unless listed above):", ""]
        for name, value in sorted(r["runs"][0]["values"].items()):
            text = json.dumps(value, ensure_ascii=False)
            lines.append(f"- `{name}` = `{text if len(text) <= 300 else text[:300] + ' …'}`")
        if r["runs"][0].get("claims"):
            lines += ["", "Claims (run 1; identical in every run unless listed above):", ""]
            lines += [f"- `{name}` = `{c['value']!r}` ({c['condition']}, "
                      f"{'held' if c['held'] else 'NOT held'})"
                      for name, c in sorted(r["runs"][0]["claims"].items())]
    from demystify.files import write_text_atomic  # old file or new, never half
    write_text_atomic(out, "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/*.ipynb")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--threads", type=int, help="torch threads in the kernels (default: torch's)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "repeat.md",
                        help="the report; its raw record goes next to it as .json")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2")
    os.environ["DEMYSTIFY_PROFILE"] = "cpu"      # the profile of the stored outputs
    os.environ["DEMYSTIFY_DEVICE"] = "cpu"
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)   # torch's intra-op threads in the kernels
    record_file = args.out.with_suffix(".json")
    records = json.loads(record_file.read_text()) if record_file.exists() else {}
    notebooks = chapter_notebooks(args.notebooks, parser)
    report = {}
    for path in notebooks:
        path = Path(path).resolve()
        print(f"▶ {path.name}", flush=True)
        report[path.stem] = r = compare(path, args.runs, args.timeout)
        r.update(chapter=path.stem, date=dt.date.today().isoformat())
        records[f"{path.stem}@{r['runs'][0]['threads']}"] = r
        print(f"  {'identical' if r['ok'] else 'DIFFERENT'}: {len(r['runs'][0]['checked'])} checked "
              f"cells, {len(r['runs'][0]['values'])} asserted values, {len(r['runs'][0]['claims'])} "
              f"claims; {r['differences'] + r['stored_diff']}",
              flush=True)
    from demystify.files import write_text_atomic  # old file or new, never half
    write_text_atomic(record_file, json.dumps(records, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    write_report(records, args.out)
    print(f"wrote {args.out}")
    return 0 if all(r["ok"] for r in report.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
