"""The one access helper every view goes through (DESIGN.md rule 6).

Roles are Django groups; what each may do is the permission map in
``thalimon/roles.py``.  A view declares the permission it needs with
``@require_permission``; the decorator makes the login requirement explicit
(LoginRequiredMiddleware also enforces it), answers 403 to a logged-in user
without the permission, and records the decision on the view so that the
access-matrix test can check that no view was added without one.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from thalimon.roles import ROLE_ORDER


def require_permission(*perms):
    """Decorate a view: login required, then every permission in ``perms``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perms(perms):
                raise PermissionDenied("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        protected = login_required(wrapped)
        protected.required_permissions = tuple(perms)
        return protected

    return decorator


def user_roles(user):
    """The names of the user's roles, in a fixed order."""
    if not user.is_authenticated:
        return []
    names = {group.name for group in user.groups.all()}
    return [role for role in ROLE_ORDER if role in names]


def roles_context(request):
    """Template context: the user's roles and the count of due reminders, for the navigation bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": []}
    context = {"user_roles": user_roles(user)}
    if user.has_perm("safety.view_reminder"):
        from safety.selectors import due_reminder_count_for

        context["due_reminders"] = due_reminder_count_for(request)
    return context


CARE_TEAM_ONLY_MESSAGE = (
    "This patient's record is restricted to the care team (the responsible clinician and nurse)."
)


def patient_for(request, code, *, perm="patients.view_patient"):
    """Fetch one patient the user may see, or 404/403.

    Every view that shows or edits one patient fetches it here: the role's
    permission first, then the object-level rule — a record restricted to the
    care team opens only for its responsible clinician and nurse.
    """
    from patients.models import Patient

    if not request.user.has_perm(perm):
        raise PermissionDenied("Your role does not allow this page.")
    patient = get_object_or_404(
        Patient.objects.select_related("responsible_clinician", "responsible_nurse", "course"),
        code=code,
    )
    if not patient.may_be_opened_by(request.user):
        raise PermissionDenied(CARE_TEAM_ONLY_MESSAGE)
    return patient


def hidden_patient_ids(user):
    """A subquery of the patients whose records ``user`` may not open (restricted to a
    care team the user is not in). Lists exclude them with ``patient_id__in``."""
    from patients.models import Patient

    restricted = Patient.objects.filter(care_team_only=True)
    if user.pk is not None:
        restricted = restricted.exclude(responsible_clinician_id=user.pk).exclude(responsible_nurse_id=user.pk)
    return restricted.values("pk")


def visible_patients(user, queryset=None):
    """The patients ``user`` may open, for lists and searches."""
    from patients.models import Patient

    queryset = Patient.objects.all() if queryset is None else queryset
    return queryset.exclude(pk__in=hidden_patient_ids(user))
