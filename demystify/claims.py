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
- `DEMYSTIFY_CLAIMS_SOFT=1` (`make robustness` only): a claim that does not hold is recorded
  as failed instead of raising, so one run measures every claim of the chapter.
"""
from __future__ import annotations

import json
import math
import numbers
import operator
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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


_RUN = _Run()


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
    out = os.environ.get("DEMYSTIFY_CLAIMS_OUT")
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{record.chapter}.seed{record.seed}.jsonl", "a") as handle:
            handle.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")


# --- the committed record ------------------------------------------------------------------------

def record_path(folder: str | Path, chapter: str) -> Path:
    return Path(folder) / f"{chapter}.json"


def write_record(path: str | Path, records: list[dict[str, Any]]) -> Path:
    """Write one run's claims (dicts as in the .jsonl files) as a chapter's committed record."""
    if not records:
        raise ValueError(f"no claims to write to {path}")
    first = records[0]
    content = {"chapter": first["chapter"], "seed": first["seed"], "profile": first["profile"],
               "claims": [{k: v for k, v in r.items() if k not in ("chapter", "seed", "profile")}
                          for r in records]}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


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


def drift(stored: dict[str, Any], value: float) -> str | None:
    """Why `value` is outside the stored claim's tolerance, or None when it is inside."""
    if stored.get("kind") == "timing" or stored.get("tolerance") is None:
        return None
    band = stored["tolerance"] * (abs(stored["value"]) if stored["relative"] else 1.0)
    if abs(value - stored["value"]) <= band + 1e-12:
        return None
    shown = f"±{stored['tolerance']:.0%}" if stored["relative"] else f"±{stored['tolerance']:g}"
    return (f"claim {stored['name']}: stored {stored['value']:.4g}, now {value:.4g} "
            f"(tolerance {shown})")


def _stored() -> dict[str, dict[str, Any]] | None:
    """The committed claims of this chapter when comparing applies to this run, else None."""
    folder = os.environ.get("DEMYSTIFY_CLAIMS_COMPARE")
    if not folder:
        return None
    record = read_record(record_path(folder, _RUN.chapter))
    if record["seed"] != _RUN.seed or record["profile"] != _RUN.profile:
        return None            # the record is of another seed or profile: nothing to compare
    return {c["name"]: c for c in record["claims"]}


def _compare(record: Claim) -> None:
    stored = _stored()
    if stored is None:
        return
    if record.name not in stored:
        raise AssertionError(f"claim {record.name} is not in the stored record of "
                             f"{record.chapter}: re-execute the chapter (make execute) and "
                             f"commit chapters/claims/{record.chapter}.json")
    problem = drift(stored[record.name], record.value)
    if problem:
        raise AssertionError(problem)


def report() -> Any:
    """The table of this run's claims (shown at the end of a chapter), as a pandas Styler.

    When comparing with the record, also fails if the record holds claims this run never made.
    """
    stored = _stored()
    if stored is not None:
        missing = sorted(set(stored) - set(_RUN.claims))
        if missing:
            raise AssertionError(f"the stored record of {_RUN.chapter} has claims this run did "
                                 f"not make: {', '.join(missing)}; re-execute the chapter "
                                 f"(make execute) and commit its record")
    import pandas as pd
    rows = [{"claim": c.name, "value": f"{c.value:.4g}",
             "condition": c.condition or "(timing, recorded only)",
             "held": "✓" if c.held else "✗", "tolerance": c.band(), "says": c.says}
            for c in claims()]
    frame = pd.DataFrame(rows).set_index("claim") if rows else pd.DataFrame()
    # A Styler shows every sentence whole (a DataFrame cuts them at 50 characters).
    return frame.style.set_properties(**{"text-align": "left"}) if rows else frame


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
