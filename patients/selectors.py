"""Reads about patients for pages (HackSoft-style selectors)."""

from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Subquery

from patients.models import IDENTITY_FIELDS, Patient
from safety import schedule
from safety.models import OPEN_STATES, URGENT_TIERS, AdverseEvent, Alert, Reminder
from thalimon.catalogue import label as catalogue_label
from thalimon.history import history_entries
from thalimon.rules_config import rule_settings
from therapy import words as therapy_words
from therapy.models import DoseChange, Drug, PregnancyTest, TherapyCourse
from visits import labs, outcomes
from visits.models import Contact, Endoscopy, LabResult, Visit


def relapse_risk_flags(patient):
    """R2.7 flags from the patient's baseline at loss of response."""
    rules = rule_settings()
    return outcomes.relapse_risk_flags(
        crp_at_lor=patient.crp_at_lor,
        tgn_on_aza_mono=patient.tgn_on_aza_mono,
        crp_above=rules.risk_crp_at_lor_above,
        tgn_at_least=rules.risk_tgn_at_least,
    )


def patient_history(patient, *, show_identity):
    hidden = () if show_identity else IDENTITY_FIELDS
    return history_entries(patient.history.all(), hidden_fields=hidden)


# --- the clinic columns of the patient list and the inbox ----------------------------------
# Each a correlated subquery on an indexed (patient, …) key: DoseChange (patient, drug, date),
# Visit (patient, date), Reminder (patient, state), Alert's partial index of open urgent
# events. The patient list computes them in its page query (an index scan by code under the
# LIMIT evaluates them for the page's rows only); the inbox attaches them after its sections
# are cut (attach_clinic_columns), as its union's plan evaluated them for every overdue
# reminder before the sort.
def clinic_columns(patient_ref, today):
    """Annotations for the rows of patients (``patient_ref`` = "pk") or of their reminders
    ("patient_id"): current thalidomide and azathioprine doses, the latest clinic visit and
    outcome status, the earliest open reminder (date and kind), any open urgent event."""
    patient = OuterRef(patient_ref)

    def dose(drug):
        rows = DoseChange.objects.filter(patient=patient, drug=drug, date__lte=today).order_by("-date", "-pk")
        return Subquery(rows.values("dose_mg")[:1])

    clinic = Visit.objects.filter(patient=patient, contact=Contact.CLINIC, date__lte=today).order_by("-date", "-pk")
    scored = clinic.exclude(clinical_status="")
    reminders = Reminder.objects.filter(patient=patient, state__in=OPEN_STATES).order_by("due", "pk")
    return {
        "thal_dose": dose(Drug.THALIDOMIDE),
        "aza_dose": dose(Drug.AZATHIOPRINE),
        "last_visit": Subquery(clinic.values("date")[:1]),
        "last_status": Subquery(scored.values("clinical_status")[:1]),
        "last_status_date": Subquery(scored.values("date")[:1]),
        "next_due": Subquery(reminders.values("due")[:1]),
        "next_due_kind": Subquery(reminders.values("kind")[:1]),
        "has_urgent": Exists(Alert.objects.filter(patient=patient, tier__in=URGENT_TIERS, resolved_at__isnull=True)),
    }


CLINIC_COLUMNS = (
    "thal_dose", "aza_dose", "last_visit", "last_status", "last_status_date", "next_due", "next_due_kind",
    "has_urgent",
)


def attach_clinic_columns(rows, today, patient_id=lambda row: row.pk):
    """Set the clinic columns on ``rows`` (a page's patients, or reminders with
    ``patient_id=lambda r: r.patient_id``) from one query on their patients; none without rows."""
    ids = {patient_id(row) for row in rows}
    if not ids:
        return rows
    found = Patient.objects.filter(pk__in=ids).annotate(**clinic_columns("pk", today)).values("pk", *CLINIC_COLUMNS)
    columns = {values.pop("pk"): values for values in found}
    for row in rows:
        for name, value in columns[patient_id(row)].items():
            setattr(row, name, value)
    return rows


# Filters of the patient list: (label, what a patient must have).
LIST_FILTERS = {
    "due_week": "Due this week",
    "overdue": "Overdue",
    "urgent": "Urgent",
}
# Sorts of the patient list: key -> (label, order); names only for the roles that see them.
LIST_SORTS = {
    "code": ("Code", ("code",)),
    "name": ("Name", ("full_name", "code")),
    "last_visit": ("Last visit (latest first)", (F("last_visit").desc(nulls_last=True), "code")),
    "next_due": ("Next due (soonest first)", (F("next_due").asc(nulls_last=True), "code")),
}


def patient_rows(patients, *, today, show=None, seen_on=None, sort="code"):
    """The patient list's rows: ``patients`` with the clinic columns, filtered (``show`` one
    of LIST_FILTERS; ``seen_on``: a clinic visit that day) and sorted (LIST_SORTS)."""
    rows = patients.annotate(**clinic_columns("pk", today))
    if show == "due_week":
        rows = rows.filter(next_due__lte=today + timedelta(days=7))
    elif show == "overdue":
        rows = rows.filter(next_due__lt=schedule.overdue_before(today))
    elif show == "urgent":
        rows = rows.filter(has_urgent=True)
    if seen_on:
        rows = rows.filter(Exists(Visit.objects.filter(patient=OuterRef("pk"), contact=Contact.CLINIC, date=seen_on)))
    return rows.order_by(*LIST_SORTS.get(sort, LIST_SORTS["code"])[1])


# --- the patient's full history -----------------------------------------------------------
def _dose_subject(record):
    """A dose row as the history names it, with its rule findings in words (stored as codes)."""
    text = f"{record.get_drug_display()} {record.dose_mg.normalize():f} mg/day from {record.date:%Y-%m-%d}"
    findings = [str(catalogue_label(therapy_words.FINDINGS, code)) for code in dict.fromkeys(
        [*(record.deviations or []), *(record.warnings or [])])]
    if findings:
        text += f" ({', '.join(findings)}{'; overridden' if record.override_reason else ''})"
    return text


# Each kind of clinical record kept with history: (label, model, how one version is named).
def _dated(label):
    return lambda record: f"{label} {record.date:%Y-%m-%d}"


HISTORY_KINDS = {
    "patient": ("Patient record", None, lambda record: "Patient record"),
    "course": ("Thalidomide course", TherapyCourse, lambda record: "Thalidomide course"),
    "dose": ("Dose changes", DoseChange, lambda record: _dose_subject(record)),
    "pregnancy": ("Pregnancy tests", PregnancyTest,
                  lambda record: f"Pregnancy test {record.date:%Y-%m-%d}: {record.get_result_display().lower()}"),
    "visit": ("Visits", Visit, _dated("Visit")),
    "lab": ("Lab results", LabResult, lambda record: (
        f"{labs.LAB_TESTS[record.test].label} {record.date:%Y-%m-%d}: "
        f"{record.value.normalize():f} {labs.LAB_TESTS[record.test].unit}")),
    "endoscopy": ("Endoscopies", Endoscopy, _dated("Endoscopy")),
    "adverse_event": ("Adverse events", AdverseEvent,
                      lambda record: f"Adverse event from {record.onset:%Y-%m-%d}, grade {record.grade}"),
}


def patient_full_history(patient, *, show_identity, kind=None):
    """Every change to the patient's clinical record — demographics, course, doses, pregnancy
    tests, visits, labs, endoscopies, adverse events — newest first, each naming its record;
    ``kind`` keeps one of ``HISTORY_KINDS``. Two queries per kind, whatever the number of changes."""
    entries = []
    for key, (_label, model, name) in HISTORY_KINDS.items():
        if kind and key != kind:
            continue
        if model is None:
            found = patient_history(patient, show_identity=show_identity)
        else:
            found = history_entries(model.history.filter(patient_id=patient.pk))
        for entry in found:
            entry.kind = key
            entry.subject = name(entry.record)
        entries += found
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries
