"""The report charts: the cohort report's induction bars and Kaplan–Meier curves
(plotly.js figure dicts, see thalimon/figures.py) and the visit PDF's SVG trend.

Pure: plain data in, figure dict or SVG text out; no Django and no clock. The
patient page's charts are in visits/charts.py and therapy/charts.py.
"""

from html import escape

from thalimon import figures


def trend_svg(*, cdai, doses, start, end, remission_below, width=640, height=200):
    """A small print chart as SVG text (no browser needed): CDAI points and line
    (left axis) over thalidomide dose steps (shaded, right axis), with the CDAI
    remission line at ``remission_below``.

    ``cdai``: [(date, value)]; ``doses``: [(date, mg)] as steps; ``start``/``end``: the x range.
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
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="9">',
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
        f'<text x="{left}" y="{height - 6}">{escape(start.isoformat())}</text>'
        f'<text x="{left + plot_w}" y="{height - 6}" text-anchor="end">{escape(end.isoformat())}</text>'
        f'<text x="{width / 2:.0f}" y="{height - 6}" text-anchor="middle">'
        "CDAI (red, left) · thalidomide mg/day (blue, right)</text></svg>"
    )
    return "".join(parts)


def induction_figure(induction):
    """Response and remission by week (Li 2020 Table 2), as grouped bars of %."""
    weeks = ["4", "8", "12", "24"]
    data = []
    for key, name, colour in (("response", "Response", "#2f81f7"), ("remission", "Remission", "#1a7f37")):
        entries = [(induction.get(key) or {}).get(w) or {} for w in weeks]
        data.append({
            "type": "bar",
            "x": [f"Week {w}" for w in weeks], "y": [e.get("pct") for e in entries], "name": name,
            "marker": {"color": colour},
            "text": [f"{e.get('n')}/{e.get('of')}" if e.get("n") is not None else "" for e in entries],
            "textposition": "outside",
            "hovertemplate": "%{x}: %{y} %<extra>" + name + "</extra>",
        })
    return figures.figure(data, title="Response and remission by week (ITT)", barmode="group",
                          yaxis=figures.axis("% of patients", range=[0, 110]))


def km_figure(curve, *, title, colour="#0b4f6c", ticks=(0, 12, 24, 36, 48, 60)):
    """Kaplan–Meier step curve with its 95 % confidence band and the numbers at risk."""
    data, annotations = [], []
    months = list((curve or {}).get("months") or [])
    if months:
        for key, name in (("upper", "95 % CI upper"), ("lower", "95 % CI")):
            band = {
                "type": "scatter", "x": months, "y": curve.get(key), "mode": "lines",
                "line": {"width": 0, "shape": "hv"}, "fillcolor": "rgba(11,79,108,0.15)",
                "name": name, "showlegend": key == "lower", "hoverinfo": "skip",
            }
            if key == "lower":
                band["fill"] = "tonexty"
            data.append(band)
        data.append({
            "type": "scatter", "x": months, "y": curve.get("survival"), "mode": "lines",
            "line": {"shape": "hv", "color": colour, "width": 2},
            "name": "Kaplan–Meier estimate", "hovertemplate": "%{x:.1f} months: %{y:.3f}<extra></extra>",
        })
        at_risk = curve.get("at_risk") or []
        for tick in ticks:
            before = [n for m, n in zip(months, at_risk, strict=False) if m <= tick]
            label = str(before[-1]) if before and tick <= months[-1] else "–"
            annotations.append({"x": tick, "y": -0.32, "yref": "paper", "text": label, "showarrow": False,
                                "font": {"size": 11}})
        annotations.append({"x": 0, "y": -0.40, "yref": "paper", "xanchor": "left", "text": "Numbers at risk",
                            "showarrow": False, "font": {"size": 10, "color": "#57606a"}})
    return figures.figure(
        data, title=title, annotations=annotations,
        xaxis=figures.axis("Months", tickvals=list(ticks), range=[0, max(ticks)]),
        yaxis=figures.axis("Proportion without event", range=[0, 1.05]),
        margin={"l": 50, "r": 20, "t": 60, "b": 105}, height=390,
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "font": {"size": 10}},
    )
