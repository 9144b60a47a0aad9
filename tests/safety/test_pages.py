"""Inbox, reminder actions, alerts and adverse events through the pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from safety.models import AdverseEvent, Alert, Reminder
from safety.scan import scan_reminders
from tests.safety.conftest import START, TODAY
from therapy import actions as therapy_actions
from visits.actions import lab_results_record, visit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def scanned(on_thalidomide):
    scan_reminders(as_of=TODAY)
    return on_thalidomide


def test_inbox_sections_reason_and_action_link(client, nurse, scanned):
    client.force_login(nurse)
    response = client.get(reverse("safety:inbox"))
    page = response.content.decode()
    overdue = response.context["sections"]["overdue"]
    test_reminder = next(r for r in overdue if r.kind == "pregnancy_test_due")
    assert test_reminder.link == reverse("therapy:pregnancy_test_create", args=["GI-1000"])
    assert "Record the test" in page
    assert test_reminder.reason in page
    assert 'data-due-count' in page  # the count badge in the navigation


def test_inbox_filters_by_kind_and_patient(client, nurse, scanned):
    client.force_login(nurse)
    only_tests = client.get(reverse("safety:inbox"), {"kind": "pregnancy_test_due"}).context["sections"]
    kinds = {r.kind for rows in only_tests.values() for r in rows}
    assert kinds == {"pregnancy_test_due"}
    nobody = client.get(reverse("safety:inbox"), {"patient": "NOPE"}).context["sections"]
    assert not any(nobody.values())


def test_acknowledge_snooze_complete_and_closed_refused(client, nurse, scanned):
    """A visit reminder: acknowledged, snoozed within 1–7 days with a reason, and closed
    only once the data (the visit) is recorded — never by a note (R7)."""
    client.force_login(nurse)
    reminder = Reminder.objects.get(kind="visit_due")
    overdue = client.post(reverse("safety:reminder_snooze", args=[reminder.pk]), {"days": "1", "reason": "x"}, follow=True)
    assert "overdue and cannot wait any longer" in overdue.content.decode()  # never snoozed out of sight
    note_only = client.post(reverse("safety:reminder_complete", args=[reminder.pk]), {"note": "visit booked"}, follow=True)
    assert "Still due" in note_only.content.decode()
    Reminder.objects.filter(pk=reminder.pk).update(due=TODAY)  # due today: it may wait up to 7 days
    client.post(reverse("safety:reminder_acknowledge", args=[reminder.pk]))
    reminder.refresh_from_db()
    assert reminder.state == "acknowledged"
    too_long = client.post(reverse("safety:reminder_snooze", args=[reminder.pk]), {"days": "8", "reason": "away"}, follow=True)
    assert "Days: snooze for 1 to 7 whole days." in too_long.content.decode()
    for bad in ("0.0", "2.5", "seven", ""):
        refused = client.post(reverse("safety:reminder_snooze", args=[reminder.pk]), {"days": bad, "reason": "away"}, follow=True)
        assert "Days: snooze for 1 to 7 whole days." in refused.content.decode(), bad
    client.post(reverse("safety:reminder_snooze", args=[reminder.pk]), {"days": "3", "reason": "patient abroad"})
    reminder.refresh_from_db()
    assert reminder.snoozed_until == TODAY + timedelta(days=3) and reminder.snooze_reason == "patient abroad"
    reminder.refresh_from_db()
    assert reminder.is_open
    visit_record(actor=nurse, patient=reminder.patient, date=TODAY, neuropathy_grade=0, contraception_confirmed=True)
    reminder.refresh_from_db()
    assert reminder.state == "auto_resolved"
    again = client.post(reverse("safety:reminder_complete", args=[reminder.pk]), follow=True)
    assert "already closed" in again.content.decode()
    assert [h.history_user for h in reminder.history.all()[1:3]] == [nurse, nurse]


def test_clinic_lead_sees_but_cannot_act(client, clinic_lead, scanned):
    client.force_login(clinic_lead)
    assert client.get(reverse("safety:inbox")).status_code == 200
    reminder = Reminder.objects.get(kind="pregnancy_test_due")
    assert client.post(reverse("safety:reminder_acknowledge", args=[reminder.pk])).status_code == 403
    reminder.refresh_from_db()
    assert reminder.state == "open"


@pytest.mark.parametrize(
    "aza, value, tier",
    [
        (True, "2.4", "withhold"),  # WBC ≤ 2.5 while AZA is active: tier B (R4.4)
        (False, "2.4", "review"),  # no AZA: tier A only
        (True, "3.9", None),  # no tier, but leukopenia suggested (WBC < 4.0)
    ],
)
def test_lab_alert_on_saved_result(make_patient, clinician, aza, value, tier):
    patient = make_patient()
    if aza:
        therapy_actions.dose_change_record(
            actor=clinician, patient=patient, drug="azathioprine", date=START, dose_mg=Decimal("100"), historical=True
        )
    lab_results_record(actor=clinician, patient=patient, date=TODAY, lab_values={"wbc": Decimal(value)})
    alert = Alert.objects.filter(patient=patient, kind="lab").first()
    assert (alert.tier if alert else None) == tier
    if alert:
        assert alert.suggest_adverse_event == "leukopenia" and "R4.4" in alert.reason


def test_bradycardia_alert_on_thalidomide(on_thalidomide, clinician):
    visit_record(actor=clinician, patient=on_thalidomide, date=TODAY, heart_rate=48, neuropathy_grade=0)
    alert = Alert.objects.get(patient=on_thalidomide, kind="bradycardia")
    assert alert.tier == "review"


def test_adverse_event_other_needs_text_and_withdrawal_proposes_the_stop(client, clinician, on_thalidomide):
    client.force_login(clinician)
    url = reverse("safety:ae_create", args=[on_thalidomide.code])
    data = {"term": "other", "onset": TODAY.isoformat(), "grade": "2", "drug": "thalidomide",
            "action_thalidomide": "withdrawn", "action_azathioprine": "none"}
    refused = client.post(url, data).content.decode()
    assert "required for &#x27;Other&#x27;" in refused or "required for 'Other'" in refused
    assert not AdverseEvent.objects.exists()
    response = client.post(url, {**data, "term": "somnolence"}, follow=True)
    page = response.content.decode()
    assert "Record the thalidomide stop (0 mg)" in page
    assert "drug=thalidomide&amp;dose=0" in page


def test_ae_follow_up_note_resolves_the_reminder_date(client, nurse, on_thalidomide):
    event = AdverseEvent.objects.create(
        patient=on_thalidomide, onset=TODAY - timedelta(days=20), term="fatigue", grade=1, drug="thalidomide"
    )
    scan_reminders(as_of=TODAY)
    first = Reminder.objects.get(kind="ae_follow_up", subject=str(event.pk), state="open")
    client.force_login(nurse)
    client.post(reverse("safety:ae_detail", args=[event.pk]), {"date": TODAY.isoformat(), "note": "better"})
    scan_reminders(as_of=TODAY)
    first.refresh_from_db()
    assert first.state == "auto_resolved"
    assert Reminder.objects.get(kind="ae_follow_up", state="open").due == TODAY + timedelta(days=14)


def test_neuropathy_event_proposes_the_visit_grade(client, clinician, on_thalidomide):
    visit_record(actor=clinician, patient=on_thalidomide, date=TODAY, neuropathy_grade=2)
    client.force_login(clinician)
    page = client.get(
        reverse("safety:ae_create", args=[on_thalidomide.code]), {"term": "peripheral_neuropathy"}
    ).content.decode()
    assert "Latest visit neuropathy grade: 2" in page
    assert 'value="2" selected' in page


def test_a_nurse_is_not_sent_to_a_page_she_cannot_use(client, nurse, clinician, scanned):
    client.force_login(nurse)
    sections = client.get(reverse("safety:inbox")).context["sections"]
    step = next(r for rows in sections.values() for r in rows if r.kind == "dose_step_due")
    assert step.link == reverse("patients:detail", args=["GI-1000"])
    client.force_login(clinician)
    sections = client.get(reverse("safety:inbox")).context["sections"]
    step = next(r for rows in sections.values() for r in rows if r.kind == "dose_step_due")
    assert step.link == reverse("therapy:dose_change", args=["GI-1000"])


def test_inbox_is_paginated_and_its_queries_do_not_grow(client, nurse, make_patient):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from safety.views import INBOX_PAGE

    def add(n, offset):
        for i in range(n):
            patient = make_patient(code=f"IN-{offset + i:04d}")
            Reminder.objects.create(patient=patient, kind="visit_due", due=TODAY - timedelta(days=1), reason="test")

    client.force_login(nurse)
    add(3, 0)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("safety:inbox"))
    add(INBOX_PAGE + 5, 100)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("safety:inbox"))
    assert len(few) == len(many)
    assert len(response.context["sections"]["due"]) == INBOX_PAGE
    assert response.context["totals"]["due"] == INBOX_PAGE + 8
    more = client.get(reverse("safety:inbox"), {"due_pages": 2})
    assert len(more.context["sections"]["due"]) == INBOX_PAGE + 8


def test_reminder_page_full_and_as_htmx_fragment(client, nurse, clinic_lead, scanned):
    reminder = Reminder.objects.get(kind="pregnancy_test_due")
    url = reverse("safety:reminder_detail", args=[reminder.pk])
    client.force_login(nurse)
    page = client.get(url, {"next": "/inbox/?kind=pregnancy_test_due"}).content.decode()
    assert reminder.reason in page and "History" in page
    assert f'action="{reverse("safety:reminder_complete", args=[reminder.pk])}"' in page
    assert 'value="/inbox/?kind=pregnancy_test_due"' in page  # back to the filtered inbox
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and f'data-reminder-forms="{reminder.pk}"' in fragment
    # A clinic lead reads the reminder but gets no forms.
    client.force_login(clinic_lead)
    page = client.get(url).content.decode()
    assert reminder.reason in page and "data-reminder-forms" not in page


def test_inbox_rows_load_their_forms_lazily(client, nurse, scanned):
    client.force_login(nurse)
    page = client.get(reverse("safety:inbox")).content.decode()
    reminder = Reminder.objects.get(kind="pregnancy_test_due")
    detail = reverse("safety:reminder_detail", args=[reminder.pk])
    assert f'hx-get="{detail}?next=%2Finbox%2F&amp;anchor=section-' in page and f'hx-target="#actions-{reminder.pk}"' in page
    assert "data-reminder-forms" not in page  # no complete/snooze forms until asked for


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)"])
def test_actions_never_redirect_to_another_site(client, nurse, scanned, target):
    client.force_login(nurse)
    reminder = Reminder.objects.get(kind="pregnancy_test_due")
    response = client.post(reverse("safety:reminder_acknowledge", args=[reminder.pk]), {"next": target})
    assert response.status_code == 302 and response.url == reverse("safety:inbox")
    page = client.get(reverse("safety:reminder_detail", args=[reminder.pk]), {"next": target}).content.decode()
    assert "evil.example" not in page and "javascript:" not in page


def test_review_alerts_page_and_an_urgent_one_is_pinned_above_them(client, nurse, on_thalidomide):
    from safety.views import INBOX_PAGE

    for day in range(INBOX_PAGE + 2):
        Alert.objects.create(patient=on_thalidomide, kind="lab", tier="review", source=f"lab:{day}",
                             date=TODAY - timedelta(days=day), rule="R4.4", reason=f"review {day}")
    Alert.objects.create(patient=on_thalidomide, kind="lab", tier="withhold", source="lab:old",
                         date=TODAY - timedelta(days=90), rule="R4.4", reason="old withhold")
    client.force_login(nurse)
    response = client.get(reverse("safety:inbox"))
    assert response.context["alert_total"] == INBOX_PAGE + 2
    assert len(response.context["alerts"]) == INBOX_PAGE
    assert [a.reason for a in response.context["urgent"]] == ["old withhold"]  # never paged behind routine rows
    page = response.content.decode()
    assert page.index("old withhold") < page.index("review 0")
    more = client.get(reverse("safety:inbox"), {"alerts_pages": 2}).context["alerts"]
    assert len(more) == INBOX_PAGE + 2
    # The filters apply to alerts too; a reminder kind hides them and says how many urgent ones.
    other = client.get(reverse("safety:inbox"), {"patient": "NOPE"}).context
    assert other["alert_total"] == 0 and other["urgent_total"] == 0
    tests_only = client.get(reverse("safety:inbox"), {"kind": "pregnancy_test_due"})
    assert tests_only.context["urgent_hidden"] == 1 and "1 urgent event hidden" in tests_only.content.decode()


def test_inbox_sections_hold_their_own_reminders_oldest_first(client, nurse, make_patient):
    """One query for the three sections (PostgreSQL union): each row in its window, in due order."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    patient = make_patient(code="IN-ORDER")
    offsets = [-30, -9, -8, -7, -3, 0, 1, 5, 7, 8]  # days from today; 8 is beyond the next 7 days
    for offset in reversed(offsets):
        Reminder.objects.create(patient=patient, kind="visit_due", due=TODAY + timedelta(days=offset),
                                subject=str(offset), reason="test")
    client.force_login(nurse)
    with CaptureQueriesContext(connection) as queries:
        sections = client.get(reverse("safety:inbox")).context["sections"]
    days = {key: [(r.due - TODAY).days for r in rows] for key, rows in sections.items()}
    assert days == {"overdue": [-30, -9, -8], "due": [-7, -3, 0], "upcoming": [1, 5, 7]}
    assert sum("safety_reminder" in q["sql"] and "UNION" in q["sql"] for q in queries) == 1


def test_inbox_without_union_support_gives_the_same_sections(client, nurse, make_patient, monkeypatch):
    """The demo's SQLite cannot limit the parts of a union: a query a section, same rows."""
    from django.db import connection

    patient = make_patient(code="IN-SQLITE")
    for offset in (-20, -9, -2, 0, 3, 6):
        Reminder.objects.create(patient=patient, kind="visit_due", due=TODAY + timedelta(days=offset),
                                subject=str(offset), reason="test")
    client.force_login(nurse)
    with_union = client.get(reverse("safety:inbox")).context["sections"]
    monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", False)
    without = client.get(reverse("safety:inbox")).context["sections"]
    assert {k: [r.pk for r in v] for k, v in with_union.items()} == {k: [r.pk for r in v] for k, v in without.items()}
    assert [len(v) for v in without.values()] == [2, 2, 2]
