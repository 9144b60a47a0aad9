"""Plotly figure builders: plain data in, figure (as a JSON-ready dict) out.

No Django and no database here; the pages pass the series they selected and
embed the result with ``json_script``; static/js/charts.js draws it with the
plotly.js served from the installed plotly package (no CDN).
"""

import plotly.graph_objects as go

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
_LAYOUT = dict(
    margin=dict(l=50, r=20, t=40, b=40),
    height=320,
    template="plotly_white",
    legend=dict(orientation="h", y=-0.2),
    font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12),
)


def _figure_dict(fig):
    return fig.to_plotly_json()


def cdai_figure(*, dates, values, statuses, baseline=None, remission_below=150, response_drop=70):
    """CDAI over time with the remission line (150) and the response line (baseline − 70)."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[d.isoformat() for d in dates],
            y=values,
            mode="lines+markers",
            name="CDAI",
            line=dict(color="#0b4f6c"),
            marker=dict(size=9, color=[STATUS_COLOURS.get(s, "#6e7781") for s in statuses]),
            text=[STATUS_LABELS.get(s, s) for s in statuses],
            hovertemplate="%{x}<br>CDAI %{y}<br>%{text}<extra></extra>",
        )
    )
    fig.add_hline(
        y=remission_below,
        line=dict(color="#1a7f37", dash="dash"),
        annotation_text=f"Remission below {remission_below}",
        annotation_position="bottom left",
    )
    if baseline is not None:
        fig.add_hline(
            y=baseline - response_drop,
            line=dict(color="#2f81f7", dash="dot"),
            annotation_text=f"Response: baseline {baseline} − {response_drop} = {baseline - response_drop}",
            annotation_position="top left",
        )
    fig.update_layout(title="CDAI over time", yaxis_title="CDAI", **_LAYOUT)
    return _figure_dict(fig)


def inflammation_figure(*, crp, esr):
    """CRP (mg/L, left axis) and ESR (mm/h, right axis); each series is [(date, value)]."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[d.isoformat() for d, _ in crp], y=[float(v) for _, v in crp],
            mode="lines+markers", name="CRP (mg/L)", line=dict(color="#cf222e"),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[d.isoformat() for d, _ in esr], y=[float(v) for _, v in esr],
            mode="lines+markers", name="ESR (mm/h)", line=dict(color="#8250df"), yaxis="y2",
        )
    )
    fig.update_layout(
        title="CRP and ESR",
        yaxis=dict(title="CRP (mg/L)", rangemode="tozero"),
        yaxis2=dict(title="ESR (mm/h)", overlaying="y", side="right", rangemode="tozero"),
        **_LAYOUT,
    )
    return _figure_dict(fig)


def endoscopy_figure(*, cdeis, ses_cd, rutgeerts, cdeis_remission_below=7):
    """Endoscopic scores over time; each series is [(date, value)]."""
    fig = go.Figure()
    for series, name, colour in (
        (cdeis, "CDEIS", "#0b4f6c"),
        (ses_cd, "SES-CD", "#9a6700"),
        (rutgeerts, "Rutgeerts (0–4)", "#8250df"),
    ):
        if series:
            fig.add_trace(
                go.Scatter(
                    x=[d.isoformat() for d, _ in series], y=[float(v) for _, v in series],
                    mode="lines+markers", name=name, line=dict(color=colour),
                )
            )
    if cdeis:
        fig.add_hline(
            y=float(cdeis_remission_below),
            line=dict(color="#1a7f37", dash="dash"),
            annotation_text=f"CDEIS remission below {cdeis_remission_below}",
            annotation_position="bottom left",
        )
    fig.update_layout(title="Endoscopic scores", yaxis=dict(title="Score", rangemode="tozero"), **_LAYOUT)
    return _figure_dict(fig)


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
    fig = go.Figure()
    for rows, name, colour in (
        (thalidomide, "Thalidomide (mg/day)", "#0b4f6c"),
        (azathioprine, "Azathioprine (mg/day)", "#9a6700"),
    ):
        if not rows:
            continue
        xs, ys = _steps(rows, until)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(shape="hv", color=colour, width=3), name=name))
        flagged = [r for r in rows if r[2]]
        if flagged:
            fig.add_trace(
                go.Scatter(
                    x=[r[0].isoformat() for r in flagged],
                    y=[float(r[1]) for r in flagged],
                    mode="markers",
                    name=f"{name.split(' ')[0]}: deviation / override",
                    marker=dict(
                        symbol=["diamond" if r[3] else "x" for r in flagged], size=12,
                        color=["#8250df" if r[3] else "#cf222e" for r in flagged],
                    ),
                    text=[("override: " if r[3] else "deviation: ") + ", ".join(r[2]) for r in flagged],
                    hovertemplate="%{x}<br>%{y} mg/day<br>%{text}<extra></extra>",
                )
            )
    if cdai:
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d, _ in cdai], y=[v for _, v in cdai], mode="lines+markers",
                name="CDAI", yaxis="y2", line=dict(color="#6e7781", dash="dot"),
            )
        )
    fig.update_layout(
        title="Doses and CDAI",
        yaxis=dict(title="Dose (mg/day)", rangemode="tozero"),
        yaxis2=dict(title="CDAI", overlaying="y", side="right", rangemode="tozero", showgrid=False),
        **_LAYOUT,
    )
    return _figure_dict(fig)


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
    fig = go.Figure()
    for key, name, colour in (("response", "Response", "#2f81f7"), ("remission", "Remission", "#1a7f37")):
        entries = [(induction.get(key) or {}).get(w) or {} for w in weeks]
        fig.add_trace(
            go.Bar(
                x=[f"Week {w}" for w in weeks], y=[e.get("pct") for e in entries], name=name,
                marker_color=colour,
                text=[f"{e.get('n')}/{e.get('of')}" if e.get("n") is not None else "" for e in entries],
                textposition="outside",
                hovertemplate="%{x}: %{y} %<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title="Response and remission by week (ITT)", barmode="group",
        yaxis=dict(title="% of patients", range=[0, 110]), **_LAYOUT,
    )
    return _figure_dict(fig)


def km_figure(curve, *, title, colour="#0b4f6c", ticks=(0, 12, 24, 36, 48, 60)):
    """Kaplan–Meier step curve with its 95 % confidence band and the numbers at risk."""
    fig = go.Figure()
    months = list((curve or {}).get("months") or [])
    if months:
        for key, name in (("upper", "95 % CI upper"), ("lower", "95 % CI")):
            fig.add_trace(
                go.Scatter(
                    x=months, y=curve.get(key), mode="lines", line=dict(width=0, shape="hv"),
                    fill="tonexty" if key == "lower" else None, fillcolor="rgba(11,79,108,0.15)",
                    name=name, showlegend=key == "lower", hoverinfo="skip",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=months, y=curve.get("survival"), mode="lines", line=dict(shape="hv", color=colour, width=2),
                name="Kaplan–Meier estimate", hovertemplate="%{x:.1f} months: %{y:.3f}<extra></extra>",
            )
        )
        at_risk = curve.get("at_risk") or []
        labels = []
        for tick in ticks:
            before = [n for m, n in zip(months, at_risk, strict=False) if m <= tick]
            labels.append(str(before[-1]) if before and tick <= months[-1] else "–")
        for tick, label in zip(ticks, labels, strict=True):
            fig.add_annotation(x=tick, y=-0.32, yref="paper", text=label, showarrow=False, font=dict(size=11))
        fig.add_annotation(x=0, y=-0.40, yref="paper", xanchor="left", text="Numbers at risk", showarrow=False,
                           font=dict(size=10, color="#57606a"))
    fig.update_layout(
        title=title,
        xaxis=dict(title="Months", tickvals=list(ticks), range=[0, max(ticks)]),
        yaxis=dict(title="Proportion without event", range=[0, 1.05]),
        **{**_LAYOUT, "margin": dict(l=50, r=20, t=60, b=105), "height": 390,
           "legend": dict(orientation="h", y=1.0, yanchor="bottom", x=0, font=dict(size=10))},
    )
    return _figure_dict(fig)
