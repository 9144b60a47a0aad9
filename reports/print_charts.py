"""The cohort PDF's charts, drawn by matplotlib as vector SVG for WeasyPrint.

Pure: the report dict in, SVG text out; no Django and no clock. The charts are the
report page's (reports/charts.py) and read the data the same way (``induction_weeks``,
``km_view``, ``empty_messages``): response and remission bars by week, and the
relapse-free and adverse-event-free Kaplan–Meier curves with their 95 % bands,
censoring marks, dotted sparse tails and the numbers at risk under the x axis.

matplotlib is used without pyplot (no global figure state, so two PDFs may be drawn
at once in two threads): a ``Figure`` is drawn by the SVG backend's canvas, with no
raster step. Text is DejaVu Sans (Noto Sans CJK SC for Chinese), written as glyph paths, so
the PDF needs no font for the charts. Each chart goes into the HTML as a ``data:``
URI of its SVG (``<img>``), which WeasyPrint draws as vectors like inline SVG, but
each in its own document: matplotlib names the elements of every figure alike
(``figure_1``, the glyphs' ids), which inline would collide, and WeasyPrint's HTML
style parser would warn about every SVG ``style`` attribute.
"""

import base64
from io import StringIO

from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from reports import charts

MM = 1 / 25.4  # inches
WIDTH = 176 * MM  # the A4 page's text width (210 − 2 × 14 mm, less a little)
# DejaVu Sans, then Noto Sans CJK SC for the glyphs it lacks (Chinese titles and legends, issue 17;
# Debian fonts-noto-cjk, installed by .ci/run and the Dockerfile).
FONT = ["DejaVu Sans", "Noto Sans CJK SC"]
TEXT, MUTED, GRID = "#1f2328", "#57606a", "#d8dee4"
AT_RISK_OFFSET = 30  # points below the x axis: under the tick labels and the axis title


def report_charts(report, say=charts.english):
    """The PDF's three charts: {name: {title, svg, src (its data: URI), message}}; a chart
    with nothing to draw has no svg but the message that says why. ``say``: the words in
    the reader's language (reports/charts.py)."""
    messages = charts.empty_messages(report, say)
    relapse = ((report or {}).get("relapse_free") or {}).get("curve")
    ae = (((report or {}).get("adverse_events") or {}).get("ae_free") or {}).get("curve")
    drawings = {
        "induction": (say(charts.INDUCTION_TITLE),
                      lambda: induction_svg((report or {}).get("induction") or {}, say=say)),
        "relapse_free": (say(charts.RELAPSE_FREE_TITLE),
                         lambda: km_svg(relapse, colour=charts.RELAPSE_COLOUR, x_title=say(charts.RELAPSE_FREE_AXES[0]),
                                        y_title=say(charts.RELAPSE_FREE_AXES[1]), say=say)),
        "ae_free": (say(charts.AE_FREE_TITLE),
                    lambda: km_svg(ae, colour=charts.AE_COLOUR, x_title=say(charts.AE_FREE_AXES[0]),
                                   y_title=say(charts.AE_FREE_AXES[1]), say=say)),
    }
    result = {}
    for name, (title, draw) in drawings.items():
        svg = None if messages[name] else draw()
        result[name] = {"title": title, "message": messages[name], "svg": svg, "src": svg and data_uri(svg)}
    return result


def induction_svg(induction, say=charts.english):
    return _svg(induction_drawing(induction, say=say))


def km_svg(curve, **options):
    drawing = km_drawing(curve, **options)
    return None if drawing is None else _svg(drawing)


def induction_drawing(induction, *, height=54 * MM, say=charts.english):
    """Grouped bars of % responding and remitting at weeks 4, 8, 12, 24 (count on each bar,
    the denominator under each week): a matplotlib ``Figure``."""
    weeks = charts.induction_weeks(induction)
    figure, axes = _figure(height, margins=(13 * MM, 4 * MM, 9 * MM, 11 * MM))
    width = 0.38
    series = (("response", say(charts.SERIES_NAMES["response"]), charts.RESPONSE_COLOUR, -width / 2),
              ("remission", say(charts.SERIES_NAMES["remission"]), charts.REMISSION_COLOUR, width / 2))
    for key, name, colour, offset in series:
        for index, week in enumerate(weeks):
            entry = week[key]
            if entry.get("pct") is None:
                continue
            x = index + offset
            axes.bar(x, entry["pct"], width * 0.96, color=colour, label=name if index == _first(weeks, key) else None)
            axes.annotate(str(entry.get("n")), (x, entry["pct"]), xytext=(0, 1.5), textcoords="offset points",
                          ha="center", va="bottom", fontsize=7, color=TEXT, family=FONT)
    axes.set_xticks(range(len(weeks)), [charts.week_label(week, "\n", say) for week in weeks])
    axes.set_xlim(-0.6, len(weeks) - 0.4)
    axes.set_ylim(0, 112)
    axes.set_yticks(range(0, 101, 20), [str(v) for v in range(0, 101, 20)])
    axes.set_ylabel(say(charts.PERCENT_OF_PATIENTS), fontsize=7.5, family=FONT, color=TEXT)
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, frameon=False,
                prop={"family": FONT, "size": 7}, borderaxespad=0.2, handlelength=1.2)
    return figure


def km_drawing(curve, *, colour, x_title, y_title, height=70 * MM, say=charts.english):
    """A Kaplan–Meier step curve with its 95 % band, '+' at censoring times, the sparse
    tail dotted, and the numbers at risk in a row under the x axis (reports/charts.py):
    a matplotlib ``Figure``, None when the curve has nothing to draw."""
    view = charts.km_view(curve)
    if view is None:
        return None
    figure, axes = _figure(height, margins=(22 * MM, 4 * MM, 20 * MM, 8 * MM))
    band_x, upper = view.solid(view.upper)
    if band_x:
        _, lower = view.solid(view.lower)
        axes.fill_between(band_x, _numbers(lower), _numbers(upper), step="post", color=colour, alpha=0.16,
                          linewidth=0, label=say(charts.CI_BAND))
        axes.step(*view.solid(view.survival), where="post", color=colour, linewidth=1.5,
                  label=say(charts.KM_ESTIMATE))
    sparse_x, sparse_y = view.sparse()
    if sparse_x:
        axes.step(sparse_x, sparse_y, where="post", color=colour, linewidth=1.0, linestyle=(0, (1, 1.5)),
                  label=say(charts.FEW_AT_RISK).format(threshold=view.threshold))
    if view.censored:
        axes.plot([m for m, _, _ in view.censored], [s for _, s, _ in view.censored], linestyle="none",
                  marker="+", markersize=5.5, markeredgewidth=0.9, color=colour, label=say(charts.CENSORED))
    axes.set_xlim(-view.padding, view.ticks[-1] + view.padding)
    axes.set_xticks(view.ticks)
    axes.set_ylim(0, 1.04)
    axes.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0], ["0", "0.2", "0.4", "0.6", "0.8", "1"])
    axes.set_xlabel(x_title, fontsize=7.5, family=FONT, color=TEXT, labelpad=2)
    axes.set_ylabel(y_title, fontsize=7.5, family=FONT, color=TEXT)
    for tick, number in zip(view.ticks, view.at_risk_at_ticks, strict=True):
        axes.annotate(str(number), xy=(tick, 0), xycoords=("data", "axes fraction"), xytext=(0, -AT_RISK_OFFSET),
                      textcoords="offset points", ha="center", va="top", fontsize=7, color=colour, family=FONT)
    axes.annotate(say(charts.AT_RISK), xy=(0, 0), xycoords="axes fraction", xytext=(-8, -AT_RISK_OFFSET),
                  textcoords="offset points", ha="right", va="top", fontsize=7, color=MUTED, family=FONT)
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=4, frameon=False,
                prop={"family": FONT, "size": 7}, borderaxespad=0.2, handlelength=1.8, columnspacing=1.2)
    return figure


def _figure(height, *, margins):
    """A figure of the page's width and ``height`` (inches) with one axes in the house
    style; ``margins`` = (left, right, bottom, top) in inches."""
    left, right, bottom, top = margins
    figure = Figure(figsize=(WIDTH, height))
    FigureCanvasSVG(figure)
    axes = figure.add_axes((left / WIDTH, bottom / height, 1 - (left + right) / WIDTH, 1 - (bottom + top) / height))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color("#8c959f")
        axes.spines[side].set_linewidth(0.6)
    axes.grid(axis="y", color=GRID, linewidth=0.5)
    axes.set_axisbelow(True)
    axes.tick_params(labelsize=7, colors=TEXT, width=0.6, length=3, labelfontfamily=FONT)
    return figure, axes


def _svg(figure):
    """The figure as SVG text."""
    buffer = StringIO()
    figure.canvas.print_svg(buffer, metadata={"Date": None})
    return buffer.getvalue()


def data_uri(svg):
    """An SVG text as the ``data:`` URI of an ``<img>`` in the PDF's HTML."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def _first(weeks, key):
    return next((i for i, week in enumerate(weeks) if week[key].get("pct") is not None), None)


def _numbers(values):
    return [float("nan") if value is None else value for value in values]
