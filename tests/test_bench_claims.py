"""The claims parts of the bench runners, without kernels: make execute's record writing,
make robustness's report and make repeat's claim comparison."""
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import repeat  # noqa: E402
import robustness  # noqa: E402
import run_chapters  # noqa: E402


def made(name, value, condition=">= 0.9", held=True, kind="claim", chapter="02_cnn_history",
         seed=0, tolerance=0.02):
    """A claim as demystify.claims appends it to <chapter>.seed<N>.jsonl."""
    return {"name": name, "value": value, "condition": condition if kind == "claim" else "",
            "held": held, "tolerance": tolerance if kind == "claim" else None, "relative": False,
            "says": "", "parts": {}, "kind": kind, "chapter": chapter, "seed": seed,
            "profile": "cpu"}


def write_jsonl(folder: Path, chapter: str, seed: int, records: list[dict]) -> None:
    (folder / f"{chapter}.seed{seed}.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records))


# --- make execute: chapters/claims/<chapter>.json ---------------------------------------------

def test_record_written_from_the_seed0_claims(tmp_path):
    out, claims_dir = tmp_path / "out", tmp_path / "claims"
    out.mkdir()
    write_jsonl(out, "02_cnn_history", 0, [made("cnn_accuracy", 0.964),
                                           made("fit_s", 12.5, kind="timing")])
    done = run_chapters.write_claims_record("02_cnn_history", out, claims_dir)
    record = json.loads((claims_dir / "02_cnn_history.json").read_text())
    assert "wrote" in done
    assert (record["chapter"], record["seed"], record["profile"]) == ("02_cnn_history", 0, "cpu")
    assert [(c["name"], c["value"], c["kind"]) for c in record["claims"]] == \
        [("cnn_accuracy", 0.964, "claim"), ("fit_s", 12.5, "timing")]
    assert "chapter" not in record["claims"][0]


def test_stale_record_removed_when_the_chapter_makes_no_claims(tmp_path):
    claims_dir = tmp_path / "claims"
    claims_dir.mkdir()
    stale = claims_dir / "02_cnn_history.json"
    stale.write_text('{"chapter": "02_cnn_history", "seed": 0, "profile": "cpu", "claims": []}')
    done = run_chapters.write_claims_record("02_cnn_history", tmp_path, claims_dir)
    assert not stale.exists() and "removed" in done
    assert run_chapters.write_claims_record("02_cnn_history", tmp_path, claims_dir) is None
    assert not stale.exists()


def test_only_the_seed0_file_of_this_chapter_makes_the_record(tmp_path):
    write_jsonl(tmp_path, "02_cnn_history", 3, [made("cnn_accuracy", 0.9, seed=3)])
    assert run_chapters.write_claims_record("02_cnn_history", tmp_path, tmp_path / "c") is None
    assert not (tmp_path / "c" / "02_cnn_history.json").exists()
    write_jsonl(tmp_path, "02_cnn_history", 0, [made("cnn_accuracy", 0.9, chapter="01_ml_vs_dl")])
    with pytest.raises(ValueError, match="01_ml_vs_dl"):
        run_chapters.write_claims_record("02_cnn_history", tmp_path, tmp_path / "c")


def test_kernel_env_drops_the_callers_compare_and_soft(tmp_path):
    base = {"PATH": "/bin", "DEMYSTIFY_CLAIMS_COMPARE": "/x", "DEMYSTIFY_CLAIMS_SOFT": "1",
            "DEMYSTIFY_SEED": "4"}
    env = run_chapters.claims_env(tmp_path, seed=0, base=base)
    assert env == {"PATH": "/bin", "DEMYSTIFY_CLAIMS_OUT": str(tmp_path), "DEMYSTIFY_SEED": "0"}
    assert run_chapters.claims_env(tmp_path, 2, soft=True, base=base)["DEMYSTIFY_CLAIMS_SOFT"] == "1"


# --- make robustness: bench/robustness.json and .md --------------------------------------------

def fake_runs() -> list[dict]:
    """02 on seeds 0-2: `acc` holds everywhere, `loss` fails on seed 1, run of seed 2 fails
    before `late` is made; 05 makes no claims."""
    drop = robustness.DROP
    def run(chapter, seed, claims, status="ok"):
        return {"chapter": chapter, "seed": seed, "wall_s": 10.0 + seed, "status": status,
                "claims": [{k: v for k, v in c.items() if k not in drop} for c in claims]}
    return [
        run("02_cnn_history", 0, [made("acc", 0.95), made("loss", 0.2, "< 0.5"),
                                  made("late", 3.0, "> 1"), made("fit_s", 1.5, kind="timing")]),
        run("02_cnn_history", 1, [made("acc", 0.97), made("loss", 0.7, "< 0.5", held=False),
                                  made("late", 4.0, "> 1"), made("fit_s", 1.7, kind="timing")]),
        run("02_cnn_history", 2, [made("acc", 0.99), made("loss", 0.3, "< 0.5")],
            status="FAILED: RuntimeError: out of memory"),
        run("05_question_answering", 0, []),
        run("05_question_answering", 1, []),
    ]


def test_robustness_summary_judges_each_claim_on_every_seed():
    data = robustness.merge(None, fake_runs(), "2026-01-01")
    seeds, claims, timings = robustness.summarize(data["chapters"]["02_cnn_history"])
    rows = {r["name"]: r for r in claims}
    assert seeds == [0, 1, 2]
    assert rows["acc"]["every"] and rows["acc"]["mean"] == pytest.approx(0.97)
    assert rows["acc"]["sd"] == pytest.approx(0.02)          # sample sd of .95, .97, .99
    assert (rows["acc"]["min"], rows["acc"]["max"]) == (0.95, 0.99)
    assert not rows["loss"]["every"] and rows["loss"]["held"] == {0: True, 1: False, 2: True}
    assert not rows["late"]["every"], "missing on the failed run counts as not held"
    assert rows["late"]["values"] == {0: 3.0, 1: 4.0}
    assert [t["name"] for t in timings] == ["fit_s"]


def test_robustness_markdown_and_json(tmp_path):
    data = robustness.merge(None, fake_runs()[::-1], "2026-01-01")      # chapters sorted by name
    data.update(date="2026-01-01", machine={"cpus": 2, "torch": "9.9", "python": "3.11"},
                jobs=2, total_wall_s=600.0)
    raw, md = robustness.write(data, tmp_path / "robustness.md")
    assert json.loads(raw.read_text())["chapters"]["02_cnn_history"]["runs"]["1"]["claims"][1] == \
        {k: v for k, v in made("loss", 0.7, "< 0.5", held=False).items() if k not in robustness.DROP}
    text = md.read_text()
    lines = text.splitlines()
    row = {line.split("|")[1].strip(" `"): line for line in lines if line.startswith("| `")}
    assert row["acc"].rstrip(" |").endswith("✓") and "0.97 ± 0.02" in row["acc"]
    assert row["loss"].rstrip(" |").endswith("✗") and "0.7 ✗" in row["loss"]
    assert row["late"].rstrip(" |").endswith("✗") and "— ✗" in row["late"]
    assert "✗" not in row["fit_s"] and "1.5" in row["fit_s"]
    assert "seed 2: **FAILED: RuntimeError: out of memory**" in text
    assert "02_cnn_history · `loss` (seeds 1); 02_cnn_history · `late` (seeds 2)" in text
    assert "## 05_question_answering\n\nNo claims yet." in text
    assert text.index("## 02_cnn_history") < text.index("## 05_question_answering")
    assert "torch 9.9" in text and "10.0 min" in text and "2 CPUs" in text
    assert "| 02_cnn_history | 2026-01-01 | 2/3 | 3 | **1** | 10, 11, 12 |" in lines


def test_robustness_update_keeps_other_chapters_and_seeds():
    data = robustness.merge(None, fake_runs(), "2026-01-01")
    rerun = {"chapter": "02_cnn_history", "seed": 2, "wall_s": 9.0, "status": "ok",
             "claims": [{"name": "acc", "value": 0.96, "condition": ">= 0.9", "held": True,
                         "kind": "claim"}]}
    data = robustness.merge(json.loads(json.dumps(data)), [rerun], "2026-02-02")
    assert set(data["chapters"]) == {"02_cnn_history", "05_question_answering"}
    runs = data["chapters"]["02_cnn_history"]["runs"]
    assert set(runs) == {"0", "1", "2"} and runs["2"]["status"] == "ok"
    assert data["chapters"]["02_cnn_history"]["date"] == "2026-02-02"
    assert data["chapters"]["05_question_answering"]["date"] == "2026-01-01"


# --- make repeat: claims compared exactly between runs ------------------------------------------

def test_repeat_compares_claims_exactly_and_ignores_timings(tmp_path):
    one, two = tmp_path / "1", tmp_path / "2"
    one.mkdir(), two.mkdir()
    write_jsonl(one, "02_cnn_history", 0, [made("acc", 0.9640000000000001), made("t", 1.0, kind="timing")])
    write_jsonl(two, "02_cnn_history", 0, [made("acc", 0.964), made("t", 2.0, kind="timing")])
    first, second = repeat.read_claims(one), repeat.read_claims(two)
    assert set(first) == {"acc"}
    assert repeat.claims_diff(first, first, 2) == []
    [problem] = repeat.claims_diff(first, second, 2)
    assert "acc" in problem and "0.9640000000000001 vs 0.964" in problem
    assert "made in the first only" in repeat.claims_diff(first, {}, 2)[0]


def test_repeat_compares_claims_with_the_stored_record(tmp_path):
    write_jsonl(tmp_path, "02_cnn_history", 0, [made("acc", 0.964), made("t", 1.0, kind="timing")])
    run_chapters.write_claims_record("02_cnn_history", tmp_path, tmp_path / "claims")
    made_now = repeat.read_claims(tmp_path)
    assert repeat.stored_claims_diff("02_cnn_history", made_now, tmp_path / "claims") == []
    made_now["acc"]["value"] = 0.95
    assert "0.964 vs 0.95" in repeat.stored_claims_diff("02_cnn_history", made_now,
                                                       tmp_path / "claims")[0]
    assert repeat.stored_claims_diff("09_transfer_learning", made_now, tmp_path / "claims") == []


def test_a_run_whose_cell_timed_out_is_rerun_once_and_an_assert_failure_never(monkeypatch):
    """The driver sometimes waits forever on an idle kernel: a timed-out run gets one fresh
    retry (and says so); a chapter whose assert fails is reported as it is."""
    calls = []

    def fake(path, seed, timeout, statuses):
        calls.append(seed)
        return {"chapter": "01_x", "seed": seed, "wall_s": 1.0,
                "status": statuses[len(calls) - 1], "claims": []}

    timed_out = "FAILED: a cell timed out after 480 s"     # as run_chapters.execute says it
    monkeypatch.setattr(robustness, "_run_once",
                        lambda p, s, t: fake(p, s, t, [timed_out, "ok"]))
    run = robustness.run_one("chapters/01_x.ipynb", 3, 480)
    assert run["status"] == "ok" and run["retried_after"] == timed_out and calls == [3, 3]
    assert robustness.merge(None, [run], "today")["chapters"]["01_x"]["runs"]["3"][
        "retried_after"] == timed_out
    calls.clear()
    monkeypatch.setattr(robustness, "_run_once",
                        lambda p, s, t: fake(p, s, t, ["FAILED: AssertionError: claim x"]))
    run = robustness.run_one("chapters/01_x.ipynb", 3, 480)
    assert run["status"].startswith("FAILED: AssertionError") and calls == [3]
    assert "retried_after" not in run


# --- make bench: bench/results-<kind>.json and the page rendered from it -----------------------

def test_bench_writes_json_merges_rows_and_keeps_the_notes(tmp_path):
    from demystify.hardware import read_bench
    run = {"wall_s": 12.34, "cpu_s": 11.0, "peak_rss_mib": 800.4, "gpu_peak_mib": None,
           "status": "ok"}
    run_chapters.write_results({"02_cnn_history": run}, "cpu", "test device", tmp_path)
    page = tmp_path / "results-cpu.md"
    page.write_text(page.read_text().replace(
        run_chapters.NOTES[1], "A note by hand.\n" + run_chapters.NOTES[1]))
    run_chapters.write_results({"01_ml_vs_dl": {**run, "status": "FAILED: boom"}}, "cpu",
                               "test device", tmp_path)
    data = read_bench(tmp_path / "results-cpu.json")
    assert [r["chapter"] for r in data["chapters"]] == ["01_ml_vs_dl", "02_cnn_history"]
    assert data["chapters"][1]["wall_s"] == 12.3 and data["chapters"][1]["budget_s"] == 90
    text = page.read_text()
    assert "A note by hand." in text and text == run_chapters.render_results(data, "A note by hand.")
    assert "| 02_cnn_history | 12.3 | 90 | 11 | 800 | – | cpu | test device | ok |" in text
    assert "| 01_ml_vs_dl |" in text and "FAILED: boom" in text


def test_the_committed_results_page_is_rendered_from_its_json():
    from demystify.hardware import read_bench
    for kind in ("cpu", "gpu"):
        data, page = BENCH / f"results-{kind}.json", BENCH / f"results-{kind}.md"
        if kind == "cpu":
            assert data.exists()
        if data.exists():
            expected = run_chapters.render_results(read_bench(data), run_chapters.kept_notes(page))
            assert page.read_text() == expected, f"{page.name} was edited by hand: run make bench"
