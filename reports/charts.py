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
