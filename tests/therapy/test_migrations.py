"""The therapy models moved from patients, visits and safety with their tables kept:
the migrations run forwards on a database that already holds courses, doses, tests
and their history, and nothing is lost (rows, history, the roles' permissions)."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_THE_MOVE = [
    ("patients", "0009_search_trigram"),
    ("visits", "0004_edit_version"),
    ("safety", "0003_reminder_open_by_due"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_rows_history_and_permissions():
    old = _migrate(BEFORE_THE_MOVE)
    patient = old.get_model("patients", "Patient").objects.create(
        code="MIG-001", full_name="Ada Fictional", sex="F", birth_date=date(1990, 1, 1), height_cm=165,
        diagnosis="CD", tpmt="normal", nudt15="normal",
    )
    old.get_model("patients", "TherapyCourse").objects.create(
        patient_id=patient.pk, start_date=date(2026, 1, 5), target_dose_mg=Decimal("100")
    )
    old.get_model("visits", "DoseChange").objects.create(
        patient_id=patient.pk, drug="thalidomide", date=date(2026, 1, 5), dose_mg=Decimal("25")
    )
    test = old.get_model("safety", "PregnancyTest").objects.create(
        patient_id=patient.pk, date=date(2026, 1, 4), result="negative"
    )
    old.get_model("safety", "HistoricalPregnancyTest").objects.create(
        id=test.pk, patient_id=patient.pk, date=date(2026, 1, 4), result="negative",
        history_date="2026-01-04T10:00:00Z", history_type="+", created_at="2026-01-04T10:00:00Z",
    )
    clinician = Group.objects.get(name="Clinician")
    granted_before = set(clinician.permissions.filter(codename="add_dosechange").values_list("pk", flat=True))

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    _migrate(executor.loader.graph.leaf_nodes())

    from therapy.models import DoseChange, PregnancyTest, TherapyCourse

    assert TherapyCourse.objects.get(patient__code="MIG-001").target_dose_mg == Decimal("100")
    assert DoseChange.objects.get(patient__code="MIG-001").dose_mg == Decimal("25")
    test = PregnancyTest.objects.get(patient__code="MIG-001")
    assert test.result == "negative" and test.history.count() == 1
    moved = Permission.objects.get(codename="add_dosechange")
    assert moved.content_type.app_label == "therapy"
    assert moved.pk in granted_before  # the same permission row: the role keeps it
    assert clinician.permissions.filter(pk=moved.pk).exists()
