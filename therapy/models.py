"""Thalidomide and azathioprine therapy: the course, dose changes and
pregnancy tests (R3, R4, R5).

The tables were created by the patients, visits and safety apps and keep
their names (``db_table``); the models moved here with a state-only
migration (``therapy/migrations/0001_initial.py``).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from patients.models import Diagnosis, Patient
from patients.validators import between, decimal_range
from thalimon import saying
from thalimon.fields import SaidListField


class Regimen(models.TextChoices):
    ADULT = "adult", _("Adult (Li 2020)")
    PAEDIATRIC = "paediatric", _("Paediatric (Zhang 2023)")


class TherapyCourse(models.Model):
    """The patient's thalidomide course: day 0, stop, target dose, regimen (R3.1).

    Dose records (the dosing issue) must agree with it: the start is the
    first thalidomide dose row and the stop the following 0 mg row.
    """

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="course")
    start_date = models.DateField(_("thalidomide start (day 0)"))
    stop_date = models.DateField(
        _("thalidomide stop"), null=True, blank=True, help_text=_("First day without the drug; empty = ongoing.")
    )
    stop_reason = models.CharField(_("stop reason"), max_length=200, blank=True)
    target_dose_mg = models.DecimalField(
        _("target dose (mg/day)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=decimal_range("12.5", 100, "mg/day", _("Target dose")),
        help_text=_("Adult: 50–100 mg/day (default 100). Paediatric: the R3.3 cap."),
    )
    regimen = models.CharField(max_length=12, choices=Regimen.choices, blank=True)
    regimen_reason = models.CharField(
        _("regimen reason"), max_length=200, blank=True, help_text=_("Required when the regimen differs from age (R3.1).")
    )
    # Start-of-therapy checklist (R5): completed before the first dose.
    consent_signed_date = models.DateField(
        _("teratogenicity consent signed"), null=True, blank=True,
        help_text=_("The patient signed the thalidomide risk and pregnancy-prevention consent."),
    )
    contraception_counselling_date = models.DateField(
        _("contraception counselling"), null=True, blank=True,
        help_text=_("Female of reproductive potential: two methods, one highly effective (R5.3)."),
    )
    checklist_override_reason = models.TextField(
        _("checklist override reason"), blank=True,
        help_text=_("Only when a clinician starts therapy with the checklist incomplete."),
    )
    checklist_override_date = models.DateField(
        _("checklist override for the start on"), null=True, blank=True,
        help_text=_("The override covers this start only, never a later restart."),
    )
    checklist_override_missing = models.JSONField(
        _("checklist items missing at the override"), default=list, blank=True
    )
    history = HistoricalRecords(table_name="patients_historicaltherapycourse")

    class Meta:
        db_table = "patients_therapycourse"
        permissions = [
            ("record_contraception", "Can record contraception confirmations (R5.3)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stop_date__isnull=True) | models.Q(stop_date__gte=models.F("start_date")),
                name="course_stop_not_before_start",
                violation_error_message=_("Thalidomide stop cannot be before the start."),
            )
        ]

    def __str__(self):
        return f"Thalidomide course of {self.patient.code} from {self.start_date:%Y-%m-%d}"

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.start_date and self.start_date > today:
            errors["start_date"] = gettext(
                "Thalidomide start cannot be in the future (today is %(today)s)."
            ) % {"today": saying.day(today)}
        if self.stop_date and self.start_date and self.stop_date < self.start_date:
            errors["stop_date"] = gettext("Thalidomide stop cannot be before the start.")
        if self.stop_date and self.stop_date > today:
            errors["stop_date"] = gettext(
                "Thalidomide stop cannot be in the future (today is %(today)s)."
            ) % {"today": saying.day(today)}
        if self.contraception_counselling_date and self.start_date and self.contraception_counselling_date > self.start_date:
            errors["contraception_counselling_date"] = gettext("Contraception counselling must be on or before the start.")
        if self.consent_signed_date and self.consent_signed_date > today:
            errors["consent_signed_date"] = gettext(
                "Consent date cannot be in the future (today is %(today)s)."
            ) % {"today": saying.day(today)}
        if self.stop_date and not self.stop_reason:
            errors["stop_reason"] = gettext("Stop reason: say why thalidomide was stopped.")
        if (
            self.start_date
            and self.patient_id
            and not self.regimen
            and self.patient.diagnosis == Diagnosis.CD
            and self.default_regimen() == Regimen.PAEDIATRIC
        ):
            errors["regimen"] = gettext(
                "Regimen: paediatric Crohn's disease under 16 has no source schedule; "
                "choose the regimen explicitly (R3.1)."
            )
        if self.start_date and self.patient_id and self.regimen:
            default = self.default_regimen()
            if self.regimen != default and not self.regimen_reason:
                regimens = {Regimen.ADULT: gettext("adult"), Regimen.PAEDIATRIC: gettext("paediatric")}
                errors["regimen_reason"] = gettext(
                    "Regimen reason is required: the patient is %(age)s at the start, which gives the %(regimen)s "
                    "regimen (R3.1)."
                ) % {"age": self.patient.age_on(self.start_date), "regimen": regimens.get(default, default)}
        if self.start_date and self.patient_id and self.start_date < self.patient.birth_date:
            errors["start_date"] = gettext("Thalidomide start cannot be before the patient's birth date.")
        if (
            self.effective_regimen == Regimen.PAEDIATRIC
            and self.target_dose_mg is not None
            and not (self.target_dose_mg <= 50 and self.target_dose_mg % Decimal("12.5") == 0)
        ):
            errors["target_dose_mg"] = gettext(
                "Target dose (paediatric) must be a half-tablet step of 12.5, 25, 37.5 or 50 mg/day "
                "within the weight cap (R3.3); leave it empty to use the cap."
            )
        if self.effective_regimen == Regimen.ADULT and self.target_dose_mg is not None and not (
            50 <= self.target_dose_mg <= 100 and self.target_dose_mg % 25 == 0
        ):
            errors["target_dose_mg"] = gettext("Target dose (adult) must be 50, 75 or 100 mg/day (R3.2).")
        if errors:
            raise ValidationError(errors)

    def default_regimen(self):
        """R3.1: adult if age >= 16 at the course start, else paediatric."""
        age = self.patient.age_on(self.start_date)
        return Regimen.ADULT if age >= 16 else Regimen.PAEDIATRIC

    @property
    def effective_regimen(self):
        if self.regimen:
            return self.regimen
        if self.start_date and self.patient_id:
            return self.default_regimen()
        return ""

    def day(self, on):
        """Day N of therapy (start = day 0)."""
        return (on - self.start_date).days


class Drug(models.TextChoices):
    THALIDOMIDE = "thalidomide", _("Thalidomide")
    AZATHIOPRINE = "azathioprine", _("Azathioprine")


class DoseChange(models.Model):
    """A dated dose record of one drug (R3.1); 0 mg/day means stopped.

    Every row stores the R3.5 deviation codes (thalidomide) or R4 warnings
    (azathioprine) found when it was checked, with the data as of its date;
    a row saved despite deviations carries the clinician's override reason.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="dose_changes")
    drug = models.CharField(max_length=12, choices=Drug.choices)
    date = models.DateField(_("date of the change"))
    dose_mg = models.DecimalField(
        _("dose (mg/day)"), max_digits=5, decimal_places=1,
        validators=between(Decimal("0"), Decimal("400"), _("Dose must be between 0 and 400 mg/day.")),
        help_text=_("0 = stopped."),
    )
    reason = models.CharField(max_length=200, blank=True)
    override_reason = models.TextField(
        _("override reason"), blank=True,
        help_text=_("Why the change was made despite the rules (required for any deviation)."),
    )
    kind = models.CharField(max_length=14, blank=True, editable=False)
    deviations = models.JSONField(default=list, blank=True, editable=False)
    warnings = models.JSONField(default=list, blank=True, editable=False)
    check_reasons = SaidListField(default=list, blank=True, editable=False)
    rules_version = models.CharField(max_length=60, blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(table_name="visits_historicaldosechange")

    class Meta:
        db_table = "visits_dosechange"
        ordering = ["patient", "drug", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "drug", "date"],
                name="dose_unique_per_patient_drug_date",
                violation_error_message=_("This patient already has a dose record of this drug on that date."),
            ),
            models.CheckConstraint(
                condition=models.Q(dose_mg__gte=0),
                name="dose_not_negative",
                violation_error_message=_("Dose cannot be negative."),
            ),
        ]
        indexes = [models.Index(fields=["patient", "drug", "date"])]

    def __str__(self):
        return f"{self.patient.code} {self.drug} {self.dose_mg} mg from {self.date:%Y-%m-%d}"

    @property
    def overridden(self):
        return bool(self.override_reason)

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.date and self.date > today:
            errors["date"] = gettext(
                "Date of the change cannot be in the future (today is %(today)s)."
            ) % {"today": saying.day(today)}
        if errors:
            raise ValidationError(errors)


class PregnancyResult(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")


class PregnancyTest(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="pregnancy_tests")
    date = models.DateField(_("test date"))
    result = models.CharField(max_length=8, choices=PregnancyResult.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(table_name="safety_historicalpregnancytest")

    class Meta:
        db_table = "safety_pregnancytest"
        ordering = ["patient", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "date"],
                name="pregnancy_test_unique_per_patient_date",
                violation_error_message=_("This patient already has a pregnancy test on that date."),
            )
        ]

    def __str__(self):
        return f"{self.patient.code} pregnancy test {self.date:%Y-%m-%d} {self.result}"

    def clean(self):
        today = timezone.localdate()
        if self.date and self.date > today:
            raise ValidationError({"date": gettext("Test date cannot be in the future (today is %(today)s).")
                % {"today": saying.day(today)}})
        if self.patient_id and self.patient.sex != "F":
            raise ValidationError({"result": gettext("Pregnancy tests are recorded for female patients only (R5.2).")})


class RiskCategory(models.TextChoices):
    """R9.2: the category printed on every thalidomide prescription (as of its issue date)."""

    FEMALE_REPRODUCTIVE_POTENTIAL = "female_reproductive_potential", _("Female of reproductive potential")
    FEMALE_NOT_REPRODUCTIVE_POTENTIAL = "female_not_reproductive_potential", _("Female not of reproductive potential")
    MALE = "male", _("Male")


class Prescription(models.Model):
    """A thalidomide prescription under the pregnancy-prevention programme (R9).

    The clinician enters the issue date, daily dose, days of supply, the contraception
    confirmation and (under ``us_rems``) the authorisation number; the dispensed date is
    recorded later. The check (``therapy.rules.prescriptions``) stores its R9.3 codes, the
    risk category, the dispense-by date and the quantity with the programme and rules
    version it was computed under; a row saved despite codes carries the override reason.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="prescriptions")
    issue_date = models.DateField(_("issue date"))
    dose_mg = models.DecimalField(
        _("daily dose (mg/day)"), max_digits=5, decimal_places=1,
        validators=between(Decimal("0.1"), Decimal("400"), _("Daily dose must be between 0.1 and 400 mg/day.")),
    )
    days_supply = models.PositiveSmallIntegerField(
        _("days of supply"),
        validators=between(1, 366, _("Days of supply must be between 1 and 366.")),
    )
    contraception_confirmed = models.BooleanField(
        _("contraception confirmed at this prescription"), default=False,
    )
    dispensed_date = models.DateField(_("dispensed on"), null=True, blank=True)
    dispensed_late_reason = models.TextField(
        _("why it was dispensed after its dispense-by date"), blank=True,
        help_text=_("Recorded with dispensed_too_late when the tablets were handed over after the dispense-by date."),
    )
    authorisation = models.CharField(_("authorisation number"), max_length=60, blank=True)
    override_reason = models.TextField(
        _("override reason"), blank=True,
        help_text=_("Why the prescription was issued despite the rules (required for any code an override may pass)."),
    )
    # Computed by the R9 check (never typed).
    programme = models.CharField(max_length=10, blank=True, editable=False)
    risk_category = models.CharField(max_length=40, choices=RiskCategory.choices, blank=True, editable=False)
    dispense_by = models.DateField(null=True, blank=True, editable=False)
    quantity_units = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True, editable=False)
    deviations = models.JSONField(default=list, blank=True, editable=False)
    check_reasons = SaidListField(default=list, blank=True, editable=False)
    rules_version = models.CharField(max_length=60, blank=True, editable=False)
    prescribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", editable=False,
    )
    dispensing_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "issue_date"]
        # Nurses record dispensing; prescribing (add, change) is the clinician's (R9.3).
        permissions = [("record_dispensing", "Can record the dispensing of a thalidomide prescription (R9)")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "issue_date"],
                name="prescription_unique_per_patient_issue_date",
                violation_error_message=_(
                    "This patient already has a prescription issued on that date: edit that one (R9.1)."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(dose_mg__gt=0),
                name="prescription_dose_positive",
                violation_error_message=_("Daily dose must be above 0 mg."),
            ),
            models.CheckConstraint(
                condition=models.Q(days_supply__gte=1),
                name="prescription_days_supply_positive",
                violation_error_message=_("Days of supply must be at least 1."),
            ),
            models.CheckConstraint(
                condition=models.Q(dispensed_date__isnull=True) | models.Q(dispensed_date__gte=models.F("issue_date")),
                name="prescription_dispensed_not_before_issue",
                violation_error_message=_("A prescription cannot be dispensed before its issue date."),
            ),
        ]
        indexes = [models.Index(fields=["patient", "issue_date"])]

    def __str__(self):
        return f"{self.patient.code} thalidomide prescription {self.issue_date:%Y-%m-%d}"

    @property
    def overridden(self):
        return bool(self.override_reason)

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.issue_date and self.issue_date > today:
            errors["issue_date"] = gettext(
                "Issue date cannot be in the future (today is %(today)s)."
            ) % {"today": saying.day(today)}
        if self.dispensed_date and self.dispensed_date > today:
            errors["dispensed_date"] = gettext(
                "Dispensed date cannot be in the future (today is %(today)s)."
            ) % {"today": saying.day(today)}
        if self.dispensed_date and self.issue_date and self.dispensed_date < self.issue_date:
            errors["dispensed_date"] = gettext("A prescription cannot be dispensed before its issue date.")
        if errors:
            raise ValidationError(errors)
