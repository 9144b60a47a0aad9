"""Object-level access to one patient's record, for every per-patient view.

``patient_view(permission)`` is the one decorator: login, then the role's
permission, then the object rule (``Patient.may_be_opened_by``: a patient of a site
the user is not a member of is no patient — 404; a record restricted to the care team
opens for its responsible clinician and nurse only — 403). The permission is written once
per view; the access-matrix test reads it from ``view.required_permissions``.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from patients.models import Patient, site_ids_of

CODE_MAX_LENGTH = Patient._meta.get_field("code").max_length
ROLE_REFUSED_MESSAGE = _("Your role does not allow this page.")
CARE_TEAM_ONLY_MESSAGE = _(
    "This patient's record is restricted to the care team (the responsible clinician and nurse)."
)


def patient_for(request, code, *, perm="patients.view_patient"):
    """One patient ``request.user`` may open with ``perm``, or 404/403 (role, then object)."""
    if not request.user.has_perm(perm):
        raise PermissionDenied(ROLE_REFUSED_MESSAGE)
    if "\x00" in code or len(code) > CODE_MAX_LENGTH:
        raise Http404(_("No such patient."))  # a malformed code is no patient (never a database error)
    patient = get_object_or_404(
        Patient.objects.select_related("responsible_clinician", "responsible_nurse", "course", "site"), code=code
    )
    if patient.site_id not in site_ids_of(request.user):
        # Another site's patient (issue 18) is, for this user, no patient at all: not even
        # its existence is told.
        raise Http404(_("No such patient."))
    if not patient.may_be_opened_by(request.user):
        raise PermissionDenied(CARE_TEAM_ONLY_MESSAGE)
    return patient


def record_for(request, model, pk, *, perm):
    """One row of a patient's record (a visit, an endoscopy, an adverse event …) whose
    patient ``request.user`` may open with ``perm``, or 404/403 (role, then object)."""
    if not request.user.has_perm(perm):
        raise PermissionDenied(ROLE_REFUSED_MESSAGE)
    row = get_object_or_404(model.objects.select_related("patient"), pk=pk)
    row.patient = patient_for(request, row.patient.code, perm=perm)
    return row


def patient_view(permission, *, record=None):
    """Decorate a view of one patient's record.

    Without ``record`` the URL carries the patient's ``code`` and the view is called
    as ``view(request, patient, **kwargs)``; with ``record=Model`` the URL carries the
    row's ``pk`` and the view is called as ``view(request, row, **kwargs)``.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if record is None:
                target = patient_for(request, kwargs.pop("code"), perm=permission)
            else:
                target = record_for(request, record, kwargs.pop("pk"), perm=permission)
            # Every page of a patient shows that patient's open urgent events (base.html).
            request.patient = target if record is None else target.patient
            return view(request, target, *args, **kwargs)

        protected = login_required(wrapped)
        protected.required_permissions = (permission,)
        return protected

    return decorator
