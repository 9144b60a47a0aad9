"""Patient actions: create and edit a patient's record.

Each is one durable transaction: the write with its history row and acting user,
the derived fields (every visit re-scored and its status re-derived: sex, height
and standard weight enter every CDAI, R1.1; the recorded baseline CDAI drives
every status, R2.1), and one rescan of the patient's reminders queued on commit
(a patient marked died, transferred or lost has none left open).
"""

from django.db import transaction

from patients.models import Patient
from safety.actions import request_rescan
from thalimon.concurrency import check_version
from thalimon.history import save_with_history
from visits.actions import scores_refresh, statuses_refresh


def _save(patient, actor):
    patient.full_clean()
    if patient.pk:
        patient.version += 1
    return save_with_history(patient, actor)


@transaction.atomic
def patient_create(*, actor, **fields):
    patient = _save(Patient(**fields), actor)
    request_rescan(patient.pk)
    return patient


@transaction.atomic
def patient_update(*, actor, patient, expected_version=None, **fields):
    # Optimistic locking: refused if someone saved the patient since it was read.
    patient.version = check_version(Patient, patient.pk, expected_version).version
    for name, value in fields.items():
        setattr(patient, name, value)
    _save(patient, actor)
    scores_refresh(patient)
    statuses_refresh(patient)
    request_rescan(patient.pk)
    return patient
