"""Who the patient is: demographics, diagnosis, reproductive status, genotype,
baseline at loss of response, and the care team.

Field names follow ``patients.csv`` of interfaces.md; every field check that
the database can hold is a constraint, and every cross-field rule lives in
``Patient.clean()`` so that the form, the importer and the admin refuse the
same bad input with the same message.
"""


from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connections, models
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from patients import demographics
from patients.validators import decimal_range
from sites.models import Membership, Site
from thalimon import saying


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Diagnosis(models.TextChoices):
    CD = "CD", _("Crohn's disease")
    UC = "UC", _("Ulcerative colitis")
    AID = "AID", _("Monogenic autoinflammatory disease")


class AidType(models.TextChoices):
    AGS = "AGS", _("AGS (Aicardi–Goutières syndrome)")
    BLAU = "Blau", _("Blau syndrome")
    CINCA = "CINCA", "CINCA/NOMID"
    DADA2 = "DADA2", "DADA2"
    FMF = "FMF", _("FMF (familial Mediterranean fever)")
    HA20 = "HA20", "HA20"
    PLAID = "PLAID", "PLAID"
    SAVI = "SAVI", "SAVI"
    TRAPS = "TRAPS", "TRAPS"
    OTHER = "other", _("Other")


class MontrealLocation(models.TextChoices):
    L1 = "L1", _("L1 ileal")
    L2 = "L2", _("L2 colonic")
    L3 = "L3", _("L3 ileocolonic")


class MontrealBehavior(models.TextChoices):
    B1 = "B1", _("B1 non-stricturing, non-penetrating")
    B2 = "B2", _("B2 stricturing")
    B3 = "B3", _("B3 penetrating")


class Genotype(models.TextChoices):
    NORMAL = "normal", _("Normal metaboliser")
    INTERMEDIATE = "intermediate", _("Intermediate metaboliser")
    POOR = "poor", _("Poor metaboliser")
    UNKNOWN = "unknown", _("Unknown / not tested")


class NonReproductiveReason(models.TextChoices):
    """R5.1: the only recorded reasons that exempt a female patient."""

    HYSTERECTOMY = "hysterectomy", _("Hysterectomy")
    OOPHORECTOMY = "bilateral_oophorectomy", _("Bilateral oophorectomy")
    AMENORRHOEA = "amenorrhoea_24_months", _("≥ 24 consecutive months without menses")


class FollowUpStatus(models.TextChoices):
    ACTIVE = "active", _("Under follow-up")
    DIED = "died", _("Died")
    TRANSFERRED = "transferred", _("Transferred")
    LOST = "lost", _("Lost to follow-up")


PATIENT_CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$",
    message=_(
        "Patient code must be 1–32 letters, digits, '-', '_' or '.', starting with a "
        "letter or digit (a pseudonymous code, not a name)."
    ),
)
# Shown, edited and searched only by the roles that may see names
# (patients.view_patient_identity); never in logs, emails, exports or datasheets.
IDENTITY_FIELDS = ("full_name", "phone")
# A phone number as people write it: digits with spaces, dashes, dots, brackets and an
# optional leading "+"; 6 to 20 digits in all.
PHONE_VALIDATOR = RegexValidator(
    r"^\+?\(?(?:[0-9][ ().-]*){6,20}$",
    message=_(
        "Contact phone: digits, with spaces, dashes or brackets and an optional leading +, 6–20 digits "
        "(e.g. +44 20 7946 0000)."
    ),
)


# Up to this many restricted patients are left out of a user's lists by their pks; more, by a subquery.
HIDDEN_PKS_INLINE = 200


def site_ids_of(user):
    """The ids of the sites ``user`` is a member of, read once per request with the restricted
    records (``_read_access``) and kept on the user object, as Django keeps its permissions:
    every list, count and badge of a page filters with it, and ``Patient.may_be_opened_by``
    checks it without a query. A user of no site (or anonymous) gets ``[]``: no patient."""
    if user is None or user.pk is None:
        return getattr(user, "_patient_site_ids", None) or []
    if getattr(user, "_patient_site_ids", None) is None:
        _read_access(user)
    return user._patient_site_ids


HIDDEN_ROW = -1  # a restricted record's row in ``_read_access`` (a number of sites is never negative)


def _read_access(user):
    """Keep on ``user`` both halves of what they may open (``PatientQuerySet.visible_q``), in one
    statement where the database takes a limit inside a union (PostgreSQL; else two): their
    site ids with the network's number of sites (one snapshot, ``covers_every_site``), and the
    records restricted to another care team (``hidden_pks``). Every page filters with both."""
    sites = Membership.objects.filter(user_id=user.pk).order_by().values_list(
        "site_id", RawSQL(f"SELECT COUNT(*) FROM {Site._meta.db_table}", []))
    restricted = Patient.objects.restricted_from(user)
    hidden = restricted.order_by().values_list("pk", models.Value(HIDDEN_ROW))[: HIDDEN_PKS_INLINE + 1]
    if connections[sites.db].features.supports_slicing_ordering_in_compound:
        rows = list(sites.union(hidden, all=True))
    else:
        rows = list(sites) + list(hidden)
    site_rows = sorted(row for row in rows if row[1] != HIDDEN_ROW)
    pks = [pk for pk, marker in rows if marker == HIDDEN_ROW]
    user._patient_site_ids = [site_id for site_id, _ in site_rows]
    user._patient_every_site = bool(site_rows) and len(site_rows) == site_rows[0][1]
    user._hidden_patient_pks = pks if len(pks) <= HIDDEN_PKS_INLINE else restricted.values("pk")


def covers_every_site(user):
    """Whether ``user`` is a member of every site of the network (a single-site clinic's
    users always are): their lists, counts and badges then need no site condition, which
    on the reminders and alerts is a join with every patient row. Read with the site ids
    (``site_ids_of``), never by a query of its own; unknown (users prefetched for a digest)
    counts as not covering, so the site condition is kept."""
    site_ids_of(user)
    return getattr(user, "_patient_every_site", False)


def prefetch_site_ids(users):
    """Read the site ids of many users in one query (a digest run, the recipients of an
    urgent event), so that ``may_be_opened_by`` checks each without a query of its own."""
    users = list(users)
    found = {user.pk: [] for user in users}
    for user_id, site_id in Membership.objects.filter(user_id__in=list(found)).order_by("site_id").values_list(
        "user_id", "site_id"
    ):
        found[user_id].append(site_id)
    for user in users:
        user._patient_site_ids = found[user.pk]
    return users


class PatientQuerySet(models.QuerySet):
    """Patient visibility as one query, next to the object rule ``Patient.may_be_opened_by``.

    Two rules, both here and nowhere else: a user opens only the patients of the sites
    they are a member of (issue 18), and, inside those, a record restricted to the care
    team opens for its care team only. ``visible_to`` (patients) and ``visible_q``
    (any row with a ``patient`` foreign key: reminders, alerts, visits …) are the SQL
    form; ``may_be_opened_by`` the object form; they agree (tests/test_sites.py)."""

    def lock(self, patient_id):
        """Lock one patient's row until the transaction ends: two creates of the same record
        (the same test, visit or event entered twice at once) run one after the other, so
        the second meets the first's row and gets the normal refusal, never a server error."""
        return self.select_for_update().filter(pk=patient_id).values_list("pk", flat=True).first()

    def restricted_from(self, user):
        """Records restricted to a care team ``user`` is not in (of any site)."""
        restricted = self.model.objects.filter(care_team_only=True)
        if user.pk is not None:
            restricted = restricted.exclude(responsible_clinician_id=user.pk).exclude(responsible_nurse_id=user.pk)
        return restricted

    def hidden_from(self, user):
        """Every record ``user`` may not open: of a site the user is not a member of, or
        restricted to a care team the user is not in (the SQL form of ``not may_be_opened_by``)."""
        restricted = models.Q(pk__in=self.restricted_from(user).values("pk"))
        if covers_every_site(user):
            return self.model.objects.filter(restricted)
        return self.model.objects.filter(~models.Q(site_id__in=site_ids_of(user)) | restricted)

    def hidden_pks(self, user):
        """What ``exclude(patient_id__in=…)`` takes to leave out the patients of the user's
        sites restricted to another care team: their pks, read once per request (kept on the
        user object) while they are few, else a subquery. A page filters its lists, counts
        and badge with it several times; compiling the subquery each time cost more than all
        its other work. The site rule is the other half (``visible_q``): never use this alone."""
        cached = getattr(user, "_hidden_patient_pks", None)
        if cached is None:
            restricted = self.model.objects.restricted_from(user)
            pks = list(restricted.values_list("pk", flat=True)[: HIDDEN_PKS_INLINE + 1])
            cached = pks if len(pks) <= HIDDEN_PKS_INLINE else restricted.values("pk")
            if user.pk is not None:
                user._hidden_patient_pks = cached
        return cached

    def site_ids(self, user):
        return site_ids_of(user)

    def visible_q(self, user, via="patient", site_field=None):
        """A ``Q`` keeping the rows whose patient ``user`` may open: ``via`` is the foreign
        key to the patient (``"patient"``), or ``""`` for patients themselves. A filter on
        the site ids (``patient__site_id__in=[…]``), never a list of patients. ``site_field``:
        the row's own column holding its patient's site, for the models that carry one
        (reminders and alerts: ``"site_id"``, always the patient's): the site condition is
        then on the row itself, read through its site-led index, without a join with the
        patients. The care-team rule stays on the patient ids either way."""
        if site_field:
            site = f"{site_field}__in"
        else:
            site = f"{via}__site_id__in" if via else "site_id__in"
        patient = f"{via}_id__in" if via else "pk__in"
        # A member of every site: no site condition (the same rows, without the join).
        q = models.Q() if covers_every_site(user) else models.Q(**{site: site_ids_of(user)})
        hidden = self.hidden_pks(user)
        if not isinstance(hidden, list) or hidden:
            q &= ~models.Q(**{patient: hidden})
        return q

    def visible_to(self, user):
        """The patients ``user`` may open, for lists and searches (the SQL form of
        ``may_be_opened_by``)."""
        return self.filter(self.visible_q(user, via=""))


class Patient(models.Model):
    code = models.CharField(
        _("patient code"),
        max_length=32,
        unique=True,
        validators=[PATIENT_CODE_VALIDATOR],
        help_text=_("The clinic's pseudonymous code, e.g. GI-0042. Used in datasheets, emails and logs."),
        error_messages={"unique": _("Patient code: a patient with this code already exists.")},
    )
    full_name = models.CharField(
        _("full name"),
        max_length=200,
        blank=True,
        help_text=_("Optional. Shown only to the care team (clinicians and nurses)."),
    )
    phone = models.CharField(
        _("contact phone"),
        max_length=32,
        blank=True,
        validators=[PHONE_VALIDATOR],
        help_text=_("Optional. Shown only to the roles that see names; never in logs, emails or exports."),
    )
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    height_cm = models.DecimalField(
        _("height (cm)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=decimal_range(40, 250, "cm", _("Height")),
    )
    standard_weight_kg = models.DecimalField(
        _("standard weight (kg)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=decimal_range(2, 250, "kg", _("Standard weight")),
        help_text=_("For the CDAI weight term. Empty: derived from height and sex (R1.1)."),
    )

    diagnosis = models.CharField(max_length=3, choices=Diagnosis.choices)
    aid_type = models.CharField(
        _("autoinflammatory disease"), max_length=8, choices=AidType.choices, blank=True
    )
    montreal_location = models.CharField(
        _("Montreal location"), max_length=2, choices=MontrealLocation.choices, blank=True
    )
    upper_gi = models.BooleanField(_("upper GI disease (Montreal L4)"), default=False)
    montreal_behavior = models.CharField(
        _("Montreal behaviour"), max_length=2, choices=MontrealBehavior.choices, blank=True
    )
    perianal = models.BooleanField(_("perianal disease (Montreal p)"), default=False)

    reproductive_potential = models.BooleanField(
        _("reproductive potential"),
        null=True,
        blank=True,
        help_text=_(
            "R5.1: every female patient unless an exemption below is recorded. "
            "Leave empty to apply the rule."
        ),
    )
    non_reproductive_reason = models.CharField(
        _("exemption (R5.1)"),
        max_length=32,
        choices=NonReproductiveReason.choices,
        blank=True,
        help_text=_("Required to record a female patient as not of reproductive potential."),
    )
    premenarchal = models.BooleanField(
        default=False, help_text=_("Exempt until menarche; reviewed at every visit (R5.1).")
    )
    irregular_cycles = models.BooleanField(
        _("irregular cycles"),
        null=True,
        blank=True,
        help_text=_("Sets the pregnancy-test interval (R5.2). Unknown counts as irregular."),
    )
    contraception_start = models.DateField(
        _("contraception start"),
        null=True,
        blank=True,
        help_text=_("Start of two methods of contraception (R5.3); at least 28 days before the first dose."),
    )

    smoker = models.BooleanField(default=False)
    ileocolic_resection = models.BooleanField(
        _("ileocolic resection"),
        default=False,
        help_text=_("Crohn's disease only. Allows the Rutgeerts score (R1.5)."),
    )
    prior_biologic = models.BooleanField(_("prior biologic"), default=False)
    xanthine_oxidase_inhibitor = models.BooleanField(
        _("allopurinol or febuxostat"),
        default=False,
        help_text=_("Limits the azathioprine dose (R4.1)."),
    )

    tpmt = models.CharField(
        _("TPMT status"), max_length=12, choices=Genotype.choices, default=Genotype.UNKNOWN
    )
    nudt15 = models.CharField(
        _("NUDT15 status"), max_length=12, choices=Genotype.choices, default=Genotype.UNKNOWN
    )

    baseline_cdai = models.DecimalField(
        _("baseline CDAI"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=decimal_range(0, 1100, _("points"), _("Baseline CDAI")),
        help_text=_("CDAI at loss of response (day 0). Empty: taken from the visit in days −14 to 0 (R2.1)."),
    )
    crp_at_lor = models.DecimalField(
        _("CRP at loss of response (mg/L)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=decimal_range(0, 500, "mg/L", _("CRP at loss of response")),
    )
    esr_at_lor = models.DecimalField(
        _("ESR at loss of response (mm/h)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=decimal_range(0, 150, "mm/h", _("ESR at loss of response")),
    )
    tgn_on_aza_mono = models.DecimalField(
        _("6-TGN on AZA monotherapy (pmol/8×10⁸ RBC)"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=decimal_range(0, 3000, "pmol/8×10⁸ RBC", _("6-TGN on AZA monotherapy")),
    )

    status = models.CharField(
        _("follow-up status"), max_length=12, choices=FollowUpStatus.choices, default=FollowUpStatus.ACTIVE
    )
    status_date = models.DateField(
        _("status date"), null=True, blank=True, help_text=_("Required unless under follow-up.")
    )

    site = models.ForeignKey(
        "sites.Site",
        verbose_name=_("site"),
        on_delete=models.PROTECT,
        related_name="patients",
        help_text=_("The clinic that treats the patient. Only its members see the record."),
    )

    responsible_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible clinician"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patients_as_clinician",
    )
    responsible_nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible nurse"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patients_as_nurse",
    )
    care_team_only = models.BooleanField(
        _("restricted to the care team"),
        default=False,
        help_text=_(
            "Only the responsible clinician and the responsible nurse may open this record "
            "(e.g. a member of staff treated in their own clinic). The patient still counts in "
            "cohort reports, by code only. Needs a responsible clinician."
        ),
    )

    version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        permissions = [
            ("view_patient_identity", _("Can see patients' names")),
        ]
        indexes = [
            # Every list leaves out the records restricted to another care team: few rows,
            # read on every page (thalimon.access.hidden_patient_ids).
            models.Index(
                fields=["id"],
                include=["responsible_clinician", "responsible_nurse"],
                condition=models.Q(care_team_only=True),
                name="patient_care_team_only",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("code"),
                name="patient_code_unique_ignoring_case",
                violation_error_message=_(
                    "Patient code: a patient with this code already exists "
                    "(codes are compared ignoring case)."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(height_cm__isnull=True)
                | models.Q(height_cm__gte=40, height_cm__lte=250),
                name="patient_height_plausible",
                violation_error_message=_("Height must be between 40 and 250 cm."),
            ),
            models.CheckConstraint(
                condition=models.Q(diagnosis="CD")
                | models.Q(
                    montreal_location="",
                    montreal_behavior="",
                    upper_gi=False,
                    perianal=False,
                    ileocolic_resection=False,
                ),
                name="patient_montreal_only_for_cd",
                violation_error_message=_("Montreal classification applies to Crohn's disease only."),
            ),
            models.CheckConstraint(
                condition=models.Q(care_team_only=False) | models.Q(responsible_clinician__isnull=False),
                name="patient_restricted_has_clinician",
                violation_error_message=_(
                    "Restricted to the care team: choose a responsible clinician, "
                    "or nobody could treat the patient."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(diagnosis="AID") | models.Q(aid_type=""),
                name="patient_aid_type_only_for_aid",
                violation_error_message=_("The autoinflammatory disease type applies to AID only."),
            ),
        ]

    def __str__(self):
        return self.code

    def get_absolute_url(self):
        return reverse("patients:detail", args=[self.code])

    # --- cross-field validation (shared by form, import and admin) ---------
    def in_care_team(self, user):
        """The responsible clinician or nurse of this patient."""
        return user.pk is not None and user.pk in (self.responsible_clinician_id, self.responsible_nurse_id)

    def may_be_opened_by(self, user):
        """Object-level access: a record opens only for the members of its site and, when
        restricted, for its care team only (``PatientQuerySet.visible_to`` in SQL)."""
        if self.site_id not in site_ids_of(user):
            return False
        return not self.care_team_only or self.in_care_team(user)

    def _clean_diagnosis(self, errors):
        """Montreal, resection and AID type apply to their own diagnosis only."""
        if self.diagnosis != Diagnosis.CD:
            for name in ("montreal_location", "montreal_behavior"):
                if getattr(self, name):
                    errors[name] = gettext(
                        "%(field)s applies to Crohn's disease only; clear it or change the diagnosis to CD."
                    ) % {"field": capfirst(str(self._meta.get_field(name).verbose_name))}
            for name in ("upper_gi", "perianal"):
                if getattr(self, name):
                    errors[name] = gettext(
                        "%(field)s is a Montreal modifier for Crohn's disease only; untick it or change the "
                        "diagnosis to CD."
                    ) % {"field": capfirst(str(self._meta.get_field(name).verbose_name))}
            if self.ileocolic_resection:
                # Rutgeerts scores (R1.5) exist only after ileocolonic resection for
                # Crohn's disease: the flag contradicts any other diagnosis.
                errors["ileocolic_resection"] = gettext(
                    "Ileocolic resection (which allows Rutgeerts scoring) is recorded for "
                    "Crohn's disease only; untick it or change the diagnosis to CD."
                )
        if self.diagnosis == Diagnosis.AID and not self.aid_type:
            errors["aid_type"] = gettext("Autoinflammatory disease: choose the disease type (or 'Other').")
        if self.diagnosis != Diagnosis.AID and self.aid_type:
            errors["aid_type"] = gettext(
                "Autoinflammatory disease type applies to AID only; clear it or change the diagnosis."
            )

    def clean(self):
        errors = {}
        self.code = (self.code or "").strip()
        today = timezone.localdate()
        if self.birth_date and self.birth_date > today:
            errors["birth_date"] = gettext("Birth date cannot be in the future (today is %(today)s).") % {
                "today": saying.day(today)
            }
        if self.birth_date and self.birth_date.year < 1900:
            errors["birth_date"] = gettext("Birth date must be on or after 1900-01-01.")

        if self.care_team_only and not self.responsible_clinician_id:
            errors["responsible_clinician"] = gettext(
                "Responsible clinician: required when the record is restricted to the care team "
                "(otherwise nobody could treat the patient)."
            )
        self._clean_diagnosis(errors)

        if self.sex == Sex.MALE:
            for name, label in (
                ("premenarchal", gettext("Premenarchal")),
                ("non_reproductive_reason", gettext("Exemption (R5.1)")),
            ):
                if getattr(self, name):
                    errors[name] = gettext("%(field)s applies to female patients only.") % {"field": label}
            if self.irregular_cycles is not None:
                errors["irregular_cycles"] = gettext(
                    "Irregular cycles applies to female patients only; leave it empty."
                )
        if self.sex == Sex.FEMALE:
            if self.reproductive_potential is False and not (
                self.non_reproductive_reason or self.premenarchal
            ):
                # R5.1: the safe default. A woman is of reproductive potential unless
                # one of the recorded exemptions applies.
                errors["reproductive_potential"] = gettext(
                    "Reproductive potential: a female patient is of reproductive potential "
                    "unless an exemption is recorded (hysterectomy, bilateral oophorectomy, "
                    "≥ 24 months without menses, or premenarchal). Record the exemption or "
                    "leave this empty."
                )
            if self.reproductive_potential is True and (
                self.non_reproductive_reason or self.premenarchal
            ):
                errors["reproductive_potential"] = gettext(
                    "Reproductive potential is ticked but an exemption is recorded; "
                    "choose one or the other."
                )

        if self.status == FollowUpStatus.ACTIVE and self.status_date:
            errors["status_date"] = gettext("Status date is only for died, transferred or lost to follow-up.")
        if self.status != FollowUpStatus.ACTIVE and not self.status_date:
            errors["status_date"] = gettext("Status date is required when the status is '%(status)s'.") % {
                "status": self.get_status_display()
            }
        if self.status_date and self.status_date > today:
            errors["status_date"] = gettext("Status date cannot be in the future (today is %(today)s).") % {
                "today": saying.day(today)
            }
        if self.contraception_start and self.contraception_start > today:
            errors["contraception_start"] = gettext(
                "Contraception start cannot be in the future (today is %(today)s)."
            ) % {"today": saying.day(today)}
        if errors:
            raise ValidationError(errors)

    # --- derived facts -------------------------------------------------------
    @property
    def is_female_of_reproductive_potential(self):
        return demographics.female_of_reproductive_potential(
            sex=self.sex,
            recorded=self.reproductive_potential,
            exemption=self.non_reproductive_reason,
            premenarchal=self.premenarchal,
        )

    def age_on(self, day):
        return demographics.age_in_years(self.birth_date, day)

    @property
    def montreal_summary(self):
        if self.diagnosis != Diagnosis.CD:
            return ""
        parts = []
        if self.montreal_location:
            parts.append(self.montreal_location + (" + L4" if self.upper_gi else ""))
        elif self.upper_gi:
            parts.append("L4")
        if self.montreal_behavior:
            parts.append(self.montreal_behavior + ("p" if self.perianal else ""))
        elif self.perianal:
            parts.append("perianal")
        return ", ".join(parts)


class Transfer(models.Model):
    """A patient's move from one site of the network to another (issue 18): the patient
    belongs to one site at a time (``Patient.site``), and each move is kept here, with its
    history, so both sites' periods of care can be stated. Not the follow-up status
    "transferred" (a patient leaving the care of the network, R2/R8): that is
    ``Patient.status``. Written only by ``patients.actions.patient_transfer``."""

    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="transfers")
    from_site = models.ForeignKey(
        Site, verbose_name=_("from site"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_site = models.ForeignKey(
        Site, verbose_name=_("destination site"), on_delete=models.PROTECT, related_name="transfers_in",
        error_messages={
            "null": _("Destination site: required; choose one of the network's other sites."),
            "invalid": _("Destination site: unknown site; choose one of the network's other sites."),
        },
    )
    date = models.DateField(
        _("transfer date"), help_text=_("The day the destination site took over the patient's care."),
        error_messages={"null": _("Transfer date: required.")},
    )
    reason = models.CharField(
        _("reason"), max_length=500,
        error_messages={"blank": _("Reason: required; say why the patient moves (e.g. moved house, referred).")},
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("transfer between sites")
        verbose_name_plural = _("transfers between sites")
        permissions = [("transfer_patient", _("Can transfer a patient to another site of the network"))]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_site=models.F("to_site")),
                name="transfer_between_two_sites",
                violation_error_message=_("Destination site: the patient is already at this site; choose another."),
            ),
        ]
        indexes = [
            # The Transfers page: a site's transfers out and in, newest first.
            models.Index(fields=["from_site", "-date"], name="transfer_out_by_date"),
            models.Index(fields=["to_site", "-date"], name="transfer_in_by_date"),
        ]

    def __str__(self):
        return f"{self.patient.code} {self.from_site.code} → {self.to_site.code} {self.date:%Y-%m-%d}"

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.to_site_id is not None and self.to_site_id == self.from_site_id:
            errors["to_site"] = gettext("Destination site: the patient is already at this site; choose another.")
        if self.date and self.date > today:
            errors["date"] = gettext("Transfer date cannot be in the future (today is %(today)s).") % {
                "today": saying.day(today)
            }
        if errors:
            raise ValidationError(errors)
