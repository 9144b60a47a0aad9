"""The daily digest's deliveries and the fanned-out scan's runs for the admin: what failed
or is late, and why (read only).

The rest of safety (adverse events, alerts, reminders) is clinical data and stays in the
app's own pages (see patients/admin.py); a delivery row holds a user, a day and the class
of the last SMTP fault, nothing about patients.
"""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone

from safety.models import DigestDelivery, DigestState, ScanChunkState, ScanRun
from thalimon.admin_util import ReadOnlyAdmin


class DeliveryFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("unsent", "Not sent (failed or sending)"), ("late", "Retry overdue")]

    def queryset(self, request, queryset):
        unsent = queryset.filter(state__in=[DigestState.FAILED, DigestState.SENDING])
        if self.value() == "unsent":
            return unsent
        if self.value() == "late":
            return unsent.filter(next_attempt_at__lt=timezone.now())
        return queryset


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("day", "user", "state", "attempts", "last_error", "next_attempt_at", "sent_at")
    list_filter = (DeliveryFilter, "state", "day")
    list_select_related = ("user",)
    ordering = ("-day", "state", "user")


@admin.register(ScanRun)
class ScanRunAdmin(ReadOnlyAdmin):
    """The fanned-out reminder scans: how many chunks are done, failed, still to run."""

    list_display = ("as_of", "started_at", "finished_at", "patients", "chunks_done", "chunks_failed",
                    "digest_waiting_since")
    list_filter = ("as_of",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            total=Count("chunks"), done=Count("chunks", filter=Q(chunks__state=ScanChunkState.DONE)),
            failed=Count("chunks", filter=Q(chunks__state=ScanChunkState.FAILED)),
        )

    @admin.display(description="Chunks done")
    def chunks_done(self, run):
        return f"{run.done} of {run.total}"

    @admin.display(description="Chunks failed (retries exhausted)")
    def chunks_failed(self, run):
        return run.failed
