"""Pure thalidomide titration rules (clinical-rules.md R3.1–R3.4).

R3.1 (regimen and target dose), R3.2 (adult schedule), R3.3 (paediatric schedule
and cap), R3.4 (neuropathy grade) and the next titration step (R7
``dose_step_due``). The R3.5 dose-change check with its deviation codes is in
``therapy.rules.thalidomide_check``; dose records (R3.1 start, stop, current and
cumulative dose) in ``therapy.rules.doses``; pregnancy prevention (R5) in
``therapy.rules.pregnancy``.

No Django imports and no clock: plain values in (frozen dataclasses, ``Decimal``
doses and weights, explicit dates), results carrying the rule id and a
plain-language reason with the numbers out. Records dated after the date being
judged are ignored everywhere.

Readings chosen where the spec is open are marked "Ambiguity" below; each is the
reading safest for the patient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from thalimon.said import Said, join, say
from therapy.rules.doses import (
    MIN_DAYS_BETWEEN_CHANGES,
    ZERO,
    DoseRow,
    Finding,
    clause,
    course_start_of,
    dose_changes,
    dose_of,
    floor_to,
    fmt,
    iso,
    latest_weight,
    rows_until,
)
from therapy.rules.pregnancy import (
    PregnancyCoverage,
    PregnancyTest,
    breastfeeding_record,
    pregnancy_coverage,
    pregnancy_rules_apply,
    tests_until,
    unresolved_positive,
)

# ---------------------------------------------------------------------------
# Constants (clinical-rules.md defaults)
# ---------------------------------------------------------------------------

ADULT = "adult"
PAEDIATRIC = "paediatric"
REGIMENS = (ADULT, PAEDIATRIC)

# R3.2 adult schedule
ADULT_START_MG = Decimal("25")
ADULT_DOSE_MULTIPLE_MG = Decimal("25")
ADULT_MAX_STEP_MG = Decimal("50")
ADULT_MAX_MG = Decimal("100")
ADULT_DEFAULT_TARGET_MG = Decimal("100")
ADULT_TARGET_RANGE_MG = (Decimal("50"), Decimal("100"))
ADULT_SUGGESTED_STEP_MG = Decimal("25")
# R3.3 paediatric schedule
PAEDIATRIC_STEPS_MG = (Decimal("12.5"), Decimal("25"), Decimal("37.5"), Decimal("50"))
PAEDIATRIC_DOSE_MULTIPLE_MG = Decimal("12.5")
PAEDIATRIC_MAX_STEP_MG = Decimal("25")
PAEDIATRIC_START_MAX_MG = Decimal("25")
PAEDIATRIC_ABSOLUTE_MAX_MG = Decimal("50")
PAEDIATRIC_MG_PER_KG = (Decimal("1"), Decimal("2"))
PAEDIATRIC_WEIGHT_MAX_AGE_DAYS = 30
PAEDIATRIC_SUGGESTED_STEP_MG = Decimal("12.5")
# R3.4 neuropathy
NEUROPATHY_ADULT_DOSE_LIMIT_MG = Decimal("50")
NEUROPATHY_STOP_GRADE = 3

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ThalidomidePatient:
    regimen: str  # "adult" | "paediatric" (effective regimen, R3.1; resolved by the caller)
    target_dose_mg: Decimal | None  # None → adult default 100; paediatric → the cap
    sex: str  # "M" | "F"
    female_of_reproductive_potential: bool
    irregular_cycles: bool | None  # None = unknown = irregular (R5.2)
    contraception_start: date | None
    weights: tuple[tuple[date, Decimal], ...] = ()
    neuropathy: tuple[tuple[date, int], ...] = ()  # (clinic visit date, grade 0–4)
    breastfeeding: tuple[tuple[date, bool], ...] = ()  # (visit date, recorded yes/no)
    pregnancy_tests: tuple[PregnancyTest, ...] = ()


@dataclass(frozen=True)
class StepSuggestion:
    dose_mg: Decimal | None  # None = no step suggested
    allowed_from: date | None
    reason: Said
    rule: str


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def check_regimen(regimen: str) -> str:
    if regimen not in REGIMENS:
        raise ValueError(f"regimen must be one of {', '.join(REGIMENS)}, got {regimen!r}")
    return regimen


def pregnancy_rules_apply_to(patient: ThalidomidePatient) -> bool:
    """R5.2/R5.3 apply to a female of reproductive potential (validates ``sex``)."""
    return pregnancy_rules_apply(
        sex=patient.sex, female_of_reproductive_potential=patient.female_of_reproductive_potential
    )


# ---------------------------------------------------------------------------
# R3.4 neuropathy
# ---------------------------------------------------------------------------


def latest_neuropathy_grade(patient: ThalidomidePatient, on: date) -> int | None:
    """R3.4: the grade of the latest clinic visit on or before ``on``; two the same day → higher."""
    return latest_grade_of(patient.neuropathy, on)


def latest_grade_of(grades: Iterable[tuple[date, int]], on: date) -> int | None:
    """R3.4 on bare (clinic-visit date, grade) pairs: the latest on or before ``on``, two the
    same day → the higher; None when no grade is recorded by then (never grade 0)."""
    recorded = [(when, int(grade)) for when, grade in grades if when <= on]
    for when, grade in recorded:
        if not 0 <= grade <= 4:
            raise ValueError(f"neuropathy grade on {iso(when)} must be 0–4, got {grade}")
    if not recorded:
        return None
    latest = max(when for when, _ in recorded)
    return max(grade for when, grade in recorded if when == latest)


def neuropathy_visit_date(patient: ThalidomidePatient, on: date) -> date | None:
    """The date of the latest clinic visit with a neuropathy grade on or before ``on``."""
    dates = [when for when, _ in patient.neuropathy if when <= on]
    return max(dates) if dates else None


# ---------------------------------------------------------------------------
# R3.3 paediatric cap, R3.1 target
# ---------------------------------------------------------------------------


def paediatric_cap(patient: ThalidomidePatient, on: date) -> tuple[Decimal | None, Finding | None]:
    """R3.3: the largest step of {12.5, 25, 37.5, 50} ≤ min(2 mg/kg × weight, 50).

    The weight must be at most 30 days old on ``on``. Returns (cap, warning):

    * no such weight → (None, ``weight_missing``): the cap cannot be set;
    * weight below 6.25 kg → (None, ``no_step_under_cap``): every dose is above the cap;
    * no step within 1–2 mg/kg (weight above 50 kg) → (cap, ``no_step_in_target_range``);
    * otherwise (cap, None).
    """
    weight = latest_weight(patient.weights, on, PAEDIATRIC_WEIGHT_MAX_AGE_DAYS)
    if weight is None:
        return None, Finding(
            code="weight_missing",
            rule="R3.3",
            reason=say(
                "No weight recorded from %(first)s to %(last)s: the paediatric cap needs a "
                "weight at most %(days)s days old (R3.3).",
                first=on - timedelta(days=PAEDIATRIC_WEIGHT_MAX_AGE_DAYS),
                last=on,
                days=PAEDIATRIC_WEIGHT_MAX_AGE_DAYS,
            ),
        )
    when, kg = weight
    low_per_kg, high_per_kg = PAEDIATRIC_MG_PER_KG
    limit = min(high_per_kg * kg, PAEDIATRIC_ABSOLUTE_MAX_MG)
    fitting = [step for step in PAEDIATRIC_STEPS_MG if step <= limit]
    if not fitting:
        return None, Finding(
            code="no_step_under_cap",
            rule="R3.3",
            reason=say(
                "Weight %(kg)s kg on %(date)s: 2 mg/kg is %(limit)s mg, below the smallest step "
                "of %(step)s mg, so no dose fits under the cap and every dose is above the "
                "maximum (R3.3).",
                kg=fmt(kg),
                date=when,
                limit=fmt(high_per_kg * kg),
                step=fmt(PAEDIATRIC_STEPS_MG[0]),
            ),
        )
    cap = fitting[-1]
    in_range = [step for step in fitting if low_per_kg * kg <= step <= high_per_kg * kg]
    if not in_range:
        return cap, Finding(
            code="no_step_in_target_range",
            rule="R3.3",
            reason=say(
                "Weight %(kg)s kg on %(date)s: no step of 12.5/25/37.5/50 mg lies within "
                "1–2 mg/kg (%(low)s–%(high)s mg); the cap is %(cap)s mg. Flagged for the "
                "clinician (R3.3).",
                kg=fmt(kg),
                date=when,
                low=fmt(low_per_kg * kg),
                high=fmt(high_per_kg * kg),
                cap=fmt(cap),
            ),
        )
    return cap, None


def paediatric_cap_text(patient: ThalidomidePatient, on: date, cap: Decimal) -> Said:
    """How the R3.3 cap was set, with the numbers (for reasons)."""
    when, kg = latest_weight(patient.weights, on, PAEDIATRIC_WEIGHT_MAX_AGE_DAYS)
    limit = min(PAEDIATRIC_MG_PER_KG[1] * kg, PAEDIATRIC_ABSOLUTE_MAX_MG)
    return say(
        "cap %(cap)s mg (largest step ≤ min(2 mg/kg × %(kg)s kg, 50) = %(limit)s mg, "
        "weight of %(date)s)",
        cap=fmt(cap),
        kg=fmt(kg),
        limit=fmt(limit),
        date=when,
    )


def target_under_cap(patient: ThalidomidePatient, cap: Decimal | None) -> Decimal | None:
    """The patient's effective target dose.

    Adult: the recorded target (default 100), never above the 100 mg maximum.
    Paediatric: the cap (R3.3); a lower recorded target is used instead (never
    above the cap). None when a paediatric cap cannot be set and no target is recorded.
    """
    recorded = None if patient.target_dose_mg is None else dose_of(patient.target_dose_mg)
    if patient.regimen == ADULT:
        return min(recorded if recorded is not None else ADULT_DEFAULT_TARGET_MG, ADULT_MAX_MG)
    if cap is None:
        return recorded
    return cap if recorded is None else min(recorded, cap)


def effective_target(patient: ThalidomidePatient, on: date) -> Decimal | None:
    """The target dose the schedule steps towards on ``on`` (R3.1–R3.3).

    Adult: the recorded target (default 100), never above 100 mg. Paediatric: the
    R3.3 cap from a weight at most 30 days old on ``on`` (a lower recorded target is
    used instead); None when the cap cannot be set.
    """
    if check_regimen(patient.regimen) == ADULT:
        return target_under_cap(patient, None)
    cap, _ = paediatric_cap(patient, on)
    return None if cap is None else target_under_cap(patient, cap)


# ---------------------------------------------------------------------------
# Suggested next step (R3.2 / R3.3, R7 dose_step_due)
# ---------------------------------------------------------------------------


def _neuropathy_blocker(
    patient: ThalidomidePatient, on: date, grade: int, regimen: str, in_force: Decimal
) -> Said:
    visit = neuropathy_visit_date(patient, on)
    limit = fmt(NEUROPATHY_ADULT_DOSE_LIMIT_MG)
    above_limit = regimen == ADULT and in_force > NEUROPATHY_ADULT_DOSE_LIMIT_MG
    if grade >= NEUROPATHY_STOP_GRADE and above_limit:
        return say(
            "the latest neuropathy grade is %(grade)s (clinic visit of %(date)s): no increase "
            "until it is 0, and the dose must come down to ≤ %(limit)s mg; at grade ≥ 3 "
            "thalidomide must be stopped",
            grade=grade,
            date=visit,
            limit=limit,
        )
    if grade >= NEUROPATHY_STOP_GRADE:
        return say(
            "the latest neuropathy grade is %(grade)s (clinic visit of %(date)s): no increase "
            "until it is 0; at grade ≥ 3 thalidomide must be stopped",
            grade=grade,
            date=visit,
        )
    if above_limit:
        return say(
            "the latest neuropathy grade is %(grade)s (clinic visit of %(date)s): no increase "
            "until it is 0, and the dose must come down to ≤ %(limit)s mg",
            grade=grade,
            date=visit,
            limit=limit,
        )
    return say(
        "the latest neuropathy grade is %(grade)s (clinic visit of %(date)s): no increase "
        "until it is 0",
        grade=grade,
        date=visit,
    )


def _safety_blockers(
    patient: ThalidomidePatient, rows: list[DoseRow], on: date, regimen: str, in_force: Decimal
) -> tuple[list[tuple[str, Said]], PregnancyCoverage | None]:
    """(rule, reason) pairs that forbid a step (R3.4, R5.1, R5.2), and the test coverage."""
    blockers: list[tuple[str, Said]] = []
    grade = latest_neuropathy_grade(patient, on)
    if grade is None:
        # Ambiguity: no grade at all is not "grade 0"; a step waits for an assessment.
        blockers.append(
            ("R3.4", say("no neuropathy grade is recorded on or before %(date)s", date=on))
        )
    elif grade >= 1:
        blockers.append(("R3.4", _neuropathy_blocker(patient, on, grade, regimen, in_force)))
    feeding = breastfeeding_record(patient.breastfeeding, on)
    if feeding is not None and feeding[1]:
        blockers.append(
            ("R5.1", say("breast-feeding is recorded (visit of %(date)s)", date=feeding[0]))
        )
    positive = unresolved_positive(tests_until(patient.pregnancy_tests, on))
    if positive is not None:
        blockers.append(
            (
                "R5.2",
                say("the pregnancy test of %(date)s is positive: stop thalidomide", date=positive),
            )
        )
    coverage = None
    if pregnancy_rules_apply_to(patient) and positive is None:
        coverage = pregnancy_coverage(
            tests=patient.pregnancy_tests,
            start=course_start_of(rows),
            on=on,
            irregular_cycles=patient.irregular_cycles,
            first_dose_or_restart=False,
        )
        if not coverage.covered:
            blockers.append(("R5.2", clause(coverage.reason, "R5.2")))
    return blockers, coverage


def _next_dose(
    patient: ThalidomidePatient,
    on: date,
    regimen: str,
    in_force: Decimal,
    blockers: list[tuple[str, Said]],
) -> tuple[str, Decimal | None, Said | str]:
    """(rule, next dose, target text) of R3.2/R3.3; adds the target's blockers to ``blockers``."""
    if regimen == ADULT:
        rule, step, multiple = "R3.2", ADULT_SUGGESTED_STEP_MG, ADULT_DOSE_MULTIPLE_MG
        target = target_under_cap(patient, None)
        target_text = say("target %(dose)s mg/day", dose=fmt(target))
    else:
        rule, step, multiple = "R3.3", PAEDIATRIC_SUGGESTED_STEP_MG, PAEDIATRIC_DOSE_MULTIPLE_MG
        cap, cap_warning = paediatric_cap(patient, on)
        target = target_under_cap(patient, cap)
        if cap is None:
            target = None
            blockers.append(("R3.3", clause(cap_warning.reason, "R3.3")))
        target_text = (
            say("target %(dose)s mg/day (within the cap)", dose=fmt(target))
            if target is not None
            else ""
        )
    next_dose = None
    if target is not None:
        next_dose = floor_to(min(in_force + step, target), multiple)
        if next_dose <= in_force:
            if in_force > target:
                why = say(
                    "the dose of %(dose)s mg is above the %(target)s",
                    dose=fmt(in_force),
                    target=target_text,
                )
            else:
                why = say(
                    "the dose of %(dose)s mg is at the %(target)s",
                    dose=fmt(in_force),
                    target=target_text,
                )
            blockers.append((rule, why))
    return rule, next_dose, target_text


def suggest_next_step(
    *, patient: ThalidomidePatient, history: Iterable[DoseRow], on: date
) -> StepSuggestion:
    """The next titration step as of ``on``.

    Adult: +25 mg (never beyond the target, at most 100 mg); paediatric: +12.5 mg
    (half a tablet) within the cap. Allowed from the last change + 14 days. No step
    while thalidomide is not active, at target, at neuropathy grade ≥ 1 or with no
    grade recorded (R3.4), while breast-feeding (R5.1), or, for a female of
    reproductive potential, with a positive or missing/expired pregnancy test (R5.2).
    """
    regimen = check_regimen(patient.regimen)
    rows = rows_until(history, on=on)
    in_force = rows[-1].dose_mg if rows else ZERO
    if in_force <= 0:
        return StepSuggestion(
            dose_mg=None,
            allowed_from=None,
            reason=say("Thalidomide is not active on %(date)s: no step (R3.1).", date=on),
            rule="R3.1",
        )
    change = dose_changes(rows)[-1]
    allowed_from = change.date + timedelta(days=MIN_DAYS_BETWEEN_CHANGES)
    blockers, coverage = _safety_blockers(patient, rows, on, regimen, in_force)
    rule, next_dose, target_text = _next_dose(patient, on, regimen, in_force, blockers)
    if blockers:
        return StepSuggestion(
            dose_mg=None,
            allowed_from=None,
            reason=say(
                "No step on %(date)s from %(dose)s mg: %(reasons)s (%(rules)s).",
                date=on,
                dose=fmt(in_force),
                reasons=join([text for _, text in blockers], "; "),
                rules=join(dict.fromkeys(rule_id for rule_id, _ in blockers), ", "),
            ),
            rule=blockers[0][0],
        )
    reason = say(
        "Next step %(dose)s → %(next)s mg (%(target)s), allowed from %(allowed)s, %(days)s days "
        "after the last change on %(change)s (%(rule)s).",
        dose=fmt(in_force),
        next=fmt(next_dose),
        target=target_text,
        allowed=allowed_from,
        days=MIN_DAYS_BETWEEN_CHANGES,
        change=change.date,
        rule=rule,
    )
    if (
        coverage is not None
        and coverage.due_date is not None
        and coverage.due_date < max(on, allowed_from)
    ):
        reason = join(
            [
                reason,
                say(
                    "A negative pregnancy test covering the step date is needed: the current "
                    "test covers up to %(date)s (R5.2).",
                    date=coverage.due_date,
                ),
            ],
            " ",
        )
    return StepSuggestion(dose_mg=next_dose, allowed_from=allowed_from, reason=reason, rule=rule)
