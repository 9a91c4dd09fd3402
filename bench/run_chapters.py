"""Run the chapter notebooks: store their outputs (`make execute`) or time them (`make bench`).

    python bench/run_chapters.py --write-outputs --profile cpu      # make execute
    python bench/run_chapters.py --bench --profile auto             # make bench
    python bench/run_chapters.py --bench chapters/01_ml_vs_dl.ipynb # one chapter

Each notebook runs once in a fresh kernel from the chapters/ folder. `--bench` records wall
seconds, the kernel's peak resident memory and (on CUDA) peak GPU memory in
bench/results-cpu.json or bench/results-gpu.json and renders the .md page next to it from
that JSON. The timings are measurements, never asserted.

`--write-outputs` runs on seed 0 (DEMYSTIFY_SEED=0) with the caller's DEMYSTIFY_CLAIMS_COMPARE
and DEMYSTIFY_CLAIMS_SOFT removed; with `--profile cpu` (make execute) it also turns the claims
the chapter made (DEMYSTIFY_CLAIMS_OUT, a fresh folder per notebook) into its committed record
chapters/claims/<chapter>.json (see chapters/claims/README.md), or removes the record of a
chapter that no longer makes claims. bench/robustness.py and bench/repeat.py run notebooks
through `execute` and `claims_env` here too.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLAIMS_DIR = ROOT / "chapters" / "claims"       # the committed claims records
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")         # colours in a kernel's traceback
LOCK = ROOT / "requirements.lock"                  # the exact versions `make` installs
# The packages whose versions most move the chapters' outputs and times; the results name them.
KEY_PACKAGES = ("torch", "torchvision", "numpy", "pandas", "scikit-learn", "matplotlib",
                "gymnasium", "ipywidgets")

PROBE = ("import json, torch\n"
         "print('BENCH_PROBE' + json.dumps({'gpu_peak_mib': torch.cuda.max_memory_allocated() / 2**20"
         " if torch.cuda.is_available() else None}))")


class PeakMemory:
    """Samples the resident memory and CPU time of this process's children (the kernel)."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self.cpu_s: dict[int, float] = {}     # pid -> user+system seconds last seen
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            rss = 0
            for child in me.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                    times = child.cpu_times()
                    self.cpu_s[child.pid] = times.user + times.system
                except psutil.Error:
                    pass
            self.peak = max(self.peak, rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def claims_env(out: Path | str, seed: int, soft: bool = False,
               base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a kernel whose claims go to `out`, on `seed`.

    Starts from `base` (default: this process's environment) without the caller's
    DEMYSTIFY_CLAIMS_COMPARE / DEMYSTIFY_CLAIMS_SOFT; `soft` records failed claims instead of
    raising (make robustness).
    """
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if k not in ("DEMYSTIFY_CLAIMS_COMPARE", "DEMYSTIFY_CLAIMS_SOFT")}
    env.update(DEMYSTIFY_CLAIMS_OUT=str(out), DEMYSTIFY_SEED=str(seed))
    if soft:
        env["DEMYSTIFY_CLAIMS_SOFT"] = "1"
    return env


def execute(nb, path: Path, timeout: int, env: dict[str, str] | None = None,
            **client_options) -> tuple[str, float]:
    """Run notebook `nb` (read from `path`) in a fresh kernel started in path's folder, in place.

    The one way the runners in bench/ execute a notebook. `env` is the kernel's whole
    environment (default: this process's). Returns ("ok" or "FAILED: <the error's last line>",
    wall seconds, kernel start included).
    """
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}, **client_options)
    status, started = "ok", time.perf_counter()
    try:
        if env is None:
            client.execute()
        else:
            client.execute(env=env)
    except CellTimeoutError:
        # nbclient's message ends with the cell's source: name the failure instead.
        status = f"FAILED: a cell timed out after {timeout} s"
    except (CellExecutionError, DeadKernelError) as err:
        lines = ANSI.sub("", str(err)).strip().splitlines() or [type(err).__name__]
        status = "FAILED: " + lines[-1][:200]
    return status, time.perf_counter() - started


def run_notebook(path: Path, write_outputs: bool, timeout: int,
                 env: dict[str, str] | None = None) -> dict:
    """Execute one notebook; return its wall time, peak memory and status."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    with PeakMemory() as memory:
        status, wall = execute(nb, path, timeout, env, record_timing=False,
                               store_widget_state=True)
    probe = nb.cells.pop()
    gpu_peak = None
    for output in probe.get("outputs", []):
        text = output.get("text", "")
        if "BENCH_PROBE" in text:
            gpu_peak = json.loads(text.split("BENCH_PROBE", 1)[1])["gpu_peak_mib"]
    if write_outputs and status == "ok":
        from demystify.files import write_text_atomic  # old file or new, never half
        text = nbformat.writes(nb)
        write_text_atomic(path, text if text.endswith("\n") else text + "\n")
    return {"wall_s": wall, "cpu_s": sum(memory.cpu_s.values()), "peak_rss_mib": memory.peak / 2**20,
            "gpu_peak_mib": gpu_peak, "status": status}


def write_claims_record(chapter: str, claims_out: Path, claims_dir: Path = CLAIMS_DIR,
                        seed: int = 0) -> str | None:
    """Turn the claims a run appended (claims_out/<chapter>.seed<seed>.jsonl) into the chapter's
    committed record claims_dir/<chapter>.json; without claims, remove a stale record.
    Returns what it did (None: nothing to do)."""
    from demystify.claims import read_jsonl, record_path, write_record
    made, record = Path(claims_out) / f"{chapter}.seed{seed}.jsonl", record_path(claims_dir, chapter)
    if made.exists():
        records = read_jsonl(made)
        if records:
            named = {r["chapter"] for r in records}
            if named != {chapter}:
                raise ValueError(f"{made} holds claims of {', '.join(sorted(named))}, not {chapter}")
            write_record(record, records)
            shown = sum(r.get("kind") == "figure" for r in records)
            return (f"wrote {record} ({len(records) - shown} claims and timings, "
                    f"{shown} figures)")
    if record.exists():
        record.unlink()
        return f"removed {record}: {chapter} made no claims in this run"
    return None


def chapter_notebooks(given: list[Path], parser: argparse.ArgumentParser) -> list[Path]:
    """The notebooks named on the command line, else every chapter; a missing one is a usage error."""
    notebooks = given or sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
    missing = [str(p) for p in notebooks if not Path(p).exists()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    return notebooks


def budget_for(chapter: str, kind: str) -> float | None:
    """The chapter's time budget in seconds for this profile (demystify.profile), if it has one."""
    from demystify.profile import BUDGETS
    entry = BUDGETS.get(chapter)
    return entry["budget_s"].get(kind) if entry else None


def lock_pins(lock: Path = LOCK) -> dict[str, str]:
    """The pinned version of each package of a requirements lock (`name==version` lines), by
    normalised name (lower case, `_` and `.` as `-`); empty when the file does not exist."""
    if not lock.exists():
        return {}
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", lock.read_text(), re.M)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def packages_line(lock: Path = LOCK, packages: tuple[str, ...] = KEY_PACKAGES) -> str:
    """One line for a results file: the lock file (first 12 hex digits of its sha256) and the
    installed version of each key package, marked where it is not the lock's pin."""
    pins = lock_pins(lock)
    parts = []
    for name in packages:
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        pinned = pins.get(name)
        parts.append(f"{name} {installed}" + ("" if pinned in (None, installed)
                                              else f" (the lock pins {pinned})"))
    source = (f"`{lock.name}` sha256 {hashlib.sha256(lock.read_bytes()).hexdigest()[:12]}"
              if lock.exists() else f"no `{lock.name}`")
    return f"Packages: {source}; installed " + ", ".join(parts) + "."


NOTES = ("<!-- notes: written by hand; make bench keeps them -->", "<!-- /notes -->")
COLUMNS = ("| chapter | wall s | budget s | CPU s | peak RSS MiB | peak GPU MiB | profile | device "
           "| status |\n|---|---:|---:|---:|---:|---:|---|---|---|")


def kept_notes(markdown: Path) -> str:
    """The hand-written notes of an earlier results page (between the NOTES markers), or ''."""
    text = markdown.read_text() if markdown.exists() else ""
    if NOTES[0] not in text or NOTES[1] not in text:
        return ""
    return text.split(NOTES[0], 1)[1].split(NOTES[1], 1)[0].strip("\n")


def render_results(data: dict, notes: str = "") -> str:
    """The Markdown page of a results JSON: header, the hand-written notes, one row per chapter."""
    run = data["last_run"]
    lines = [f"# Chapter run times — {data['profile'].upper()} profile", "",
             "Generated by `make bench` from the JSON next to this page; edit only the notes.", "",
             f"Last measured on {run['date']}: {run['device']}; {run['machine']}.",
             run["packages"],
             "Each chapter runs once, in a fresh kernel, start to finish (kernel start included);",
             "CPU s is the kernel's user+system time (it exceeds wall time when torch uses several "
             "threads).", NOTES[0], *([notes] if notes else []), NOTES[1], "", COLUMNS]
    for r in data["chapters"]:
        def number(key: str, digits: int = 0) -> str:
            return "–" if r[key] is None else f"{r[key]:.{digits}f}"
        lines.append(f"| {r['chapter']} | {number('wall_s', 1)} | "
                     f"{'' if r['budget_s'] is None else r['budget_s']} | {number('cpu_s')} | "
                     f"{number('peak_rss_mib')} | {number('gpu_peak_mib')} | {r['profile']} | "
                     f"{r['device']} | {r['status']} |")
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, dict], kind: str, device: str,
                  folder: Path = ROOT / "bench") -> Path:
    """Merge this run's rows into bench/results-<kind>.json (other chapters keep theirs) and
    render bench/results-<kind>.md from it, keeping that page's hand-written notes."""
    from demystify.hardware import BENCH_FIELDS, read_bench
    out, page = folder / f"results-{kind}.json", folder / f"results-{kind}.md"
    rows = {r["chapter"]: r for r in read_bench(out)["chapters"]} if out.exists() else {}
    today = dt.date.today().isoformat()
    for chapter, r in results.items():
        row = {"chapter": chapter, "measured": today, "wall_s": round(r["wall_s"], 1),
               "budget_s": budget_for(chapter, kind), "cpu_s": round(r["cpu_s"], 1),
               "peak_rss_mib": round(r["peak_rss_mib"], 1),
               "gpu_peak_mib": None if r["gpu_peak_mib"] is None else round(r["gpu_peak_mib"], 1),
               "profile": kind, "device": device, "status": r["status"]}
        rows[chapter] = {name: row[name] for name in BENCH_FIELDS}
    cpu = platform.processor() or platform.machine()
    data = {"profile": kind,
            "last_run": {"date": today, "device": device,
                         "machine": f"{psutil.cpu_count(logical=True)} logical CPUs ({cpu}), "
                                    f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM; "
                                    f"Python {platform.python_version()}",
                         "packages": packages_line()},
            "chapters": [rows[chapter] for chapter in sorted(rows)]}
    notes = kept_notes(page)
    from demystify.files import write_text_atomic  # old file or new, never half
    write_text_atomic(out, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    write_text_atomic(page, render_results(data, notes))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/*.ipynb")
    parser.add_argument("--write-outputs", action="store_true", help="store outputs in place")
    parser.add_argument("--bench", action="store_true", help="write bench/results-<profile>.json and .md")
    parser.add_argument("--profile", choices=("cpu", "gpu", "auto"), default="auto")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--claims-dir", type=Path, default=CLAIMS_DIR,
                        help="where --write-outputs --profile cpu writes the claims records "
                             "(default: chapters/claims)")
    args = parser.parse_args(argv)

    if args.profile == "cpu":
        os.environ["DEMYSTIFY_PROFILE"] = "cpu"
        os.environ["DEMYSTIFY_DEVICE"] = "cpu"      # stored outputs come from the CPU
    elif args.profile == "gpu":
        os.environ["DEMYSTIFY_PROFILE"] = "gpu"
    from demystify.device import describe_hardware, get_device
    from demystify.profile import profile_kind
    device = get_device()
    kind = profile_kind(device)
    notebooks = chapter_notebooks(args.notebooks, parser)

    results = {}
    for path in notebooks:
        path = Path(path).resolve()
        print(f"▶ {path.name} ({kind} profile) …", flush=True)
        with tempfile.TemporaryDirectory(prefix="claims-") as claims_out:
            # Stored outputs are seed 0; a caller's compare/soft settings must not leak in.
            env = claims_env(claims_out, seed=0) if args.write_outputs else None
            results[path.stem] = r = run_notebook(path, args.write_outputs, args.timeout, env)
            print(f"  {r['status']} in {r['wall_s']:.1f} s wall, {r['cpu_s']:.0f} s CPU, "
                  f"peak RSS {r['peak_rss_mib']:.0f} MiB", flush=True)
            if args.write_outputs and args.profile == "cpu" and r["status"] == "ok":
                try:
                    done = write_claims_record(path.stem, Path(claims_out), args.claims_dir)
                except ValueError as err:
                    r["status"] = f"FAILED: {err}"
                    done = f"claims record not written: {err}"
                if done:
                    print(f"  {done}", flush=True)
    if args.bench:
        print(f"wrote {write_results(results, kind, describe_hardware(device))}")
    return 0 if all(r["status"] == "ok" for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
