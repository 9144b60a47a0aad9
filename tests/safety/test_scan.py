"""The reminder scan: stores, auto-resolves, escalates; idempotent, also under
concurrency on PostgreSQL; a failed batch leaves reminders as they were; the
command prints exactly what R7 says."""

import json
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from safety.actions import rescans_deferred
from safety.models import Reminder
from safety.scan import scan_reminders
from tests.safety.conftest import START, TODAY
from therapy import actions as therapy_actions

pytestmark = pytest.mark.django_db


def _rows():
    return sorted(Reminder.objects.values_list("patient__code", "kind", "due", "subject", "state"))


def test_scan_stores_the_missing_day_28_test_as_overdue_and_escalates(on_thalidomide, clinician):
    report = scan_reminders(as_of=TODAY)
    reminder = Reminder.objects.get(kind="pregnancy_test_due")
    # R5.2: last negative test day 21 < day 28 → interval 7 → due day 28 = 12 days ago;
    # due + 7 < today → overdue, escalated to the patient's clinician (R7).
    assert reminder.due == START + timedelta(days=28)
    assert reminder.escalated_to == clinician and reminder.escalated_at
    assert any(r.kind == "pregnancy_test_due" for r in report.due)


def test_scan_twice_changes_nothing(on_thalidomide):
    scan_reminders(as_of=TODAY)
    first = _rows()
    second_report = scan_reminders(as_of=TODAY)
    assert _rows() == first
    assert second_report.created == 0 and second_report.resolved == 0


def test_recording_the_test_auto_resolves_and_schedules_the_next(on_thalidomide, nurse):
    scan_reminders(as_of=TODAY)
    # The action rescans the patient in its own transaction: resolved at once, no wait for a scan.
    therapy_actions.pregnancy_test_record(actor=nurse, patient=on_thalidomide, date=TODAY, result="negative")
    resolved = Reminder.objects.get(kind="pregnancy_test_due", due=START + timedelta(days=28))
    assert resolved.completion_note.startswith("Resolved by the data: a pregnancy test was recorded")
    assert scan_reminders(as_of=TODAY).resolved == 0  # nothing left for the nightly scan
    states = dict(
        Reminder.objects.filter(kind="pregnancy_test_due").values_list("due", "state")
    )
    # Test on day 40 (≥ 28): interval 14, cycles unknown = irregular (R5.2) → due day 54.
    assert states == {START + timedelta(days=28): "auto_resolved", START + timedelta(days=54): "open"}


def test_dry_run_changes_nothing(on_thalidomide):
    report = scan_reminders(as_of=TODAY, dry_run=True)
    assert report.due and not Reminder.objects.exists()


def test_a_failed_batch_leaves_that_patients_reminders_as_they_were(on_thalidomide, make_patient, monkeypatch):
    from safety import schedule

    scan_reminders(as_of=TODAY)
    before = _rows()
    with rescans_deferred():  # a change the scan below has to pick up
        therapy_actions.pregnancy_test_record(actor=None, patient=on_thalidomide, date=TODAY, result="negative")
    real = schedule.reminders

    def failing(record, as_of):  # a fault in the middle of the scan (not in the code under test)
        if record.patient == "GI-1000":
            raise RuntimeError("disk full")
        return real(record, as_of)

    monkeypatch.setattr(schedule, "reminders", failing)
    with pytest.raises(RuntimeError):
        scan_reminders(as_of=TODAY, batch_size=1)
    assert _rows() == before


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_scans_create_no_duplicates(on_thalidomide, make_patient, clinician):
    assert connection.vendor == "postgresql"
    errors = []
    barrier = threading.Barrier(2)

    def run():
        from django.db import connections

        try:
            barrier.wait()
            scan_reminders(as_of=TODAY)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    keys = list(Reminder.objects.values_list("patient_id", "kind", "due", "subject"))
    assert len(keys) == len(set(keys)) and keys


def test_command_json_lists_due_reminders_sorted(on_thalidomide):
    out = StringIO()
    call_command("scan_reminders", "--as-of", TODAY.isoformat(), "--dry-run", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    assert rows and set(rows[0]) == {"patient", "kind", "due", "overdue", "subject"}
    assert rows == sorted(rows, key=lambda r: (r["patient"], r["kind"], r["due"]))
    assert all(r["due"] <= TODAY.isoformat() for r in rows)
    test_row = next(r for r in rows if r["kind"] == "pregnancy_test_due")
    assert test_row == {
        "patient": "GI-1000", "kind": "pregnancy_test_due",
        "due": (START + timedelta(days=28)).isoformat(), "overdue": True, "subject": "",
    }
    assert not Reminder.objects.exists()


def test_command_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("scan_reminders", "--as-of", "22/11/2026")


def test_scan_queries_do_not_grow_with_patients(make_patient, clinician):
    from datetime import timedelta as td
    from decimal import Decimal

    from django.test.utils import CaptureQueriesContext

    def add(n, offset):
        for i in range(n):
            patient = make_patient(code=f"Q-{offset + i:04d}")
            therapy_actions.dose_change_record(
                actor=clinician, patient=patient, drug="azathioprine", date=TODAY - td(days=30),
                dose_mg=Decimal("100"), historical=True,
            )

    add(3, 0)
    with CaptureQueriesContext(connection) as few:
        scan_reminders(as_of=TODAY)
    add(30, 100)
    with CaptureQueriesContext(connection) as many:
        scan_reminders(as_of=TODAY)
    assert len(few) == len(many)
