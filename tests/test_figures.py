"""thalimon/figures.py: the house style every chart module builds on."""

from datetime import date

import plotly.graph_objects as go

from thalimon import figures


def test_figure_has_the_house_layout_and_validates():
    shape, label = figures.hline(150, line={"color": "#1a7f37"}, text="line", below=True)
    figure = figures.figure([], title="T", yaxis=figures.axis("Y", rangemode="tozero"),
                            shapes=[shape], annotations=[label])
    go.Figure(figure)  # raises ValueError on anything plotly.js would not understand
    layout = figure["layout"]
    assert layout["title"] == {"text": "T"} and layout["colorway"] == figures.COLORWAY
    assert layout["xaxis"] == figures.AXIS_STYLE
    assert layout["yaxis"] == {**figures.AXIS_STYLE, "rangemode": "tozero", "title": {"text": "Y"}}
    assert shape["y0"] == shape["y1"] == 150 and label["yanchor"] == "top"
    assert "shapes" not in figures.figure([], title="T")["layout"]


def test_dated_series():
    assert figures.dated([(date(2025, 1, 6), 3), (date(2025, 2, 3), "4.5")]) == (
        ["2025-01-06", "2025-02-03"], [3.0, 4.5])
