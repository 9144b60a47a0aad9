"""Queued work for the admin: what waits for the broker, since when, and why (read only)."""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

from outbox.actions import LATE_AFTER
from outbox.models import OutboxMessage
from thalimon.admin_util import ReadOnlyAdmin

LATE_MINUTES = int(LATE_AFTER.total_seconds() // 60)
# What each task does, in words; the key's first part names what it is about.
DESCRIPTIONS = {
    "safety.tasks.notify_urgent_event": "Urgent email to the responsible clinician",
    "reports.tasks.run_import": "Run a datasheet import",
    "safety.tasks.scan_reminder_chunk": "A chunk of the nightly reminder scan",
    "safety.tasks.send_daily_digests": "The daily digest, after the scan it waited for",
}
LINKS = {"safety.tasks.notify_urgent_event": "safety:alert_detail", "reports.tasks.run_import": "reports:job"}


def _when(moment):
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}" if moment else "—"


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("late", f"Late (waiting more than {LATE_MINUTES} min)"), ("waiting", "Waiting"),
                ("delivered", "Handed to the worker")]

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
    list_display = ("state", "work", "queued", "tries", "next_try", "handed_over")
    list_filter = (StateFilter,)
    ordering = ("delivered_at", "-created_at")  # waiting first (NULLs first on PostgreSQL and SQLite)

    @admin.display(description="State")
    def state(self, message):
        if message.delivered_at:
            return "Handed to the worker"
        if message.created_at < timezone.now() - LATE_AFTER:
            return format_html('<strong style="color:#b02a37">Late</strong> — {}', message.last_error or "waiting")
        return "Waiting" + (f" — {message.last_error}" if message.last_error else "")

    @admin.display(description="Work")
    def work(self, message):
        words = DESCRIPTIONS.get(message.task, message.task)
        try:
            url = reverse(LINKS[message.task], args=message.args[:1])
        except (KeyError, NoReverseMatch):
            return f"{words} ({message.key})"
        return format_html('{} — <a href="{}">{}</a>', words, url, message.key)

    @admin.display(description="Queued", ordering="created_at")
    def queued(self, message):
        return _when(message.created_at)

    @admin.display(description="Tries", ordering="attempts")
    def tries(self, message):
        return message.attempts

    @admin.display(description="Next try")
    def next_try(self, message):
        return "—" if message.delivered_at else _when(message.next_attempt_at)

    @admin.display(description="Handed over", ordering="delivered_at")
    def handed_over(self, message):
        return _when(message.delivered_at)
