"""R3.1 dose records and the R3.4/R7 cumulative dose (therapy/rules/doses.py),
tables worked by hand from clinical-rules.md.

Every expected value is written as a literal worked out on paper from the spec,
never computed by the code under test. Inputs are dated from day 0 = 2024-01-01
(see tests/rules/helpers.py for the calendar of the days used).

No database: the rules are pure functions.
"""

from datetime import date

import pytest

from tests.rules.helpers import D, day, row, rows
from therapy.rules.doses import (
    course_start,
    cumulative_dose_g,
    current_dose,
    date_cumulative_reached,
    last_change,
    stop_date,
    thalidomide_active,
)

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
