"""demystify.claims: a claim asserts, records, compares with the stored record, and glues."""
import json

import numpy as np
import pytest

from demystify import claims, run_seed, start
from demystify.claims import claim, drift, parse_condition, read_jsonl, report, timing


@pytest.fixture(autouse=True)
def fresh_run(monkeypatch):
    for name in ("DEMYSTIFY_CLAIMS_OUT", "DEMYSTIFY_CLAIMS_COMPARE", "DEMYSTIFY_CLAIMS_SOFT",
                 "DEMYSTIFY_CLAIMS_SPREAD", "DEMYSTIFY_SEED"):
        monkeypatch.delenv(name, raising=False)
    claims.begin("01_ml_vs_dl", 0, "cpu")


def test_a_claim_that_holds_is_recorded_and_returns_nothing_to_echo():
    # None, like `assert`: a notebook cell ending with a claim must not echo a stray number
    assert claim("accuracy", 0.97, ">= 0.95", tol=0.02, says="it learns") is None
    (made,) = claims.claims()
    assert (made.name, made.value, made.condition, made.held) == ("accuracy", 0.97, ">= 0.95", True)
    assert (made.tolerance, made.relative, made.seed, made.chapter) == (0.02, False, 0, "01_ml_vs_dl")


def test_a_claim_that_fails_raises_with_what_failed():
    with pytest.raises(AssertionError, match=r"claim accuracy does not hold \(it learns\): 0.9 is not >= 0.95"):
        claim("accuracy", 0.9, ">= 0.95", tol=0.02, says="it learns")


def test_soft_mode_records_a_failed_claim_without_raising(monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_SOFT", "1")
    claim("accuracy", 0.9, ">= 0.95", tol=0.02)
    assert claims.claims()[0].held is False


@pytest.mark.parametrize("condition, value, held", [
    ("> 0", 0.0, False), (">= 0", 0.0, True), ("< 1e-3", 5e-4, True), ("== 60000", 60000, True),
    ("<= -1.5", -1.4, False)])
def test_conditions(monkeypatch, condition, value, held):
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_SOFT", "1")
    claim("x", value, condition, tol=0)
    assert claims.claims()[0].held is held


@pytest.mark.parametrize("bad", ["0.95", ">= ", "=> 0.9", ">= 0.9 or so", None])
def test_a_malformed_condition_shows_the_form(bad):
    with pytest.raises(ValueError, match="<op> <number>"):
        parse_condition(bad)


def test_exactly_one_tolerance_and_clean_names_and_numbers():
    with pytest.raises(ValueError, match="exactly one of tol"):
        claim("a", 1.0, "> 0")
    with pytest.raises(ValueError, match="exactly one of tol"):
        claim("a", 1.0, "> 0", tol=0.1, rel_tol=0.1)
    with pytest.raises(ValueError, match="lower_snake_case"):
        claim("CNN accuracy", 1.0, "> 0", tol=0.1)
    with pytest.raises(TypeError, match="real number"):
        claim("a", "0.9", "> 0", tol=0.1)
    with pytest.raises(ValueError, match="NaN"):
        claim("a", float("nan"), "> 0", tol=0.1)
    claim("a", 1.0, "> 0", tol=0.1)
    with pytest.raises(ValueError, match="already made"):
        claim("a", 1.0, "> 0", tol=0.1)


def test_claims_need_a_started_chapter():
    claims._RUN = claims._Run()
    with pytest.raises(RuntimeError, match="start"):
        claim("a", 1.0, "> 0", tol=0.1)


def test_tensors_and_numpy_scalars_are_numbers():
    import numpy as np
    import torch
    claim("a", torch.tensor(0.5), "> 0", tol=0.1, parts={"b": np.float32(0.25)})
    assert claims.claims()[0].value == 0.5 and claims.claims()[0].parts == {"b": 0.25}


def test_claims_are_appended_to_the_out_folder_as_they_are_made(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_OUT", str(tmp_path))
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_SOFT", "1")
    claim("first", 1.0, "> 0", tol=0.1)
    claim("second", -1.0, "> 0", tol=0.1)
    timing("train_seconds", 3.5)
    rows = read_jsonl(tmp_path / "01_ml_vs_dl.seed0.jsonl")
    assert [(r["name"], r["held"], r["kind"]) for r in rows] == [
        ("first", True, "claim"), ("second", False, "claim"), ("train_seconds", True, "timing")]


def _stored(tmp_path, monkeypatch, seed=0, machine=None, **claim_fields):
    record = {"name": "accuracy", "value": 0.964, "condition": ">= 0.95", "held": True,
              "tolerance": 0.02, "relative": False, "says": "", "parts": {}, "kind": "claim"}
    record.update(claim_fields)
    content = {"chapter": "01_ml_vs_dl", "seed": seed, "profile": "cpu", "claims": [record]}
    if machine is not None:
        content["machine"] = machine
    (tmp_path / "01_ml_vs_dl.json").write_text(json.dumps(content))
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_COMPARE", str(tmp_path))


def test_a_drift_outside_the_tolerance_fails_with_both_numbers(tmp_path, monkeypatch):
    _stored(tmp_path, monkeypatch)
    with pytest.raises(AssertionError, match=r"claim accuracy: stored 0.964, now 0.94 "
                                             r"\(tolerance ±0.02\)"):
        claim("accuracy", 0.94, ">= 0.9", tol=0.02)


def test_a_drift_inside_the_tolerance_passes(tmp_path, monkeypatch):
    _stored(tmp_path, monkeypatch)
    claim("accuracy", 0.955, ">= 0.95", tol=0.02)


def _spread(tmp_path, monkeypatch, values, name="accuracy"):
    """A robustness record holding `values` of claim `name` of chapter 01, one per seed, and
    entries that must not count: a seed where it failed, a timing, another chapter's claim."""
    runs = {str(seed): {"claims": [{"name": name, "value": value, "kind": "claim",
                                    "held": True}]} for seed, value in enumerate(values)}
    runs["9"] = {"claims": [{"name": name, "value": -50.0, "kind": "claim", "held": False},
                            {"name": name, "value": 1e3, "kind": "timing",
                             "held": True}]}
    other = {"runs": {"0": {"claims": [{"name": name, "value": 99.0, "kind": "claim",
                                        "held": True}]}}}
    path = tmp_path / "robustness.json"
    path.write_text(json.dumps({"chapters": {"01_ml_vs_dl": {"runs": runs},
                                             "02_cnn_history": other}}))
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_SPREAD", str(path))
    claims._SEED_VALUES.clear()


def test_the_band_widens_to_the_spread_over_seeds(tmp_path, monkeypatch):
    _stored(tmp_path, monkeypatch)
    _spread(tmp_path, monkeypatch, [0.95, 0.96, 0.97, 0.98, 0.99])      # sd 0.0158
    assert claims.seed_sd("01_ml_vs_dl", "accuracy") == pytest.approx(0.0158, abs=1e-4)
    claim("accuracy", 0.92, ">= 0.8", tol=0.02)     # 0.044 away: inside 5 sd (0.079)
    claims.begin("01_ml_vs_dl", 0, "cpu")        # a new run: the claim may be made again
    with pytest.raises(AssertionError, match=r"stored 0.964, now 0.88 \(tolerance ±0.02, "
                                             r"widened to ±0.0791: 5 sd over seeds\)"):
        claim("accuracy", 0.88, ">= 0.8", tol=0.02)


def test_on_the_records_own_machine_the_tolerance_is_not_widened(tmp_path, monkeypatch):
    # runs are deterministic on one machine: there a drift beyond tol is a real change
    _stored(tmp_path, monkeypatch, machine=claims.machine())
    _spread(tmp_path, monkeypatch, [0.95, 0.96, 0.97, 0.98, 0.99])
    with pytest.raises(AssertionError, match=r"\(tolerance ±0.02\)"):
        claim("accuracy", 0.92, ">= 0.8", tol=0.02)
    claims.begin("01_ml_vs_dl", 0, "cpu")
    _stored(tmp_path, monkeypatch, machine={**claims.machine(), "cpu": "GenuineIntel 6 85"})
    claim("accuracy", 0.92, ">= 0.8", tol=0.02)          # another CPU: widened, passes


def test_a_machine_that_does_not_name_its_cpu_is_never_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(claims, "machine", lambda: {**ELSEWHERE, "cpu": ""})
    _stored(tmp_path, monkeypatch, machine={**ELSEWHERE, "cpu": ""})     # e.g. two Macs
    _spread(tmp_path, monkeypatch, [0.95, 0.96, 0.97, 0.98, 0.99])
    claim("accuracy", 0.92, ">= 0.8", tol=0.02)          # unknown CPU: widened, passes
    assert claims.machine()["cpu"] == "" and not claims.same_machine(
        {"machine": {**ELSEWHERE, "cpu": ""}})


def test_a_relative_tolerance_widens_to_the_spread_too(tmp_path, monkeypatch):
    _stored(tmp_path, monkeypatch, value=10.0, tolerance=0.1, relative=True)
    _spread(tmp_path, monkeypatch, [8.0, 10.0, 12.0])                     # sd 2: band ±10
    claim("accuracy", 19.0, "> 1", rel_tol=0.1)
    claims.begin("01_ml_vs_dl", 0, "cpu")
    with pytest.raises(AssertionError, match=r"widened to ±10"):
        claim("accuracy", 21.0, "> 1", rel_tol=0.1)


def test_the_record_names_the_machine_that_made_it(tmp_path):
    claim("accuracy", 0.97, ">= 0.95", tol=0.02)
    rows = [{**asdict_claim, "chapter": "01_ml_vs_dl", "seed": 0, "profile": "cpu"}
            for asdict_claim in (vars(c) for c in claims.claims())]
    record = claims.read_record(claims.write_record(tmp_path / "r.json", rows))
    assert record["machine"] == claims.machine()
    assert set(record["machine"]) == {"cpu", "vector", "arch", "torch"}


def test_a_narrow_spread_never_narrows_the_tolerance(tmp_path, monkeypatch):
    _stored(tmp_path, monkeypatch)
    _spread(tmp_path, monkeypatch, [0.964, 0.964, 0.965])               # sd 0.0006
    claim("accuracy", 0.95, ">= 0.9", tol=0.02)
    claims.begin("01_ml_vs_dl", 0, "cpu")        # a new run: the claim may be made again
    with pytest.raises(AssertionError, match=r"\(tolerance ±0.02\)"):
        claim("accuracy", 0.94, ">= 0.9", tol=0.02)


def test_a_claim_without_seeds_or_a_missing_spread_file(tmp_path, monkeypatch):
    _spread(tmp_path, monkeypatch, [0.9], name="accuracy")
    assert claims.seed_sd("01_ml_vs_dl", "accuracy") is None            # one seed: no sd
    assert claims.seed_sd("01_ml_vs_dl", "other") is None
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_SPREAD", str(tmp_path / "nowhere.json"))
    with pytest.raises(FileNotFoundError, match="bench/robustness.json"):
        claims.seed_sd("01_ml_vs_dl", "accuracy")


def test_relative_tolerances_scale_with_the_stored_value():
    stored = {"name": "ratio", "value": 10.0, "tolerance": 0.2, "relative": True, "kind": "claim"}
    assert drift(stored, 11.9) is None
    assert drift(stored, 12.5) == "claim ratio: stored 10, now 12.5 (tolerance ±20%)"
    assert drift({**stored, "kind": "timing", "tolerance": None}, 1e9) is None


def test_a_timed_claim_is_asserted_but_never_compared_with_the_record(tmp_path, monkeypatch):
    _stored(tmp_path, monkeypatch, name="latency_ratio", value=1.25, tolerance=None,
            relative=False)
    claim("latency_ratio", 1.6, "> 1.05", timed=True)        # far from 1.25: not compared
    assert claims.claims()[0].band() == "not compared (timed)"
    with pytest.raises(AssertionError, match="does not hold"):
        claim("other_ratio", 1.0, "> 1.05", timed=True)
    with pytest.raises(ValueError, match="takes no tol"):
        claim("third_ratio", 1.2, "> 1.05", timed=True, rel_tol=0.2)


def test_records_of_another_seed_are_not_compared(tmp_path, monkeypatch):
    _stored(tmp_path, monkeypatch, seed=3)
    claim("accuracy", 0.5, ">= 0.1", tol=0.02)


def test_a_claim_missing_from_the_record_fails(tmp_path, monkeypatch):
    _stored(tmp_path, monkeypatch)
    with pytest.raises(AssertionError, match="not in the stored record"):
        claim("new_claim", 1.0, "> 0", tol=0.1)


def test_report_fails_when_the_record_has_claims_this_run_did_not_make(tmp_path, monkeypatch):
    _stored(tmp_path, monkeypatch)
    with pytest.raises(AssertionError, match="did not make: accuracy"):
        report()
    claim("accuracy", 0.96, ">= 0.95", tol=0.02)
    table = report().data
    assert list(table.index) == ["accuracy"] and table.loc["accuracy", "held"] == "✓"


def test_timed_claims_may_be_made_on_one_machine_and_not_another(tmp_path, monkeypatch):
    # e.g. chapter 10's bf16-versus-fp32 ratio exists only on a CPU without 16-bit units
    _stored(tmp_path, monkeypatch, name="bf16_over_fp32", value=0.3, tolerance=None)
    claim("new_speed_ratio", 2.0, "> 1", timed=True)            # not in the record: fine
    assert list(report().data.index) == ["new_speed_ratio"]     # stored one not made: fine
    timing("step_s", 0.1)                                       # a timing likewise
    claims.begin("01_ml_vs_dl", 0, "cpu")
    with pytest.raises(AssertionError, match="not in the stored record"):
        claim("new_accuracy", 0.9, "> 0.5", tol=0.02)           # a compared claim: not fine


def test_a_missing_record_says_how_to_make_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_COMPARE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="make execute"):
        claim("accuracy", 0.96, ">= 0.95", tol=0.02)


def test_write_then_read_a_record(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_OUT", str(tmp_path))
    claim("accuracy", 0.96, ">= 0.95", tol=0.02, parts={"cnn": 0.96})
    path = claims.write_record(tmp_path / "rec.json", read_jsonl(tmp_path / "01_ml_vs_dl.seed0.jsonl"))
    record = claims.read_record(path)
    assert (record["chapter"], record["seed"], record["profile"]) == ("01_ml_vs_dl", 0, "cpu")
    assert record["claims"][0]["parts"] == {"cnn": 0.96}


def test_glue_output_is_what_myst_nb_writes():
    """Our glue (no myst-nb needed in Colab) emits the same display data as myst_nb.glue."""
    IPython = pytest.importorskip("IPython")
    myst_glue = pytest.importorskip("myst_nb.ext.glue")
    from unittest import mock
    captured = []
    with mock.patch("IPython.display.display", lambda *a, **k: captured.append((a, k))), \
            mock.patch("IPython.get_ipython", lambda: object()):
        claims.glue("acc", 0.964)
    with mock.patch.object(myst_glue, "ipy_display", lambda *a, **k: captured.append((a, k))):
        myst_glue.glue("acc", 0.964, display=False)
    assert captured[0] == captured[1]
    assert IPython


def test_glue_stores_numpy_and_torch_scalars_as_plain_numbers():
    """myst-nb formats {glue:text}`x:.3f` from the stored text/plain: it must read "0.5", not
    "np.float64(0.5)" (the site build warned on every NumPy scalar glued by a chapter)."""
    pytest.importorskip("IPython")
    import numpy as np
    import torch
    from unittest import mock
    captured = []
    with mock.patch("IPython.display.display", lambda *a, **k: captured.append(a[0])), \
            mock.patch("IPython.get_ipython", lambda: object()):
        claims.glue("a", np.float64(0.5))
        claims.glue("b", torch.tensor(0.25))
        claims.glue("c", np.int64(3))
    texts = [bundle[claims.GLUE_PREFIX + "text/plain"] for bundle in captured]
    assert texts == ["0.5", "0.25", "3"]


def test_seed_comes_from_the_environment(monkeypatch):
    assert run_seed() == 0
    monkeypatch.setenv("DEMYSTIFY_SEED", "3")
    assert run_seed() == 3
    device, P = start("01_ml_vs_dl")
    assert P.seed == 3 and claims._RUN.seed == 3 and claims._RUN.chapter == "01_ml_vs_dl"
    monkeypatch.setenv("DEMYSTIFY_SEED", "three")
    with pytest.raises(ValueError, match="DEMYSTIFY_SEED"):
        run_seed()


# --- figures: nbval ignores images, so every figure shown is fingerprinted and compared -------

def _figure(values=(1.0, 2.0, 3.0), blank=False):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    if not blank:
        ax.plot(values)
    plt.close(fig)
    return fig


def test_a_figure_is_recorded_with_what_it_plots_and_keeps_its_usual_text(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_OUT", str(tmp_path))
    fig = _figure()
    assert claims.record_figure(fig) == repr(fig) == "<Figure size 640x480 with 1 Axes>"
    (made,) = read_jsonl(tmp_path / "01_ml_vs_dl.seed0.jsonl")
    (axes,) = made["axes"]
    assert (made["name"], made["kind"], axes["lines"], axes["values"]) == (
        "figure_1", "figure", [3], 6)
    assert axes["mean"] == pytest.approx((0 + 1 + 2 + 1 + 2 + 3) / 6)


def test_a_blank_figure_is_an_error_when_shown_in_a_check_run(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_OUT", str(tmp_path))
    with pytest.raises(AssertionError, match="figure_1 .* plots nothing"):
        claims.record_figure(_figure(blank=True))
    with pytest.raises(AssertionError, match="1 figure\\(s\\) of 01_ml_vs_dl failed"):
        report()


def test_a_blank_figure_only_warns_in_a_learners_own_run():
    """Colab or an exercise (no DEMYSTIFY_CLAIMS_* set): an empty plot must not break a cell
    nor make the chapter's report() fail."""
    with pytest.warns(UserWarning, match="figure_1 .* plots nothing"):
        claims.record_figure(_figure(blank=True))
    report()


def test_a_blank_figure_is_recorded_as_failed_in_soft_mode(monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_SOFT", "1")
    claims.record_figure(_figure(blank=True))
    assert claims.figures()[0]["held"] is False


ELSEWHERE = {"cpu": "GenuineIntel 6 85", "vector": "AVX2", "arch": "x86_64", "torch": "2.0.0"}


def _stored_figures(tmp_path, monkeypatch, *figs, elsewhere=False):
    out = tmp_path / "out"
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_OUT", str(out))
    claim("accuracy", 0.97, ">= 0.95", tol=0.02)
    for fig in figs:
        claims.record_figure(fig)
    path = claims.write_record(tmp_path / "01_ml_vs_dl.json",
                               read_jsonl(out / "01_ml_vs_dl.seed0.jsonl"))
    if elsewhere:                            # a record another machine made
        record = claims.read_record(path)
        path.write_text(json.dumps({**record, "machine": ELSEWHERE}))
    monkeypatch.delenv("DEMYSTIFY_CLAIMS_OUT")
    monkeypatch.setenv("DEMYSTIFY_CLAIMS_COMPARE", str(tmp_path))
    claims.begin("01_ml_vs_dl", 0, "cpu")
    claim("accuracy", 0.97, ">= 0.95", tol=0.02)


def test_the_record_keeps_figures_apart_from_claims(tmp_path, monkeypatch):
    _stored_figures(tmp_path, monkeypatch, _figure())
    record = claims.read_record(tmp_path / "01_ml_vs_dl.json")
    assert [c["name"] for c in record["claims"]] == ["accuracy"]
    assert [f["name"] for f in record["figures"]] == ["figure_1"]
    assert record["figures"][0]["axes"][0]["lines"] == [3]


def test_the_same_figure_passes_the_comparison(tmp_path, monkeypatch):
    _stored_figures(tmp_path, monkeypatch, _figure())
    claims.record_figure(_figure((1.0, 2.0, 3.01)))      # within FIGURE_RTOL
    report()


@pytest.mark.parametrize("values, why", [
    ((1.0, 2.0, 4.0), "mean of the plotted numbers"),   # other data
    ((1.0, 2.0), "lines \\[2\\], stored \\[3\\]")])        # other structure
def test_a_changed_figure_fails_the_comparison(tmp_path, monkeypatch, values, why):
    _stored_figures(tmp_path, monkeypatch, _figure())
    with pytest.raises(AssertionError, match=f"figure_1 .* differs from the stored record: .*{why}"):
        claims.record_figure(_figure(values))


def test_a_timed_figure_is_compared_on_structure_only(tmp_path, monkeypatch):
    from demystify.plot import mark_timed
    _stored_figures(tmp_path, monkeypatch, mark_timed(_figure()), mark_timed(_figure()))
    claims.record_figure(mark_timed(_figure((5.0, 9.0, 1.0))))      # other timings: passes
    with pytest.raises(AssertionError, match="lines \\[2\\], stored \\[3\\]"):
        claims.record_figure(mark_timed(_figure((5.0, 9.0))))


def _detections(boxes, picture=(8, 8), fill=0.0):
    """A scene with `boxes` rectangles drawn on it, as a detector's figure is."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    fig, ax = plt.subplots()
    ax.imshow(np.full(picture, fill))
    for k in range(boxes):
        ax.add_patch(Rectangle((k, k), 2, 2, fill=False))
    plt.close(fig)
    return fig


def test_a_varying_figure_is_compared_on_its_images_only(tmp_path, monkeypatch):
    from demystify.plot import mark_varying
    _stored_figures(tmp_path, monkeypatch, mark_varying(_detections(43)),
                    mark_varying(_detections(2)), _detections(2), elsewhere=True)
    claims.record_figure(mark_varying(_detections(38)))   # other boxes, same scene: passes
    with pytest.raises(AssertionError, match=r"images \[\[8, 9\]\], stored \[\[8, 8\]\]"):
        claims.record_figure(mark_varying(_detections(2, picture=(8, 9))))
    with pytest.raises(AssertionError, match="patches 3, stored 2"):     # unmarked: exact
        claims.record_figure(_detections(3))


def test_a_varying_axes_still_compares_the_scene_under_the_boxes(tmp_path, monkeypatch):
    from demystify.plot import mark_varying
    # the record's axes unmarked (made before the mark), this run's marked: the mark counts
    _stored_figures(tmp_path, monkeypatch, _detections(43, fill=0.5), _detections(43, fill=0.5),
                    elsewhere=True)
    claims.record_figure(mark_varying(_detections(38, fill=0.5)))
    with pytest.raises(AssertionError, match="pixels"):      # another scene, 2 % brighter
        claims.record_figure(mark_varying(_detections(38, fill=0.51)))


def test_a_varying_axes_is_compared_in_full_on_the_records_machine(tmp_path, monkeypatch):
    from demystify.plot import mark_varying
    _stored_figures(tmp_path, monkeypatch, mark_varying(_detections(43)))
    with pytest.raises(AssertionError, match="patches 38, stored 43"):   # deterministic here
        claims.record_figure(mark_varying(_detections(38)))


def test_a_record_made_before_pixels_compares_image_shapes(tmp_path, monkeypatch):
    from demystify.plot import mark_varying
    old = [{"lines": [], "images": [[8, 8]], "collections": [], "patches": 43, "texts": 0,
            "values": 4, "mean": 0.5, "mean_abs": 0.5, "timed": False, "varying": True}]
    new = claims.figure_drift(old, [], False)
    assert new == "0 axes, stored 1"
    from demystify.plot import fingerprint
    now = fingerprint(mark_varying(_detections(38, fill=0.9)))
    assert claims.figure_drift(old, now) is None                  # no pixels stored: shapes
    assert "images" in claims.figure_drift(
        old, fingerprint(mark_varying(_detections(38, picture=(8, 9)))))


def test_report_fails_when_a_stored_figure_was_not_shown(tmp_path, monkeypatch):
    _stored_figures(tmp_path, monkeypatch, _figure(), _figure())
    claims.record_figure(_figure())
    with pytest.raises(AssertionError, match="has 2 figures up to here, this run showed 1"):
        report()


def test_a_figure_beyond_the_record_fails(tmp_path, monkeypatch):
    _stored_figures(tmp_path, monkeypatch, _figure())
    claims.record_figure(_figure())
    with pytest.raises(AssertionError, match="figure_2 is not in the stored record"):
        claims.record_figure(_figure())


def test_figures_of_a_record_without_figures_are_not_compared(tmp_path, monkeypatch):
    _stored_figures(tmp_path, monkeypatch)          # a record made before figures were kept
    claims.record_figure(_figure((7.0,)))
    report()


def test_fingerprint_sees_images_bars_scatter_and_texts():
    import matplotlib.pyplot as plt
    import numpy as np
    from demystify.plot import fingerprint
    fig, (a, b) = plt.subplots(1, 2)
    a.imshow(np.ones((4, 5)))
    a.text(0, 0, "x")
    b.bar([0, 1], [2.0, 3.0])
    b.scatter([1, 2, 3], [4, 5, 6])
    plt.close(fig)
    first, second = fingerprint(fig)
    assert (first["images"], first["texts"], first["values"]) == ([[4, 5]], 1, 20)
    assert second["patches"] == 2 and second["collections"][0][:2] == ["PathCollection", 3]
    with pytest.raises(TypeError, match="matplotlib Figure"):
        fingerprint(np.ones(3))


def test_watch_figures_records_every_figure_ipython_formats():
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure
    InteractiveShell.clear_instance()         # the glue tests above may have left a shell
    assert claims.watch_figures() is False                 # outside IPython: nothing to do
    shell = InteractiveShell.instance()
    try:
        assert claims.watch_figures() is True
        fig = _figure()
        bundle, _ = shell.display_formatter.format(fig)
        assert bundle["text/plain"] == repr(fig)                 # what IPython shows anyway
        assert [f["name"] for f in claims.figures()] == ["figure_1"]
        # the inline backend drops Figure formatters when it (re)configures: re-registered
        # before the next cell runs
        shell.display_formatter.formatters["text/plain"].type_printers.pop(Figure)
        shell.events.trigger("pre_run_cell", None)
        shell.display_formatter.format(fig)
        assert len(claims.figures()) == 2
    finally:
        shell.events.unregister("pre_run_cell", claims._rewatch)
        InteractiveShell.clear_instance()
