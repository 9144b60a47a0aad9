"""R7 ``prescription_due`` (R9.4) end to end: the scan stores it (and the dry-run command
lists it), the next prescription resolves it, the inbox links to the prescription page,
the patient page and the digest name it, and the scan's queries do not grow with patients."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from safety.actions import rescans_deferred
from safety.digest import send_digests
from safety.models import Reminder
from safety.scan import scan_reminders
from tests.safety.conftest import START, TODAY
from thalimon.history import save_with_history
from therapy import actions as therapy_actions
from therapy.models import Prescription

pytestmark = pytest.mark.django_db


def _prescribe(patient, clinician, issue_day, *, dispensed_day=None, days=28):
    """A stored prescription (issue and dispensed dates as days of the course)."""
    row = Prescription(
        patient=patient, issue_date=START + timedelta(days=issue_day), dose_mg=Decimal("25"),
        days_supply=days, contraception_confirmed=True,
        dispensed_date=None if dispensed_day is None else START + timedelta(days=dispensed_day),
    )
    save_with_history(row, clinician)
    return row


@pytest.fixture
def man_on_thalidomide(make_patient, clinician, nurse):
    """A man on thalidomide 25 mg from day 0 (40 days ago), prescribed on day 0 (dispensed
    the same day, 28 days): run-out day 28 (12 days ago), due day 21 — overdue."""
    clinician.email, nurse.email = "carla@clinic.test", "noor@clinic.test"
    clinician.save(), nurse.save()
    with rescans_deferred():
        patient = make_patient(code="RXS-0001", sex="M", responsible_clinician=clinician, responsible_nurse=nurse)
        therapy_actions.dose_change_record(actor=clinician, patient=patient, drug="thalidomide", date=START,
                                           dose_mg=Decimal("25"), historical=True)
        _prescribe(patient, clinician, 0, dispensed_day=0)
    return patient


def _open(kind="prescription_due"):
    return list(Reminder.objects.filter(kind=kind, state__in=["open", "acknowledged"]).values_list("due", flat=True))


def test_the_scan_stores_it_and_the_next_prescription_resolves_it(man_on_thalidomide, clinician):
    scan_reminders(as_of=TODAY)
    reminder = Reminder.objects.get(kind="prescription_due")
    # Day 0 + 28 = run-out day 28; due day 21; overdue (day 28 < today, day 40): escalated.
    assert reminder.due == START + timedelta(days=21)
    assert reminder.action == "prescription"
    assert reminder.escalated_to == clinician
    assert f"run out on {START + timedelta(days=28):%Y-%m-%d}" in reminder.reason
    # The next prescription, issued and dispensed on day 28: run-out day 56, due day 49.
    _prescribe(man_on_thalidomide, clinician, 28, dispensed_day=28)
    report = scan_reminders(as_of=TODAY)
    assert report.resolved == 1 and report.created == 1
    reminder.refresh_from_db()
    assert reminder.state == "auto_resolved"
    assert reminder.completion_note.startswith("Resolved by the data: a new prescription moved the run-out date")
    assert _open() == [START + timedelta(days=49)]
    # Stopping thalidomide ends it.
    therapy_actions.dose_change_record(actor=clinician, patient=man_on_thalidomide, drug="thalidomide",
                                       date=TODAY, dose_mg=Decimal("0"), historical=True)
    scan_reminders(as_of=TODAY)
    assert _open() == []


def test_the_dry_run_command_lists_it(man_on_thalidomide):
    out = StringIO()
    call_command("scan_reminders", "--as-of", TODAY.isoformat(), "--dry-run", "--format", "json", stdout=out)
    rows = [r for r in json.loads(out.getvalue()) if r["kind"] == "prescription_due"]
    assert rows == [{"patient": "RXS-0001", "kind": "prescription_due",
                     "due": (START + timedelta(days=21)).isoformat(), "overdue": True, "subject": ""}]
    assert not Reminder.objects.exists()


def test_inbox_patient_page_and_digest_name_it(client, man_on_thalidomide, clinician, nurse):
    scan_reminders(as_of=TODAY)
    client.force_login(clinician)
    response = client.get(reverse("safety:inbox"))
    row = next(r for rows in response.context["sections"].values() for r in rows if r.kind == "prescription_due")
    assert row.link == reverse("therapy:prescription_new", args=["RXS-0001"])
    page = response.content.decode()
    assert "Prescription due" in page and "Write the prescription" in page
    # A nurse does not prescribe: she is sent to the patient page.
    client.force_login(nurse)
    sections = client.get(reverse("safety:inbox")).context["sections"]
    row = next(r for rows in sections.values() for r in rows if r.kind == "prescription_due")
    assert row.link == reverse("patients:detail", args=["RXS-0001"])
    patient_page = client.get(reverse("patients:detail", args=["RXS-0001"])).content.decode()
    assert "Prescription due" in patient_page
    mail.outbox = []
    send_digests(as_of=TODAY)
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "Prescription due" in bodies["noor@clinic.test"]  # the patient's nurse: every due reminder
    assert "Prescription due" in bodies["carla@clinic.test"]  # escalated to the clinician (overdue)


def test_scan_queries_do_not_grow_with_patients(make_patient, clinician):
    def add(n, offset):
        with rescans_deferred():
            for i in range(n):
                patient = make_patient(code=f"RXQ-{offset + i:04d}", sex="M")
                therapy_actions.dose_change_record(actor=clinician, patient=patient, drug="thalidomide",
                                                   date=START, dose_mg=Decimal("25"), historical=True)
                _prescribe(patient, clinician, 0, dispensed_day=0)

    add(3, 0)
    with CaptureQueriesContext(connection) as few:
        scan_reminders(as_of=TODAY)
    add(30, 100)
    with CaptureQueriesContext(connection) as many:
        scan_reminders(as_of=TODAY)
    assert Reminder.objects.filter(kind="prescription_due").count() == 33
    assert len(few) == len(many)
