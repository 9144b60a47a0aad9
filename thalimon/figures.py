"""The house style of the plotly figures: plain data in, figure (as a JSON-ready dict) out.

No Django, no database and no clock here. The chart modules (visits/charts.py,
therapy/charts.py, reports/charts.py) build their figures with these helpers; the
pages embed the result with ``json_script`` and static/js/charts.js draws it with
plotly.js's basic bundle vendored in static/vendor/plotly-basic-* (no CDN;
the same plotly.js version as the plotly package the tests validate with).

The figures are written as plotly.js figure dicts (the schema plotly documents)
rather than through ``plotly.graph_objects``: the graph objects validate every
property at every build, some 60 ms for a patient page's three charts. The tests
hand every builder's output to ``plotly.graph_objects.Figure``, which validates it.
"""

from datetime import timedelta


def gettext_noop(text):
    """Marks a chart's words for the translation catalogue (``makemessages`` reads this name;
    no Django here). They stay English in the chart modules: a caller that shows them in
    another language passes ``say`` (Django's ``gettext``), which reads each in its catalogue."""
    return text


def english(text):
    """The default ``say`` of a chart builder: the words as written."""
    return text


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


def right_axis(title, **options):
    """A second y axis on the right, drawn over the first, with round ticks of its own
    (plotly.js 3+ otherwise syncs them to the left axis's grid: ESR 8.9 / 17.7 / 26.6)
    and no grid of its own (the left axis draws the grid)."""
    return axis(title, overlaying="y", side="right", tickmode="auto", showgrid=False, **options)


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


# A time axis reads in whole days: plotly's own date ticks ("Oct 4" with the year under
# the first) down to a day, and, where plotly would switch to hours and milliseconds
# (a range under a few days, as around a single point), the date again. A chart whose
# points span less than MIN_DATE_SPAN_DAYS is given that span, centred on them,
# instead of plotly's ±1 ms around one date.
MIN_DATE_SPAN_DAYS = 42
ONE_DAY_MS = 86_400_000
DATE_TICK_FORMATS = [{"dtickrange": [None, ONE_DAY_MS], "value": "%d %b %Y"}]


def date_range(dates, *, min_days=MIN_DATE_SPAN_DAYS):
    """[first, last] ISO dates of ``dates`` widened, centred, to ``min_days``; None when
    they already span that long (plotly's autorange then fits the data) or are none."""
    if not dates:
        return None
    first, last = min(dates), max(dates)
    missing = min_days - (last - first).days
    if missing <= 0:
        return None
    before = timedelta(days=missing // 2 + missing % 2)
    return [(first - before).isoformat(), (last + timedelta(days=missing // 2)).isoformat()]


def date_axis(dates=(), title=None, **options):
    """A time axis of whole days (see DATE_TICK_FORMATS) over ``dates`` (``date`` objects),
    with the range of ``date_range`` when the points are close together."""
    span = date_range(list(dates))
    if span is not None:
        options = {"range": span, **options}
    return axis(title, type="date", tickformatstops=DATE_TICK_FORMATS, hoverformat="%d %b %Y", **options)


def dated(series):
    """[(date, value)] → (ISO dates, float values), the x and y of a trace."""
    return [d.isoformat() for d, _ in series], [float(v) for _, v in series]
