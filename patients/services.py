"""Writes to patient records (DESIGN.md rule 2).

Each service validates with ``full_clean()``, writes in one transaction and
records the acting user in the history.
"""

from django.db import transaction

from patients.models import Patient


def _save(patient, actor):
    patient.full_clean()
    patient._history_user = actor
    patient.save()
    return patient


@transaction.atomic
def patient_create(*, actor, **fields):
    return _save(Patient(**fields), actor)


@transaction.atomic
def patient_update(*, actor, patient, **fields):
    for name, value in fields.items():
        setattr(patient, name, value)
    return _save(patient, actor)
