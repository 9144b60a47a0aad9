"""The outbox table: one row per piece of follow-up work, written with the data."""

from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    """A Celery task to start once the transaction that recorded it has committed."""

    key = models.CharField(
        max_length=120, unique=True,
        help_text="What the work is about (e.g. notify:alert:12); the same work is queued once.",
    )
    task = models.CharField(max_length=120)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(help_text="When the relay tries to hand it over next.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True, help_text="The class of the last broker fault.")
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="Handed to the broker.")

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(delivered_at__isnull=True),
                         name="outbox_pending_idx"),
        ]
        verbose_name = "queued work item"

    def __str__(self):
        return f"{self.task}({', '.join(map(str, self.args))})"
