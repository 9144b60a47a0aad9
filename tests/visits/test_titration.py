"""R3 thalidomide titration, R4.1–R4.3/R4.5 azathioprine and R5 pregnancy rules
(visits/titration.py), tables worked by hand from clinical-rules.md.

Every expected value is written as a literal worked out on paper from the spec,
never computed by the code under test. Inputs are dated from day 0 = 2024-01-01
(2024 is a leap year), so:

    day −14 = 2023-12-18   day 14 = 2024-01-15   day 84  = 2024-03-25
    day −12 = 2023-12-20   day 21 = 2024-01-22   day 88  = 2024-03-29
    day −10 = 2023-12-22   day 28 = 2024-01-29   day 107 = 2024-04-17
    day −9  = 2023-12-23   day 29 = 2024-01-30   day 114 = 2024-04-24
    day −1  = 2023-12-31   day 39 = 2024-02-09   day 168 = 2024-06-17
    day 0   = 2024-01-01   day 42 = 2024-02-12   day 199 = 2024-07-18
    day 6   = 2024-01-07   day 56 = 2024-02-26   day 249 = 2024-09-06
    day 7   = 2024-01-08   day 60 = 2024-03-01   day 252 = 2024-09-09
    day 13  = 2024-01-14   day 26 = 2024-01-27   day 336 = 2024-12-02
                                                 day 406 = 2025-02-10

No database: the rules are pure functions.
"""

import ast
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from visits.titration import (
    DEVIATION_CODES,
    DoseRow,
    PregnancyTest,
    ThalidomidePatient,
    aza_start_gate,
    blood_checkpoints,
    check_aza_dose,
    check_thalidomide_change,
    check_thalidomide_history,
    course_start,
    cumulative_dose_g,
    current_dose,
    date_cumulative_reached,
    interpret_metabolites,
    last_change,
    latest_neuropathy_grade,
    next_blood_test_due,
    next_pregnancy_test_due,
    normalise_genotype,
    paediatric_cap,
    pre_start_tests_ok,
    pregnancy_coverage,
    pregnancy_test_interval_days,
    stop_date,
    suggest_next_step,
    thalidomide_active,
)

D = Decimal
START = date(2024, 1, 1)


def day(n: int) -> date:
    return START + timedelta(days=n)


def rows(*pairs) -> list[DoseRow]:
    """(day, mg) pairs → dose rows."""
    return [DoseRow(date=day(n), dose_mg=D(str(mg))) for n, mg in pairs]


def row(n: int, mg) -> DoseRow:
    return DoseRow(date=day(n), dose_mg=D(str(mg)))


def negatives(*days) -> tuple[PregnancyTest, ...]:
    return tuple(PregnancyTest(date=day(n), result="negative") for n in days)


def positive(n: int) -> PregnancyTest:
    return PregnancyTest(date=day(n), result="positive")


def grades(*pairs) -> tuple[tuple[date, int], ...]:
    return tuple((day(n), grade) for n, grade in pairs)


def man(**changes) -> ThalidomidePatient:
    """An adult man, neuropathy grade 0 recorded a week before day 0."""
    fields = dict(
        regimen="adult",
        target_dose_mg=None,
        sex="M",
        female_of_reproductive_potential=False,
        irregular_cycles=None,
        contraception_start=None,
        neuropathy=grades((-7, 0)),
    )
    fields.update(changes)
    return ThalidomidePatient(**fields)


def woman(*test_days, **changes) -> ThalidomidePatient:
    """An adult woman of reproductive potential, regular cycles, contraception from day −35,
    negative pregnancy tests on the given days."""
    fields = dict(
        regimen="adult",
        target_dose_mg=None,
        sex="F",
        female_of_reproductive_potential=True,
        irregular_cycles=False,
        contraception_start=day(-35),
        neuropathy=grades((-7, 0)),
        pregnancy_tests=negatives(*test_days),
    )
    fields.update(changes)
    return ThalidomidePatient(**fields)


def child(kg, weighed: int = -1, **changes) -> ThalidomidePatient:
    """A boy on the paediatric regimen weighing ``kg`` on day ``weighed``."""
    fields = dict(
        regimen="paediatric",
        target_dose_mg=None,
        sex="M",
        female_of_reproductive_potential=False,
        irregular_cycles=None,
        contraception_start=None,
        neuropathy=grades((-7, 0)),
        weights=((day(weighed), D(str(kg))),),
    )
    fields.update(changes)
    return ThalidomidePatient(**fields)


RULES_OF_CODE = {
    "start_dose_not_25": {"R3.2"},
    "start_dose_too_high": {"R3.3"},
    "dose_not_in_steps": {"R3.2", "R3.3"},
    "step_too_large": {"R3.2", "R3.3"},
    "step_too_soon": {"R3.2", "R3.3"},
    "above_max_dose": {"R3.2", "R3.3"},
    "step_up_during_neuropathy": {"R3.4"},
    "dose_above_neuropathy_limit": {"R3.4"},
    "continued_despite_grade3_neuropathy": {"R3.4"},
    "no_valid_pregnancy_test": {"R5.2"},
    "dosed_after_positive_pregnancy_test": {"R5.2"},
    "contraception_not_established": {"R5.3"},
    "breastfeeding": {"R5.1"},
}
URGENT = {"continued_despite_grade3_neuropathy", "dosed_after_positive_pregnancy_test"}


def assert_check(check, kind, codes):
    assert check.kind == kind
    assert tuple(finding.code for finding in check.deviations) == codes
    for finding in check.deviations:
        assert finding.rule in RULES_OF_CODE[finding.code]
        assert finding.reason.endswith(f"({finding.rule}).")
        assert finding.urgent is (finding.code in URGENT)


# ---------------------------------------------------------------------------
# R3.1 / R3.2 adult schedule (a man: no pregnancy rules)
# ---------------------------------------------------------------------------

# (history, proposed, kind, deviation codes)
ADULT_CASES = [
    pytest.param([], row(0, 25), "first_dose", (), id="R3.2-start-25"),
    pytest.param([], row(0, 50), "first_dose", ("start_dose_not_25",), id="R3.2-start-50"),
    pytest.param(
        [], row(0, 150), "first_dose", ("start_dose_not_25", "above_max_dose"),
        id="R3.2-start-150-not-25-and-above-max",
    ),
    pytest.param(rows((0, 25)), row(13, 50), "increase", ("step_too_soon",), id="R3.2-step-day-13"),
    pytest.param(rows((0, 25)), row(14, 50), "increase", (), id="R3.2-step-day-14-allowed"),
    pytest.param(rows((0, 25)), row(14, 75), "increase", (), id="R3.2-step-plus-50-allowed"),
    pytest.param(
        rows((0, 25)), row(14, 100), "increase", ("step_too_large",), id="R3.2-step-plus-75"
    ),
    pytest.param(
        rows((0, 25)), row(13, 100), "increase", ("step_too_large", "step_too_soon"),
        id="R3.2-step-plus-75-on-day-13",
    ),
    pytest.param(
        # 100 → 150: a step of 50 after 14 days; 150 is a multiple of 25, so only above max
        rows((0, 25), (14, 50), (28, 100)), row(42, 150), "increase", ("above_max_dose",),
        id="R3.2-150-above-max-but-in-steps",
    ),
    pytest.param(
        rows((0, 25), (14, 50), (28, 100)), row(42, 125), "increase", ("above_max_dose",),
        id="R3.2-125-above-max",
    ),
    pytest.param(
        rows((0, 25)), row(14, 30), "increase", ("dose_not_in_steps",), id="R3.2-30-not-in-steps"
    ),
    pytest.param(
        rows((0, 25)), row(14, "37.5"), "increase", ("dose_not_in_steps",),
        id="R3.2-37.5-not-an-adult-step",
    ),
    pytest.param(
        # the day-10 continuation does not restart the clock: 14 days since day 0
        rows((0, 25), (10, 25)), row(14, 50), "increase", (),
        id="R3.1-continuation-does-not-restart-clock",
    ),
    pytest.param(
        rows((0, 25)), row(10, 25), "continuation", (), id="R3.1-continuation-is-not-a-change"
    ),
    pytest.param(
        # the day-20 decrease is a change: day 28 is 8 days later
        rows((0, 25), (14, 50), (20, 25)), row(28, 50), "increase", ("step_too_soon",),
        id="R3.2-decrease-restarts-clock",
    ),
    pytest.param(
        # a decrease of 75 mg one day after a step: decreases are always allowed
        rows((0, 25), (14, 50), (28, 100)), row(29, 25), "decrease", (),
        id="R3.2-decrease-75mg-next-day-allowed",
    ),
    pytest.param(
        rows((0, 25), (14, 50)), row(15, 0), "stop", (), id="R3.2-stop-next-day-allowed"
    ),
    pytest.param(
        rows((0, 25), (14, 150)), row(15, 0), "stop", (), id="R3.2-stop-from-150-allowed"
    ),
    pytest.param(
        # stop on day 30, 50 mg on day 59: 29 days > 28 → new start
        rows((0, 25), (14, 50), (30, 0)), row(59, 50), "restart", ("start_dose_not_25",),
        id="R3.1-restart-after-29-days-at-50",
    ),
    pytest.param(
        rows((0, 25), (14, 50), (30, 0)), row(59, 25), "restart", (),
        id="R3.1-restart-after-29-days-at-25",
    ),
    pytest.param(
        # 27 days after the stop: an increase from the last dose, 50 → 50 steps nothing up
        rows((0, 25), (14, 50), (30, 0)), row(57, 50), "increase", (),
        id="R3.1-resume-after-27-days-at-50",
    ),
    pytest.param(
        rows((0, 25), (14, 50), (30, 0)), row(58, 50), "increase", (),
        id="R3.1-resume-after-exactly-28-days",
    ),
    pytest.param(
        # 50 → 125 is a step of 75 and above 100
        rows((0, 25), (14, 50), (30, 0)), row(57, 125), "increase",
        ("step_too_large", "above_max_dose"), id="R3.1-resume-after-27-days-plus-75",
    ),
    pytest.param(
        # 50 → 75, 10 days after the stop (the latest change)
        rows((0, 25), (14, 50), (30, 0)), row(40, 75), "increase", ("step_too_soon",),
        id="R3.1-resume-10-days-after-stop-higher",
    ),
    pytest.param(
        rows((0, 25), (14, 50), (30, 0)), row(40, 25), "increase", (),
        id="R3.1-resume-10-days-after-stop-lower",
    ),
    pytest.param(
        rows((0, 25), (30, 0)), row(35, 0), "continuation", (), id="R3.1-zero-after-stop"
    ),
    # dose-level codes hold on a decrease too (R3.2 dose multiples / maximum)
    pytest.param(
        rows((0, 25), (14, 50)), row(28, 30), "decrease", ("dose_not_in_steps",),
        id="R3.2-decrease-to-30-not-in-steps",
    ),
    pytest.param(
        rows((0, 25), (14, 50), (28, 100), (42, 150)), row(43, 125), "decrease",
        ("above_max_dose",), id="R3.2-decrease-150-to-125-still-above-max",
    ),
]


@pytest.mark.parametrize("history, proposed, kind, codes", ADULT_CASES)
def test_r3_2_adult_schedule(history, proposed, kind, codes):
    check = check_thalidomide_change(patient=man(), history=history, proposed=proposed)
    assert_check(check, kind, codes)


def test_r3_2_step_too_soon_reason_names_the_numbers():
    check = check_thalidomide_change(patient=man(), history=rows((0, 25)), proposed=row(13, 50))
    (finding,) = check.deviations
    assert finding.code == "step_too_soon"
    assert finding.rule == "R3.2"
    assert finding.reason == (
        "Increase from 25 to 50 mg on day 13, 13 days after the previous change on "
        "2024-01-01; steps need at least 14 days (R3.2)."
    )
    assert finding.urgent is False


# (history, proposed, previous dose, days since previous change)
PREVIOUS_CASES = [
    pytest.param([], row(0, 25), None, None, id="R3.1-first-dose-no-previous"),
    pytest.param(rows((0, 25)), row(13, 50), D("25"), 13, id="R3.1-increase"),
    pytest.param(rows((0, 25), (10, 25)), row(14, 50), D("25"), 14, id="R3.1-after-continuation"),
    pytest.param(rows((0, 25), (14, 50), (28, 100)), row(29, 25), D("100"), 1, id="R3.1-decrease"),
    pytest.param(rows((0, 25), (14, 50), (30, 0)), row(59, 25), D("0"), 29, id="R3.1-restart"),
    pytest.param(rows((0, 25), (14, 50), (30, 0)), row(57, 50), D("50"), 27, id="R3.1-resume"),
]


@pytest.mark.parametrize("history, proposed, previous, days", PREVIOUS_CASES)
def test_r3_1_previous_dose_and_days(history, proposed, previous, days):
    check = check_thalidomide_change(patient=man(), history=history, proposed=proposed)
    assert check.previous_dose_mg == previous
    assert check.days_since_previous_change == days


def test_r3_5_rows_on_or_after_the_proposed_date_are_ignored():
    # the stored day-14 row (being edited) and the later day-20 row are not history
    history = rows((20, 100), (0, 25), (14, 50))
    check = check_thalidomide_change(patient=man(), history=history, proposed=row(14, 50))
    assert_check(check, "increase", ())
    assert check.previous_dose_mg == D("25")


def test_r3_5_records_after_the_date_are_ignored():
    patient = man(
        neuropathy=grades((-7, 0), (20, 3)),
        breastfeeding=((day(20), True),),
        pregnancy_tests=(positive(20),),
    )
    check = check_thalidomide_change(patient=patient, history=rows((0, 25)), proposed=row(14, 50))
    assert_check(check, "increase", ())


# ---------------------------------------------------------------------------
# R3.3 paediatric schedule
# ---------------------------------------------------------------------------

# 18 kg: cap = largest step ≤ min(2 × 18 = 36, 50) = 25; 1–2 mg/kg = 18–36 mg → 25 fits.
# 30 kg: min(60, 50) = 50 → cap 50.  6 kg: 2 × 6 = 12 < 12.5 → no step at all.
# 6.25 kg: 12.5 → cap 12.5.  55 kg: cap 50 but 1–2 mg/kg = 55–110 mg → no step fits.
# (patient, history, proposed, kind, codes)
PAEDIATRIC_CASES = [
    pytest.param(child(18), [], row(0, "12.5"), "first_dose", (), id="R3.3-18kg-start-12.5"),
    pytest.param(child(18), [], row(0, 25), "first_dose", (), id="R3.3-18kg-start-25"),
    pytest.param(
        child(18), [], row(0, "37.5"), "first_dose", ("start_dose_too_high", "above_max_dose"),
        id="R3.3-18kg-start-37.5-too-high-and-above-cap-25",
    ),
    pytest.param(
        child(30), [], row(0, "37.5"), "first_dose", ("start_dose_too_high",),
        id="R3.3-30kg-start-37.5-too-high",
    ),
    pytest.param(
        child(18), rows((0, 25)), row(14, "37.5"), "increase", ("above_max_dose",),
        id="R3.3-18kg-37.5-above-cap-25",
    ),
    pytest.param(
        child(18), rows((0, "12.5")), row(14, 25), "increase", (), id="R3.3-18kg-12.5-to-25"
    ),
    pytest.param(
        child(18), rows((0, "12.5")), row(13, 25), "increase", ("step_too_soon",),
        id="R3.3-step-day-13",
    ),
    pytest.param(
        child(30), rows((0, "12.5")), row(14, 50), "increase", ("step_too_large",),
        id="R3.3-30kg-step-plus-37.5",
    ),
    pytest.param(child(30), rows((0, 25)), row(14, 50), "increase", (), id="R3.3-30kg-step-plus-25"),
    pytest.param(
        child(18), rows((0, "12.5")), row(14, 20), "increase", ("dose_not_in_steps",),
        id="R3.3-20mg-not-a-half-tablet-step",
    ),
    pytest.param(
        child(30), rows((0, 25), (14, 50)), row(28, "62.5"), "increase", ("above_max_dose",),
        id="R3.3-30kg-62.5-above-cap-but-a-multiple-of-12.5",
    ),
    pytest.param(
        child(6), [], row(0, "12.5"), "first_dose", ("start_dose_too_high", "above_max_dose"),
        id="R3.3-6kg-every-start-above-max",
    ),
    pytest.param(
        child(6), rows((0, "12.5")), row(14, "12.5"), "continuation", ("above_max_dose",),
        id="R3.3-6kg-every-dose-above-max",
    ),
    pytest.param(child("6.25"), [], row(0, "12.5"), "first_dose", (), id="R3.3-6.25kg-cap-12.5"),
    pytest.param(
        child(18, weighed=-40), [], row(0, 25), "first_dose", (),
        id="R3.3-weight-40-days-old-start-25",
    ),
    pytest.param(
        child(18, weighed=-40), [], row(0, "37.5"), "first_dose", ("start_dose_too_high",),
        id="R3.3-weight-40-days-old-start-37.5",
    ),
    pytest.param(
        child(18, weighed=-40), [], row(0, "62.5"), "first_dose",
        ("start_dose_too_high", "above_max_dose"), id="R3.3-weight-40-days-old-62.5-above-50",
    ),
    pytest.param(
        child(30, weighed=55), rows((0, 25), (14, 50), (30, 0)), row(59, "37.5"), "restart",
        ("start_dose_too_high",), id="R3.3-restart-after-29-days-at-37.5",
    ),
    pytest.param(
        child(30, weighed=55), rows((0, 25), (14, 50), (30, 0)), row(57, 50), "increase", (),
        id="R3.3-resume-after-27-days-at-50",
    ),
    pytest.param(child(55), [], row(0, 25), "first_dose", (), id="R3.3-55kg-start-25"),
    pytest.param(
        child(18), rows((0, 25), (14, 25)), row(20, "12.5"), "decrease", (),
        id="R3.3-decrease-allowed",
    ),
]


@pytest.mark.parametrize("patient, history, proposed, kind, codes", PAEDIATRIC_CASES)
def test_r3_3_paediatric_schedule(patient, history, proposed, kind, codes):
    check = check_thalidomide_change(patient=patient, history=history, proposed=proposed)
    assert_check(check, kind, codes)


def test_r3_3_above_cap_reason_names_the_numbers():
    check = check_thalidomide_change(
        patient=child(18), history=rows((0, 25)), proposed=row(14, "37.5")
    )
    (finding,) = check.deviations
    assert finding.rule == "R3.3"
    assert "37.5 mg" in finding.reason
    assert "cap 25 mg" in finding.reason
    assert "= 36 mg" in finding.reason
    assert "18 kg" in finding.reason


# (weights, on, cap, warning code)
CAP_CASES = [
    pytest.param(((-1, "18"),), 0, D("25"), None, id="R3.3-18kg-cap-25"),
    pytest.param(((-1, "30"),), 0, D("50"), None, id="R3.3-30kg-cap-50"),
    pytest.param(((-1, "25"),), 0, D("50"), None, id="R3.3-25kg-2mgkg-is-50"),
    pytest.param(((-1, "24"),), 0, D("37.5"), None, id="R3.3-24kg-48mg-cap-37.5"),
    pytest.param(((-1, "6.25"),), 0, D("12.5"), None, id="R3.3-6.25kg-cap-12.5"),
    pytest.param(((-1, "6"),), 0, None, "no_step_under_cap", id="R3.3-6kg-no-step"),
    pytest.param(((-1, "50"),), 0, D("50"), None, id="R3.3-50kg-50-is-1mgkg"),
    pytest.param(((-1, "55"),), 0, D("50"), "no_step_in_target_range", id="R3.3-55kg-no-step-1-2"),
    pytest.param(((-30, "18"),), 0, D("25"), None, id="R3.3-weight-30-days-old-counts"),
    pytest.param(((-31, "18"),), 0, None, "weight_missing", id="R3.3-weight-31-days-old"),
    pytest.param((), 0, None, "weight_missing", id="R3.3-no-weight"),
    pytest.param(((5, "18"),), 0, None, "weight_missing", id="R3.3-weight-after-date-ignored"),
    pytest.param(((-20, "30"), (-1, "18")), 0, D("25"), None, id="R3.3-latest-weight-counts"),
    pytest.param(((-1, "19"), (-1, "18")), 0, D("25"), None, id="R3.3-same-day-lower-weight"),
]


@pytest.mark.parametrize("weights, on, cap, warning", CAP_CASES)
def test_r3_3_paediatric_cap(weights, on, cap, warning):
    patient = child(18, weights=tuple((day(n), D(kg)) for n, kg in weights))
    got_cap, finding = paediatric_cap(patient, day(on))
    assert got_cap == cap
    assert (finding.code if finding else None) == warning
    if finding:
        assert finding.rule == "R3.3"
        assert finding.reason.endswith("(R3.3).")


# ---------------------------------------------------------------------------
# R3.4 neuropathy
# ---------------------------------------------------------------------------

# (neuropathy (day, grade), history, proposed, kind, codes)
NEUROPATHY_CASES = [
    pytest.param(
        ((-7, 0), (10, 2)), rows((0, 25)), row(14, 50), "increase",
        ("step_up_during_neuropathy",), id="R3.4-step-while-grade-2-unresolved",
    ),
    pytest.param(
        ((-7, 0), (10, 2), (13, 0)), rows((0, 25)), row(14, 50), "increase", (),
        id="R3.4-step-after-resolved-to-0",
    ),
    pytest.param(
        ((-7, 0), (20, 1)), rows((0, 25), (14, 50)), row(28, 75), "increase",
        ("step_up_during_neuropathy", "dose_above_neuropathy_limit"),
        id="R3.4-step-to-75-at-grade-1",
    ),
    pytest.param(
        ((-7, 0), (35, 1)), rows((0, 25), (14, 50), (28, 75)), row(42, 75), "continuation",
        ("dose_above_neuropathy_limit",), id="R3.4-adult-75-continuation-grade-1",
    ),
    pytest.param(
        ((-7, 0), (35, 1)), rows((0, 25), (14, 50)), row(42, 50), "continuation", (),
        id="R3.4-adult-50-continuation-grade-1-allowed",
    ),
    pytest.param(
        ((-7, 0), (35, 1)), rows((0, 25), (14, 50), (28, 100)), row(42, 75), "decrease",
        ("dose_above_neuropathy_limit",), id="R3.4-decrease-100-to-75-still-above-50",
    ),
    pytest.param(
        ((-7, 0), (35, 1)), rows((0, 25), (14, 50), (28, 100)), row(42, 50), "decrease", (),
        id="R3.4-decrease-to-50-at-grade-1",
    ),
    pytest.param(
        ((-7, 1),), [], row(0, 75), "first_dose",
        ("start_dose_not_25", "dose_above_neuropathy_limit"), id="R3.4-start-75-at-grade-1",
    ),
    pytest.param(
        ((-7, 0), (18, 3)), rows((0, 25)), row(20, 25), "continuation",
        ("continued_despite_grade3_neuropathy",), id="R3.4-grade-3-any-dose-25",
    ),
    pytest.param(
        ((-7, 0), (40, 3)), rows((0, 25), (14, 50), (28, 100)), row(42, 100), "continuation",
        ("dose_above_neuropathy_limit", "continued_despite_grade3_neuropathy"),
        id="R3.4-grade-3-at-100",
    ),
    pytest.param(
        ((-7, 0), (29, 4)), rows((0, 25), (14, 50)), row(30, 25), "decrease",
        ("continued_despite_grade3_neuropathy",), id="R3.4-grade-4-decrease-still-dosed",
    ),
    pytest.param(
        ((-7, 0), (29, 3)), rows((0, 25), (14, 50)), row(30, 0), "stop", (),
        id="R3.4-grade-3-stop-allowed",
    ),
    pytest.param(
        ((20, 0), (20, 3)), rows((0, 25)), row(21, 25), "continuation",
        ("continued_despite_grade3_neuropathy",), id="R3.4-same-day-grades-the-higher",
    ),
    pytest.param(
        ((-7, 0), (18, 3), (19, 0)), rows((0, 25)), row(20, 25), "continuation", (),
        id="R3.4-latest-grade-0-counts",
    ),
]


@pytest.mark.parametrize("neuropathy, history, proposed, kind, codes", NEUROPATHY_CASES)
def test_r3_4_neuropathy(neuropathy, history, proposed, kind, codes):
    patient = man(neuropathy=grades(*neuropathy))
    check = check_thalidomide_change(patient=patient, history=history, proposed=proposed)
    assert_check(check, kind, codes)


def test_r3_4_grade_3_is_urgent():
    patient = man(neuropathy=grades((-7, 0), (18, 3)))
    check = check_thalidomide_change(patient=patient, history=rows((0, 25)), proposed=row(20, 25))
    (finding,) = check.deviations
    assert finding.urgent is True
    assert check.urgent is True
    assert "grade 3" in finding.reason


PAEDIATRIC_NEUROPATHY_CASES = [
    pytest.param(
        ((-7, 0), (10, 1)), rows((0, "12.5")), row(14, 25), ("step_up_during_neuropathy",),
        id="R3.4-child-step-at-grade-1",
    ),
    pytest.param(
        # the 50 mg adult limit is for adults only
        ((-7, 0), (10, 1)), rows((0, 25), (14, 50)), row(28, 50), (),
        id="R3.4-child-50-continuation-grade-1-no-adult-limit",
    ),
    pytest.param(
        ((-7, 0), (10, 3)), rows((0, 25)), row(14, 25), ("continued_despite_grade3_neuropathy",),
        id="R3.4-child-grade-3",
    ),
]


@pytest.mark.parametrize("neuropathy, history, proposed, codes", PAEDIATRIC_NEUROPATHY_CASES)
def test_r3_4_neuropathy_paediatric(neuropathy, history, proposed, codes):
    patient = child(30, neuropathy=grades(*neuropathy))
    check = check_thalidomide_change(patient=patient, history=history, proposed=proposed)
    assert tuple(finding.code for finding in check.deviations) == codes


# (neuropathy, on, grade)
GRADE_CASES = [
    pytest.param((), 0, None, id="R3.4-no-grade"),
    pytest.param(((0, 1),), 0, 1, id="R3.4-grade-on-the-day"),
    pytest.param(((0, 1), (5, 2)), 4, 1, id="R3.4-later-grade-ignored"),
    pytest.param(((0, 1), (5, 2)), 9, 2, id="R3.4-latest-grade"),
    pytest.param(((5, 1), (5, 3), (5, 0)), 5, 3, id="R3.4-same-day-higher"),
    pytest.param(((5, 3), (6, 0)), 6, 0, id="R3.4-resolved"),
]


@pytest.mark.parametrize("neuropathy, on, grade", GRADE_CASES)
def test_r3_4_latest_neuropathy_grade(neuropathy, on, grade):
    assert latest_neuropathy_grade(man(neuropathy=grades(*neuropathy)), day(on)) == grade


# ---------------------------------------------------------------------------
# R5 pregnancy prevention in the dose check
# ---------------------------------------------------------------------------

BEFORE = (-12, 0)  # the two pre-start tests
WEEKLY = (-12, 0, 7, 14, 21)

# (patient, history, proposed, kind, codes)
PREGNANCY_CASES = [
    pytest.param(woman(*BEFORE), [], row(0, 25), "first_dose", (), id="R5.2-pre-start-day-12-and-0"),
    pytest.param(
        woman(-9, 0), [], row(0, 25), "first_dose", ("no_valid_pregnancy_test",),
        id="R5.2-pre-start-day-9-too-late",
    ),
    pytest.param(woman(-14, -1), [], row(0, 25), "first_dose", (), id="R5.2-pre-start-day-14-and-1"),
    pytest.param(
        woman(0), [], row(0, 25), "first_dose", ("no_valid_pregnancy_test",),
        id="R5.2-pre-start-only-day-0",
    ),
    pytest.param(
        woman(-12, -2), [], row(0, 25), "first_dose", ("no_valid_pregnancy_test",),
        id="R5.2-pre-start-day-2-not-within-24h",
    ),
    pytest.param(
        woman(-12, 0, 7), rows((0, 25)), row(14, 50), "increase", (),
        id="R5.2-increase-day-14-test-day-7-covers-to-14",
    ),
    pytest.param(
        woman(*BEFORE), rows((0, 25)), row(14, 50), "increase", ("no_valid_pregnancy_test",),
        id="R5.2-increase-day-14-last-test-day-0-covers-to-7",
    ),
    pytest.param(
        woman(*WEEKLY), rows((0, 25), (14, 50)), row(28, 50), "continuation", (),
        id="R5.2-test-day-21-covers-to-day-28",
    ),
    pytest.param(
        woman(*WEEKLY), rows((0, 25), (14, 50)), row(29, 50), "continuation",
        ("no_valid_pregnancy_test",), id="R5.2-test-day-21-not-day-29",
    ),
    pytest.param(
        woman(*WEEKLY, 28), rows((0, 25), (14, 50)), row(56, 50), "continuation", (),
        id="R5.2-test-day-28-regular-covers-to-day-56",
    ),
    pytest.param(
        woman(*WEEKLY, 28), rows((0, 25), (14, 50)), row(57, 50), "continuation",
        ("no_valid_pregnancy_test",), id="R5.2-test-day-28-regular-not-day-57",
    ),
    pytest.param(
        woman(*WEEKLY, 28, irregular_cycles=True), rows((0, 25), (14, 50)), row(42, 50),
        "continuation", (), id="R5.2-test-day-28-irregular-covers-to-day-42",
    ),
    pytest.param(
        woman(*WEEKLY, 28, irregular_cycles=True), rows((0, 25), (14, 50)), row(43, 50),
        "continuation", ("no_valid_pregnancy_test",), id="R5.2-test-day-28-irregular-not-43",
    ),
    pytest.param(
        woman(*WEEKLY, 28, irregular_cycles=None), rows((0, 25), (14, 50)), row(43, 50),
        "continuation", ("no_valid_pregnancy_test",), id="R5.2-cycles-unknown-as-irregular",
    ),
    pytest.param(
        woman(*BEFORE), rows((0, 25), (14, 50)), row(40, 25), "decrease", (),
        id="R5.2-decrease-needs-no-test",
    ),
    pytest.param(
        woman(*BEFORE), rows((0, 25), (14, 50)), row(40, 0), "stop", (),
        id="R5.2-stop-needs-no-test",
    ),
    pytest.param(
        woman(-12, 0, 7, 14, pregnancy_tests=negatives(-12, 0, 7, 14) + (positive(20),)),
        rows((0, 25), (14, 50)), row(21, 50), "continuation",
        ("no_valid_pregnancy_test", "dosed_after_positive_pregnancy_test"),
        id="R5.2-positive-then-dose",
    ),
    pytest.param(
        woman(pregnancy_tests=negatives(-12, 0, 7, 14) + (positive(20),)),
        rows((0, 25), (14, 50)), row(21, 25), "decrease",
        ("dosed_after_positive_pregnancy_test",), id="R5.2-positive-then-decrease",
    ),
    pytest.param(
        # negative on day 22 clears it and covers days 22–29
        woman(pregnancy_tests=negatives(-12, 0, 7, 14, 22) + (positive(20),)),
        rows((0, 25), (14, 50)), row(23, 50), "continuation", (),
        id="R5.2-positive-cleared-by-later-negative",
    ),
    pytest.param(
        woman(pregnancy_tests=negatives(-12, 0, 7, 14, 20) + (positive(20),)),
        rows((0, 25), (14, 50)), row(21, 50), "continuation",
        ("no_valid_pregnancy_test", "dosed_after_positive_pregnancy_test"),
        id="R5.2-same-day-negative-does-not-clear",
    ),
    pytest.param(
        woman(pregnancy_tests=negatives(-12, 0, 7, 14) + (positive(25),)),
        rows((0, 25), (14, 50)), row(21, 50), "continuation", (),
        id="R5.2-positive-after-the-date-ignored",
    ),
    pytest.param(
        woman(pregnancy_tests=(positive(-3),), female_of_reproductive_potential=False),
        [], row(0, 25), "first_dose", ("dosed_after_positive_pregnancy_test",),
        id="R5.2-positive-recorded-counts-whatever-the-record-says",
    ),
    pytest.param(
        woman(*BEFORE, contraception_start=day(-20)), [], row(0, 25), "first_dose",
        ("contraception_not_established",), id="R5.3-contraception-20-days-before",
    ),
    pytest.param(
        woman(*BEFORE, contraception_start=day(-27)), [], row(0, 25), "first_dose",
        ("contraception_not_established",), id="R5.3-contraception-27-days-before",
    ),
    pytest.param(
        woman(*BEFORE, contraception_start=day(-28)), [], row(0, 25), "first_dose", (),
        id="R5.3-contraception-28-days-before",
    ),
    pytest.param(
        woman(*BEFORE, contraception_start=None), [], row(0, 25), "first_dose",
        ("contraception_not_established",), id="R5.3-contraception-not-recorded",
    ),
    pytest.param(
        woman(-12, 0, 7, contraception_start=day(-20)), rows((0, 25)), row(14, 50), "increase",
        (), id="R5.3-contraception-judged-at-the-start-only",
    ),
    pytest.param(
        woman(-12, 0, 7, breastfeeding=((day(10), True),)), rows((0, 25)), row(14, 50),
        "increase", ("breastfeeding",), id="R5.1-breastfeeding",
    ),
    pytest.param(
        woman(-12, 0, 7, breastfeeding=((day(10), True), (day(12), False))), rows((0, 25)),
        row(14, 50), "increase", (), id="R5.1-breastfeeding-ended",
    ),
    pytest.param(
        woman(-12, 0, 7, breastfeeding=((day(18), True),)), rows((0, 25), (14, 50)),
        row(20, 25), "decrease", ("breastfeeding",), id="R5.1-breastfeeding-on-decrease",
    ),
    pytest.param(
        woman(*BEFORE, breastfeeding=((day(-3), True),)), [], row(0, 25), "first_dose",
        ("breastfeeding",), id="R5.1-breastfeeding-refuses-start",
    ),
    pytest.param(man(), [], row(0, 25), "first_dose", (), id="R5.2-male-first-dose-no-test"),
    pytest.param(
        man(), rows((0, 25)), row(14, 50), "increase", (), id="R5.2-male-increase-no-test"
    ),
    pytest.param(
        woman(female_of_reproductive_potential=False, contraception_start=None), [], row(0, 25),
        "first_dose", (), id="R5.2-woman-not-of-reproductive-potential",
    ),
    pytest.param(
        # stop on day 30, restart on day 59: tests on day 47 (= −12) and day 59 (= 0)
        woman(*WEEKLY, 28, 47, 59), rows((0, 25), (14, 50), (30, 0)), row(59, 25), "restart",
        (), id="R5.2-restart-with-pre-start-tests",
    ),
    pytest.param(
        woman(*WEEKLY, 28, 59), rows((0, 25), (14, 50), (30, 0)), row(59, 25), "restart",
        ("no_valid_pregnancy_test",), id="R5.2-restart-without-day-minus-12-test",
    ),
    pytest.param(
        # contraception re-recorded on day 40: 19 days before the restart
        woman(*WEEKLY, 28, 47, 59, contraception_start=day(40)),
        rows((0, 25), (14, 50), (30, 0)), row(59, 25), "restart",
        ("contraception_not_established",), id="R5.3-restart-checked-as-new-start",
    ),
    pytest.param(
        # resumed lower 10 days after the stop: last test day 21 covered to day 28 only
        woman(*WEEKLY), rows((0, 25), (14, 50), (30, 0)), row(40, 25), "increase",
        ("no_valid_pregnancy_test",), id="R5.2-resume-after-stop-needs-cover",
    ),
]


@pytest.mark.parametrize("patient, history, proposed, kind, codes", PREGNANCY_CASES)
def test_r5_pregnancy_prevention(patient, history, proposed, kind, codes):
    check = check_thalidomide_change(patient=patient, history=history, proposed=proposed)
    assert_check(check, kind, codes)


def test_r5_2_positive_test_is_urgent_and_named():
    patient = woman(pregnancy_tests=negatives(-12, 0, 7, 14) + (positive(20),))
    check = check_thalidomide_change(
        patient=patient, history=rows((0, 25), (14, 50)), proposed=row(21, 50)
    )
    positive_finding = check.deviations[1]
    assert positive_finding.code == "dosed_after_positive_pregnancy_test"
    assert positive_finding.urgent is True
    assert "2024-01-21" in positive_finding.reason  # the positive test of day 20
    assert check.deviations[0].urgent is False


def test_r5_3_contraception_reason_counts_the_days():
    patient = woman(*BEFORE, contraception_start=day(-20))
    check = check_thalidomide_change(patient=patient, history=[], proposed=row(0, 25))
    (finding,) = check.deviations
    assert "2023-12-12" in finding.reason  # day −20
    assert "20 days before" in finding.reason
    assert finding.reason.endswith("(R5.3).")


def test_every_r3_5_code_is_covered_by_the_tables():
    seen = set()
    for table in (
        ADULT_CASES,
        PAEDIATRIC_CASES,
        NEUROPATHY_CASES,
        PAEDIATRIC_NEUROPATHY_CASES,
        PREGNANCY_CASES,
    ):
        for case in table:
            seen.update(case.values[-1])
    assert seen == set(DEVIATION_CODES)
    assert len(DEVIATION_CODES) == 13


# ---------------------------------------------------------------------------
# Warnings (R3.1 above_target_dose, R3.3 cap problems, R3.2 target, R3.4)
# ---------------------------------------------------------------------------

# (patient, history, proposed, deviation codes, warning codes)
WARNING_CASES = [
    pytest.param(
        man(target_dose_mg=D("75")), rows((0, 25), (14, 50)), row(28, 100), (),
        ("above_target_dose",), id="R3.1-100-above-target-75",
    ),
    pytest.param(
        man(target_dose_mg=D("75")), rows((0, 25), (14, 50)), row(28, 75), (), (),
        id="R3.1-at-target-75",
    ),
    pytest.param(
        man(), rows((0, 25), (14, 50)), row(28, 100), (), (), id="R3.1-default-target-100"
    ),
    pytest.param(
        man(), rows((0, 25), (14, 50), (28, 100)), row(42, 125), ("above_max_dose",),
        ("above_target_dose",), id="R3.1-125-above-default-target-100",
    ),
    pytest.param(
        man(target_dose_mg=D("40")), rows((0, 25)), row(14, 50), (),
        ("target_dose_out_of_range", "above_target_dose"), id="R3.2-target-40-out-of-range",
    ),
    pytest.param(
        child(18), rows((0, 25)), row(14, "37.5"), ("above_max_dose",), ("above_target_dose",),
        id="R3.3-paediatric-target-is-the-cap",
    ),
    pytest.param(
        child(18, target_dose_mg=D("12.5")), rows((0, "12.5")), row(14, 25), (),
        ("above_target_dose",), id="R3.3-lower-recorded-target",
    ),
    pytest.param(
        child(6), [], row(0, "12.5"), ("start_dose_too_high", "above_max_dose"),
        ("no_step_under_cap",), id="R3.3-under-6.25kg",
    ),
    pytest.param(
        child(18, weighed=-40), [], row(0, 25), (), ("weight_missing",), id="R3.3-weight-missing"
    ),
    pytest.param(
        child(55), [], row(0, 25), (), ("no_step_in_target_range",),
        id="R3.3-no-step-within-1-2-mg-per-kg",
    ),
    pytest.param(
        man(neuropathy=()), rows((0, 25)), row(14, 50), (), ("neuropathy_not_assessed",),
        id="R3.4-step-without-any-grade",
    ),
    pytest.param(
        man(target_dose_mg=D("75")), rows((0, 25), (14, 100)), row(20, 75), (), (),
        id="R3.2-decrease-to-target-no-warning",
    ),
    pytest.param(
        man(target_dose_mg=D("75")), rows((0, 25), (14, 100)), row(20, 0), (), (),
        id="R3.2-stop-no-warning",
    ),
]


@pytest.mark.parametrize("patient, history, proposed, codes, warnings", WARNING_CASES)
def test_warnings(patient, history, proposed, codes, warnings):
    check = check_thalidomide_change(patient=patient, history=history, proposed=proposed)
    assert tuple(finding.code for finding in check.deviations) == codes
    assert tuple(finding.code for finding in check.warnings) == warnings
    for finding in check.warnings:
        assert finding.urgent is False
        assert finding.reason.endswith(f"({finding.rule}).")


def test_r3_1_above_target_reason():
    check = check_thalidomide_change(
        patient=man(target_dose_mg=D("75")), history=rows((0, 25), (14, 50)), proposed=row(28, 100)
    )
    (warning,) = check.warnings
    assert warning.rule == "R3.1"
    assert warning.reason == (
        "100 mg on 2024-01-29 is above the patient's target of 75 mg/day (R3.1)."
    )


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        check_thalidomide_change(patient=man(), history=[], proposed=row(0, -25))
    with pytest.raises(ValueError):
        check_thalidomide_change(patient=man(regimen="child"), history=[], proposed=row(0, 25))
    with pytest.raises(ValueError):
        pregnancy_coverage(
            tests=(PregnancyTest(date=day(0), result="unclear"),),
            start=day(0), on=day(0), irregular_cycles=False, first_dose_or_restart=True,
        )


# ---------------------------------------------------------------------------
# R3.5 whole histories (imports, cohort report) — the example datasheet
# ---------------------------------------------------------------------------


def test_r3_5_history_ex04_second_step_too_soon():
    # EX04: 25 mg on 2022-01-10, 50 mg on 2022-01-17 (7 days later); not of reproductive potential
    patient = woman(
        female_of_reproductive_potential=False,
        contraception_start=None,
        target_dose_mg=D("75"),
        neuropathy=((date(2022, 1, 10), 0),),
    )
    history = [
        DoseRow(date(2022, 1, 17), D("50")),
        DoseRow(date(2022, 1, 10), D("25")),
    ]
    checks = check_thalidomide_history(patient=patient, history=history)
    assert [check.kind for check in checks] == ["first_dose", "increase"]
    assert [check.codes for check in checks] == [(), ("step_too_soon",)]
    assert checks[1].days_since_previous_change == 7
    assert checks[1].row == DoseRow(date(2022, 1, 17), D("50"))


def test_r3_5_history_ex01_clean_with_neuropathy_decrease():
    # EX01: 25 → 50 (14 days) → 100 (+50, 14 days) → 50 on the day grade 1 is recorded
    patient = man(
        neuropathy=(
            (date(2021, 2, 1), 0),
            (date(2021, 3, 1), 0),
            (date(2021, 3, 29), 0),
            (date(2021, 4, 26), 1),
            (date(2021, 7, 19), 0),
        )
    )
    history = [
        DoseRow(date(2021, 2, 1), D("25")),
        DoseRow(date(2021, 2, 15), D("50")),
        DoseRow(date(2021, 3, 1), D("100")),
        DoseRow(date(2021, 4, 26), D("50")),
    ]
    checks = check_thalidomide_history(patient=patient, history=history)
    assert [check.kind for check in checks] == ["first_dose", "increase", "increase", "decrease"]
    assert [check.codes for check in checks] == [(), (), (), ()]


def test_r3_5_history_ex02_woman_with_tests():
    # EX02: start 2021-05-10 (day 0), tests day −13, 0, 7, 14, 21, 28, 56, …; target 75
    tests = tuple(
        PregnancyTest(date=when, result="negative")
        for when in (
            date(2021, 4, 27), date(2021, 5, 10), date(2021, 5, 17), date(2021, 5, 24),
            date(2021, 5, 31), date(2021, 6, 7), date(2021, 7, 5), date(2021, 8, 2),
            date(2021, 8, 30), date(2021, 9, 27),
        )
    )
    patient = woman(
        target_dose_mg=D("75"),
        contraception_start=date(2021, 4, 1),
        neuropathy=((date(2021, 5, 10), 0), (date(2021, 6, 7), 0)),
        pregnancy_tests=tests,
    )
    history = [
        DoseRow(date(2021, 5, 10), D("25")),
        DoseRow(date(2021, 5, 24), D("50")),
        DoseRow(date(2021, 6, 7), D("75")),
        DoseRow(date(2021, 10, 20), D("0")),
    ]
    checks = check_thalidomide_history(patient=patient, history=history)
    assert [check.kind for check in checks] == ["first_dose", "increase", "increase", "stop"]
    assert [check.codes for check in checks] == [(), (), (), ()]
    # R7 pregnancy_test_due: on therapy, last test 2021-09-27 (day 140, regular) + 28
    assert next_pregnancy_test_due(
        tests=tests, start=date(2021, 5, 10), stop=None, as_of=date(2021, 10, 1),
        irregular_cycles=False,
    ) == date(2021, 10, 25)
    # after the stop on 2021-10-20: the one test 28 days later
    assert next_pregnancy_test_due(
        tests=tests, start=date(2021, 5, 10), stop=date(2021, 10, 20), as_of=date(2021, 10, 25),
        irregular_cycles=False,
    ) == date(2021, 11, 17)


# ---------------------------------------------------------------------------
# R3.1 dose records: current dose, last change, active, course start, stop date
# ---------------------------------------------------------------------------

# day 0 start 25, day 10 continuation, day 14 → 50, day 30 stop, day 40 resumed (10 days:
# same course), day 100 stop, day 140 restart (40 days: new course)
RECORD = rows((0, 25), (10, 25), (14, 50), (30, 0), (40, 50), (100, 0), (140, 25))

# (on, current dose, last change (day, mg) or None, active, course start, stop date)
RECORD_CASES = [
    pytest.param(-1, D("0"), None, False, None, None, id="R3.1-before-start"),
    pytest.param(0, D("25"), (0, 25), True, date(2024, 1, 1), None, id="R3.1-day-0"),
    pytest.param(12, D("25"), (0, 25), True, date(2024, 1, 1), None, id="R3.1-continuation-no-change"),
    pytest.param(14, D("50"), (14, 50), True, date(2024, 1, 1), None, id="R3.1-increase"),
    pytest.param(29, D("50"), (14, 50), True, date(2024, 1, 1), None, id="R3.1-last-day-on-drug"),
    pytest.param(
        30, D("0"), (30, 0), False, date(2024, 1, 1), date(2024, 1, 31), id="R3.1-stop-first-day-off"
    ),
    pytest.param(40, D("50"), (40, 50), True, date(2024, 1, 1), None, id="R3.1-resumed-same-course"),
    pytest.param(
        120, D("0"), (100, 0), False, date(2024, 1, 1), date(2024, 4, 10), id="R3.1-stopped-again"
    ),
    pytest.param(140, D("25"), (140, 25), True, date(2024, 5, 20), None, id="R3.1-restart-new-course"),
]


@pytest.mark.parametrize("on, dose, change, active, start, stop", RECORD_CASES)
def test_r3_1_dose_records(on, dose, change, active, start, stop):
    shuffled = list(reversed(RECORD))
    assert current_dose(shuffled, day(on)) == dose
    assert last_change(shuffled, day(on)) == (row(*change) if change else None)
    assert thalidomide_active(shuffled, day(on)) is active
    assert course_start(shuffled, day(on)) == start
    assert stop_date(shuffled, day(on)) == stop


def test_r3_1_repeated_zero_rows_keep_the_first_stop_date():
    history = rows((0, 25), (30, 0), (35, 0))
    assert stop_date(history, day(40)) == date(2024, 1, 31)
    assert last_change(history, day(40)) == row(30, 0)


# ---------------------------------------------------------------------------
# Suggested next step (R3.2, R3.3, R3.4, R5)
# ---------------------------------------------------------------------------

# (patient, history, on, dose, allowed from, rule)
STEP_CASES = [
    pytest.param(man(), rows((0, 25)), 5, D("50"), date(2024, 1, 15), "R3.2", id="R3.2-25-to-50"),
    pytest.param(
        man(), rows((0, 25), (10, 25)), 12, D("50"), date(2024, 1, 15), "R3.2",
        id="R3.2-continuation-keeps-the-clock",
    ),
    pytest.param(
        man(), rows((0, 25), (14, 50), (28, 75)), 30, D("100"), date(2024, 2, 12), "R3.2",
        id="R3.2-75-to-100",
    ),
    pytest.param(
        man(), rows((0, 25), (14, 30)), 20, D("50"), date(2024, 1, 29), "R3.2",
        id="R3.2-off-step-30-to-50",
    ),
    pytest.param(
        man(), rows((0, 25), (14, 50), (28, 100)), 50, None, None, "R3.2", id="R3.2-at-100"
    ),
    pytest.param(
        man(target_dose_mg=D("75")), rows((0, 25), (14, 50)), 20, D("75"), date(2024, 1, 29),
        "R3.2", id="R3.2-50-to-target-75",
    ),
    pytest.param(
        man(target_dose_mg=D("75")), rows((0, 25), (14, 50), (28, 75)), 50, None, None, "R3.2",
        id="R3.2-at-target-75",
    ),
    pytest.param(
        man(neuropathy=grades((-7, 0), (3, 1))), rows((0, 25)), 5, None, None, "R3.4",
        id="R3.4-no-step-at-grade-1",
    ),
    pytest.param(man(neuropathy=()), rows((0, 25)), 5, None, None, "R3.4", id="R3.4-no-grade-yet"),
    pytest.param(man(), rows((0, 25), (14, 0)), 20, None, None, "R3.1", id="R3.1-not-active"),
    pytest.param(man(), [], 20, None, None, "R3.1", id="R3.1-never-started"),
    pytest.param(
        woman(pregnancy_tests=negatives(-12, 0) + (positive(3),)), rows((0, 25)), 5, None,
        None, "R5.2", id="R5.2-no-step-after-positive-test",
    ),
    pytest.param(
        woman(*BEFORE), rows((0, 25)), 10, None, None, "R5.2", id="R5.2-no-step-test-overdue"
    ),
    pytest.param(
        woman(-12, 0, 7), rows((0, 25)), 10, D("50"), date(2024, 1, 15), "R3.2",
        id="R5.2-covered-step",
    ),
    pytest.param(
        woman(-12, 0, 7, breastfeeding=((day(8), True),)), rows((0, 25)), 10, None, None,
        "R5.1", id="R5.1-no-step-while-breastfeeding",
    ),
    pytest.param(
        child(18), rows((0, "12.5")), 5, D("25"), date(2024, 1, 15), "R3.3",
        id="R3.3-18kg-12.5-to-25",
    ),
    pytest.param(
        child(18), rows((0, "12.5"), (14, 25)), 20, None, None, "R3.3", id="R3.3-18kg-at-cap-25"
    ),
    pytest.param(
        child(30), rows((0, 25)), 5, D("37.5"), date(2024, 1, 15), "R3.3",
        id="R3.3-30kg-half-tablet-step",
    ),
    pytest.param(
        child(18, weighed=-40), rows((0, "12.5")), 5, None, None, "R3.3",
        id="R3.3-no-step-without-weight",
    ),
]


@pytest.mark.parametrize("patient, history, on, dose, allowed_from, rule", STEP_CASES)
def test_suggest_next_step(patient, history, on, dose, allowed_from, rule):
    suggestion = suggest_next_step(patient=patient, history=history, on=day(on))
    assert suggestion.dose_mg == dose
    assert suggestion.allowed_from == allowed_from
    assert suggestion.rule == rule
    assert suggestion.reason.endswith(").")


def test_suggest_next_step_says_why_not():
    suggestion = suggest_next_step(
        patient=man(neuropathy=grades((-7, 0), (3, 2))), history=rows((0, 25)), on=day(5)
    )
    assert "grade is 2" in suggestion.reason
    assert "2024-01-04" in suggestion.reason  # the day-3 visit
    suggestion = suggest_next_step(patient=woman(*BEFORE), history=rows((0, 25)), on=day(10))
    assert "2024-01-08" in suggestion.reason  # the day-0 test covers up to day 7


# ---------------------------------------------------------------------------
# Cumulative dose (R3.4, R7 cumulative_dose_review)
# ---------------------------------------------------------------------------

# (history, up to, grams)
CUMULATIVE_CASES = [
    pytest.param(rows((0, 25), (14, 50)), 13, D("0.35"), id="R3.4-25mg-x14-days-350mg"),
    pytest.param(rows((0, 25), (14, 50)), 14, D("0.4"), id="R3.4-change-day-included"),
    pytest.param(rows((0, 25), (14, 50)), 20, D("0.7"), id="R3.4-350-plus-7x50"),
    pytest.param(rows((0, 25), (14, 50)), 10, D("0.275"), id="R3.4-later-rows-ignored"),
    pytest.param(rows((0, 25), (14, 50), (20, 0)), 30, D("0.65"), id="R3.4-stop-day-not-dosed"),
    pytest.param(rows((0, 25)), -1, D("0"), id="R3.4-before-start"),
    pytest.param(rows((0, "37.5")), 1, D("0.075"), id="R3.4-half-tablets"),
    pytest.param(rows((0, 100), (10, 0), (20, 100)), 29, D("2"), id="R3.4-interruption"),
]


@pytest.mark.parametrize("history, up_to, grams", CUMULATIVE_CASES)
def test_cumulative_dose_g(history, up_to, grams):
    assert cumulative_dose_g(history, day(up_to)) == grams


# (history, grams, as of, date reached)
REACHED_CASES = [
    # 350 mg by day 13, then 19 650 mg at 50 mg/day = 393 days: days 14–406
    pytest.param(rows((0, 25), (14, 50)), D("20"), None, date(2025, 2, 10), id="R7-20g-projected"),
    pytest.param(
        rows((0, 25), (14, 50)), D("20"), date(2025, 2, 9), None, id="R7-20g-not-yet-on-day-405"
    ),
    pytest.param(
        rows((0, 25), (14, 50)), D("20"), date(2025, 2, 10), date(2025, 2, 10),
        id="R7-20g-reached-day-406",
    ),
    pytest.param(rows((0, 100)), D("20"), None, date(2024, 7, 18), id="R7-100mg-200-days"),
    pytest.param(rows((0, 25)), D("1"), None, date(2024, 2, 9), id="R7-1g-at-25mg-40-days"),
    pytest.param(
        # 350 mg, then 650 mg at 50 mg = 13 days: days 14–26
        rows((0, 25), (14, 50)), D("1"), None, date(2024, 1, 27), id="R7-1g-with-a-step",
    ),
    pytest.param(
        # 26 days = 975 mg, 27 days = 1012.5 mg
        rows((0, "37.5")), D("1"), None, date(2024, 1, 27), id="R7-1g-at-37.5mg-27-days",
    ),
    pytest.param(rows((0, 100), (100, 0)), D("20"), None, None, id="R7-stopped-at-10g"),
    pytest.param(
        # 10 g by day 99, 10 g more from day 150 = 100 days: days 150–249
        rows((0, 100), (100, 0), (150, 100)), D("20"), None, date(2024, 9, 6),
        id="R7-20g-across-an-interruption",
    ),
]


@pytest.mark.parametrize("history, grams, as_of, reached", REACHED_CASES)
def test_date_cumulative_reached(history, grams, as_of, reached):
    assert date_cumulative_reached(history, grams, as_of) == reached


def test_date_cumulative_reached_default_is_20_g():
    assert date_cumulative_reached(rows((0, 100))) == date(2024, 7, 18)


# ---------------------------------------------------------------------------
# R5.2 pregnancy tests
# ---------------------------------------------------------------------------

# (last test day, irregular cycles, interval)
INTERVAL_CASES = [
    pytest.param(-1, False, 7, id="R5.2-pre-start-test-7"),
    pytest.param(0, False, 7, id="R5.2-day-0-7"),
    pytest.param(21, False, 7, id="R5.2-day-21-7"),
    pytest.param(27, True, 7, id="R5.2-day-27-7-even-irregular"),
    pytest.param(28, False, 28, id="R5.2-day-28-regular-28"),
    pytest.param(28, True, 14, id="R5.2-day-28-irregular-14"),
    pytest.param(28, None, 14, id="R5.2-day-28-unknown-14"),
    pytest.param(60, False, 28, id="R5.2-day-60-regular-28"),
]


@pytest.mark.parametrize("last_test, irregular, interval", INTERVAL_CASES)
def test_r5_2_interval(last_test, irregular, interval):
    assert (
        pregnancy_test_interval_days(
            last_test=day(last_test), start=START, irregular_cycles=irregular
        )
        == interval
    )


# (tests, ok)
PRE_START_CASES = [
    pytest.param(negatives(-12, 0), True, id="R5.2-day-12-and-0"),
    pytest.param(negatives(-9, 0), False, id="R5.2-day-9-too-late"),
    pytest.param(negatives(-14, -1), True, id="R5.2-day-14-and-1"),
    pytest.param(negatives(-10, 0), True, id="R5.2-day-10-and-0"),
    pytest.param(negatives(-15, 0), False, id="R5.2-day-15-too-early"),
    pytest.param(negatives(-12, -2), False, id="R5.2-day-2-not-within-24h"),
    pytest.param((positive(-12),) + negatives(0), False, id="R5.2-early-test-positive"),
    pytest.param(negatives(0), False, id="R5.2-only-day-0"),
    pytest.param(negatives(-12), False, id="R5.2-only-day-12"),
    pytest.param(negatives(-12, 1), False, id="R5.2-day-1-after-start"),
]


@pytest.mark.parametrize("tests, ok", PRE_START_CASES)
def test_r5_2_pre_start_tests(tests, ok):
    got, reason = pre_start_tests_ok(tests, START)
    assert got is ok
    assert reason.endswith("(R5.2).")
    assert "2023-12-18 to 2023-12-22" in reason  # day −14 to −10


# (tests, on, first dose or restart, covered, due date, positive unresolved)
COVERAGE_CASES = [
    pytest.param(negatives(*WEEKLY), 28, False, True, date(2024, 1, 29), False, id="R5.2-day-21-covers-28"),
    pytest.param(negatives(*WEEKLY), 29, False, False, date(2024, 1, 29), False, id="R5.2-day-29-overdue"),
    pytest.param(
        negatives(*WEEKLY, 28), 56, False, True, date(2024, 2, 26), False,
        id="R5.2-day-28-regular-covers-56",
    ),
    pytest.param(
        negatives(*WEEKLY[:-1]) + (positive(20),), 21, False, False, None, True,
        id="R5.2-positive-not-covered",
    ),
    pytest.param(
        negatives(*WEEKLY[:-1], 22) + (positive(20),), 23, False, True, date(2024, 1, 30), False,
        id="R5.2-positive-cleared",
    ),
    pytest.param((), 5, False, False, date(2024, 1, 6), False, id="R5.2-no-test-due-now"),
    pytest.param(negatives(*BEFORE), 0, True, True, date(2024, 1, 8), False, id="R5.2-first-dose"),
    pytest.param(
        negatives(-9, 0), 0, True, False, date(2024, 1, 8), False, id="R5.2-first-dose-day-9"
    ),
]


@pytest.mark.parametrize("tests, on, first, covered, due, positive_open", COVERAGE_CASES)
def test_r5_2_pregnancy_coverage(tests, on, first, covered, due, positive_open):
    coverage = pregnancy_coverage(
        tests=tests, start=START, on=day(on), irregular_cycles=False, first_dose_or_restart=first
    )
    assert coverage.covered is covered
    assert coverage.due_date == due
    assert coverage.positive_unresolved is positive_open
    assert coverage.rule == "R5.2"
    assert coverage.reason.endswith("(R5.2).")


def test_r5_2_irregular_cycles_coverage():
    coverage = pregnancy_coverage(
        tests=negatives(*WEEKLY, 28), start=START, on=day(43), irregular_cycles=True,
        first_dose_or_restart=False,
    )
    assert coverage.covered is False
    assert coverage.due_date == date(2024, 2, 12)
    assert "interval 14 days" in coverage.reason


# (tests, start day, stop day, as of day, irregular, due)
NEXT_TEST_CASES = [
    pytest.param(negatives(*WEEKLY), 0, None, 24, False, date(2024, 1, 29), id="R7-day-21-plus-7"),
    pytest.param(negatives(*WEEKLY, 28), 0, None, 30, False, date(2024, 2, 26), id="R7-regular-28"),
    pytest.param(negatives(*WEEKLY, 28), 0, None, 30, True, date(2024, 2, 12), id="R7-irregular-14"),
    pytest.param(negatives(*WEEKLY, 28), 0, None, 30, None, date(2024, 2, 12), id="R7-unknown-14"),
    pytest.param(
        negatives(*WEEKLY, 28, 56), 0, 60, 70, False, date(2024, 3, 29), id="R7-stop-plus-28"
    ),
    pytest.param(
        negatives(*WEEKLY, 28, 56, 87), 0, 60, 90, False, date(2024, 3, 29),
        id="R7-test-before-stop-plus-28-does-not-count",
    ),
    pytest.param(negatives(*WEEKLY, 28, 56, 88), 0, 60, 90, False, None, id="R7-post-stop-test-done"),
    pytest.param(
        negatives(*WEEKLY, 28, 56, 88), 0, 60, 87, False, date(2024, 3, 29),
        id="R7-test-after-as-of-ignored",
    ),
    pytest.param((), 0, None, 3, False, date(2024, 1, 1), id="R7-no-test-due-at-start"),
    pytest.param(negatives(*BEFORE), None, None, 3, False, None, id="R7-never-started"),
    pytest.param(negatives(*BEFORE), 10, None, 3, False, None, id="R7-start-after-as-of"),
    pytest.param(
        negatives(*WEEKLY, 30), 0, None, 25, False, date(2024, 1, 29), id="R7-later-test-ignored"
    ),
    pytest.param(
        negatives(*WEEKLY[:-1]) + (positive(20),), 0, None, 22, False, date(2024, 1, 21),
        id="R7-positive-on-therapy-due-at-once",
    ),
    pytest.param(
        # new course from day 100: a test on day 100 is day 0 of it → 7-day interval
        negatives(*WEEKLY, 28, 56, 100), 100, None, 101, False, date(2024, 4, 17),
        id="R7-restart-weekly-again",
    ),
]


@pytest.mark.parametrize("tests, start, stop, as_of, irregular, due", NEXT_TEST_CASES)
def test_r7_next_pregnancy_test_due(tests, start, stop, as_of, irregular, due):
    assert (
        next_pregnancy_test_due(
            tests=tests,
            start=None if start is None else day(start),
            stop=None if stop is None else day(stop),
            as_of=day(as_of),
            irregular_cycles=irregular,
        )
        == due
    )


# ---------------------------------------------------------------------------
# R4.1 / R4.2 azathioprine dose and genotype
# ---------------------------------------------------------------------------

W60 = ((0, "60"),)

# (dose, weights (day, kg), tpmt, nudt15, xanthine oxidase inhibitor,
#  mg/kg, allowed range, warning codes, contraindicated)
AZA_CASES = [
    # 60 kg: 2.0–2.5 mg/kg = 120–150 mg → nearest 25: 125–150
    pytest.param(125, W60, "normal", "normal", False, D("2.08"), (D("125"), D("150")), (), False,
                 id="R4.1-60kg-125-in-range"),
    pytest.param(150, W60, "normal", "normal", False, D("2.5"), (D("125"), D("150")), (), False,
                 id="R4.1-60kg-150-in-range"),
    pytest.param(100, W60, "normal", "normal", False, D("1.67"), (D("125"), D("150")),
                 ("aza_dose_outside_range",), False, id="R4.1-60kg-100-below"),
    pytest.param(175, W60, "normal", "normal", False, D("2.92"), (D("125"), D("150")),
                 ("aza_dose_outside_range",), False, id="R4.1-60kg-175-above"),
    # 45 kg: 90 → 100; 112.5 = 4.5 × 25 → half up 125 (half-even would give 100)
    pytest.param(125, ((0, "45"),), "normal", "normal", False, D("2.78"), (D("100"), D("125")),
                 (), False, id="R4.1-45kg-112.5-rounds-half-up-to-125"),
    pytest.param(125, ((-91, "60"),), "normal", "normal", False, None, None, ("weight_missing",),
                 False, id="R4.1-weight-91-days-old"),
    pytest.param(125, ((-90, "60"),), "normal", "normal", False, D("2.08"), (D("125"), D("150")),
                 (), False, id="R4.1-weight-90-days-old-counts"),
    pytest.param(125, ((-100, "80"), (-10, "60")), "normal", "normal", False, D("2.08"),
                 (D("125"), D("150")), (), False, id="R4.1-latest-weight"),
    # xanthine oxidase inhibitor: 0.33 × 2.5 × 60 = 49.5 mg
    pytest.param(50, W60, "normal", "normal", True, D("0.83"), (D("0"), D("49.5")),
                 ("aza_with_xanthine_oxidase_inhibitor",), False, id="R4.1-allopurinol-50-above-49.5"),
    pytest.param(25, W60, "normal", "normal", True, D("0.42"), (D("0"), D("49.5")), (), False,
                 id="R4.1-allopurinol-25-ok"),
    pytest.param(25, (), "normal", "normal", True, None, None,
                 ("weight_missing", "aza_with_xanthine_oxidase_inhibitor"), False,
                 id="R4.1-allopurinol-without-weight"),
    # one intermediate: 30–80 % of 150 = 45–120 → 50 (nearest 25) – 120 (never rounded up)
    pytest.param(100, W60, "intermediate", "normal", False, D("1.67"), (D("50"), D("120")), (),
                 False, id="R4.2-one-intermediate-100"),
    pytest.param(125, W60, "intermediate", "normal", False, D("2.08"), (D("50"), D("120")),
                 ("aza_dose_above_genotype_limit",), False, id="R4.2-one-intermediate-125"),
    pytest.param(25, W60, "intermediate", "normal", False, D("0.42"), (D("50"), D("120")),
                 ("aza_dose_outside_range",), False, id="R4.2-one-intermediate-25-below"),
    pytest.param(125, W60, "normal", "Possible intermediate", False, D("2.08"),
                 (D("50"), D("120")), ("aza_dose_above_genotype_limit",), False,
                 id="R4.2-possible-intermediate-counts"),
    # both intermediate: 20–50 % of 150 = 30–75 → 25–75
    pytest.param(75, W60, "intermediate", "intermediate", False, D("1.25"), (D("25"), D("75")),
                 (), False, id="R4.2-both-intermediate-75"),
    pytest.param(100, W60, "intermediate", "intermediate", False, D("1.67"), (D("25"), D("75")),
                 ("aza_dose_above_genotype_limit",), False, id="R4.2-both-intermediate-100"),
    pytest.param(125, W60, "poor", "normal", False, D("2.08"), None,
                 ("aza_contraindicated_poor_metaboliser",), True, id="R4.2-tpmt-poor"),
    pytest.param(125, W60, "normal", "poor", False, D("2.08"), None,
                 ("aza_contraindicated_poor_metaboliser",), True, id="R4.2-nudt15-poor"),
    pytest.param(125, W60, "unknown", "normal", False, D("2.08"), (D("125"), D("150")),
                 ("aza_genotype_unknown",), False, id="R4.2-unknown"),
    pytest.param(125, W60, "normal", "indeterminate", False, D("2.08"), (D("125"), D("150")),
                 ("aza_genotype_unknown",), False, id="R4.2-indeterminate-is-unknown"),
    pytest.param(125, W60, "intermediate", "unknown", False, D("2.08"), (D("50"), D("120")),
                 ("aza_genotype_unknown", "aza_dose_above_genotype_limit"), False,
                 id="R4.2-intermediate-and-unknown"),
    pytest.param(125, W60, "intermediate", "normal", True, D("2.08"), (D("0"), D("49.5")),
                 ("aza_with_xanthine_oxidase_inhibitor", "aza_dose_above_genotype_limit"), False,
                 id="R4.2-intermediate-with-allopurinol"),
    pytest.param(0, W60, "normal", "normal", False, D("0"), (D("125"), D("150")), (), False,
                 id="R4.1-stopped-no-range-warning"),
]


@pytest.mark.parametrize(
    "dose, weights, tpmt, nudt15, xoi, mg_per_kg, allowed, warnings, contraindicated", AZA_CASES
)
def test_r4_azathioprine_dose(
    dose, weights, tpmt, nudt15, xoi, mg_per_kg, allowed, warnings, contraindicated
):
    check = check_aza_dose(
        dose_mg=D(str(dose)),
        on=START,
        weights=tuple((day(n), D(kg)) for n, kg in weights),
        tpmt=tpmt,
        nudt15=nudt15,
        xanthine_oxidase_inhibitor=xoi,
    )
    assert check.mg_per_kg == mg_per_kg
    assert check.allowed_range_mg == allowed
    assert tuple(finding.code for finding in check.warnings) == warnings
    assert check.contraindicated is contraindicated
    for finding in check.warnings:
        assert finding.rule in ("R4.1", "R4.2")
        assert finding.reason.endswith(f"({finding.rule}).")


def test_r4_1_ex02_intermediate_50_kg():
    # EX02: 100 mg, 50.2 kg, NUDT15 intermediate: 2.5 × 50.2 = 125.5; 30 % = 37.65 → 50;
    # 80 % = 100.4 → nearest 25 is 100 (≤ 100.4); 100 / 50.2 = 1.992… → 1.99
    check = check_aza_dose(
        dose_mg=D("100"),
        on=date(2021, 5, 10),
        weights=((date(2021, 5, 10), D("50.2")),),
        tpmt="normal",
        nudt15="intermediate",
        xanthine_oxidase_inhibitor=False,
    )
    assert check.mg_per_kg == D("1.99")
    assert check.allowed_range_mg == (D("50"), D("100"))
    assert check.warnings == ()


def test_r4_1_outside_range_reason_names_the_numbers():
    check = check_aza_dose(
        dose_mg=D("100"), on=START, weights=((START, D("60")),), tpmt="normal", nudt15="normal",
        xanthine_oxidase_inhibitor=False,
    )
    (finding,) = check.warnings
    assert "100 mg" in finding.reason
    assert "120–150 mg" in finding.reason
    assert "125–150 mg" in finding.reason


# (tpmt, nudt15, code or None)
GATE_CASES = [
    pytest.param("normal", "normal", None, id="R4.2-normal-normal"),
    pytest.param("intermediate", "normal", None, id="R4.2-intermediate-dose-adjusted-not-refused"),
    pytest.param("poor", "normal", "aza_contraindicated_poor_metaboliser", id="R4.2-tpmt-poor"),
    pytest.param("normal", "poor", "aza_contraindicated_poor_metaboliser", id="R4.2-nudt15-poor"),
    pytest.param("poor", "unknown", "aza_contraindicated_poor_metaboliser", id="R4.2-poor-wins"),
    pytest.param("unknown", "normal", "aza_genotype_unknown", id="R4.2-unknown"),
    pytest.param("Indeterminate", "normal", "aza_genotype_unknown", id="R4.2-indeterminate"),
    pytest.param(None, "normal", "aza_genotype_unknown", id="R4.2-not-recorded"),
    pytest.param("possible intermediate", "normal", None, id="R4.2-possible-intermediate"),
]


@pytest.mark.parametrize("tpmt, nudt15, code", GATE_CASES)
def test_r4_2_start_gate(tpmt, nudt15, code):
    finding = aza_start_gate(tpmt=tpmt, nudt15=nudt15)
    assert (finding.code if finding else None) == code
    if finding:
        assert finding.rule == "R4.2"


@pytest.mark.parametrize(
    "raw, value",
    [
        pytest.param("normal", "normal", id="normal"),
        pytest.param("Possible intermediate", "intermediate", id="possible-intermediate"),
        pytest.param("possible_intermediate", "intermediate", id="possible_intermediate"),
        pytest.param("INDETERMINATE", "unknown", id="indeterminate"),
        pytest.param("", "unknown", id="empty"),
        pytest.param(" Poor ", "poor", id="poor-with-spaces"),
    ],
)
def test_r4_2_genotype_normalised(raw, value):
    assert normalise_genotype(raw) == value


def test_r4_2_unrecognised_genotype_is_an_error():
    # a misspelt "poor" must never pass silently as "unknown"
    with pytest.raises(ValueError):
        normalise_genotype("poor metabolizer")


# ---------------------------------------------------------------------------
# R4.3 blood monitoring
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "until, checkpoints",
    [
        pytest.param(13, [], id="R4.3-none-before-day-14"),
        pytest.param(14, [date(2024, 1, 15)], id="R4.3-day-14"),
        pytest.param(
            260,
            [
                date(2024, 1, 15),  # 14
                date(2024, 1, 29),  # 28
                date(2024, 2, 26),  # 56
                date(2024, 3, 25),  # 84
                date(2024, 6, 17),  # 168
                date(2024, 9, 9),  # 252
            ],
            id="R4.3-14-28-56-84-then-every-84",
        ),
    ],
)
def test_r4_3_blood_checkpoints(until, checkpoints):
    assert blood_checkpoints(START, day(until)) == checkpoints


# (AZA rows, blood-count days, as of, due)
AZA_START = rows((0, 100))
BLOOD_CASES = [
    pytest.param(AZA_START, (), 5, date(2024, 1, 15), id="R4.3-first-checkpoint-day-14"),
    pytest.param(AZA_START, (7,), 8, date(2024, 1, 29), id="R4.3-day-7-covers-day-14"),
    pytest.param(AZA_START, (6,), 8, date(2024, 1, 15), id="R4.3-day-6-does-not-cover-14"),
    pytest.param(AZA_START, (21,), 22, date(2024, 2, 26), id="R4.3-day-21-covers-28"),
    pytest.param(AZA_START, (20,), 22, date(2024, 1, 29), id="R4.3-day-20-does-not-cover-28"),
    pytest.param(AZA_START, (7, 21), 25, date(2024, 2, 26), id="R4.3-most-recent-count"),
    pytest.param(AZA_START, (80,), 90, date(2024, 6, 17), id="R4.3-day-80-covers-84-next-168"),
    pytest.param(AZA_START, (250,), 255, date(2024, 12, 2), id="R4.3-every-84-days"),
    pytest.param(AZA_START, (10,), 8, date(2024, 1, 15), id="R4.3-count-after-as-of-ignored"),
    pytest.param(
        # dose change on day 100 (= 2024-04-10) is the anchor; the day-98 count is before it
        rows((0, 100), (100, 150)), (98,), 105, date(2024, 4, 24), id="R4.3-anchor-dose-change",
    ),
    pytest.param(
        rows((0, 100), (100, 100)), (98,), 105, date(2024, 6, 17),
        id="R4.3-continuation-is-not-an-anchor",
    ),
    pytest.param(
        rows((0, 100), (50, 0), (70, 100)), (), 75, date(2024, 3, 25), id="R4.3-restart-anchor"
    ),
    pytest.param(rows((0, 100), (50, 0)), (), 60, None, id="R4.3-aza-stopped"),
    pytest.param([], (), 60, None, id="R4.3-no-aza"),
]


@pytest.mark.parametrize("aza, counts, as_of, due", BLOOD_CASES)
def test_r4_3_next_blood_test_due(aza, counts, as_of, due):
    assert (
        next_blood_test_due(
            aza_history=aza, blood_count_dates=[day(n) for n in counts], as_of=day(as_of)
        )
        == due
    )


# ---------------------------------------------------------------------------
# R4.5 thiopurine metabolites
# ---------------------------------------------------------------------------

# (6-TGN, 6-MMP, days since the last AZA change, code, hepatotoxicity flag)
METABOLITE_CASES = [
    pytest.param(80, 500, 100, "possible_non_adherence", False, id="R4.5-row-1-non-adherence"),
    pytest.param(99, 999, 100, "possible_non_adherence", False, id="R4.5-row-1-edges"),
    pytest.param(80, 1000, 100, "shunter", False, id="R4.5-mmp-1000-falls-to-row-2-ratio-12.5"),
    pytest.param(200, 6000, 100, "shunter", True, id="R4.5-row-2-mmp-above-5700"),
    pytest.param(200, 2300, 100, "shunter", False, id="R4.5-row-2-ratio-11.5"),
    pytest.param(200, 2200, 100, "subtherapeutic", False, id="R4.5-ratio-exactly-11-not-shunter"),
    pytest.param(200, 5700, 100, "shunter", False, id="R4.5-mmp-5700-ratio-28.5"),
    pytest.param(234, 2000, 100, "subtherapeutic", False, id="R4.5-row-3-subtherapeutic"),
    pytest.param(235, 5800, 100, "therapeutic", True, id="R4.5-row-4-235-with-hepatotoxicity"),
    pytest.param(450, 3000, 100, "therapeutic", False, id="R4.5-row-4-450"),
    pytest.param(451, 3000, 100, "supratherapeutic", False, id="R4.5-row-5-above-450"),
    pytest.param(300, 2000, 27, "not_steady_state", False, id="R4.5-27-days-not-steady"),
    pytest.param(300, 2000, 28, "therapeutic", False, id="R4.5-28-days-steady"),
    pytest.param(300, 6000, 20, "not_steady_state", True, id="R4.5-not-steady-still-flags-mmp"),
]

TEXTS = {
    "not_steady_state": "not at steady state",
    "possible_non_adherence": "possible non-adherence",
    "shunter": "preferential methylation (shunter)",
    "subtherapeutic": "subtherapeutic",
    "therapeutic": "therapeutic",
    "supratherapeutic": "supratherapeutic: myelotoxicity risk",
}


@pytest.mark.parametrize("tgn, mmp, days, code, hepatotoxic", METABOLITE_CASES)
def test_r4_5_metabolites(tgn, mmp, days, code, hepatotoxic):
    result = interpret_metabolites(
        tgn=D(str(tgn)), mmp=D(str(mmp)), sample_date=day(days), last_aza_change=START
    )
    assert result.code == code
    assert result.text == TEXTS[code]
    assert result.hepatotoxicity_risk is hepatotoxic
    assert result.rule == "R4.5"
    assert "(R4.5)" in result.reason


def test_r4_5_ex01_therapeutic():
    # EX01 on 2021-07-19: 6-TGN 250, 6-MMP 2100; AZA unchanged since 2019-06-01
    result = interpret_metabolites(
        tgn=D("250"), mmp=D("2100"), sample_date=date(2021, 7, 19),
        last_aza_change=date(2019, 6, 1),
    )
    assert result.code == "therapeutic"
    assert result.hepatotoxicity_risk is False


# ---------------------------------------------------------------------------
# DESIGN.md rule 1: the module is pure
# ---------------------------------------------------------------------------


def test_titration_module_is_pure():
    path = Path(__file__).resolve().parents[2] / "visits" / "titration.py"
    tree = ast.parse(path.read_text())
    allowed = {"__future__", "collections.abc", "dataclasses", "datetime", "decimal"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert {alias.name for alias in node.names} <= allowed
        elif isinstance(node, ast.ImportFrom):
            assert node.module in allowed
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                assert func.attr not in {"now", "today", "utcnow", "localdate", "localtime", "time"}
            if isinstance(func, ast.Name):
                assert func.id != "round", "use Decimal ROUND_HALF_UP, never round()"
