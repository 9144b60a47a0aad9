"""The clinical charts of the patient page: CDAI, CRP/ESR and endoscopic scores.

Pure: plain data and the thresholds in force in, plotly.js figure dicts out (see
thalimon/figures.py); no Django and no clock. The caller passes the thresholds
from ``thalimon.rules_config.rule_settings()``.
"""

from thalimon import figures
from thalimon.figures import english, gettext_noop

STATUS_COLOURS = {
    "remission": "#1a7f37",
    "response": "#2f81f7",
    "no_response": "#9a6700",
    "relapse": "#cf222e",
    "": "#6e7781",
}
# The charts' words (English here; the caller's ``say`` gives them in the reader's language).
CDAI_TITLE = gettext_noop("CDAI over time")
REMISSION_BELOW = gettext_noop("Remission below {value}")
RESPONSE_LINE = gettext_noop("Response: baseline {baseline} − {drop} = {line}")
INFLAMMATION_TITLE = gettext_noop("CRP and ESR")
CRP_NAME = gettext_noop("CRP (mg/L)")
ESR_NAME = gettext_noop("ESR (mm/h)")
ENDOSCOPY_TITLE = gettext_noop("Endoscopic scores")
RUTGEERTS_NAME = gettext_noop("Rutgeerts (0–4)")
CDEIS_REMISSION_BELOW = gettext_noop("CDEIS remission below {value}")
SCORE_AXIS = gettext_noop("Score")


def cdai_figure(*, dates, values, statuses, baseline=None, remission_below, response_drop, status_labels=None,
                say=english):
    """CDAI over time with the remission line (below ``remission_below``) and, with a
    baseline, the response line (baseline − ``response_drop``). ``status_labels``
    ({status: label}) is the words catalogue's (visits/words.py), given by the caller."""
    trace = {
        "type": "scatter",
        "x": [d.isoformat() for d in dates],
        "y": list(values),
        "mode": "lines+markers",
        "name": "CDAI",
        "line": {"color": "#0b4f6c"},
        "marker": {"size": 9, "color": [STATUS_COLOURS.get(s, "#6e7781") for s in statuses]},
        "text": [(status_labels or {}).get(s, s) for s in statuses],
        "hovertemplate": "%{x}<br>CDAI %{y}<br>%{text}<extra></extra>",
    }
    lines = [figures.hline(remission_below, line={"color": "#1a7f37", "dash": "dash"},
                           text=say(REMISSION_BELOW).format(value=remission_below), below=True)]
    if baseline is not None:
        lines.append(figures.hline(
            baseline - response_drop, line={"color": "#2f81f7", "dash": "dot"},
            text=say(RESPONSE_LINE).format(baseline=baseline, drop=response_drop, line=baseline - response_drop),
            below=False,
        ))
    return figures.figure([trace], title=say(CDAI_TITLE), xaxis=figures.date_axis(dates), yaxis=figures.axis("CDAI"),
                          shapes=[s for s, _ in lines], annotations=[a for _, a in lines])


def inflammation_figure(*, crp, esr, say=english):
    """CRP (mg/L, left axis) and ESR (mm/h, right axis); each series is [(date, value)]."""
    (crp_x, crp_y), (esr_x, esr_y) = figures.dated(crp), figures.dated(esr)
    data = [
        {"type": "scatter", "x": crp_x, "y": crp_y, "mode": "lines+markers", "name": say(CRP_NAME),
         "line": {"color": "#cf222e"}},
        {"type": "scatter", "x": esr_x, "y": esr_y, "mode": "lines+markers", "name": say(ESR_NAME),
         "line": {"color": "#8250df"}, "yaxis": "y2"},
    ]
    return figures.figure(
        data, title=say(INFLAMMATION_TITLE),
        xaxis=figures.date_axis([d for d, _ in crp + esr]),
        yaxis=figures.axis(say(CRP_NAME), rangemode="tozero"),
        yaxis2=figures.right_axis(say(ESR_NAME), rangemode="tozero"),
    )


def endoscopy_figure(*, cdeis, ses_cd, rutgeerts, cdeis_remission_below, say=english):
    """Endoscopic scores over time, each series [(date, value)], with the CDEIS remission
    line (below ``cdeis_remission_below``) when CDEIS was scored."""
    data = []
    for series, name, colour in (
        (cdeis, "CDEIS", "#0b4f6c"),
        (ses_cd, "SES-CD", "#9a6700"),
        (rutgeerts, say(RUTGEERTS_NAME), "#8250df"),
    ):
        if series:
            xs, ys = figures.dated(series)
            data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines+markers", "name": name,
                         "line": {"color": colour}})
    lines = []
    if cdeis:
        lines.append(figures.hline(float(cdeis_remission_below), line={"color": "#1a7f37", "dash": "dash"},
                                   text=say(CDEIS_REMISSION_BELOW).format(value=cdeis_remission_below),
                                   below=True))
    return figures.figure(data, title=say(ENDOSCOPY_TITLE),
                          xaxis=figures.date_axis([d for d, _ in cdeis + ses_cd + rutgeerts]),
                          yaxis=figures.axis(say(SCORE_AXIS), rangemode="tozero"),
                          shapes=[s for s, _ in lines], annotations=[a for _, a in lines])
