"""reports/charts.py writes plotly.js figure dicts directly; plotly's own graph objects
validate each one here (an unknown property or a bad value raises). The patient-page
charts are tested in tests/visits/test_charts.py and tests/therapy/test_charts.py."""

from datetime import date, timedelta

import plotly.graph_objects as go
import pytest

from reports import charts

DAYS = [date(2025, 1, 6) + timedelta(days=28 * i) for i in range(6)]


def _validated(figure):
    go.Figure(figure)  # raises ValueError on anything plotly.js would not understand
    return figure


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


@pytest.mark.parametrize("builder", ["induction_figure", "km_figure"])
def test_house_style_on_every_axis(builder):
    figures = {
        "induction_figure": lambda: charts.induction_figure({}),
        "km_figure": lambda: charts.km_figure(None, title="empty"),
    }
    layout = _validated(figures[builder]())["layout"]
    for axis in ("xaxis", "yaxis"):
        assert layout[axis]["gridcolor"] == "#EBF0F8"
    assert layout["plot_bgcolor"] == "white" and "template" not in layout


def test_trend_svg_draws_the_remission_line_it_is_given():
    svg = charts.trend_svg(cdai=[(DAYS[0], 300), (DAYS[2], 140)], doses=[(DAYS[0], 50), (DAYS[1], 100)],
                           start=DAYS[0], end=DAYS[3], remission_below=150)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert ">CDAI 150</text>" in svg and svg.count("<circle") == 2 and "<polygon" in svg
    assert ">CDAI 120</text>" in charts.trend_svg(cdai=[], doses=[], start=DAYS[0], end=DAYS[1], remission_below=120)
    with pytest.raises(TypeError):
        charts.trend_svg(cdai=[], doses=[], start=DAYS[0], end=DAYS[1])
