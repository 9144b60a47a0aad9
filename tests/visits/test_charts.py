"""visits/charts.py writes plotly.js figure dicts directly; plotly's own graph objects
validate each one here (an unknown property or a bad value raises)."""

from datetime import date, timedelta

import plotly.graph_objects as go
import pytest

from thalimon import catalogue
from visits import charts
from visits import words as visit_words

DAYS = [date(2025, 1, 6) + timedelta(days=28 * i) for i in range(6)]
THRESHOLDS = {"remission_below": 150, "response_drop": 70}


def _validated(figure):
    go.Figure(figure)  # raises ValueError on anything plotly.js would not understand
    return figure


def test_cdai_figure_lines_at_150_and_baseline_minus_70():
    figure = _validated(charts.cdai_figure(
        dates=DAYS, values=[320, 260, 200, 140, 120, 180],
        statuses=["", "no_response", "response", "remission", "remission", "relapse"], baseline=300,
        status_labels=catalogue.plain_labels(visit_words.STATUSES), **THRESHOLDS,
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
    figure = _validated(charts.cdai_figure(dates=DAYS[:1], values=[200], statuses=[""], **THRESHOLDS))
    assert [s["y0"] for s in figure["layout"]["shapes"]] == [150]


def test_cdai_figure_draws_the_thresholds_it_is_given():
    figure = _validated(charts.cdai_figure(
        dates=DAYS[:1], values=[200], statuses=[""], baseline=300, remission_below=120, response_drop=100,
    ))
    assert [s["y0"] for s in figure["layout"]["shapes"]] == [120, 200]
    assert [a["text"] for a in figure["layout"]["annotations"]] == [
        "Remission below 120", "Response: baseline 300 − 100 = 200"]


def test_the_thresholds_have_no_defaults():
    with pytest.raises(TypeError):
        charts.cdai_figure(dates=DAYS[:1], values=[200], statuses=[""])
    with pytest.raises(TypeError):
        charts.endoscopy_figure(cdeis=[], ses_cd=[], rutgeerts=[])


def test_inflammation_figure_puts_esr_on_the_right_axis():
    figure = _validated(charts.inflammation_figure(crp=[(DAYS[0], 12.5)], esr=[(DAYS[0], 30)]))
    crp, esr = figure["data"]
    assert crp["y"] == [12.5] and "yaxis" not in crp and esr["yaxis"] == "y2"
    assert figure["layout"]["yaxis2"]["overlaying"] == "y" and figure["layout"]["yaxis2"]["side"] == "right"


def test_endoscopy_figure_only_the_recorded_scores():
    figure = _validated(charts.endoscopy_figure(
        cdeis=[(DAYS[0], 9), (DAYS[3], 4)], ses_cd=[], rutgeerts=[], cdeis_remission_below=7,
    ))
    assert [t["name"] for t in figure["data"]] == ["CDEIS"]
    assert figure["layout"]["shapes"][0]["y0"] == 7.0
    assert figure["layout"]["annotations"][0]["text"] == "CDEIS remission below 7"
    empty = _validated(charts.endoscopy_figure(
        cdeis=[], ses_cd=[(DAYS[0], 5)], rutgeerts=[], cdeis_remission_below=7,
    ))
    assert "shapes" not in empty["layout"]


@pytest.mark.parametrize("builder", ["cdai_figure", "inflammation_figure", "endoscopy_figure"])
def test_house_style_on_every_axis(builder):
    figures = {
        "cdai_figure": lambda: charts.cdai_figure(dates=DAYS[:1], values=[200], statuses=[""], **THRESHOLDS),
        "inflammation_figure": lambda: charts.inflammation_figure(crp=[], esr=[]),
        "endoscopy_figure": lambda: charts.endoscopy_figure(
            cdeis=[(DAYS[0], 9)], ses_cd=[], rutgeerts=[], cdeis_remission_below=7),
    }
    layout = _validated(figures[builder]())["layout"]
    for axis in ("xaxis", "yaxis"):
        assert layout[axis]["gridcolor"] == "#EBF0F8"
    assert layout["plot_bgcolor"] == "white" and "template" not in layout
