"""Data checks on one patient's record — pure: no Django, no clock.

Four things the specification asks the clinician to be shown without raising an alert:

- R3.4: an open ``peripheral_neuropathy`` adverse event while the latest neuropathy
  grade is 0 is inconsistent: a data-quality warning. The grade or the event is wrong,
  and a dose rule reads the grade, so the clinician is asked to record the current
  grade at a clinic visit or the event's resolution date. Recording an event is never
  refused for it: an adverse event must always be recordable.
- R4.4: a WBC below 4.0 ×10⁹/L suggests recording the adverse event ``leukopenia``.
  Below 3.5 the R4.4 alert says so too; between 3.5 and 4.0 this check (for the latest
  result) and the save message (for each result as it is entered) are where it is said.
- R5.1: a premenarchal exemption is "reviewed at every visit; the exemption ends at
  menarche". The latest clinic visit of a patient still recorded as premenarchal that did
  not ask (before the start too: the exemption waives the pre-start tests) is shown until
  a contact on or after it asks; a visit that records menarche ends the exemption itself
  (``visits.actions``).
- R5.3: each clinic visit of a female of reproductive potential or of a male during
  thalidomide therapy records whether contraception was confirmed (yes/no; "no" is the
  urgent alert). "During therapy" is read as the urgent alert reads it: thalidomide active
  on the visit's date, or stopped less than the R5.3 period before it (the stop visit, an
  interruption, the months after the last dose). A latest clinic visit in that time that
  left it unasked is shown until a contact on or after it (clinic or phone) answers. The
  visit form does not refuse "not asked": a visit must always be recordable, and imported
  visits never are refused.

Each check holds only while its data say so; the data end it (a grade ≥ 1 or a
resolution date; a leukopenia event that is open on, or resolved on or after, the
result's date, or a later WBC of 4.0 or more; an answer), never a button. Records dated
after ``as_of`` are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from safety.alerts import suggests_leukopenia
from thalimon.said import Said, say
from therapy.rules.doses import DoseRow, stop_date, thalidomide_active
from therapy.rules.thalidomide import latest_grade_of

NEUROPATHY_EVENT = "peripheral_neuropathy"
LEUKOPENIA_EVENT = "leukopenia"


@dataclass(frozen=True)
class Event:
    """What the checks read of an adverse event: its term, onset and resolution date."""

    term: str
    onset: date
    resolved: date | None


@dataclass(frozen=True)
class DataCheck:
    code: str  # "neuropathy_event_open_at_grade_0", "wbc_suggests_leukopenia", "premenarchal_not_reviewed",
    # "contraception_not_recorded"
    date: date  # the visit or result the check is about
    rule: str
    text: Said
    suggest_adverse_event: str = ""  # the event to record, when recording one ends the check


@dataclass(frozen=True)
class Contact:
    """What the R5.3 check reads of a visit: its date, clinic or phone, and the answer (None: not asked)."""

    date: date
    contact: str
    contraception_confirmed: bool | None
    menarche: bool | None = None


def _open_on(event: Event, on: date) -> bool:
    return event.onset <= on and (event.resolved is None or event.resolved > on)


def neuropathy_event_at_grade_0(
    *, grades: Iterable[tuple[date, int]], events: Iterable[Event], as_of: date
) -> DataCheck | None:
    """R3.4: an open peripheral-neuropathy event while the latest grade (clinic visits'
    (date, grade) pairs; two the same day → the higher) is 0. No grade recorded is not 0."""
    grades = [(when, int(grade)) for when, grade in grades if when <= as_of]
    if latest_grade_of(grades, as_of) != 0:
        return None
    still_open = [event for event in events if event.term == NEUROPATHY_EVENT and _open_on(event, as_of)]
    if not still_open:
        return None
    graded_on = max(when for when, _ in grades)
    return DataCheck(
        code="neuropathy_event_open_at_grade_0",
        date=graded_on,
        rule="R3.4",
        text=say(
            "The peripheral neuropathy adverse event from %(onset)s is still open, but the latest clinic "
            "visit (%(date)s) recorded neuropathy grade 0: record the current grade at a clinic visit, "
            "or the event's resolution date (R3.4).",
            onset=min(event.onset for event in still_open), date=graded_on,
        ),
    )


def leukopenia_suggested(
    *, wbc: Iterable[tuple[date, Decimal]], events: Iterable[Event], as_of: date
) -> DataCheck | None:
    """R4.4: the latest WBC result is below 4.0 and no leukopenia event covers its date
    (open on that date, or resolved on or after it, or with a later onset still open)."""
    results = [(when, value) for when, value in wbc if when <= as_of and value is not None]
    if not results:
        return None
    day, value = max(results, key=lambda result: result[0])
    if not suggests_leukopenia(test="wbc", value=value):
        return None
    covered = any(
        event.term == LEUKOPENIA_EVENT and event.onset <= as_of and (event.resolved is None or event.resolved >= day)
        for event in events
    )
    if covered:
        return None
    return DataCheck(
        code="wbc_suggests_leukopenia",
        date=day,
        rule="R4.4",
        text=say(
            "WBC %(value)s ×10⁹/L on %(date)s is below 4.0: consider recording the adverse event "
            "leukopenia (R4.4).",
            value=format(Decimal(value).normalize(), "f"), date=day,
        ),
        suggest_adverse_event=LEUKOPENIA_EVENT,
    )


def contraception_not_recorded(
    *, contacts: Iterable[Contact], thalidomide: Iterable[DoseRow], rules_apply: bool, period_days: int,
    as_of: date,
) -> DataCheck | None:
    """R5.3: the latest clinic visit, on a day thalidomide was active or had stopped less than
    ``period_days`` before, did not record whether contraception was confirmed, and no contact
    on or after it did. ``rules_apply``: the patient is a female of reproductive potential or a male."""
    if not rules_apply:
        return None
    latest = _latest_visit_unanswered(contacts, "contraception_confirmed", as_of)
    if latest is None or not _in_therapy_window(list(thalidomide), latest, period_days):
        return None
    return DataCheck(
        code="contraception_not_recorded",
        date=latest,
        rule="R5.3",
        text=say(
            "The clinic visit on %(date)s, on thalidomide or within the contraception period after it, did "
            "not record whether contraception was confirmed: record the answer at this or the next contact "
            "(R5.3).",
            date=latest,
        ),
    )


def _latest_visit_unanswered(contacts: Iterable[Contact], question: str, as_of: date) -> date | None:
    """The date of the latest clinic visit on or before ``as_of`` when neither it nor any contact
    (clinic or phone) on or after it answered ``question`` (a Contact field); else None."""
    seen = [contact for contact in contacts if contact.date <= as_of]
    clinic_days = [contact.date for contact in seen if contact.contact == "clinic"]
    if not clinic_days:
        return None
    latest = max(clinic_days)
    if any(getattr(contact, question) is not None for contact in seen if contact.date >= latest):
        return None
    return latest


def _in_therapy_window(rows: list[DoseRow], day: date, period_days: int) -> bool:
    """Thalidomide active on ``day``, or stopped less than ``period_days`` before it."""
    stopped = stop_date(rows, day)
    return thalidomide_active(rows, day) or (stopped is not None and (day - stopped).days < period_days)


def premenarchal_not_reviewed(
    *, contacts: Iterable[Contact], premenarchal: bool, as_of: date
) -> DataCheck | None:
    """R5.1: a premenarchal exemption is reviewed at every visit and ends at menarche. The latest
    clinic visit of a patient still recorded as premenarchal did not ask, and no contact (clinic
    or phone) on or after it did. Every clinic visit counts, before the start too: the exemption
    is what waives the pre-start tests."""
    if not premenarchal:
        return None
    latest = _latest_visit_unanswered(contacts, "menarche", as_of)
    if latest is None:
        return None
    return DataCheck(
        code="premenarchal_not_reviewed",
        date=latest,
        rule="R5.1",
        text=say(
            "The patient is recorded as premenarchal, and the clinic visit on %(date)s did not record whether "
            "menarche has occurred: ask at every visit, as the exemption from pregnancy tests ends at "
            "menarche (R5.1).",
            date=latest,
        ),
    )


def data_checks(
    *, grades: Iterable[tuple[date, int]], wbc: Iterable[tuple[date, Decimal]], events: Iterable[Event],
    contacts: Iterable[Contact] = (), thalidomide: Iterable[DoseRow] = (), contraception_rules_apply: bool = False,
    contraception_period_days: int = 182, premenarchal: bool = False, as_of: date,
) -> list[DataCheck]:
    """Every data check of one patient that holds on ``as_of``, in rule order."""
    events, contacts, thalidomide = list(events), list(contacts), list(thalidomide)
    found = [
        neuropathy_event_at_grade_0(grades=grades, events=events, as_of=as_of),
        leukopenia_suggested(wbc=wbc, events=events, as_of=as_of),
        premenarchal_not_reviewed(contacts=contacts, premenarchal=premenarchal, as_of=as_of),
        contraception_not_recorded(
            contacts=contacts, thalidomide=thalidomide, rules_apply=contraception_rules_apply,
            period_days=contraception_period_days, as_of=as_of,
        ),
    ]
    return [check for check in found if check is not None]
