"""Queued work for the admin: what is late, and why (read only)."""

from django.contrib import admin
from django.utils import timezone

from outbox.actions import LATE_AFTER
from outbox.models import OutboxMessage
from thalimon.admin_util import ReadOnlyAdmin


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("late", f"Late (waiting more than {int(LATE_AFTER.total_seconds() // 60)} min)"),
                ("waiting", "Waiting"), ("delivered", "Delivered")]

    def queryset(self, request, queryset):
        if self.value() == "late":
            return queryset.filter(delivered_at__isnull=True, created_at__lt=timezone.now() - LATE_AFTER)
        if self.value() == "waiting":
            return queryset.filter(delivered_at__isnull=True)
        if self.value() == "delivered":
            return queryset.filter(delivered_at__isnull=False)
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("key", "task", "created_at", "attempts", "last_error", "next_attempt_at", "delivered_at")
    list_filter = (StateFilter,)
    ordering = ("-created_at",)
