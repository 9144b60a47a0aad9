"""Pure thalidomide prescription rules under a pregnancy-prevention programme (clinical-rules.md R9).

R9.3 (the violation codes of a prescription) and R9.4 (the run-out date and the
R7 ``prescription_due`` reminder). The R9.1/R9.2 facts (programme profile, risk
category, dispense-by date, void, quantity, course of a prescription) are in
``therapy.rules.prescription_profile`` and re-exported here: other apps import
this module only.

No Django imports and no clock: plain values in (frozen dataclasses, ``Decimal``
doses, explicit dates), results carrying the rule id and a plain-language reason
with the numbers and dates out. Every check uses the records dated on or before
the issue date, except where R9 says otherwise (the course start and the dose
looked up to 7 days after the issue date; ``dispensed_too_late``, which uses the
dispensed date).

Readings chosen where the spec is open are marked "Ambiguity" below; each is the
reading safest for the patient:

* Void (R9.1): a prescription with no dispensed date on or before the day judged
  (the issue date of the prescription checked, or ``as_of``) is void from the day
  after its dispense-by date. One dispensed late is not void from its dispensed
  date on (the patient has the tablets): it counts for the ``early_repeat`` of a
  prescription issued on or after that date and for the run-out date from then.
  Before that date its dispensing is a record dated after the day judged, which
  R9.1 ("every check uses the records dated on or before the issue date") and the
  Conventions (records after ``as_of`` are ignored) leave out: on such a day it is
  void, so a check's result never changes when a late dispensing is recorded
  after its issue date.
* Ambiguity (``start_not_covered``): judged against the COURSE START, as R3.5
  would judge the course's first dose (the two R5.2 pre-start tests dated
  relative to the start, contraception from at least 28 days before the start),
  but only with the records dated on or before the ISSUE date. A prescription
  for a woman of reproductive potential issued before day −1 of the course can
  therefore not be covered yet (the day −1/0 test cannot exist): the tablets
  would be in her hands before the last pre-start test. Breast-feeding counts
  when the latest record on or before the course start (or the issue date, if
  earlier) says yes, or the latest record on or before the issue date does. A
  prescription with no course starting by issue + 7 days is judged as a start on
  its issue date.
* Ambiguity ("the course's first prescription"): the first one of its course
  among the prescriptions not void on its issue date; an earlier one that became
  void does not count, so the next one is judged as the first again.
* Ambiguity (``dose_not_dispensable``): judged on the DAILY dose, which must be a
  multiple of the unit strength (of half of it where halves are allowed); a
  total that happens to come to whole units does not make a daily dose the
  patient cannot take each day dispensable. The quantity is then daily dose ×
  days ÷ unit strength, exact (it may end in a half unit).
* Ambiguity (``positive_test_unresolved``): a recorded positive test counts for
  ANY patient, whatever the record says about sex or reproductive potential (as
  R3.5's ``dosed_after_positive_pregnancy_test``); a negative test the same day
  does not clear it.
* Ambiguity (risk category): the category follows the patient's current record
  of sex and reproductive potential (no dated history of it is kept). Under
  ``us_rems`` with no birth date the printed category says "age unknown".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from therapy.rules.doses import (
    DoseRow,
    Finding,
    clause,
    course_start_of,
    course_starts_of,
    dose_of,
    fmt,
    iso,
    plural,
    rows_until,
)
from therapy.rules.pregnancy import (
    breastfeeding_record,
    contraception_shortfall,
    pre_start_tests_ok,
    tests_until,
    unresolved_positive,
)
from therapy.rules.prescription_profile import (
    CATEGORY_TEXTS,
    COURSE_LEAD_DAYS,
    EU_PPP,
    FEMALE_NOT_REPRODUCTIVE_POTENTIAL,
    FEMALE_REPRODUCTIVE_POTENTIAL,
    MALE,
    PROFILES,
    PROGRAMME_TEXTS,
    PROGRAMMES,
    REMS_ADULT_FROM_AGE,
    RISK_CATEGORIES,
    US_REMS,
    PrescriptionRow,
    Programme,
    age_on,
    all_rows,
    category_patient,
    category_text,
    course_of_issue,
    course_prescriptions,
    days_of,
    dispense_by_date,
    dose_step,
    first_day_without,
    is_void,
    max_days_supply,
    programme,
    quantity_units,
    risk_category,
    supply_start,
)
from therapy.rules.thalidomide import ThalidomidePatient

__all__ = [
    "CATEGORY_TEXTS",
    "COURSE_LEAD_DAYS",
    "EU_PPP",
    "FEMALE_NOT_REPRODUCTIVE_POTENTIAL",
    "FEMALE_REPRODUCTIVE_POTENTIAL",
    "MALE",
    "NO_OVERRIDE_CODES",
    "PRESCRIPTION_CODES",
    "PROFILES",
    "PROGRAMMES",
    "PROGRAMME_TEXTS",
    "REMS_ADULT_FROM_AGE",
    "RISK_CATEGORIES",
    "US_REMS",
    "PrescriptionCheck",
    "PrescriptionRow",
    "Programme",
    "age_on",
    "category_patient",
    "category_text",
    "check_prescription",
    "course_of_issue",
    "course_prescriptions",
    "dispense_by_date",
    "dose_step",
    "first_day_without",
    "is_void",
    "max_days_supply",
    "prescription_due",
    "prescription_due_reminder",
    "programme",
    "quantity_units",
    "reference_dose",
    "last_supply",
    "risk_category",
    "run_out_date",
    "run_out_supply",
    "supply_text",
    "DUE_DAYS_BEFORE_RUN_OUT",
    "supply_start",
]

# ---------------------------------------------------------------------------
# Codes and constants (clinical-rules.md R9)
# ---------------------------------------------------------------------------

RULE = "R9.3"
# R9.3 codes, in the table's order (results are always listed in this order).
PRESCRIPTION_CODES = (
    "supply_too_long",
    "no_recent_negative_test",
    "start_not_covered",
    "positive_test_unresolved",
    "dose_mismatch",
    "early_repeat",
    "contraception_not_confirmed",
    "dispensed_too_late",
    "authorisation_missing",
    "dose_not_dispensable",
)
# Never passed by an override in the web form (R9.3).
NO_OVERRIDE_CODES = ("positive_test_unresolved", "dose_not_dispensable")
DOSE_LOOKAHEAD_DAYS = 7  # R9.3 dose_mismatch: the first non-zero row up to issue + 7 days
EARLY_REPEAT_MAX_DAYS_LEFT = 7  # R9.3 early_repeat: more than 7 days of supply left
DUE_DAYS_BEFORE_RUN_OUT = 7  # R9.4: due = run-out date − 7 days


@dataclass(frozen=True)
class PrescriptionCheck:
    risk_category: str  # one of RISK_CATEGORIES
    category_text: str  # printed category; under us_rems with "adult"/"child"
    quantity_units: Decimal | None  # daily dose × days ÷ unit strength; None if not dispensable
    dispense_by: date | None  # None where the profile has none
    course_start: date | None  # the R3.1 course the prescription belongs to (R9.1)
    deviations: tuple[Finding, ...]  # Finding(code, rule="R9.3", reason)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(finding.code for finding in self.deviations)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        """Every deviation: the web form refuses any unless overridden."""
        return self.deviations

    @property
    def overridable(self) -> bool:
        return not any(code in NO_OVERRIDE_CODES for code in self.codes)


# ---------------------------------------------------------------------------
# R9.3 checks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """One prescription being judged, with the facts every R9.3 check reads."""

    patient: ThalidomidePatient
    programme: Programme
    row: PrescriptionRow
    dose: Decimal
    category: str
    rows: list[DoseRow]  # every thalidomide row, in date order
    course_start: date | None
    earlier: list[PrescriptionRow]  # the course's earlier prescriptions, not void
    dispense_by: date | None
    quantity: Decimal | None

    @property
    def issue(self) -> date:
        return self.row.issue_date

    @property
    def category_words(self) -> str:
        return CATEGORY_TEXTS[self.category].lower()


def _finding(code: str, reason: str) -> list[Finding]:
    return [Finding(code=code, rule=RULE, reason=reason)]


def _check_supply(f: _Facts) -> list[Finding]:
    """supply_too_long: days of supply above the R9.1 limit for the category."""
    limit = max_days_supply(f.category, f.programme)
    if f.row.days_supply <= limit:
        return []
    return _finding(
        "supply_too_long",
        f"{plural(f.row.days_supply, 'day')} of supply is more than the {limit}-day limit for a "
        f"{f.category_words} patient under {f.programme.text} (R9.3).",
    )


def _check_recent_test(f: _Facts) -> list[Finding]:
    """no_recent_negative_test: a woman of reproductive potential, no negative test in the window."""
    if f.category != FEMALE_REPRODUCTIVE_POTENTIAL:
        return []
    window = f.programme.test_window_days
    first = f.issue - timedelta(days=window)
    negatives = [
        when
        for when, result in tests_until(f.patient.pregnancy_tests, f.issue)
        if result == "negative"
    ]
    if any(when >= first for when in negatives):
        return []
    latest = (
        f"the latest negative test is of {iso(negatives[-1])}"
        if negatives
        else "no negative test is recorded"
    )
    return _finding(
        "no_recent_negative_test",
        f"No negative pregnancy test dated {iso(first)} to {iso(f.issue)} (the issue date and the "
        f"{window} days before it, {f.programme.text}); {latest} (R9.3).",
    )


def _breastfeeding_problem(f: _Facts, start: date) -> str | None:
    for on in dict.fromkeys((min(start, f.issue), f.issue)):
        feeding = breastfeeding_record(f.patient.breastfeeding, on)
        if feeding is not None and feeding[1]:
            return f"breast-feeding is recorded (visit of {iso(feeding[0])})"
    return None


def _check_start(f: _Facts) -> list[Finding]:
    """start_not_covered: the course's first prescription while R3.5 would refuse its first dose."""
    if f.earlier:
        return []
    start = f.course_start if f.course_start is not None else f.issue
    problems = []
    if f.category == FEMALE_REPRODUCTIVE_POTENTIAL:
        known_tests = [test for test in f.patient.pregnancy_tests if test.date <= f.issue]
        ok, text = pre_start_tests_ok(known_tests, start)
        if not ok:
            problems.append(
                clause(text, "R5.2") + f" (tests recorded by the issue date {iso(f.issue)})"
            )
        shortfall = contraception_shortfall(f.patient.contraception_start, start)
        if shortfall is not None:
            problems.append(clause(shortfall, "R5.3"))
    feeding = _breastfeeding_problem(f, start)
    if feeding is not None:
        problems.append(feeding)
    if not problems:
        return []
    if f.course_start is None:
        intro = (
            f"First prescription with no thalidomide course starting by "
            f"{iso(f.issue + timedelta(days=COURSE_LEAD_DAYS))}, judged as a start on its issue date"
        )
    else:
        intro = f"First prescription of the course starting {iso(start)}"
    return _finding(
        "start_not_covered",
        f"{intro}: the first dose would be refused (R3.5): {'; '.join(problems)} (R9.3).",
    )


def _check_positive_test(f: _Facts) -> list[Finding]:
    """positive_test_unresolved: a positive test with no later negative test (any patient)."""
    positive = unresolved_positive(tests_until(f.patient.pregnancy_tests, f.issue))
    if positive is None:
        return []
    return _finding(
        "positive_test_unresolved",
        f"The pregnancy test of {iso(positive)} is positive with no later negative test on or before "
        f"{iso(f.issue)}: no thalidomide may be prescribed, and no override can pass this (R9.3).",
    )


def reference_dose(rows: Sequence[DoseRow], issue_date: date) -> tuple[DoseRow | None, str]:
    """R9.3 ``dose_mismatch``: the thalidomide row a prescription's dose must match, and how it
    was chosen: the latest row on or before the issue date; if that is 0 mg or missing, the
    first non-zero row dated issue + 1 … issue + 7 days; else None."""
    rows = all_rows(rows)
    known = [row for row in rows if row.date <= issue_date]
    if known and known[-1].dose_mg > 0:
        latest = known[-1]
        return (
            latest,
            f"the thalidomide dose in force on {iso(issue_date)} is {fmt(latest.dose_mg)} mg/day (from {iso(latest.date)})",
        )
    until = issue_date + timedelta(days=DOSE_LOOKAHEAD_DAYS)
    upcoming = [row for row in rows if issue_date < row.date <= until and row.dose_mg > 0]
    if upcoming:
        first = upcoming[0]
        return first, (
            f"no thalidomide is taken on {iso(issue_date)} and the first dose within "
            f"{DOSE_LOOKAHEAD_DAYS} days after it is {fmt(first.dose_mg)} mg/day (from {iso(first.date)})"
        )
    return None, (
        f"no thalidomide dose is in force on {iso(issue_date)} and none is recorded from "
        f"{iso(issue_date + timedelta(days=1))} to {iso(until)}"
    )


def _check_dose(f: _Facts) -> list[Finding]:
    """dose_mismatch: the daily dose differs from the dose rows' (R9.3)."""
    reference, how = reference_dose(f.rows, f.issue)
    if reference is not None and reference.dose_mg == f.dose:
        return []
    return _finding("dose_mismatch", f"Prescribed {fmt(f.dose)} mg/day, but {how} (R9.3).")


def _check_early_repeat(f: _Facts) -> list[Finding]:
    """early_repeat: more than 7 days of an earlier supply of the course left on the issue date."""
    if not f.earlier:
        return []
    latest = last_supply(f.earlier, f.issue)
    until = first_day_without(latest, f.issue)
    days_left = (until - f.issue).days
    if days_left <= EARLY_REPEAT_MAX_DAYS_LEFT:
        return []
    return _finding(
        "early_repeat",
        f"The prescription of {iso(latest.issue_date)} ({supply_text(latest, f.issue)}) lasts up to "
        f"{iso(until - timedelta(days=1))}: {plural(days_left, 'day')} of tablets are left on "
        f"{iso(f.issue)}, more than {EARLY_REPEAT_MAX_DAYS_LEFT}; the next prescription may be issued "
        f"from {iso(until - timedelta(days=EARLY_REPEAT_MAX_DAYS_LEFT))} (R9.3).",
    )


def last_supply(prescriptions: Sequence[PrescriptionRow], on: date) -> PrescriptionRow | None:
    """The prescription whose supply runs out last as seen on ``on`` (the later issue on a tie)."""
    return max(prescriptions, key=lambda p: (first_day_without(p, on), p.issue_date), default=None)


def supply_text(row: PrescriptionRow, on: date) -> str:
    """ "dispensed 2024-01-01, 28 days of supply" (or "issued …" while not dispensed by ``on``)."""
    start = supply_start(row, on)
    started = "dispensed" if start == row.dispensed_date else "issued"
    return f"{started} {iso(start)}, {plural(row.days_supply, 'day')} of supply"


def _check_contraception(f: _Facts) -> list[Finding]:
    """contraception_not_confirmed: a woman of reproductive potential or a man, not confirmed."""
    if f.category == FEMALE_NOT_REPRODUCTIVE_POTENTIAL or f.row.contraception_confirmed:
        return []
    return _finding(
        "contraception_not_confirmed",
        f"Contraception (R5.3) was not confirmed at this prescription; it is asked of every "
        f"{f.category_words} patient at each prescription (R9.3).",
    )


def _check_dispensed_late(f: _Facts) -> list[Finding]:
    """dispensed_too_late: dispensed after the dispense-by date (uses the dispensed date)."""
    dispensed = f.row.dispensed_date
    if dispensed is None or f.dispense_by is None or dispensed <= f.dispense_by:
        return []
    allowed = (f.dispense_by - f.issue).days
    return _finding(
        "dispensed_too_late",
        f"Dispensed on {iso(dispensed)}, {plural((dispensed - f.dispense_by).days, 'day')} after the "
        f"dispense-by date {iso(f.dispense_by)} (issue date + {allowed} days for a "
        f"{f.category_words} patient, {f.programme.text}) (R9.3).",
    )


def _check_authorisation(f: _Facts) -> list[Finding]:
    """authorisation_missing: the profile requires an authorisation number and there is none."""
    if not f.programme.authorisation_required or str(f.row.authorisation or "").strip():
        return []
    return _finding(
        "authorisation_missing",
        f"No authorisation number: every prescription under {f.programme.text} carries one (R9.3).",
    )


def _check_dispensable(f: _Facts) -> list[Finding]:
    """dose_not_dispensable: the daily dose is not a multiple of the unit (or half-unit)."""
    if f.quantity is not None:
        return []
    unit = f.programme.unit_mg
    split = "halves allowed" if f.programme.halves_allowed else "not to be split"
    return _finding(
        "dose_not_dispensable",
        f"{fmt(f.dose)} mg/day cannot be made from {fmt(unit)} mg units ({split}): the daily dose "
        f"must be a multiple of {fmt(dose_step(f.programme))} mg, and no override can pass this (R9.3).",
    )


_CHECKS: tuple[Callable[[_Facts], list[Finding]], ...] = (
    _check_supply,
    _check_recent_test,
    _check_start,
    _check_positive_test,
    _check_dose,
    _check_early_repeat,
    _check_contraception,
    _check_dispensed_late,
    _check_authorisation,
    _check_dispensable,
)


def check_prescription(
    patient: ThalidomidePatient,
    *,
    birth_date: date | None,
    doses: Sequence[DoseRow],
    prescriptions: Sequence[PrescriptionRow],
    row: PrescriptionRow,
    programme: Programme,
) -> PrescriptionCheck:
    """R9.2/R9.3: the risk category, quantity, dispense-by date and every violation code.

    ``doses``: the patient's thalidomide rows (any dates; the course start and the
    dose up to issue + 7 days are read from them). ``prescriptions``: the patient's
    other prescriptions (the check picks those of the same course with an earlier
    issue date that are not void on this issue date). Records dated after the issue
    date are ignored, except the dispensed date for ``dispensed_too_late``.
    """
    if row.dispensed_date is not None and row.dispensed_date < row.issue_date:
        raise ValueError(
            f"dispensed date {iso(row.dispensed_date)} is before the issue date {iso(row.issue_date)}"
        )
    days_of(row.days_supply)
    category = risk_category(patient)
    rows = all_rows(doses)
    starts = course_starts_of(rows)
    course = course_of_issue(starts, row.issue_date)
    facts = _Facts(
        patient=patient,
        programme=programme,
        row=row,
        dose=dose_of(row.dose_mg),
        category=category,
        rows=rows,
        course_start=course,
        earlier=[
            p
            for p in course_prescriptions(
                prescriptions,
                starts=starts,
                course=course,
                category=category,
                programme=programme,
                on=row.issue_date,
            )
            if p.issue_date < row.issue_date
        ],
        dispense_by=dispense_by_date(row.issue_date, category, programme),
        quantity=quantity_units(row.dose_mg, row.days_supply, programme),
    )
    findings = [finding for check in _CHECKS for finding in check(facts)]
    findings.sort(key=lambda finding: PRESCRIPTION_CODES.index(finding.code))
    return PrescriptionCheck(
        risk_category=category,
        category_text=category_text(category, programme, birth_date=birth_date, on=row.issue_date),
        quantity_units=facts.quantity,
        dispense_by=facts.dispense_by,
        course_start=course,
        deviations=tuple(findings),
    )


# ---------------------------------------------------------------------------
# R9.4 run-out date and the R7 prescription_due reminder
# ---------------------------------------------------------------------------


def run_out_supply(
    patient: ThalidomidePatient,
    *,
    doses: Sequence[DoseRow],
    prescriptions: Sequence[PrescriptionRow],
    programme: Programme,
    as_of: date,
) -> PrescriptionRow | None:
    """R9.4: the prescription of the current course, issued on or before ``as_of`` and not
    void, whose supply runs out last. None while thalidomide is not active on ``as_of``
    or before the course's first prescription."""
    rows = all_rows(doses)
    known = rows_until(rows, on=as_of)
    if not known or known[-1].dose_mg <= 0:
        return None
    mine = course_prescriptions(
        prescriptions,
        starts=course_starts_of(rows),
        course=course_start_of(known),
        category=risk_category(patient),
        programme=programme,
        on=as_of,
    )
    return last_supply(mine, as_of)


def run_out_date(
    patient: ThalidomidePatient,
    *,
    birth_date: date | None,
    doses: Sequence[DoseRow],
    prescriptions: Sequence[PrescriptionRow],
    programme: Programme,
    as_of: date,
) -> date | None:
    """R9.4: the latest first day without tablets over the current course's prescriptions
    issued on or before ``as_of``, void ones excluded (``run_out_supply``); None = none.

    ``birth_date`` is not needed here (kept so every R9 function takes the same facts).
    """
    del birth_date
    latest = run_out_supply(
        patient, doses=doses, prescriptions=prescriptions, programme=programme, as_of=as_of
    )
    return None if latest is None else first_day_without(latest, as_of)


def prescription_due_reminder(
    latest: PrescriptionRow | None, as_of: date
) -> tuple[date, str] | None:
    """R7 ``prescription_due`` (R9.4) with its reason, from the ``run_out_supply`` on ``as_of``:
    (run-out date − 7 days, sentence); None = no reminder."""
    if latest is None:
        return None
    run_out = first_day_without(latest, as_of)
    due = run_out - timedelta(days=DUE_DAYS_BEFORE_RUN_OUT)
    return due, (
        f"Prescription due {iso(due)}: the thalidomide tablets of the course run out on "
        f"{iso(run_out)} (the first day without them; prescription of {iso(latest.issue_date)}, "
        f"{supply_text(latest, as_of)}); the next prescription is due "
        f"{DUE_DAYS_BEFORE_RUN_OUT} days before (R9.4) (R7)."
    )


def prescription_due(
    patient: ThalidomidePatient,
    *,
    birth_date: date | None,
    doses: Sequence[DoseRow],
    prescriptions: Sequence[PrescriptionRow],
    programme: Programme,
    as_of: date,
) -> date | None:
    """R7 ``prescription_due`` (R9.4): run-out date − 7 days; None = no reminder."""
    run_out = run_out_date(
        patient,
        birth_date=birth_date,
        doses=doses,
        prescriptions=prescriptions,
        programme=programme,
        as_of=as_of,
    )
    return None if run_out is None else run_out - timedelta(days=DUE_DAYS_BEFORE_RUN_OUT)
