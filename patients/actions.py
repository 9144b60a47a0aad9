"""Patient actions: create and edit a patient's record; transfer a patient to another site.

Each is one durable transaction: the write with its history row and acting user,
the derived fields (every visit re-scored and its status re-derived: sex, height
and standard weight enter every CDAI, R1.1; the recorded baseline CDAI drives
every status, R2.1), and one rescan of the patient's reminders queued on commit
(a patient marked died, transferred or lost has none left open).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _lazy

from patients import selectors
from patients.models import Patient, Transfer, site_ids_of
from safety.actions import move_to_site, request_rescan
from sites.models import Membership
from thalimon import saying
from thalimon.concurrency import check_version
from thalimon.history import save_with_history
from thalimon.roles import CLINICIAN, NURSE, ROLE_LABELS
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


MOVE_BY_TRANSFER = _lazy(
    "Site: a patient moves to another site only by a transfer (Transfer on the patient's page), "
    "which keeps both sites' periods of care."
)


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
    if patient.site_id != stored.site_id:
        # One way to move a patient between sites: a transfer, which keeps both sites' periods.
        raise ValidationError({"site": MOVE_BY_TRANSFER})
    _save(patient, actor)
    scores_refresh(patient)
    statuses_refresh(patient)
    request_rescan(patient.pk)
    return patient


# --- transfers between sites (issue 18) ------------------------------------------------------
def _care_team_after(patient, to_site, clinician, nurse, errors):
    """The care team at the destination: the one chosen in the form, else the current one
    where they are members of the destination, else nobody (every member of the destination
    may then work the patient's reminders). A record restricted to the care team keeps its
    restriction and so needs a clinician of the destination, or nobody there could open it."""
    chosen = {"responsible_clinician": (clinician, patient.responsible_clinician_id, CLINICIAN),
              "responsible_nurse": (nurse, patient.responsible_nurse_id, NURSE)}
    user_ids = {user.pk for user, _current, _role in chosen.values() if user is not None}
    user_ids |= {current for _user, current, _role in chosen.values() if current is not None}
    roles = {}  # user id → their roles, for the active members of the destination among them (one query)
    if user_ids:
        for user_id, role in Membership.objects.filter(
            site=to_site, user_id__in=user_ids, user__is_active=True
        ).values_list("user_id", "user__groups__name"):
            roles.setdefault(user_id, set()).add(role)
    team = {}
    for field, (user, current, role) in chosen.items():
        if user is not None:
            if role not in roles.get(user.pk, ()):
                errors[field] = gettext(
                    "%(field)s: %(who)s is not a member of %(site)s with the role %(role)s; choose one of "
                    "the destination site's staff."
                ) % {"field": capfirst(str(Patient._meta.get_field(field).verbose_name)),
                     "who": user.get_full_name() or user.username, "role": ROLE_LABELS[role], "site": to_site.code}
            team[field] = user.pk
        else:
            team[field] = current if role in roles.get(current, ()) else None
    if patient.care_team_only and team["responsible_clinician"] is None and "responsible_clinician" not in errors:
        errors["responsible_clinician"] = gettext(
            "Responsible clinician: the record is restricted to the care team and stays so; choose a "
            "clinician of %(site)s, or nobody there could open it."
        ) % {"site": to_site.code}
    return team


@transaction.atomic
def patient_transfer(*, actor, patient, to_site, date, reason, responsible_clinician=None, responsible_nurse=None):
    """Move ``patient`` to ``to_site`` and record the transfer, in one transaction.

    The patient's row is locked first and read again: the user must still be able to open
    the record at its current site (a transfer recorded meanwhile by someone else is
    refused, never applied twice). The destination may be any other site of the network.
    Everything of the record comes along (visits, doses, history follow ``Patient.site``;
    its reminders and alerts, which carry the site, are moved with it); the care team
    becomes members of the destination (``_care_team_after``); the rescan re-points
    escalated reminders at the new clinician. Every refusal names its field; nothing is
    written unless all pass."""
    locked = Patient.objects.select_for_update(of=("self",)).select_related("site").get(pk=patient.pk)
    if actor is not None and not locked.may_be_opened_by(actor):
        raise ValidationError(gettext(
            "This patient is no longer at one of your sites (another transfer was recorded): nothing was saved."
        ))
    transfer = Transfer(patient=locked, from_site=locked.site, to_site=to_site, date=date,
                        reason=(reason or "").strip(), recorded_by=actor)
    errors = {}
    try:
        transfer.full_clean(exclude=["patient", "from_site", "recorded_by"])
    except ValidationError as refused:
        errors.update(refused.message_dict)
    if date is not None and "date" not in errors:
        previous = (
            Transfer.objects.filter(patient_id=locked.pk).select_related("to_site").order_by("-date", "-pk").first()
        )
        started = selectors.first_care_day(locked)
        if previous is not None and date < previous.date:
            errors["date"] = [gettext(
                "Transfer date: before the patient's previous transfer (%(site)s, %(day)s); a transfer "
                "is recorded on or after it."
            ) % {"site": previous.to_site.code, "day": saying.day(previous.date)}]
        elif started is not None and date < started:
            errors["date"] = [gettext(
                "Transfer date: before the patient's first recorded care (%(day)s)."
            ) % {"day": saying.day(started)}]
    team = _care_team_after(locked, to_site, responsible_clinician, responsible_nurse, errors) if to_site else {}
    if errors:
        raise ValidationError(errors)
    locked.site = to_site
    locked.responsible_clinician_id = team["responsible_clinician"]
    locked.responsible_nurse_id = team["responsible_nurse"]
    _save(locked, actor)
    move_to_site(locked.pk, to_site.pk)  # its reminders and alerts carry its site
    save_with_history(transfer, actor)
    request_rescan(locked.pk)
    patient.site, patient.version = locked.site, locked.version
    patient.responsible_clinician_id, patient.responsible_nurse_id = team["responsible_clinician"], team[
        "responsible_nurse"]
    return transfer
