"""reports/charts.py writes plotly.js figure dicts directly; plotly's own graph objects
validate each one here (an unknown property or a bad value raises)."""

from datetime import date, timedelta

import plotly.graph_objects as go
import pytest

from reports import charts

DAYS = [date(2025, 1, 6) + timedelta(days=28 * i) for i in range(6)]


def _validated(figure):
    go.Figure(figure)  # raises ValueError on anything plotly.js would not understand
    return figure


def test_cdai_figure_lines_at_150_and_baseline_minus_70():
    figure = _validated(charts.cdai_figure(
        dates=DAYS, values=[320, 260, 200, 140, 120, 180],
        statuses=["", "no_response", "response", "remission", "remission", "relapse"], baseline=300,
    ))
    [trace] = figure["data"]
    assert trace["y"] == [320, 260, 200, 140, 120, 180] and trace["x"][0] == "2025-01-06"
    assert trace["marker"]["color"][3] == charts.STATUS_COLOURS["remission"]
    assert trace["text"][-1] == "Relapse"
    assert [s["y0"] for s in figure["layout"]["shapes"]] == [150, 230]
    assert [a["text"] for a in figure["layout"]["annotations"]] == [
        "Remission below 150", "Response: baseline 300 − 70 = 230"]
    assert figure["layout"]["title"]["text"] == "CDAI over time"


def test_cdai_figure_without_baseline_has_only_the_remission_line():
    figure = _validated(charts.cdai_figure(dates=DAYS[:1], values=[200], statuses=[""]))
    assert [s["y0"] for s in figure["layout"]["shapes"]] == [150]


def test_inflammation_figure_puts_esr_on_the_right_axis():
    figure = _validated(charts.inflammation_figure(crp=[(DAYS[0], 12.5)], esr=[(DAYS[0], 30)]))
    crp, esr = figure["data"]
    assert crp["y"] == [12.5] and "yaxis" not in crp and esr["yaxis"] == "y2"
    assert figure["layout"]["yaxis2"]["overlaying"] == "y" and figure["layout"]["yaxis2"]["side"] == "right"


def test_endoscopy_figure_only_the_recorded_scores():
    figure = _validated(charts.endoscopy_figure(cdeis=[(DAYS[0], 9), (DAYS[3], 4)], ses_cd=[], rutgeerts=[]))
    assert [t["name"] for t in figure["data"]] == ["CDEIS"]
    assert figure["layout"]["shapes"][0]["y0"] == 7.0
    empty = _validated(charts.endoscopy_figure(cdeis=[], ses_cd=[(DAYS[0], 5)], rutgeerts=[]))
    assert "shapes" not in empty["layout"]


def test_dose_figure_steps_to_today_and_marks_deviations_and_overrides():
    figure = _validated(charts.dose_figure(
        thalidomide=[(DAYS[0], 25, [], False), (DAYS[1], 75, ["step_too_large"], False),
                     (DAYS[2], 100, ["step_too_early"], True)],
        azathioprine=[(DAYS[0], 100, [], False)],
        cdai=[(DAYS[0], 250), (DAYS[2], 140)],
        until=DAYS[4],
    ))
    names = [t["name"] for t in figure["data"]]
    assert names == ["Thalidomide (mg/day)", "Thalidomide: deviation / override", "Azathioprine (mg/day)", "CDAI"]
    steps = figure["data"][0]
    assert steps["x"][-1] == DAYS[4].isoformat() and steps["y"] == [25.0, 75.0, 100.0, 100.0]
    marks = figure["data"][1]
    assert marks["marker"]["symbol"] == ["x", "diamond"]
    assert marks["text"] == ["deviation: step_too_large", "override: step_too_early"]
    assert figure["data"][3]["yaxis"] == "y2"


def test_induction_and_km_figures():
    induction = {"response": {"4": {"n": 3, "of": 4, "pct": 75.0}}, "remission": {"4": {"n": 1, "of": 4, "pct": 25.0}}}
    bars = _validated(charts.induction_figure(induction))
    assert bars["data"][0]["y"] == [75.0, None, None, None] and bars["data"][0]["text"][0] == "3/4"
    curve = {"months": [0, 6, 14], "survival": [1, 0.75, 0.5], "upper": [1, 0.95, 0.8], "lower": [1, 0.4, 0.2],
             "at_risk": [4, 3, 1]}
    km = _validated(charts.km_figure(curve, title="Relapse-free"))
    assert [t["name"] for t in km["data"]] == ["95 % CI upper", "95 % CI", "Kaplan–Meier estimate"]
    at_risk = [a["text"] for a in km["layout"]["annotations"][:-1]]
    # ticks 0, 12, 24 … months: at risk at 0 and 12; nothing is shown past the last follow-up (14).
    assert at_risk == ["4", "3", "–", "–", "–", "–"]
    assert _validated(charts.km_figure(None, title="empty"))["data"] == []


@pytest.mark.parametrize("builder", ["cdai_figure", "inflammation_figure", "dose_figure"])
def test_house_style_on_every_axis(builder):
    figures = {
        "cdai_figure": lambda: charts.cdai_figure(dates=DAYS[:1], values=[200], statuses=[""]),
        "inflammation_figure": lambda: charts.inflammation_figure(crp=[], esr=[]),
        "dose_figure": lambda: charts.dose_figure(thalidomide=[(DAYS[0], 25, [], False)], azathioprine=[], cdai=[],
                                                  until=DAYS[1]),
    }
    layout = figures[builder]()["layout"]
    for axis in ("xaxis", "yaxis"):
        assert layout[axis]["gridcolor"] == "#EBF0F8"
    assert layout["plot_bgcolor"] == "white" and "template" not in layout
