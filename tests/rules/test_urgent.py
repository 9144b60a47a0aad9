"""therapy/rules/urgent.py: the patient page's urgent alerts (R5.2, R3.4, R5.3, R5.1),
from a table of cases worked by hand from clinical-rules.md. As of 2026-03-01."""

from datetime import date, timedelta

import pytest

from therapy.rules.urgent import Answer, urgent_alerts

AS_OF = date(2026, 3, 1)


def d(text):
    return date.fromisoformat(text)


BASE = dict(
    as_of=AS_OF, tests=[], thalidomide_active=True, thalidomide_ever=True, stopped_on=None,
    neuropathy_grade=0, contraception=[], breastfeeding=[], contraception_period_days=182,
)
STOPPED_181 = AS_OF - timedelta(days=181)
STOPPED_182 = AS_OF - timedelta(days=182)

CASES = [
    # (case, changes to BASE, expected alert codes in order)
    ("nothing recorded", {}, []),
    # R5.2 — a positive test with no later negative test
    ("positive while active", {"tests": [(d("2026-02-01"), "negative"), (d("2026-02-20"), "positive")]},
     ["positive_pregnancy_test"]),
    ("positive then a later negative clears it",
     {"tests": [(d("2026-02-20"), "positive"), (d("2026-02-25"), "negative")]}, []),
    ("negative the same day as the positive does not clear it",
     {"tests": [(d("2026-02-20"), "negative"), (d("2026-02-20"), "positive")]}, ["positive_pregnancy_test"]),
    ("negative before the positive does not clear it",
     {"tests": [(d("2026-02-19"), "negative"), (d("2026-02-20"), "positive")]}, ["positive_pregnancy_test"]),
    ("positive after the as-of date is not known yet", {"tests": [(d("2026-03-05"), "positive")]}, []),
    ("a negative after the as-of date does not clear yet",
     {"tests": [(d("2026-02-20"), "positive"), (d("2026-03-05"), "negative")]}, ["positive_pregnancy_test"]),
    ("positive after the stop", {"tests": [(d("2026-02-20"), "positive")], "thalidomide_active": False,
                                 "stopped_on": d("2026-02-20")}, ["positive_pregnancy_test"]),
    ("positive before any thalidomide", {"tests": [(d("2026-02-20"), "positive")], "thalidomide_active": False,
                                         "thalidomide_ever": False}, ["positive_pregnancy_test"]),
    # R3.4 — grade >= 3 while thalidomide is active
    ("neuropathy grade 2 on thalidomide", {"neuropathy_grade": 2}, []),
    ("neuropathy grade 3 on thalidomide", {"neuropathy_grade": 3}, ["neuropathy_grade3_on_thalidomide"]),
    ("neuropathy grade 4 on thalidomide", {"neuropathy_grade": 4}, ["neuropathy_grade3_on_thalidomide"]),
    ("neuropathy grade 3 after the stop", {"neuropathy_grade": 3, "thalidomide_active": False,
                                           "stopped_on": d("2026-02-27")}, []),
    ("no neuropathy grade recorded", {"neuropathy_grade": None}, []),
    # R5.3 — the latest contraception answer is "no"
    ("contraception no while active", {"contraception": [Answer(d("2026-02-26"), False, "phone contact")]},
     ["contraception_not_confirmed"]),
    ("no, then yes at a later contact", {"contraception": [Answer(d("2026-02-01"), False),
                                                            Answer(d("2026-02-26"), True)]}, []),
    ("yes, then no at a later contact", {"contraception": [Answer(d("2026-02-01"), True),
                                                            Answer(d("2026-02-26"), False)]},
     ["contraception_not_confirmed"]),
    ("no recorded after the as-of date is not known yet", {"contraception": [Answer(d("2026-03-02"), False)]}, []),
    ("no, stopped 181 days ago (period 182)", {"contraception": [Answer(STOPPED_181, False)],
                                              "thalidomide_active": False, "stopped_on": STOPPED_181},
     ["contraception_not_confirmed"]),
    ("no, stopped 182 days ago: the period is over", {"contraception": [Answer(STOPPED_182, False)],
                                                      "thalidomide_active": False, "stopped_on": STOPPED_182}, []),
    ("no, period set to 28 days (REMS), stopped 27 days ago",
     {"contraception": [Answer(d("2026-02-02"), False)], "thalidomide_active": False,
      "stopped_on": AS_OF - timedelta(days=27), "contraception_period_days": 28}, ["contraception_not_confirmed"]),
    ("no, period set to 28 days (REMS), stopped 28 days ago",
     {"contraception": [Answer(d("2026-02-01"), False)], "thalidomide_active": False,
      "stopped_on": AS_OF - timedelta(days=28), "contraception_period_days": 28}, []),
    ("no, thalidomide never started", {"contraception": [Answer(d("2026-02-26"), False)],
                                       "thalidomide_active": False, "thalidomide_ever": False}, []),
    # R5.1 — breast-feeding refuses continuation
    ("breast-feeding while active", {"breastfeeding": [Answer(d("2026-02-26"), True)]}, ["breastfeeding"]),
    ("breast-feeding, then not at a later contact", {"breastfeeding": [Answer(d("2026-02-01"), True),
                                                                        Answer(d("2026-02-26"), False)]}, []),
    ("breast-feeding after the stop", {"breastfeeding": [Answer(d("2026-02-26"), True)],
                                       "thalidomide_active": False, "stopped_on": d("2026-02-20")}, []),
    # All at once: most severe first.
    ("every alert at once", {"tests": [(d("2026-02-20"), "positive")], "neuropathy_grade": 3,
                             "contraception": [Answer(d("2026-02-26"), False)],
                             "breastfeeding": [Answer(d("2026-02-26"), True)]},
     ["positive_pregnancy_test", "neuropathy_grade3_on_thalidomide", "contraception_not_confirmed",
      "breastfeeding"]),
]


@pytest.mark.parametrize("case, changes, expected", CASES, ids=[c[0] for c in CASES])
def test_urgent_alerts_table(case, changes, expected):
    alerts = urgent_alerts(**{**BASE, **changes})
    assert [a.code for a in alerts] == expected


@pytest.mark.parametrize("active, ever, text", [
    (True, True, "Positive test on 2026-02-20 while thalidomide is active: stop thalidomide now."),
    (False, True, "Positive test on 2026-02-20; thalidomide is stopped. Every further dose is refused."),
    (False, False, "Positive test on 2026-02-20: thalidomide must not be started."),
])
def test_positive_test_says_what_to_do(active, ever, text):
    [alert] = urgent_alerts(**{**BASE, "tests": [(d("2026-02-20"), "positive")], "thalidomide_active": active,
                               "thalidomide_ever": ever})
    assert (alert.rule, alert.text) == ("R5.2", text)


def test_contraception_alert_names_the_contact_and_date():
    [alert] = urgent_alerts(**{**BASE, "contraception": [Answer(d("2026-02-26"), False, "phone contact")]})
    assert alert.rule == "R5.3"
    assert alert.text == "On 2026-02-26 (phone contact) contraception was NOT confirmed."
