"""Exact statistics and the rounding of reported figures, and Kaplan–Meier (R8).

Pure, like reports/cohort.py, which builds the report on these: no Django and no
clock. Arithmetic is exact (``Decimal``) up to the reported figure, which alone is
rounded, half up: percentages 1 decimal; means, SDs, medians, quartiles, months (and
rates) 2 decimals; survival proportions 3 decimals. Kaplan–Meier comes from
``lifelines`` (never hand-written).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

MONTH_DAYS = Decimal("30.4375")  # Conventions: a month in survival statistics
KM_MONTHS = (12, 24, 36, 48, 60)  # R8: Kaplan–Meier at 12 … 60 months
PCT_PLACES = 1
STAT_PLACES = 2
SURVIVAL_PLACES = 3
_FLOAT_NOISE = Decimal("1e-12")


def exact(value) -> Decimal:
    """A value as Decimal; a float from lifelines loses its representation noise first.

    lifelines computes the Kaplan–Meier product in log space, so an exact 0.5 can come
    back as 0.5000000000000001; cleaning to 12 decimals (far below any reported digit)
    lets the half-up rounding see the true value.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(_FLOAT_NOISE, rounding=ROUND_HALF_EVEN)
    return Decimal(str(value))


def round_half_up(value, places: int) -> float | None:
    """The reported figure: ``places`` decimals, half up (never Python's ``round()``).

    None, NaN and ±infinity (not reached, not computable) give None.
    """
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return float(exact(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def pct(count: int, denominator: int) -> float | None:
    if denominator == 0:
        return None
    return round_half_up(Decimal(count) * 100 / Decimal(denominator), PCT_PLACES)


def mean_sd(values) -> list:
    """[mean, sample SD (n − 1)], 2 decimals; [None, None] for none, SD None for one."""
    numbers = [exact(value) for value in values]
    if not numbers:
        return [None, None]
    with localcontext() as ctx:
        ctx.prec = 50
        mean = sum(numbers, Decimal(0)) / len(numbers)
        if len(numbers) < 2:
            return [round_half_up(mean, STAT_PLACES), None]
        variance = sum(((x - mean) ** 2 for x in numbers), Decimal(0)) / (len(numbers) - 1)
        sd = variance.sqrt()
    return [round_half_up(mean, STAT_PLACES), round_half_up(sd, STAT_PLACES)]


def _percentile(ordered: list[Decimal], fraction: Decimal) -> Decimal:
    """NumPy's default ``method="linear"``: x[lo] + (h − lo)(x[lo+1] − x[lo]), h = (n − 1)q."""
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def median_iqr(values) -> list:
    """[median, q1, q3], 2 decimals; [None, None, None] for no values."""
    ordered = sorted(exact(value) for value in values)
    if not ordered:
        return [None, None, None]
    with localcontext() as ctx:
        ctx.prec = 50
        figures = [_percentile(ordered, Decimal(q)) for q in ("0.5", "0.25", "0.75")]
    return [round_half_up(figure, STAT_PLACES) for figure in figures]


def _months(days) -> float:
    return float(Decimal(days) / MONTH_DAYS)


def _empty_curve() -> dict:
    return {"months": [], "survival": [], "lower": [], "upper": [], "at_risk": [], "censored": []}


def kaplan_meier(durations_days: list[int], events: list[bool]) -> dict:
    """R8 Kaplan–Meier summary with lifelines; time in months of 30.4375 days.

    ``km[t]`` is the estimate just after all events at or before t months (lifelines'
    right-continuous step), None when t is beyond the longest follow-up. The median
    and its 95 % CI are lifelines' ``median_survival_times`` of the survival function
    and of ``confidence_interval_``; None where not reached (infinite). ``curve`` (an
    addition, for charts) lists every time of the lifelines timeline with the estimate,
    its 95 % bounds, the number at risk just before that time and the number censored
    at it (the charts' censoring marks).
    """
    summary = {
        "n": len(durations_days),
        "events": sum(1 for event in events if event),
        "km": {str(month): None for month in KM_MONTHS},
        "median_months": None,
        "median_ci": [None, None],
        "curve": _empty_curve(),
    }
    if not durations_days:
        return summary
    kmf = KaplanMeierFitter()
    kmf.fit([_months(days) for days in durations_days], event_observed=list(events))
    longest = max(durations_days)
    for month in KM_MONTHS:
        if Decimal(month) * MONTH_DAYS > longest:
            continue  # beyond the longest follow-up: null
        value = float(kmf.survival_function_at_times([float(month)]).iloc[0])
        summary["km"][str(month)] = round_half_up(value, SURVIVAL_PLACES)
    # Cleaned to 12 decimals so an exact 0.5 (computed as 0.5000000000000001) is
    # reached, as the hand computation says it is.
    median = median_survival_times(kmf.survival_function_.round(12))
    summary["median_months"] = round_half_up(float(median), STAT_PLACES)
    interval = median_survival_times(kmf.confidence_interval_.round(12))
    summary["median_ci"] = [round_half_up(float(v), STAT_PLACES) for v in interval.iloc[0].tolist()]
    timeline = kmf.survival_function_.index
    bounds = kmf.confidence_interval_.reindex(timeline)
    counts = kmf.event_table.reindex(timeline)
    summary["curve"] = {
        "months": [round_half_up(float(t), STAT_PLACES) for t in timeline],
        "survival": [round_half_up(float(v), SURVIVAL_PLACES) for v in kmf.survival_function_.iloc[:, 0]],
        "lower": [round_half_up(float(v), SURVIVAL_PLACES) for v in bounds.iloc[:, 0]],
        "upper": [round_half_up(float(v), SURVIVAL_PLACES) for v in bounds.iloc[:, 1]],
        "at_risk": [None if math.isnan(v) else int(v) for v in counts["at_risk"].astype(float)],
        "censored": [0 if math.isnan(v) else int(v) for v in counts["censored"].astype(float)],
    }
    return summary
