"""R5.2 pregnancy tests (therapy/rules/pregnancy.py), tables worked by hand from
clinical-rules.md. The R5 deviation codes of the dose check are in test_thalidomide.py.

Every expected value is written as a literal worked out on paper from the spec,
never computed by the code under test. Inputs are dated from day 0 = 2024-01-01
(see tests/rules/helpers.py for the calendar of the days used).

No database: the rules are pure functions.
"""

from datetime import date

import pytest

from tests.rules.helpers import BEFORE, START, WEEKLY, day, negatives, positive
from therapy.rules.pregnancy import (
    next_pregnancy_test_due,
    pre_start_tests_ok,
    pregnancy_coverage,
    pregnancy_test_interval_days,
)

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
