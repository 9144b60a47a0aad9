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
        from safety.selectors import due_reminder_count

        context["due_reminders"] = due_reminder_count()
    return context


def patient_for(request, code, *, perm="patients.view_patient"):
    """Fetch one patient the user may see, or 404/403.

    Every view that shows or edits one patient fetches it here, so that an
    object-level restriction (care team only) can be added in one place.
    """
    from patients.models import Patient

    if not request.user.has_perm(perm):
        raise PermissionDenied("Your role does not allow this page.")
    return get_object_or_404(
        Patient.objects.select_related("responsible_clinician", "responsible_nurse", "course"),
        code=code,
    )
