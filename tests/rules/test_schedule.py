"""R7 reminders for the care team (safety/schedule.py), tables worked by hand from
clinical-rules.md R7 with R3.1, R3.4, R4.3, R5.2, R5.3 and R6.

Every expected due date is a literal worked out on paper from the spec, never
computed by the code under test. Inputs are dated from day 0 = 2024-01-01 (2024 is
a leap year: February has 29 days), so:

    day −12 = 2023-12-20   day 24 = 2024-01-25   day 88  = 2024-03-29
    day −7  = 2023-12-25   day 25 = 2024-01-26   day 100 = 2024-04-10
    day 0   = 2024-01-01   day 27 = 2024-01-28   day 123 = 2024-05-03
    day 7   = 2024-01-08   day 28 = 2024-01-29   day 125 = 2024-05-05
    day 10  = 2024-01-11   day 34 = 2024-02-04   day 130 = 2024-05-10
    day 14  = 2024-01-15   day 40 = 2024-02-10   day 158 = 2024-06-07
    day 15  = 2024-01-16   day 42 = 2024-02-12   day 160 = 2024-06-09
    day 17  = 2024-01-18   day 44 = 2024-02-14   day 168 = 2024-06-17
    day 20  = 2024-01-21   day 54 = 2024-02-24   day 190 = 2024-07-09
    day 21  = 2024-01-22   day 56 = 2024-02-26   day 199 = 2024-07-18
    day 22  = 2024-01-23   day 60 = 2024-03-01   day 252 = 2024-09-09
                           day 70 = 2024-03-11   day 280 = 2024-10-07
                           day 84 = 2024-03-25   day 406 = 2025-02-10

A thalidomide stop on day 100 (2024-04-10) gives the R5.3 checkpoints stop + 30 …
stop + 180 = days 130, 160, 190, 220, 250, 280; with P = 182 the window is open while
as_of − stop < 182, i.e. up to day 281 (2024-10-08); closed from day 282.

No database: the rules are pure functions.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from safety.schedule import (
    KINDS,
    AdverseEventInfo,
    DueReminder,
    PatientRecord,
    VisitInfo,
    is_due,
    is_overdue,
    reminders,
)
from thalimon.rules_config import RuleSettings
from therapy.rules.doses import DoseRow
from therapy.rules.pregnancy import PregnancyTest

D = Decimal
START = date(2024, 1, 1)
# R5.3 P is configurable, so PatientRecord requires it: the configured default, 182 days.
PERIOD = RuleSettings().contraception_period_days


def day(n: int) -> date:
    return START + timedelta(days=n)


def doses(*pairs) -> tuple[DoseRow, ...]:
    """(day, mg) pairs → dose rows."""
    return tuple(DoseRow(date=day(n), dose_mg=D(str(mg))) for n, mg in pairs)


def clinic(n: int, **fields) -> VisitInfo:
    return VisitInfo(date=day(n), contact="clinic", **fields)


def phone(n: int, **fields) -> VisitInfo:
    return VisitInfo(date=day(n), contact="phone", **fields)


def negatives(*days) -> tuple[PregnancyTest, ...]:
    return tuple(PregnancyTest(date=day(n), result="negative") for n in days)


def positive(n: int) -> PregnancyTest:
    return PregnancyTest(date=day(n), result="positive")


def ae(key: str, onset: int, grade: int, *, resolved=None, notes=(), term="somnolence"):
    return AdverseEventInfo(
        key=key,
        term=term,
        onset=day(onset),
        grade=grade,
        resolved=None if resolved is None else day(resolved),
        follow_up_dates=tuple(day(n) for n in notes),
    )


def man(**changes) -> PatientRecord:
    """An adult man on thalidomide 25 mg from day 0, neuropathy grade 0 on day −7."""
    fields = dict(
        patient="TM-001",
        sex="M",
        target_dose_mg=D("100"),  # an adult's effective target (default, R3.2)
        contraception_period_days=PERIOD,
        female_of_reproductive_potential=False,
        irregular_cycles=None,
        thalidomide=doses((0, 25)),
        visits=(clinic(-7, neuropathy_grade=0),),
    )
    fields.update(changes)
    return PatientRecord(**fields)


def woman(*test_days, **changes) -> PatientRecord:
    """An adult woman of reproductive potential, regular cycles, on thalidomide 25 mg from
    day 0, neuropathy grade 0 on day −7, negative pregnancy tests on the given days."""
    fields = dict(
        patient="TM-002",
        sex="F",
        target_dose_mg=D("100"),  # an adult's effective target (default, R3.2)
        contraception_period_days=PERIOD,
        female_of_reproductive_potential=True,
        irregular_cycles=False,
        thalidomide=doses((0, 25)),
        visits=(clinic(-7, neuropathy_grade=0),),
        pregnancy_tests=negatives(*test_days),
    )
    fields.update(changes)
    return PatientRecord(**fields)


def of_kind(record: PatientRecord, as_of: date, kind: str) -> list[DueReminder]:
    return [reminder for reminder in reminders(record, as_of) if reminder.kind == kind]


def test_r7_kinds_in_the_tables_order():
    assert KINDS == (
        "dose_step_due",
        "neuropathy_review",
        "pregnancy_test_due",
        "contraception_follow_up",
        "ae_follow_up",
        "blood_test_due",
        "visit_due",
        "cumulative_dose_review",
        "prescription_due",
    )


# ---------------------------------------------------------------------------
# One kind at a time: (record, as_of, kind, expected due dates)
# ---------------------------------------------------------------------------

STOPPED_DAY_100 = doses((0, 25), (100, 0))
WEEKLY = (-12, 0, 7, 14, 21)  # pre-start tests, then weekly to day 21

KIND_CASES = [
    # --- dose_step_due: last thalidomide dose change + 14 days ------------------------
    pytest.param(man(), day(3), "dose_step_due", (date(2024, 1, 15),), id="R7-dose-step-start+14"),
    pytest.param(
        man(), day(14), "dose_step_due", (date(2024, 1, 15),), id="R7-dose-step-due-equals-as_of"
    ),
    pytest.param(
        man(thalidomide=doses((0, 25), (14, 50))), day(20), "dose_step_due",
        (date(2024, 1, 29),), id="R7-dose-step-moves-with-new-change-day-14+14",
    ),
    pytest.param(
        # the day-14 change is after as_of: ignored
        man(thalidomide=doses((0, 25), (14, 50))), day(10), "dose_step_due",
        (date(2024, 1, 15),), id="R7-dose-step-change-after-as_of-ignored",
    ),
    pytest.param(
        man(thalidomide=doses((0, 25), (14, 50), (21, 50))), day(25), "dose_step_due",
        (date(2024, 1, 29),), id="R3.1-R7-dose-step-continuation-does-not-restart-clock",
    ),
    pytest.param(
        # stopped day 30, resumed day 40 (within 28 days): the resumption is a change
        man(thalidomide=doses((0, 25), (14, 50), (30, 0), (40, 50))), day(45), "dose_step_due",
        (date(2024, 2, 24),), id="R3.1-R7-dose-step-resumption-restarts-clock-day-40+14",
    ),
    pytest.param(
        man(thalidomide=doses((0, 25), (14, 50), (28, 75), (42, 100))), day(50), "dose_step_due",
        (), id="R7-dose-step-at-default-target-100-none",
    ),
    pytest.param(
        man(target_dose_mg=D("50"), thalidomide=doses((0, 25), (14, 50))), day(20),
        "dose_step_due", (), id="R7-dose-step-at-target-50-none",
    ),
    pytest.param(
        man(target_dose_mg=D("50")), day(3), "dose_step_due", (date(2024, 1, 15),),
        id="R7-dose-step-below-target-50",
    ),
    pytest.param(
        # the target cannot be set (a child without a recent weight): no step is prompted
        man(target_dose_mg=None), day(20), "dose_step_due", (), id="R3.3-R7-dose-step-target-unknown-none",
    ),
    pytest.param(
        # paediatric cap 25 mg passed as the target; 12.5 → step due, 25 → none
        man(target_dose_mg=D("25"), thalidomide=doses((0, "12.5"))), day(3), "dose_step_due",
        (date(2024, 1, 15),), id="R3.3-R7-dose-step-below-paediatric-cap",
    ),
    pytest.param(
        man(target_dose_mg=D("25"), thalidomide=doses((0, "12.5"), (14, 25))), day(20),
        "dose_step_due", (), id="R3.3-R7-dose-step-at-paediatric-cap-none",
    ),
    pytest.param(
        # a recorded target of 150 is capped at the 100 mg maximum (R3.2)
        man(target_dose_mg=D("150"), thalidomide=doses((0, 25), (14, 50), (28, 75), (42, 100))),
        day(50), "dose_step_due", (), id="R3.2-R7-dose-step-never-above-100",
    ),
    pytest.param(
        man(visits=(clinic(-7, neuropathy_grade=0), clinic(10, neuropathy_grade=2))), day(20),
        "dose_step_due", (), id="R3.4-R7-dose-step-suppressed-by-grade-2",
    ),
    pytest.param(
        man(visits=(clinic(-7, neuropathy_grade=0), clinic(10, neuropathy_grade=1))), day(20),
        "dose_step_due", (), id="R3.4-R7-dose-step-suppressed-by-grade-1",
    ),
    pytest.param(
        man(visits=(clinic(10, neuropathy_grade=2), clinic(24, neuropathy_grade=0))), day(30),
        "dose_step_due", (date(2024, 1, 15),), id="R3.4-R7-dose-step-back-when-grade-0-again",
    ),
    pytest.param(
        # the grade 2 on day 10 is after as_of: the latest grade is still 0
        man(visits=(clinic(-7, neuropathy_grade=0), clinic(10, neuropathy_grade=2))), day(9),
        "dose_step_due", (date(2024, 1, 15),), id="R3.4-R7-dose-step-grade-after-as_of-ignored",
    ),
    pytest.param(
        man(visits=()), day(3), "dose_step_due", (), id="R3.4-R7-dose-step-no-grade-ever-none"
    ),
    pytest.param(
        man(visits=(clinic(-7),)), day(3), "dose_step_due", (),
        id="R3.4-R7-dose-step-visit-without-grade-none",
    ),
    pytest.param(
        man(thalidomide=doses((0, 25), (10, 0))), day(12), "dose_step_due", (),
        id="R7-dose-step-stopped-none",
    ),
    pytest.param(
        man(thalidomide=()), day(3), "dose_step_due", (), id="R7-dose-step-never-started-none"
    ),
    # --- neuropathy_review: assessment + 28 (grade 1) or + 14 (grade ≥ 2) -------------
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=1),)), day(30), "neuropathy_review",
        (date(2024, 2, 26),), id="R3.4-R7-neuropathy-grade-1-day-28+28",
    ),
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=2),)), day(30), "neuropathy_review",
        (date(2024, 2, 12),), id="R3.4-R7-neuropathy-grade-2-day-28+14",
    ),
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=3),)), day(30), "neuropathy_review",
        (date(2024, 2, 12),), id="R3.4-R7-neuropathy-grade-3-day-28+14",
    ),
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=2),)), day(42), "neuropathy_review",
        (date(2024, 2, 12),), id="R3.4-R7-neuropathy-due-equals-as_of",
    ),
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=1), clinic(56, neuropathy_grade=1))), day(60),
        "neuropathy_review", (date(2024, 3, 25),),
        id="R3.4-R7-neuropathy-next-assessment-day-56+28",
    ),
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=2), clinic(42, neuropathy_grade=1))), day(45),
        "neuropathy_review", (date(2024, 3, 11),), id="R3.4-R7-neuropathy-grade-2-then-1-day-42+28",
    ),
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=2), clinic(40, neuropathy_grade=0))), day(45),
        "neuropathy_review", (), id="R3.4-R7-neuropathy-resolved-grade-0-none",
    ),
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=1), clinic(40, neuropathy_grade=0))), day(35),
        "neuropathy_review", (date(2024, 2, 26),),
        id="R3.4-R7-neuropathy-grade-after-as_of-ignored",
    ),
    pytest.param(
        # phone contacts are not graded (R3.4): the clinic grade 2 stands
        man(visits=(clinic(28, neuropathy_grade=2), phone(35, neuropathy_grade=0))), day(36),
        "neuropathy_review", (date(2024, 2, 12),), id="R3.4-R7-neuropathy-phone-grade-ignored",
    ),
    pytest.param(
        man(thalidomide=doses((0, 25), (30, 0)), visits=(clinic(28, neuropathy_grade=2),)),
        day(35), "neuropathy_review", (date(2024, 2, 12),),
        id="R3.4-R7-neuropathy-followed-after-stop",
    ),
    pytest.param(man(), day(3), "neuropathy_review", (), id="R3.4-R7-neuropathy-grade-0-none"),
    # --- pregnancy_test_due (R5.2) -----------------------------------------------------
    pytest.param(
        woman(-12, 0), day(3), "pregnancy_test_due", (date(2024, 1, 8),),
        id="R5.2-R7-pregnancy-first-28-days-weekly-day-0+7",
    ),
    pytest.param(
        woman(-12, 0), day(7), "pregnancy_test_due", (date(2024, 1, 8),),
        id="R5.2-R7-pregnancy-due-equals-as_of",
    ),
    pytest.param(
        woman(-12, 0, 7), day(10), "pregnancy_test_due", (date(2024, 1, 15),),
        id="R5.2-R7-pregnancy-test-recorded-moves-to-day-14",
    ),
    pytest.param(
        woman(-12, 0, 7), day(6), "pregnancy_test_due", (date(2024, 1, 8),),
        id="R5.2-R7-pregnancy-test-after-as_of-ignored",
    ),
    pytest.param(
        woman(*WEEKLY), day(24), "pregnancy_test_due", (date(2024, 1, 29),),
        id="R5.2-R7-pregnancy-day-21+7",
    ),
    pytest.param(
        woman(*WEEKLY, 27), day(29), "pregnancy_test_due", (date(2024, 2, 4),),
        id="R5.2-R7-pregnancy-day-27-still-weekly-day-34",
    ),
    pytest.param(
        woman(*WEEKLY, 28), day(30), "pregnancy_test_due", (date(2024, 2, 26),),
        id="R5.2-R7-pregnancy-day-28-regular-+28",
    ),
    pytest.param(
        woman(*WEEKLY, 28, irregular_cycles=True), day(30), "pregnancy_test_due",
        (date(2024, 2, 12),), id="R5.2-R7-pregnancy-day-28-irregular-+14",
    ),
    pytest.param(
        woman(*WEEKLY, 28, irregular_cycles=None), day(30), "pregnancy_test_due",
        (date(2024, 2, 12),), id="R5.2-R7-pregnancy-day-28-unknown-cycles-+14",
    ),
    pytest.param(
        woman(), day(3), "pregnancy_test_due", (date(2024, 1, 1),),
        id="R5.2-R7-pregnancy-no-test-due-at-start",
    ),
    pytest.param(
        woman(-12, 0, 7, pregnancy_tests=negatives(-12, 0, 7) + (positive(10),)), day(12),
        "pregnancy_test_due", (date(2024, 1, 11),), id="R5.2-R7-pregnancy-positive-due-at-once",
    ),
    pytest.param(
        woman(*WEEKLY, 28, 56, thalidomide=doses((0, 25), (60, 0))), day(70),
        "pregnancy_test_due", (date(2024, 3, 29),), id="R5.2-R7-pregnancy-stop-day-60+28",
    ),
    pytest.param(
        woman(*WEEKLY, 28, 56, 80, thalidomide=doses((0, 25), (60, 0))), day(85),
        "pregnancy_test_due", (date(2024, 3, 29),),
        id="R5.2-R7-pregnancy-test-before-stop+28-does-not-close",
    ),
    pytest.param(
        woman(*WEEKLY, 28, 56, 88, thalidomide=doses((0, 25), (60, 0))), day(90),
        "pregnancy_test_due", (), id="R5.2-R7-pregnancy-post-stop-test-done-none",
    ),
    pytest.param(
        woman(-12, 0, thalidomide=()), day(3), "pregnancy_test_due", (),
        id="R5.2-R7-pregnancy-never-started-none",
    ),
    pytest.param(
        woman(-12, 0, female_of_reproductive_potential=False), day(3), "pregnancy_test_due", (),
        id="R5.1-R7-pregnancy-not-of-reproductive-potential-none",
    ),
    pytest.param(man(), day(3), "pregnancy_test_due", (), id="R5.2-R7-pregnancy-male-never"),
    # --- contraception_follow_up (R5.3), stop on day 100 (2024-04-10), P = 182 -------
    pytest.param(
        man(thalidomide=STOPPED_DAY_100), day(100), "contraception_follow_up",
        (date(2024, 5, 10),), id="R5.3-R7-contraception-stop-day-first-checkpoint-stop+30",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100), day(105), "contraception_follow_up",
        (date(2024, 5, 10),), id="R5.3-R7-contraception-none-confirmed-stop+30",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100, visits=(clinic(90, contraception_confirmed=True),)),
        day(105), "contraception_follow_up", (date(2024, 5, 10),),
        id="R5.3-R7-contraception-confirmed-before-stop-does-not-count",
    ),
    pytest.param(
        # day 130 − day 122 = 8 days > 7: the confirmation does not cover stop + 30
        man(thalidomide=STOPPED_DAY_100, visits=(clinic(122, contraception_confirmed=True),)),
        day(125), "contraception_follow_up", (date(2024, 5, 10),),
        id="R5.3-R7-contraception-confirmed-8-days-before-checkpoint",
    ),
    pytest.param(
        # day 130 − day 123 = 7 days: covered, next checkpoint stop + 60 = day 160
        man(thalidomide=STOPPED_DAY_100, visits=(clinic(123, contraception_confirmed=True),)),
        day(125), "contraception_follow_up", (date(2024, 6, 9),),
        id="R5.3-R7-contraception-confirmed-7-days-before-checkpoint-covers",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100, visits=(phone(125, contraception_confirmed=True),)),
        day(126), "contraception_follow_up", (date(2024, 6, 9),),
        id="R5.3-R7-contraception-phone-confirmation-counts",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100, visits=(phone(125, contraception_confirmed=False),)),
        day(126), "contraception_follow_up", (date(2024, 5, 10),),
        id="R5.3-R7-contraception-no-is-not-a-confirmation",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100, visits=(clinic(125),)),
        day(126), "contraception_follow_up", (date(2024, 5, 10),),
        id="R5.3-R7-contraception-not-recorded-is-not-a-confirmation",
    ),
    pytest.param(
        man(
            thalidomide=STOPPED_DAY_100,
            visits=(
                clinic(125, contraception_confirmed=True),
                phone(155, contraception_confirmed=True),
            ),
        ),
        day(156), "contraception_follow_up", (date(2024, 7, 9),),
        id="R5.3-R7-contraception-yes-day-155-covers-stop+60-next-stop+90",
    ),
    pytest.param(
        man(
            thalidomide=STOPPED_DAY_100,
            visits=(
                clinic(125, contraception_confirmed=True),
                phone(155, contraception_confirmed=False),
            ),
        ),
        day(156), "contraception_follow_up", (date(2024, 6, 9),),
        id="R5.3-R7-contraception-no-day-155-leaves-stop+60-due",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100, visits=(clinic(250, contraception_confirmed=True),)),
        day(280), "contraception_follow_up", (date(2024, 10, 7),),
        id="R5.3-R7-contraception-stop+180-due-equals-as_of",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100, visits=(clinic(250, contraception_confirmed=True),)),
        day(281), "contraception_follow_up", (date(2024, 10, 7),),
        id="R5.3-R7-contraception-stop+181-last-checkpoint-stop+180",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100, visits=(clinic(250, contraception_confirmed=True),)),
        day(282), "contraception_follow_up", (), id="R5.3-R7-contraception-closed-at-stop+182",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100), day(300), "contraception_follow_up", (),
        id="R5.3-R7-contraception-closed-after-stop+182",
    ),
    pytest.param(
        # day 280 − day 275 = 5 days: stop + 180 covered, no checkpoint left
        man(thalidomide=STOPPED_DAY_100, visits=(clinic(275, contraception_confirmed=True),)),
        day(276), "contraception_follow_up", (), id="R5.3-R7-contraception-last-checkpoint-covered",
    ),
    pytest.param(
        # P = 90: checkpoints stop + 30, 60, 90; open while as_of − stop < 90
        man(
            thalidomide=STOPPED_DAY_100,
            contraception_period_days=90,
            visits=(clinic(160, contraception_confirmed=True),),
        ),
        day(189), "contraception_follow_up", (date(2024, 7, 9),),
        id="R5.3-R7-contraception-P-90-last-checkpoint-stop+90",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100, contraception_period_days=90), day(190),
        "contraception_follow_up", (), id="R5.3-R7-contraception-P-90-closed-at-stop+90",
    ),
    pytest.param(
        # P = 28 (REMS minimum): 30k ≤ 28 never holds, so R7 gives no checkpoint
        man(thalidomide=STOPPED_DAY_100, contraception_period_days=28), day(105),
        "contraception_follow_up", (), id="R5.3-R7-contraception-P-28-no-checkpoint",
    ),
    pytest.param(
        woman(thalidomide=STOPPED_DAY_100), day(105), "contraception_follow_up",
        (date(2024, 5, 10),), id="R5.3-R7-contraception-female-of-reproductive-potential",
    ),
    pytest.param(
        woman(thalidomide=STOPPED_DAY_100, female_of_reproductive_potential=False), day(105),
        "contraception_follow_up", (), id="R5.3-R7-contraception-female-not-at-risk-none",
    ),
    pytest.param(
        man(), day(50), "contraception_follow_up", (), id="R5.3-R7-contraception-on-therapy-none"
    ),
    pytest.param(
        man(thalidomide=doses((0, 25), (100, 0), (110, 25))), day(115), "contraception_follow_up",
        (), id="R5.3-R7-contraception-resumed-none",
    ),
    # --- blood_test_due (R4.3): anchor + 14, 28, 56, 84, then every 84 days ----------
    pytest.param(
        man(azathioprine=doses((0, 100))), day(3), "blood_test_due", (date(2024, 1, 15),),
        id="R4.3-R7-blood-no-count-day-14",
    ),
    pytest.param(
        man(azathioprine=doses((0, 100)), blood_count_dates=(day(7),)), day(8), "blood_test_due",
        (date(2024, 1, 29),), id="R4.3-R7-blood-count-day-7-covers-day-14",
    ),
    pytest.param(
        man(azathioprine=doses((0, 100)), blood_count_dates=(day(6),)), day(8), "blood_test_due",
        (date(2024, 1, 15),), id="R4.3-R7-blood-count-day-6-too-early",
    ),
    pytest.param(
        man(azathioprine=doses((0, 100)), blood_count_dates=(day(-3),)), day(5), "blood_test_due",
        (date(2024, 1, 15),), id="R4.3-R7-blood-count-before-anchor-ignored",
    ),
    pytest.param(
        man(azathioprine=doses((0, 100)), blood_count_dates=(day(10),)), day(9), "blood_test_due",
        (date(2024, 1, 15),), id="R4.3-R7-blood-count-after-as_of-ignored",
    ),
    pytest.param(
        man(azathioprine=doses((0, 100), (40, 150)), blood_count_dates=(day(13), day(27))),
        day(45), "blood_test_due", (date(2024, 2, 24),), id="R4.3-R7-blood-dose-change-day-40+14",
    ),
    pytest.param(
        man(
            azathioprine=doses((0, 100)),
            blood_count_dates=(day(13), day(27), day(55), day(83)),
        ),
        day(100), "blood_test_due", (date(2024, 6, 17),), id="R4.3-R7-blood-after-day-84-day-168",
    ),
    pytest.param(
        man(azathioprine=doses((0, 100), (50, 0))), day(60), "blood_test_due", (),
        id="R4.3-R7-blood-azathioprine-stopped-none",
    ),
    pytest.param(man(), day(3), "blood_test_due", (), id="R4.3-R7-blood-no-azathioprine-none"),
    # --- visit_due: day 28, 56, 84, 168, then every 84 days --------------------------
    pytest.param(man(), day(10), "visit_due", (date(2024, 1, 29),), id="R7-visit-day-28"),
    pytest.param(
        man(visits=()), day(10), "visit_due", (date(2024, 1, 29),),
        id="R7-visit-no-clinic-visit-ever-day-28",
    ),
    pytest.param(
        man(visits=(clinic(21),)), day(22), "visit_due", (date(2024, 2, 26),),
        id="R7-visit-clinic-day-21-covers-day-28",
    ),
    pytest.param(
        man(visits=(clinic(20),)), day(22), "visit_due", (date(2024, 1, 29),),
        id="R7-visit-clinic-day-20-does-not-cover-day-28",
    ),
    pytest.param(
        man(visits=(clinic(-7, neuropathy_grade=0), phone(25))), day(26), "visit_due",
        (date(2024, 1, 29),), id="R7-visit-phone-contact-does-not-count",
    ),
    pytest.param(
        man(visits=(clinic(84),)), day(90), "visit_due", (date(2024, 6, 17),),
        id="R7-visit-clinic-day-84-next-day-168",
    ),
    pytest.param(
        man(visits=(clinic(160),)), day(162), "visit_due", (date(2024, 6, 17),),
        id="R7-visit-clinic-day-160-does-not-cover-day-168",
    ),
    pytest.param(
        man(visits=(clinic(168),)), day(170), "visit_due", (date(2024, 9, 9),),
        id="R7-visit-clinic-day-168-next-day-252",
    ),
    pytest.param(
        man(thalidomide=doses((0, 25), (100, 0)), visits=(clinic(84),)), day(105), "visit_due",
        (), id="R7-visit-stopped-none",
    ),
    pytest.param(
        # restart 30 days after the stop (> 28): new course, day 0 = day 130; 130 + 28 = 158
        man(thalidomide=doses((0, 25), (100, 0), (130, 25)), visits=(clinic(84),)), day(135),
        "visit_due", (date(2024, 6, 7),), id="R3.1-R7-visit-restart-new-course-day-28",
    ),
    pytest.param(
        # resumed 20 days after the stop (≤ 28): same course, day 0 = day 0 → day 168
        man(thalidomide=doses((0, 25), (100, 0), (120, 25)), visits=(clinic(84),)), day(125),
        "visit_due", (date(2024, 6, 17),), id="R3.1-R7-visit-resumed-same-course-day-168",
    ),
    # --- cumulative_dose_review: 100 mg/day reaches 20 g on the 200th day (day 199) ---
    pytest.param(
        man(thalidomide=doses((0, 100))), day(198), "cumulative_dose_review", (),
        id="R3.4-R7-cumulative-19.9-g-none",
    ),
    pytest.param(
        man(thalidomide=doses((0, 100))), day(199), "cumulative_dose_review",
        (date(2024, 7, 18),), id="R3.4-R7-cumulative-20-g-due-equals-as_of",
    ),
    pytest.param(
        man(thalidomide=doses((0, 100))), day(200), "cumulative_dose_review",
        (date(2024, 7, 18),), id="R3.4-R7-cumulative-20-g-reached-day-199",
    ),
    pytest.param(
        # 14 days × 25 mg = 350 mg, then 19 650 / 50 = 393 days from day 14 → day 406
        man(thalidomide=doses((0, 25), (14, 50))), day(410), "cumulative_dose_review",
        (date(2025, 2, 10),), id="R3.4-R7-cumulative-25-then-50-mg-day-406",
    ),
    pytest.param(
        man(thalidomide=doses((0, 100)), visits=(clinic(210, neurological_review=True),)),
        day(215), "cumulative_dose_review", (), id="R3.4-R7-cumulative-later-review-closes",
    ),
    pytest.param(
        man(thalidomide=doses((0, 100)), visits=(clinic(199, neurological_review=True),)),
        day(215), "cumulative_dose_review", (), id="R3.4-R7-cumulative-review-same-day-closes",
    ),
    pytest.param(
        man(thalidomide=doses((0, 100)), visits=(clinic(190, neurological_review=True),)),
        day(215), "cumulative_dose_review", (date(2024, 7, 18),),
        id="R3.4-R7-cumulative-review-before-20-g-does-not-count",
    ),
    pytest.param(
        man(thalidomide=doses((0, 100)), visits=(phone(210, neurological_review=True),)),
        day(215), "cumulative_dose_review", (date(2024, 7, 18),),
        id="R3.4-R7-cumulative-phone-contact-is-not-a-review",
    ),
    pytest.param(
        man(thalidomide=doses((0, 100)), visits=(clinic(210, neurological_review=True),)),
        day(205), "cumulative_dose_review", (date(2024, 7, 18),),
        id="R3.4-R7-cumulative-review-after-as_of-ignored",
    ),
    pytest.param(
        man(thalidomide=doses((0, 100), (205, 0))), day(220), "cumulative_dose_review",
        (date(2024, 7, 18),), id="R3.4-R7-cumulative-still-due-after-stop",
    ),
    pytest.param(
        man(thalidomide=doses((0, 100), (100, 0))), day(300), "cumulative_dose_review", (),
        id="R3.4-R7-cumulative-stopped-at-10-g-none",
    ),
]


@pytest.mark.parametrize("record, as_of, kind, expected", KIND_CASES)
def test_r7_due_dates(record, as_of, kind, expected):
    found = of_kind(record, as_of, kind)
    assert tuple(reminder.due for reminder in found) == expected
    for reminder in found:
        assert reminder.subject == ""
        assert reminder.patient == record.patient
        assert reminder.rule == "R7"
        assert reminder.reason.endswith("(R7).")
        assert reminder.due.isoformat() in reminder.reason


# ---------------------------------------------------------------------------
# ae_follow_up (R6): one per unresolved AE; expected (due, subject) pairs
# ---------------------------------------------------------------------------

AE_CASES = [
    pytest.param(
        (ae("1", 10, 3),), (), day(12), ((date(2024, 1, 18), "1"),),
        id="R6-R7-ae-grade-3-onset-day-10+7",
    ),
    pytest.param(
        (ae("1", 10, 3),), (), day(17), ((date(2024, 1, 18), "1"),),
        id="R6-R7-ae-due-equals-as_of",
    ),
    pytest.param(
        (ae("1", 10, 4),), (), day(12), ((date(2024, 1, 18), "1"),),
        id="R6-R7-ae-grade-4-onset-day-10+7",
    ),
    pytest.param(
        (ae("1", 10, 1),), (), day(12), ((date(2024, 1, 25), "1"),),
        id="R6-R7-ae-grade-1-onset-day-10+14",
    ),
    pytest.param(
        (ae("1", 10, 2),), (), day(12), ((date(2024, 1, 25), "1"),),
        id="R6-R7-ae-grade-2-onset-day-10+14",
    ),
    pytest.param(
        (ae("1", 10, 3, notes=(15,)),), (), day(16), ((date(2024, 1, 23), "1"),),
        id="R6-R7-ae-grade-3-note-day-15+7",
    ),
    pytest.param(
        (ae("1", 10, 1),), (clinic(20),), day(21), ((date(2024, 2, 4), "1"),),
        id="R6-R7-ae-grade-1-clinic-day-20+14",
    ),
    pytest.param(
        (ae("1", 10, 1),), (phone(20),), day(21), ((date(2024, 1, 25), "1"),),
        id="R6-R7-ae-phone-contact-is-not-a-visit",
    ),
    pytest.param(
        (ae("1", 10, 1),), (clinic(5),), day(12), ((date(2024, 1, 25), "1"),),
        id="R6-R7-ae-clinic-before-onset-ignored",
    ),
    pytest.param(
        (ae("1", 10, 1, notes=(30,)),), (clinic(28),), day(31), ((date(2024, 2, 14), "1"),),
        id="R6-R7-ae-latest-of-note-day-30-and-clinic-day-28",
    ),
    pytest.param(
        (ae("1", 10, 1, notes=(30,)),), (), day(25), ((date(2024, 1, 25), "1"),),
        id="R6-R7-ae-note-after-as_of-ignored",
    ),
    pytest.param(
        (ae("1", 10, 1, resolved=20),), (), day(25), (), id="R6-R7-ae-resolved-none"
    ),
    pytest.param(
        (ae("1", 10, 1, resolved=25),), (), day(25), (), id="R6-R7-ae-resolved-on-as_of-none"
    ),
    pytest.param(
        (ae("1", 10, 1, resolved=30),), (), day(25), ((date(2024, 1, 25), "1"),),
        id="R6-R7-ae-resolution-after-as_of-still-open",
    ),
    pytest.param((ae("1", 10, 3),), (), day(9), (), id="R6-R7-ae-onset-after-as_of-none"),
    pytest.param(
        # "12": day 10 + 14 = day 24; "7": day 18 + 7 = day 25
        (ae("7", 18, 3), ae("12", 10, 1)), (), day(20),
        ((date(2024, 1, 25), "12"), (date(2024, 1, 26), "7")),
        id="R6-R7-ae-one-per-event-sorted-by-due",
    ),
    pytest.param(
        (ae("7", 10, 1), ae("12", 10, 2)), (), day(20),
        ((date(2024, 1, 25), "12"), (date(2024, 1, 25), "7")),
        id="R6-R7-ae-same-due-sorted-by-subject",
    ),
    pytest.param(
        (ae("7", 10, 1, resolved=15), ae("12", 10, 2)), (), day(20),
        ((date(2024, 1, 25), "12"),), id="R6-R7-ae-only-unresolved-events",
    ),
]


@pytest.mark.parametrize("events, visits, as_of, expected", AE_CASES)
def test_r7_ae_follow_up(events, visits, as_of, expected):
    record = man(thalidomide=(), visits=visits, adverse_events=events)
    found = of_kind(record, as_of, "ae_follow_up")
    assert tuple((reminder.due, reminder.subject) for reminder in found) == expected
    assert all(reminder.action == "ae_follow_up" for reminder in found)


# ---------------------------------------------------------------------------
# Patient status: no reminders from the status date
# ---------------------------------------------------------------------------

STATUS_CASES = [
    pytest.param("died", day(20), day(20), (), id="R7-died-on-as_of-nothing"),
    pytest.param("died", day(20), day(40), (), id="R7-died-before-as_of-nothing"),
    pytest.param(
        "died", day(20), day(19), ("dose_step_due", "visit_due"),
        id="R7-died-day-after-as_of-still-reminded",
    ),
    pytest.param("transferred", day(20), day(20), (), id="R7-transferred-nothing"),
    pytest.param("lost", day(20), day(100), (), id="R7-lost-to-follow-up-nothing"),
    pytest.param(
        # the patient form requires a status date; without one reminders continue
        "died", None, day(20), ("dose_step_due", "visit_due"),
        id="R7-status-without-date-keeps-reminders",
    ),
    pytest.param("active", None, day(20), ("dose_step_due", "visit_due"), id="R7-active"),
]


@pytest.mark.parametrize("status, status_date, as_of, kinds", STATUS_CASES)
def test_r7_status(status, status_date, as_of, kinds):
    record = man(status=status, status_date=status_date)
    assert tuple(reminder.kind for reminder in reminders(record, as_of)) == kinds


# ---------------------------------------------------------------------------
# The whole list: one per kind, sorted by (kind order, due, subject)
# ---------------------------------------------------------------------------


def test_r7_full_list_sorted_by_kind_order_then_due():
    record = woman(
        -12,
        0,
        azathioprine=doses((0, 100)),
        adverse_events=(ae("5", 3, 2, term="nausea"),),
    )
    assert reminders(record, day(5)) == [
        DueReminder(
            patient="TM-002",
            kind="dose_step_due",
            due=date(2024, 1, 15),
            subject="",
            rule="R7",
            reason=(
                "Dose step due: last dose change 2024-01-01 at 25 mg; target 100 mg; step allowed "
                "from 2024-01-15 (last change + 14 days, R3.2/R3.3); latest neuropathy grade 0 at "
                "the clinic visit of 2023-12-25 (R3.4) (R7)."
            ),
            action="dose_change",
        ),
        DueReminder(
            patient="TM-002",
            kind="pregnancy_test_due",
            due=date(2024, 1, 8),
            subject="",
            rule="R7",
            reason=(
                "Pregnancy test due 2024-01-08: last negative test 2024-01-01 (day 0 of the course "
                "started 2024-01-01) + 7 days (weekly while the last test is before day 28) "
                "(R5.2) (R7)."
            ),
            action="pregnancy_test",
        ),
        DueReminder(
            patient="TM-002",
            kind="ae_follow_up",
            due=date(2024, 1, 18),
            subject="5",
            rule="R7",
            reason=(
                "Adverse event follow-up due 2024-01-18: nausea (grade 2, onset 2024-01-04) not "
                "resolved; last follow-up: onset 2024-01-04, + 14 days (grade ≤ 2: 14 days) "
                "(R6) (R7)."
            ),
            action="ae_follow_up",
        ),
        DueReminder(
            patient="TM-002",
            kind="blood_test_due",
            due=date(2024, 1, 15),
            subject="",
            rule="R7",
            reason=(
                "Blood test due 2024-01-15 (day 14 after the azathioprine started 2024-01-01 at "
                "100 mg): checkpoints day 14, 28, 56, 84, then every 84 days; no blood count "
                "since then (R4.3) (R7)."
            ),
            action="blood_test",
        ),
        DueReminder(
            patient="TM-002",
            kind="visit_due",
            due=date(2024, 1, 29),
            subject="",
            rule="R7",
            reason=(
                "Clinic visit due 2024-01-29 (day 28 of the thalidomide course started "
                "2024-01-01): checkpoints day 28, 56, 84, 168, then every 84 days; last clinic "
                "visit 2023-12-25 (phone contacts do not count) (R7)."
            ),
            action="visit",
        ),
    ]


def test_r7_a_scan_twice_gives_the_same_reminders():
    record = woman(-12, 0, azathioprine=doses((0, 100)), adverse_events=(ae("5", 3, 2),))
    assert reminders(record, day(5)) == reminders(record, day(5))


# ---------------------------------------------------------------------------
# Due and overdue: due ≤ as_of; overdue when due + 7 < as_of
# ---------------------------------------------------------------------------

# man(): dose_step_due due 2024-01-15 (day 14) while nothing changes
DUE_CASES = [
    pytest.param(day(13), False, False, id="R7-day-before-due-not-due"),
    pytest.param(day(14), True, False, id="R7-due-equals-as_of-due-not-overdue"),
    pytest.param(day(21), True, False, id="R7-due+7-not-overdue"),
    pytest.param(day(22), True, True, id="R7-due+8-overdue"),
]


@pytest.mark.parametrize("as_of, due, overdue", DUE_CASES)
def test_r7_due_and_overdue(as_of, due, overdue):
    (step,) = of_kind(man(), as_of, "dose_step_due")
    assert step.due == date(2024, 1, 15)
    assert is_due(step, as_of) is due
    assert is_overdue(step, as_of) is overdue


def test_r7_due_and_overdue_on_a_literal_reminder():
    reminder = DueReminder(
        patient="TM-009", kind="visit_due", due=date(2024, 3, 1), subject="", rule="R7",
        reason="", action="visit",
    )
    assert not is_due(reminder, date(2024, 2, 29))  # leap day
    assert is_due(reminder, date(2024, 3, 1)) and not is_overdue(reminder, date(2024, 3, 1))
    assert not is_overdue(reminder, date(2024, 3, 8))
    assert is_overdue(reminder, date(2024, 3, 9))


# ---------------------------------------------------------------------------
# Reasons a nurse can act on: dates, numbers and the underlying rule
# ---------------------------------------------------------------------------

REASON_CASES = [
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=2),)), day(30), "neuropathy_review",
        "Neuropathy review due 2024-02-12: latest neuropathy grade 2 at the clinic visit of "
        "2024-01-29, not resolved (resolved = grade 0); review 14 days after that assessment "
        "(grade ≥ 2: 14 days); no dose increase and an adult dose ≤ 50 mg until grade 0 "
        "(R3.4) (R7).",
        id="R3.4-R7-reason-neuropathy-grade-2",
    ),
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=3),)), day(30), "neuropathy_review",
        "Neuropathy review due 2024-02-12: latest neuropathy grade 3 at the clinic visit of "
        "2024-01-29, not resolved (resolved = grade 0); review 14 days after that assessment "
        "(grade ≥ 2: 14 days); thalidomide must be stopped at grade ≥ 3 (R3.4) (R7).",
        id="R3.4-R7-reason-neuropathy-grade-3",
    ),
    pytest.param(
        woman(*WEEKLY, 28, irregular_cycles=None), day(30), "pregnancy_test_due",
        "Pregnancy test due 2024-02-12: last negative test 2024-01-29 (day 28 of the course "
        "started 2024-01-01) + 14 days (from day 28, cycles unknown (counted as irregular)) "
        "(R5.2) (R7).",
        id="R5.2-R7-reason-pregnancy-unknown-cycles",
    ),
    pytest.param(
        woman(*WEEKLY, 28, 56, thalidomide=doses((0, 25), (60, 0))), day(70),
        "pregnancy_test_due",
        "Pregnancy test due 2024-03-29: thalidomide stopped 2024-03-01 (first day without the "
        "drug); one more test is due 28 days after the stop, on 2024-03-29 (R5.2) (R7).",
        id="R5.2-R7-reason-pregnancy-after-stop",
    ),
    pytest.param(
        woman(pregnancy_tests=negatives(-12, 0, 7) + (positive(10),)), day(12),
        "pregnancy_test_due",
        "Pregnancy test due 2024-01-11: the test of 2024-01-11 is positive with no later "
        "negative test; thalidomide must stop at once and the clinician is alerted (R5.2) (R7).",
        id="R5.2-R7-reason-pregnancy-positive",
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100, visits=(phone(125, contraception_confirmed=False),)),
        day(126), "contraception_follow_up",
        "Contraception follow-up due 2024-05-10 (stop + 30 days): thalidomide stopped "
        "2024-04-10; contraception (condoms) continues for 182 days after the stop, checked "
        "every 30 days; no contraception confirmation recorded since the stop; contraception "
        "NOT confirmed at the phone contact of 2024-05-05 (a 'no' is not a confirmation): "
        "follow up now (R5.3) (R7).",
        id="R5.3-R7-reason-contraception-no",
    ),
    pytest.param(
        woman(thalidomide=STOPPED_DAY_100, visits=(clinic(123, contraception_confirmed=True),)),
        day(125), "contraception_follow_up",
        "Contraception follow-up due 2024-06-09 (stop + 60 days): thalidomide stopped "
        "2024-04-10; contraception (two methods, one highly effective) continues for 182 days "
        "after the stop, checked every 30 days; last contraception confirmed 2024-05-03 "
        "(R5.3) (R7).",
        id="R5.3-R7-reason-contraception-female",
    ),
    pytest.param(
        man(thalidomide=(), adverse_events=(ae("3", 10, 3, notes=(15,)),)), day(16),
        "ae_follow_up",
        "Adverse event follow-up due 2024-01-23: somnolence (grade 3, onset 2024-01-11) not "
        "resolved; last follow-up: follow-up note 2024-01-16, + 7 days (grade ≥ 3: 7 days) "
        "(R6) (R7).",
        id="R6-R7-reason-ae-grade-3",
    ),
    pytest.param(
        man(azathioprine=doses((0, 100), (40, 150)), blood_count_dates=(day(13), day(27))),
        day(45), "blood_test_due",
        "Blood test due 2024-02-24 (day 14 after the last azathioprine dose change 2024-02-10 "
        "to 150 mg): checkpoints day 14, 28, 56, 84, then every 84 days; no blood count since "
        "then (R4.3) (R7).",
        id="R4.3-R7-reason-blood-after-dose-change",
    ),
    pytest.param(
        man(visits=(clinic(84), phone(90))), day(92), "visit_due",
        "Clinic visit due 2024-06-17 (day 168 of the thalidomide course started 2024-01-01): "
        "checkpoints day 28, 56, 84, 168, then every 84 days; last clinic visit 2024-03-25 "
        "(phone contacts do not count) (R7).",
        id="R7-reason-visit",
    ),
    pytest.param(
        man(thalidomide=doses((0, 100))), day(200), "cumulative_dose_review",
        "Neurological review due: cumulative thalidomide reached 20 g on 2024-07-18 and no "
        "clinic visit since then records a neurological review (nerve conduction study at the "
        "clinician's discretion) (R3.4) (R7).",
        id="R3.4-R7-reason-cumulative",
    ),
    pytest.param(
        man(thalidomide=doses((0, 25), (14, 50))), day(20), "dose_step_due",
        "Dose step due: last dose change 2024-01-15 at 50 mg; target 100 mg; step allowed from "
        "2024-01-29 (last change + 14 days, R3.2/R3.3); latest neuropathy grade 0 at the clinic "
        "visit of 2023-12-25 (R3.4) (R7).",
        id="R3.2-R7-reason-dose-step",
    ),
]


@pytest.mark.parametrize("record, as_of, kind, reason", REASON_CASES)
def test_r7_reasons(record, as_of, kind, reason):
    (reminder,) = of_kind(record, as_of, kind)
    assert reminder.reason == reason


ACTION_CASES = [
    pytest.param(man(), day(3), "dose_step_due", "dose_change", id="R7-action-dose-step"),
    pytest.param(
        man(visits=(clinic(28, neuropathy_grade=1),)), day(30), "neuropathy_review", "visit",
        id="R7-action-neuropathy",
    ),
    pytest.param(
        woman(-12, 0), day(3), "pregnancy_test_due", "pregnancy_test", id="R7-action-pregnancy"
    ),
    pytest.param(
        man(thalidomide=STOPPED_DAY_100), day(105), "contraception_follow_up", "contraception",
        id="R7-action-contraception",
    ),
    pytest.param(
        man(adverse_events=(ae("1", 1, 1),)), day(3), "ae_follow_up", "ae_follow_up",
        id="R7-action-ae",
    ),
    pytest.param(
        man(azathioprine=doses((0, 100))), day(3), "blood_test_due", "blood_test",
        id="R7-action-blood",
    ),
    pytest.param(man(), day(3), "visit_due", "visit", id="R7-action-visit"),
    pytest.param(
        man(thalidomide=doses((0, 100))), day(200), "cumulative_dose_review", "visit",
        id="R7-action-cumulative",
    ),
]


@pytest.mark.parametrize("record, as_of, kind, action", ACTION_CASES)
def test_r7_actions(record, as_of, kind, action):
    (reminder,) = of_kind(record, as_of, kind)
    assert reminder.action == action


# ---------------------------------------------------------------------------
# Invalid records are refused, never silently unscheduled
# ---------------------------------------------------------------------------

INVALID_CASES = [
    pytest.param(man(sex="X"), "sex", id="R7-invalid-sex"),
    pytest.param(man(status="deceased", status_date=day(1)), "status", id="R7-invalid-status"),
    pytest.param(
        man(visits=(VisitInfo(date=day(1), contact="home"),)), "contact", id="R7-invalid-contact"
    ),
    pytest.param(man(visits=(clinic(1, neuropathy_grade=5),)), "0–4", id="R3.4-invalid-grade"),
    pytest.param(man(adverse_events=(ae("1", 1, 0),)), "1–5", id="R6-invalid-ae-grade"),
    pytest.param(
        man(contraception_period_days=0), "contraception_period_days", id="R5.3-invalid-P"
    ),
]


@pytest.mark.parametrize("record, message", INVALID_CASES)
def test_r7_invalid_records_are_refused(record, message):
    with pytest.raises(ValueError, match=message):
        reminders(record, day(3))


def test_r5_3_contraception_period_is_required():
    # Configurable (RuleSettings.contraception_period_days): no hidden default.
    with pytest.raises(TypeError):
        PatientRecord(
            patient="TM-003", sex="M", female_of_reproductive_potential=False, irregular_cycles=None
        )
