"""R3 thalidomide titration (therapy/rules/thalidomide.py) and the R3.5 dose-change
check (therapy/rules/thalidomide_check.py), tables worked by hand from clinical-rules.md.

Every expected value is written as a literal worked out on paper from the spec,
never computed by the code under test. Inputs are dated from day 0 = 2024-01-01
(see tests/rules/helpers.py for the calendar of the days used).

No database: the rules are pure functions.
"""

import ast
from datetime import date
from pathlib import Path

import pytest

from tests.rules.helpers import (
    BEFORE,
    WEEKLY,
    D,
    child,
    day,
    grades,
    man,
    negatives,
    positive,
    row,
    rows,
    woman,
)
from therapy.rules.doses import DoseRow
from therapy.rules.pregnancy import PregnancyTest, next_pregnancy_test_due, pregnancy_coverage
from therapy.rules.thalidomide import (
    effective_target,
    latest_neuropathy_grade,
    paediatric_cap,
    suggest_next_step,
)
from therapy.rules.thalidomide_check import (
    DEVIATION_CODES,
    check_thalidomide_change,
    check_thalidomide_history,
)

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
# Effective target dose (R3.1–R3.3)
# ---------------------------------------------------------------------------

# (patient, on, target mg)
TARGET_CASES = [
    pytest.param(man(), 5, D("100"), id="R3.2-adult-default-100"),
    pytest.param(man(target_dose_mg=D("75")), 5, D("75"), id="R3.2-adult-recorded-75"),
    pytest.param(man(target_dose_mg=D("120")), 5, D("100"), id="R3.2-adult-never-above-100"),
    # 2 mg/kg × 18 kg = 36 mg → cap 25
    pytest.param(child(18), 5, D("25"), id="R3.3-18kg-cap-25"),
    # 2 mg/kg × 30 kg = 60, min(60, 50) = 50 → cap 50; the lower recorded 25 is used
    pytest.param(child(30, target_dose_mg=D("25")), 5, D("25"), id="R3.3-recorded-below-cap"),
    # weighed on day −40: 45 days old on day 5, more than 30
    pytest.param(child(18, weighed=-40), 5, None, id="R3.3-no-recent-weight"),
    # 2 mg/kg × 5 kg = 10 mg, below 12.5
    pytest.param(child(5), 5, None, id="R3.3-no-step-under-cap"),
]


@pytest.mark.parametrize("patient, on, target", TARGET_CASES)
def test_effective_target(patient, on, target):
    assert effective_target(patient, day(on)) == target


# ---------------------------------------------------------------------------
# The rule modules are pure (tests/test_purity.py)
# ---------------------------------------------------------------------------

RULES = Path(__file__).resolve().parents[2] / "therapy" / "rules"
STANDARD_LIBRARY = {"__future__", "collections.abc", "dataclasses", "datetime", "decimal", "functools"}


@pytest.mark.parametrize("name", sorted(p.name for p in RULES.glob("*.py") if p.name != "__init__.py"))
def test_rule_module_is_pure(name):
    tree = ast.parse((RULES / name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert {alias.name for alias in node.names} <= STANDARD_LIBRARY
        elif isinstance(node, ast.ImportFrom):
            # thalimon.said: the pure sentence type the reasons are written with (issue 17).
            assert node.module in STANDARD_LIBRARY or node.module.startswith("therapy.rules.") \
                or node.module == "thalimon.said"
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                assert func.attr not in {"now", "today", "utcnow", "localdate", "localtime", "time"}
            if isinstance(func, ast.Name):
                assert func.id != "round", "use Decimal ROUND_HALF_UP, never round()"


# R3.1: resuming after a stop counts the days in words ("1 day", never "1 days").
@pytest.mark.parametrize("gap, words", [(1, "1 day after the stop"), (10, "10 days after the stop")])
def test_a_resumption_says_how_many_days_after_the_stop(gap, words):
    from datetime import timedelta
    from decimal import Decimal

    from therapy.rules.doses import classify_change

    prior = [DoseRow(date(2024, 1, 1), Decimal("50")), DoseRow(date(2024, 2, 1), Decimal("0"))]
    proposed = DoseRow(date(2024, 2, 1) + timedelta(days=gap), Decimal("25"))
    kind, _reference, description = classify_change(prior, proposed)
    assert kind == "increase" and words in description, description
