"""Patient actions: create and edit a patient's record.

Each is one durable transaction: the write with its history row and acting user,
the derived fields (every visit re-scored and its status re-derived: sex, height
and standard weight enter every CDAI, R1.1; the recorded baseline CDAI drives
every status, R2.1), and one rescan of the patient's reminders queued on commit
(a patient marked died, transferred or lost has none left open).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from patients.models import Patient, site_ids_of
from safety.actions import request_rescan
from thalimon.concurrency import check_version
from thalimon.history import save_with_history
from visits.actions import scores_refresh, statuses_refresh


def _save(patient, actor):
    patient.full_clean()
    if patient.pk:
        patient.version += 1
    return save_with_history(patient, actor)


def _check_site(actor, site_id):
    """A user creates or moves a patient only into a site they are a member of (the
    system, ``actor`` None — seed, command-line import — into any)."""
    if actor is None or site_id is None:
        return
    if site_id not in site_ids_of(actor):
        raise ValidationError({"site": gettext("Site: you are not a member of this site; choose one of your sites.")})


def default_site_id(actor):
    """The user's only site, or None (no site, or several: they must choose)."""
    ids = site_ids_of(actor) if actor is not None else []
    return ids[0] if len(ids) == 1 else None


@transaction.atomic
def patient_create(*, actor, **fields):
    if fields.get("site") is None and fields.get("site_id") is None:
        fields.pop("site", None)
        fields["site_id"] = default_site_id(actor)
        if fields["site_id"] is None:
            raise ValidationError({"site": gettext(
                "Site: required; choose the site that treats the patient (you are a member of several, or of none)."
            )})
    patient = Patient(**fields)
    _check_site(actor, patient.site_id)
    patient = _save(patient, actor)
    request_rescan(patient.pk)
    return patient


@transaction.atomic
def patient_update(*, actor, patient, expected_version=None, **fields):
    # Optimistic locking: refused if someone saved the patient since it was read.
    stored = check_version(Patient, patient.pk, expected_version)
    patient.version = stored.version
    for name, value in fields.items():
        setattr(patient, name, value)
    if patient.site_id != stored.site_id:  # a move: only into one of the user's sites
        _check_site(actor, patient.site_id)
    _save(patient, actor)
    scores_refresh(patient)
    statuses_refresh(patient)
    request_rescan(patient.pk)
    return patient
