"""Pure R3.5 thalidomide dose-change check (clinical-rules.md R3.5).

Every thalidomide dose change (and the first dose) is classified (R3.1,
``therapy.rules.doses.classify_change``) and checked against R3.2–R3.4 and R5
with the data as of its date; each violation is a stable deviation code
(``DEVIATION_CODES``), warnings are listed beside them.

The check is a sequence of small named checks, one per deviation code or warning
(``_CHECKS``), each returning the findings it raises; the driver
``check_thalidomide_change`` classifies the row and composes them.

No Django imports and no clock: plain values in, findings carrying the rule id and
a plain-language reason with the numbers out. Records dated after the row are
ignored.

Readings chosen where the spec is open are marked "Ambiguity" below; each is the
reading safest for the patient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property, partial

from thalimon.said import Said, join, say
from therapy.rules.doses import (
    MIN_DAYS_BETWEEN_CHANGES,
    ChangeKind,
    DoseRow,
    Finding,
    classify_change,
    course_start_of,
    dose_changes,
    dose_of,
    fmt,
    is_multiple,
    plural,
    rows_until,
)
from therapy.rules.pregnancy import (
    breastfeeding_record,
    check_sex,
    contraception_shortfall,
    pregnancy_coverage,
    tests_until,
    unresolved_positive,
)
from therapy.rules.thalidomide import (
    ADULT,
    ADULT_DOSE_MULTIPLE_MG,
    ADULT_MAX_MG,
    ADULT_MAX_STEP_MG,
    ADULT_START_MG,
    ADULT_TARGET_RANGE_MG,
    NEUROPATHY_ADULT_DOSE_LIMIT_MG,
    NEUROPATHY_STOP_GRADE,
    PAEDIATRIC_ABSOLUTE_MAX_MG,
    PAEDIATRIC_DOSE_MULTIPLE_MG,
    PAEDIATRIC_MAX_STEP_MG,
    PAEDIATRIC_START_MAX_MG,
    ThalidomidePatient,
    check_regimen,
    latest_neuropathy_grade,
    neuropathy_visit_date,
    paediatric_cap,
    paediatric_cap_text,
    pregnancy_rules_apply_to,
    target_under_cap,
)

# ---------------------------------------------------------------------------
# Codes and result
# ---------------------------------------------------------------------------

# R3.5 deviation codes, in the table's order (results are listed in this order).
DEVIATION_CODES = (
    "start_dose_not_25",
    "start_dose_too_high",
    "dose_not_in_steps",
    "step_too_large",
    "step_too_soon",
    "above_max_dose",
    "step_up_during_neuropathy",
    "dose_above_neuropathy_limit",
    "continued_despite_grade3_neuropathy",
    "no_valid_pregnancy_test",
    "dosed_after_positive_pregnancy_test",
    "contraception_not_established",
    "breastfeeding",
)
URGENT_CODES = ("continued_despite_grade3_neuropathy", "dosed_after_positive_pregnancy_test")


@dataclass(frozen=True)
class DoseCheck:
    kind: str
    deviations: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    previous_dose_mg: Decimal | None
    days_since_previous_change: int | None
    # Additions: the row judged, and a plain-language summary.
    row: DoseRow | None = None
    rule: str = "R3.5"
    reason: Said | str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(finding.code for finding in self.deviations)

    @property
    def urgent(self) -> bool:
        return any(finding.urgent for finding in self.deviations)


# ---------------------------------------------------------------------------
# R3.5 dose-change check: the row judged and its schedule
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Schedule:
    """R3.2 / R3.3 limits for the row: rule id, paediatric cap and the maximum dose."""

    rule: str  # "R3.2" (adult) | "R3.3" (paediatric)
    max_dose: Decimal | None  # None: no step fits under the paediatric cap
    cap: Decimal | None = None
    cap_warning: Finding | None = None
    cap_text: Said | str = ""

    @property
    def no_step(self) -> bool:
        return self.cap_warning is not None and self.cap_warning.code == "no_step_under_cap"


def _schedule(patient: ThalidomidePatient, regimen: str, on: date) -> _Schedule:
    if regimen == ADULT:
        return _Schedule(rule="R3.2", max_dose=ADULT_MAX_MG)
    cap, cap_warning = paediatric_cap(patient, on)
    if cap is not None:
        cap_text, max_dose = paediatric_cap_text(patient, on, cap), cap
    elif cap_warning.code == "weight_missing":
        # Ambiguity: without a weight at most 30 days old the cap cannot be set; the
        # limits that hold whatever the weight are still applied (no paediatric dose
        # above 50 mg, no start above 25 mg) and weight_missing warns the clinician.
        cap_text = say(
            "no cap could be set (no weight at most 30 days old); whatever the weight, "
            "no paediatric dose is above 50 mg"
        )
        max_dose = PAEDIATRIC_ABSOLUTE_MAX_MG
    else:
        cap_text = say("no step fits under the cap (weight below 6.25 kg)")
        max_dose = None  # every dose is above the cap
    return _Schedule(
        rule="R3.3", max_dose=max_dose, cap=cap, cap_warning=cap_warning, cap_text=cap_text
    )


@dataclass(frozen=True)
class _Change:
    """One non-zero thalidomide row being judged, with the facts every R3.5 check reads."""

    patient: ThalidomidePatient
    regimen: str
    prior: list[DoseRow]  # rows dated before the row, in date order
    on: date
    dose: Decimal
    kind: str
    reference: Decimal | None  # the dose the step is measured from (R3.1)
    description: Said
    previous_change: DoseRow | None
    days_since: int | None
    schedule: _Schedule

    @property
    def adult(self) -> bool:
        return self.regimen == ADULT

    @property
    def is_start(self) -> bool:
        return self.kind in (ChangeKind.FIRST_DOSE, ChangeKind.RESTART)

    @cached_property
    def start(self) -> date:
        return self.on if self.is_start else course_start_of(self.prior)

    @property
    def step(self) -> Decimal | None:
        return self.dose - self.reference if self.kind == ChangeKind.INCREASE else None

    @property
    def steps_up(self) -> bool:
        return self.step is not None and self.step > 0

    @property
    def change_text(self) -> Said:
        day = (self.on - self.start).days
        if self.kind == ChangeKind.INCREASE:
            return say(
                "Increase from %(previous)s to %(dose)s mg on day %(day)s",
                previous=fmt(self.reference),
                dose=fmt(self.dose),
                day=day,
            )
        return say(
            "%(dose)s mg on %(date)s (day %(day)s)", dose=fmt(self.dose), date=self.on, day=day
        )

    @property
    def dose_text(self) -> Said:
        return say("%(dose)s mg on %(date)s", dose=fmt(self.dose), date=self.on)

    @cached_property
    def grade(self) -> int | None:
        return latest_neuropathy_grade(self.patient, self.on)

    @property
    def grade_text(self) -> Said:
        return say(
            "latest neuropathy grade %(grade)s (clinic visit of %(date)s)",
            grade=self.grade,
            date=neuropathy_visit_date(self.patient, self.on),
        )


def _deviation(code: str, rule: str, reason: Said) -> list[Finding]:
    return [Finding(code=code, rule=rule, reason=reason, urgent=code in URGENT_CODES)]


def _warning(code: str, rule: str, reason: Said) -> list[Finding]:
    return [Finding(code=code, rule=rule, reason=reason)]


# ---------------------------------------------------------------------------
# R3.5 checks — R3.2 / R3.3 schedule
# ---------------------------------------------------------------------------


def _warn_paediatric_cap(c: _Change) -> list[Finding]:
    """R3.3: weight_missing, no_step_under_cap or no_step_in_target_range."""
    return [c.schedule.cap_warning] if c.schedule.cap_warning is not None else []


def _check_adult_start_dose(c: _Change) -> list[Finding]:
    """start_dose_not_25 (R3.2)."""
    if not c.adult or not c.is_start or c.dose == ADULT_START_MG:
        return []
    reason = say(
        "%(description)s: an adult course starts at %(start)s mg/day, not %(dose)s mg (R3.2).",
        description=c.description,
        start=fmt(ADULT_START_MG),
        dose=fmt(c.dose),
    )
    return _deviation("start_dose_not_25", "R3.2", reason)


def _check_paediatric_start_dose(c: _Change) -> list[Finding]:
    """start_dose_too_high (R3.3): a start above min(25 mg, cap), or none possible."""
    if c.adult or not c.is_start:
        return []
    cap = c.schedule.cap
    start_limit = PAEDIATRIC_START_MAX_MG if cap is None else min(PAEDIATRIC_START_MAX_MG, cap)
    if c.schedule.no_step:
        reason = say(
            "%(description)s: no paediatric start is possible, %(cap)s (R3.3).",
            description=c.description,
            cap=c.schedule.cap_text,
        )
    elif c.dose > start_limit:
        reason = say(
            "%(description)s: a paediatric course starts at no more than min(25 mg, cap) "
            "= %(limit)s mg; %(cap)s (R3.3).",
            description=c.description,
            limit=fmt(start_limit),
            cap=c.schedule.cap_text,
        )
    else:
        return []
    return _deviation("start_dose_too_high", "R3.3", reason)


def _check_dose_in_steps(c: _Change) -> list[Finding]:
    """dose_not_in_steps: multiples of 25 mg (adult, R3.2) or 12.5 mg (paediatric, R3.3)."""
    if c.adult and not is_multiple(c.dose, ADULT_DOSE_MULTIPLE_MG):
        reason = say(
            "%(dose)s is not a multiple of 25 mg; adult doses are multiples of 25 mg (R3.2).",
            dose=c.dose_text,
        )
        return _deviation("dose_not_in_steps", "R3.2", reason)
    if not c.adult and not is_multiple(c.dose, PAEDIATRIC_DOSE_MULTIPLE_MG):
        reason = say(
            "%(dose)s is not a multiple of 12.5 mg; paediatric doses are half-tablet "
            "steps of 12.5 mg (R3.3).",
            dose=c.dose_text,
        )
        return _deviation("dose_not_in_steps", "R3.3", reason)
    return []


def _check_step_size(c: _Change) -> list[Finding]:
    """step_too_large: an increase above 50 mg (adult, R3.2) or 25 mg (paediatric, R3.3)."""
    if not c.steps_up:
        return []
    if c.adult and c.step > ADULT_MAX_STEP_MG:
        reason = say(
            "%(change)s is a step of %(step)s mg; adult increases are 25 or 50 mg, "
            "never above %(max)s mg (R3.2).",
            change=c.change_text,
            step=fmt(c.step),
            max=fmt(ADULT_MAX_STEP_MG),
        )
        return _deviation("step_too_large", "R3.2", reason)
    if not c.adult and c.step > PAEDIATRIC_MAX_STEP_MG:
        reason = say(
            "%(change)s is a step of %(step)s mg; paediatric increases are 12.5 or "
            "25 mg, never above %(max)s mg (R3.3).",
            change=c.change_text,
            step=fmt(c.step),
            max=fmt(PAEDIATRIC_MAX_STEP_MG),
        )
        return _deviation("step_too_large", "R3.3", reason)
    return []


def _check_max_dose(c: _Change) -> list[Finding]:
    """above_max_dose: above 100 mg (adult, R3.2) or the paediatric cap (R3.3)."""
    max_dose = c.schedule.max_dose
    if c.adult and c.dose > max_dose:
        reason = say(
            "%(dose)s is above the adult maximum of %(max)s mg/day (R3.2).",
            dose=c.dose_text,
            max=fmt(ADULT_MAX_MG),
        )
        return _deviation("above_max_dose", "R3.2", reason)
    if not c.adult and (max_dose is None or c.dose > max_dose):
        reason = say(
            "%(dose)s is above the paediatric cap: %(cap)s (R3.3).",
            dose=c.dose_text,
            cap=c.schedule.cap_text,
        )
        return _deviation("above_max_dose", "R3.3", reason)
    return []


def _warn_target_out_of_range(c: _Change) -> list[Finding]:
    """target_dose_out_of_range (R3.2): an adult target outside 50–100 mg/day."""
    recorded_target = c.patient.target_dose_mg
    if not c.adult or recorded_target is None:
        return []
    if ADULT_TARGET_RANGE_MG[0] <= dose_of(recorded_target) <= ADULT_TARGET_RANGE_MG[1]:
        return []
    reason = say(
        "Recorded target %(target)s mg/day is outside the adult range of "
        "50–100 mg/day; at most 100 mg/day is used (R3.2).",
        target=fmt(recorded_target),
    )
    return _warning("target_dose_out_of_range", "R3.2", reason)


def _check_step_interval(c: _Change) -> list[Finding]:
    """step_too_soon: an increase less than 14 days after the previous change (R3.2/R3.3)."""
    if not c.steps_up or c.days_since is None or c.days_since >= MIN_DAYS_BETWEEN_CHANGES:
        return []
    rule = c.schedule.rule
    reason = say(
        "%(change)s, %(days)s after the previous change on %(date)s; steps need at least "
        "%(min)s days (%(rule)s).",
        change=c.change_text,
        days=plural(c.days_since, "day"),
        date=c.previous_change.date,
        min=MIN_DAYS_BETWEEN_CHANGES,
        rule=rule,
    )
    return _deviation("step_too_soon", rule, reason)


# ---------------------------------------------------------------------------
# R3.5 checks — R3.4 neuropathy
# ---------------------------------------------------------------------------


def _check_step_up_during_neuropathy(c: _Change) -> list[Finding]:
    """step_up_during_neuropathy (R3.4): an increase at latest grade ≥ 1."""
    grade = c.grade
    if not c.steps_up or grade is None or grade < 1:
        return []
    reason = say(
        "%(change)s while the %(grade)s is ≥ 1; no increase until neuropathy "
        "resolves to grade 0 (R3.4).",
        change=c.change_text,
        grade=c.grade_text,
    )
    return _deviation("step_up_during_neuropathy", "R3.4", reason)


def _warn_neuropathy_not_assessed(c: _Change) -> list[Finding]:
    """neuropathy_not_assessed (R3.4): an increase with no grade recorded."""
    if not c.steps_up or c.grade is not None:
        return []
    reason = say(
        "%(change)s: no neuropathy grade recorded on or before %(date)s; "
        "grade it before stepping up (R3.4).",
        change=c.change_text,
        date=c.on,
    )
    return _warning("neuropathy_not_assessed", "R3.4", reason)


def _check_neuropathy_dose_limit(c: _Change) -> list[Finding]:
    """dose_above_neuropathy_limit (R3.4): an adult dose above 50 mg at grade ≥ 1."""
    grade = c.grade
    if not c.adult or grade is None or grade < 1 or c.dose <= NEUROPATHY_ADULT_DOSE_LIMIT_MG:
        return []
    reason = say(
        "%(dose)s with the %(grade)s: the adult dose must be ≤ %(limit)s mg/day while "
        "neuropathy is unresolved (R3.4).",
        dose=c.dose_text,
        grade=c.grade_text,
        limit=fmt(NEUROPATHY_ADULT_DOSE_LIMIT_MG),
    )
    return _deviation("dose_above_neuropathy_limit", "R3.4", reason)


def _check_grade3_neuropathy(c: _Change) -> list[Finding]:
    """continued_despite_grade3_neuropathy (R3.4, urgent): any dose at grade ≥ 3."""
    if c.grade is None or c.grade < NEUROPATHY_STOP_GRADE:
        return []
    reason = say(
        "%(dose)s with the %(grade)s: at grade ≥ 3 thalidomide must be stopped (R3.4).",
        dose=c.dose_text,
        grade=c.grade_text,
    )
    return _deviation("continued_despite_grade3_neuropathy", "R3.4", reason)


# ---------------------------------------------------------------------------
# R3.5 checks — R5 pregnancy prevention
# ---------------------------------------------------------------------------

_TESTED_KINDS = (
    ChangeKind.FIRST_DOSE,
    ChangeKind.RESTART,
    ChangeKind.INCREASE,
    ChangeKind.CONTINUATION,
)


def _check_pregnancy_test(c: _Change) -> list[Finding]:
    """no_valid_pregnancy_test (R5.2): a start, increase or continuation not covered."""
    if not pregnancy_rules_apply_to(c.patient) or c.kind not in _TESTED_KINDS:
        return []
    coverage = pregnancy_coverage(
        tests=c.patient.pregnancy_tests,
        start=c.start,
        on=c.on,
        irregular_cycles=c.patient.irregular_cycles,
        first_dose_or_restart=c.is_start,
    )
    if coverage.covered:
        return []
    reason = say(
        "%(description)s. %(coverage)s", description=c.description, coverage=coverage.reason
    )
    return _deviation("no_valid_pregnancy_test", "R5.2", reason)


def _check_positive_pregnancy_test(c: _Change) -> list[Finding]:
    """dosed_after_positive_pregnancy_test (R5.2, urgent).

    Ambiguity: a recorded positive test counts for ANY patient, whatever the record
    says about sex or reproductive potential (R5.1: the rules are still shown).
    """
    positive = unresolved_positive(tests_until(c.patient.pregnancy_tests, c.on))
    if positive is None:
        return []
    reason = say(
        "%(dose)s after the positive pregnancy test of %(date)s with no later "
        "negative test: thalidomide must stop at once (R5.2).",
        dose=c.dose_text,
        date=positive,
    )
    return _deviation("dosed_after_positive_pregnancy_test", "R5.2", reason)


def _check_contraception(c: _Change) -> list[Finding]:
    """contraception_not_established (R5.3): a first dose or restart within 28 days.

    Ambiguity: the code names the first dose; a restart is checked as a new start,
    so it is judged too. No recorded contraception start counts as not established.
    """
    if not pregnancy_rules_apply_to(c.patient) or not c.is_start:
        return []
    shortfall = contraception_shortfall(c.patient.contraception_start, c.on)
    if shortfall is None:
        return []
    reason = say("%(description)s: %(shortfall)s", description=c.description, shortfall=shortfall)
    return _deviation("contraception_not_established", "R5.3", reason)


def _check_breastfeeding(c: _Change) -> list[Finding]:
    """breastfeeding (R5.1): any dose while breast-feeding is recorded."""
    feeding = breastfeeding_record(c.patient.breastfeeding, c.on)
    if feeding is None or not feeding[1]:
        return []
    reason = say(
        "%(dose)s while breast-feeding is recorded (visit of %(date)s); "
        "breast-feeding refuses start and continuation (R5.1).",
        dose=c.dose_text,
        date=feeding[0],
    )
    return _deviation("breastfeeding", "R5.1", reason)


def _warn_above_target(c: _Change) -> list[Finding]:
    """above_target_dose (R3.1): a warning, not a deviation."""
    target = target_under_cap(c.patient, c.schedule.cap)
    if target is None or c.dose <= target:
        return []
    reason = say(
        "%(dose)s is above the patient's target of %(target)s mg/day (R3.1).",
        dose=c.dose_text,
        target=fmt(target),
    )
    return _warning("above_target_dose", "R3.1", reason)


# In the order they are evaluated (the order of the original single function, so a
# record with several invalid values raises the same error). Deviations are then
# listed in DEVIATION_CODES order; warnings in this order.
_CHECKS: tuple[Callable[[_Change], list[Finding]], ...] = (
    _warn_paediatric_cap,
    _check_adult_start_dose,
    _check_paediatric_start_dose,
    _check_dose_in_steps,
    _check_step_size,
    _check_max_dose,
    _warn_target_out_of_range,
    _check_step_interval,
    _check_step_up_during_neuropathy,
    _warn_neuropathy_not_assessed,
    _check_neuropathy_dose_limit,
    _check_grade3_neuropathy,
    _check_pregnancy_test,
    _check_positive_pregnancy_test,
    _check_contraception,
    _check_breastfeeding,
    _warn_above_target,
)


def _summary(c: _Change, deviations: list[Finding]) -> Said:
    if deviations:
        return say(
            "%(description)s: %(codes)s (R3.5).",
            description=c.description,
            codes=join([finding.code for finding in deviations], ", "),
        )
    if c.kind == ChangeKind.DECREASE:
        return say(
            "%(description)s: decreases are always allowed (%(rule)s); no deviation (R3.5).",
            description=c.description,
            rule=c.schedule.rule,
        )
    return say("%(description)s: no deviation (R3.5).", description=c.description)


def check_thalidomide_change(
    *, patient: ThalidomidePatient, history: Iterable[DoseRow], proposed: DoseRow
) -> DoseCheck:
    """R3.5: classify one thalidomide row (R3.1) and list every deviation code that applies.

    ``history`` holds the existing thalidomide rows in any order; rows dated on or
    after ``proposed.date`` are ignored, as is every record of ``patient`` dated after it.

    Which codes can apply to which kind (reading of R3.2–R3.5, safest for the patient):

    * the schedule codes (start_dose_*, step_too_large, step_too_soon,
      step_up_during_neuropathy) judge starts, restarts and increases only:
      decreases and stops are always allowed by R3.2 and a continuation is not a change;
    * no_valid_pregnancy_test: first dose, restart, increase and continuation (R3.5);
    * contraception_not_established: first dose and restart (a restart more than
      28 days after a stop is checked as a new start);
    * the codes R3.5 defines on the dose itself — dose_not_in_steps, above_max_dose,
      dose_above_neuropathy_limit, continued_despite_grade3_neuropathy,
      dosed_after_positive_pregnancy_test, breastfeeding — apply to EVERY non-zero row,
      decreases and continuations included: a decrease to 75 mg at neuropathy grade 1,
      or to any dose at grade 3, after a positive pregnancy test or while breast-feeding,
      still leaves the patient on a dose R3.4/R5 forbid;
    * a stop (0 mg) never deviates.
    """
    regimen = check_regimen(patient.regimen)
    check_sex(patient.sex)
    proposed = DoseRow(date=proposed.date, dose_mg=dose_of(proposed.dose_mg))
    prior = rows_until(history, on=proposed.date, inclusive=False)
    kind, reference, description = classify_change(prior, proposed)
    changes = dose_changes(prior)
    previous_change = changes[-1] if changes else None
    days_since = (proposed.date - previous_change.date).days if previous_change else None
    result = partial(
        DoseCheck,
        kind=kind,
        previous_dose_mg=None if kind == ChangeKind.FIRST_DOSE else reference,
        days_since_previous_change=days_since,
        row=proposed,
    )
    if proposed.dose_mg == 0:
        reason = say("%(description)s: stops are always allowed (R3.2).", description=description)
        return result(deviations=(), warnings=(), reason=reason)
    change = _Change(
        patient=patient,
        regimen=regimen,
        prior=prior,
        on=proposed.date,
        dose=proposed.dose_mg,
        kind=kind,
        reference=reference,
        description=description,
        previous_change=previous_change,
        days_since=days_since,
        schedule=_schedule(patient, regimen, proposed.date),
    )
    findings = [finding for check in _CHECKS for finding in check(change)]
    deviations = sorted(
        (finding for finding in findings if finding.code in DEVIATION_CODES),
        key=lambda finding: DEVIATION_CODES.index(finding.code),
    )
    warnings = tuple(finding for finding in findings if finding.code not in DEVIATION_CODES)
    return result(
        deviations=tuple(deviations), warnings=warnings, reason=_summary(change, deviations)
    )


def check_thalidomide_history(
    *, patient: ThalidomidePatient, history: Iterable[DoseRow]
) -> list[DoseCheck]:
    """R3.5 for imports and the cohort report: every row in date order against those before it.

    Historical rows are never refused; the deviations are returned to be stored.
    """
    rows = sorted(history, key=lambda row: row.date)
    return [check_thalidomide_change(patient=patient, history=rows, proposed=row) for row in rows]
