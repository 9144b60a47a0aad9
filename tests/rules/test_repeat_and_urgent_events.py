"""R4.4 "repeat within a week" as a blood_test_due reminder, and the urgent events from the
reminder scan's record (safety/urgency.py → therapy/rules/urgent.py). Cases worked by hand
from clinical-rules.md R4.4, R5.2, R3.4, R5.3, R5.1 and R7; START = 2024-01-01 = day 0."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from safety.schedule import PatientRecord, VisitInfo, reminders
from safety.urgency import urgent_events
from therapy.rules.doses import DoseRow
from therapy.rules.pregnancy import PregnancyTest
from therapy.rules.urgent import LatestLab

START = date(2024, 1, 1)


def day(n):
    return START + timedelta(days=n)


def lab(test, n, tier, source="lab:1"):
    return LatestLab(test=test, date=day(n), tier=tier, source=source, reason=f"{test} alert.")


def record(**changes):
    fields = dict(
        patient="UR-001", sex="F", female_of_reproductive_potential=True, irregular_cycles=False,
        target_dose_mg=Decimal("100"), contraception_period_days=182,
        thalidomide=(DoseRow(day(0), Decimal("25")),), visits=(VisitInfo(day(-7), "clinic", neuropathy_grade=0),),
        pregnancy_tests=(PregnancyTest(day(-12), "negative"), PregnancyTest(day(0), "negative")),
    )
    fields.update(changes)
    return PatientRecord(**fields)


def repeats(rec, as_of):
    return [(r.due, r.reason) for r in reminders(rec, as_of) if r.kind == "blood_test_due"]


# --- R4.4 repeat within a week ------------------------------------------------------------
AZA_FROM_DAY_MINUS_200 = (DoseRow(day(-200), Decimal("100")),)  # R4.3: no count since → day −200 + 14


@pytest.mark.parametrize("labs, aza, as_of, expected_dues", [
    ((), True, day(20), [day(-186)]),  # no alert-tier result: the R4.3 checkpoint only
    ((lab("wbc", 10, "review"),), True, day(12), [day(-186), day(17)]),  # review tier: repeat due day 10 + 7
    ((lab("wbc", 10, "withhold"),), True, day(30), [day(-186), day(17)]),  # withhold too; stays while not repeated
    ((lab("wbc", 10, "review", "lab:1"), lab("platelets", 10, "review", "lab:2")), True, day(12), [day(-186), day(17)]),
    ((lab("wbc", 10, "review", "lab:1"), lab("alt", 12, "review", "lab:2")), True, day(12),
     [day(-186), day(17), day(19)]),
    ((lab("wbc", 10, "review"),), True, day(9), [day(-186)]),  # a result after the as-of date is not known yet
    ((lab("wbc", 10, "review"),), False, day(12), []),  # R7: blood_test_due only while azathioprine is active
])
def test_r4_4_repeat_within_a_week(labs, aza, as_of, expected_dues):
    rec = record(latest_labs=labs, azathioprine=AZA_FROM_DAY_MINUS_200 if aza else ())
    assert [due for due, _ in repeats(rec, as_of)] == expected_dues


def test_r4_4_repeat_says_which_result():
    rec = record(latest_labs=(lab("wbc", 10, "withhold"),), azathioprine=AZA_FROM_DAY_MINUS_200)
    [_, (due, reason)] = repeats(rec, day(12))
    assert reason == (
        "Repeat blood test due 2024-01-18: WBC of 2024-01-11 at the withhold level — repeat within 7 days (R4.4) (R7)."
    )


def test_r4_4_repeat_merges_with_the_r4_3_checkpoint_on_the_same_day():
    # AZA from day 0: R4.3 checkpoint day 14; a review WBC on day 7 → repeat due day 14 too.
    rec = record(azathioprine=(DoseRow(day(0), Decimal("100")),), latest_labs=(lab("wbc", 7, "review"),),
                 thalidomide=())
    [(due, reason)] = repeats(rec, day(8))
    assert due == day(14) and "Repeat blood test due" in reason and "(R4.3)" in reason


# --- urgent events from the scan's record ------------------------------------------------------
def codes(rec, as_of):
    return [(e.code, e.source) for e in urgent_events(rec, as_of)]


POS = PregnancyTest(day(20), "positive")
NEG_LATER = PregnancyTest(day(22), "negative")
AZA = (DoseRow(day(0), Decimal("100")),)


@pytest.mark.parametrize("changes, as_of, expected", [
    ({}, day(30), []),
    # R5.2: positive while active; a dose row after it adds the second event (same source).
    ({"pregnancy_tests": (POS,)}, day(30), [("positive_pregnancy_test", "test:2024-01-21")]),
    ({"pregnancy_tests": (POS,), "thalidomide": (DoseRow(day(0), Decimal("25")), DoseRow(day(21), Decimal("50")))},
     day(30), [("positive_pregnancy_test", "test:2024-01-21"), ("dosed_after_positive_pregnancy_test", "test:2024-01-21")]),
    ({"pregnancy_tests": (POS,), "thalidomide": (DoseRow(day(0), Decimal("25")), DoseRow(day(21), Decimal("0")))},
     day(30), [("positive_pregnancy_test", "test:2024-01-21")]),  # a stop is not a dose
    ({"pregnancy_tests": (POS,), "thalidomide": (DoseRow(day(0), Decimal("25")), DoseRow(day(20), Decimal("50")))},
     day(30), [("positive_pregnancy_test", "test:2024-01-21"), ("dosed_after_positive_pregnancy_test", "test:2024-01-21")]),
    ({"pregnancy_tests": (POS,), "thalidomide": (DoseRow(day(0), Decimal("25")), DoseRow(day(21), Decimal("50")),
                                                 DoseRow(day(25), Decimal("0")))},
     day(30), [("positive_pregnancy_test", "test:2024-01-21")]),  # the stop resolves the dosing event
    ({"pregnancy_tests": (POS, NEG_LATER)}, day(30), []),  # a later negative test resolves both
    # R3.4: the source is the first visit of the current run of grade ≥ 3.
    ({"visits": (VisitInfo(day(10), "clinic", neuropathy_grade=3), VisitInfo(day(20), "clinic", neuropathy_grade=4))},
     day(30), [("neuropathy_grade3_on_thalidomide", "visit:2024-01-11")]),
    ({"visits": (VisitInfo(day(10), "clinic", neuropathy_grade=3), VisitInfo(day(15), "clinic", neuropathy_grade=2),
                 VisitInfo(day(20), "clinic", neuropathy_grade=3))},
     day(30), [("neuropathy_grade3_on_thalidomide", "visit:2024-01-21")]),
    ({"visits": (VisitInfo(day(10), "clinic", neuropathy_grade=3),),
      "thalidomide": (DoseRow(day(0), Decimal("25")), DoseRow(day(12), Decimal("0")))}, day(30), []),  # stopped
    # R4.4: the latest result at the withhold tier, while azathioprine is active.
    ({"azathioprine": AZA, "latest_labs": (lab("wbc", 10, "withhold", "lab:7"),)}, day(12),
     [("withhold_lab_result", "lab:7")]),
    ({"azathioprine": AZA, "latest_labs": (lab("wbc", 10, "review", "lab:7"),)}, day(12), []),  # review tier
    ({"latest_labs": (lab("wbc", 10, "withhold", "lab:7"),)}, day(12), []),  # no azathioprine
    ({"azathioprine": AZA + (DoseRow(day(11), Decimal("0")),), "latest_labs": (lab("wbc", 10, "withhold"),)},
     day(12), []),  # azathioprine withheld
    # R5.3 / R5.1: the source is the first contact of the current run of alarming answers.
    ({"visits": (VisitInfo(day(10), "phone", contraception_confirmed=False),
                 VisitInfo(day(20), "clinic", contraception_confirmed=False))},
     day(30), [("contraception_not_confirmed", "contact:2024-01-11")]),
    ({"visits": (VisitInfo(day(10), "phone", contraception_confirmed=False),
                 VisitInfo(day(20), "clinic", contraception_confirmed=True))}, day(30), []),
    ({"visits": (VisitInfo(day(10), "clinic", breastfeeding=True),)}, day(30), [("breastfeeding", "contact:2024-01-11")]),
    # A change of status never ends an urgent event (a decision or the data does).
    ({"pregnancy_tests": (POS,), "status": "lost", "status_date": day(25)}, day(30),
     [("positive_pregnancy_test", "test:2024-01-21")]),
])
def test_urgent_events(changes, as_of, expected):
    assert codes(record(**changes), as_of) == expected


def test_urgent_events_say_their_resolving_action():
    rec = record(pregnancy_tests=(POS,), visits=(VisitInfo(day(25), "clinic", neuropathy_grade=3),))
    assert [(e.code, e.action) for e in urgent_events(rec, day(30))] == [
        ("positive_pregnancy_test", "pregnancy_test"), ("neuropathy_grade3_on_thalidomide", "dose_change"),
    ]


def test_the_newest_alarming_datum_is_carried_to_reopen_a_decided_event():
    answers = (VisitInfo(day(10), "phone", contraception_confirmed=False),
               VisitInfo(day(20), "clinic", contraception_confirmed=False))
    [event] = urgent_events(record(visits=answers), day(30))
    assert (event.source, event.date, event.latest) == ("contact:2024-01-11", day(10), day(20))
