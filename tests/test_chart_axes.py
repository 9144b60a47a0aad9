"""Issue 15 item 5, on the figure dicts: a chart of one point has a range of weeks and
date ticks (never times), second axes tick on their own round numbers, the dose chart
opens on the thalidomide course when years of azathioprine would squash it, and a
missing weight is a data gap, not a deviation marker."""

from datetime import date, timedelta

import plotly.graph_objects as go
import pytest

from thalimon import figures
from therapy import charts as dose_charts
from visits import charts

DAY = date(2026, 11, 13)
THRESHOLDS = {"remission_below": 150, "response_drop": 70}


def _validated(figure):
    go.Figure(figure)  # raises ValueError on anything plotly.js would not understand
    return figure


def _days(iso_range):
    first, last = (date.fromisoformat(d) for d in iso_range)
    return first, last, (last - first).days


ONE_POINT = {
    "cdai": lambda: charts.cdai_figure(dates=[DAY], values=[200], statuses=[""], **THRESHOLDS),
    "inflammation": lambda: charts.inflammation_figure(crp=[(DAY, 12)], esr=[]),
    "endoscopy": lambda: charts.endoscopy_figure(cdeis=[(DAY, 16.5)], ses_cd=[], rutgeerts=[],
                                                 cdeis_remission_below=7),
    "dose": lambda: dose_charts.dose_figure(thalidomide=[(DAY, 25, [], False)], azathioprine=[], cdai=[], until=DAY),
}


@pytest.mark.parametrize("name", sorted(ONE_POINT))
def test_one_point_has_weeks_of_date_axis_around_it(name):
    xaxis = _validated(ONE_POINT[name]())["layout"]["xaxis"]
    first, last, days = _days(xaxis["range"])
    assert days >= figures.MIN_DATE_SPAN_DAYS and first < DAY < last
    if name != "dose":  # the dose chart runs to today (next test)
        assert abs((DAY - first).days - (last - DAY).days) <= 1  # centred
    assert xaxis["type"] == "date"
    formats = [stop["value"] for stop in xaxis["tickformatstops"]] + [xaxis["hoverformat"]]
    assert all("%H" not in f and "%M" not in f and "%S" not in f and "%L" not in f for f in formats)
    # below a day, where plotly's own ticks are times, the ticks are dates (plotly's are dates from a day up)
    [stop] = xaxis["tickformatstops"]
    assert stop["dtickrange"][0] is None and stop["dtickrange"][1] >= 24 * 3600 * 1000


def test_a_course_started_days_ago_is_shown_over_weeks_ending_today():
    figure = _validated(dose_charts.dose_figure(thalidomide=[(DAY - timedelta(days=5), 25, [], False)],
                                                azathioprine=[], cdai=[], until=DAY))
    first, last, days = _days(figure["layout"]["xaxis"]["range"])
    assert last == DAY + dose_charts.END_PADDING and days == figures.MIN_DATE_SPAN_DAYS


def test_points_spread_over_months_keep_plotlys_autorange():
    figure = _validated(charts.cdai_figure(dates=[DAY, DAY + timedelta(days=120)], values=[200, 120],
                                           statuses=["", "remission"], **THRESHOLDS))
    assert "range" not in figure["layout"]["xaxis"] and figure["layout"]["xaxis"]["type"] == "date"


def test_close_points_are_widened_to_the_minimum_span():
    assert figures.date_range([DAY, DAY + timedelta(days=10)]) == [
        (DAY - timedelta(days=16)).isoformat(), (DAY + timedelta(days=26)).isoformat()]
    assert figures.date_range([]) is None


@pytest.mark.parametrize("figure", [
    lambda: charts.inflammation_figure(crp=[(DAY, 35.2), (DAY + timedelta(days=60), 16.8)],
                                       esr=[(DAY, 40), (DAY + timedelta(days=60), 21)]),
    lambda: dose_charts.dose_figure(thalidomide=[(DAY, 25, [], False)], azathioprine=[],
                                    cdai=[(DAY, 292)], until=DAY + timedelta(days=30)),
])
def test_second_axis_ticks_on_its_own_round_numbers(figure):
    """plotly.js syncs an overlaying axis's ticks to the first axis's grid unless told
    otherwise (ESR 8.9 / 17.7 / 26.6); "auto" gives plotly's round steps (1, 2, 5 × 10ⁿ)."""
    layout = _validated(figure())["layout"]
    assert layout["yaxis2"]["overlaying"] == "y" and layout["yaxis2"]["tickmode"] == "auto"
    assert layout["yaxis2"]["showgrid"] is False  # the grid is the first axis's
    for name in ("yaxis", "yaxis2"):
        assert not {"tickvals", "dtick", "tick0"} & set(layout[name])  # nothing forces odd steps


def _dose(**kwargs):
    return _validated(dose_charts.dose_figure(**{"cdai": [], "until": DAY, **kwargs}))


def _trace(figure, name):
    return next((t for t in figure["data"] if t["name"] == name), None)


def test_missing_weight_is_a_data_gap_not_a_deviation():
    figure = _dose(thalidomide=[], azathioprine=[(DAY - timedelta(days=400), 125, ["weight_missing"], False),
                                                 (DAY - timedelta(days=100), 150, ["aza_dose_outside_range"], False)])
    deviations = _trace(figure, "Azathioprine: deviation / override")
    assert deviations["x"] == [(DAY - timedelta(days=100)).isoformat()]  # the real one stays marked
    assert deviations["marker"]["symbol"] == ["x"]
    gap = _trace(figure, "Azathioprine: no recent weight")
    assert gap["x"] == [(DAY - timedelta(days=400)).isoformat()]
    assert gap["marker"]["symbol"] == "circle-open" and gap["marker"]["color"] != "#cf222e"


def test_a_row_with_a_missing_weight_and_a_deviation_is_marked_for_the_deviation_only():
    figure = _dose(thalidomide=[(DAY, 50, ["weight_missing", "step_too_large"], False)], azathioprine=[],
                   labels={"step_too_large": "Step too large"})
    assert _trace(figure, "Thalidomide: deviation / override")["text"] == ["deviation: Step too large"]
    assert _trace(figure, "Thalidomide: no recent weight")["x"] == [DAY.isoformat()]


def test_an_override_is_marked_even_when_its_only_code_is_a_missing_weight():
    figure = _dose(thalidomide=[], azathioprine=[(DAY, 150, ["weight_missing"], True)])
    marks = _trace(figure, "Azathioprine: deviation / override")
    assert marks["marker"]["symbol"] == ["diamond"] and marks["text"] == ["override: weight missing"]


def test_only_missing_weights_draw_no_deviation_trace():
    figure = _dose(thalidomide=[], azathioprine=[(DAY, 125, ["weight_missing"], False)])
    assert _trace(figure, "Azathioprine: deviation / override") is None


def _buttons(figure):
    """{label: range} of the chart's views (layout.meta, drawn as buttons by charts.js) and the one shown."""
    meta = figure["layout"]["meta"]
    return {v["label"]: v["range"] for v in meta["views"]}, meta["views"][meta["shown"]]["label"]


def test_years_of_azathioprine_open_on_the_thalidomide_course():
    until = DAY
    thal_start = until - timedelta(days=42)
    figure = _dose(
        azathioprine=[(until - timedelta(days=3 * 365), 125, [], False)],
        thalidomide=[(thal_start, 25, [], False), (thal_start + timedelta(days=14), 50, [], False),
                     (thal_start + timedelta(days=28), 75, [], False)],
        cdai=[(thal_start, 290)], until=until,
    )
    layout = figure["layout"]
    first, last, _ = _days(layout["xaxis"]["range"])
    assert first == thal_start - dose_charts.FOCUS_PADDING and last == until + dose_charts.END_PADDING
    buttons, shown = _buttons(figure)
    assert shown == "Thalidomide course" and buttons[shown] == layout["xaxis"]["range"]
    assert list(buttons) == ["Thalidomide course", "All"]  # in titration: the titration is the course
    assert buttons["All"] is None  # plotly's autorange: every dose
    # the azathioprine line is still drawn from its start: "All" shows it
    assert _trace(figure, "Azathioprine (mg/day)")["x"][0] == (until - timedelta(days=3 * 365)).isoformat()


def test_a_long_course_offers_its_titration():
    until = DAY
    start = until - timedelta(days=400)
    figure = _dose(azathioprine=[(until - timedelta(days=900), 125, [], False)],
                   thalidomide=[(start, 25, [], False), (start + timedelta(days=14), 50, [], False),
                                (start + timedelta(days=28), 100, [], False),
                                (start + timedelta(days=200), 50, [], False)], until=until)
    buttons, shown = _buttons(figure)
    assert list(buttons) == ["Titration", "Thalidomide course", "All"] and shown == "Thalidomide course"
    first, last, _ = _days(buttons["Titration"])
    assert first == start - dose_charts.FOCUS_PADDING
    assert last == start + timedelta(days=28) + dose_charts.TITRATION_AFTER + dose_charts.FOCUS_PADDING
    assert _days(figure["layout"]["xaxis"]["range"])[1] == until + dose_charts.END_PADDING


def test_no_titration_button_when_it_would_show_nearly_the_whole_course():
    until = DAY
    start = until - timedelta(days=70)
    figure = _dose(azathioprine=[(until - timedelta(days=700), 150, [], False)],
                   thalidomide=[(start, 25, [], False), (start + timedelta(days=14), 50, [], False),
                                (start + timedelta(days=42), 100, [], False)], until=until)
    assert list(_buttons(figure)[0]) == ["Thalidomide course", "All"]


def test_a_stopped_thalidomide_course_is_focused_to_its_stop():
    until = DAY
    start, stop = until - timedelta(days=400), until - timedelta(days=300)
    figure = _dose(azathioprine=[(until - timedelta(days=1500), 100, [], False)],
                   thalidomide=[(start, 25, [], False), (stop, 0, [], False)], until=until)
    first, last, _ = _days(figure["layout"]["xaxis"]["range"])
    assert first == start - dose_charts.FOCUS_PADDING and last == stop + dose_charts.FOCUS_PADDING


def test_a_short_thalidomide_course_is_shown_over_weeks_ending_today():
    until = DAY
    figure = _dose(azathioprine=[(until - timedelta(days=700), 150, [], False)],
                   thalidomide=[(until - timedelta(days=10), 25, [], False)], until=until)
    first, last, days = _days(figure["layout"]["xaxis"]["range"])
    assert last == until + dose_charts.END_PADDING and days == figures.MIN_DATE_SPAN_DAYS


def test_no_buttons_when_nothing_began_weeks_before_thalidomide():
    until = DAY
    figure = _dose(azathioprine=[(until - timedelta(days=200), 100, [], False)],
                   thalidomide=[(until - timedelta(days=190), 25, [], False)], cdai=[(until - timedelta(days=195), 250)],
                   until=until)
    assert "meta" not in figure["layout"] and "range" not in figure["layout"]["xaxis"]
