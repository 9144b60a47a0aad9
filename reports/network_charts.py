"""The network report's funnel plot as a plotly.js figure dict (pure; see thalimon/figures.py).

Drawn from ``reports.network.funnel`` only: the pooled proportion as a horizontal line,
the 95 % and 99.8 % control limits as curves over the site size, each site as a point
labelled with its code, coloured by where it lies (inside both limits, outside the 95 %
limits only, outside the 99.8 % limits). Proportions are drawn as percentages. Only
``scatter`` traces: the vendored basic bundle draws them.
"""

from thalimon import figures
from thalimon.figures import english, gettext_noop

FUNNEL_TITLE = gettext_noop("Remission at week 12 by site size (funnel plot)")
X_TITLE = gettext_noop("Patients assessed at week 12 (site size)")
# xgettext:no-python-format
Y_TITLE = gettext_noop("% in remission at week 12")
POOLED = gettext_noop("Network: {pct} %")
# A "%" in these words is a percent sign, never a format directive (no-python-format).
LIMIT_NAMES = {
    # xgettext:no-python-format
    "95": gettext_noop("95 % limits"),
    # xgettext:no-python-format
    "99.8": gettext_noop("99.8 % limits"),
}
GROUP_NAMES = {
    # xgettext:no-python-format
    "inside": gettext_noop("Sites inside the 95 % limits"),
    # xgettext:no-python-format
    "outside_95": gettext_noop("Sites outside the 95 % limits"),
    # xgettext:no-python-format
    "outside_998": gettext_noop("Sites outside the 99.8 % limits"),
}
SITE_HOVER = gettext_noop("{site}: {n} of {of} in remission ({pct} %)")
NO_SITE_PLACED = gettext_noop("No site has patients assessed at week 12 yet (the week-12 window closes on day 91): "
                              "there is nothing to place on the funnel.")
LIMIT_STYLE = {"95": {"color": "#9a6700", "dash": "dash", "width": 1.5},
               "99.8": {"color": "#cf222e", "dash": "dot", "width": 1.5}}
GROUP_COLOURS = {"inside": "#0b4f6c", "outside_95": "#9a6700", "outside_998": "#cf222e"}
POOLED_COLOUR = "#57606a"


def site_group(site):
    """Which colour a placed site gets: outside the 99.8 % limits, else outside the 95 %, else inside."""
    if site["position"]["99.8"] != "inside":
        return "outside_998"
    return "outside_95" if site["position"]["95"] != "inside" else "inside"


def _percent(values):
    return [None if v is None else round(100 * v, 2) for v in values]


def funnel_figure(funnel, *, say=english):
    """The funnel plot (module docstring), or None when no site is placed (the page says
    ``empty_message`` instead)."""
    if not funnel["sites"]:
        return None
    curves = funnel["curves"]
    data = []
    for level in ("99.8", "95"):
        name = say(LIMIT_NAMES[level])
        for side, shown in (("upper", True), ("lower", False)):
            data.append({"type": "scatter", "mode": "lines", "x": curves["n"], "y": _percent(curves[level][side]),
                         "name": name, "legendgroup": level, "showlegend": shown, "hoverinfo": "skip",
                         "line": LIMIT_STYLE[level]})
    pooled = 100 * funnel["pooled"]["proportion"]
    data.append({"type": "scatter", "mode": "lines", "x": [0, curves["n"][-1]], "y": [pooled, pooled],
                 "name": say(POOLED).format(pct=f"{pooled:.1f}"), "hoverinfo": "skip",
                 "line": {"color": POOLED_COLOUR, "width": 1.5}})
    for group in ("inside", "outside_95", "outside_998"):
        sites = [site for site in funnel["sites"] if site_group(site) == group]
        if not sites:
            continue
        data.append({
            "type": "scatter", "mode": "markers+text", "name": say(GROUP_NAMES[group]),
            "x": [site["n"] for site in sites], "y": _percent(site["proportion"] for site in sites),
            "text": [site["site"] for site in sites], "textposition": "top center", "cliponaxis": False,
            "marker": {"size": 10, "color": GROUP_COLOURS[group], "line": {"width": 1, "color": "white"}},
            "customdata": [[site["site"], site["remitted"], site["n"]] for site in sites],
            "hovertemplate": say(SITE_HOVER).format(site="%{customdata[0]}", n="%{customdata[1]}",
                                                    of="%{customdata[2]}", pct="%{y:.1f}") + "<extra></extra>",
        })
    return figures.figure(
        data, title=say(FUNNEL_TITLE),
        # Whole patients on the x axis: a tick a patient while the largest site is small.
        xaxis=figures.axis(say(X_TITLE), range=[0, curves["n"][-1] * 1.05 + 1], zeroline=False,
                           **({"dtick": 1} if curves["n"][-1] < 10 else {})),
        yaxis=figures.axis(say(Y_TITLE), range=[-2, 108], tickvals=[0, 20, 40, 60, 80, 100]),
        legend={"orientation": "h", "y": -0.25, "x": 0, "font": {"size": 11}},
        margin={"l": 60, "r": 16, "t": 36, "b": 60}, height=420,
    )


def empty_message(funnel, *, say=english):
    """What the page says instead of a funnel with no site on it (None when there is one)."""
    return None if funnel["sites"] else say(NO_SITE_PLACED)


POSITION_WORDS = {
    # xgettext:no-python-format
    ("99.8", "above"): gettext_noop("Above the 99.8 % limit"),
    # xgettext:no-python-format
    ("99.8", "below"): gettext_noop("Below the 99.8 % limit"),
    # xgettext:no-python-format
    ("95", "above"): gettext_noop("Above the 95 % limit"),
    # xgettext:no-python-format
    ("95", "below"): gettext_noop("Below the 95 % limit"),
}
INSIDE_WORDS = gettext_noop("Inside the limits")
NOT_PLACED_WORDS = gettext_noop("Not placed: nobody assessed at week 12 yet")


def position_words(funnel, *, say=english):
    """{site code: where the site lies on the funnel, in words} for every site of the table."""
    words = {code: say(NOT_PLACED_WORDS) for code in funnel["not_placed"]}
    for site in funnel["sites"]:
        outside = next(((level, site["position"][level]) for level in ("99.8", "95")
                        if site["position"][level] != "inside"), None)
        words[site["site"]] = say(POSITION_WORDS[outside] if outside else INSIDE_WORDS)
    return words
