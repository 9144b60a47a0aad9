"""reports/charts.py writes plotly.js figure dicts directly; plotly's own graph objects
validate each one here (an unknown property or a bad value raises). reports/print_charts.py
draws the same charts with matplotlib for the PDF; its figures are read back here
(no database). The patient-page charts are tested in tests/visits/test_charts.py and
tests/therapy/test_charts.py."""

import json
import math
from datetime import date, timedelta
from pathlib import Path

import plotly.graph_objects as go
import pytest

from reports import charts, print_charts
from reports.statistics import MONTH_DAYS, kaplan_meier

DAYS = [date(2025, 1, 6) + timedelta(days=28 * i) for i in range(6)]
NOTE = Path(__file__).resolve().parents[2] / "templates" / "reports" / "_chart_note.html"

# A curve worked by hand: 10 patients; at risk just before 0, 2, 5, 9, 14 months:
# 10, 10, 7, 4, 1 (so 1 event at 2, 2 censored at 2 …). Longest follow-up 14 months.
CURVE = {
    "months": [0.0, 2.0, 5.0, 9.0, 14.0],
    "survival": [1.0, 0.9, 0.8, 0.6, 0.0],
    "lower": [1.0, 0.7, 0.55, 0.3, None],
    "upper": [1.0, 0.98, 0.94, 0.85, None],
    "at_risk": [10, 10, 7, 4, 1],
    "censored": [0, 2, 1, 2, 0],
}
INDUCTION = {
    "response": {"4": {"n": 12, "of": 13, "pct": 92.3}, "8": {"n": 12, "of": 13, "pct": 92.3},
                 "12": {"n": 0, "of": 0, "pct": None}, "24": {"n": 0, "of": 0, "pct": None}},
    "remission": {"4": {"n": 11, "of": 13, "pct": 84.6}, "8": {"n": 12, "of": 13, "pct": 92.3},
                  "12": {"n": 0, "of": 0, "pct": None}, "24": {"n": 0, "of": 0, "pct": None}},
}


def _validated(figure):
    go.Figure(figure)  # raises ValueError on anything plotly.js would not understand
    return figure


def _traces(figure):
    return {trace["name"]: trace for trace in figure["data"]}


def _at_risk_row(figure):
    return [a["text"] for a in figure["layout"]["annotations"] if a.get("xref") == "x"]


# --- induction bars ------------------------------------------------------------------


def test_induction_bars_carry_counts_and_put_the_denominator_under_the_week():
    bars = _validated(charts.induction_figure(INDUCTION))
    response, remission = bars["data"]
    assert response["y"] == [92.3, 92.3, None, None]
    # a short count on each bar (never "12/1312/13"), the denominator under the week
    assert response["text"] == ["12", "12", "", ""] and remission["text"] == ["11", "12", "", ""]
    assert response["x"] == ["Week 4<br>n = 13", "Week 8<br>n = 13", "Week 12<br>not yet due", "Week 24<br>not yet due"]
    assert all("/" not in text for trace in bars["data"] for text in trace["text"])
    assert response["textangle"] == 0 and response["constraintext"] == "both"
    assert bars["layout"]["uniformtext"] == {"mode": "hide", "minsize": 9}  # too small to fit: hidden, not overlapped
    assert response["customdata"][0] == ["4", 12, 13]
    assert "%{customdata[1]} of %{customdata[2]}" in response["hovertemplate"]  # "12 of 13" on hover


def test_induction_without_a_closed_window_says_so_instead_of_drawing_0_of_0():
    empty = {"response": {w: {"n": 0, "of": 0, "pct": None} for w in charts.WEEKS}}
    figure = _validated(charts.induction_figure(empty))
    assert figure["data"] == []
    assert figure["layout"]["xaxis"]["visible"] is False and figure["layout"]["yaxis"]["visible"] is False
    assert [a["text"] for a in figure["layout"]["annotations"]] == [charts.NO_WEEK_CLOSED]
    assert "0/0" not in json.dumps(figure)


# --- Kaplan–Meier -------------------------------------------------------------------------


def test_km_x_axis_runs_to_the_data_not_to_60_months():
    km = _validated(charts.km_figure(CURVE, title="Relapse-free"))
    xaxis = km["layout"]["xaxis"]
    assert xaxis["tickvals"] == [0, 3, 6, 9, 12, 15]  # 14 months of data: every 3 months
    assert 15 <= xaxis["range"][1] < 16
    assert charts.km_view({**CURVE, "months": [0, 30, 59.5]}).ticks == [0, 12, 24, 36, 48, 60]
    assert charts.km_view({**CURVE, "months": [0, 0.5]}).ticks == [0, 1]


def test_km_numbers_at_risk_sit_under_the_ticks_and_count_those_still_followed():
    km = _validated(charts.km_figure(CURVE, title="Relapse-free"))
    # at t: the patients whose follow-up reaches t (at risk at the first time ≥ t); 0 past the data
    assert _at_risk_row(km) == ["10", "7", "4", "4", "1", "0"]
    row = [a for a in km["layout"]["annotations"] if a.get("xref") == "x"]
    assert [a["x"] for a in row] == km["layout"]["xaxis"]["tickvals"]  # aligned with the ticks
    assert {a["yshift"] for a in row} == {-58} and all(a["yanchor"] == "top" for a in row)
    label = [a for a in km["layout"]["annotations"] if a.get("xref") == "paper"]
    assert [a["text"] for a in label] == ["At risk"]


def test_km_marks_every_censoring_time_on_the_curve():
    censored = _traces(_validated(charts.km_figure(CURVE, title="Relapse-free")))["Censored"]
    assert censored["mode"] == "markers" and censored["marker"]["symbol"] == "cross-thin-open"
    assert censored["x"] == [2.0, 5.0, 9.0] and censored["y"] == [0.9, 0.8, 0.6]
    assert censored["customdata"] == [2, 1, 2]


def test_km_tail_with_few_patients_at_risk_is_dotted_without_its_band():
    traces = _traces(_validated(charts.km_figure(CURVE, title="Relapse-free")))
    solid = traces["Kaplan–Meier estimate"]
    sparse = traces["Fewer than 5 at risk"]
    # 4 at risk from 9 months: solid to 9 (held at 0.8), then dotted down to the last patient's 0
    assert (solid["x"], solid["y"]) == ([0.0, 2.0, 5.0, 9.0], [1.0, 0.9, 0.8, 0.8])
    assert (sparse["x"], sparse["y"]) == ([9.0, 9.0, 14.0], [0.8, 0.6, 0.0])
    assert sparse["line"]["dash"] == "dot" and sparse["line"]["width"] < solid["line"]["width"]
    assert traces["95 % CI"]["x"] == solid["x"] and traces["95 % CI"]["y"] == [1.0, 0.7, 0.55, 0.55]
    assert max(solid["x"] + sparse["x"]) == CURVE["months"][-1]  # the curve stops at the last follow-up


def test_km_threshold_grows_with_the_cohort():
    big = {**CURVE, "at_risk": [200, 150, 60, 19, 3]}
    view = charts.km_view(big)
    assert view.threshold == 20 and view.reliable == 3  # 10 % of 200


def test_km_small_cohort_is_dotted_throughout():
    tiny = {**CURVE, "at_risk": [4, 4, 3, 2, 1]}
    traces = _traces(_validated(charts.km_figure(tiny, title="Relapse-free")))
    assert "Kaplan–Meier estimate" not in traces and "95 % CI" not in traces
    assert traces["Fewer than 5 at risk"]["x"] == tiny["months"]


def test_km_from_lifelines_has_its_censoring_counts():
    # 6 patients: events at 100, 300 days; censored at 200, 400, 400, 500 days
    summary = kaplan_meier([100, 200, 300, 400, 400, 500], [True, False, True, False, False, False])
    curve = summary["curve"]
    assert curve["censored"] == [0, 0, 1, 0, 2, 1] and curve["at_risk"] == [6, 6, 5, 4, 3, 1]
    assert curve["months"][4] == round(400 / float(MONTH_DAYS), 2)
    view = charts.km_view(curve)
    assert [m for m, _, _ in view.censored] == [curve["months"][i] for i in (2, 4, 5)]
    assert [c for _, _, c in view.censored] == [1, 2, 1]


def test_km_without_a_curve_says_why():
    for curve in (None, {"months": []}):
        figure = _validated(charts.km_figure(curve, title="empty"))
        assert figure["data"] == [] and figure["layout"]["xaxis"]["visible"] is False
    zero = _validated(charts.km_figure({**CURVE, "months": [0.0]}, title="zero"))
    assert zero["layout"]["annotations"][0]["text"] == charts.NO_FOLLOW_UP


@pytest.mark.parametrize("builder", ["induction_figure", "km_figure"])
def test_house_style_on_every_axis(builder):
    figures = {
        "induction_figure": lambda: charts.induction_figure(INDUCTION),
        "km_figure": lambda: charts.km_figure(CURVE, title="Relapse-free"),
    }
    layout = _validated(figures[builder]())["layout"]
    for axis in ("xaxis", "yaxis"):
        assert layout[axis]["gridcolor"] == "#EBF0F8"
    assert layout["plot_bgcolor"] == "white" and "template" not in layout
    assert "width" not in layout  # the chart takes its card's width (static/js/charts.js)


# --- the report page's set -----------------------------------------------------------------


def _report(n_patients=13, relapse=CURVE, ae=CURVE):
    return {"n_patients": n_patients, "induction": INDUCTION, "relapse_free": {"curve": relapse},
            "adverse_events": {"ae_free": {"curve": ae}}}


def test_report_figures_titles_go_to_the_card_and_the_figures_have_none():
    figures = charts.report_figures(_report())
    assert list(figures) == ["induction", "relapse_free", "ae_free"]
    assert figures["relapse_free"]["title"] == "Relapse-free survival among responders"
    for chart in figures.values():
        assert chart["message"] is None and "title" not in _validated(chart["figure"])["layout"]
    assert figures["relapse_free"]["figure"]["layout"]["xaxis"]["title"]["text"] == "Months since first response"


def test_report_figures_for_an_empty_cohort_are_plain_messages():
    empty = {"n_patients": 0, "induction": {}, "relapse_free": {"curve": {"months": []}},
             "adverse_events": {"ae_free": {"curve": {"months": []}}}}
    figures = charts.report_figures(empty)
    assert {name: (c["figure"], c["message"]) for name, c in figures.items()} == {
        name: (None, charts.NO_PATIENTS) for name in ("induction", "relapse_free", "ae_free")
    }
    assert charts.NO_PATIENTS.startswith("No patients in this cohort")
    no_responders = charts.report_figures(_report(relapse={"months": []}))
    assert no_responders["relapse_free"]["message"] == charts.NO_RESPONDERS
    assert no_responders["ae_free"]["message"] is None


def test_the_page_note_states_the_sparse_tail_rule_in_force():
    note = NOTE.read_text()
    assert f"fewer than {charts.MIN_AT_RISK} patients" in note
    assert f"under {round(charts.MIN_AT_RISK_FRACTION * 100)} % of those followed" in note


# --- the PDF's matplotlib charts ------------------------------------------------------------


def test_print_km_drawing_matches_the_web_reading():
    figure = print_charts.km_drawing(CURVE, colour=charts.RELAPSE_COLOUR, x_title="Months", y_title="Proportion")
    axes = figure.axes[0]
    assert list(axes.get_xticks()) == [0, 3, 6, 9, 12, 15]
    assert axes.get_xlim()[1] < 16  # not 60
    texts = [text.get_text() for text in axes.texts]
    assert texts == ["10", "7", "4", "4", "1", "0", "At risk"]
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["95 % CI", "Kaplan–Meier estimate", "Fewer than 5 at risk", "Censored"]
    marks = [line for line in axes.lines if line.get_marker() == "+"]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [2.0, 5.0, 9.0]


def test_print_induction_drawing_labels_bars_with_counts():
    axes = print_charts.induction_drawing(INDUCTION).axes[0]
    assert [text.get_text() for text in axes.texts] == ["12", "12", "11", "12"]
    assert [label.get_text() for label in axes.get_xticklabels()][:2] == ["Week 4\nn = 13", "Week 8\nn = 13"]
    assert len(axes.patches) == 4 and math.isclose(axes.patches[0].get_height(), 92.3)


def test_print_charts_are_vector_svg_with_messages_when_empty():
    drawn = print_charts.report_charts(_report())
    for chart in drawn.values():
        assert chart["svg"].startswith("<?xml") and "<path" in chart["svg"] and "<image" not in chart["svg"]
        assert chart["src"].startswith("data:image/svg+xml;base64,")
    empty = print_charts.report_charts({"n_patients": 0})
    assert {c["svg"] for c in empty.values()} == {None}
    assert {c["message"] for c in empty.values()} == {charts.NO_PATIENTS}


# --- the visit PDF's trend ------------------------------------------------------------------


def test_trend_svg_draws_the_remission_line_it_is_given():
    svg = charts.trend_svg(cdai=[(DAYS[0], 300), (DAYS[2], 140)], doses=[(DAYS[0], 50), (DAYS[1], 100)],
                           start=DAYS[0], end=DAYS[3], remission_below=150)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert ">CDAI 150</text>" in svg and svg.count("<circle") == 2 and "<polygon" in svg
    assert ">CDAI 120</text>" in charts.trend_svg(cdai=[], doses=[], start=DAYS[0], end=DAYS[1], remission_below=120)
    with pytest.raises(TypeError):
        charts.trend_svg(cdai=[], doses=[], start=DAYS[0], end=DAYS[1])


def test_trend_svg_writes_its_first_and_last_day_as_it_is_told():
    svg = charts.trend_svg(cdai=[], doses=[], start=DAYS[0], end=DAYS[1], remission_below=150,
                           day_text=lambda d: f"{d.year}年{d.month}月{d.day}日")
    assert f"{DAYS[0].year}年{DAYS[0].month}月{DAYS[0].day}日" in svg and DAYS[0].isoformat() not in svg
    assert DAYS[0].isoformat() in charts.trend_svg(cdai=[], doses=[], start=DAYS[0], end=DAYS[1], remission_below=150)
