"""Urgent events from the reminder scan's record — pure: no Django, no clock.

``therapy.rules.urgent`` is the one definition of the urgent events; this adapter
feeds it from the same ``schedule.PatientRecord`` the R7 reminders use, so the
nightly scan, a patient's rescan after a save and every page agree.
"""

from __future__ import annotations

from datetime import date

from safety import schedule
from thalimon.said import say
from therapy.rules.doses import stop_date, thalidomide_active
from therapy.rules.urgent import Answer, Grade, UrgentAlert, urgent_alerts

CONTACT_WORDS = {"clinic": say("clinic visit"), "phone": say("phone contact")}


def urgent_events(record: schedule.PatientRecord, as_of: date) -> list[UrgentAlert]:
    """The urgent events of ``record`` as of ``as_of`` (``therapy.rules.urgent``), from the
    record the reminders use, so the scan, a patient's rescan and the pages agree.

    Unlike the reminders, a patient recorded as died, transferred or lost keeps them:
    an urgent event (a positive test of a woman lost to follow-up) ends by its data or
    by a clinician's recorded decision, never by a change of status.
    """
    schedule.validate_record(record)
    seen = schedule.record_as_of(record, as_of)
    thalidomide = seen.thalidomide
    active = thalidomide_active(thalidomide, as_of)
    latest = schedule.latest_grade(seen, as_of)
    return urgent_alerts(
        as_of=as_of,
        tests=[(test.date, test.result) for test in seen.pregnancy_tests],
        thalidomide_active=active,
        thalidomide_ever=bool(thalidomide),
        stopped_on=None if active else stop_date(thalidomide, as_of),
        neuropathy_grade=latest[1] if latest else None,
        contraception=[
            Answer(v.date, v.contraception_confirmed, CONTACT_WORDS[v.contact])
            for v in seen.visits if v.contraception_confirmed is not None
        ],
        breastfeeding=[Answer(v.date, v.breastfeeding) for v in seen.visits if v.breastfeeding is not None],
        contraception_period_days=seen.contraception_period_days,
        thalidomide_doses=[(row.date, row.dose_mg) for row in thalidomide],
        neuropathy_grades=[
            Grade(v.date, int(v.neuropathy_grade)) for v in schedule.clinic_visits(seen) if v.neuropathy_grade is not None
        ],
        latest_labs=list(seen.latest_labs),
        azathioprine_active=thalidomide_active(seen.azathioprine, as_of),
    )
