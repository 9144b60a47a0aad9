"""The dose chart of the patient page: thalidomide and azathioprine steps over CDAI.

Pure: plain data in, a plotly.js figure dict out (see thalimon/figures.py); no
Django and no clock (the chart runs to the ``until`` date the caller passes).

Years of azathioprine would squash a thalidomide titration (weekly to fortnightly
25 mg steps) into a sliver, so when the thalidomide course is a small part of the
chart the time axis opens on that course, with buttons for its titration and for all the doses
(docs/architecture.md, "The dose chart").
"""

from datetime import date, timedelta

from thalimon import figures
from thalimon.figures import english, gettext_noop

# Codes that say a datum was missing, not that the dose broke a rule: a missing
# weight means the mg/kg dose could not be checked. Drawn as a data gap, never as a
# deviation (an override is always drawn as one).
DATA_GAPS = frozenset({"weight_missing"})
# The chart opens on the thalidomide course when doses or scores began more than
# HISTORY_BEFORE before it; the titration is its first weeks, to TITRATION_AFTER past
# the day the highest dose was first reached.
COURSE = gettext_noop("Thalidomide course")
TITRATION = gettext_noop("Titration")
HISTORY_BEFORE = timedelta(days=28)
TITRATION_AFTER = timedelta(days=21)
FOCUS_PADDING = timedelta(days=7)
DOSE_CHART_HEIGHT = 380  # up to six legend entries under the plot
END_PADDING = timedelta(days=3)  # past ``until``: the current dose's step stays readable
# The chart's words (English here; the caller's ``say`` gives them in the reader's language).
TITLE = gettext_noop("Doses and CDAI")
DOSE_AXIS = gettext_noop("Dose (mg/day)")
DRUGS = {"thalidomide": (gettext_noop("Thalidomide"), gettext_noop("Thalidomide (mg/day)")),
         "azathioprine": (gettext_noop("Azathioprine"), gettext_noop("Azathioprine (mg/day)"))}
FLAGGED = gettext_noop("{drug}: deviation / override")
OVERRIDE = gettext_noop("override: {codes}")
DEVIATION = gettext_noop("deviation: {codes}")
NO_WEIGHT = gettext_noop("{drug}: no recent weight")
NO_WEIGHT_HOVER = gettext_noop("no recent weight: the mg/kg dose was not checked")
ALL_DOSES = gettext_noop("All")
VIEWS_LABEL = gettext_noop("Time range of the dose chart")


def _steps(rows, until):
    """Step series: each dose holds from its date to the next row (and to ``until``).

    ``rows``: [(date, dose, …)] in date order → (ISO dates, float doses)."""
    xs, ys = [], []
    for day, dose, *_ in rows:
        xs.append(day.isoformat())
        ys.append(float(dose))
    if rows:
        xs.append(until.isoformat())
        ys.append(float(rows[-1][1]))
    return xs, ys


def _words(code, labels):
    return labels.get(code) or code.replace("_", " ")


def _flagged_marks(rows, drug, labels, say):
    """The markers of the rows that broke a rule or were overridden: a cross, or a
    diamond where overridden. A data gap alone (DATA_GAPS) is no deviation."""
    flagged = [(r, [c for c in r[2] if c not in DATA_GAPS]) for r in rows]
    flagged = [(r, codes) for r, codes in flagged if codes or r[3]]
    if not flagged:
        return None
    return {
        "type": "scatter",
        "x": [r[0].isoformat() for r, _ in flagged],
        "y": [float(r[1]) for r, _ in flagged],
        "mode": "markers",
        "name": say(FLAGGED).format(drug=drug),
        "marker": {
            "symbol": ["diamond" if r[3] else "x" for r, _ in flagged], "size": 12,
            "color": ["#8250df" if r[3] else "#cf222e" for r, _ in flagged],
        },
        "text": [say(OVERRIDE if r[3] else DEVIATION).format(codes=", ".join(_words(c, labels) for c in codes or r[2]))
                 for r, codes in flagged],
        "hovertemplate": "%{x}<br>%{y} mg/day<br>%{text}<extra></extra>",
    }


def _gap_marks(rows, drug, say):
    """The markers of the rows decided without a recent weight: a small open grey circle."""
    gaps = [r for r in rows if DATA_GAPS.intersection(r[2])]
    if not gaps:
        return None
    return {
        "type": "scatter",
        "x": [r[0].isoformat() for r in gaps],
        "y": [float(r[1]) for r in gaps],
        "mode": "markers",
        "name": say(NO_WEIGHT).format(drug=drug),
        "marker": {"symbol": "circle-open", "size": 10, "color": "#6e7781", "line": {"width": 2}},
        "hovertemplate": "%{x}<br>%{y} mg/day<br>" + say(NO_WEIGHT_HOVER) + "<extra></extra>",
    }


def _window(first, last, until):
    """[first, last] as ISO dates, padded (FOCUS_PADDING; END_PADDING past ``until``) and
    at least MIN_DATE_SPAN_DAYS long, widened backwards (no empty future)."""
    last = min(last + FOCUS_PADDING, until + END_PADDING)
    first = min(first - FOCUS_PADDING, last - timedelta(days=figures.MIN_DATE_SPAN_DAYS))
    return [first.isoformat(), last.isoformat()]


def _views(thalidomide, dates, until):
    """The named x ranges the buttons offer when doses or scores began more than
    HISTORY_BEFORE before thalidomide (else none): the titration (first dose to
    TITRATION_AFTER past the day the course first reached its highest dose), when it
    ends HISTORY_BEFORE or more before the thalidomide course (first dose to its stop,
    or to ``until``)."""
    if not thalidomide or (thalidomide[0][0] - min(dates)) <= HISTORY_BEFORE:
        return []
    start = thalidomide[0][0]
    end = thalidomide[-1][0] if thalidomide[-1][1] == 0 else until
    course = _window(start, end, until)
    top = max(float(r[1]) for r in thalidomide)
    reached = next(r[0] for r in thalidomide if float(r[1]) == top)
    titration = _window(start, min(reached + TITRATION_AFTER, end), until)
    distinct = date.fromisoformat(course[1]) - date.fromisoformat(titration[1]) >= HISTORY_BEFORE
    return ([(TITRATION, titration)] if distinct else []) + [(COURSE, course)]


def _view_meta(views, say):
    """The views as ``layout.meta``, which static/js/charts.js turns into a group of HTML
    buttons above the chart (reachable by keyboard, unlike plotly's own SVG menus): each
    view, then all the doses; ``shown``: the thalidomide course, the range drawn first."""
    return {
        "views": [{"label": say(label), "range": span} for label, span in views]
        + [{"label": say(ALL_DOSES), "range": None}],
        "shown": [label for label, _ in views].index(COURSE),
        "views_label": say(VIEWS_LABEL),
    }


def dose_figure(*, thalidomide, azathioprine, cdai, until, labels=None, say=english):
    """Thalidomide and AZA doses as steps, deviations and overrides marked, CDAI on a second axis.

    ``thalidomide``/``azathioprine``: [(date, dose, codes, overridden)]; ``cdai``: [(date, value)];
    ``labels``: {code: words} for the hover text (a code without words reads as itself, spaced);
    ``say``: the chart's words in the reader's language (Django's ``gettext``; English by default).
    Both doses share the mg/day axis (same unit, same scale); the time axis opens on the
    thalidomide course when years of azathioprine would squash it.
    """
    labels = labels or {}
    data = []
    for rows, (drug, name), colour in (
        (thalidomide, DRUGS["thalidomide"], "#0b4f6c"),
        (azathioprine, DRUGS["azathioprine"], "#9a6700"),
    ):
        if not rows:
            continue
        xs, ys = _steps(rows, until)
        data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines",
                     "line": {"shape": "hv", "color": colour, "width": 3}, "name": say(name)})
        data += [m for m in (_flagged_marks(rows, say(drug), labels, say), _gap_marks(rows, say(drug), say)) if m]
    if cdai:
        data.append({
            "type": "scatter", "x": [d.isoformat() for d, _ in cdai], "y": [v for _, v in cdai],
            "mode": "lines+markers", "name": "CDAI", "yaxis": "y2", "line": {"color": "#6e7781", "dash": "dot"},
        })
    dates = [r[0] for r in thalidomide + azathioprine] + [d for d, _ in cdai] + [until]
    views = _views(thalidomide, dates, until)
    # the course when focused; doses of the last few weeks end at today, not weeks ahead
    focus = dict(views).get(COURSE) or (_window(min(dates), until, until) if figures.date_range(dates) else None)
    layout = {"meta": _view_meta(views, say)} if views else {}
    layout["height"] = DOSE_CHART_HEIGHT
    return figures.figure(
        data, title=say(TITLE),
        xaxis=figures.date_axis(dates, **({"range": focus} if focus else {})),
        yaxis=figures.axis(say(DOSE_AXIS), rangemode="tozero"),
        yaxis2=figures.right_axis("CDAI", rangemode="tozero"),
        **layout,
    )
