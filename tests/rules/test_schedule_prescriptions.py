"""R7 ``prescription_due`` (R9.4) in the reminder schedule (safety/schedule.py), worked by
hand from clinical-rules.md R7 and R9.4. Day 0 = 2024-01-01 (tests/rules/test_schedule.py
has the calendar): day 21 = 2024-01-22, day 28 = 2024-01-29.

No database: the rules are pure functions.
"""

from datetime import date
from decimal import Decimal

import pytest

from safety.schedule import is_due, is_overdue
from tests.rules.test_schedule import day, doses, man, of_kind, woman
from therapy.rules.prescriptions import PrescriptionRow, programme


def rx(issue, days=28, *, dispensed=None):
    return PrescriptionRow(
        issue_date=day(issue), dose_mg=Decimal("25"), days_supply=days, contraception_confirmed=True,
        dispensed_date=None if dispensed is None else day(dispensed),
    )


REMS = programme("us_rems")

# (record, as of day, due day or None)
CASES = [
    # Issued day 0, 28 days: run-out day 28, due 28 − 7 = day 21.
    pytest.param(man(prescriptions=(rx(0),)), 10, 21, id="issue-date"),
    # Dispensed day 3: run-out 31, due 24.
    pytest.param(man(prescriptions=(rx(0, dispensed=3),)), 10, 24, id="dispensed-date"),
    # Second prescription day 21, dispensed day 22: 22 + 28 = 50, due 43.
    pytest.param(man(prescriptions=(rx(0), rx(21, dispensed=22))), 30, 43, id="next-prescription-moves-it"),
    # The second is issued after the as-of date: not yet known.
    pytest.param(man(prescriptions=(rx(0), rx(21, dispensed=22))), 20, 21, id="future-prescription-ignored"),
    pytest.param(man(), 10, None, id="no-prescription"),
    # Stopped day 20 (0 mg): not active on day 25.
    pytest.param(man(thalidomide=doses((0, 25), (20, 0)), prescriptions=(rx(0),)), 25, None, id="stopped"),
    # FRP, never dispensed: void from day 0 + 7 + 1 = 8.
    pytest.param(woman(0, prescriptions=(rx(0),)), 7, 21, id="frp-not-yet-void"),
    pytest.param(woman(0, prescriptions=(rx(0),)), 8, None, id="frp-void"),
    # US REMS man: dispense by day 30, so an undispensed one is void from day 31.
    pytest.param(man(prescriptions=(rx(0),), prescription_programme=REMS), 30, 21, id="rems-man-day-30"),
    pytest.param(man(prescriptions=(rx(0),), prescription_programme=REMS), 31, None, id="rems-man-void-day-31"),
    # Previous course: restart day 60 (stop day 20, 40 > 28 days); day 0's is course 1's.
    pytest.param(man(thalidomide=doses((0, 25), (20, 0), (60, 25)), prescriptions=(rx(0),)), 70, None,
                 id="previous-course-ignored"),
    # Died on day 5: no reminders from then (R7).
    pytest.param(man(prescriptions=(rx(0),), status="died", status_date=day(5)), 10, None, id="died"),
]


@pytest.mark.parametrize("record, as_of, due", CASES)
def test_prescription_due(record, as_of, due):
    found = of_kind(record, day(as_of), "prescription_due")
    assert [r.due for r in found] == ([] if due is None else [day(due)])
    assert all(r.action == "prescription" and r.subject == "" and r.rule == "R7" for r in found)


def test_reason_and_overdue_the_day_after_the_run_out():
    (reminder,) = of_kind(man(prescriptions=(rx(0, dispensed=0),)), day(10), "prescription_due")
    assert reminder.reason == (
        "Prescription due 2024-01-22: the thalidomide tablets of the course run out on 2024-01-29 "
        "(the first day without them; prescription of 2024-01-01, dispensed 2024-01-01, 28 days of "
        "supply); the next prescription is due 7 days before (R9.4) (R7)."
    )
    # Due day 21; overdue when due + 7 < as of: day 29, the day after the run-out day 28.
    assert is_due(reminder, day(21)) and not is_due(reminder, day(20))
    assert not is_overdue(reminder, day(28)) and is_overdue(reminder, day(29))
    assert reminder.due == date(2024, 1, 22)
