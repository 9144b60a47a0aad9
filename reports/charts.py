"""The report charts: the cohort report's induction bars and Kaplan–Meier curves
(plotly.js figure dicts, see thalimon/figures.py) and the visit PDF's SVG trend.

Pure: plain data in, figure dict or SVG text out; no Django and no clock. The
patient page's charts are in visits/charts.py and therapy/charts.py; the cohort
PDF draws the same charts with matplotlib in reports/print_charts.py, from the
same readings of the data (``induction_weeks``, ``km_view``, ``empty_messages``).

How a Kaplan–Meier curve is drawn (web and PDF):

* the x axis runs from 0 to the first tick at or after the longest follow-up
  (ticks every 1, 2, 3, 6, 12 or 24 months, at most 6 intervals), never to a
  fixed 60 months;
* the curve is lifelines' step function and stops at the longest follow-up;
* a "+" marks each time at which patients were censored (followed without the
  event until then);
* where fewer than ``MIN_AT_RISK`` patients (or fewer than 10 % of those
  followed, if that is more) are still at risk, the curve goes on as a thin
  dotted line without its confidence band: the step there rests on one or a
  handful of patients (a drop to 0 when the last patient has the event) and is
  shown, not hidden, but not as a reliable estimate (Pocock, Clayton & Altman,
  Lancet 2002: curtail or flag the tail where few patients remain);
* the numbers at risk sit under the x axis at its ticks: the patients still
  followed (no event, not censored) just before that time.
"""

import math
from datetime import date
from html import escape

from thalimon import figures
from thalimon.figures import english, gettext_noop  # noqa: F401  (chart words marked; say= default)

WEEKS = ("4", "8", "12", "24")
TICK_STEPS = (1, 2, 3, 6, 12, 24)  # months between x ticks
MAX_TICK_INTERVALS = 6
MIN_AT_RISK = 5  # below this many patients at risk the curve is drawn dotted, without its band
MIN_AT_RISK_FRACTION = 0.10  # … or below this fraction of the patients followed, if that is more


NO_PATIENTS = gettext_noop("No patients in this cohort: nothing to chart.")
NO_WEEK_CLOSED = gettext_noop("No patient has reached the end of an assessment window yet (week 4 closes on day 35).")
NO_FOLLOW_UP = gettext_noop("No follow-up time yet: every patient's follow-up ends at month 0.")
NO_RESPONDERS = gettext_noop("No patient had a response by week 24 yet, so nobody is followed for relapse: "
                             "the curve starts at a patient's first response.")
INDUCTION_TITLE = gettext_noop("Response and remission by week (intention to treat)")
RELAPSE_FREE_TITLE = gettext_noop("Relapse-free survival among responders")
RELAPSE_FREE_AXES = (gettext_noop("Months since first response"), gettext_noop("Proportion relapse-free"))
AE_FREE_TITLE = gettext_noop("Adverse-event-free survival")
AE_FREE_AXES = (gettext_noop("Months since thalidomide start"), gettext_noop("Proportion without an adverse event"))
SERIES_NAMES = {"response": gettext_noop("Response"), "remission": gettext_noop("Remission")}
# xgettext:no-python-format
PERCENT_OF_PATIENTS = gettext_noop("% of patients")
CI_BAND = gettext_noop("95 % CI")
KM_ESTIMATE = gettext_noop("Kaplan–Meier estimate")
FEW_AT_RISK = gettext_noop("Fewer than {threshold} at risk")
CENSORED = gettext_noop("Censored")
AT_RISK = gettext_noop("At risk")
WEEK = gettext_noop("Week {week}")
NOT_YET_DUE = gettext_noop("not yet due")
# The tooltips: plotly's %{...} fields go in as the placeholders' values.
BAR_HOVER = gettext_noop("{name} at week {week}: {n} of {of} ({pct} %)")
KM_HOVER = gettext_noop("{months} months: {survival}")
KM_SPARSE_HOVER = gettext_noop("{months} months: {survival} (few patients at risk)")
CENSORED_HOVER = gettext_noop("{who} censored at {months} months")
TREND_CAPTION = gettext_noop("CDAI (red, left) · thalidomide mg/day (blue, right)")
RESPONSE_COLOUR, REMISSION_COLOUR = "#2f81f7", "#1a7f37"
RELAPSE_COLOUR, AE_COLOUR = "#0b4f6c", "#9a6700"
LEGEND = {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "font": {"size": 11}, "traceorder": "normal"}


def trend_svg(*, cdai, doses, start, end, remission_below, width=640, height=200, say=english,
              day_text=date.isoformat):
    """A small print chart as SVG text (no browser needed): CDAI points and line
    (left axis) over thalidomide dose steps (shaded, right axis), with the CDAI
    remission line at ``remission_below``.

    ``cdai``: [(date, value)]; ``doses``: [(date, mg)] as steps; ``start``/``end``: the x range,
    written by ``day_text`` (the page passes the reader's format).
    """
    left, right, top, bottom = 44, 44, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max((end - start).days, 1)
    cdai_max = max([450] + [v for _, v in cdai if v is not None])
    dose_max = max([100] + [float(d) for _, d in doses])

    def x(day):
        return left + plot_w * max(0, min(span, (day - start).days)) / span

    def y_cdai(value):
        return top + plot_h * (1 - value / cdai_max)

    def y_dose(value):
        return top + plot_h * (1 - float(value) / dose_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Noto Sans CJK SC, sans-serif" font-size="9">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#ccc"/>',
    ]
    if doses:
        points = []
        for index, (day, dose) in enumerate(doses):
            following = doses[index + 1][0] if index + 1 < len(doses) else end
            points += [(x(day), y_dose(dose)), (x(following), y_dose(dose))]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        base = top + plot_h
        parts.append(
            f'<polygon points="{points[0][0]:.1f},{base} {path} {points[-1][0]:.1f},{base}" '
            'fill="#cfe3ee" stroke="#0b4f6c" stroke-width="1"/>'
        )
    line_y = y_cdai(remission_below)
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{line_y:.1f}" y2="{line_y:.1f}" '
        'stroke="#1a7f37" stroke-dasharray="4 3"/>'
        f'<text x="{left + 4}" y="{line_y - 3:.1f}" fill="#1a7f37">CDAI {remission_below}</text>'
    )
    scored = [(d, v) for d, v in cdai if v is not None]
    if scored:
        path = " ".join(f"{x(d):.1f},{y_cdai(v):.1f}" for d, v in scored)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#cf222e" stroke-width="1.5"/>')
        for d, v in scored:
            parts.append(f'<circle cx="{x(d):.1f}" cy="{y_cdai(v):.1f}" r="2.5" fill="#cf222e"/>')
    for value in (0, cdai_max // 2, cdai_max):
        parts.append(f'<text x="{left - 4}" y="{y_cdai(value) + 3:.1f}" text-anchor="end">{value}</text>')
    for value in (0, dose_max / 2, dose_max):
        parts.append(f'<text x="{left + plot_w + 4}" y="{y_dose(value) + 3:.1f}">{value:g}</text>')
    parts.append(
        f'<text x="{left}" y="{height - 6}">{escape(day_text(start))}</text>'
        f'<text x="{left + plot_w}" y="{height - 6}" text-anchor="end">{escape(day_text(end))}</text>'
        f'<text x="{width / 2:.0f}" y="{height - 6}" text-anchor="middle">'
        f"{escape(say(TREND_CAPTION))}</text></svg>"
    )
    return "".join(parts)


def empty_messages(report, say=english):
    """What each report chart says instead of drawing empty axes: {chart: message or None}."""
    return {name: message and say(message) for name, message in _empty_messages(report).items()}


def _empty_messages(report):
    induction = induction_weeks((report or {}).get("induction") or {})
    relapse = ((report or {}).get("relapse_free") or {}).get("curve") or {}
    ae = (((report or {}).get("adverse_events") or {}).get("ae_free") or {}).get("curve") or {}
    if not (report or {}).get("n_patients"):
        return dict.fromkeys(("induction", "relapse_free", "ae_free"), NO_PATIENTS)
    return {
        "induction": None if any(week["of"] for week in induction) else NO_WEEK_CLOSED,
        "relapse_free": _curve_message(relapse, NO_RESPONDERS),
        "ae_free": _curve_message(ae, NO_PATIENTS),
    }


def _curve_message(curve, no_patients):
    if not curve.get("months"):
        return no_patients
    return None if km_view(curve) else NO_FOLLOW_UP


def induction_weeks(induction):
    """Per week 4, 8, 12, 24: {week, of (the ITT denominator, None if unknown), response, remission}."""
    weeks = []
    for week in WEEKS:
        response = (induction.get("response") or {}).get(week) or {}
        remission = (induction.get("remission") or {}).get(week) or {}
        of = response.get("of", remission.get("of"))
        weeks.append({"week": week, "of": of, "response": response, "remission": remission})
    return weeks


def week_label(week, separator="<br>", say=english):
    """The x label of a week: its number and its denominator (n), or that it is not yet due."""
    label = say(WEEK).format(week=week["week"])
    if week["of"] is None:
        return label
    if week["of"] == 0:
        return f"{label}{separator}{say(NOT_YET_DUE)}"
    return f"{label}{separator}n = {week['of']}"


def empty_figure(title, message):
    """A figure that says why there is nothing to draw, with no axes to misread."""
    note = {"text": message, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
            "font": {"size": 13, "color": "#57606a"}}
    return figures.figure(
        [], title=title, annotations=[note], height=220,
        xaxis=figures.axis(visible=False), yaxis=figures.axis(visible=False),
    )


def induction_figure(induction, *, empty=None, say=english):
    """Response and remission by week (Li 2020 Table 2), as grouped bars of % with the count on
    each bar and the week's denominator under it; ``empty`` is said instead when nothing is due."""
    title = say(INDUCTION_TITLE)
    weeks = induction_weeks(induction)
    if empty or not any(week["of"] for week in weeks):
        return empty_figure(title, empty or say(NO_WEEK_CLOSED))
    labels = [week_label(week, say=say) for week in weeks]
    data = []
    for key, colour in (("response", RESPONSE_COLOUR), ("remission", REMISSION_COLOUR)):
        name = say(SERIES_NAMES[key])
        entries = [week[key] for week in weeks]
        data.append({
            "type": "bar", "x": labels, "y": [e.get("pct") for e in entries], "name": name,
            "marker": {"color": colour},
            "text": [str(e["n"]) if e.get("pct") is not None else "" for e in entries],
            "textposition": "outside", "textangle": 0, "constraintext": "both", "cliponaxis": False,
            "customdata": [[week["week"], e.get("n"), week["of"]] for week, e in zip(weeks, entries, strict=True)],
            "hovertemplate": say(BAR_HOVER).format(name=name, week="%{customdata[0]}", n="%{customdata[1]}",
                                                   of="%{customdata[2]}", pct="%{y}") + "<extra></extra>",
        })
    return figures.figure(
        data, title=title, barmode="group", bargap=0.25, uniformtext={"mode": "hide", "minsize": 9},
        yaxis=figures.axis(say(PERCENT_OF_PATIENTS), range=[0, 112], tickvals=[0, 20, 40, 60, 80, 100]),
        legend=LEGEND,
        margin={"l": 50, "r": 10, "t": 70, "b": 50}, height=360,
    )


class KmView:
    """One Kaplan–Meier curve read for drawing (see the module docstring): the solid part
    with its band, the dotted sparse tail, the censoring marks, the ticks and the numbers
    at risk under them."""

    def __init__(self, curve):
        self.months = list(curve["months"])
        self.survival = list(curve.get("survival") or [])
        self.lower = list(curve.get("lower") or [])
        self.upper = list(curve.get("upper") or [])
        at_risk = list(curve.get("at_risk") or [])
        followed = at_risk[0] if at_risk and at_risk[0] is not None else 0
        self.threshold = max(MIN_AT_RISK, math.ceil(MIN_AT_RISK_FRACTION * followed))
        self.reliable = next(
            (i for i, n in enumerate(at_risk) if n is not None and n < self.threshold), len(self.months)
        )
        censored = list(curve.get("censored") or [])
        self.censored = [(m, s, c) for m, s, c in zip(self.months, self.survival, censored, strict=False) if c]
        last = self.months[-1]
        step = next((s for s in TICK_STEPS if math.ceil(last / s) <= MAX_TICK_INTERVALS),
                    12 * math.ceil(last / (12 * MAX_TICK_INTERVALS)))
        self.ticks = [step * i for i in range(max(math.ceil(last / step), 1) + 1)]
        self.at_risk_at_ticks = [
            next((n for m, n in zip(self.months, at_risk, strict=False) if m >= tick and n is not None), 0)
            for tick in self.ticks
        ]
        self.padding = step * 0.04

    def solid(self, values):
        """(x, y) of ``values`` over the reliable part, held until the sparse tail starts."""
        k = self.reliable
        if k == 0:
            return [], []
        end = [self.months[k]] if k < len(self.months) else []
        return self.months[:k] + end, values[:k] + [values[k - 1]] * len(end)

    def sparse(self):
        """(x, y) of the dotted tail, from where fewer than ``threshold`` patients are at risk."""
        k = self.reliable
        if k >= len(self.months):
            return [], []
        if k == 0:
            return self.months, self.survival
        return [self.months[k], *self.months[k:]], [self.survival[k - 1], *self.survival[k:]]


def km_view(curve):
    """The drawing of a curve dict (None when it has no time after 0: nothing to draw)."""
    months = (curve or {}).get("months") or []
    return KmView(curve) if months and months[-1] > 0 else None


def km_figure(curve, *, title, colour=RELAPSE_COLOUR, x_title="Months",
              y_title="Proportion without event", empty=None, say=english):
    """Kaplan–Meier step curve with its 95 % confidence band, censoring marks and the numbers
    at risk under the x-axis ticks (module docstring); ``empty`` is said when there is no curve."""
    view = km_view(curve)
    if view is None or empty:
        return empty_figure(title, empty or say(NO_FOLLOW_UP if (curve or {}).get("months") else NO_PATIENTS))
    data = []
    band_x, upper = view.solid(view.upper)
    if band_x:
        _, lower = view.solid(view.lower)
        common = {"type": "scatter", "x": band_x, "mode": "lines", "line": {"width": 0, "shape": "hv"},
                  "hoverinfo": "skip", "fillcolor": _rgba(colour, 0.16)}
        data += [{**common, "y": upper, "name": "95 % CI upper", "showlegend": False},
                 {**common, "y": lower, "name": say(CI_BAND), "fill": "tonexty"}]
        solid_x, solid_y = view.solid(view.survival)
        data.append({"type": "scatter", "x": solid_x, "y": solid_y, "mode": "lines",
                     "line": {"shape": "hv", "color": colour, "width": 2}, "name": say(KM_ESTIMATE),
                     "hovertemplate": say(KM_HOVER).format(months="%{x:.1f}", survival="%{y:.3f}") + "<extra></extra>"})
    sparse_x, sparse_y = view.sparse()
    if sparse_x:
        data.append({"type": "scatter", "x": sparse_x, "y": sparse_y, "mode": "lines",
                     "line": {"shape": "hv", "color": colour, "width": 1.5, "dash": "dot"},
                     "name": say(FEW_AT_RISK).format(threshold=view.threshold),
                     "hovertemplate": say(KM_SPARSE_HOVER).format(months="%{x:.1f}", survival="%{y:.3f}")
                                      + "<extra></extra>"})
    if view.censored:
        data.append({"type": "scatter", "x": [m for m, _, _ in view.censored], "y": [s for _, s, _ in view.censored],
                     "mode": "markers", "name": say(CENSORED),
                     "marker": {"symbol": "cross-thin-open", "size": 9, "color": colour,
                                "line": {"width": 1.5, "color": colour}},
                     "customdata": [c for _, _, c in view.censored],
                     "hovertemplate": say(CENSORED_HOVER).format(who="%{customdata}", months="%{x:.1f}")
                                      + "<extra></extra>"})
    row = {"yref": "paper", "y": 0, "yanchor": "top", "yshift": -58, "showarrow": False}
    annotations = [{**row, "x": tick, "xref": "x", "text": str(n), "font": {"size": 11, "color": colour}}
                   for tick, n in zip(view.ticks, view.at_risk_at_ticks, strict=True)]
    annotations.append({**row, "x": 0, "xref": "paper", "xanchor": "right", "xshift": -6, "text": say(AT_RISK),
                        "font": {"size": 11, "color": "#57606a"}})
    return figures.figure(
        data, title=title, annotations=annotations,
        xaxis=figures.axis(x_title, tickvals=view.ticks, range=[-view.padding, view.ticks[-1] + view.padding],
                           zeroline=False),
        yaxis=figures.axis(y_title, range=[0, 1.04], tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1]),
        margin={"l": 60, "r": 16, "t": 70, "b": 82}, height=380,
        legend=LEGEND,
    )


def report_figures(report, say=english):
    """The report page's three charts for one cohort report dict: {name: {title, figure, message}}.

    The page shows each title as its card's header (it wraps at any width), so the
    figure itself has none: a plotly title does not wrap and collides with the legend
    in a narrow card. A chart with nothing to draw has no figure but its ``message``
    (written as text on the page, where it wraps).
    """
    messages = empty_messages(report, say)
    charts = {}
    for name, figure in _report_figures(report, messages, say).items():
        title = figure["layout"].pop("title")["text"]
        figure["layout"]["margin"]["t"] = 36
        message = messages[name]
        charts[name] = {"title": title, "figure": None if message else figure, "message": message}
    return charts


def _report_figures(report, empty, say):
    return {
        "induction": induction_figure((report or {}).get("induction") or {}, empty=empty["induction"], say=say),
        "relapse_free": km_figure(
            ((report or {}).get("relapse_free") or {}).get("curve"), title=say(RELAPSE_FREE_TITLE),
            x_title=say(RELAPSE_FREE_AXES[0]), y_title=say(RELAPSE_FREE_AXES[1]), empty=empty["relapse_free"], say=say,
        ),
        "ae_free": km_figure(
            (((report or {}).get("adverse_events") or {}).get("ae_free") or {}).get("curve"),
            title=say(AE_FREE_TITLE), colour=AE_COLOUR, x_title=say(AE_FREE_AXES[0]),
            y_title=say(AE_FREE_AXES[1]), empty=empty["ae_free"], say=say,
        ),
    }


def _rgba(colour, alpha):
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"
