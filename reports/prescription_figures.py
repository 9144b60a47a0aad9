"""R9.5 prescription figures of the cohort report (pure: records and ``as_of`` in).

A prescription counts once issued on or before ``as_of``, with the R9.3 codes stored
when it was checked (as the titration counts the stored R3.5 codes). Every code but
``dispensed_too_late`` rests on records dated on or before the issue date; that one
counts once the dispensing it judges is dated on or before ``as_of``. The in-time share
is over the prescriptions dispensed by then; one with no dispense-by date in the
profile (R9.1) counts as in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reports.statistics import pct
from therapy.rules.prescriptions import PRESCRIPTION_CODES

DISPENSED_TOO_LATE = "dispensed_too_late"  # R9.3: the one code judged on the dispensed date


@dataclass(frozen=True)
class CohortPrescription:
    """A thalidomide prescription (R9) with the R9.3 codes stored when it was checked."""

    issue_date: date
    deviations: tuple[str, ...] = ()
    dispensed_date: date | None = None
    dispense_by: date | None = None  # None where the profile has none (R9.1)
    overridden: bool = False


def issued(rows, as_of: date) -> list[CohortPrescription]:
    """The prescriptions R9.5 counts: issued on or before as_of."""
    return [row for row in rows if row.issue_date <= as_of]


def dispensed_by(row: CohortPrescription, as_of: date) -> bool:
    """Dispensed on or before as_of (a later dispensing is not known yet)."""
    return row.dispensed_date is not None and row.dispensed_date <= as_of


def codes_as_of(row: CohortPrescription, as_of: date) -> tuple[str, ...]:
    """The stored R9.3 codes as they stood on as_of."""
    if dispensed_by(row, as_of):
        return tuple(row.deviations)
    return tuple(code for code in row.deviations if code != DISPENSED_TOO_LATE)


def dispensed_in_time(row: CohortPrescription, as_of: date) -> bool:
    """R9.5: dispensed by as_of and by the dispense-by date (none in the profile: in time)."""
    return dispensed_by(row, as_of) and (row.dispense_by is None or row.dispensed_date <= row.dispense_by)


def prescription_figures(rows, as_of: date) -> dict:
    """The ``prescriptions`` key of interfaces.md §3 over ``rows`` (the cohort's prescriptions).

    Additions (never renames): ``no_deviation``, ``dispensed``, ``dispensed_in_time`` (the
    counts behind the two percentages) and ``overrides`` (saved with an override reason).
    ``deviations`` counts prescriptions per code, every R9.3 code in the table's order.
    """
    counted = issued(rows, as_of)
    deviations = {code: 0 for code in PRESCRIPTION_CODES}
    clean = 0
    for row in counted:
        codes = codes_as_of(row, as_of)
        for code in codes:
            deviations[code] = deviations.get(code, 0) + 1
        clean += not codes
    dispensed = sum(1 for row in counted if dispensed_by(row, as_of))
    in_time = sum(1 for row in counted if dispensed_in_time(row, as_of))
    return {
        "issued": len(counted),
        "deviations": deviations,
        "no_deviation_pct": pct(clean, len(counted)),
        "dispensed_in_time_pct": pct(in_time, dispensed),
        "no_deviation": clean,
        "dispensed": dispensed,
        "dispensed_in_time": in_time,
        "overrides": sum(1 for row in counted if row.overridden),
    }
