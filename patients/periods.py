"""Pure: a patient's periods of care at the sites of a network (issue 18).

A patient belongs to one site at a time; each transfer ends one site's period and starts
the next one's on the transfer date. The first period starts at the patient's first
recorded care (``first_care``: the earlier of the day the record was created and the first
visit). No Django, no clock: callers pass plain values.
"""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Move:
    """One transfer: site codes and the day the destination took over."""

    from_site: str
    to_site: str
    date: date


@dataclass(frozen=True)
class Period:
    """One site's period: ``end`` None for the site treating the patient now."""

    site: str
    start: date | None
    end: date | None


def first_care(created_on: date | None, first_visit: date | None) -> date | None:
    """The patient's first recorded care: the earlier of the record's creation and the first
    visit (a patient imported with past visits was treated before the record was made)."""
    days = [day for day in (created_on, first_visit) if day is not None]
    return min(days) if days else None


def care_periods(*, current_site: str, first_care: date | None, moves: list[Move]) -> list[Period]:
    """The periods of care, oldest first: one per site stay, the last one open.

    ``moves`` are the patient's transfers in the order they were recorded (date, then
    entry). Without a transfer the current site has the one period. A start is never after
    its end: a first care later than the first transfer (not accepted by the transfer
    action, possible in older data) starts the first period on the transfer date. The open
    period is the current site's (``Patient.site``), whatever the last move says."""
    if not moves:
        return [Period(current_site, first_care, None)]
    periods = []
    start = first_care
    for move in sorted(moves, key=lambda m: m.date):
        if start is not None and start > move.date:
            start = move.date
        periods.append(Period(move.from_site, start, move.date))
        start = move.date
    periods.append(Period(current_site, start, None))
    return periods
