"""Claims you can trust: a chapter asserts a measured result and records it in one call.

Every result a chapter's prose reports is made with `claim()`:

    claim("cnn_test_accuracy", accuracy, ">= 0.95", tol=0.02,
          says="the CNN classifies at least 95 % of the test digits correctly")

It asserts the condition (an `AssertionError` that says what failed), records the claim (name,
value, condition, tolerance, seed, profile) and glues the value for the prose
(`{glue:text}`cnn_test_accuracy:.3f``), so a chapter cannot assert a result without recording
it, nor quote one that was not measured. A comparison ("A beats B by at least x") is one claim
on the difference, with the two sides kept as `parts` for the record. `timing()` records a
duration: recorded and glued, never asserted or compared.

Where the records go (all optional, so a notebook copied alone into Colab just asserts):
- `DEMYSTIFY_CLAIMS_OUT=<dir>`: every claim is appended, as it is made, to
  `<dir>/<chapter>.seed<N>.jsonl` (the runners in bench/ read these; `make execute` turns the
  seed-0 CPU run into the committed record `chapters/claims/<chapter>.json`).
- `DEMYSTIFY_CLAIMS_COMPARE=<dir>`: each claim is also compared with the committed record
  `<dir>/<chapter>.json` (same seed and profile only) and fails outside its tolerance:
  "claim cnn_test_accuracy: stored 0.964, now 0.912 (tolerance ±0.02)". `report()` at the end
  of the chapter fails when the record holds a claim this run never made. `make test` sets it.
- `DEMYSTIFY_CLAIMS_SPREAD=<file>` (bench/robustness.json; `make test` sets it): on a
  machine other than the record's (`machine()`), a compared claim's band is widened to
  SPREAD_SDS sds of its value over seeds 0-4, because on another CPU a trained network takes
  another path (see `seed_sd`).
- `DEMYSTIFY_CLAIMS_SOFT=1` (`make robustness` only): a claim that does not hold is recorded
  as failed instead of raising, so one run measures every claim of the chapter.

Figures are claims too. nbval compares text outputs only (it ignores image/png), so a blank or
wrong figure would pass. `watch_figures()` (called by `demystify.start` in IPython) registers
a text/plain formatter for matplotlib's Figure: the inline backend shows every figure through
IPython's formatters (also a Figure a cell returns), so the formatter sees each figure, in
order, while its data is still there. It records `demystify.plot.fingerprint(fig)` as the
chapter's next figure (`figure_1`, `figure_2`, … with kind "figure", in the same .jsonl; the
committed record keeps them under "figures") and returns exactly the text IPython shows anyway
("<Figure size 1100x430 with 2 Axes>"), so stored outputs do not change. Why this hook and not
another: comparing the PNGs fails on every matplotlib or font update and says nothing about
what is wrong; hashing the pixels likewise; wrapping the demystify plot helpers misses the
figures chapters draw with pyplot directly. The fingerprint records what is plotted (the
kinds and sizes of lines, images, collections, patches, texts per axes, and the count, mean
and mean absolute value of the plotted numbers), which a library update does not move.
- A figure that plots nothing (no data, no text in any axes) is an error when it is shown.
- Under DEMYSTIFY_CLAIMS_COMPARE, each figure is compared with the record's figure of the same
  number: the structure exactly, the mean and mean absolute value within FIGURE_RTOL of the
  stored mean absolute value. Axes marked with `demystify.plot.mark_timed` (timings) are compared
  on structure only; axes marked with `mark_varying` (boxes a trained detector draws, whose
  number changes with the training path), on a machine other than the record's, on their
  images only (shapes, and the mean pixel within PIXEL_RTOL). `report()` fails when the run
  showed another number of figures.
- The error raised inside the formatter appears as the cell's error (nbval fails the cell);
  under nbclient, which does not stop on it, `report()` fails the run. Under
  DEMYSTIFY_CLAIMS_SOFT a problem is recorded (`held: false`) instead.
"""
from __future__ import annotations

import functools
import json
import math
import numbers
import operator
import os
import re
import statistics
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .files import write_text_atomic

OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
             "==": operator.eq}
_CONDITION = re.compile(r"^\s*(>=|<=|==|>|<)\s*([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Claim:
    """One measured result and the condition the chapter asserts about it."""
    name: str
    value: float
    condition: str                 # e.g. ">= 0.95"; "" for a timing
    held: bool
    tolerance: float | None        # allowed drift from the stored value (None: never compared)
    relative: bool                 # tolerance is a fraction of the stored value
    says: str
    parts: dict[str, float] = field(default_factory=dict)
    kind: str = "claim"            # "claim" or "timing"
    chapter: str = ""
    seed: int = 0
    profile: str = "cpu"

    def band(self) -> str:
        if self.tolerance is None:
            return "not compared (timed)" if self.kind == "claim" else "not compared"
        return f"±{self.tolerance:.0%}" if self.relative else f"±{self.tolerance:g}"


@dataclass
class _Run:
    chapter: str | None = None
    seed: int = 0
    profile: str = "cpu"
    claims: dict[str, Claim] = field(default_factory=dict)
    figures: list[dict[str, Any]] = field(default_factory=list)
    figure_problems: list[str] = field(default_factory=list)


_RUN = _Run()
FIGURE_RTOL = 0.05     # a figure's numbers may drift by 5 % of their stored mean |value|


def begin(chapter: str, seed: int, profile: str) -> None:
    """Start recording a chapter's claims (called by `demystify.start`)."""
    global _RUN
    _RUN = _Run(chapter, seed, profile)


def claims() -> list[Claim]:
    """The claims and timings made so far in this run, in order."""
    return list(_RUN.claims.values())


def parse_condition(condition: str) -> tuple[str, float]:
    """'>= 0.95' -> ('>=', 0.95); anything else raises a ValueError that shows the form."""
    match = _CONDITION.match(condition) if isinstance(condition, str) else None
    if not match:
        raise ValueError(f"condition {condition!r} is not of the form '<op> <number>' with op one "
                         f"of {', '.join(OPERATORS)} (e.g. '>= 0.95' or '> 0')")
    return match.group(1), float(match.group(2))


def _number(name: str, value: Any, what: str = "value") -> float:
    if hasattr(value, "item") and callable(value.item):     # 0-d tensors and NumPy scalars
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"claim {name}: the {what} must be a real number, got {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"claim {name}: the {what} is NaN; the experiment did not produce a result")
    return value


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"claim name {name!r} must be lower_snake_case (it is also the glue key)")
    if _RUN.chapter is None:
        raise RuntimeError("claims are recorded per chapter: call demystify.start(chapter) first")


def claim(name: str, value: float, condition: str, *, tol: float | None = None,
          rel_tol: float | None = None, says: str = "",
          parts: dict[str, float] | None = None, timed: bool = False) -> None:
    """Assert `value <condition>`, record it and glue it as `name`.

    Like `assert`, it returns nothing, so a cell that ends with a claim shows only the
    claim's one-line verdict, not a stray number.

    Give exactly one of `tol` (absolute band, e.g. 0.02 for an accuracy) or `rel_tol`
    (a fraction, e.g. 0.2 for a ratio): how far a fresh run at the same seed may drift from the
    stored record before `make test` fails. `says` is the sentence the claim backs.
    `timed=True` marks a value computed from timings (e.g. a ratio of two latencies): its
    condition is asserted on every run, but, like a `timing`, it is never compared with the
    stored value (a timing varies from run to run on the same machine); give no tolerance.
    """
    _check_name(name)
    value = _number(name, value)
    op, threshold = parse_condition(condition)
    if timed:
        if tol is not None or rel_tol is not None:
            raise ValueError(f"claim {name}: a timed claim is never compared with the stored "
                             f"record, so it takes no tol= or rel_tol=")
        tolerance = None
    elif (tol is None) == (rel_tol is None):
        raise ValueError(f"claim {name}: give exactly one of tol= (absolute) or rel_tol= "
                         f"(relative) — the drift allowed against the stored record")
    else:
        tolerance = _number(name, tol if tol is not None else rel_tol, "tolerance")
        if tolerance < 0:
            raise ValueError(f"claim {name}: the tolerance must not be negative, "
                             f"got {tolerance}")
    parts = {key: _number(name, part, f"part {key!r}") for key, part in (parts or {}).items()}
    held = OPERATORS[op](value, threshold)
    record = Claim(name, value, f"{op} {threshold:g}", held, tolerance, rel_tol is not None,
                   says, parts, "claim", _RUN.chapter, _RUN.seed, _RUN.profile)
    _keep(record)
    glue(name, value)
    for key, part in parts.items():
        glue(f"{name}__{key}", part)
    if not held and not _soft():
        what = f" ({says})" if says else ""
        raise AssertionError(f"claim {name} does not hold{what}: {value:.4g} is not "
                             f"{op} {threshold:g}" + _parts_text(parts))
    _compare(record)
    print(f"✓ claim {name}: {value:.4g} {op} {threshold:g}{_parts_text(parts)}"
          if held else f"✗ claim {name} FAILED: {value:.4g} not {op} {threshold:g}")


def timing(name: str, seconds: float, says: str = "") -> None:
    """Record (and glue) a measured duration; timings are never asserted nor compared."""
    _check_name(name)
    seconds = _number(name, seconds)
    _keep(Claim(name, seconds, "", True, None, False, says, {}, "timing", _RUN.chapter,
                _RUN.seed, _RUN.profile))
    glue(name, seconds)


def _parts_text(parts: dict[str, float]) -> str:
    return " (" + ", ".join(f"{k} {v:.4g}" for k, v in parts.items()) + ")" if parts else ""


def _soft() -> bool:
    return os.environ.get("DEMYSTIFY_CLAIMS_SOFT", "").strip() in ("1", "true", "yes")


def _keep(record: Claim) -> None:
    if record.name in _RUN.claims:
        raise ValueError(f"claim {record.name} was already made in this run; names are unique")
    _RUN.claims[record.name] = record
    _append(asdict(record))


def _append(entry: dict[str, Any]) -> None:
    """Append one claim, timing or figure to $DEMYSTIFY_CLAIMS_OUT/<chapter>.seed<N>.jsonl."""
    out = os.environ.get("DEMYSTIFY_CLAIMS_OUT")
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{entry['chapter']}.seed{entry['seed']}.jsonl", "a") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")


# --- the committed record ------------------------------------------------------------------------

def record_path(folder: str | Path, chapter: str) -> Path:
    return Path(folder) / f"{chapter}.json"


def write_record(path: str | Path, records: list[dict[str, Any]]) -> Path:
    """Write one run's claims (dicts as in the .jsonl files) as a chapter's committed record.

    Figures (kind "figure") go to the record's "figures" list, claims and timings to "claims";
    "machine" is `machine()` (the runner's: the kernel that made the claims ran beside it).
    """
    if not records:
        raise ValueError(f"no claims to write to {path}")
    first = records[0]
    shared = ("chapter", "seed", "profile")
    content = {"chapter": first["chapter"], "seed": first["seed"], "profile": first["profile"],
               "machine": machine(),
               "claims": [{k: v for k, v in r.items() if k not in shared}
                          for r in records if r.get("kind") != "figure"]}
    figures = [{k: v for k, v in r.items() if k not in shared}
               for r in records if r.get("kind") == "figure"]
    if figures:
        content["figures"] = figures
    # one line per axes of a figure, so a record of many figures stays readable
    compact = {}
    for figure in figures:
        tokens = []
        for axes in figure["axes"]:
            tokens.append(f"@@axes{len(compact)}@@")
            compact[f'"{tokens[-1]}"'] = json.dumps(axes, ensure_ascii=False)
        figure["axes"] = tokens
    text = json.dumps(content, indent=1, ensure_ascii=False)
    for token, axes in compact.items():
        text = text.replace(token, axes, 1)
    return write_text_atomic(path, text + "\n")


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The claims a run appended to a DEMYSTIFY_CLAIMS_OUT file, in order."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def read_record(path: str | Path) -> dict[str, Any]:
    """A committed record: {"chapter", "seed", "profile", "claims": [...]}."""
    try:
        content = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no claims record at {path}: execute the chapter "
                                f"(make execute) to write it") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); re-execute the chapter") from None
    if not isinstance(content, dict) or not isinstance(content.get("claims"), list):
        raise ValueError(f"{path} is not a claims record (no 'claims' list)")
    return content


# How many sds (over seeds 0-4) a re-run on another machine may move a claim from the record.
# Set from one observation: re-run on an AMD Zen 5 VM, the records made on Zen 3 VMs moved by
# up to 4.2 sds (chapter 03's deep plain network, which lay above all five seeds there), so 5
# is the smallest whole number that covers it; an sd from five seeds is itself rough.
SPREAD_SDS = 5


def machine() -> dict[str, str]:
    """What decides the floating-point path of a run: the CPU as the OS names it
    (`demystify.hardware.CpuInfo.family`), torch's vector level for it, the architecture and
    torch's version.

    A record made on the same `machine()` is compared within the claims' own tolerances (runs
    are deterministic there); one made elsewhere, one that names no machine, and any where the
    OS does not name the CPU ("cpu" empty, e.g. macOS) within the band widened over seeds
    (`seed_sd`).
    """
    return dict(_machine())


@functools.cache
def _machine() -> dict[str, str]:
    import platform

    import torch

    from .hardware import cpu_info
    return {"cpu": " ".join(cpu_info().family).strip(),
            "vector": torch.backends.cpu.get_cpu_capability(),
            "arch": platform.machine(), "torch": str(torch.__version__)}


def same_machine(record: dict[str, Any]) -> bool:
    """Whether `record` was made on this `machine()` (never when either does not name its CPU)."""
    made_on = record.get("machine")
    return bool(made_on) and bool(made_on.get("cpu")) and made_on == machine()


def seed_sd(chapter: str, name: str) -> float | None:
    """The sample sd of claim `name` of `chapter` over the seeds of the robustness record.

    The record is the JSON `make robustness` writes (bench/robustness.json), named by
    DEMYSTIFY_CLAIMS_SPREAD; None when that is unset or holds fewer than two seeds of the claim.
    Only values of seeds on which the claim held are used. Why it matters: runs are
    deterministic on one machine, but on another CPU (other vector kernels, other rounding) a
    trained network takes another path, and its result moves like a change of seed or
    further. `drift` widens a claim's band to SPREAD_SDS such sds.
    """
    path = os.environ.get("DEMYSTIFY_CLAIMS_SPREAD")
    if not path:
        return None
    values = _seed_values(path).get((chapter, name), [])
    return statistics.stdev(values) if len(values) >= 2 else None


_SEED_VALUES: dict[str, dict[tuple[str, str], list[float]]] = {}


def _seed_values(path: str) -> dict[tuple[str, str], list[float]]:
    """(chapter, claim) -> its values over the seeds of a robustness record, read once."""
    if path not in _SEED_VALUES:
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"DEMYSTIFY_CLAIMS_SPREAD names {path}, which does not "
                                    f"exist: point it at bench/robustness.json or unset it")
        values: dict[tuple[str, str], list[float]] = {}
        for chapter, entry in json.loads(file.read_text()).get("chapters", {}).items():
            for run in entry.get("runs", {}).values():
                for made in run.get("claims", []):
                    if made.get("kind", "claim") == "claim" and made.get("held", True):
                        values.setdefault((chapter, made["name"]), []).append(made["value"])
        _SEED_VALUES[path] = values
    return _SEED_VALUES[path]


def drift(stored: dict[str, Any], value: float, sd: float | None = None) -> str | None:
    """Why `value` is outside the stored claim's band, or None when it is inside.

    The band is the claim's tolerance, widened to SPREAD_SDS × `sd` (its sd over seeds, see
    `seed_sd`) where that is larger.
    """
    if stored.get("kind") == "timing" or stored.get("tolerance") is None:
        return None
    band = stored["tolerance"] * (abs(stored["value"]) if stored["relative"] else 1.0)
    spread = SPREAD_SDS * sd if sd is not None else 0.0
    if abs(value - stored["value"]) <= max(band, spread) + 1e-12:
        return None
    shown = f"±{stored['tolerance']:.0%}" if stored["relative"] else f"±{stored['tolerance']:g}"
    if spread > band:
        shown += f", widened to ±{spread:.3g}: {SPREAD_SDS} sd over seeds"
    return (f"claim {stored['name']}: stored {stored['value']:.4g}, now {value:.4g} "
            f"(tolerance {shown})")


def _stored_record() -> dict[str, Any] | None:
    """The committed record of this chapter when comparing applies to this run, else None."""
    folder = os.environ.get("DEMYSTIFY_CLAIMS_COMPARE")
    if not folder:
        return None
    record = read_record(record_path(folder, _RUN.chapter))
    if record["seed"] != _RUN.seed or record["profile"] != _RUN.profile:
        return None            # the record is of another seed or profile: nothing to compare
    return record


def _compare(record: Claim) -> None:
    made_by = _stored_record()
    if made_by is None or record.tolerance is None:
        return      # a timed claim describes this machine: whether it is made may depend on it
    stored = {c["name"]: c for c in made_by["claims"]}
    if record.name not in stored:
        raise AssertionError(f"claim {record.name} is not in the stored record of "
                             f"{record.chapter}: re-execute the chapter (make execute) and "
                             f"commit chapters/claims/{record.chapter}.json")
    # deterministic on the machine that made the record; elsewhere, another training path
    sd = None if same_machine(made_by) else seed_sd(record.chapter, record.name)
    problem = drift(stored[record.name], record.value, sd)
    if problem:
        raise AssertionError(problem)


def report() -> Any:
    """The table of this run's claims (shown at the end of a chapter), as a pandas Styler.

    When comparing with the record, also fails if the record holds compared claims this run
    never made (timings and timed claims describe the machine that made the record: a CPU
    without 16-bit units times what another skips, so their absence is no drift).
    """
    if _RUN.figure_problems and not _soft():
        raise AssertionError(f"{len(_RUN.figure_problems)} figure(s) of {_RUN.chapter} failed "
                             f"their check: " + "; ".join(_RUN.figure_problems))
    record = _stored_record()
    if record is not None:
        stored = {c["name"]: c for c in record["claims"]}
        missing = sorted(name for name, entry in stored.items()
                         if entry.get("tolerance") is not None and name not in _RUN.claims)
        if missing:
            raise AssertionError(f"the stored record of {_RUN.chapter} has claims this run did "
                                 f"not make: {', '.join(missing)}; re-execute the chapter "
                                 f"(make execute) and commit its record")
        # the stored figures shown before as many claims as this run has made by now
        made = len(_RUN.claims)
        kept = [f for f in record.get("figures", []) if f.get("after_claims", 0) <= made]
        if len(_RUN.figures) < len(kept) and not _soft():
            raise AssertionError(f"the stored record of {_RUN.chapter} has {len(kept)} figures "
                                 f"up to here, this run showed {len(_RUN.figures)}; re-execute "
                                 f"the chapter (make execute) and commit its record")
    import pandas as pd
    rows = [{"claim": c.name, "value": f"{c.value:.4g}",
             "condition": c.condition or "(timing, recorded only)",
             "held": "✓" if c.held else "✗", "tolerance": c.band(), "says": c.says}
            for c in claims()]
    frame = pd.DataFrame(rows).set_index("claim") if rows else pd.DataFrame()
    # A Styler shows every sentence whole (a DataFrame cuts them at 50 characters).
    return frame.style.set_properties(**{"text-align": "left"}) if rows else frame


# --- figures ------------------------------------------------------------------------------------

_STRUCTURE = ("lines", "images", "collections", "patches", "texts")


PIXEL_RTOL = 1e-3     # the scene under a varying axes is generated, not trained: near exact


def figure_drift(stored: list[dict[str, Any]], now: list[dict[str, Any]],
                 on_records_machine: bool = False) -> str | None:
    """How a figure's fingerprint (`demystify.plot.fingerprint`) differs from the stored one
    beyond FIGURE_RTOL, or None when it does not; timed axes are compared on structure only;
    varying ones (`demystify.plot.mark_varying`), on another machine than the record's, on
    their images only (shapes, and mean pixel within PIXEL_RTOL)."""
    if len(stored) != len(now):
        return f"{len(now)} axes, stored {len(stored)}"
    for i, (old, new) in enumerate(zip(stored, now), 1):
        varying = old.get("varying") or new.get("varying")
        if varying and not on_records_machine:   # a model's outputs, another path: the scene
            if old.get("images") != new.get("images"):
                return f"axes {i}: images {new.get('images')}, stored {old.get('images')}"
            if "pixels" in old and "pixels" in new and (abs(new["pixels"] - old["pixels"])
                                                        > PIXEL_RTOL * abs(old["pixels"]) + 1e-9):
                return (f"axes {i}: mean of the images' pixels {new['pixels']:.6g}, stored "
                        f"{old['pixels']:.6g}")
            continue
        for key in _STRUCTURE:
            if old.get(key) != new.get(key):
                return f"axes {i}: {key} {new.get(key)}, stored {old.get(key)}"
        if old.get("timed") or new.get("timed"):
            continue
        if old["values"] != new["values"]:
            return f"axes {i}: {new['values']} plotted numbers, stored {old['values']}"
        band = FIGURE_RTOL * abs(old["mean_abs"]) + 1e-9
        for key in ("mean", "mean_abs"):
            if abs(new[key] - old[key]) > band:
                return (f"axes {i}: {key} of the plotted numbers {new[key]:.6g}, stored "
                        f"{old[key]:.6g} (tolerance ±{band:.3g})")
    return None


def record_figure(fig: Any) -> str:
    """Record the fingerprint of a figure being shown, check it, and return its usual text.

    The text/plain formatter that `watch_figures` registers; also callable directly.
    Raises an AssertionError for a blank figure, or (under DEMYSTIFY_CLAIMS_COMPARE) one that
    differs from the committed record.
    """
    from .plot import fingerprint
    text = repr(fig)
    if _RUN.chapter is None:
        return text
    axes = fingerprint(fig)
    name = f"figure_{len(_RUN.figures) + 1}"
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    suptitle = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    problem = None
    if not any(a["values"] or a["texts"] for a in axes):
        problem = (f"{name} ({text}) plots nothing: no data and no text in any axes; draw "
                   f"into the figure's axes before it is shown")
    record = _stored_record()
    if problem is None and record is not None and "figures" in record:
        kept = record["figures"]
        if len(kept) < len(_RUN.figures) + 1:
            problem = (f"{name} is not in the stored record of {_RUN.chapter} (it has "
                       f"{len(kept)} figures): re-execute the chapter (make execute) and commit "
                       f"chapters/claims/{_RUN.chapter}.json")
        else:
            differs = figure_drift(kept[len(_RUN.figures)]["axes"], axes, same_machine(record))
            if differs:
                problem = f"{name} ({text}) differs from the stored record: {differs}"
    entry = {"name": name, "kind": "figure", "text": text,
             "title": suptitle or " · ".join(titles), "axes": axes, "held": problem is None,
             "after_claims": len(_RUN.claims),
             "chapter": _RUN.chapter, "seed": _RUN.seed, "profile": _RUN.profile}
    _RUN.figures.append(entry)
    _append(entry)
    if problem and not _checking():
        # a learner's own notebook (Colab, an exercise): say it, never break their cell
        warnings.warn(problem, stacklevel=2)
    elif problem:
        _RUN.figure_problems.append(problem)
        if not _soft():
            raise AssertionError(problem)
    return text


def _checking() -> bool:
    """Whether this run is a check of the book (make execute, make test, robustness): only
    then does a blank or changed figure fail; elsewhere it is a warning."""
    return any(os.environ.get(f"DEMYSTIFY_CLAIMS_{name}") for name in ("OUT", "COMPARE", "SOFT"))


def figures() -> list[dict[str, Any]]:
    """The figures shown so far in this run (fingerprints as recorded), in order."""
    return list(_RUN.figures)


def _figure_text(fig: Any, printer: Any, cycle: bool) -> None:
    printer.text(record_figure(fig))


def _rewatch(*_: Any) -> None:
    from IPython import get_ipython
    from matplotlib.figure import Figure
    shell = get_ipython()
    if shell is not None:
        formatter = shell.display_formatter.formatters["text/plain"]
        if formatter.type_printers.get(Figure) is not _figure_text:
            formatter.for_type(Figure, _figure_text)


def watch_figures() -> bool:
    """Record every figure IPython shows from now on (see the module docstring).

    Returns False (and does nothing) outside IPython. Loads matplotlib's backend first: the
    inline backend clears the Figure formatters when it loads. Re-registers before each cell,
    so a `%config InlineBackend.figure_formats = ...` does not switch the check off.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    import matplotlib
    import matplotlib.pyplot as plt
    try:
        plt.switch_backend(matplotlib.get_backend())
    except (ImportError, ValueError, RuntimeError):    # a backend this kernel cannot load:
        pass                                            # its figures are not shown anyway
    _rewatch()
    try:
        shell.events.unregister("pre_run_cell", _rewatch)
    except ValueError:
        pass
    shell.events.register("pre_run_cell", _rewatch)
    return True


# --- glue: numbers for the prose ----------------------------------------------------------------

def glue(name: str, value: Any) -> None:
    """Store `value` under `name` for `{glue:text}` in the chapter's prose, without showing it.

    The same output as `myst_nb.glue(name, value, display=False)`, written here so that a
    notebook copied alone into Colab (no myst-nb there) runs unchanged.
    """
    try:
        from IPython import get_ipython
        from IPython.core.formatters import format_display_data
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is None:
        return
    # A NumPy scalar or 0-d tensor would be stored as "np.float64(0.5)", which myst-nb's
    # {glue:text}`name:.3f` cannot format: store the plain Python number.
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    display({GLUE_PREFIX + mime: data for mime, data in bundle.items()}, raw=True,
            metadata=metadata)


GLUE_PREFIX = "application/papermill.record/"     # myst_nb.ext.glue's prefix for hidden glue
