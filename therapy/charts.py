"""The dose chart of the patient page: thalidomide and azathioprine steps over CDAI.

Pure: plain data in, a plotly.js figure dict out (see thalimon/figures.py); no
Django and no clock (the chart runs to the ``until`` date the caller passes).
"""

from thalimon import figures


def _steps(rows, until):
    """Step series: each dose holds from its date to the next row (and to ``until``).

    ``rows``: [(date, dose, …)] in date order → (ISO dates, float doses)."""
    xs, ys = [], []
    for date, dose, *_ in rows:
        xs.append(date.isoformat())
        ys.append(float(dose))
    if rows:
        xs.append(until.isoformat())
        ys.append(float(rows[-1][1]))
    return xs, ys


def _flagged_marks(rows, name):
    """The markers of the rows with deviation codes: a cross, or a diamond where overridden."""
    flagged = [r for r in rows if r[2]]
    if not flagged:
        return None
    return {
        "type": "scatter",
        "x": [r[0].isoformat() for r in flagged],
        "y": [float(r[1]) for r in flagged],
        "mode": "markers",
        "name": f"{name.split(' ')[0]}: deviation / override",
        "marker": {
            "symbol": ["diamond" if r[3] else "x" for r in flagged], "size": 12,
            "color": ["#8250df" if r[3] else "#cf222e" for r in flagged],
        },
        "text": [("override: " if r[3] else "deviation: ") + ", ".join(r[2]) for r in flagged],
        "hovertemplate": "%{x}<br>%{y} mg/day<br>%{text}<extra></extra>",
    }


def dose_figure(*, thalidomide, azathioprine, cdai, until):
    """Thalidomide and AZA doses as steps, deviations and overrides marked, CDAI on a second axis.

    ``thalidomide``/``azathioprine``: [(date, dose, codes, overridden)]; ``cdai``: [(date, value)].
    """
    data = []
    for rows, name, colour in (
        (thalidomide, "Thalidomide (mg/day)", "#0b4f6c"),
        (azathioprine, "Azathioprine (mg/day)", "#9a6700"),
    ):
        if not rows:
            continue
        xs, ys = _steps(rows, until)
        data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines",
                     "line": {"shape": "hv", "color": colour, "width": 3}, "name": name})
        marks = _flagged_marks(rows, name)
        if marks:
            data.append(marks)
    if cdai:
        data.append({
            "type": "scatter", "x": [d.isoformat() for d, _ in cdai], "y": [v for _, v in cdai],
            "mode": "lines+markers", "name": "CDAI", "yaxis": "y2", "line": {"color": "#6e7781", "dash": "dot"},
        })
    return figures.figure(
        data, title="Doses and CDAI",
        yaxis=figures.axis("Dose (mg/day)", rangemode="tozero"),
        yaxis2=figures.axis("CDAI", overlaying="y", side="right", rangemode="tozero", showgrid=False),
    )
