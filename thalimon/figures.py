"""The house style of the plotly figures: plain data in, figure (as a JSON-ready dict) out.

No Django, no database and no clock here. The chart modules (visits/charts.py,
therapy/charts.py, reports/charts.py) build their figures with these helpers; the
pages embed the result with ``json_script`` and static/js/charts.js draws it with
the plotly.js served from the installed plotly package (no CDN).

The figures are written as plotly.js figure dicts (the schema plotly documents)
rather than through ``plotly.graph_objects``: the graph objects validate every
property at every build, some 60 ms for a patient page's three charts. The tests
hand every builder's output to ``plotly.graph_objects.Figure``, which validates it.
"""

# The look of plotly's "plotly_white" template, set directly (a named template is a
# large object shipped inside every figure's JSON).
COLORWAY = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880"]
AXIS_STYLE = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "zerolinewidth": 2,
              "automargin": True}
LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 320,
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "colorway": COLORWAY,
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
}


def axis(title=None, **options):
    """An axis dict in the house style, with its title and any plotly axis options."""
    result = {**AXIS_STYLE, **options}
    if title is not None:
        result["title"] = {"text": title}
    return result


def figure(data, *, title, shapes=(), annotations=(), **layout):
    """A figure dict with the house layout; ``layout`` may name xaxis/yaxis/yaxis2 (from ``axis``)."""
    full = {**LAYOUT, "title": {"text": title}, "xaxis": axis(), "yaxis": axis(), **layout}
    if shapes:
        full["shapes"] = list(shapes)
    if annotations:
        full["annotations"] = list(annotations)
    return {"data": list(data), "layout": full}


def hline(y, *, line, text, below):
    """A horizontal line across the plot with its label at the left, under or over it:
    the pair (shape, annotation)."""
    shape = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y, "line": line}
    label = {"text": text, "xref": "x domain", "x": 0, "xanchor": "left", "yref": "y", "y": y,
             "yanchor": "top" if below else "bottom", "showarrow": False}
    return shape, label


def dated(series):
    """[(date, value)] → (ISO dates, float values), the x and y of a trace."""
    return [d.isoformat() for d, _ in series], [float(v) for _, v in series]
