"""Urgent alerts on the patient page (pure: no Django, no clock).

The alerts that must stop the clinician before anything else, from the data as
of a date:

* R5.2 — a positive pregnancy test with no later negative test: stop thalidomide
  now (while active), every further dose refused (after the stop), or never start;
* R3.4 — latest neuropathy grade ≥ 3 while thalidomide is active
  (``neuropathy_grade3_on_thalidomide``);
* R5.3 — the latest contraception answer is "no", while thalidomide is active or
  within the contraception period after the stop (configurable, default 182 days).
  Reading chosen (safest): the alert stays through the post-stop period, when R5.3
  still requires contraception, not only during therapy;
* R5.1 — breast-feeding recorded at the latest contact that asked, while
  thalidomide is active (continuation is refused).

Inputs are plain values (dates, grades, answers in date order) so that every case
is a row of a table in ``tests/rules/test_urgent.py``.
"""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Answer:
    """A dated yes/no answer recorded at a contact (clinic visit or phone)."""

    date: date
    value: bool
    contact: str = "clinic visit"


@dataclass(frozen=True)
class UrgentAlert:
    code: str
    title: str
    text: str
    rule: str


def urgent_alerts(
    *,
    as_of: date,
    tests: list[tuple[date, str]],
    thalidomide_active: bool,
    thalidomide_ever: bool,
    stopped_on: date | None,
    neuropathy_grade: int | None,
    contraception: list[Answer],
    breastfeeding: list[Answer],
    contraception_period_days: int,
) -> list[UrgentAlert]:
    """The urgent alerts as of ``as_of``, most severe first.

    ``tests`` are (date, "positive"/"negative") in date order; ``contraception`` and
    ``breastfeeding`` are the answers recorded on or before ``as_of`` in date order;
    ``stopped_on`` is the date of the last 0 mg row when thalidomide is stopped.
    """
    alerts = []
    positives = [day for day, result in tests if day <= as_of and result == "positive"]
    if positives:
        last_positive = positives[-1]
        cleared = any(result == "negative" and last_positive < day <= as_of for day, result in tests)
        if not cleared:
            if thalidomide_active:
                text = f"Positive test on {last_positive:%Y-%m-%d} while thalidomide is active: stop thalidomide now."
            elif thalidomide_ever:
                text = f"Positive test on {last_positive:%Y-%m-%d}; thalidomide is stopped. Every further dose is refused."
            else:
                text = f"Positive test on {last_positive:%Y-%m-%d}: thalidomide must not be started."
            alerts.append(UrgentAlert("positive_pregnancy_test", "Positive pregnancy test", text, "R5.2"))
    if neuropathy_grade is not None and neuropathy_grade >= 3 and thalidomide_active:
        alerts.append(UrgentAlert(
            "neuropathy_grade3_on_thalidomide",
            "Neuropathy grade 3 on thalidomide",
            f"Latest neuropathy grade {neuropathy_grade} while thalidomide is active: thalidomide must be "
            "stopped (neuropathy_grade3_on_thalidomide).",
            "R3.4",
        ))
    answered = [a for a in contraception if a.date <= as_of]
    within_period = thalidomide_active or (
        stopped_on is not None and (as_of - stopped_on).days < contraception_period_days
    )
    if answered and answered[-1].value is False and within_period:
        last = answered[-1]
        alerts.append(UrgentAlert(
            "contraception_not_confirmed",
            "Contraception not confirmed",
            f"On {last.date:%Y-%m-%d} ({last.contact}) contraception was NOT confirmed.",
            "R5.3",
        ))
    asked = [a for a in breastfeeding if a.date <= as_of]
    if asked and asked[-1].value and thalidomide_active:
        alerts.append(UrgentAlert(
            "breastfeeding",
            "Breast-feeding",
            f"Breast-feeding recorded on {asked[-1].date:%Y-%m-%d}: thalidomide is refused.",
            "R5.1",
        ))
    return alerts
