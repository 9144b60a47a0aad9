"""Reminders and alerts carry their patient's site (issue 18, ``safety.models.OfPatientSite``):
a copy, always equal to the patient's, so that a site user's badge, inbox and counts filter on
the row's own site. Every path that creates rows sets it (the scan, a visit's or a lab's R4.4
alerts, the import's COPY, a plain save or bulk_create), a transfer moves every row of the
patient, and the migration fills the existing rows (and their history) from the patient."""

import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from tests.conftest import main_site, site, valid_patient_fields
from tests.reports.test_datasheet import _rewrite
from tests.safety.conftest import woman_on_thalidomide  # noqa: F401  (a shared fixture)
from thalimon.roles import CLINICIAN

TODAY = timezone.localdate()
EXAMPLE = Path(__file__).resolve().parent / "fixtures" / "example_datasheet"


def _out_of_step():
    """The reminders and alerts whose site is not their patient's (one query each)."""
    from safety.models import Alert, Reminder

    return (Reminder.objects.exclude(site_id=F("patient__site_id")).count(),
            Alert.objects.exclude(site_id=F("patient__site_id")).count())


@pytest.mark.django_db
def test_every_reminder_and_alert_carries_its_patients_site(woman_on_thalidomide, clinician, make_user,  # noqa: F811
                                                            tmp_path):
    from patients.actions import patient_transfer
    from patients.models import Patient
    from reports.datasheet import import_datasheet
    from safety.actions import rescans_deferred
    from safety.models import URGENT_TIERS, Alert, Reminder
    from safety.scan import scan_reminders
    from visits.actions import lab_results_record, visit_record

    woman, main, east = woman_on_thalidomide, main_site(), site("EAST")
    # A visit raising an R4.4 alert (bradycardia on thalidomide) and, left to the nightly scan,
    # an urgent event (grade 3 neuropathy on thalidomide).
    with rescans_deferred():
        visit_record(actor=clinician, patient=woman, date=TODAY, heart_rate=45, neuropathy_grade=3)
    assert Alert.objects.filter(patient=woman, kind="bradycardia").exists()
    assert not Alert.objects.filter(patient=woman, tier__in=URGENT_TIERS).exists()
    scan_reminders(as_of=TODAY)
    assert Reminder.objects.filter(patient=woman).exists()
    assert Alert.objects.filter(patient=woman, tier__in=URGENT_TIERS).exists()
    assert _out_of_step() == (0, 0)
    # A lab result raising an alert.
    lab_results_record(actor=clinician, patient=woman, date=TODAY, lab_values={"wbc": "2.5"})
    assert Alert.objects.filter(patient=woman, kind="lab").exists()
    assert _out_of_step() == (0, 0)

    # An import by a user of EAST: new patients at EAST, their alerts written by COPY, their
    # reminders by the scan at the end; then a changed lab row raising an alert of its own.
    importer = make_user(CLINICIAN, sites=["EAST"])
    folder = tmp_path / "datasheet"
    shutil.copytree(EXAMPLE, folder)
    report = import_datasheet(folder, actor=importer)
    assert report.errors == [], [str(e) for e in report.errors]
    imported = Patient.objects.filter(code__startswith="EX")
    assert set(imported.values_list("site_id", flat=True)) == {east.pk}
    assert Alert.objects.filter(patient__in=imported).exists() and Reminder.objects.filter(patient__in=imported).exists()
    assert _out_of_step() == (0, 0)

    def lower_wbc(rows):
        next(r for r in rows if (r["patient"], r["date"], r["test"]) == ("EX01", "2021-02-01", "wbc"))["value"] = "2.0"

    _rewrite(folder / "labs.csv", lower_wbc)
    alerts_before = Alert.objects.filter(patient__code="EX01").count()
    report = import_datasheet(folder, actor=importer)
    assert report.errors == [], [str(e) for e in report.errors]
    assert Alert.objects.filter(patient__code="EX01").count() == alerts_before + 1
    assert _out_of_step() == (0, 0)

    # A transfer: every one of her rows goes to EAST with her, and the invariant holds.
    patient_transfer(actor=clinician, patient=woman, to_site=east, date=TODAY, reason="Moved house")
    assert _out_of_step() == (0, 0)
    for model in (Reminder, Alert):
        assert set(model.objects.filter(patient=woman).values_list("site_id", flat=True)) == {east.pk}
    assert Alert.objects.filter(patient__site=main).count() == Alert.objects.filter(site=main).count() == 0


@pytest.mark.django_db
def test_a_save_and_a_bulk_create_fill_the_site_from_the_patient(make_patient, django_assert_num_queries):
    from patients.actions import patient_create
    from safety.models import Alert, Reminder, with_patient_site

    east = patient_create(actor=None, **valid_patient_fields(code="ST-001", site=site("EAST")))
    main = make_patient(code="ST-002")
    reminder = Reminder.objects.create(patient=east, kind="visit_due", due=TODAY, reason="r")
    assert reminder.site_id == east.site_id
    alert = Alert.objects.create(patient_id=main.pk, kind="lab", tier="review", source="lab:1", date=TODAY,
                                 rule="R4.4", reason="r")  # an id only: the site is read
    assert Alert.objects.get(pk=alert.pk).site_id == main.site_id
    Reminder.objects.bulk_create([Reminder(patient_id=pk, kind="blood_test_due", due=TODAY, reason="r")
                                  for pk in (east.pk, main.pk)])
    assert dict(Reminder.objects.filter(kind="blood_test_due").values_list("patient_id", "site_id")) == {
        east.pk: east.site_id, main.pk: main.site_id}
    # The patients at hand (the scan's batch) or loaded on the rows: no query; ids only: one for all.
    rows = [Reminder(patient_id=east.pk), Reminder(patient=main)]
    with django_assert_num_queries(0):
        with_patient_site(rows, [east])
    assert [r.site_id for r in rows] == [east.site_id, main.site_id]
    rows = [Reminder(patient_id=east.pk), Reminder(patient_id=main.pk)]
    with django_assert_num_queries(1):
        with_patient_site(rows)
    assert [r.site_id for r in rows] == [east.site_id, main.site_id]
    assert _out_of_step() == (0, 0)


@pytest.mark.django_db
def test_a_new_alert_of_a_web_write_takes_the_site_of_the_locked_row(make_patient, clinician):
    """The request read the patient at MAIN; a transfer committed before the action locked the
    row: the new alert goes to where the patient is now, not where the request saw them."""
    from patients.models import Patient
    from safety.models import Alert
    from therapy import actions as therapy_actions
    from visits.actions import lab_results_record

    patient = make_patient(code="ST-010")
    therapy_actions.dose_change_record(actor=clinician, patient=patient, drug="azathioprine",
                                       date=TODAY - timedelta(days=30), dose_mg=Decimal("150"), historical=True)
    seen = Patient.objects.get(pk=patient.pk)  # the request's patient object, read at MAIN
    Patient.objects.filter(pk=patient.pk).update(site=site("EAST"))  # moved meanwhile (as a transfer does)
    lab_results_record(actor=clinician, patient=seen, date=TODAY, lab_values={"platelets": "80"})
    assert Alert.objects.get(patient=patient).site == site("EAST")


def test_the_migration_fills_the_site_of_rows_and_history_from_the_patient(transactional_db):
    """Forward from the schema before the column: every reminder and alert, and every history
    row of them, gets its patient's site (one UPDATE a table); then the column is required."""
    from django.db.migrations.executor import MigrationExecutor

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    latest = executor.loader.graph.leaf_nodes()
    old = migrate([*(node for node in latest if node[0] != "safety"), ("safety", "0010_scan_runs")])
    Site, Patient = old.get_model("sites", "Site"), old.get_model("patients", "Patient")
    east = Site.objects.create(code="EAST", name="East clinic")
    main, _ = Site.objects.get_or_create(code="MAIN", defaults={"name": "Main clinic"})
    patients = {
        s.code: Patient.objects.create(code=f"MIG-{s.code}", sex="M", birth_date=date(1990, 1, 1), diagnosis="UC",
                                       tpmt="normal", nudt15="normal", site=s)
        for s in (main, east)
    }
    for code, patient in patients.items():
        reminder = old.get_model("safety", "Reminder").objects.create(
            patient=patient, kind="visit_due", due=date(2026, 1, 5), reason="r", state="open")
        old.get_model("safety", "HistoricalReminder").objects.create(
            id=reminder.pk, patient_id=patient.pk, kind="visit_due", due=date(2026, 1, 5), reason="r", state="open",
            created_at="2026-01-04T10:00:00Z", history_date="2026-01-04T10:00:00Z", history_type="+")
        alert = old.get_model("safety", "Alert").objects.create(
            patient=patient, kind="lab", tier="review", source=f"lab:{code}", date=date(2026, 1, 5), rule="R4.4",
            reason="r")
        old.get_model("safety", "HistoricalAlert").objects.create(
            id=alert.pk, patient_id=patient.pk, kind="lab", tier="review", source=f"lab:{code}",
            date=date(2026, 1, 5), rule="R4.4", reason="r", created_at="2026-01-04T10:00:00Z",
            history_date="2026-01-04T10:00:00Z", history_type="+")
    migrate(latest)

    from safety.models import Alert, Reminder

    for model in (Reminder, Alert):
        assert dict(model.objects.values_list("patient__code", "site__code")) == {"MIG-MAIN": "MAIN", "MIG-EAST": "EAST"}
        assert not model.history.filter(site__isnull=True).exists()
        assert not model.history.exclude(site_id=F("patient__site_id")).exists()
    assert _out_of_step() == (0, 0)
    with connection.cursor() as cursor:  # required now
        cursor.execute("SELECT is_nullable FROM information_schema.columns WHERE table_name = %s "
                       "AND column_name = 'site_id'", [Reminder._meta.db_table])
        assert cursor.fetchone() == ("NO",)


@pytest.mark.django_db
def test_a_scan_batch_stores_its_rows_at_the_site_the_patient_has_when_it_stores_them(
        woman_on_thalidomide, clinician, monkeypatch):  # noqa: F811
    """A transfer that commits after the scan read a batch and before it stored it: the batch's
    rows carry the site as it is when they are stored (the batch locks its patients' rows and
    reads their site in its transaction), never the site read with the batch."""
    from patients.models import Patient
    from safety import scan
    from safety.actions import rescans_deferred
    from safety.models import URGENT_TIERS, Alert, Reminder
    from visits.actions import visit_record

    woman, east = woman_on_thalidomide, site("EAST")
    with rescans_deferred():  # the urgent event (grade 3 neuropathy) left to the scan
        visit_record(actor=clinician, patient=woman, date=TODAY, neuropathy_grade=3)
    real_records = scan.patient_records

    def read_then_transferred(**kwargs):
        for batch in real_records(**kwargs):
            Patient.objects.filter(pk=woman.pk).update(site=east)  # committed after the read
            yield batch

    monkeypatch.setattr(scan, "patient_records", read_then_transferred)
    before = set(Reminder.objects.values_list("pk", flat=True)), set(Alert.objects.values_list("pk", flat=True))
    scan.scan_reminders(as_of=TODAY, patient_ids=[woman.pk])
    new_reminders = Reminder.objects.filter(patient=woman).exclude(pk__in=before[0])
    new_alerts = Alert.objects.filter(patient=woman, tier__in=URGENT_TIERS).exclude(pk__in=before[1])
    assert new_reminders.exists() and new_alerts.exists()
    assert set(new_reminders.values_list("site__code", flat=True)) == {"EAST"}
    assert set(new_alerts.values_list("site__code", flat=True)) == {"EAST"}


@pytest.mark.django_db
def test_an_imports_new_rows_follow_a_patient_transferred_while_it_ran(make_user, tmp_path, monkeypatch):
    """A transfer that commits after the import read its patients and before it wrote their
    rows: the import's new alerts (by COPY and by the web path's refresh) and reminders of
    that patient end at the site the patient has when the import commits, in that site's
    inbox, never at the site read with the batch (``safety.actions.sites_follow_patients``)."""
    from patients.models import Patient
    from reports.datasheet import import_datasheet, importing
    from safety.models import Alert, Reminder

    main, east = main_site(), site("EAST")
    importer = make_user(CLINICIAN, sites=["EAST"])
    folder = tmp_path / "datasheet"
    shutil.copytree(EXAMPLE, folder)
    assert import_datasheet(folder, actor=importer).errors == []
    ex01 = Patient.objects.get(code="EX01")
    assert ex01.site_id == east.pk

    def changes(rows):  # a changed WBC (the refresh path) and a new one (COPY), both alerts
        next(r for r in rows if (r["patient"], r["date"], r["test"]) == ("EX01", "2021-02-01", "wbc"))["value"] = "2.0"
        rows.append({**next(r for r in rows if r["patient"] == "EX01" and r["test"] == "wbc"),
                     "date": "2021-03-15", "value": "2.1"})

    _rewrite(folder / "labs.csv", changes)
    real_write = importing.write_plan

    def transferred_then_written(plan):
        # What patients.actions.patient_transfer commits: the patient and its rows at MAIN.
        Patient.objects.filter(pk=ex01.pk).update(site=main)
        Reminder.objects.filter(patient=ex01).update(site=main)
        Alert.objects.filter(patient=ex01).update(site=main)
        return real_write(plan)

    monkeypatch.setattr(importing, "write_plan", transferred_then_written)
    before = set(Alert.objects.filter(patient=ex01).values_list("pk", flat=True))
    report = import_datasheet(folder, actor=importer)
    assert report.errors == [], [str(e) for e in report.errors]
    new_alerts = Alert.objects.filter(patient=ex01).exclude(pk__in=before)
    assert new_alerts.filter(kind="lab").count() >= 1
    assert set(Alert.objects.filter(patient=ex01).values_list("site_id", flat=True)) == {main.pk}
    assert set(Reminder.objects.filter(patient=ex01).values_list("site_id", flat=True)) == {main.pk}
    assert _out_of_step() == (0, 0)
