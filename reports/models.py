"""A datasheet upload and its import, worked by a Celery task with progress."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from thalimon.fields import SaidListField


class ImportJob(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting for the worker")
        VALIDATED = "validated", _("Validated, waiting")  # jobs of the earlier upload (checked in the request)
        INVALID = "invalid", _("Refused: errors found")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed, nothing imported")

    file = models.FileField(upload_to="datasheets/")
    original_name = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=State.choices)
    progress = models.PositiveSmallIntegerField(default=0)
    phase = models.CharField(max_length=12, blank=True)  # reading | validating | writing | scanning
    rows_done = models.PositiveBigIntegerField(default=0)  # bytes while reading
    rows_total = models.PositiveBigIntegerField(default=0)
    phase_started_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Which worker process runs it ("host:pid"), its last sign of life and how many runs
    # it has had: a job whose worker died is run again from the start (reports.actions).
    worker = models.CharField(max_length=120, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    file_size = models.PositiveBigIntegerField(default=0)
    error_total = models.PositiveIntegerField(default=0)  # errors found (``errors`` lists the first 1,000)
    warning_total = models.PositiveIntegerField(default=0)
    # Each a finding's whole line as a thalimon.said.Said (rendered in the reader's language
    # with the ``said`` filter); jobs stored before are plain text and stay so.
    errors = SaidListField(default=list, blank=True)
    warnings = SaidListField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("view_cohort_report", "Can view and export the cohort report"),
            ("import_datasheet", "Can upload and import cohort datasheets"),
            ("view_network_report", "Can view every site's aggregate report"),
        ]

    def __str__(self):
        return f"{self.original_name} ({self.get_state_display()})"

    @property
    def counts_created(self):
        return sum(c.get("created", 0) for c in (self.counts or {}).values())

    @property
    def counts_updated(self):
        return sum(c.get("updated", 0) for c in (self.counts or {}).values())

    @property
    def active(self):
        """Still to finish: its page keeps polling."""
        return self.state in (self.State.QUEUED, self.State.VALIDATED, self.State.RUNNING)
