"""Safety records: adverse events (R6), alerts (R4.4) and reminders (R7)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from patients.models import Patient
from safety.kinds import REMINDER_KINDS
from thalimon import saying
from thalimon.fields import SaidField

# --- R6 adverse events ------------------------------------------------------------
AE_TERMS = [
    ("peripheral_neuropathy", _("Peripheral neuropathy (numbness, acroanaesthesia, paraesthesia)")),
    ("somnolence", _("Somnolence")),
    ("vertigo", _("Vertigo")),
    ("fatigue", _("Fatigue")),
    ("insomnia", _("Insomnia")),
    ("leukopenia", _("Leukopenia")),
    ("constipation", _("Constipation")),
    ("arthralgia", _("Arthralgia")),
    ("menstrual_disorder", _("Menstrual disorder")),
    ("alopecia", _("Alopecia")),
    ("pulmonary_infection", _("Pulmonary infection")),
    ("blurred_vision", _("Blurred vision")),
    ("tremor", _("Tremor")),
    ("chest_distress", _("Chest distress")),
    ("venous_thromboembolism", _("Venous thromboembolism")),
    ("rash", _("Rash (dermatitis, erythra)")),
    ("herpes_zoster", _("Herpes zoster (varicella, shingles)")),
    ("anorexia", _("Anorexia (lack of appetite)")),
    ("bradycardia", _("Bradycardia")),
    ("nausea", _("Nausea")),
    ("hepatotoxicity", _("Hepatotoxicity")),
    ("pancreatitis", _("Pancreatitis")),
    ("thrombocytopenia", _("Thrombocytopenia")),
    ("other", _("Other (describe)")),
]
NERVOUS_SYSTEM = {"peripheral_neuropathy", "somnolence", "vertigo", "fatigue", "insomnia"}


class AttributedDrug(models.TextChoices):
    THALIDOMIDE = "thalidomide", _("Thalidomide")
    AZATHIOPRINE = "azathioprine", _("Azathioprine")
    BOTH = "both", _("Both")
    UNRELATED = "unrelated", _("Unrelated")


class DrugAction(models.TextChoices):
    NONE = "none", _("None")
    REDUCED = "reduced", _("Dose reduced")
    INTERRUPTED = "interrupted", _("Drug interrupted")
    WITHDRAWN = "withdrawn", _("Drug withdrawn")


class AdverseEvent(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adverse_events")
    onset = models.DateField(_("onset date"))
    term = models.CharField(max_length=32, choices=AE_TERMS)
    term_text = models.CharField(_("description"), max_length=200, blank=True, help_text=_("Required for 'Other'."))
    grade = models.PositiveSmallIntegerField(
        _("CTCAE grade"), choices=[(g, format_lazy(_("Grade {grade}"), grade=g)) for g in range(1, 6)]
    )
    serious = models.BooleanField(default=False)
    drug = models.CharField(_("attributed drug"), max_length=12, choices=AttributedDrug.choices)
    action_thalidomide = models.CharField(
        _("action on thalidomide"), max_length=12, choices=DrugAction.choices, default=DrugAction.NONE
    )
    action_azathioprine = models.CharField(
        _("action on azathioprine"), max_length=12, choices=DrugAction.choices, default=DrugAction.NONE
    )
    hospitalised = models.BooleanField(default=False)
    resolved = models.DateField(_("resolution date"), null=True, blank=True, help_text=_("Empty = ongoing."))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "onset", "term"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "onset", "term"],
                name="ae_unique_per_patient_onset_term",
                violation_error_message=_("This patient already has this adverse event with that onset date."),
            ),
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=5),
                name="ae_grade_1_5",
                violation_error_message=_("CTCAE grade must be 1–5."),
            ),
            models.CheckConstraint(
                condition=models.Q(resolved__isnull=True) | models.Q(resolved__gte=models.F("onset")),
                name="ae_resolved_not_before_onset",
                violation_error_message=_("Resolution date cannot be before the onset."),
            ),
        ]

    def __str__(self):
        return f"{self.patient.code} {self.term} {self.onset:%Y-%m-%d}"

    @property
    def label(self):
        return self.term_text if self.term == "other" else self.get_term_display()

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.onset and self.onset > today:
            errors["onset"] = gettext("Onset date cannot be in the future (today is %(today)s).") % {"today": saying.day(today)}
        if self.resolved and self.resolved > today:
            errors["resolved"] = gettext("Resolution date cannot be in the future (today is %(today)s).") % {
                "today": saying.day(today)}
        if self.resolved and self.onset and self.resolved < self.onset:
            errors["resolved"] = gettext("Resolution date cannot be before the onset.")
        if self.term == "other" and not self.term_text.strip():
            errors["term_text"] = gettext("Description: say what the event was (required for 'Other', R6).")
        if self.term != "other" and self.term_text.strip():
            errors["term_text"] = gettext("Description is only for 'Other'; choose the listed term.")
        if errors:
            raise ValidationError(errors)


class AdverseEventNote(models.Model):
    event = models.ForeignKey(AdverseEvent, on_delete=models.CASCADE, related_name="notes")
    date = models.DateField()
    note = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["event", "date", "pk"]

    def __str__(self):
        return f"Follow-up of {self.event} on {self.date:%Y-%m-%d}"

    def clean(self):
        today = timezone.localdate()
        if self.date and self.date > today:
            raise ValidationError({"date": gettext("Note date cannot be in the future (today is %(today)s).")
                                   % {"today": saying.day(today)}})
        if self.date and self.event_id and self.date < self.event.onset:
            raise ValidationError({"date": gettext("A follow-up note cannot be dated before the onset.")})


# --- the patient's site on reminders and alerts (issue 18) -------------------------
def with_patient_site(rows, patients=()):
    """Set the ``site_id`` of new reminders or alerts that have none to their patient's
    site: from ``patients`` (Patient objects the caller holds), else the row's loaded
    patient, else one query for all the others. ``save()`` calls it for one row and the
    models' ``bulk_create`` for many; a COPY (the import) bypasses both, so calls it
    itself. Returns ``rows``."""
    missing = [row for row in rows if row.site_id is None]
    if not missing:
        return rows
    known = {patient.pk: patient.site_id for patient in patients}
    for row in missing:
        if row.patient_id not in known and type(row).patient.is_cached(row):
            known[row.patient_id] = row.patient.site_id
    unknown = {row.patient_id for row in missing} - known.keys()
    if unknown:
        known.update(Patient.objects.filter(pk__in=unknown).values_list("pk", "site_id"))
    for row in missing:
        row.site_id = known.get(row.patient_id)
    return rows


class OfPatientSiteQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Every bulk insert through the ORM (the scan, ``bulk_create_recorded``, the demo's
        import) fills the patient's site first (no query when the caller did)."""
        objs = with_patient_site(list(objs))
        return super().bulk_create(objs, *args, **kwargs)


class OfPatientSite(models.Model):
    """A row of one patient's safety record (reminders, alerts) carrying the patient's site."""

    # Denormalised: always equal to ``patient.site``. A site user's badge, inbox and counts
    # filter on the row's own site through the site-led partial indexes (``visible_q(user,
    # site_field="site_id")``) instead of joining every patient of the site: 16–20 ms a count
    # at 100,000 patients, measured (docs/architecture.md, **Sites**). Kept in step: set from
    # the patient on every creation (``with_patient_site``), moved with the patient by a
    # transfer (``safety.actions.move_to_site``); an import never moves a patient. No index
    # of its own: every read by site goes through the partial indexes.
    site = models.ForeignKey(
        "sites.Site", on_delete=models.PROTECT, related_name="+", editable=False, db_index=False,
        help_text="Always the patient's site (a copy, for the site users' reads); set from the patient.",
    )

    objects = OfPatientSiteQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        with_patient_site([self])
        super().save(*args, **kwargs)


# --- alerts (R4.4 and the urgent safety alerts) ------------------------------------
class AlertKind:
    """What raised an alert (``Alert.kind``); urgent events use their code from
    ``therapy.rules.urgent.CODES`` (a withhold-tier lab alert is the urgent event itself)."""

    LAB = "lab"  # R4.4 laboratory alert, source "lab:<result id>"
    BRADYCARDIA = "bradycardia"  # R4.4 heart rate below 50/min on thalidomide, source "visit:<visit id>"


class AlertTier:
    REVIEW = "review"  # R4.4 tier A: acknowledged by whoever saw it
    WITHHOLD = "withhold"  # R4.4 tier B: urgent
    URGENT = "urgent"  # the other urgent events (therapy.rules.urgent)
    CLEARED = "cleared"  # a withhold-level result corrected or deleted: the event kept, closed by that data


URGENT_TIERS = (AlertTier.WITHHOLD, AlertTier.URGENT)


class Alert(OfPatientSite):
    """An R4.4 alert or an urgent event. An urgent one (tier withhold or urgent) stays open
    until its data arrives (the scan resolves it) or a clinician records a decision;
    acknowledging it only says who saw it. Carries its patient's site (``OfPatientSite``)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=40)  # lab | bradycardia | an urgent code
    tier = models.CharField(max_length=10)  # review | withhold | urgent
    source = models.CharField(max_length=40, help_text="e.g. lab:123 or visit:45")
    date = models.DateField()
    rule = models.CharField(max_length=8)
    reason = SaidField()
    suggest_adverse_event = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=20, blank=True, help_text="What resolves an urgent event.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The clinician who recorded the decision; empty when the data resolved it.",
    )
    resolution = SaidField(blank=True, help_text="The data that resolved it, or the clinician's decision.")
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When the urgent email was sent.")
    evidence_until = models.DateField(
        null=True, blank=True,
        help_text="The newest alarming datum behind an urgent event (frozen by a decision: newer data reopens it).",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind", "source"], name="alert_unique_per_source")
        ]
        indexes = [
            # The inbox, the badge and every patient page read the open urgent events.
            models.Index(
                fields=["patient"], condition=models.Q(resolved_at__isnull=True, tier__in=URGENT_TIERS),
                name="alert_open_urgent",
            ),
            # The badge and the inbox count review alerts nobody has acknowledged yet.
            models.Index(
                fields=["patient"],
                condition=models.Q(acknowledged_at__isnull=True, tier=AlertTier.REVIEW),
                name="alert_unacknowledged_review",
            ),
            # The same two for a user of some sites only: led by the row's own site.
            models.Index(
                fields=["site"], include=["patient"],
                condition=models.Q(resolved_at__isnull=True, tier__in=URGENT_TIERS),
                name="alert_open_urgent_by_site",
            ),
            models.Index(
                fields=["site"], include=["patient"],
                condition=models.Q(acknowledged_at__isnull=True, tier=AlertTier.REVIEW),
                name="alert_review_by_site",
            ),
        ]
        permissions = [("decide_alert", "Can close an urgent event with a recorded clinical decision")]

    def __str__(self):
        return f"{self.patient.code} {self.kind} {self.tier} {self.date:%Y-%m-%d}"

    @property
    def is_urgent(self):
        return self.tier in URGENT_TIERS

    @property
    def is_open(self):
        """An urgent event until resolved; a review alert until acknowledged."""
        return self.resolved_at is None if self.is_urgent else self.acknowledged_at is None


# --- R7 reminders ----------------------------------------------------------------------


class ReminderState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DONE = "done", _("Completed")  # no longer set: a note never closes a reminder; the scan reopens these
    AUTO_RESOLVED = "auto_resolved", _("Resolved by the data")
    DISMISSED = "dismissed", _("Dismissed by a clinician's decision")


OPEN_STATES = (ReminderState.OPEN, ReminderState.ACKNOWLEDGED)


class Reminder(OfPatientSite):
    """A reminder for the care team: unique on (patient, kind, due, subject), so a
    scan run twice, or two workers at once, creates nothing twice (R7). Carries its
    patient's site (``OfPatientSite``)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=32, choices=REMINDER_KINDS)
    due = models.DateField("due date")
    subject = models.CharField(max_length=40, blank=True, default="")
    reason = SaidField()
    action = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=14, choices=ReminderState.choices, default=ReminderState.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    snooze_reason = models.CharField(max_length=200, blank=True)
    completion_note = SaidField(blank=True, help_text="What closed it: the data, or the clinician's decision.")
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["due", "patient", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind", "due", "subject"], name="reminder_unique_natural_key"
            )
        ]
        indexes = [
            models.Index(fields=["state", "due"]),
            models.Index(fields=["patient", "state"]),
            # The inbox and the navigation badge read open reminders by due date: a partial
            # index in due order, covering what they filter on (index-only counts on PostgreSQL).
            models.Index(
                fields=["due", "id"],
                include=["patient", "snoozed_until", "kind", "escalated_to"],
                condition=models.Q(state__in=OPEN_STATES),
                name="reminder_open_by_due",
            ),
            # The same for a user of some sites only (the badge, the inbox's sections and
            # counts): the site's open reminders by due date, from the row's own site.
            models.Index(
                fields=["site", "due", "id"],
                include=["patient", "snoozed_until", "kind", "escalated_to"],
                condition=models.Q(state__in=OPEN_STATES),
                name="reminder_open_by_site_due",
            ),
        ]
        permissions = [
            ("work_reminder", "Can acknowledge, complete and snooze reminders"),
            ("work_clinician_reminder", "Can act on the reminders a clinician owns"),
            ("dismiss_reminder", "Can dismiss a reminder with a recorded clinical decision"),
        ]

    def __str__(self):
        return f"{self.patient.code} {self.kind} due {self.due:%Y-%m-%d}"

    @property
    def is_open(self):
        return self.state in OPEN_STATES


# --- the daily digest's deliveries ----------------------------------------------------------
class DigestState(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (to be retried)")
    WITHDRAWN = "withdrawn", _("Not retried: nothing due any more")


class DigestDelivery(models.Model):
    """One recipient's daily digest for one day: claimed before the email goes and marked
    after, so a re-delivered or re-run digest task never sends a recipient's digest twice,
    and a failed one is retried with backoff (``safety.digest``). No patient data here."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="The digest's date (its as_of).")
    state = models.CharField(max_length=10, choices=DigestState.choices, default=DigestState.SENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=100, blank=True, help_text="The class of the last fault only.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True,
        help_text="Failed: when it is retried. Sending: when the claim counts as abandoned (a crash) and is retried.",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_delivery_once_per_day")]
        indexes = [models.Index(fields=["day", "state", "next_attempt_at"], name="digest_delivery_due")]
        verbose_name_plural = "digest deliveries"

    def __str__(self):
        return f"digest {self.day:%Y-%m-%d} to user {self.user_id}: {self.state}"


# --- the nightly scan, fanned out in chunks ---------------------------------------------------
class ScanRun(models.Model):
    """One fanned-out reminder scan (``safety.fanout``): the patients split into chunks, one
    Celery task each. It is finished when its last chunk is; the daily digest waits for it
    (``digest_waiting_since``). No patient data here beyond ids."""

    as_of = models.DateField()
    task_id = models.CharField(max_length=64, blank=True,
                               help_text="The Celery task that planned it: a re-delivered task plans nothing twice.")
    chunk_size = models.PositiveIntegerField()
    patients = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When its last chunk finished.")
    digest_waiting_since = models.DateTimeField(
        null=True, blank=True, help_text="The daily digest fell due before the scan finished: it goes when it does.")

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["task_id"], condition=~models.Q(task_id=""),
                                               name="scan_run_once_per_task")]
        indexes = [models.Index(fields=["as_of", "started_at"], name="scan_run_day")]

    def __str__(self):
        return f"scan of {self.as_of:%Y-%m-%d} ({'finished' if self.finished_at else 'running'})"


class ScanChunkState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed (retries exhausted)")


class ScanChunk(models.Model):
    """One chunk of a ``ScanRun``: the patient ids one task scans in one call."""

    run = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    patient_ids = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=ScanChunkState.choices, default=ScanChunkState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="created, resolved, escalated, … of the chunk.")
    last_error = models.CharField(max_length=100, blank=True, help_text="The class of the last fault only.")

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="scan_chunk_once_per_run")]

    def __str__(self):
        return f"chunk {self.index} of run {self.run_id}: {self.state}"
