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

from thalimon.said import Said, join, say
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
    CATEGORY_WORDS,
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
    "CATEGORY_WORDS",
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
    def category_words(self) -> Said:
        return CATEGORY_WORDS[self.category]


def _finding(code: str, reason: Said) -> list[Finding]:
    return [Finding(code=code, rule=RULE, reason=reason)]


def _check_supply(f: _Facts) -> list[Finding]:
    """supply_too_long: days of supply above the R9.1 limit for the category."""
    limit = max_days_supply(f.category, f.programme)
    if f.row.days_supply <= limit:
        return []
    return _finding(
        "supply_too_long",
        say(
            "%(days)s of supply is more than the %(limit)s-day limit for a %(category)s patient "
            "under %(programme)s (R9.3).",
            days=plural(f.row.days_supply, "day"),
            limit=limit,
            category=f.category_words,
            programme=f.programme.text,
        ),
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
        say("the latest negative test is of %(date)s", date=negatives[-1])
        if negatives
        else say("no negative test is recorded")
    )
    return _finding(
        "no_recent_negative_test",
        say(
            "No negative pregnancy test dated %(first)s to %(issue)s (the issue date and the "
            "%(window)s days before it, %(programme)s); %(latest)s (R9.3).",
            first=first,
            issue=f.issue,
            window=window,
            programme=f.programme.text,
            latest=latest,
        ),
    )


def _breastfeeding_problem(f: _Facts, start: date) -> Said | None:
    for on in dict.fromkeys((min(start, f.issue), f.issue)):
        feeding = breastfeeding_record(f.patient.breastfeeding, on)
        if feeding is not None and feeding[1]:
            return say("breast-feeding is recorded (visit of %(date)s)", date=feeding[0])
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
                say(
                    "%(problem)s (tests recorded by the issue date %(issue)s)",
                    problem=clause(text, "R5.2"),
                    issue=f.issue,
                )
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
        reason = say(
            "First prescription with no thalidomide course starting by %(by)s, judged as a start on "
            "its issue date: the first dose would be refused (R3.5): %(problems)s (R9.3).",
            by=f.issue + timedelta(days=COURSE_LEAD_DAYS),
            problems=join(problems, "; "),
        )
    else:
        reason = say(
            "First prescription of the course starting %(start)s: the first dose would be refused "
            "(R3.5): %(problems)s (R9.3).",
            start=start,
            problems=join(problems, "; "),
        )
    return _finding("start_not_covered", reason)


def _check_positive_test(f: _Facts) -> list[Finding]:
    """positive_test_unresolved: a positive test with no later negative test (any patient)."""
    positive = unresolved_positive(tests_until(f.patient.pregnancy_tests, f.issue))
    if positive is None:
        return []
    return _finding(
        "positive_test_unresolved",
        say(
            "The pregnancy test of %(positive)s is positive with no later negative test on or before "
            "%(issue)s: no thalidomide may be prescribed, and no override can pass this (R9.3).",
            positive=positive,
            issue=f.issue,
        ),
    )


def reference_dose(rows: Sequence[DoseRow], issue_date: date) -> tuple[DoseRow | None, Said]:
    """R9.3 ``dose_mismatch``: the thalidomide row a prescription's dose must match, and how it
    was chosen: the latest row on or before the issue date; if that is 0 mg or missing, the
    first non-zero row dated issue + 1 … issue + 7 days; else None."""
    rows = all_rows(rows)
    known = [row for row in rows if row.date <= issue_date]
    if known and known[-1].dose_mg > 0:
        latest = known[-1]
        return (
            latest,
            say(
                "the thalidomide dose in force on %(issue)s is %(dose)s mg/day (from %(date)s)",
                issue=issue_date,
                dose=fmt(latest.dose_mg),
                date=latest.date,
            ),
        )
    until = issue_date + timedelta(days=DOSE_LOOKAHEAD_DAYS)
    upcoming = [row for row in rows if issue_date < row.date <= until and row.dose_mg > 0]
    if upcoming:
        first = upcoming[0]
        return first, say(
            "no thalidomide is taken on %(issue)s and the first dose within %(days)s days after it "
            "is %(dose)s mg/day (from %(date)s)",
            issue=issue_date,
            days=DOSE_LOOKAHEAD_DAYS,
            dose=fmt(first.dose_mg),
            date=first.date,
        )
    return None, say(
        "no thalidomide dose is in force on %(issue)s and none is recorded from %(first)s to "
        "%(last)s",
        issue=issue_date,
        first=issue_date + timedelta(days=1),
        last=until,
    )


def _check_dose(f: _Facts) -> list[Finding]:
    """dose_mismatch: the daily dose differs from the dose rows' (R9.3)."""
    reference, how = reference_dose(f.rows, f.issue)
    if reference is not None and reference.dose_mg == f.dose:
        return []
    return _finding(
        "dose_mismatch", say("Prescribed %(dose)s mg/day, but %(how)s (R9.3).", dose=fmt(f.dose), how=how)
    )


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
        say(
            "The prescription of %(issued)s (%(supply)s) lasts up to %(last)s: %(left)s of tablets are "
            "left on %(issue)s, more than %(most)s; the next prescription may be issued from "
            "%(next)s (R9.3).",
            issued=latest.issue_date,
            supply=supply_text(latest, f.issue),
            last=until - timedelta(days=1),
            left=plural(days_left, "day"),
            issue=f.issue,
            most=EARLY_REPEAT_MAX_DAYS_LEFT,
            next=until - timedelta(days=EARLY_REPEAT_MAX_DAYS_LEFT),
        ),
    )


def last_supply(prescriptions: Sequence[PrescriptionRow], on: date) -> PrescriptionRow | None:
    """The prescription whose supply runs out last as seen on ``on`` (the later issue on a tie)."""
    return max(prescriptions, key=lambda p: (first_day_without(p, on), p.issue_date), default=None)


def supply_text(row: PrescriptionRow, on: date) -> Said:
    """ "dispensed 2024-01-01, 28 days of supply" (or "issued …" while not dispensed by ``on``)."""
    start = supply_start(row, on)
    days = plural(row.days_supply, "day")
    if start == row.dispensed_date:
        return say("dispensed %(date)s, %(days)s of supply", date=start, days=days)
    return say("issued %(date)s, %(days)s of supply", date=start, days=days)


def _check_contraception(f: _Facts) -> list[Finding]:
    """contraception_not_confirmed: a woman of reproductive potential or a man, not confirmed."""
    if f.category == FEMALE_NOT_REPRODUCTIVE_POTENTIAL or f.row.contraception_confirmed:
        return []
    return _finding(
        "contraception_not_confirmed",
        say(
            "Contraception (R5.3) was not confirmed at this prescription; it is asked of every "
            "%(category)s patient at each prescription (R9.3).",
            category=f.category_words,
        ),
    )


def _check_dispensed_late(f: _Facts) -> list[Finding]:
    """dispensed_too_late: dispensed after the dispense-by date (uses the dispensed date)."""
    dispensed = f.row.dispensed_date
    if dispensed is None or f.dispense_by is None or dispensed <= f.dispense_by:
        return []
    allowed = (f.dispense_by - f.issue).days
    return _finding(
        "dispensed_too_late",
        say(
            "Dispensed on %(dispensed)s, %(late)s after the dispense-by date %(by)s (issue date + "
            "%(allowed)s days for a %(category)s patient, %(programme)s) (R9.3).",
            dispensed=dispensed,
            late=plural((dispensed - f.dispense_by).days, "day"),
            by=f.dispense_by,
            allowed=allowed,
            category=f.category_words,
            programme=f.programme.text,
        ),
    )


def _check_authorisation(f: _Facts) -> list[Finding]:
    """authorisation_missing: the profile requires an authorisation number and there is none."""
    if not f.programme.authorisation_required or str(f.row.authorisation or "").strip():
        return []
    return _finding(
        "authorisation_missing",
        say(
            "No authorisation number: every prescription under %(programme)s carries one (R9.3).",
            programme=f.programme.text,
        ),
    )


def _check_dispensable(f: _Facts) -> list[Finding]:
    """dose_not_dispensable: the daily dose is not a multiple of the unit (or half-unit)."""
    if f.quantity is not None:
        return []
    figures = dict(dose=fmt(f.dose), unit=fmt(f.programme.unit_mg), step=fmt(dose_step(f.programme)))
    if f.programme.halves_allowed:
        reason = say(
            "%(dose)s mg/day cannot be made from %(unit)s mg units (halves allowed): the daily dose "
            "must be a multiple of %(step)s mg, and no override can pass this (R9.3).",
            **figures,
        )
    else:
        reason = say(
            "%(dose)s mg/day cannot be made from %(unit)s mg units (not to be split): the daily dose "
            "must be a multiple of %(step)s mg, and no override can pass this (R9.3).",
            **figures,
        )
    return _finding("dose_not_dispensable", reason)


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
) -> tuple[date, Said] | None:
    """R7 ``prescription_due`` (R9.4) with its reason, from the ``run_out_supply`` on ``as_of``:
    (run-out date − 7 days, sentence); None = no reminder."""
    if latest is None:
        return None
    run_out = first_day_without(latest, as_of)
    due = run_out - timedelta(days=DUE_DAYS_BEFORE_RUN_OUT)
    return due, say(
        "Prescription due %(due)s: the thalidomide tablets of the course run out on %(run_out)s "
        "(the first day without them; prescription of %(issued)s, %(supply)s); the next "
        "prescription is due %(days)s days before (R9.4) (R7).",
        due=due,
        run_out=run_out,
        issued=latest.issue_date,
        supply=supply_text(latest, as_of),
        days=DUE_DAYS_BEFORE_RUN_OUT,
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
