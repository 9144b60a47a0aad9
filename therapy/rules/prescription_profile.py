"""Pure R9.1/R9.2 prescription facts (clinical-rules.md R9): the programme profile, the
prescription row, the risk category and its printed text, the dispense-by date, void
prescriptions, the quantity, the course a prescription belongs to and its supply.

The R9.3 checks and the R9.4 reminder date are in ``therapy.rules.prescriptions``,
which re-exports every public name here (the other apps import that module only);
the readings chosen where the spec is open ("Ambiguity") are listed there.

No Django imports and no clock: plain values in, plain values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from thalimon.said import Said, say
from therapy.rules.doses import DoseRow, clean_decimal, decimal_of, dose_of, is_multiple, rows_until
from therapy.rules.thalidomide import ThalidomidePatient, pregnancy_rules_apply_to

# ---------------------------------------------------------------------------
# Profiles and risk categories (R9.1, R9.2)
# ---------------------------------------------------------------------------

# R9.2 risk categories.
FEMALE_REPRODUCTIVE_POTENTIAL = "female_reproductive_potential"
FEMALE_NOT_REPRODUCTIVE_POTENTIAL = "female_not_reproductive_potential"
MALE = "male"
RISK_CATEGORIES = (FEMALE_REPRODUCTIVE_POTENTIAL, FEMALE_NOT_REPRODUCTIVE_POTENTIAL, MALE)
CATEGORY_TEXTS = {
    FEMALE_REPRODUCTIVE_POTENTIAL: say("Female of reproductive potential"),
    FEMALE_NOT_REPRODUCTIVE_POTENTIAL: say("Female not of reproductive potential"),
    MALE: say("Male"),
}
# The category inside a sentence ("… for a male patient").
CATEGORY_WORDS = {
    FEMALE_REPRODUCTIVE_POTENTIAL: say("female of reproductive potential"),
    FEMALE_NOT_REPRODUCTIVE_POTENTIAL: say("female not of reproductive potential"),
    MALE: say("male"),
}
REMS_ADULT_FROM_AGE = 18  # R9.2: "child" under 18 on the issue date

# R9.1 programme profiles.
EU_PPP = "eu_ppp"
US_REMS = "us_rems"
PROGRAMMES = (EU_PPP, US_REMS)
PROGRAMME_TEXTS = {
    EU_PPP: say("the EU pregnancy-prevention programme"),
    US_REMS: say("the US REMS"),
}
COURSE_LEAD_DAYS = 7  # R9.1: the course whose start − 7 days ≤ the issue date


@dataclass(frozen=True)
class Programme:
    """R9.1 profile values (``programme()`` builds one from the profile's defaults)."""

    name: str  # "eu_ppp" | "us_rems"
    max_days_reproductive_potential: int
    max_days_other: int
    test_window_days: int  # a negative test dated issue − N … issue
    dispense_days_reproductive_potential: int
    dispense_days_other: int | None  # None = not checked
    authorisation_required: bool
    unit_mg: Decimal
    halves_allowed: bool

    @property
    def text(self) -> Said:
        return PROGRAMME_TEXTS[self.name]


PROFILES = {
    EU_PPP: dict(
        max_days_reproductive_potential=28,
        max_days_other=84,
        test_window_days=3,
        dispense_days_reproductive_potential=7,
        dispense_days_other=None,
        authorisation_required=False,
    ),
    US_REMS: dict(
        max_days_reproductive_potential=28,
        max_days_other=28,
        test_window_days=7,
        dispense_days_reproductive_potential=7,
        dispense_days_other=30,
        authorisation_required=True,
    ),
}


def programme(name: str, *, unit_mg=Decimal("25"), halves_allowed=True, **overrides) -> Programme:
    """The R9.1 profile ``name`` with its defaults, each overridable by field name.

    An override is taken as given: ``dispense_days_other=None`` means "not checked".
    """
    if name not in PROGRAMMES:
        raise ValueError(
            f"prescription programme must be one of {', '.join(PROGRAMMES)}, got {name!r}"
        )
    unknown = set(overrides) - set(PROFILES[name])
    if unknown:
        raise ValueError(f"unknown prescription programme values: {', '.join(sorted(unknown))}")
    values = {**PROFILES[name], **overrides}
    for key, value in values.items():
        if key == "authorisation_required":
            continue
        if value is None and key == "dispense_days_other":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a whole number of days of at least 1, got {value!r}")
    unit = decimal_of(unit_mg, "unit_mg")
    if unit <= 0:
        raise ValueError(f"unit_mg must be above 0, got {unit_mg!r}")
    values["authorisation_required"] = bool(values["authorisation_required"])
    return Programme(name=name, unit_mg=unit, halves_allowed=bool(halves_allowed), **values)


@dataclass(frozen=True)
class PrescriptionRow:
    issue_date: date
    dose_mg: Decimal
    days_supply: int
    contraception_confirmed: bool
    dispensed_date: date | None = None
    authorisation: str = ""


# ---------------------------------------------------------------------------
# R9.1 / R9.2 helpers
# ---------------------------------------------------------------------------


def risk_category(patient: ThalidomidePatient) -> str:
    """R9.2: the patient's risk category (validates ``sex``)."""
    if pregnancy_rules_apply_to(patient):
        return FEMALE_REPRODUCTIVE_POTENTIAL
    return FEMALE_NOT_REPRODUCTIVE_POTENTIAL if patient.sex == "F" else MALE


def category_patient(*, sex: str, female_of_reproductive_potential: bool) -> ThalidomidePatient:
    """The least ThalidomidePatient R9.4 needs (its risk category sets the dispense-by date)."""
    return ThalidomidePatient(
        regimen="adult",
        target_dose_mg=None,
        sex=sex,
        female_of_reproductive_potential=bool(female_of_reproductive_potential),
        irregular_cycles=None,
        contraception_start=None,
    )


def category_text(category: str, programme: Programme, *, birth_date: date | None, on: date) -> Said:
    """R9.2: the printed category; under ``us_rems`` it also says adult or child (< 18 on ``on``)."""
    text = CATEGORY_TEXTS[category]
    if programme.name != US_REMS:
        return text
    if birth_date is None:
        return say("%(category)s, age unknown", category=text)
    if age_on(birth_date, on) >= REMS_ADULT_FROM_AGE:
        return say("%(category)s, adult", category=text)
    return say("%(category)s, child", category=text)


def age_on(birth_date: date, on: date) -> int:
    """Completed years on ``on`` (a 29 February birthday counts on 1 March; clinical-rules.md)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def max_days_supply(risk_category: str, programme: Programme) -> int:
    """R9.1: the longest supply for the category."""
    if risk_category == FEMALE_REPRODUCTIVE_POTENTIAL:
        return programme.max_days_reproductive_potential
    return programme.max_days_other


def dispense_by_date(issue_date: date, risk_category: str, programme: Programme) -> date | None:
    """R9.1: the last day a prescription may be dispensed; None where the profile has none."""
    if risk_category == FEMALE_REPRODUCTIVE_POTENTIAL:
        days = programme.dispense_days_reproductive_potential
    else:
        days = programme.dispense_days_other
    return None if days is None else issue_date + timedelta(days=days)


def is_void(row: PrescriptionRow, *, dispense_by: date | None, on: date) -> bool:
    """R9.1: no dispensed date as seen on ``on`` and ``on`` is after the dispense-by date
    (never without one). A dispensed date after ``on`` is not known yet on ``on`` ("every
    check uses the records dated on or before the issue date"; records after ``as_of`` are
    ignored): the prescription is void until the late dispensing, not void from then on."""
    dispensed = row.dispensed_date is not None and row.dispensed_date <= on
    return not dispensed and dispense_by is not None and on > dispense_by


def dose_step(programme: Programme) -> Decimal:
    """The smallest daily amount that can be dispensed: the unit, or half of it."""
    return programme.unit_mg / 2 if programme.halves_allowed else programme.unit_mg


def quantity_units(dose_mg, days_supply: int, programme: Programme) -> Decimal | None:
    """R9.3: daily dose × days ÷ unit strength; None when the daily dose is not a multiple
    of the unit (or of half of it, where halves are allowed)."""
    dose = dose_of(dose_mg)
    days = days_of(days_supply)
    if dose <= 0 or not is_multiple(dose, dose_step(programme)):
        return None
    return clean_decimal(dose * days / programme.unit_mg)


def course_of_issue(starts: Sequence[date], issue_date: date) -> date | None:
    """R9.1: the start of the course a prescription issued on ``issue_date`` belongs to:
    the latest course start with start − 7 days ≤ issue date; None before any."""
    fitting = [start for start in starts if start - timedelta(days=COURSE_LEAD_DAYS) <= issue_date]
    return max(fitting) if fitting else None


def supply_start(row: PrescriptionRow, on: date) -> date:
    """R9.4: a supply starts on the dispensed date (when on or before ``on``), else the issue date."""
    if row.dispensed_date is not None and row.dispensed_date <= on:
        return row.dispensed_date
    return row.issue_date


def first_day_without(row: PrescriptionRow, on: date) -> date:
    """R9.4: the supply's start + days of supply (the first day without its tablets)."""
    return supply_start(row, on) + timedelta(days=row.days_supply)


def days_of(days_supply) -> int:
    """Days of supply, validated: a whole number of at least 1."""
    if isinstance(days_supply, bool) or not isinstance(days_supply, int) or days_supply < 1:
        raise ValueError(f"days_supply must be a whole number of at least 1, got {days_supply!r}")
    return days_supply


def all_rows(doses: Sequence[DoseRow]) -> list[DoseRow]:
    """Every dose row, in date order (the course starts and the dose look-ahead read all of them)."""
    return rows_until(doses, on=date.max)


def course_prescriptions(
    prescriptions: Sequence[PrescriptionRow], *, starts, course, category, programme, on: date
) -> list[PrescriptionRow]:
    """R9.1: the prescriptions of ``course`` issued on or before ``on`` and not void on it."""
    return sorted(
        (
            p
            for p in prescriptions
            if p.issue_date <= on
            and course_of_issue(starts, p.issue_date) == course
            and not is_void(
                p, dispense_by=dispense_by_date(p.issue_date, category, programme), on=on
            )
        ),
        key=lambda p: p.issue_date,
    )
