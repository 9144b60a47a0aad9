"""What happened at each contact: visits with their score items, labs, endoscopies.

Computed values (CDAI, HBI, Mayo, CDEIS, outcome status) are stored with the
rules version that produced them; they are written only by the visit actions
(``visits/actions.py``) and the datasheet import, through ``visits/records.py``.
Field ranges are those of clinical-rules.md R1 and R12; each message names the
field and the expected range or unit.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from patients.models import Patient
from patients.validators import between
from thalimon import saying
from thalimon.fields import SaidField
from visits import endoscopy_scores, labs, scoring
from visits import words as visit_words


class Contact(models.TextChoices):
    CLINIC = "clinic", _("Clinic visit")
    PHONE = "phone", _("Phone contact")


class RelapseEvent(models.TextChoices):
    FISTULA = "fistula", _("New perianal or enterocutaneous fistula")
    ABSCESS = "abscess", _("Intra-abdominal or perianal abscess")
    OBSTRUCTION = "obstruction", _("New intestinal obstruction needing hospitalisation")
    ENDOSCOPIC = "endoscopic", _("Endoscopic active inflammation")


class GlobalAssessment(models.TextChoices):
    IMPROVED = "improved", _("Improved")
    UNCHANGED = "unchanged", _("Unchanged")
    WORSE = "worse", _("Worse")


class BackgroundTherapy(models.TextChoices):
    STOPPED = "stopped", _("Stopped")
    REDUCED = "reduced", _("Reduced")
    UNCHANGED = "unchanged", _("Unchanged")
    INCREASED = "increased", _("Increased")


class ClinicalStatus(models.TextChoices):
    REMISSION = "remission", _("Remission")
    RESPONSE = "response", _("Response")
    NO_RESPONSE = "no_response", _("No response")
    RELAPSE = "relapse", _("Relapse")


class CdaiSource(models.TextChoices):
    COMPUTED = "computed", _("Computed from the items")
    ENTERED = "entered", _("Entered total")


# R1.1 complication categories (one point each).
CDAI_COMPLICATIONS = [
    ("arthritis", _("Arthritis / arthralgia")),
    ("iritis", _("Iritis / uveitis")),
    ("skin_mouth", _("Erythema nodosum, pyoderma gangrenosum or aphthous stomatitis")),
    ("anal", _("Anal fissure, fistula or abscess")),
    ("other_fistula", _("Other fistula")),
    ("fever", _("Fever above 37.8 °C during the past week")),
]
CDAI_MASS_CHOICES = [(0, _("0 – none")), (2, _("2 – questionable")), (5, _("5 – definite"))]
NEUROPATHY_GRADES = [
    (0, _("0 – none")),
    (1, _("1 – asymptomatic; loss of deep tendon reflexes or paraesthesia")),
    (2, _("2 – moderate symptoms limiting instrumental ADL")),
    (3, _("3 – severe symptoms limiting self-care")),
    (4, _("4 – life-threatening")),
]


class Visit(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    date = models.DateField(_("visit date"))
    contact = models.CharField(max_length=6, choices=Contact.choices, default=Contact.CLINIC)
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=5, decimal_places=1, null=True, blank=True,
        validators=between(Decimal("2"), Decimal("300"), _("Weight must be between 2 and 300 kg.")),
    )
    heart_rate = models.PositiveSmallIntegerField(
        _("heart rate (/min)"), null=True, blank=True,
        validators=between(20, 250, _("Heart rate must be between 20 and 250 beats/min.")),
    )

    # R1.1 CDAI items, each summed over the 7 days before the visit.
    cdai_stools = models.PositiveIntegerField(
        _("liquid or very soft stools (7-day sum)"), null=True, blank=True,
        validators=[MaxValueValidator(500, _("Liquid stools: a 7-day count, at most 500 (values above 140 are unusual)."))],
    )
    cdai_pain = models.PositiveSmallIntegerField(
        _("abdominal pain (7-day sum of 0–3)"), null=True, blank=True,
        validators=[MaxValueValidator(21, _("Abdominal pain must be a 7-day sum of daily ratings 0–3, so 0–21."))],
    )
    cdai_wellbeing = models.PositiveSmallIntegerField(
        _("general well-being (7-day sum of 0–4)"), null=True, blank=True,
        validators=[MaxValueValidator(28, _("General well-being must be a 7-day sum of daily ratings 0–4, so 0–28."))],
    )
    cdai_complications = models.PositiveSmallIntegerField(
        _("complication categories (0–6)"), null=True, blank=True,
        validators=[MaxValueValidator(6, _("Complications: the number of categories present, 0–6."))],
    )
    cdai_complication_flags = models.JSONField(
        _("complication categories present"), default=list, blank=True,
        help_text=_("Codes of CDAI_COMPLICATIONS; when recorded, the count follows from them."),
    )
    cdai_antidiarrheal = models.BooleanField(
        _("antidiarrhoeal use (diphenoxylate, loperamide or opiates)"), null=True, blank=True
    )
    cdai_mass = models.PositiveSmallIntegerField(
        _("abdominal mass"), null=True, blank=True, choices=CDAI_MASS_CHOICES
    )
    hematocrit = models.DecimalField(
        _("haematocrit (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
        help_text=_("In %, e.g. 42. Empty: the latest lab haematocrit of the 7 days up to the visit."),
    )
    cdai_entered = models.DecimalField(
        _("CDAI total (entered)"), max_digits=5, decimal_places=1, null=True, blank=True,
        validators=between(Decimal("0"), Decimal("1100"), _("CDAI total must be between 0 and 1100.")),
        help_text=_("Only when the items are not available (e.g. from a paper chart)."),
    )

    # R1.2 HBI (previous day)
    hbi_wellbeing = models.PositiveSmallIntegerField(
        _("HBI well-being (0–4)"), null=True, blank=True,
        validators=[MaxValueValidator(4, _("HBI well-being must be 0–4."))],
    )
    hbi_pain = models.PositiveSmallIntegerField(
        _("HBI abdominal pain (0–3)"), null=True, blank=True,
        validators=[MaxValueValidator(3, _("HBI abdominal pain must be 0–3."))],
    )
    hbi_liquid_stools = models.PositiveSmallIntegerField(
        _("HBI liquid stools (previous day)"), null=True, blank=True,
        validators=[MaxValueValidator(100, _("HBI liquid stools: a count for one day, at most 100."))],
    )
    hbi_mass = models.PositiveSmallIntegerField(
        _("HBI abdominal mass (0–3)"), null=True, blank=True,
        validators=[MaxValueValidator(3, _("HBI abdominal mass must be 0–3."))],
    )
    hbi_complications = models.PositiveSmallIntegerField(
        _("HBI complications (0–8)"), null=True, blank=True,
        validators=[MaxValueValidator(8, _("HBI complications: a count 0–8."))],
    )
    hbi_entered = models.PositiveSmallIntegerField(
        _("HBI total (entered)"), null=True, blank=True,
        validators=[MaxValueValidator(200, _("HBI total must be between 0 and 200."))],
    )

    # R1.6 Mayo (UC)
    mayo_stool_frequency = models.PositiveSmallIntegerField(
        _("Mayo stool frequency (0–3)"), null=True, blank=True,
        validators=[MaxValueValidator(3, _("Mayo stool frequency must be 0–3."))],
    )
    mayo_rectal_bleeding = models.PositiveSmallIntegerField(
        _("Mayo rectal bleeding (0–3)"), null=True, blank=True,
        validators=[MaxValueValidator(3, _("Mayo rectal bleeding must be 0–3."))],
    )
    mayo_endoscopic = models.PositiveSmallIntegerField(
        _("Mayo endoscopic subscore (0–3)"), null=True, blank=True,
        validators=[MaxValueValidator(3, _("Mayo endoscopic subscore must be 0–3."))],
    )
    mayo_physician_global = models.PositiveSmallIntegerField(
        _("Mayo physician global (0–3)"), null=True, blank=True,
        validators=[MaxValueValidator(3, _("Mayo physician global must be 0–3."))],
    )
    mayo_entered = models.PositiveSmallIntegerField(
        _("Mayo total (entered)"), null=True, blank=True,
        validators=[MaxValueValidator(12, _("Mayo total must be between 0 and 12."))],
    )

    # R1.7 AIDAI / clinician global (autoinflammatory disease), R2.6 domains
    aidai = models.PositiveSmallIntegerField(
        _("AIDAI (yes answers over the month)"), null=True, blank=True,
        validators=[MaxValueValidator(372, _("AIDAI: at most 12 items × 31 days = 372."))],
    )
    global_assessment = models.CharField(
        _("clinician global assessment"), max_length=10, choices=GlobalAssessment.choices, blank=True
    )
    background_therapy = models.CharField(
        _("glucocorticoid / immunosuppressant / biologic"), max_length=10,
        choices=BackgroundTherapy.choices, blank=True,
    )

    # Safety at every clinic visit
    neuropathy_grade = models.PositiveSmallIntegerField(
        _("peripheral neuropathy grade (CTCAE 0–4)"), null=True, blank=True, choices=NEUROPATHY_GRADES
    )
    contraception_confirmed = models.BooleanField(
        _("contraception confirmed"), null=True, blank=True,
        help_text=_("R5.3: two methods (female of reproductive potential) or condoms (male)."),
    )
    breastfeeding = models.BooleanField(
        _("breast-feeding"), null=True, blank=True, help_text=_("Empty = not asked at this contact (R5.1).")
    )
    menarche = models.BooleanField(
        _("menarche reached"), null=True, blank=True,
        help_text=_("Asked at every visit of a patient recorded as premenarchal (R5.1): yes ends the exemption "
                    "from pregnancy tests. Empty = not asked."),
    )
    neurological_review = models.BooleanField(
        _("neurological review done"), default=False,
        help_text=_("Closes the 20 g cumulative-dose review (R3.4)."),
    )
    relapse_event = models.CharField(
        _("relapse event"), max_length=12, choices=RelapseEvent.choices, blank=True
    )
    notes = models.TextField(blank=True)

    # Computed through visits.records, written by the visit actions and the import only.
    cdai = models.PositiveIntegerField(_("CDAI"), null=True, blank=True, editable=False)
    cdai_source = models.CharField(max_length=8, choices=CdaiSource.choices, blank=True, editable=False)
    cdai_reason = SaidField(blank=True, editable=False)
    hbi = models.PositiveSmallIntegerField(_("HBI"), null=True, blank=True, editable=False)
    mayo = models.PositiveSmallIntegerField(_("Mayo"), null=True, blank=True, editable=False)
    clinical_status = models.CharField(
        _("clinical status"), max_length=12, choices=ClinicalStatus.choices, blank=True, editable=False
    )
    status_rule = models.CharField(max_length=8, blank=True, editable=False)
    status_reason = SaidField(blank=True, editable=False)
    rules_version = models.CharField(max_length=60, blank=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", editable=False,
    )
    version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["patient", "date", "contact"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "date", "contact"],
                name="visit_unique_per_patient_date_contact",
                violation_error_message=_(
                    "Visit date: this patient already has a contact of this kind on that date; "
                    "edit that visit instead."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(cdai_mass__isnull=True) | models.Q(cdai_mass__in=[0, 2, 5]),
                name="visit_cdai_mass_0_2_5",
                violation_error_message=_("Abdominal mass must be 0 (none), 2 (questionable) or 5 (definite)."),
            ),
            models.CheckConstraint(
                condition=models.Q(neuropathy_grade__isnull=True) | models.Q(neuropathy_grade__lte=4),
                name="visit_neuropathy_grade_0_4",
                violation_error_message=_("Neuropathy grade must be 0–4 (CTCAE)."),
            ),
        ]
        indexes = [models.Index(fields=["patient", "date"])]

    def __str__(self):
        return f"{self.patient.code} {self.get_contact_display().lower()} {self.date:%Y-%m-%d}"

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.date and self.date > today:
            errors["date"] = gettext(
                "Visit date cannot be in the future (today is %(today)s)."
            ) % {"today": saying.day(today)}
        if self.date and self.patient_id and self.date < self.patient.birth_date:
            errors["date"] = gettext("Visit date cannot be before the patient's birth date.")
        item_errors = scoring.validate_cdai_items(
            stools=self.cdai_stools,
            pain=self.cdai_pain,
            wellbeing=self.cdai_wellbeing,
            complications=self.cdai_complications,
            antidiarrheal=self.cdai_antidiarrheal,
            mass=self.cdai_mass,
            hematocrit=self.hematocrit,
            weight_kg=self.weight_kg,
            entered_total=self.cdai_entered,
        )
        field_names = {
            "stools": "cdai_stools",
            "pain": "cdai_pain",
            "wellbeing": "cdai_wellbeing",
            "complications": "cdai_complications",
            "antidiarrheal": "cdai_antidiarrheal",
            "mass": "cdai_mass",
            "hematocrit": "hematocrit",
            "weight_kg": "weight_kg",
            "entered_total": "cdai_entered",
        }
        for key, message in item_errors.items():
            errors.setdefault(field_names[key], saying.render(message))
        known = {code for code, _ in CDAI_COMPLICATIONS}
        flags = list(self.cdai_complication_flags or [])
        if set(flags) - known:
            errors["cdai_complication_flags"] = gettext("Unknown complication category.")
        elif flags and self.cdai_complications is not None and self.cdai_complications != len(flags):
            errors["cdai_complications"] = gettext(
                "Complications: %(ticked)s categories are ticked but the count says %(count)s."
            ) % {"ticked": len(flags), "count": self.cdai_complications}
        if self.contact == Contact.PHONE:
            # A CDAI and a neuropathy grade are recorded only at clinic contacts (Conventions, R3.4).
            clinic_only = [
                "neuropathy_grade", "cdai_stools", "cdai_pain", "cdai_wellbeing", "cdai_complications",
                "cdai_antidiarrheal", "cdai_mass", "hematocrit", "cdai_entered",
            ]
            for name in clinic_only:
                if getattr(self, name) is not None and name not in errors:
                    label = capfirst(str(self._meta.get_field(name).verbose_name))
                    errors[name] = gettext(
                        "%(label)s is recorded only at clinic visits (it needs an examination); "
                        "change the contact to clinic visit or clear it."
                    ) % {"label": label}
            if self.cdai_complication_flags and "cdai_complication_flags" not in errors:
                errors["cdai_complication_flags"] = gettext("CDAI complications are recorded only at clinic visits.")
        if errors:
            raise ValidationError(errors)


class LabResult(models.Model):
    """One laboratory result (long format, fixed units of R12)."""

    TEST_CHOICES = [(code, format_lazy("{} ({})", visit_words.LAB_TESTS[code], t.unit)) for code, t in labs.LAB_TESTS.items()]

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="lab_results")
    date = models.DateField(_("sample date"))
    test = models.CharField(max_length=16, choices=TEST_CHOICES)
    value = models.DecimalField(max_digits=10, decimal_places=3)
    lab_low = models.DecimalField(_("lab's lower limit"), max_digits=10, decimal_places=3, null=True, blank=True)
    lab_high = models.DecimalField(_("lab's upper limit"), max_digits=10, decimal_places=3, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", editable=False,
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "date", "test"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "date", "test"],
                name="lab_unique_per_patient_date_test",
                violation_error_message=_("This patient already has a result for this test on that date."),
            )
        ]
        indexes = [models.Index(fields=["patient", "test", "date"])]

    def __str__(self):
        return f"{self.patient.code} {self.test} {self.date:%Y-%m-%d}"

    @property
    def unit(self):
        return labs.LAB_TESTS[self.test].unit

    @property
    def label(self):
        return visit_words.LAB_TESTS.get(self.test) or labs.LAB_TESTS[self.test].label

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.date and self.date > today:
            errors["date"] = gettext(
                "Sample date cannot be in the future (today is %(today)s)."
            ) % {"today": saying.day(today)}
        if self.test in labs.LAB_TESTS and self.value is not None:
            message = labs.plausibility_error(self.test, self.value)
            if message:
                errors["value"] = saying.render(message)
        if self.lab_low is not None and self.lab_high is not None and self.lab_low > self.lab_high:
            errors["lab_low"] = gettext("The lab's lower limit cannot be above its upper limit.")
        if errors:
            raise ValidationError(errors)

    def flag(self, *, sex, age_years):
        return labs.range_flag(
            self.test, self.value, sex=sex, age_years=age_years, lab_low=self.lab_low, lab_high=self.lab_high
        )


class Endoscopy(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="endoscopies")
    date = models.DateField(_("endoscopy date"))
    cdeis_segments = models.JSONField(
        _("CDEIS segments"), default=list, blank=True,
        help_text=_("Explored segments: name, deep/superficial ulceration, involved/ulcerated cm."),
    )
    ulcerated_stenosis = models.BooleanField(_("ulcerated stenosis"), default=False)
    nonulcerated_stenosis = models.BooleanField(_("non-ulcerated stenosis"), default=False)
    cdeis_entered = models.DecimalField(
        _("CDEIS total (entered)"), max_digits=4, decimal_places=1, null=True, blank=True,
        validators=between(Decimal("0"), Decimal("44"), _("CDEIS total must be between 0 and 44.")),
    )
    ses_cd = models.PositiveSmallIntegerField(
        _("SES-CD total"), null=True, blank=True,
        validators=[MaxValueValidator(60, _("SES-CD total must be between 0 and 60 (5 segments × 4 items × 3)."))],
    )
    rutgeerts = models.PositiveSmallIntegerField(
        _("Rutgeerts score"), null=True, blank=True,
        choices=[
            (0, _("i0 – no lesions")),
            (1, _("i1 – ≤ 5 aphthous lesions")),
            (2, _("i2 – > 5 aphthae, skip lesions or anastomotic lesions (i2a/i2b)")),
            (3, _("i3 – diffuse aphthous ileitis")),
            (4, _("i4 – diffuse inflammation with large ulcers, nodules or narrowing")),
        ],
    )
    ulceration = models.BooleanField(
        _("ulceration in any explored segment"), null=True, blank=True,
        help_text=_("No ulceration = mucosal healing (R2.4). Derived from the segments when they are recorded."),
    )
    notes = models.TextField(blank=True)

    cdeis = models.DecimalField(_("CDEIS"), max_digits=4, decimal_places=1, null=True, blank=True, editable=False)
    cdeis_source = models.CharField(max_length=8, blank=True, editable=False)
    cdeis_reason = SaidField(blank=True, editable=False)
    rules_version = models.CharField(max_length=60, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", editable=False,
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "date"]
        verbose_name_plural = _("endoscopies")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "date"],
                name="endoscopy_unique_per_patient_date",
                violation_error_message=_("This patient already has an endoscopy on that date; edit it instead."),
            ),
            models.CheckConstraint(
                condition=models.Q(rutgeerts__isnull=True) | models.Q(rutgeerts__lte=4),
                name="endoscopy_rutgeerts_0_4",
                violation_error_message=_("Rutgeerts score must be 0–4."),
            ),
        ]

    def __str__(self):
        return f"{self.patient.code} endoscopy {self.date:%Y-%m-%d}"

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.date and self.date > today:
            errors["date"] = gettext(
                "Endoscopy date cannot be in the future (today is %(today)s)."
            ) % {"today": saying.day(today)}
        if self.rutgeerts is not None and self.patient_id and not self.patient.ileocolic_resection:
            errors["rutgeerts"] = gettext(
                "Rutgeerts score applies only after ileocolonic resection; none is recorded "
                "for this patient (R1.5). Record the resection on the patient first."
            )
        for segment in self.segment_objects():
            for message in endoscopy_scores.validate_cdeis_segment(segment).values():
                errors.setdefault("cdeis_segments", saying.render(message))
        if errors:
            raise ValidationError(errors)

    def segment_objects(self):
        result = []
        for raw in self.cdeis_segments or []:
            result.append(
                endoscopy_scores.CdeisSegment(
                    name=raw["name"],
                    deep_ulceration=bool(raw.get("deep_ulceration")),
                    superficial_ulceration=bool(raw.get("superficial_ulceration")),
                    involved_cm=Decimal(str(raw.get("involved_cm") or 0)),
                    ulcerated_cm=Decimal(str(raw.get("ulcerated_cm") or 0)),
                )
            )
        return result
