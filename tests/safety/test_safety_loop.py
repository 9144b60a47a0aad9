"""The safety loop, through the pages: urgent events that cannot be missed or silenced,
reminders that only data (or a clinician's recorded decision) closes, withhold-level labs
that say what to do. Clinical-rules R4.4, R5.2, R7; DESIGN rule 7."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from safety.models import Alert, Reminder
from safety.scan import scan_reminders
from thalimon.roles import ADMIN, CLINIC_LEAD, CLINICIAN, NURSE
from therapy import actions as therapy_actions
from therapy.models import DoseChange, TherapyCourse
from visits.actions import visit_record

TODAY = timezone.localdate()
START = TODAY - timedelta(days=40)


def _messages(response):
    return " ".join(str(m) for m in response.context["messages"])


# --- a nurse cannot make an overdue pregnancy test reminder disappear ----------------------------
def test_a_note_cannot_close_an_overdue_pregnancy_test_reminder(client, nurse, woman_on_thalidomide):
    reminder = Reminder.objects.get(patient=woman_on_thalidomide, kind="pregnancy_test_due")
    assert reminder.due == START + timedelta(days=28) and reminder.is_open
    client.force_login(nurse)
    tries = [
        client.post(reverse("safety:reminder_complete", args=[reminder.pk]), {"note": "test booked"}, follow=True),
        client.post(reverse("safety:reminder_snooze", args=[reminder.pk]), {"days": "7", "reason": "away"}, follow=True),
    ]
    assert "Still due" in _messages(tries[0]) and "cannot wait" in _messages(tries[1])
    dismiss = client.post(reverse("safety:reminder_dismiss", args=[reminder.pk]), {"decision": "not needed at all"})
    assert dismiss.status_code == 403  # a nurse never dismisses
    reminder.refresh_from_db()
    assert reminder.is_open and reminder.snoozed_until is None
    inbox = client.get(reverse("safety:inbox"))
    assert f'data-patient="{woman_on_thalidomide.code}"' in inbox.content.decode()
    # The test result is what closes it, at once.
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman_on_thalidomide, date=TODAY, result="negative")
    reminder.refresh_from_db()
    assert reminder.state == "auto_resolved"
    assert reminder.completion_note.startswith("Resolved by the data: a pregnancy test was recorded")


def test_a_clinician_owned_reminder_refuses_a_nurse_and_takes_a_clinicians_decision(
    client, nurse, clinician, make_patient
):
    patient = make_patient(code="SL-0002", responsible_clinician=clinician)
    TherapyCourse.objects.create(patient=patient, start_date=TODAY - timedelta(days=30))  # as a history import
    therapy_actions.dose_change_record(actor=clinician, patient=patient, drug="thalidomide",
                                       date=TODAY - timedelta(days=30), dose_mg=Decimal("50"), historical=True)
    visit_record(actor=clinician, patient=patient, date=TODAY - timedelta(days=2), neuropathy_grade=0)
    reminder = Reminder.objects.get(patient=patient, kind="dose_step_due")  # R7: grade 0, below target
    client.force_login(nurse)
    refused = client.post(reverse("safety:reminder_complete", args=[reminder.pk]), follow=True)
    assert "only a clinician acts on this reminder" in _messages(refused)
    page = client.get(reverse("safety:reminder_detail", args=[reminder.pk])).content.decode()
    assert 'data-action="complete"' not in page and 'data-refused="complete"' in page
    client.force_login(clinician)
    short = client.post(reverse("safety:reminder_dismiss", args=[reminder.pk]), {"decision": "ok"}, follow=True)
    assert "at least 10 characters" in _messages(short)
    client.post(reverse("safety:reminder_dismiss", args=[reminder.pk]),
                {"decision": "No further step: patient stays at 50 mg"})
    reminder.refresh_from_db()
    assert (reminder.state, reminder.closed_by, reminder.completion_note) == (
        "dismissed", clinician, "Decision: No further step: patient stays at 50 mg")
    # The decision stands at the next scan (same key), is on the patient page and in history.
    scan_reminders()
    reminder.refresh_from_db()
    assert reminder.state == "dismissed"
    assert "No further step: patient stays at 50 mg" in client.get(patient.get_absolute_url()).content.decode()
    assert reminder.history.filter(state="dismissed", history_user=clinician).exists()


@pytest.mark.parametrize("role, allowed", [(CLINICIAN, True), (NURSE, True), (CLINIC_LEAD, False), (ADMIN, False)])
def test_only_the_care_team_may_work_a_reminder(client, user_for_role, woman_on_thalidomide, role, allowed):
    reminder = Reminder.objects.get(patient=woman_on_thalidomide, kind="visit_due")
    Reminder.objects.filter(pk=reminder.pk).update(due=TODAY - timedelta(days=2))  # due, not yet overdue
    client.force_login(user_for_role(role))
    response = client.post(reverse("safety:reminder_snooze", args=[reminder.pk]), {"days": "3", "reason": "phoned"})
    reminder.refresh_from_db()
    assert (response.status_code != 403) == allowed
    assert (reminder.snoozed_until == TODAY + timedelta(days=3)) == allowed


def test_the_scan_brings_back_a_reminder_closed_by_a_note_and_one_whose_snooze_ended(woman_on_thalidomide, nurse):
    reminder = Reminder.objects.get(patient=woman_on_thalidomide, kind="pregnancy_test_due")
    # A reminder closed by a note before this change (state "done"): the condition still holds.
    Reminder.objects.filter(pk=reminder.pk).update(state="done", completion_note="test booked", closed_by=nurse)
    report = scan_reminders()
    reminder.refresh_from_db()
    assert report.reopened == 1 and reminder.is_open and reminder.closed_by is None
    assert reminder.completion_note.startswith("Reopened: the condition still holds")
    visit = Reminder.objects.get(patient=woman_on_thalidomide, kind="visit_due")
    Reminder.objects.filter(pk=visit.pk).update(due=TODAY)
    from safety.actions import reminder_snooze
    from safety.selectors import workable_reminders

    reminder_snooze(actor=nurse, reminder_id=visit.pk, days=2, reason="patient phones back")
    assert not workable_reminders(nurse, TODAY).filter(pk=visit.pk).exists()
    assert workable_reminders(nurse, TODAY + timedelta(days=2)).filter(pk=visit.pk).exists()


# --- urgent events ---------------------------------------------------------------------------
def test_a_positive_test_is_urgent_everywhere_and_only_data_or_a_decision_closes_it(
    client, nurse, clinician, woman_on_thalidomide, django_capture_on_commit_callbacks
):
    patient = woman_on_thalidomide
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=TODAY, result="positive")
    event = Alert.objects.get(patient=patient, kind="positive_pregnancy_test")
    assert (event.tier, event.action, event.resolved_at) == ("urgent", "pregnancy_test", None)
    # The email went at once to the responsible clinician: code and link, no name, no value.
    [email] = mail.outbox
    assert email.to == ["carla@clinic.test"] and "URGENT" in email.subject and patient.code in email.subject
    assert reverse("safety:alert_detail", args=[event.pk]) in email.body
    assert patient.full_name not in email.body + email.subject
    event.refresh_from_db()
    assert event.notified_at is not None
    # Pinned first in every staff inbox, counted in the badge, on every page of the patient.
    for user in (nurse, clinician):
        client.force_login(user)
        html = client.get(reverse("safety:inbox")).content.decode()
        assert html.index('data-section="urgent"') < html.index('data-section="overdue"')
        assert 'data-alert="positive_pregnancy_test"' in html and "1 urgent" in html
    for url in (patient.get_absolute_url(), reverse("therapy:dose_change", args=[patient.code]),
                reverse("visits:lab_create", args=[patient.code])):
        assert 'data-alert="positive_pregnancy_test"' in client.get(url).content.decode()
    # Acknowledging says who saw it; it stays open. A note closes nothing.
    client.force_login(nurse)
    client.post(reverse("safety:alert_acknowledge", args=[event.pk]))
    event.refresh_from_db()
    assert event.acknowledged_by == nurse and event.resolved_at is None
    assert client.post(reverse("safety:alert_detail", args=[event.pk]), {"decision": "test booked again"}).status_code == 302
    event.refresh_from_db()
    assert event.resolved_at is None  # a nurse's "decision" is refused
    # The dose page refuses every dose, override or not.
    client.force_login(clinician)
    for data in ({"drug": "thalidomide", "date": TODAY.isoformat(), "dose_mg": "25"},
                 {"drug": "thalidomide", "date": TODAY.isoformat(), "dose_mg": "25", "override": "on",
                  "override_reason": "clinician insists"}):
        client.post(reverse("therapy:dose_change", args=[patient.code]), data)
    assert not DoseChange.objects.filter(patient=patient, date=TODAY).exists()
    # The clinician's decision closes it, kept with who and why.
    client.post(reverse("safety:alert_detail", args=[event.pk]),
                {"decision": f"Thalidomide stopped on {TODAY:%Y-%m-%d}, patient referred to obstetrics"})
    event.refresh_from_db()
    assert event.resolved_by == clinician and event.resolution.startswith("Decision: Thalidomide stopped")
    assert 'data-alert="positive_pregnancy_test"' not in client.get(patient.get_absolute_url()).content.decode()


def test_a_later_negative_test_resolves_the_positive_by_data(nurse, woman_on_thalidomide):
    patient = woman_on_thalidomide
    therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=TODAY - timedelta(days=1),
                                          result="positive")
    assert Alert.objects.get(kind="positive_pregnancy_test").resolved_at is None
    therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=TODAY, result="negative")
    event = Alert.objects.get(kind="positive_pregnancy_test")
    assert event.resolved_at is not None and event.resolved_by is None
    assert event.resolution == "Resolved by the data: a later negative pregnancy test was recorded."


def test_the_sweep_sends_what_the_broker_did_not_take_once(nurse, woman_on_thalidomide):
    from safety.tasks import send_pending_urgent_notifications

    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman_on_thalidomide, date=TODAY,
                                          result="positive")  # no commit in this test: nothing queued
    Alert.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    mail.outbox.clear()
    assert send_pending_urgent_notifications() == {"sent": 1, "failed": 0}
    assert send_pending_urgent_notifications() == {"sent": 0, "failed": 0}
    assert len(mail.outbox) == 1


# --- withhold-level labs ----------------------------------------------------------------------
def test_withhold_labs_warn_mark_the_aza_panel_and_set_the_repeat(client, clinician, make_patient):
    patient = make_patient(code="SL-0003", responsible_clinician=clinician)
    therapy_actions.dose_change_record(actor=clinician, patient=patient, drug="azathioprine",
                                       date=TODAY - timedelta(days=60), dose_mg=Decimal("150"), historical=True)
    client.force_login(clinician)
    response = client.post(reverse("visits:lab_create", args=[patient.code]),
                           {"date": TODAY.isoformat(), "lab_wbc": "2.2", "lab_platelets": "80"}, follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "warning" and "URGENT" in str(message) and "WBC" in str(message)
    page = client.get(patient.get_absolute_url()).content.decode()
    assert "data-aza-withhold" in page and page.count('data-alert="withhold_lab_result"') == 2
    repeat = Reminder.objects.get(patient=patient, kind="blood_test_due", due=TODAY + timedelta(days=7))
    assert "repeat within 7 days (R4.4)" in repeat.reason and repeat.is_open
    badge = client.get(reverse("patients:list")).content.decode()
    assert "2 urgent" in badge
    # The repeat count resolves the WBC event and the repeat reminder keeps the platelets one.
    client.post(reverse("visits:lab_create", args=[patient.code]), {"date": TODAY.isoformat(), "lab_wbc": "4.1"})
    events = dict(Alert.objects.filter(patient=patient, tier="withhold").values_list("reason", "resolved_at"))
    assert sum(1 for when in events.values() if when is None) == 1


@pytest.mark.parametrize("due_days_ago, days, allowed", [
    (0, 7, True),  # due today: may wait 7 days (overdue from day 8)
    (3, 4, True),  # the last day before it is overdue
    (3, 5, False),  # would hide it past the day it becomes overdue
    (8, 1, False),  # overdue: escalated, never snoozed out of sight
])
def test_no_snooze_past_the_overdue_day(nurse, woman_on_thalidomide, due_days_ago, days, allowed):
    from django.core.exceptions import ValidationError

    from safety.actions import reminder_snooze

    reminder = Reminder.objects.get(patient=woman_on_thalidomide, kind="visit_due")
    Reminder.objects.filter(pk=reminder.pk).update(due=TODAY - timedelta(days=due_days_ago))
    if allowed:
        reminder_snooze(actor=nurse, reminder_id=reminder.pk, days=days, reason="patient phones back")
    else:
        with pytest.raises(ValidationError, match="Days:"):
            reminder_snooze(actor=nurse, reminder_id=reminder.pk, days=days, reason="patient phones back")
    reminder.refresh_from_db()
    assert (reminder.snoozed_until is not None) == allowed


def test_a_decision_covers_what_was_known_a_new_no_reopens_it(nurse, clinician, woman_on_thalidomide):
    from safety.actions import alert_decide

    patient = woman_on_thalidomide
    therapy_actions.contraception_confirm(actor=nurse, patient=patient, date=TODAY - timedelta(days=3),
                                          contact="phone", confirmed=False)
    event = Alert.objects.get(patient=patient, kind="contraception_not_confirmed")
    alert_decide(actor=clinician, alert_id=event.pk, decision="Counselled by phone; method restarted, review")
    scan_reminders()
    event.refresh_from_db()
    assert event.resolved_by == clinician  # the decision stands for what it covered
    therapy_actions.contraception_confirm(actor=nurse, patient=patient, date=TODAY, contact="phone", confirmed=False)
    event.refresh_from_db()
    assert event.resolved_at is None and event.notified_at is None  # open again, to be emailed again
    assert event.resolution.startswith(f"Reopened: new data of {TODAY:%Y-%m-%d}")


def test_a_status_change_never_closes_an_urgent_event(nurse, clinician, woman_on_thalidomide):
    from patients.actions import patient_update

    patient = woman_on_thalidomide
    therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=TODAY, result="positive")
    patient.refresh_from_db()
    patient_update(actor=clinician, patient=patient, expected_version=patient.version, status="lost",
                   status_date=TODAY)
    assert Alert.objects.get(patient=patient, kind="positive_pregnancy_test").resolved_at is None
    assert not Reminder.objects.filter(patient=patient, state__in=["open", "acknowledged"]).exists()


def test_a_corrected_withhold_result_keeps_its_event_closed_by_that_data(clinician, make_patient):
    from visits.actions import lab_results_record

    patient = make_patient(code="SL-0004", responsible_clinician=clinician)
    therapy_actions.dose_change_record(actor=clinician, patient=patient, drug="azathioprine",
                                       date=TODAY - timedelta(days=60), dose_mg=Decimal("150"), historical=True)
    lab_results_record(actor=clinician, patient=patient, date=TODAY, lab_values={"wbc": "2.2"})
    event = Alert.objects.get(patient=patient, tier="withhold")
    from safety.actions import alert_acknowledge

    alert_acknowledge(actor=clinician, alert_id=event.pk)
    lab_results_record(actor=clinician, patient=patient, date=TODAY, lab_values={"wbc": "5.2"})  # a typo corrected
    event.refresh_from_db()
    assert (event.tier, event.acknowledged_by) == ("cleared", clinician)
    assert event.resolution.startswith("Resolved by the data: the result was corrected")
    assert not Reminder.objects.filter(patient=patient, kind="blood_test_due", due=TODAY + timedelta(days=7),
                                       state__in=["open", "acknowledged"]).exists()


def test_the_report_says_how_safety_signals_were_closed(client, clinic_lead, clinician, nurse, woman_on_thalidomide):
    from safety.actions import alert_decide

    patient = woman_on_thalidomide
    therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=TODAY - timedelta(days=2), result="positive")
    therapy_actions.contraception_confirm(actor=nurse, patient=patient, date=TODAY, contact="phone", confirmed=False)
    alert_decide(actor=clinician, alert_id=Alert.objects.get(kind="contraception_not_confirmed").pk,
                 decision="Counselled; thalidomide stopped today")
    therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=TODAY - timedelta(days=1), result="negative")
    client.force_login(clinic_lead)
    decisions = client.get(reverse("reports:cohort")).context["safety_decisions"]
    assert dict(decisions["urgent"]) == {
        "Contraception not confirmed": (0, 0, 1), "Positive pregnancy test": (0, 1, 0),
    }
