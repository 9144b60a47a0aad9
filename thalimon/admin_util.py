"""Generic admin plumbing."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin page that shows rows and changes none (records kept by the app itself)."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
