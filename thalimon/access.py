"""Role checks for views (the project's plumbing; it knows no app).

Roles are Django groups; what each may do is the permission map in
``thalimon/roles.py``. A view declares the permission it needs with
``@require_permission`` (or, for one patient's record, ``patients.access.patient_view``);
the decorator makes the login requirement explicit (LoginRequiredMiddleware also
enforces it), answers 403 to a logged-in user without the permission, and records
the permission on the view so that the access-matrix test can check that no view
was added without one.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from thalimon.auth_backends import role_names
from thalimon.roles import ROLE_LABELS, ROLE_ORDER


def require_permission(*perms):
    """Decorate a view: login required, then every permission in ``perms``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perms(perms):
                raise PermissionDenied(_("Your role does not allow this page."))
            return view(request, *args, **kwargs)

        protected = login_required(wrapped)
        protected.required_permissions = tuple(perms)
        return protected

    return decorator


def user_roles(user):
    """The names of the user's roles, in a fixed order."""
    if not user.is_authenticated:
        return []
    names = role_names(user)
    return [role for role in ROLE_ORDER if role in names]


def roles_context(request):
    """Template context: the user's roles, for the navigation bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": [], "user_role_labels": []}
    roles = user_roles(user)
    return {"user_roles": roles, "user_role_labels": [ROLE_LABELS.get(role, role) for role in roles]}
