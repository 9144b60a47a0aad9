"""Patients are not in the Django admin.

The admin is for user accounts (README, Roles). A patient admin would show every
field — names included — to the Admin role, which may read patients by code only,
and would bypass the care-team restriction of ``thalimon.access.patient_for``.
Patients are read and edited through the app's own pages, which go through it.

User accounts are, through ``RoleLimitedUserAdmin``: a non-superuser admin manages the
accounts of the four roles without being able to raise anyone's privileges, its own
least of all. Their site memberships are edited on the user's page (``sites.admin``).
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sites.admin import MembershipInline
from thalimon.roles import ADMIN_GRANTABLE_ROLES
from thalimon.twofactor import reset_second_factor

User = get_user_model()


class RoleLimitedUserAdmin(UserAdmin):
    """User accounts for the Admin role, without escalation (OWASP ASVS V4).

    A non-superuser admin never sets superuser status or individual permissions, grants
    only the four roles, never changes its own privileges, and neither edits a superuser
    nor changes a superuser's password. The network lead role is a superuser's to grant
    (``thalimon.roles.ADMIN_GRANTABLE_ROLES``). Every refusal is server-side: a field it may not
    change is read-only (the admin ignores it in a POST), an account it may not change
    answers 403. The user's sites are edited on the same page (``sites.admin``)."""

    inlines = [MembershipInline]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "user_permissions"]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        readonly += ["is_superuser", "is_staff", "last_login", "date_joined"]
        if obj is not None and obj.pk == request.user.pk:
            readonly.append("groups")  # never one's own privileges
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ADMIN_GRANTABLE_ROLES)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False  # a superuser's account (and password) is out of reach
        return super().has_change_permission(request, obj)

    actions = ["reset_second_factors"]

    @admin.action(description=_("Reset the second factor (the user enrols again at the next sign-in)"))
    def reset_second_factors(self, request, queryset):
        done = 0
        for user in queryset:
            if user.is_superuser and not request.user.is_superuser:
                continue  # a superuser's sign-in is out of reach
            if reset_second_factor(user):
                self.log_change(request, user, "Second factor reset (the user enrols again at the next sign-in).")
                done += 1
        self.message_user(request, ngettext(
            "Second factor reset for %(count)d account.", "Second factor reset for %(count)d accounts.", done
        ) % {"count": done})

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_superuser or obj.pk == request.user.pk) and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


admin.site.unregister(User)
admin.site.register(User, RoleLimitedUserAdmin)
