"""Safety records: pregnancy tests (R5.2). Adverse events, alerts and
reminders come with the safety issue."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from patients.models import Patient


class PregnancyResult(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"


class PregnancyTest(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="pregnancy_tests")
    date = models.DateField("test date")
    result = models.CharField(max_length=8, choices=PregnancyResult.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "date"],
                name="pregnancy_test_unique_per_patient_date",
                violation_error_message="This patient already has a pregnancy test on that date.",
            )
        ]

    def __str__(self):
        return f"{self.patient.code} pregnancy test {self.date:%Y-%m-%d} {self.result}"

    def clean(self):
        today = timezone.localdate()
        if self.date and self.date > today:
            raise ValidationError({"date": f"Test date cannot be in the future (today is {today:%Y-%m-%d})."})
        if self.patient_id and self.patient.sex != "F":
            raise ValidationError({"result": "Pregnancy tests are recorded for female patients only (R5.2)."})
