"""Sites and memberships in the Django admin, for the Admin role (issue 18).

Sites are listed, added and renamed here; a user's memberships are edited on the
user's page (``MembershipInline`` in ``patients.admin.RoleLimitedUserAdmin``). A
non-superuser admin grants and withdraws only memberships of the sites they are a
member of, and never changes their own (a membership opens patients' records: it is
a privilege, like a role) — except that an admin who adds a site becomes its member
(it has no patients yet) so that they can staff it. Changes are kept in history
(simple_history)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from patients.models import site_ids_of
from sites.models import Membership, Site


@admin.register(Site)
class SiteAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")

    def has_delete_permission(self, request, obj=None):
        return False  # a site holds patients and history: never deleted here

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            # A new site has no patients yet; its creator becomes a member so that they
            # can add its staff (an admin grants only memberships of their own sites).
            Membership.objects.get_or_create(user=request.user, site=obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ()

    def _own(self, request, obj):
        return obj is not None and obj.pk == request.user.pk and not request.user.is_superuser

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("site")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(site_id__in=site_ids_of(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site" and not request.user.is_superuser:
            kwargs["queryset"] = Site.objects.filter(pk__in=site_ids_of(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request, obj=None):
        return not self._own(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._own(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._own(request, obj) and super().has_delete_permission(request, obj)
