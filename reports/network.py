"""The network report: the sites of a network side by side, and the funnel plot (issue 18; pure).

No Django and no clock: the cohort records (reports.cohort.CohortPatient) grouped by site
code and an explicit ``as_of`` in, a JSON-ready dict out. Every figure of a site is a
figure of the cohort report of that site's patients, and every figure of the network row
the same figure over the pooled patients of all sites: a network figure is never an
average of the sites' figures (a Kaplan–Meier proportion or a rate does not average).
Each patient's part in the figures (``reports.cohort.patient_figures``) is computed once
and read by both rows, and each row computes only the blocks of the report it reads
(``reports.cohort_blocks.comparison_blocks``, with the very functions of the whole
report), so the network report costs about one cohort report, not fifty-one. The counts
that add (patients, responders, denominators, events, dose changes; ``ADDS_UP``) add up
from the sites to the network because each patient belongs to exactly one site.

The comparison row of one cohort report (``comparison_row``):

* ``patients``: ``n_patients``;
* response and remission at week 12: ``induction.response["12"]`` and
  ``induction.remission["12"]`` (n, of, %) — intention to treat, the patients whose
  week-12 window has closed (for all diagnoses: its Crohn's disease patients only, as
  the cohort report reads it);
* relapse-free at 12 months: ``relapse_free.km["12"]`` (the Kaplan–Meier proportion; None
  while nobody has been followed 12 months), with the ``n`` and ``events`` behind it;
* AEs per 100 patient-months: ``exposure.ae_per_100_patient_months``, with
  ``adverse_events.events`` and ``exposure.patient_months``;
* deviation rate: the share of the dose changes checked (``titration.dose_changes``)
  that carry at least one R3.5 deviation code. The titration block counts deviations
  *by code* (a dose change breaking two rules counts under both), so the number of dose
  changes with at least one deviation cannot be read from it; it is counted here over
  the very rows the titration block counts (``PatientFigures.doses``: the same cohort,
  the same rows up to ``as_of``), and the titration block's own total of deviation codes
  is given beside it
  (``deviation_findings``, never less than the rows with a deviation). A row saved with
  an override still counts: it broke the rule, the override is the clinician's reason.

The funnel plot (``funnel``), as Spiegelhalter's funnel plots for comparing institutions
(Statistics in Medicine 2005): the pooled week-12 remission proportion
p = the network's remitted / the network's week-12 denominator; for a site of
denominator n its proportion is plotted against n, with control limits
p ± z·√(p(1 − p)/n), z = 1.959964 (95 %) and 3.090232 (99.8 %), clipped to [0, 1]. A site is
``above`` a limit when its proportion is greater than the upper limit, ``below`` when
less than the lower one, else ``inside`` (on a limit counts as inside). The limits and
positions are computed exactly (Decimal); the reported proportions and limits are
rounded half up to 4 decimals. A site with a week-12 denominator of 0 is listed in the
table but not placed on the funnel (``not_placed``): it has no proportion. With no
denominator anywhere there is no pooled proportion and nothing is placed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, localcontext

from reports.cohort import CohortPatient, PatientFigures, patient_figures
from reports.cohort_blocks import comparison_blocks
from reports.statistics import pct, round_half_up

WEEK = "12"  # response and remission at week 12
KM_MONTH = "12"  # relapse-free at 12 months
FUNNEL_LIMITS = (("95", Decimal("1.959964")), ("99.8", Decimal("3.090232")))  # level → z (two-sided)
INSIDE, ABOVE, BELOW = "inside", "above", "below"
FUNNEL_PLACES = 4
# The limit curves for drawing: every n up to DENSE_UP_TO, then n growing by about 1 % a
# point up to the largest site (the curves are smooth there; the page stays light).
DENSE_UP_TO = 200
CURVE_GROWTH = Decimal("1.01")
# The figures of a comparison row that add up from the sites to the network.
ADDS_UP = (
    "patients", "response_n", "response_of", "remission_n", "remission_of", "relapse_free_n",
    "relapse_free_events", "ae_events", "dose_changes", "deviation_findings", "dose_changes_with_deviation",
)


def network_report(
    groups: Mapping[str, Sequence[CohortPatient]],
    *,
    as_of: date,
    diagnosis: str,
    rules_version: str,
    remission_below: int,
    response_drop: int,
    cdeis_remission_below: Decimal,
    names: Mapping[str, str] | None = None,
) -> dict:
    """The comparison table (one row a site, in code order, and the network row) and the
    funnel plot of week-12 remission. ``groups``: site code → that site's cohort records
    (a site with none is listed with zeros); ``names``: site code → name, for reading."""
    options = {
        "as_of": as_of, "diagnosis": diagnosis, "remission_below": remission_below,
        "response_drop": response_drop, "cdeis_remission_below": cdeis_remission_below,
    }
    seen = {}
    for code, patients in groups.items():
        for patient in patients:
            if seen.setdefault(patient.code, code) != code:
                raise ValueError(f"patient {patient.code} is in two sites ({seen[patient.code]}, {code})")
    names = names or {}
    # Each patient's part in the figures is computed once and read by their site's row and
    # by the network row (reports.cohort.patient_figures).
    figures = {
        code: [f for f in (patient_figures(p, **options) for p in groups[code]) if f is not None]
        for code in sorted(groups)
    }
    sites = []
    for code, site_figures in figures.items():
        row = comparison_row(comparison_blocks(site_figures), deviating_dose_changes(site_figures))
        sites.append({"site": code, "name": names.get(code, ""), **row})
    pooled = [f for site_figures in figures.values() for f in site_figures]
    network = comparison_row(comparison_blocks(pooled), deviating_dose_changes(pooled))
    return {
        "as_of": as_of.isoformat(),
        "rules_version": rules_version,
        "diagnosis": diagnosis,
        "week": int(WEEK),
        "relapse_free_month": int(KM_MONTH),
        "sites": sites,
        "network": network,
        "funnel": funnel(sites, network),
    }


def deviating_dose_changes(figures: Sequence[PatientFigures]) -> int:
    """The dose changes counted by the titration block (``PatientFigures.doses``) that
    carry at least one deviation code."""
    return sum(1 for f in figures for row in f.doses if row.deviations)


def comparison_row(report: dict, dose_changes_with_deviation: int) -> dict:
    """One row of the comparison table, read from one cohort report or its
    ``comparison_blocks`` (module docstring)."""
    response = report["induction"]["response"][WEEK]
    remission = report["induction"]["remission"][WEEK]
    relapse = report["relapse_free"]
    titration = report["titration"]
    return {
        "patients": report["n_patients"],
        "response_n": response["n"], "response_of": response["of"], "response_pct": response["pct"],
        "remission_n": remission["n"], "remission_of": remission["of"], "remission_pct": remission["pct"],
        "relapse_free_n": relapse["n"], "relapse_free_events": relapse["events"],
        "relapse_free_12m": relapse["km"][KM_MONTH],
        "ae_events": report["adverse_events"]["events"],
        "patient_months": report["exposure"]["patient_months"],
        "ae_per_100_patient_months": report["exposure"]["ae_per_100_patient_months"],
        "dose_changes": titration["dose_changes"],
        "deviation_findings": sum(titration["deviations"].values()),
        "dose_changes_with_deviation": dose_changes_with_deviation,
        "deviation_rate_pct": pct(dose_changes_with_deviation, titration["dose_changes"]),
    }


def control_limits(p: Decimal, n: int, z: Decimal) -> tuple[Decimal, Decimal]:
    """p ± z·√(p(1 − p)/n), clipped to [0, 1] (exact to 50 digits)."""
    with localcontext() as ctx:
        ctx.prec = 50
        half = z * (p * (1 - p) / n).sqrt()
        return max(Decimal(0), p - half), min(Decimal(1), p + half)


def position(proportion: Decimal, lower: Decimal, upper: Decimal) -> str:
    """Where a site lies against one pair of limits (on a limit is inside)."""
    if proportion > upper:
        return ABOVE
    if proportion < lower:
        return BELOW
    return INSIDE


def curve_points(max_n: int) -> list[int]:
    """The n at which the limit curves are drawn: 1 … ``DENSE_UP_TO`` one by one, then
    about 1 % apart, always ending at ``max_n``."""
    points = list(range(1, min(max_n, DENSE_UP_TO) + 1))
    n = DENSE_UP_TO
    while n < max_n:
        n = min(max(n + 1, int(n * CURVE_GROWTH)), max_n)
        points.append(n)
    return points


def _rounded(value: Decimal) -> float:
    return round_half_up(value, FUNNEL_PLACES)


def funnel(sites: list[dict], network: dict) -> dict:
    """The funnel plot of week-12 remission (module docstring): the pooled proportion, each
    site placed with its limits and positions, the sites not placed, the limit curves."""
    levels = [{"level": level, "z": float(z)} for level, z in FUNNEL_LIMITS]
    remitted, of = network["remission_n"], network["remission_of"]
    p = Decimal(remitted) / Decimal(of) if of else None
    placed, not_placed = [], []
    for row in sites:
        n = row["remission_of"]
        if p is None or not n:
            not_placed.append(row["site"])
            continue
        proportion = Decimal(row["remission_n"]) / Decimal(n)
        limits = {level: control_limits(p, n, z) for level, z in FUNNEL_LIMITS}
        placed.append({
            "site": row["site"], "name": row.get("name", ""), "n": n, "remitted": row["remission_n"],
            "proportion": _rounded(proportion),
            "limits": {level: [_rounded(low), _rounded(high)] for level, (low, high) in limits.items()},
            "position": {level: position(proportion, low, high) for level, (low, high) in limits.items()},
        })
    curves = {"n": [], **{level: {"lower": [], "upper": []} for level, _ in FUNNEL_LIMITS}}
    if placed:
        curves["n"] = curve_points(max(site["n"] for site in placed))
        for level, z in FUNNEL_LIMITS:
            for n in curves["n"]:
                low, high = control_limits(p, n, z)
                curves[level]["lower"].append(_rounded(low))
                curves[level]["upper"].append(_rounded(high))
    return {
        "outcome": "remission",
        "week": int(WEEK),
        "pooled": {"n": remitted, "of": of, "proportion": None if p is None else _rounded(p)},
        "levels": levels,
        "sites": placed,
        "not_placed": not_placed,
        "curves": curves,
    }
