"""therapy/charts.py writes plotly.js figure dicts directly; plotly's own graph objects
validate each one here (an unknown property or a bad value raises)."""

from datetime import date, timedelta

import plotly.graph_objects as go

from therapy import charts

DAYS = [date(2025, 1, 6) + timedelta(days=28 * i) for i in range(6)]


def _validated(figure):
    go.Figure(figure)  # raises ValueError on anything plotly.js would not understand
    return figure


def test_dose_figure_steps_to_today_and_marks_deviations_and_overrides():
    figure = _validated(charts.dose_figure(
        thalidomide=[(DAYS[0], 25, [], False), (DAYS[1], 75, ["step_too_large"], False),
                     (DAYS[2], 100, ["step_too_early"], True)],
        azathioprine=[(DAYS[0], 100, [], False)],
        cdai=[(DAYS[0], 250), (DAYS[2], 140)],
        until=DAYS[4], labels={"step_too_large": "Step too large"},
    ))
    names = [t["name"] for t in figure["data"]]
    assert names == ["Thalidomide (mg/day)", "Thalidomide: deviation / override", "Azathioprine (mg/day)", "CDAI"]
    steps = figure["data"][0]
    assert steps["x"][-1] == DAYS[4].isoformat() and steps["y"] == [25.0, 75.0, 100.0, 100.0]
    marks = figure["data"][1]
    assert marks["marker"]["symbol"] == ["x", "diamond"]
    assert marks["text"] == ["deviation: Step too large", "override: step too early"]  # no label: the code spaced
    assert figure["data"][3]["yaxis"] == "y2"


def test_dose_figure_without_thalidomide_or_cdai():
    figure = _validated(charts.dose_figure(thalidomide=[], azathioprine=[(DAYS[0], 50, ["low"], False)], cdai=[],
                                           until=DAYS[1]))
    assert [t["name"] for t in figure["data"]] == ["Azathioprine (mg/day)", "Azathioprine: deviation / override"]


def test_house_style_on_every_axis():
    layout = _validated(charts.dose_figure(thalidomide=[(DAYS[0], 25, [], False)], azathioprine=[], cdai=[],
                                           until=DAYS[1]))["layout"]
    for axis in ("xaxis", "yaxis", "yaxis2"):
        assert layout[axis]["gridcolor"] == "#EBF0F8"
    assert layout["plot_bgcolor"] == "white" and "template" not in layout
