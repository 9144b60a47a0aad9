"""Which patients stand behind a count of the cohort report: the drill-down (pure).

A figure key is the dotted JSON path of a count of the report (interfaces.md §3), as the
report tables link it (reports/tables.py): ``induction.response.12.n``,
``relapse_free.events``, ``adverse_events.by_term.rash``, ``titration.deviations.step_too_soon``,
``prescriptions.deviations.early_repeat``. ``figure_members`` gives, per patient code, what
that patient adds to the figure: 1 for a count of patients, the number of events, dose
rows or prescriptions for a count of those. The parts add
up to the report's figure because every criterion is the report's own
(reports/cohort.py: the cohort, the CDAI-based sub-cohort of the all-diagnoses report,
the week-w outcome, the relapse follow-up, the adverse events counted, the withdrawal
row, the dose rows checked); nothing is decided here a second time.

No Django and no clock: plain records and ``as_of`` in, codes out. Who may see which
code is the caller's business (reports/selectors.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from reports.cohort import (
    AE_TERMS,
    INDUCTION_WEEKS,
    NERVOUS_SYSTEM_TERMS,
    WITHDRAWAL_KEYS,
    CohortPatient,
    activity_cohort,
    cohort_events,
    course_as_of,
    dose_rows,
    in_cohort,
    relapse_follow_up,
    week_outcome,
    withdrawal,
)
from reports.prescription_figures import codes_as_of, dispensed_by, dispensed_in_time, issued
from therapy.rules.prescriptions import PRESCRIPTION_CODES
from therapy.rules.thalidomide_check import DEVIATION_CODES
from visits.outcomes import REMISSION, RESPONSE

PATIENTS = "patients"
EVENTS = "events"
DOSE_ROWS = "dose rows"
PRESCRIPTIONS = "prescriptions"
KEY_MAX_LENGTH = 120
KEY_SHAPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")  # dotted JSON path of codes and weeks
WEEK_KEYS = tuple(str(week) for week in INDUCTION_WEEKS)


@dataclass(frozen=True)
class Figure:
    """The patients behind one count: code → what the patient adds (only those adding > 0)."""

    key: str
    unit: str  # PATIENTS | EVENTS | DOSE_ROWS | PRESCRIPTIONS
    crohns_only: bool  # counted over the Crohn's disease patients of an all-diagnoses cohort
    counts: dict[str, int]
    diagnoses: dict[str, str]  # code → diagnosis, for the codes in ``counts``

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def patients(self) -> int:
        return len(self.counts)


@dataclass(frozen=True)
class _Measure:
    unit: str
    activity: bool  # a CDAI-based block: over cohort.activity_cohort
    known: bool  # a key of the fixed vocabulary (an unknown term or code must occur)
    contribution: Callable  # one course → what it adds to the figure


def figure_members(
    patients: list[CohortPatient],
    *,
    key: str,
    as_of: date,
    diagnosis: str,
    remission_below: int,
    response_drop: int,
) -> Figure | None:
    """The patients behind the count ``key`` of the report (same arguments as
    ``cohort_blocks.cohort_report``); None when ``key`` names no count that drills down."""
    measure = _measure(key, as_of, remission_below, response_drop) if is_figure_key(key) else None
    if measure is None:
        return None
    cohort = [course_as_of(p, as_of) for p in patients if in_cohort(p, as_of, diagnosis)]
    scoped = activity_cohort(cohort, diagnosis) if measure.activity else cohort
    counts = {c.patient.code: measure.contribution(c) for c in scoped}
    counts = {code: counts[code] for code in sorted(counts) if counts[code] > 0}
    if not measure.known and not counts:
        return None  # a term or code that neither the vocabulary nor the data has
    diagnoses = {c.patient.code: c.patient.diagnosis for c in scoped if c.patient.code in counts}
    return Figure(key=key, unit=measure.unit, crohns_only=measure.activity and scoped is not cohort,
                  counts=counts, diagnoses=diagnoses)


def is_figure_key(key: str) -> bool:
    """Whether ``key`` has the shape of a drillable count (checked before any data is read;
    a term or a deviation code outside the vocabulary is judged by the data)."""
    if len(key) > KEY_MAX_LENGTH or not KEY_SHAPE.fullmatch(key):
        return False
    return _measure(key, None, 0, 0) is not None


def _measure(key: str, as_of, remission_below: int, response_drop: int) -> _Measure | None:
    """The unit, scope and per-patient contribution of a figure key (None: not a count)."""
    parts = key.split(".")
    match parts:
        case ["induction", ("response" | "remission") as which, week, "n"] if week in WEEK_KEYS:
            wanted = (RESPONSE, REMISSION) if which == "response" else (REMISSION,)

            def responded(c):
                outcome = week_outcome(c, int(week), as_of, remission_below, response_drop)
                return int(outcome is not None and outcome[1] in wanted)

            return _Measure(PATIENTS, True, True, responded)
        case ["relapse_free", ("n" | "events") as which]:

            def followed(c):
                follow_up = relapse_follow_up(c, as_of, remission_below, response_drop)
                return int(follow_up is not None and (which == "n" or follow_up[1]))

            return _Measure(PATIENTS, True, True, followed)
        case ["adverse_events", *rest]:
            return _adverse_event_measure(rest, as_of)
        case ["titration", *rest]:
            return _titration_measure(rest, as_of)
        case ["prescriptions", *rest]:
            return _prescription_measure(rest, as_of)
    return None


def _adverse_event_measure(rest: list[str], as_of) -> _Measure | None:
    def events(c):
        return cohort_events(c, as_of)

    match rest:
        case ["patients"]:
            return _Measure(PATIENTS, False, True, lambda c: int(bool(events(c))))
        case ["events"]:
            return _Measure(EVENTS, False, True, lambda c: len(events(c)))
        case ["nervous_system_patients"]:
            return _Measure(
                PATIENTS, False, True, lambda c: int(any(e.term in NERVOUS_SYSTEM_TERMS for e in events(c)))
            )
        case ["by_term", term] if term:
            return _Measure(PATIENTS, False, term in AE_TERMS, lambda c: int(any(e.term == term for e in events(c))))
        case [row] if row in WITHDRAWAL_KEYS:  # one Table 4 row: "both" never counts per drug
            return _Measure(EVENTS, False, True, lambda c: sum(1 for e in events(c) if withdrawal(e) == row))
        case ["hospitalised"]:
            return _Measure(EVENTS, False, True, lambda c: sum(1 for e in events(c) if e.hospitalised))
    return None


def _titration_measure(rest: list[str], as_of) -> _Measure | None:
    def rows(c):
        return dose_rows(c, as_of)

    match rest:
        case ["dose_changes"]:
            return _Measure(DOSE_ROWS, False, True, lambda c: len(rows(c)))
        case ["deviations", code] if code:
            return _Measure(
                DOSE_ROWS, False, code in DEVIATION_CODES, lambda c: sum(row.deviations.count(code) for row in rows(c))
            )
        case ["overrides"]:
            return _Measure(DOSE_ROWS, False, True, lambda c: sum(1 for row in rows(c) if row.overridden))
    return None


def _prescription_measure(rest: list[str], as_of) -> _Measure | None:
    def rows(c):
        return issued(c.patient.prescriptions, as_of)

    def counted(test):
        return _Measure(PRESCRIPTIONS, False, True, lambda c: sum(1 for row in rows(c) if test(row)))

    match rest:
        case ["issued"]:
            return counted(lambda row: True)
        case ["deviations", code] if code:
            return _Measure(
                PRESCRIPTIONS, False, code in PRESCRIPTION_CODES,
                lambda c: sum(1 for row in rows(c) if code in codes_as_of(row, as_of)),
            )
        case ["no_deviation"]:
            return counted(lambda row: not codes_as_of(row, as_of))
        case ["dispensed"]:
            return counted(lambda row: dispensed_by(row, as_of))
        case ["dispensed_in_time"]:
            return counted(lambda row: dispensed_in_time(row, as_of))
        case ["overrides"]:
            return counted(lambda row: row.overridden)
    return None
