"""The R3.4, R4.4, R5.1 and R5.3 data checks (safety/data_checks.py), tables worked by hand.

R3.4: "an open peripheral-neuropathy adverse event with latest grade 0 gives a data-quality
warning". The latest grade on a date is that of the latest clinic visit on or before it (two
the same day: the higher); no grade recorded is not grade 0.
R4.4: "A WBC < 4.0 also suggests recording the adverse event leukopenia." Shown for the latest
WBC result until a leukopenia event covers its date (open then, resolved on or after it, or
recorded later and still open).

R5.3: "Each visit of such a patient [female of reproductive potential, or male] during therapy
records contraception confirmed yes/no." Shown for the latest clinic visit on a day thalidomide
was active, or had stopped less than the R5.3 period (182 days) before, that left it unasked, until
a contact on or after it answers (yes or no).

R5.1: a premenarchal exemption is "reviewed at every visit": shown for the latest clinic visit
that did not ask (before the start too), while the patient is still recorded as premenarchal,
until a contact on or after it asks.

AS_OF = 2026-03-01. Every expected value is a literal; no database.
"""

from datetime import date
from decimal import Decimal

import pytest

from safety.data_checks import (
    Contact,
    Event,
    contraception_not_recorded,
    data_checks,
    leukopenia_suggested,
    neuropathy_event_at_grade_0,
    premenarchal_not_reviewed,
)
from therapy.rules.doses import DoseRow

AS_OF = date(2026, 3, 1)
D = Decimal
PN = "peripheral_neuropathy"


def d(text):
    return date.fromisoformat(text)


# (grades as (date, grade), events as (term, onset, resolved), expected: None or the grade-0 visit date)
NEUROPATHY_CASES = [
    pytest.param([("2026-02-20", 0)], [(PN, "2026-01-10", None)], "2026-02-20", id="open-event-latest-grade-0-warns"),
    pytest.param([("2026-02-20", 1)], [(PN, "2026-01-10", None)], None, id="latest-grade-1-consistent"),
    pytest.param([], [(PN, "2026-01-10", None)], None, id="no-grade-recorded-is-not-0"),
    pytest.param([("2026-02-20", 0)], [(PN, "2026-01-10", "2026-02-20")], None, id="resolved-on-the-visit-day"),
    pytest.param([("2026-02-20", 0)], [(PN, "2026-01-10", "2026-03-05")], "2026-02-20",
                 id="resolution-after-as-of-not-yet-known"),
    pytest.param([("2026-02-20", 0)], [("somnolence", "2026-01-10", None)], None, id="other-term-ignored"),
    pytest.param([("2026-02-20", 0)], [(PN, "2026-03-02", None)], None, id="onset-after-as-of-ignored"),
    pytest.param([("2026-02-20", 0), ("2026-02-20", 2)], [(PN, "2026-01-10", None)], None,
                 id="two-the-same-day-the-higher"),
    pytest.param([("2026-02-20", 2), ("2026-02-20", 0)], [(PN, "2026-01-10", None)], None,
                 id="two-the-same-day-the-higher-either-order"),
    pytest.param([("2026-01-05", 2), ("2026-02-20", 0)], [(PN, "2026-02-25", None)], "2026-02-20",
                 id="event-after-the-grade-0-visit-still-warns"),
    pytest.param([("2026-02-20", 0), ("2026-03-02", 2)], [(PN, "2026-01-10", None)], "2026-02-20",
                 id="grade-after-as-of-ignored"),
    pytest.param([("2026-02-20", 2), ("2026-03-01", 0)], [(PN, "2026-01-10", None)], "2026-03-01",
                 id="grade-0-on-as-of-counts"),
]


@pytest.mark.parametrize("grades, events, expected", NEUROPATHY_CASES)
def test_r3_4_open_neuropathy_event_at_grade_0(grades, events, expected):
    found = neuropathy_event_at_grade_0(
        grades=[(d(when), grade) for when, grade in grades],
        events=[Event(term, d(onset), d(resolved) if resolved else None) for term, onset, resolved in events],
        as_of=AS_OF,
    )
    if expected is None:
        assert found is None
    else:
        assert (found.code, found.date, found.rule, found.suggest_adverse_event) == (
            "neuropathy_event_open_at_grade_0", d(expected), "R3.4", ""
        )


# (WBC results as (date, value), events, expected: None or (date, value) of the result shown)
LEUKOPENIA_CASES = [
    pytest.param([("2026-02-20", "3.8")], [], ("2026-02-20", "3.8"), id="wbc-3.8-no-alert-tier-still-suggests"),
    pytest.param([("2026-02-20", "3.99")], [], ("2026-02-20", "3.99"), id="wbc-3.99-suggests"),
    pytest.param([("2026-02-20", "4.0")], [], None, id="wbc-4.0-no"),
    pytest.param([("2026-02-20", "3.2")], [], ("2026-02-20", "3.2"), id="wbc-3.2-review-tier-suggests-too"),
    pytest.param([("2026-01-20", "3.2"), ("2026-02-20", "5.1")], [], None, id="latest-result-normal"),
    pytest.param([("2026-01-20", "5.1"), ("2026-02-20", "3.6")], [], ("2026-02-20", "3.6"), id="latest-result-low"),
    pytest.param([("2026-02-20", "5.1"), ("2026-03-02", "3.0")], [], None, id="result-after-as-of-ignored"),
    pytest.param([("2026-02-20", "3.8")], [("leukopenia", "2026-02-20", None)], None, id="open-event-covers"),
    pytest.param([("2026-02-20", "3.8")], [("leukopenia", "2026-02-25", None)], None,
                 id="event-recorded-later-covers"),
    pytest.param([("2026-02-20", "3.8")], [("leukopenia", "2026-01-02", "2026-02-20")], None,
                 id="resolved-on-the-result-day-covers"),
    pytest.param([("2026-02-20", "3.8")], [("leukopenia", "2026-01-02", "2026-02-19")], ("2026-02-20", "3.8"),
                 id="resolved-before-the-result-does-not-cover"),
    pytest.param([("2026-02-20", "3.8")], [("leukopenia", "2026-03-02", None)], ("2026-02-20", "3.8"),
                 id="event-after-as-of-ignored"),
    pytest.param([("2026-02-20", "3.8")], [("thrombocytopenia", "2026-02-20", None)], ("2026-02-20", "3.8"),
                 id="other-term-does-not-cover"),
    pytest.param([], [], None, id="no-wbc"),
]


@pytest.mark.parametrize("results, events, expected", LEUKOPENIA_CASES)
def test_r4_4_wbc_below_4_suggests_leukopenia(results, events, expected):
    found = leukopenia_suggested(
        wbc=[(d(when), D(value)) for when, value in results],
        events=[Event(term, d(onset), d(resolved) if resolved else None) for term, onset, resolved in events],
        as_of=AS_OF,
    )
    if expected is None:
        assert found is None
    else:
        day, value = expected
        assert (found.code, found.date, found.rule, found.suggest_adverse_event) == (
            "wbc_suggests_leukopenia", d(day), "R4.4", "leukopenia"
        )
        assert f"WBC {value} ×10⁹/L on {day} is below 4.0" in found.text


ON_THALIDOMIDE = [("2026-01-01", "25"), ("2026-01-15", "50")]
STOPPED_2_10 = [("2026-01-01", "25"), ("2026-02-10", "0")]
STOPPED_2025_08_01 = [("2025-07-01", "25"), ("2025-08-01", "0")]  # 2025-08-01 + 182 days = 2026-01-30

# (contacts as (date, contact, answer), thalidomide rows, rules apply?, expected: None or visit date)
CONTRACEPTION_CASES = [
    pytest.param([("2026-02-20", "clinic", None)], ON_THALIDOMIDE, True, "2026-02-20", id="clinic-visit-unasked-shown"),
    pytest.param([("2026-02-20", "clinic", True)], ON_THALIDOMIDE, True, None, id="answered-yes"),
    pytest.param([("2026-02-20", "clinic", False)], ON_THALIDOMIDE, True, None, id="answered-no-is-the-urgent-alert"),
    pytest.param([("2026-02-20", "clinic", None)], ON_THALIDOMIDE, False, None, id="exempt-woman-not-shown"),
    pytest.param([("2026-02-20", "phone", None)], ON_THALIDOMIDE, True, None, id="phone-contact-not-a-visit"),
    pytest.param([("2026-02-20", "clinic", None), ("2026-02-25", "phone", True)], ON_THALIDOMIDE, True, None,
                 id="later-phone-answer-ends-it"),
    pytest.param([("2026-02-20", "clinic", None), ("2026-02-20", "phone", False)], ON_THALIDOMIDE, True, None,
                 id="same-day-phone-answer-ends-it"),
    pytest.param([("2026-02-15", "phone", True), ("2026-02-20", "clinic", None)], ON_THALIDOMIDE, True,
                 "2026-02-20", id="earlier-answer-does-not-count"),
    pytest.param([("2026-02-20", "clinic", None)], STOPPED_2_10, True, "2026-02-20",
                 id="visit-10-days-after-the-stop-within-the-period"),
    pytest.param([("2026-02-10", "clinic", None)], STOPPED_2_10, True, "2026-02-10", id="the-stop-visit"),
    pytest.param([("2026-02-20", "clinic", None)], [*STOPPED_2_10, ("2026-02-25", "25")], True, "2026-02-20",
                 id="an-interruption"),
    pytest.param([("2026-01-29", "clinic", None)], STOPPED_2025_08_01, True, "2026-01-29",
                 id="181-days-after-the-stop-still-within"),
    pytest.param([("2026-01-30", "clinic", None)], STOPPED_2025_08_01, True, None, id="182-days-after-the-stop-ended"),
    pytest.param([("2026-02-05", "clinic", None)], STOPPED_2_10, True, "2026-02-05", id="visit-before-the-stop"),
    pytest.param([("2025-12-20", "clinic", None)], ON_THALIDOMIDE, True, None, id="visit-before-the-start"),
    pytest.param([("2026-01-01", "clinic", None)], ON_THALIDOMIDE, True, "2026-01-01", id="visit-on-day-0"),
    pytest.param([("2026-02-20", "clinic", True), ("2026-03-02", "clinic", None)], ON_THALIDOMIDE, True, None,
                 id="visit-after-as-of-ignored"),
    pytest.param([], ON_THALIDOMIDE, True, None, id="no-visit"),
]


@pytest.mark.parametrize("contacts, rows, rules_apply, expected", CONTRACEPTION_CASES)
def test_r5_3_clinic_visit_on_thalidomide_records_contraception(contacts, rows, rules_apply, expected):
    found = contraception_not_recorded(
        contacts=[Contact(d(when), contact, answer) for when, contact, answer in contacts],
        thalidomide=[DoseRow(d(when), D(dose)) for when, dose in rows],
        rules_apply=rules_apply,
        period_days=182,
        as_of=AS_OF,
    )
    if expected is None:
        assert found is None
    else:
        assert (found.code, found.date, found.rule) == ("contraception_not_recorded", d(expected), "R5.3")


# R5.1: (contacts as (date, contact, menarche answer), recorded premenarchal?, expected visit date or None)
PREMENARCHAL_CASES = [
    pytest.param([("2026-02-20", "clinic", None)], True, "2026-02-20", id="not-asked-shown"),
    pytest.param([("2026-02-20", "clinic", False)], True, None, id="asked-not-yet"),
    pytest.param([("2026-02-20", "clinic", None)], False, None, id="not-recorded-premenarchal"),
    pytest.param([("2026-02-20", "clinic", False), ("2026-02-27", "clinic", None)], True, "2026-02-27",
                 id="every-visit-the-latest-counts"),
    pytest.param([("2026-02-20", "clinic", None), ("2026-02-25", "phone", False)], True, None,
                 id="asked-by-phone-after-it"),
    pytest.param([("2026-02-15", "phone", False), ("2026-02-20", "clinic", None)], True, "2026-02-20",
                 id="an-earlier-answer-does-not-count"),
    pytest.param([("2026-02-20", "phone", None)], True, None, id="no-clinic-visit"),
    pytest.param([("2026-02-20", "clinic", False), ("2026-03-02", "clinic", None)], True, None,
                 id="visit-after-as-of-ignored"),
]


@pytest.mark.parametrize("contacts, premenarchal, expected", PREMENARCHAL_CASES)
def test_r5_1_premenarchal_exemption_reviewed_at_every_visit(contacts, premenarchal, expected):
    """Every clinic visit, before the start too (the exemption waives the pre-start tests)."""
    found = premenarchal_not_reviewed(
        contacts=[Contact(d(when), contact, None, answer) for when, contact, answer in contacts],
        premenarchal=premenarchal,
        as_of=AS_OF,
    )
    if expected is None:
        assert found is None
    else:
        assert (found.code, found.date, found.rule) == ("premenarchal_not_reviewed", d(expected), "R5.1")


def test_every_check_in_rule_order():
    found = data_checks(
        grades=[(d("2026-02-20"), 0)],
        wbc=[(d("2026-02-20"), D("3.7"))],
        events=[Event(PN, d("2026-01-10"), None)],
        contacts=[Contact(d("2026-02-20"), "clinic", None)],
        thalidomide=[DoseRow(d("2026-01-01"), D("25"))],
        contraception_rules_apply=True,
        premenarchal=True,
        as_of=AS_OF,
    )
    assert [check.code for check in found] == [
        "neuropathy_event_open_at_grade_0", "wbc_suggests_leukopenia", "premenarchal_not_reviewed",
        "contraception_not_recorded",
    ]
