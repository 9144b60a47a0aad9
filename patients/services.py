"""Writes to patient records (DESIGN.md rule 2).

Each service validates with ``full_clean()``, writes in one transaction and
records the acting user in the history.
"""

from django.db import transaction

from patients.models import Patient, TherapyCourse
from thalimon.concurrency import check_version
from visits.services import patient_outcomes_refresh, patient_scores_refresh


def _save(patient, actor):
    patient.full_clean()
    patient._history_user = actor
    if patient.pk:
        patient.version += 1
    patient.save()
    return patient


@transaction.atomic
def patient_create(*, actor, **fields):
    return _save(Patient(**fields), actor)


@transaction.atomic
def patient_update(*, actor, patient, expected_version=None, **fields):
    # Optimistic locking: refused if someone saved the patient since it was read.
    patient.version = check_version(Patient, patient.pk, expected_version).version
    for name, value in fields.items():
        setattr(patient, name, value)
    _save(patient, actor)
    # Sex, height and standard weight enter every CDAI (R1.1); the recorded
    # baseline CDAI (R2.1) drives every visit's status.
    patient_scores_refresh(patient, actor=actor)
    patient_outcomes_refresh(patient)
    return patient


@transaction.atomic
def course_save(*, actor, patient, **fields):
    """Create or update the patient's thalidomide course, then re-derive statuses
    (day 0 moves the baseline window and every status)."""
    course = TherapyCourse.objects.filter(patient=patient).first() or TherapyCourse(patient=patient)
    for name, value in fields.items():
        setattr(course, name, value)
    course.full_clean()
    course._history_user = actor
    course.save()
    patient.course = course
    patient_outcomes_refresh(patient)
    return course
