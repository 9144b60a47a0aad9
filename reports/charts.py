"""Plotly figure builders: plain data in, figure (as a JSON-ready dict) out.

No Django and no database here; the pages pass the series they selected and
embed the result with ``json_script``; static/js/charts.js draws it with the
plotly.js served from the installed plotly package (no CDN).

The figures are written as plotly.js figure dicts (the schema plotly documents)
rather than through ``plotly.graph_objects``: the graph objects validate every
property at every build, some 60 ms for a patient page's three charts. The tests
hand every builder's output to ``plotly.graph_objects.Figure``, which validates it.
"""

STATUS_COLOURS = {
    "remission": "#1a7f37",
    "response": "#2f81f7",
    "no_response": "#9a6700",
    "relapse": "#cf222e",
    "": "#6e7781",
}
STATUS_LABELS = {
    "remission": "Remission",
    "response": "Response",
    "no_response": "No response",
    "relapse": "Relapse",
    "": "No status",
}
# The look of plotly's "plotly_white" template, set directly (a named template is a
# large object shipped inside every figure's JSON).
_COLORWAY = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880"]
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "zerolinewidth": 2,
         "automargin": True}
_LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 320,
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "colorway": _COLORWAY,
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
}


def _axis(title=None, **options):
    axis = {**_AXIS, **options}
    if title is not None:
        axis["title"] = {"text": title}
    return axis


def _figure(data, *, title, shapes=(), annotations=(), **layout):
    """A figure dict with the house layout; ``layout`` may name xaxis/yaxis/yaxis2 (from _axis)."""
    full = {**_LAYOUT, "title": {"text": title}, "xaxis": _axis(), "yaxis": _axis(), **layout}
    if shapes:
        full["shapes"] = list(shapes)
    if annotations:
        full["annotations"] = list(annotations)
    return {"data": list(data), "layout": full}


def _hline(y, *, line, text, below):
    """A horizontal line across the plot with its label at the left, under or over it."""
    shape = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y, "line": line}
    label = {"text": text, "xref": "x domain", "x": 0, "xanchor": "left", "yref": "y", "y": y,
             "yanchor": "top" if below else "bottom", "showarrow": False}
    return shape, label


def _dated(series):
    return [d.isoformat() for d, _ in series], [float(v) for _, v in series]


def cdai_figure(*, dates, values, statuses, baseline=None, remission_below=150, response_drop=70):
    """CDAI over time with the remission line (150) and the response line (baseline − 70)."""
    trace = {
        "type": "scatter",
        "x": [d.isoformat() for d in dates],
        "y": list(values),
        "mode": "lines+markers",
        "name": "CDAI",
        "line": {"color": "#0b4f6c"},
        "marker": {"size": 9, "color": [STATUS_COLOURS.get(s, "#6e7781") for s in statuses]},
        "text": [STATUS_LABELS.get(s, s) for s in statuses],
        "hovertemplate": "%{x}<br>CDAI %{y}<br>%{text}<extra></extra>",
    }
    lines = [_hline(remission_below, line={"color": "#1a7f37", "dash": "dash"},
                    text=f"Remission below {remission_below}", below=True)]
    if baseline is not None:
        lines.append(_hline(
            baseline - response_drop, line={"color": "#2f81f7", "dash": "dot"},
            text=f"Response: baseline {baseline} − {response_drop} = {baseline - response_drop}", below=False,
        ))
    return _figure([trace], title="CDAI over time", yaxis=_axis("CDAI"),
                   shapes=[s for s, _ in lines], annotations=[a for _, a in lines])


def inflammation_figure(*, crp, esr):
    """CRP (mg/L, left axis) and ESR (mm/h, right axis); each series is [(date, value)]."""
    (crp_x, crp_y), (esr_x, esr_y) = _dated(crp), _dated(esr)
    data = [
        {"type": "scatter", "x": crp_x, "y": crp_y, "mode": "lines+markers", "name": "CRP (mg/L)",
         "line": {"color": "#cf222e"}},
        {"type": "scatter", "x": esr_x, "y": esr_y, "mode": "lines+markers", "name": "ESR (mm/h)",
         "line": {"color": "#8250df"}, "yaxis": "y2"},
    ]
    return _figure(
        data, title="CRP and ESR",
        yaxis=_axis("CRP (mg/L)", rangemode="tozero"),
        yaxis2=_axis("ESR (mm/h)", overlaying="y", side="right", rangemode="tozero"),
    )


def endoscopy_figure(*, cdeis, ses_cd, rutgeerts, cdeis_remission_below=7):
    """Endoscopic scores over time; each series is [(date, value)]."""
    data = []
    for series, name, colour in (
        (cdeis, "CDEIS", "#0b4f6c"),
        (ses_cd, "SES-CD", "#9a6700"),
        (rutgeerts, "Rutgeerts (0–4)", "#8250df"),
    ):
        if series:
            xs, ys = _dated(series)
            data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines+markers", "name": name,
                         "line": {"color": colour}})
    lines = []
    if cdeis:
        lines.append(_hline(float(cdeis_remission_below), line={"color": "#1a7f37", "dash": "dash"},
                            text=f"CDEIS remission below {cdeis_remission_below}", below=True))
    return _figure(data, title="Endoscopic scores", yaxis=_axis("Score", rangemode="tozero"),
                   shapes=[s for s, _ in lines], annotations=[a for _, a in lines])


def _steps(rows, until):
    """Step series: each dose holds from its date to the next row (and to ``until``)."""
    xs, ys = [], []
    for date, dose, *_ in rows:
        xs.append(date.isoformat())
        ys.append(float(dose))
    if rows:
        xs.append(until.isoformat())
        ys.append(float(rows[-1][1]))
    return xs, ys


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
        flagged = [r for r in rows if r[2]]
        if flagged:
            data.append({
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
            })
    if cdai:
        data.append({
            "type": "scatter", "x": [d.isoformat() for d, _ in cdai], "y": [v for _, v in cdai],
            "mode": "lines+markers", "name": "CDAI", "yaxis": "y2", "line": {"color": "#6e7781", "dash": "dot"},
        })
    return _figure(
        data, title="Doses and CDAI",
        yaxis=_axis("Dose (mg/day)", rangemode="tozero"),
        yaxis2=_axis("CDAI", overlaying="y", side="right", rangemode="tozero", showgrid=False),
    )


def trend_svg(*, cdai, doses, start, end, width=640, height=200):
    """A small print chart as SVG text (no browser needed): CDAI points and line
    (left axis) over thalidomide dose steps (shaded, right axis).

    ``cdai``: [(date, value)]; ``doses``: [(date, mg)] as steps; ``start``/``end``: the x range.
    """
    from html import escape

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
    line_y = y_cdai(150)
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{line_y:.1f}" y2="{line_y:.1f}" '
        'stroke="#1a7f37" stroke-dasharray="4 3"/>'
        f'<text x="{left + 4}" y="{line_y - 3:.1f}" fill="#1a7f37">CDAI 150</text>'
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
    return _figure(data, title="Response and remission by week (ITT)", barmode="group",
                   yaxis=_axis("% of patients", range=[0, 110]))


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
    return _figure(
        data, title=title, annotations=annotations,
        xaxis=_axis("Months", tickvals=list(ticks), range=[0, max(ticks)]),
        yaxis=_axis("Proportion without event", range=[0, 1.05]),
        margin={"l": 50, "r": 20, "t": 60, "b": 105}, height=390,
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "font": {"size": 10}},
    )
