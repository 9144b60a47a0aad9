"""Urgent events: one list, one definition (pure: no Django, no clock).

The events that must reach the clinician before anything else, from the data as
of a date. Each carries a stable ``source`` (what raised it: the positive test's
date, the first contact of the current run of answers, the lab result) so that the
stored event is the same row from one scan to the next, and the ``action`` that
resolves it:

* R5.2 — ``positive_pregnancy_test``: a positive test with no later negative test;
  resolved by a later negative test (or a clinician's recorded decision). Action:
  record the test (and stop thalidomide while it is active);
* R5.2/R3.5 — ``dosed_after_positive_pregnancy_test``: a non-zero thalidomide dose
  row dated on or after that unresolved positive test while thalidomide is still
  active; resolved by the stop (or a later negative test). Action: stop thalidomide;
* R3.4 — ``neuropathy_grade3_on_thalidomide``: latest neuropathy grade ≥ 3 while
  thalidomide is active; resolved by the stop (or a later lower grade). Action: stop;
* R4.4 — ``withhold_lab_result``: the latest result of a test is at the withhold
  tier while azathioprine is active; resolved by a repeat result of that test
  below the withhold level, or by stopping azathioprine. Action: record the repeat;
* R5.3 — ``contraception_not_confirmed``: the latest contraception answer is "no",
  while thalidomide is active or within the contraception period after the stop
  (configurable, default 182 days). Reading chosen (safest): the alert stays
  through the post-stop period, when R5.3 still requires contraception. Resolved
  by a later "yes". Action: record the confirmation;
* R5.1 — ``breastfeeding``: breast-feeding recorded at the latest contact that
  asked, while thalidomide is active. Resolved by a later "no" or the stop.

Inputs are plain values so that every case is a row of a table in
``tests/rules/test_urgent.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from thalimon.said import join, say
from therapy.rules.pregnancy import unresolved_positive

# Codes in order of severity (the inbox and the banner list them in this order).
CODES = (
    "positive_pregnancy_test",
    "dosed_after_positive_pregnancy_test",
    "neuropathy_grade3_on_thalidomide",
    "withhold_lab_result",
    "contraception_not_confirmed",
    "breastfeeding",
)
# What resolves each (the page that records it).
ACTIONS = {
    "positive_pregnancy_test": "pregnancy_test",
    "dosed_after_positive_pregnancy_test": "dose_change",
    "neuropathy_grade3_on_thalidomide": "dose_change",
    "withhold_lab_result": "blood_test",
    "contraception_not_confirmed": "contraception",
    "breastfeeding": "dose_change",
}
TITLES = {
    "positive_pregnancy_test": say("Positive pregnancy test"),
    "dosed_after_positive_pregnancy_test": say("Thalidomide dosed after a positive pregnancy test"),
    "neuropathy_grade3_on_thalidomide": say("Neuropathy grade 3 on thalidomide"),
    "withhold_lab_result": say("Withhold-level blood result on azathioprine"),
    "contraception_not_confirmed": say("Contraception not confirmed"),
    "breastfeeding": say("Breast-feeding"),
}
WITHHOLD = "withhold"


@dataclass(frozen=True)
class Answer:
    """A dated yes/no answer recorded at a contact (clinic visit or phone)."""

    date: date
    value: bool
    contact: str = say("clinic visit")


@dataclass(frozen=True)
class Grade:
    """A neuropathy grade recorded at a clinic visit."""

    date: date
    grade: int


@dataclass(frozen=True)
class LatestLab:
    """The latest result of one lab test on or before the as-of date, at its R4.4 tier."""

    test: str
    date: date
    tier: str | None  # None | "review" | "withhold"
    source: str  # the stored alert's source, e.g. "lab:123"
    reason: str = ""  # the R4.4 alert's reason (names the value and threshold)


@dataclass(frozen=True)
class UrgentAlert:
    code: str
    title: str
    text: str
    rule: str
    source: str = ""
    date: date | None = None
    action: str = ""
    # The date of the newest datum that keeps it alarming (a later "no", a later grade ≥ 3,
    # a later dose): newer than a clinician's decision, it reopens the decided event.
    latest: date | None = None


def _event(code, text, rule, source, day, latest=None):
    return UrgentAlert(code, TITLES[code], text, rule, source, day, ACTIONS[code], latest or day)


def _run_start(answers, is_alarm):
    """The first answer of the current run of alarming answers (the latest is alarming)."""
    start = answers[-1]
    for answer in reversed(answers):
        if not is_alarm(answer):
            break
        start = answer
    return start


def _pregnancy_events(tests, as_of, thalidomide_active, thalidomide_ever, doses):
    last_positive = unresolved_positive([(day, result) for day, result in tests if day <= as_of])
    if last_positive is None:
        return []
    source = f"test:{last_positive.isoformat()}"
    if thalidomide_active:
        text = say("Positive test on %(date)s while thalidomide is active: stop thalidomide now.", date=last_positive)
    elif thalidomide_ever:
        text = say(
            "Positive test on %(date)s; thalidomide is stopped. Every further dose is refused.", date=last_positive
        )
    else:
        text = say("Positive test on %(date)s: thalidomide must not be started.", date=last_positive)
    found = [_event("positive_pregnancy_test", text, "R5.2", source, last_positive)]
    # A dose row on or after the positive test's date (R3.5 counts the test of the same day).
    dosed = [day for day, dose in doses if last_positive <= day <= as_of and Decimal(str(dose)) > 0]
    if dosed and thalidomide_active:
        found.append(_event(
            "dosed_after_positive_pregnancy_test",
            say(
                "Thalidomide %(dosed)s was recorded on or after the positive test of %(positive)s "
                "with no later negative test: stop thalidomide now.",
                dosed=min(dosed),
                positive=last_positive,
            ),
            "R5.2", source, min(dosed), max(dosed),
        ))
    return found


def _neuropathy_events(grades, neuropathy_grade, thalidomide_active, as_of):
    if neuropathy_grade is None or neuropathy_grade < 3 or not thalidomide_active:
        return []
    seen = [g for g in grades if g.date <= as_of]
    start = _run_start(seen, lambda g: g.grade >= 3).date if seen else None
    return [_event(
        "neuropathy_grade3_on_thalidomide",
        say(
            "Latest neuropathy grade %(grade)s while thalidomide is active: thalidomide must be "
            "stopped (neuropathy_grade3_on_thalidomide).",
            grade=neuropathy_grade,
        ),
        "R3.4", f"visit:{start.isoformat()}" if start else "grade", start, seen[-1].date if seen else None,
    )]


def _lab_text(lab):
    """The R4.4 alert's reason, then what to record."""
    record = say("Record the repeat %(test)s result.", test=lab.test.upper())
    return join([lab.reason, record], " ") if lab.reason else record


def _lab_events(latest_labs, azathioprine_active):
    if not azathioprine_active:
        return []
    return [
        _event("withhold_lab_result", _lab_text(lab), "R4.4", lab.source, lab.date)
        for lab in sorted(latest_labs, key=lambda lab: (lab.date, lab.test))
        if lab.tier == WITHHOLD
    ]


def _contraception_events(contraception, as_of, thalidomide_active, stopped_on, period_days):
    answered = [a for a in contraception if a.date <= as_of]
    within_period = thalidomide_active or (stopped_on is not None and (as_of - stopped_on).days < period_days)
    if not answered or answered[-1].value is not False or not within_period:
        return []
    last, first = answered[-1], _run_start(answered, lambda a: a.value is False)
    return [_event(
        "contraception_not_confirmed",
        say("On %(date)s (%(contact)s) contraception was NOT confirmed.", date=last.date, contact=last.contact),
        "R5.3", f"contact:{first.date.isoformat()}", first.date, last.date,
    )]


def _breastfeeding_events(breastfeeding, as_of, thalidomide_active):
    asked = [a for a in breastfeeding if a.date <= as_of]
    if not asked or not asked[-1].value or not thalidomide_active:
        return []
    first = _run_start(asked, lambda a: bool(a.value))
    return [_event(
        "breastfeeding",
        say("Breast-feeding recorded on %(date)s: thalidomide is refused.", date=asked[-1].date),
        "R5.1", f"contact:{first.date.isoformat()}", first.date, asked[-1].date,
    )]


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
    thalidomide_doses: list[tuple[date, object]] = (),
    neuropathy_grades: list[Grade] = (),
    latest_labs: list[LatestLab] = (),
    azathioprine_active: bool = False,
) -> list[UrgentAlert]:
    """The urgent events as of ``as_of``, most severe first (the order of ``CODES``).

    ``tests`` are (date, "positive"/"negative") in date order; ``thalidomide_doses`` the
    (date, mg) rows; ``contraception`` and ``breastfeeding`` the answers in date order;
    ``neuropathy_grades`` the clinic visits' grades in date order; ``stopped_on`` the date
    of the last 0 mg row when thalidomide is stopped; ``latest_labs`` the latest result
    of each test with its R4.4 tier.
    """
    found = [
        *_pregnancy_events(tests, as_of, thalidomide_active, thalidomide_ever, thalidomide_doses),
        *_neuropathy_events(neuropathy_grades, neuropathy_grade, thalidomide_active, as_of),
        *_lab_events(latest_labs, azathioprine_active),
        *_contraception_events(contraception, as_of, thalidomide_active, stopped_on, contraception_period_days),
        *_breastfeeding_events(breastfeeding, as_of, thalidomide_active),
    ]
    return sorted(found, key=lambda event: CODES.index(event.code))
