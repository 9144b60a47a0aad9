"""Pure thalidomide titration, pregnancy-test and azathioprine rules.

clinical-rules.md R3.1–R3.5 (thalidomide dosing, neuropathy, deviation codes),
R4.1–R4.3 and R4.5 (azathioprine dose, genotype gate, blood monitoring,
metabolites), R5.1–R5.3 (pregnancy prevention) and the R7 due dates
``cumulative_dose_review``, ``pregnancy_test_due`` and ``blood_test_due``.

No Django imports and no clock: plain values in (frozen dataclasses, ``Decimal``
doses and weights, explicit dates), results carrying the rule id and a
plain-language reason with the numbers out. Records dated after the date being
judged are ignored everywhere. Only reported figures are rounded, half up.

Readings chosen where the spec is open are marked "Ambiguity" below; each is
the reading safest for the patient.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

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
# R3.1 / R3.2 / R3.3
MIN_DAYS_BETWEEN_CHANGES = 14
RESTART_AFTER_DAYS = 28  # a non-zero row MORE than this many days after the stop is a new start
# R3.4 neuropathy
NEUROPATHY_ADULT_DOSE_LIMIT_MG = Decimal("50")
NEUROPATHY_STOP_GRADE = 3
CUMULATIVE_REVIEW_GRAMS = Decimal("20")
# R5.2 / R5.3
PRE_START_EARLY_WINDOW = (-14, -10)
PRE_START_LATE_WINDOW = (-1, 0)
PREGNANCY_EARLY_INTERVAL_DAYS = 7
PREGNANCY_EARLY_UNTIL_DAY = 28  # a test on day 28 or later uses the 28/14-day interval
PREGNANCY_REGULAR_INTERVAL_DAYS = 28
PREGNANCY_IRREGULAR_INTERVAL_DAYS = 14
PREGNANCY_AFTER_STOP_DAYS = 28
CONTRACEPTION_LEAD_DAYS = 28
# R4.1 / R4.2
AZA_MG_PER_KG = (Decimal("2.0"), Decimal("2.5"))
AZA_WEIGHT_MAX_AGE_DAYS = 90
AZA_ROUND_TO_MG = Decimal("25")
AZA_ONE_INTERMEDIATE_FRACTION = (Decimal("0.30"), Decimal("0.80"))
AZA_BOTH_INTERMEDIATE_FRACTION = (Decimal("0.20"), Decimal("0.50"))
AZA_XANTHINE_OXIDASE_FRACTION = Decimal("0.33")
GENOTYPE_VALUES = ("normal", "intermediate", "poor", "unknown")
# R4.3
BLOOD_CHECKPOINT_DAYS = (14, 28, 56, 84)
BLOOD_CHECKPOINT_EVERY_DAYS = 84
BLOOD_COVER_DAYS = 7
# R4.5
METABOLITE_STEADY_STATE_DAYS = 28
TGN_NON_ADHERENCE_BELOW = Decimal("100")
MMP_NON_ADHERENCE_BELOW = Decimal("1000")
TGN_THERAPEUTIC = (Decimal("235"), Decimal("450"))
MMP_HEPATOTOXIC_ABOVE = Decimal("5700")
MMP_TGN_RATIO_SHUNTER_ABOVE = Decimal("11")

_ZERO = Decimal("0")
_ONE = Decimal("1")
_CENT = Decimal("0.01")


class ChangeKind:
    FIRST_DOSE = "first_dose"
    RESTART = "restart"
    INCREASE = "increase"
    DECREASE = "decrease"
    STOP = "stop"
    CONTINUATION = "continuation"
    ALL = (FIRST_DOSE, RESTART, INCREASE, DECREASE, STOP, CONTINUATION)


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

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DoseRow:
    """One dated dose record of ONE drug; 0 mg = stopped (the first day without it)."""

    date: date
    dose_mg: Decimal


@dataclass(frozen=True)
class Finding:
    """A deviation (R3.5 code) or a warning, with its rule id and reason."""

    code: str
    rule: str
    reason: str
    urgent: bool = False


Deviation = Finding


@dataclass(frozen=True)
class PregnancyTest:
    date: date
    result: str  # "negative" | "positive"


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
class DoseCheck:
    kind: str
    deviations: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    previous_dose_mg: Decimal | None
    days_since_previous_change: int | None
    # Additions: the row judged, and a plain-language summary.
    row: DoseRow | None = None
    rule: str = "R3.5"
    reason: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(finding.code for finding in self.deviations)

    @property
    def urgent(self) -> bool:
        return any(finding.urgent for finding in self.deviations)


@dataclass(frozen=True)
class StepSuggestion:
    dose_mg: Decimal | None  # None = no step suggested
    allowed_from: date | None
    reason: str
    rule: str


@dataclass(frozen=True)
class PregnancyCoverage:
    covered: bool
    due_date: date | None  # when the next test is due
    rule: str  # "R5.2"
    reason: str
    positive_unresolved: bool = False


@dataclass(frozen=True)
class AzaCheck:
    mg_per_kg: Decimal | None
    allowed_range_mg: tuple[Decimal, Decimal] | None
    warnings: tuple[Finding, ...]
    contraindicated: bool
    reason: str


@dataclass(frozen=True)
class MetaboliteInterpretation:
    code: str
    text: str
    hepatotoxicity_risk: bool
    rule: str  # "R4.5"
    reason: str


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _dec(value, what: str = "value") -> Decimal:
    """A dose or weight as Decimal (str() first, so a float keeps its written digits)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    else:
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError) as error:
            raise ValueError(f"{what} must be a number, got {value!r}") from error
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def _dose(value) -> Decimal:
    dose = _dec(value, "dose_mg")
    if dose < 0:
        raise ValueError(f"dose_mg must not be negative, got {value!r}")
    return dose


def _fmt(value) -> str:
    """A number as a clinician writes it: 25, 37.5, 0.35 (no exponent, no trailing zeros)."""
    number = _dec(value).normalize()
    text = format(number, "f")
    return "0" if text in ("-0", "") else text


def _clean(value: Decimal) -> Decimal:
    """The same number without trailing zeros or exponent (120.000 → 120, 49.50 → 49.5)."""
    if value == value.to_integral_value():
        return value.quantize(_ONE)
    return value.normalize()


def _iso(day: date) -> str:
    return day.isoformat()


def _day_text(number: int) -> str:
    """Day N of therapy with a real minus sign (day −12), as clinicians read it in print."""
    return f"day −{-number}" if number < 0 else f"day {number}"


def _clause(reason: str, rule: str) -> str:
    """A reason as a clause of a longer one: no trailing "(rule).", lower-case first letter."""
    suffix = f" ({rule})."
    text = reason[: -len(suffix)] if reason.endswith(suffix) else reason.rstrip(".")
    return text[:1].lower() + text[1:]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _is_multiple(value: Decimal, of: Decimal) -> bool:
    return value % of == 0


def _floor_to(value: Decimal, multiple: Decimal) -> Decimal:
    return (value / multiple).to_integral_value(rounding=ROUND_FLOOR) * multiple


def _round_half_up_to(value: Decimal, multiple: Decimal) -> Decimal:
    return (value / multiple).to_integral_value(rounding=ROUND_HALF_UP) * multiple


def _rows(history: Iterable[DoseRow], *, on: date, inclusive: bool = True) -> list[DoseRow]:
    """Rows dated on or before ``on`` (or strictly before), in date order.

    The sort is stable: two rows on the same date (which the stored natural key
    patient + drug + date rules out) keep their given order, the later one wins.
    """
    kept = [row for row in history if (row.date <= on if inclusive else row.date < on)]
    kept.sort(key=lambda row: row.date)
    return [DoseRow(date=row.date, dose_mg=_dose(row.dose_mg)) for row in kept]


def _changes(rows: list[DoseRow]) -> list[DoseRow]:
    """Rows that changed the dose in force (the first non-zero row included).

    A row at the same dose as the one in force is a continuation, not a change
    (R3.1); a 0 mg row after a 0 mg row changes nothing either.
    """
    changes = []
    in_force = _ZERO
    for row in rows:
        if row.dose_mg != in_force:
            changes.append(row)
        in_force = row.dose_mg
    return changes


def _stop_of(rows: list[DoseRow]) -> date | None:
    """The stop date (first day without drug) if the latest row is 0 after a non-zero row."""
    if not rows or rows[-1].dose_mg != 0:
        return None
    stop = None
    for row in reversed(rows):
        if row.dose_mg > 0:
            return stop
        stop = row.date
    return None  # only 0 mg rows: never started


def _course_start_of(rows: list[DoseRow]) -> date | None:
    """R3.1: first non-zero row, or the latest non-zero row MORE than 28 days after a stop."""
    start = None
    stop = None
    in_force = _ZERO
    for row in rows:
        if row.dose_mg > 0 and in_force == 0:
            if start is None or (stop is not None and (row.date - stop).days > RESTART_AFTER_DAYS):
                start = row.date
            stop = None
        elif row.dose_mg == 0 and in_force > 0:
            stop = row.date
        in_force = row.dose_mg
    return start


def _last_nonzero(rows: list[DoseRow]) -> Decimal | None:
    for row in reversed(rows):
        if row.dose_mg > 0:
            return row.dose_mg
    return None


def _check_regimen(regimen: str) -> str:
    if regimen not in REGIMENS:
        raise ValueError(f"regimen must be one of {', '.join(REGIMENS)}, got {regimen!r}")
    return regimen


def _check_sex(sex: str) -> str:
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    return sex


def _pregnancy_rules_apply(patient: ThalidomidePatient) -> bool:
    """R5.2 tests are for females of reproductive potential only (males are never tested)."""
    return _check_sex(patient.sex) == "F" and bool(patient.female_of_reproductive_potential)


# ---------------------------------------------------------------------------
# R3.1 dose records
# ---------------------------------------------------------------------------


def current_dose(history: Iterable[DoseRow], on: date) -> Decimal:
    """R3.1: the dose of the latest row on or before ``on``; 0 if there is none."""
    rows = _rows(history, on=on)
    return rows[-1].dose_mg if rows else _ZERO


def last_change(history: Iterable[DoseRow], on: date) -> DoseRow | None:
    """The latest row on or before ``on`` that changed the dose (continuations don't count).

    Starts, restarts, increases, decreases and stops are all changes, so each of
    them restarts the 14-day clock of R3.2/R3.3.
    """
    changes = _changes(_rows(history, on=on))
    return changes[-1] if changes else None


def thalidomide_active(history: Iterable[DoseRow], on: date) -> bool:
    """R3.1: active on ``on`` when start ≤ on and the latest row on or before it is above 0."""
    return current_dose(history, on) > 0


def course_start(history: Iterable[DoseRow], on: date) -> date | None:
    """Start of the current (or latest) course on ``on``: the first row, or the latest restart.

    A non-zero row within 28 days of a stop resumes the same course (R3.1).
    Ambiguity: a leading 0 mg row (nothing to stop) is not a course start; the first
    non-zero row is.
    """
    return _course_start_of(_rows(history, on=on))


def stop_date(history: Iterable[DoseRow], on: date) -> date | None:
    """If stopped on ``on``: the first day without drug of the latest stop (its first 0 row)."""
    return _stop_of(_rows(history, on=on))


# ---------------------------------------------------------------------------
# R3.4 neuropathy, R5.1 breast-feeding, R3.3 weight
# ---------------------------------------------------------------------------


def latest_neuropathy_grade(patient: ThalidomidePatient, on: date) -> int | None:
    """R3.4: the grade of the latest clinic visit on or before ``on``; two the same day → higher."""
    recorded = [(when, int(grade)) for when, grade in patient.neuropathy if when <= on]
    for when, grade in recorded:
        if not 0 <= grade <= 4:
            raise ValueError(f"neuropathy grade on {_iso(when)} must be 0–4, got {grade}")
    if not recorded:
        return None
    latest = max(when for when, _ in recorded)
    return max(grade for when, grade in recorded if when == latest)


def _neuropathy_date(patient: ThalidomidePatient, on: date) -> date | None:
    dates = [when for when, _ in patient.neuropathy if when <= on]
    return max(dates) if dates else None


def _breastfeeding_record(patient: ThalidomidePatient, on: date) -> tuple[date, bool] | None:
    """The latest breast-feeding record on or before ``on``.

    Ambiguity: two records the same day that disagree → "yes" (safest).
    """
    recorded = [(when, bool(flag)) for when, flag in patient.breastfeeding if when <= on]
    if not recorded:
        return None
    latest = max(when for when, _ in recorded)
    return latest, any(flag for when, flag in recorded if when == latest)


def _latest_weight(weights, on: date, max_age_days: int) -> tuple[date, Decimal] | None:
    """The latest weight dated on or before ``on`` and at most ``max_age_days`` old.

    Ambiguity: two weights the same day → the lower (it gives the lower dose limit).
    """
    recent = [
        (when, _dec(kg, "weight"))
        for when, kg in weights
        if when <= on and (on - when).days <= max_age_days
    ]
    if not recent:
        return None
    latest = max(when for when, _ in recent)
    return latest, min(kg for when, kg in recent if when == latest)


# ---------------------------------------------------------------------------
# R3.3 paediatric cap
# ---------------------------------------------------------------------------


def paediatric_cap(patient: ThalidomidePatient, on: date) -> tuple[Decimal | None, Finding | None]:
    """R3.3: the largest step of {12.5, 25, 37.5, 50} ≤ min(2 mg/kg × weight, 50).

    The weight must be at most 30 days old on ``on``. Returns (cap, warning):

    * no such weight → (None, ``weight_missing``): the cap cannot be set;
    * weight below 6.25 kg → (None, ``no_step_under_cap``): every dose is above the cap;
    * no step within 1–2 mg/kg (weight above 50 kg) → (cap, ``no_step_in_target_range``);
    * otherwise (cap, None).
    """
    weight = _latest_weight(patient.weights, on, PAEDIATRIC_WEIGHT_MAX_AGE_DAYS)
    if weight is None:
        return None, Finding(
            code="weight_missing",
            rule="R3.3",
            reason=(
                f"No weight recorded from {_iso(on - timedelta(days=PAEDIATRIC_WEIGHT_MAX_AGE_DAYS))}"
                f" to {_iso(on)}: the paediatric cap needs a weight at most "
                f"{PAEDIATRIC_WEIGHT_MAX_AGE_DAYS} days old (R3.3)."
            ),
        )
    when, kg = weight
    low_per_kg, high_per_kg = PAEDIATRIC_MG_PER_KG
    limit = min(high_per_kg * kg, PAEDIATRIC_ABSOLUTE_MAX_MG)
    fitting = [step for step in PAEDIATRIC_STEPS_MG if step <= limit]
    weight_text = f"{_fmt(kg)} kg on {_iso(when)}"
    if not fitting:
        return None, Finding(
            code="no_step_under_cap",
            rule="R3.3",
            reason=(
                f"Weight {weight_text}: 2 mg/kg is {_fmt(high_per_kg * kg)} mg, below the "
                f"smallest step of {_fmt(PAEDIATRIC_STEPS_MG[0])} mg, so no dose fits under the "
                f"cap and every dose is above_max_dose (R3.3)."
            ),
        )
    cap = fitting[-1]
    in_range = [step for step in fitting if low_per_kg * kg <= step <= high_per_kg * kg]
    if not in_range:
        return cap, Finding(
            code="no_step_in_target_range",
            rule="R3.3",
            reason=(
                f"Weight {weight_text}: no step of 12.5/25/37.5/50 mg lies within 1–2 mg/kg "
                f"({_fmt(low_per_kg * kg)}–{_fmt(high_per_kg * kg)} mg); the cap is "
                f"{_fmt(cap)} mg. Flagged for the clinician (R3.3)."
            ),
        )
    return cap, None


def _cap_text(patient: ThalidomidePatient, on: date, cap: Decimal) -> str:
    when, kg = _latest_weight(patient.weights, on, PAEDIATRIC_WEIGHT_MAX_AGE_DAYS)
    limit = min(PAEDIATRIC_MG_PER_KG[1] * kg, PAEDIATRIC_ABSOLUTE_MAX_MG)
    return (
        f"cap {_fmt(cap)} mg (largest step ≤ min(2 mg/kg × {_fmt(kg)} kg, 50) = "
        f"{_fmt(limit)} mg, weight of {_iso(when)})"
    )


def _target(patient: ThalidomidePatient, cap: Decimal | None) -> Decimal | None:
    """The patient's effective target dose.

    Adult: the recorded target (default 100), never above the 100 mg maximum.
    Paediatric: the cap (R3.3); a lower recorded target is used instead (never
    above the cap). None when a paediatric cap cannot be set and no target is recorded.
    """
    recorded = None if patient.target_dose_mg is None else _dose(patient.target_dose_mg)
    if patient.regimen == ADULT:
        return min(recorded if recorded is not None else ADULT_DEFAULT_TARGET_MG, ADULT_MAX_MG)
    if cap is None:
        return recorded
    return cap if recorded is None else min(recorded, cap)


# ---------------------------------------------------------------------------
# R5.2 pregnancy tests
# ---------------------------------------------------------------------------


def _result(test: PregnancyTest) -> str:
    result = str(test.result).strip().lower()
    if result not in ("negative", "positive"):
        raise ValueError(
            f"pregnancy test result on {_iso(test.date)} must be 'negative' or 'positive', "
            f"got {test.result!r}"
        )
    return result


def _tests_until(tests: Iterable[PregnancyTest], on: date) -> list[tuple[date, str]]:
    return sorted((test.date, _result(test)) for test in tests if test.date <= on)


def _latest_test(tests: list[tuple[date, str]]) -> tuple[date, str] | None:
    """The most recent test. Ambiguity: a positive and a negative the same day → positive."""
    if not tests:
        return None
    latest = tests[-1][0]
    results = {result for when, result in tests if when == latest}
    return latest, "positive" if "positive" in results else "negative"


def _unresolved_positive(tests: list[tuple[date, str]]) -> date | None:
    """The latest positive test with no negative test on a LATER date (same day does not clear)."""
    positives = [when for when, result in tests if result == "positive"]
    if not positives:
        return None
    last_positive = max(positives)
    if any(result == "negative" and when > last_positive for when, result in tests):
        return None
    return last_positive


def pregnancy_test_interval_days(*, last_test: date, start: date, irregular_cycles) -> int:
    """R5.2: 7 days while the last test is before day 28; from day 28, 28 (regular) or 14.

    Irregular or unknown (None) cycles give 14 days.
    """
    if (last_test - start).days < PREGNANCY_EARLY_UNTIL_DAY:
        return PREGNANCY_EARLY_INTERVAL_DAYS
    if irregular_cycles is False:
        return PREGNANCY_REGULAR_INTERVAL_DAYS
    return PREGNANCY_IRREGULAR_INTERVAL_DAYS


def _interval_text(last_test: date, start: date, irregular_cycles) -> str:
    day = (last_test - start).days
    interval = pregnancy_test_interval_days(
        last_test=last_test, start=start, irregular_cycles=irregular_cycles
    )
    if day < PREGNANCY_EARLY_UNTIL_DAY:
        why = "the test is before day 28"
    elif irregular_cycles is False:
        why = "the test is on day 28 or later, regular cycles"
    elif irregular_cycles is None:
        why = "the test is on day 28 or later, cycles unknown (counted as irregular)"
    else:
        why = "the test is on day 28 or later, irregular cycles"
    return f"{_day_text(day)}, interval {interval} days as {why}"


def pre_start_tests_ok(tests: Iterable[PregnancyTest], start: date) -> tuple[bool, str]:
    """R5.2: a negative test dated day −14 to −10 and one dated day −1 or 0 of ``start``."""
    recorded = _tests_until(tests, start)
    early_first, early_last = PRE_START_EARLY_WINDOW
    late_first, late_last = PRE_START_LATE_WINDOW
    early = [
        when
        for when, result in recorded
        if result == "negative" and early_first <= (when - start).days <= early_last
    ]
    late = [
        when
        for when, result in recorded
        if result == "negative" and late_first <= (when - start).days <= late_last
    ]
    early_window = (
        f"day −14 to −10 ({_iso(start + timedelta(days=early_first))} to "
        f"{_iso(start + timedelta(days=early_last))})"
    )
    late_window = (
        f"day −1 or 0 ({_iso(start + timedelta(days=late_first))} or "
        f"{_iso(start + timedelta(days=late_last))})"
    )
    parts = []
    if early:
        parts.append(
            f"negative test on {_iso(early[-1])} ({_day_text((early[-1] - start).days)}) "
            f"within {early_window}"
        )
    else:
        parts.append(f"no negative test within {early_window}")
    if late:
        parts.append(
            f"negative test on {_iso(late[-1])} ({_day_text((late[-1] - start).days)}) "
            f"within {late_window}"
        )
    else:
        parts.append(f"no negative test within {late_window}")
    ok = bool(early) and bool(late)
    verdict = "complete" if ok else "incomplete"
    return ok, (
        f"Pre-start pregnancy tests for the start on {_iso(start)} {verdict}: "
        f"{'; '.join(parts)} (R5.2)."
    )


def pregnancy_coverage(
    *,
    tests: Iterable[PregnancyTest],
    start: date,
    on: date,
    irregular_cycles,
    first_dose_or_restart: bool,
) -> PregnancyCoverage:
    """R5.2: is a dose on ``on`` covered by the pregnancy tests recorded on or before it?

    Covered when the most recent test on or before ``on`` is negative and ``on`` is
    on or before that test's due date (test + interval); a first dose or restart
    (``start`` = its date) also needs both pre-start tests. ``start`` is the start of
    the current course (day 0), from which the 7-day interval is counted.
    """
    tests = list(tests)
    recorded = _tests_until(tests, on)
    positive = _unresolved_positive(recorded)
    latest = _latest_test(recorded)
    problems = []
    due = None
    latest_text = ""
    if latest is None:
        problems.append(f"no pregnancy test recorded on or before {_iso(on)}")
        due = on
    elif latest[1] == "positive":
        problems.append(
            f"the latest test, on {_iso(latest[0])}, is positive with no later negative test: "
            "thalidomide must stop at once"
        )
    else:
        interval = pregnancy_test_interval_days(
            last_test=latest[0], start=start, irregular_cycles=irregular_cycles
        )
        due = latest[0] + timedelta(days=interval)
        latest_text = (
            f"latest negative test on {_iso(latest[0])} "
            f"({_interval_text(latest[0], start, irregular_cycles)}) covers up to {_iso(due)}"
        )
        if on > due:
            problems.append(f"{latest_text}, so {_iso(on)} is not covered (test overdue)")
    pre_start_text = ""
    if first_dose_or_restart:
        ok, pre_start_text = pre_start_tests_ok(tests, start)
        if not ok:
            problems.append(_clause(pre_start_text, "R5.2"))
    if problems:
        reason = f"Not covered on {_iso(on)}: " + "; ".join(problems) + " (R5.2)."
        return PregnancyCoverage(
            covered=False,
            due_date=due,
            rule="R5.2",
            reason=reason,
            positive_unresolved=positive is not None,
        )
    reason = f"Covered on {_iso(on)}: {latest_text}"
    if first_dose_or_restart:
        reason += "; " + _clause(pre_start_text, "R5.2")
    return PregnancyCoverage(covered=True, due_date=due, rule="R5.2", reason=reason + " (R5.2).")


def next_pregnancy_test_due(
    *,
    tests: Iterable[PregnancyTest],
    start: date | None,
    stop: date | None,
    as_of: date,
    irregular_cycles,
) -> date | None:
    """R7 ``pregnancy_test_due`` (R5.2) for a female of reproductive potential.

    ``start`` = start of the current course, ``stop`` = its stop date if stopped.
    On therapy: last negative test + interval (the start date itself if there is no
    test at all). Stopped: the one test at stop + 28 days, None once a test dated on
    or after that day is recorded. None before any start.

    Ambiguities (safest readings):
    * only a test on or after stop + 28 closes the post-stop test (an earlier one
      cannot show a pregnancy conceived in the last weeks of therapy);
    * with an unresolved positive test while still on therapy, the test is due on the
      positive test's date (a stable, immediately overdue date; the positive test
      itself raises the urgent alert elsewhere) until a later negative test clears it.
    """
    recorded = _tests_until(tests, as_of)
    if stop is not None and stop <= as_of and (start is None or stop >= start):
        due = stop + timedelta(days=PREGNANCY_AFTER_STOP_DAYS)
        if any(when >= due for when, _ in recorded):
            return None
        return due
    if start is None or start > as_of:
        return None
    latest = _latest_test(recorded)
    if latest is None:
        return start
    if latest[1] == "positive":
        return _unresolved_positive(recorded)
    interval = pregnancy_test_interval_days(
        last_test=latest[0], start=start, irregular_cycles=irregular_cycles
    )
    return latest[0] + timedelta(days=interval)


# ---------------------------------------------------------------------------
# R3.5 dose-change check
# ---------------------------------------------------------------------------


def _classify(prior: list[DoseRow], proposed: DoseRow) -> tuple[str, Decimal | None, str]:
    """R3.1: (kind, reference dose for the step, plain-language description).

    Ambiguity: after a stop, a non-zero row within 28 days is "checked as an increase
    from the last non-zero dose" (kind ``increase``) whatever its size. The step rules
    judge only the amount above that last dose (resuming at or below it steps nothing
    up), but, as the patient goes from no drug to drug, it needs pregnancy-test cover
    like any increase and it restarts the 14-day clock.
    """
    dose = proposed.dose_mg
    in_force = prior[-1].dose_mg if prior else _ZERO
    last_nonzero = _last_nonzero(prior)
    on = proposed.date
    if dose == 0:
        if in_force > 0:
            return ChangeKind.STOP, in_force, f"Stop from {_fmt(in_force)} mg on {_iso(on)}"
        return ChangeKind.CONTINUATION, in_force, f"0 mg on {_iso(on)}: already stopped"
    if last_nonzero is None:
        return ChangeKind.FIRST_DOSE, None, f"First dose {_fmt(dose)} mg on {_iso(on)}"
    if in_force == 0:
        stop = _stop_of(prior)
        gap = (on - stop).days
        if gap > RESTART_AFTER_DAYS:
            return (
                ChangeKind.RESTART,
                _ZERO,
                (
                    f"Restart at {_fmt(dose)} mg on {_iso(on)}, {gap} days after the stop on "
                    f"{_iso(stop)} (more than {RESTART_AFTER_DAYS} days: checked as a new start)"
                ),
            )
        return (
            ChangeKind.INCREASE,
            last_nonzero,
            (
                f"Resumed at {_fmt(dose)} mg on {_iso(on)}, {gap} days after the stop on "
                f"{_iso(stop)} (within {RESTART_AFTER_DAYS} days: checked as an increase from the "
                f"last dose, {_fmt(last_nonzero)} mg)"
            ),
        )
    if dose == in_force:
        return (
            ChangeKind.CONTINUATION,
            in_force,
            (f"Continuation at {_fmt(dose)} mg on {_iso(on)} (not a change)"),
        )
    if dose < in_force:
        return (
            ChangeKind.DECREASE,
            in_force,
            (f"Decrease from {_fmt(in_force)} to {_fmt(dose)} mg on {_iso(on)}"),
        )
    return (
        ChangeKind.INCREASE,
        in_force,
        (f"Increase from {_fmt(in_force)} to {_fmt(dose)} mg on {_iso(on)}"),
    )


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
    regimen = _check_regimen(patient.regimen)
    _check_sex(patient.sex)
    proposed = DoseRow(date=proposed.date, dose_mg=_dose(proposed.dose_mg))
    on = proposed.date
    dose = proposed.dose_mg
    prior = _rows(history, on=on, inclusive=False)
    kind, reference, description = _classify(prior, proposed)
    changes = _changes(prior)
    previous_change = changes[-1] if changes else None
    days_since = (on - previous_change.date).days if previous_change else None
    previous_dose = None if kind == ChangeKind.FIRST_DOSE else reference

    if dose == 0:
        return DoseCheck(
            kind=kind,
            deviations=(),
            warnings=(),
            previous_dose_mg=previous_dose,
            days_since_previous_change=days_since,
            row=proposed,
            reason=f"{description}: stops are always allowed (R3.2).",
        )

    is_start = kind in (ChangeKind.FIRST_DOSE, ChangeKind.RESTART)
    start = on if is_start else _course_start_of(prior)
    day = (on - start).days
    step = dose - reference if kind == ChangeKind.INCREASE else None
    steps_up = step is not None and step > 0
    deviations: list[Finding] = []
    warnings: list[Finding] = []

    def deviation(code: str, rule: str, reason: str) -> None:
        deviations.append(Finding(code=code, rule=rule, reason=reason, urgent=code in URGENT_CODES))

    change_text = (
        f"Increase from {_fmt(reference)} to {_fmt(dose)} mg on day {day}"
        if kind == ChangeKind.INCREASE
        else f"{_fmt(dose)} mg on {_iso(on)} (day {day})"
    )

    # --- R3.2 adult / R3.3 paediatric schedule -------------------------------------
    if regimen == ADULT:
        rule = "R3.2"
        cap = None
        max_dose = ADULT_MAX_MG
        if is_start and dose != ADULT_START_MG:
            deviation(
                "start_dose_not_25",
                rule,
                f"{description}: an adult course starts at {_fmt(ADULT_START_MG)} mg/day, "
                f"not {_fmt(dose)} mg (R3.2).",
            )
        if not _is_multiple(dose, ADULT_DOSE_MULTIPLE_MG):
            deviation(
                "dose_not_in_steps",
                rule,
                f"{_fmt(dose)} mg on {_iso(on)} is not a multiple of 25 mg; adult doses are "
                "multiples of 25 mg (R3.2).",
            )
        if steps_up and step > ADULT_MAX_STEP_MG:
            deviation(
                "step_too_large",
                rule,
                f"{change_text} is a step of {_fmt(step)} mg; adult increases are 25 or 50 mg, "
                f"never above {_fmt(ADULT_MAX_STEP_MG)} mg (R3.2).",
            )
        if dose > ADULT_MAX_MG:
            deviation(
                "above_max_dose",
                rule,
                f"{_fmt(dose)} mg on {_iso(on)} is above the adult maximum of "
                f"{_fmt(ADULT_MAX_MG)} mg/day (R3.2).",
            )
        recorded_target = patient.target_dose_mg
        if recorded_target is not None and not (
            ADULT_TARGET_RANGE_MG[0] <= _dose(recorded_target) <= ADULT_TARGET_RANGE_MG[1]
        ):
            warnings.append(
                Finding(
                    code="target_dose_out_of_range",
                    rule="R3.2",
                    reason=(
                        f"Recorded target {_fmt(recorded_target)} mg/day is outside the adult "
                        "range of 50–100 mg/day; at most 100 mg/day is used (R3.2)."
                    ),
                )
            )
    else:
        rule = "R3.3"
        cap, cap_warning = paediatric_cap(patient, on)
        if cap_warning is not None:
            warnings.append(cap_warning)
        cap_missing = cap_warning is not None and cap_warning.code == "weight_missing"
        no_step = cap_warning is not None and cap_warning.code == "no_step_under_cap"
        if cap is not None:
            cap_text = _cap_text(patient, on, cap)
            max_dose = cap
        elif cap_missing:
            # Ambiguity: without a weight at most 30 days old the cap cannot be set; the
            # limits that hold whatever the weight are still applied (no paediatric dose
            # above 50 mg, no start above 25 mg) and weight_missing warns the clinician.
            cap_text = (
                "no cap could be set (no weight at most 30 days old); whatever the weight, "
                "no paediatric dose is above 50 mg"
            )
            max_dose = PAEDIATRIC_ABSOLUTE_MAX_MG
        else:
            cap_text = "no step fits under the cap (weight below 6.25 kg)"
            max_dose = None  # every dose is above the cap
        if is_start:
            start_limit = (
                PAEDIATRIC_START_MAX_MG if cap is None else min(PAEDIATRIC_START_MAX_MG, cap)
            )
            if no_step:
                deviation(
                    "start_dose_too_high",
                    rule,
                    f"{description}: no paediatric start is possible, {cap_text} (R3.3).",
                )
            elif dose > start_limit:
                deviation(
                    "start_dose_too_high",
                    rule,
                    f"{description}: a paediatric course starts at no more than min(25 mg, cap) "
                    f"= {_fmt(start_limit)} mg; {cap_text} (R3.3).",
                )
        if not _is_multiple(dose, PAEDIATRIC_DOSE_MULTIPLE_MG):
            deviation(
                "dose_not_in_steps",
                rule,
                f"{_fmt(dose)} mg on {_iso(on)} is not a multiple of 12.5 mg; paediatric doses "
                "are half-tablet steps of 12.5 mg (R3.3).",
            )
        if steps_up and step > PAEDIATRIC_MAX_STEP_MG:
            deviation(
                "step_too_large",
                rule,
                f"{change_text} is a step of {_fmt(step)} mg; paediatric increases are 12.5 or "
                f"25 mg, never above {_fmt(PAEDIATRIC_MAX_STEP_MG)} mg (R3.3).",
            )
        if max_dose is None or dose > max_dose:
            deviation(
                "above_max_dose",
                rule,
                f"{_fmt(dose)} mg on {_iso(on)} is above the paediatric cap: {cap_text} (R3.3).",
            )

    if steps_up and days_since is not None and days_since < MIN_DAYS_BETWEEN_CHANGES:
        deviation(
            "step_too_soon",
            rule,
            f"{change_text}, {_plural(days_since, 'day')} after the previous change on "
            f"{_iso(previous_change.date)}; steps need at least {MIN_DAYS_BETWEEN_CHANGES} "
            f"days ({rule}).",
        )

    # --- R3.4 neuropathy -------------------------------------------------------------
    grade = latest_neuropathy_grade(patient, on)
    if grade is not None:
        grade_text = (
            f"latest neuropathy grade {grade} (clinic visit of "
            f"{_iso(_neuropathy_date(patient, on))})"
        )
    if steps_up and grade is not None and grade >= 1:
        deviation(
            "step_up_during_neuropathy",
            "R3.4",
            f"{change_text} while the {grade_text} is ≥ 1; no increase until neuropathy "
            "resolves to grade 0 (R3.4).",
        )
    if steps_up and grade is None:
        warnings.append(
            Finding(
                code="neuropathy_not_assessed",
                rule="R3.4",
                reason=(
                    f"{change_text}: no neuropathy grade recorded on or before {_iso(on)}; "
                    "grade it before stepping up (R3.4)."
                ),
            )
        )
    if (
        regimen == ADULT
        and grade is not None
        and grade >= 1
        and dose > NEUROPATHY_ADULT_DOSE_LIMIT_MG
    ):
        deviation(
            "dose_above_neuropathy_limit",
            "R3.4",
            f"{_fmt(dose)} mg on {_iso(on)} with the {grade_text}: the adult dose must be ≤ "
            f"{_fmt(NEUROPATHY_ADULT_DOSE_LIMIT_MG)} mg/day while neuropathy is unresolved (R3.4).",
        )
    if grade is not None and grade >= NEUROPATHY_STOP_GRADE:
        deviation(
            "continued_despite_grade3_neuropathy",
            "R3.4",
            f"{_fmt(dose)} mg on {_iso(on)} with the {grade_text}: at grade ≥ 3 thalidomide "
            "must be stopped (R3.4).",
        )

    # --- R5 pregnancy prevention -----------------------------------------------------
    if _pregnancy_rules_apply(patient) and kind in (
        ChangeKind.FIRST_DOSE,
        ChangeKind.RESTART,
        ChangeKind.INCREASE,
        ChangeKind.CONTINUATION,
    ):
        coverage = pregnancy_coverage(
            tests=patient.pregnancy_tests,
            start=start,
            on=on,
            irregular_cycles=patient.irregular_cycles,
            first_dose_or_restart=is_start,
        )
        if not coverage.covered:
            deviation("no_valid_pregnancy_test", "R5.2", f"{description}. {coverage.reason}")
    # Ambiguity: a recorded positive test counts for ANY patient, whatever the record
    # says about sex or reproductive potential (R5.1: the rules are still shown).
    positive = _unresolved_positive(_tests_until(patient.pregnancy_tests, on))
    if positive is not None:
        deviation(
            "dosed_after_positive_pregnancy_test",
            "R5.2",
            f"{_fmt(dose)} mg on {_iso(on)} after the positive pregnancy test of "
            f"{_iso(positive)} with no later negative test: thalidomide must stop at once (R5.2).",
        )
    if _pregnancy_rules_apply(patient) and is_start:
        # Ambiguity: the code names the first dose; a restart is checked as a new start,
        # so it is judged too. No recorded contraception start counts as not established.
        contraception = patient.contraception_start
        if contraception is None:
            deviation(
                "contraception_not_established",
                "R5.3",
                f"{description}: no contraception start is recorded; two methods are needed "
                f"from at least {CONTRACEPTION_LEAD_DAYS} days before the start (R5.3).",
            )
        elif (on - contraception).days < CONTRACEPTION_LEAD_DAYS:
            deviation(
                "contraception_not_established",
                "R5.3",
                f"{description}: contraception started on {_iso(contraception)}, "
                f"{_plural((on - contraception).days, 'day')} before; it must start at least "
                f"{CONTRACEPTION_LEAD_DAYS} days before the first dose (R5.3).",
            )
    feeding = _breastfeeding_record(patient, on)
    if feeding is not None and feeding[1]:
        deviation(
            "breastfeeding",
            "R5.1",
            f"{_fmt(dose)} mg on {_iso(on)} while breast-feeding is recorded (visit of "
            f"{_iso(feeding[0])}); breast-feeding refuses start and continuation (R5.1).",
        )

    # --- R3.1 target -----------------------------------------------------------------
    target = _target(patient, cap)
    if target is not None and dose > target:
        warnings.append(
            Finding(
                code="above_target_dose",
                rule="R3.1",
                reason=(
                    f"{_fmt(dose)} mg on {_iso(on)} is above the patient's target of "
                    f"{_fmt(target)} mg/day (R3.1)."
                ),
            )
        )

    deviations.sort(key=lambda finding: DEVIATION_CODES.index(finding.code))
    if deviations:
        summary = f"{description}: " + ", ".join(finding.code for finding in deviations)
    elif kind == ChangeKind.DECREASE:
        summary = f"{description}: decreases are always allowed ({rule}); no deviation"
    else:
        summary = f"{description}: no deviation"
    return DoseCheck(
        kind=kind,
        deviations=tuple(deviations),
        warnings=tuple(warnings),
        previous_dose_mg=previous_dose,
        days_since_previous_change=days_since,
        row=proposed,
        reason=summary + " (R3.5).",
    )


def check_thalidomide_history(
    *, patient: ThalidomidePatient, history: Iterable[DoseRow]
) -> list[DoseCheck]:
    """R3.5 for imports and the cohort report: every row in date order against those before it.

    Historical rows are never refused; the deviations are returned to be stored.
    """
    rows = sorted(history, key=lambda row: row.date)
    return [check_thalidomide_change(patient=patient, history=rows, proposed=row) for row in rows]


# ---------------------------------------------------------------------------
# Suggested next step (R3.2 / R3.3, R7 dose_step_due)
# ---------------------------------------------------------------------------


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
    regimen = _check_regimen(patient.regimen)
    rows = _rows(history, on=on)
    in_force = rows[-1].dose_mg if rows else _ZERO
    if in_force <= 0:
        return StepSuggestion(
            dose_mg=None,
            allowed_from=None,
            reason=f"Thalidomide is not active on {_iso(on)}: no step (R3.1).",
            rule="R3.1",
        )
    change = _changes(rows)[-1]
    allowed_from = change.date + timedelta(days=MIN_DAYS_BETWEEN_CHANGES)
    blockers: list[tuple[str, str]] = []

    grade = latest_neuropathy_grade(patient, on)
    if grade is None:
        # Ambiguity: no grade at all is not "grade 0"; a step waits for an assessment.
        blockers.append(("R3.4", f"no neuropathy grade is recorded on or before {_iso(on)}"))
    elif grade >= 1:
        text = (
            f"the latest neuropathy grade is {grade} (clinic visit of "
            f"{_iso(_neuropathy_date(patient, on))}): no increase until it is 0"
        )
        if regimen == ADULT and in_force > NEUROPATHY_ADULT_DOSE_LIMIT_MG:
            text += f", and the dose must come down to ≤ {_fmt(NEUROPATHY_ADULT_DOSE_LIMIT_MG)} mg"
        if grade >= NEUROPATHY_STOP_GRADE:
            text += "; at grade ≥ 3 thalidomide must be stopped"
        blockers.append(("R3.4", text))
    feeding = _breastfeeding_record(patient, on)
    if feeding is not None and feeding[1]:
        blockers.append(("R5.1", f"breast-feeding is recorded (visit of {_iso(feeding[0])})"))
    positive = _unresolved_positive(_tests_until(patient.pregnancy_tests, on))
    if positive is not None:
        blockers.append(
            ("R5.2", f"the pregnancy test of {_iso(positive)} is positive: stop thalidomide")
        )
    coverage = None
    if _pregnancy_rules_apply(patient) and positive is None:
        coverage = pregnancy_coverage(
            tests=patient.pregnancy_tests,
            start=_course_start_of(rows),
            on=on,
            irregular_cycles=patient.irregular_cycles,
            first_dose_or_restart=False,
        )
        if not coverage.covered:
            blockers.append(("R5.2", _clause(coverage.reason, "R5.2")))

    if regimen == ADULT:
        rule, step, multiple = "R3.2", ADULT_SUGGESTED_STEP_MG, ADULT_DOSE_MULTIPLE_MG
        target = _target(patient, None)
        target_text = f"target {_fmt(target)} mg/day"
    else:
        rule, step, multiple = "R3.3", PAEDIATRIC_SUGGESTED_STEP_MG, PAEDIATRIC_DOSE_MULTIPLE_MG
        cap, cap_warning = paediatric_cap(patient, on)
        target = _target(patient, cap)
        if cap is None:
            target = None
            blockers.append(("R3.3", _clause(cap_warning.reason, "R3.3")))
        target_text = f"target {_fmt(target)} mg/day (within the cap)" if target is not None else ""

    if target is not None:
        next_dose = _floor_to(min(in_force + step, target), multiple)
        if next_dose <= in_force:
            where = "above" if in_force > target else "at"
            blockers.append((rule, f"the dose of {_fmt(in_force)} mg is {where} the {target_text}"))

    if blockers:
        reasons = "; ".join(text for _, text in blockers)
        return StepSuggestion(
            dose_mg=None,
            allowed_from=None,
            reason=f"No step on {_iso(on)} from {_fmt(in_force)} mg: {reasons} "
            f"({', '.join(dict.fromkeys(rule_id for rule_id, _ in blockers))}).",
            rule=blockers[0][0],
        )
    reason = (
        f"Next step {_fmt(in_force)} → {_fmt(next_dose)} mg ({target_text}), allowed from "
        f"{_iso(allowed_from)}, {MIN_DAYS_BETWEEN_CHANGES} days after the last change on "
        f"{_iso(change.date)} ({rule})."
    )
    if (
        coverage is not None
        and coverage.due_date is not None
        and coverage.due_date < max(on, allowed_from)
    ):
        reason += (
            f" A negative pregnancy test covering the step date is needed: the current test "
            f"covers up to {_iso(coverage.due_date)} (R5.2)."
        )
    return StepSuggestion(dose_mg=next_dose, allowed_from=allowed_from, reason=reason, rule=rule)


# ---------------------------------------------------------------------------
# Cumulative dose (R3.4, R7 cumulative_dose_review)
# ---------------------------------------------------------------------------


def _segments(rows: list[DoseRow], until: date | None) -> Iterator[tuple[DoseRow, int | None]]:
    """(row, number of days its dose is taken) — that day included, up to the next row.

    ``None`` days = open-ended (last row, no ``until``).
    """
    for index, row in enumerate(rows):
        if index + 1 < len(rows):
            end = rows[index + 1].date - timedelta(days=1)
        elif until is not None:
            end = until
        else:
            yield row, None
            return
        yield row, max((end - row.date).days + 1, 0)


def cumulative_dose_g(history: Iterable[DoseRow], up_to: date) -> Decimal:
    """R3.4/R7: grams taken, each daily dose from its row's date (that day included)
    up to and including ``up_to``. Exact (not rounded): round only for display."""
    total_mg = sum(
        (row.dose_mg * days for row, days in _segments(_rows(history, on=up_to), up_to)), _ZERO
    )
    return total_mg.scaleb(-3)


def date_cumulative_reached(
    history: Iterable[DoseRow],
    grams: Decimal = CUMULATIVE_REVIEW_GRAMS,
    as_of: date | None = None,
) -> date | None:
    """R7 ``cumulative_dose_review``: the first date on which the total reaches ``grams``.

    With ``as_of``, only rows on or before it count and the date must be on or before
    it (None otherwise). Without it, the last dose is projected forward (None if the
    drug is stopped before the total is reached).
    """
    threshold_mg = _dec(grams, "grams").scaleb(3)
    if threshold_mg <= 0:
        raise ValueError(f"grams must be positive, got {grams!r}")
    rows = sorted(history, key=lambda row: row.date)
    if as_of is not None:
        rows = _rows(rows, on=as_of)
    else:
        rows = [DoseRow(date=row.date, dose_mg=_dose(row.dose_mg)) for row in rows]
    total = _ZERO
    for row, days in _segments(rows, as_of):
        if row.dose_mg <= 0:
            continue
        days_needed = int(((threshold_mg - total) / row.dose_mg).to_integral_value(ROUND_CEILING))
        if days is None or days_needed <= days:
            return row.date + timedelta(days=days_needed - 1)
        total += row.dose_mg * days
    return None


# ---------------------------------------------------------------------------
# R4.1 / R4.2 azathioprine dose and genotype gate
# ---------------------------------------------------------------------------


def normalise_genotype(value) -> str:
    """TPMT/NUDT15 status as one of GENOTYPE_VALUES.

    "possible intermediate" → intermediate, "indeterminate" (and empty/None) → unknown
    (R4.2). Case, spaces, hyphens and underscores are ignored. Any other text is an
    error: a misspelt "poor" must never pass as unknown.
    """
    if value is None:
        return "unknown"
    text = " ".join(str(value).strip().lower().replace("_", " ").replace("-", " ").split())
    aliases = {"": "unknown", "possible intermediate": "intermediate", "indeterminate": "unknown"}
    text = aliases.get(text, text)
    if text not in GENOTYPE_VALUES:
        raise ValueError(
            f"genotype status must be one of {', '.join(GENOTYPE_VALUES)}, "
            f"'possible intermediate' or 'indeterminate', got {value!r}"
        )
    return text


def aza_start_gate(*, tpmt, nudt15) -> Finding | None:
    """R4.2: poor (either gene) → refusal; unknown → warning; otherwise None."""
    statuses = {"TPMT": normalise_genotype(tpmt), "NUDT15": normalise_genotype(nudt15)}
    text = ", ".join(f"{gene} {status}" for gene, status in statuses.items())
    if "poor" in statuses.values():
        poor = " and ".join(gene for gene, status in statuses.items() if status == "poor")
        return Finding(
            code="aza_contraindicated_poor_metaboliser",
            rule="R4.2",
            reason=(
                f"{poor} poor metaboliser ({text}): azathioprine is contraindicated; starting "
                "it is refused unless overridden with a reason (R4.2)."
            ),
        )
    if "unknown" in statuses.values():
        unknown = " and ".join(gene for gene, status in statuses.items() if status == "unknown")
        return Finding(
            code="aza_genotype_unknown",
            rule="R4.2",
            reason=(
                f"{unknown} status unknown ({text}): record TPMT and NUDT15 status before the "
                "first azathioprine dose (R4.2)."
            ),
        )
    return None


def check_aza_dose(
    *, dose_mg, on: date, weights, tpmt, nudt15, xanthine_oxidase_inhibitor: bool
) -> AzaCheck:
    """R4.1/R4.2: the azathioprine dose against weight, genotype and allopurinol/febuxostat.

    * Range 2.0–2.5 mg/kg of the latest weight within 90 days, both bounds rounded to the
      nearest 25 mg (half up) → ``aza_dose_outside_range``; no weight → ``weight_missing``.
    * One intermediate gene → 30–80 % of 2.5 mg/kg, both → 20–50 %, replacing that range:
      below it → ``aza_dose_outside_range``, above it → ``aza_dose_above_genotype_limit``.
      Ambiguity: the lower bound is rounded as in R4.1, but the upper bound is never
      rounded up past the exact CPIC percentage (the rounded bound, or the exact
      limit if rounding would raise it).
    * With a xanthine oxidase inhibitor the dose must be ≤ 33 % of 2.5 mg/kg (exact,
      0.33, not rounded) → ``aza_with_xanthine_oxidase_inhibitor``. Ambiguity: this
      limit then replaces the range, so a reduced dose below it raises no
      ``aza_dose_outside_range`` (that would invite a dangerous increase); without a
      weight the limit cannot be verified and the warning is raised anyway.
    * Either gene poor → contraindicated (R4.2); unknown → ``aza_genotype_unknown``.
    A 0 mg dose (stopped) is never out of range.
    """
    dose = _dose(dose_mg)
    tpmt_status = normalise_genotype(tpmt)
    nudt15_status = normalise_genotype(nudt15)
    statuses = (tpmt_status, nudt15_status)
    warnings: list[Finding] = []
    gate = aza_start_gate(tpmt=tpmt_status, nudt15=nudt15_status)
    contraindicated = "poor" in statuses
    if gate is not None:
        warnings.append(gate)

    weight = _latest_weight(weights, on, AZA_WEIGHT_MAX_AGE_DAYS)
    if weight is None:
        warnings.append(
            Finding(
                code="weight_missing",
                rule="R4.1",
                reason=(
                    f"No weight recorded from {_iso(on - timedelta(days=AZA_WEIGHT_MAX_AGE_DAYS))}"
                    f" to {_iso(on)}: the azathioprine dose of {_fmt(dose)} mg cannot be checked "
                    f"against 2.0–2.5 mg/kg (weight at most {AZA_WEIGHT_MAX_AGE_DAYS} days old) "
                    "(R4.1)."
                ),
            )
        )
        if xanthine_oxidase_inhibitor and dose > 0:
            warnings.append(
                Finding(
                    code="aza_with_xanthine_oxidase_inhibitor",
                    rule="R4.1",
                    reason=(
                        f"Azathioprine {_fmt(dose)} mg with allopurinol or febuxostat: the dose "
                        "must be ≤ 33 % of 2.5 mg/kg, which cannot be verified without a weight "
                        "(R4.1)."
                    ),
                )
            )
        return AzaCheck(
            mg_per_kg=None,
            allowed_range_mg=None,
            warnings=tuple(warnings),
            contraindicated=contraindicated,
            reason=f"Azathioprine {_fmt(dose)} mg on {_iso(on)}: no weight within 90 days (R4.1).",
        )

    when, kg = weight
    mg_per_kg = (dose / kg).quantize(_CENT, rounding=ROUND_HALF_UP)
    full = AZA_MG_PER_KG[1] * kg
    weight_text = f"{_fmt(kg)} kg on {_iso(when)}"
    dose_text = f"Azathioprine {_fmt(dose)} mg ({_fmt(mg_per_kg)} mg/kg, weight {weight_text})"
    if contraindicated:
        return AzaCheck(
            mg_per_kg=mg_per_kg,
            allowed_range_mg=None,
            warnings=tuple(warnings),
            contraindicated=True,
            reason=f"{dose_text}: contraindicated, poor metaboliser (R4.2).",
        )

    intermediates = statuses.count("intermediate")
    if intermediates == 0:
        low = _round_half_up_to(AZA_MG_PER_KG[0] * kg, AZA_ROUND_TO_MG)
        high = _round_half_up_to(full, AZA_ROUND_TO_MG)
        range_text = (
            f"2.0–2.5 mg/kg = {_fmt(AZA_MG_PER_KG[0] * kg)}–{_fmt(full)} mg, rounded to the "
            f"nearest 25 mg: {_fmt(low)}–{_fmt(high)} mg (R4.1)"
        )
        genotype_limited = False
    else:
        low_fraction, high_fraction = (
            AZA_ONE_INTERMEDIATE_FRACTION if intermediates == 1 else AZA_BOTH_INTERMEDIATE_FRACTION
        )
        exact_high = high_fraction * full
        low = _round_half_up_to(low_fraction * full, AZA_ROUND_TO_MG)
        high = min(_round_half_up_to(exact_high, AZA_ROUND_TO_MG), exact_high)
        who = "one gene intermediate" if intermediates == 1 else "both genes intermediate"
        range_text = (
            f"{who}: {_fmt(low_fraction * 100)}–{_fmt(high_fraction * 100)} % of 2.5 mg/kg "
            f"({_fmt(full)} mg) = {_fmt(low_fraction * full)}–{_fmt(exact_high)} mg, allowed "
            f"{_fmt(low)}–{_fmt(high)} mg (R4.2)"
        )
        genotype_limited = True
    allowed = (_clean(low), _clean(high))

    if dose > 0:
        if xanthine_oxidase_inhibitor:
            xo_limit = AZA_XANTHINE_OXIDASE_FRACTION * full
            allowed = (_ZERO, _clean(min(xo_limit, high)))
            if dose > xo_limit:
                warnings.append(
                    Finding(
                        code="aza_with_xanthine_oxidase_inhibitor",
                        rule="R4.1",
                        reason=(
                            f"{dose_text} with allopurinol or febuxostat is above 33 % of "
                            f"2.5 mg/kg = 0.33 × {_fmt(full)} = {_fmt(xo_limit)} mg (R4.1)."
                        ),
                    )
                )
            if genotype_limited and dose > high:
                warnings.append(
                    Finding(
                        code="aza_dose_above_genotype_limit",
                        rule="R4.2",
                        reason=f"{dose_text} is above the genotype limit: {range_text}.",
                    )
                )
        elif dose > high and genotype_limited:
            warnings.append(
                Finding(
                    code="aza_dose_above_genotype_limit",
                    rule="R4.2",
                    reason=f"{dose_text} is above the genotype limit: {range_text}.",
                )
            )
        elif dose > high or dose < low:
            warnings.append(
                Finding(
                    code="aza_dose_outside_range",
                    rule="R4.2" if genotype_limited else "R4.1",
                    reason=f"{dose_text} is outside the range: {range_text}.",
                )
            )
    codes = ", ".join(finding.code for finding in warnings) or "within range"
    reason = f"{dose_text}: {codes}; {range_text}"
    if xanthine_oxidase_inhibitor:
        reason += f"; with a xanthine oxidase inhibitor at most {_fmt(allowed[1])} mg (R4.1)"
    return AzaCheck(
        mg_per_kg=mg_per_kg,
        allowed_range_mg=allowed,
        warnings=tuple(warnings),
        contraindicated=False,
        reason=reason + ".",
    )


# ---------------------------------------------------------------------------
# R4.3 blood monitoring
# ---------------------------------------------------------------------------


def _checkpoint_days() -> Iterator[int]:
    yield from BLOOD_CHECKPOINT_DAYS
    day = BLOOD_CHECKPOINT_DAYS[-1]
    while True:
        day += BLOOD_CHECKPOINT_EVERY_DAYS
        yield day


def blood_checkpoints(anchor: date, until: date) -> list[date]:
    """R4.3: anchor + 14, 28, 56, 84 days, then every 84 days, up to and including ``until``."""
    result = []
    for day in _checkpoint_days():
        checkpoint = anchor + timedelta(days=day)
        if checkpoint > until:
            return result
        result.append(checkpoint)


def next_blood_test_due(
    *, aza_history: Iterable[DoseRow], blood_count_dates: Iterable[date], as_of: date
) -> date | None:
    """R4.3 / R7 ``blood_test_due``: None when azathioprine is not active on ``as_of``.

    Anchor = AZA start or last AZA dose change (a restart is a change). The due date is
    the first checkpoint more than 7 days after the most recent blood count (WBC date)
    taken on or after the anchor and on or before ``as_of``; the first checkpoint if none.
    """
    rows = _rows(aza_history, on=as_of)
    if not rows or rows[-1].dose_mg <= 0:
        return None
    anchor = _changes(rows)[-1].date
    counts = [when for when in blood_count_dates if anchor <= when <= as_of]
    latest = max(counts) if counts else None
    for day in _checkpoint_days():
        checkpoint = anchor + timedelta(days=day)
        if latest is None or (checkpoint - latest).days > BLOOD_COVER_DAYS:
            return checkpoint
    return None  # pragma: no cover - the checkpoint series is endless


# ---------------------------------------------------------------------------
# R4.5 thiopurine metabolites
# ---------------------------------------------------------------------------

METABOLITE_TEXTS = {
    "not_steady_state": "not at steady state",
    "possible_non_adherence": "possible non-adherence",
    "shunter": "preferential methylation (shunter)",
    "subtherapeutic": "subtherapeutic",
    "therapeutic": "therapeutic",
    "supratherapeutic": "supratherapeutic: myelotoxicity risk",
}


def interpret_metabolites(
    *, tgn, mmp, sample_date: date, last_aza_change: date | None
) -> MetaboliteInterpretation:
    """R4.5: the first matching row of the interpretation table, and the 6-MMP flag.

    Ambiguities (safest readings): a 6-MMP > 5700 is flagged as a hepatotoxicity
    risk even when the sample is not at steady state (the value is real, only its
    interpretation waits); a change dated after the sample counts as "less than
    28 days"; with no AZA change recorded the sample is interpreted.
    """
    tgn_value = _dec(tgn, "6-TGN")
    mmp_value = _dec(mmp, "6-MMP")
    if tgn_value < 0 or mmp_value < 0:
        raise ValueError("6-TGN and 6-MMP must not be negative")
    hepatotoxic = mmp_value > MMP_HEPATOTOXIC_ABOVE
    values = (
        f"6-TGN {_fmt(tgn_value)}, 6-MMP {_fmt(mmp_value)} pmol/8×10⁸ RBC on {_iso(sample_date)}"
    )
    flag = " 6-MMP above 5700: hepatotoxicity risk." if hepatotoxic else ""

    def result(code: str, why: str) -> MetaboliteInterpretation:
        return MetaboliteInterpretation(
            code=code,
            text=METABOLITE_TEXTS[code],
            hepatotoxicity_risk=hepatotoxic,
            rule="R4.5",
            reason=f"{values}: {why} → {METABOLITE_TEXTS[code]} (R4.5).{flag}",
        )

    if last_aza_change is not None:
        days = (sample_date - last_aza_change).days
        if days < METABOLITE_STEADY_STATE_DAYS:
            return result(
                "not_steady_state",
                f"sampled {_plural(days, 'day')} after the azathioprine dose change on "
                f"{_iso(last_aza_change)}, less than {METABOLITE_STEADY_STATE_DAYS}; not "
                "interpreted",
            )
    if tgn_value < TGN_NON_ADHERENCE_BELOW and mmp_value < MMP_NON_ADHERENCE_BELOW:
        return result("possible_non_adherence", "6-TGN < 100 and 6-MMP < 1000")
    if tgn_value < TGN_THERAPEUTIC[0]:
        if mmp_value > MMP_HEPATOTOXIC_ABOVE:
            return result("shunter", "6-TGN < 235 and 6-MMP > 5700")
        if tgn_value == 0 or mmp_value / tgn_value > MMP_TGN_RATIO_SHUNTER_ABOVE:
            ratio = (
                "∞"
                if tgn_value == 0
                else _fmt((mmp_value / tgn_value).quantize(_CENT, rounding=ROUND_HALF_UP))
            )
            return result("shunter", f"6-TGN < 235 and 6-MMP/6-TGN = {ratio} > 11")
        return result("subtherapeutic", "6-TGN < 235")
    if tgn_value <= TGN_THERAPEUTIC[1]:
        return result("therapeutic", "6-TGN 235–450")
    return result("supratherapeutic", "6-TGN > 450")
