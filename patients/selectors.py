"""Reads about patients for pages (HackSoft-style selectors)."""

from datetime import timedelta

from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DecimalField,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients import periods
from patients.models import IDENTITY_FIELDS, Patient, Transfer, site_ids_of
from safety import schedule
from safety.models import OPEN_STATES, URGENT_TIERS, AdverseEvent, Alert, Reminder
from thalimon import saying
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
#
# They are written as SQL once (``RawSQL``, table and column names from the models): built
# as ORM subqueries, compiling the eight of them cost each list page about as much as all its
# other queries together (measured by bench/pages.py), for the same SQL.
def _clinic_column_sql():
    from django.db import connection

    def table(model):
        return connection.ops.quote_name(model._meta.db_table)

    dose, visit, reminder, alert = table(DoseChange), table(Visit), table(Reminder), table(Alert)
    open_states = ", ".join(f"'{state}'" for state in OPEN_STATES)
    urgent_tiers = ", ".join(f"'{tier}'" for tier in URGENT_TIERS)
    last_dose = (f"(SELECT d.dose_mg FROM {dose} d WHERE d.patient_id = {{patient}} AND d.drug = '{{drug}}' "
                 f"AND d.date <= %s ORDER BY d.date DESC, d.id DESC LIMIT 1)")
    clinic = f"FROM {visit} v WHERE v.patient_id = {{patient}} AND v.contact = '{Contact.CLINIC}' AND v.date <= %s"
    scored = f"{clinic} AND v.clinical_status <> ''"
    open_reminder = f"FROM {reminder} r WHERE r.patient_id = {{patient}} AND r.state IN ({open_states}) ORDER BY r.due, r.id LIMIT 1"
    return {
        "thal_dose": (last_dose.replace("{drug}", Drug.THALIDOMIDE), DecimalField(max_digits=5, decimal_places=1), 1),
        "aza_dose": (last_dose.replace("{drug}", Drug.AZATHIOPRINE), DecimalField(max_digits=5, decimal_places=1), 1),
        "last_visit": (f"(SELECT v.date {clinic} ORDER BY v.date DESC, v.id DESC LIMIT 1)", DateField(), 1),
        "last_status": (f"(SELECT v.clinical_status {scored} ORDER BY v.date DESC, v.id DESC LIMIT 1)", CharField(), 1),
        "last_status_date": (f"(SELECT v.date {scored} ORDER BY v.date DESC, v.id DESC LIMIT 1)", DateField(), 1),
        "next_due": (f"(SELECT r.due {open_reminder})", DateField(), 0),
        "next_due_kind": (f"(SELECT r.kind {open_reminder})", CharField(), 0),
        "has_urgent": (f"EXISTS (SELECT 1 FROM {alert} a WHERE a.patient_id = {{patient}} "
                       f"AND a.tier IN ({urgent_tiers}) AND a.resolved_at IS NULL)", BooleanField(), 0),
    }


_CLINIC_SQL = {}


def clinic_columns(patient_ref, today):
    """Annotations for the rows of patients (``patient_ref`` = "pk") or of their reminders
    ("patient_id"): current thalidomide and azathioprine doses, the latest clinic visit and
    outcome status, the earliest open reminder (date and kind), any open urgent event."""
    from django.db import connection

    if patient_ref not in _CLINIC_SQL:
        model, column = (Patient, "id") if patient_ref == "pk" else (Reminder, "patient_id")
        outer = f"{connection.ops.quote_name(model._meta.db_table)}.{connection.ops.quote_name(column)}"
        _CLINIC_SQL[patient_ref] = {
            name: (sql.replace("{patient}", outer), field, n_dates)
            for name, (sql, field, n_dates) in _clinic_column_sql().items()
        }
    return {
        name: RawSQL(sql, (today,) * n_dates, output_field=field)
        for name, (sql, field, n_dates) in _CLINIC_SQL[patient_ref].items()
    }


CLINIC_COLUMNS = (
    "thal_dose", "aza_dose", "last_visit", "last_status", "last_status_date", "next_due", "next_due_kind",
    "has_urgent",
)


def attach_clinic_columns(rows, today, patient_id=lambda row: row.pk, *, columns=CLINIC_COLUMNS, patient_fields=()):
    """Set the clinic ``columns`` on ``rows`` (a page's patients, or reminders with
    ``patient_id=lambda r: r.patient_id``) from one query on their patients; none without rows.
    With ``patient_fields`` (rows read without their patient), each row's ``patient`` is set
    too, read with only those fields in the same query."""
    ids = {patient_id(row) for row in rows}
    if not ids:
        return rows
    every = clinic_columns("pk", today)
    found = Patient.objects.filter(pk__in=ids).annotate(**{name: every[name] for name in columns})
    if patient_fields:
        patients = {patient.pk: patient for patient in found.only(*patient_fields)}
        for row in rows:
            row.patient = patient = patients[patient_id(row)]
            for name in columns:
                setattr(row, name, getattr(patient, name))
        return rows
    columns_of = {values.pop("pk"): values for values in found.values("pk", *columns)}
    for row in rows:
        for name, value in columns_of[patient_id(row)].items():
            setattr(row, name, value)
    return rows


def attach_care_team(patients):
    """Set ``responsible_clinician`` and ``responsible_nurse`` on a page of patients from one
    query on their users (a prefetch reads each relation in its own query; a join before the
    sort made PostgreSQL join every match of a broad search)."""
    from django.contrib.auth import get_user_model

    ids = {pk for p in patients for pk in (p.responsible_clinician_id, p.responsible_nurse_id) if pk}
    users = get_user_model().objects.in_bulk(ids) if ids else {}
    for patient in patients:
        patient.responsible_clinician = users.get(patient.responsible_clinician_id)
        patient.responsible_nurse = users.get(patient.responsible_nurse_id)
    return patients


# Filters of the patient list: (label, what a patient must have).
LIST_FILTERS = {
    "due_week": _("Due this week"),
    "overdue": _("Overdue"),
    "urgent": _("Urgent"),
}
# Sorts of the patient list: key -> (label, order); names only for the roles that see them.
LIST_SORTS = {
    "code": (_("Code"), ("code",)),
    "name": (_("Name"), ("full_name", "code")),
    "last_visit": (_("Last visit (latest first)"), (F("last_visit").desc(nulls_last=True), "code")),
    "next_due": (_("Next due (soonest first)"), (F("next_due").asc(nulls_last=True), "code")),
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
    text = gettext("%(drug)s %(dose)s mg/day from %(date)s") % {
        "drug": record.get_drug_display(), "dose": f"{record.dose_mg.normalize():f}", "date": saying.day(record.date),
    }
    findings = [str(catalogue_label(therapy_words.FINDINGS, code)) for code in dict.fromkeys(
        [*(record.deviations or []), *(record.warnings or [])])]
    if findings:
        words = ", ".join(findings)
        text += " " + (gettext("(%(findings)s; overridden)") if record.override_reason else "(%(findings)s)") % {
            "findings": words
        }
    return text


# Each kind of clinical record kept with history: (label, model, how one version is named).
def _dated(label):
    return lambda record: gettext("%(record)s %(date)s") % {"record": label, "date": saying.day(record.date)}


HISTORY_KINDS = {
    "patient": (_("Patient record"), None, lambda record: gettext("Patient record")),
    "course": (_("Thalidomide course"), TherapyCourse, lambda record: gettext("Thalidomide course")),
    "dose": (_("Dose changes"), DoseChange, lambda record: _dose_subject(record)),
    "pregnancy": (_("Pregnancy tests"), PregnancyTest, lambda record: gettext("Pregnancy test %(date)s: %(result)s") % {
        "date": saying.day(record.date), "result": record.get_result_display().lower()}),
    "visit": (_("Visits"), Visit, _dated(_("Visit"))),
    "lab": (_("Lab results"), LabResult, lambda record: (
        f"{saying.render(labs.LAB_TESTS[record.test].label)} {saying.day(record.date)}: "
        f"{record.value.normalize():f} {labs.LAB_TESTS[record.test].unit}")),
    "endoscopy": (_("Endoscopies"), Endoscopy, _dated(_("Endoscopy"))),
    "adverse_event": (_("Adverse events"), AdverseEvent, lambda record: gettext(
        "Adverse event from %(date)s, grade %(grade)s") % {"date": saying.day(record.onset), "grade": record.grade}),
    "transfer": (_("Transfers between sites"), Transfer, _dated(_("Transfer to another site"))),
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


# --- sites: the periods of care and the transfers (issue 18) -----------------------------------
def first_care_day(patient):
    """The patient's first recorded care (``periods.first_care``): one query."""
    first_visit = Visit.objects.filter(patient_id=patient.pk).aggregate(first=Min("date"))["first"]
    created = timezone.localdate(patient.created_at) if patient.created_at else None
    return periods.first_care(created, first_visit)


def care_periods(patient):
    """The patient's periods of care at the sites of the network, oldest first
    (``patients.periods.care_periods``): two queries (the first visit; the transfers with
    their site codes), whatever the number of transfers."""
    moves = [
        periods.Move(from_code, to_code, day)
        for from_code, to_code, day in Transfer.objects.filter(patient_id=patient.pk)
        .order_by("date", "pk").values_list("from_site__code", "to_site__code", "date")
    ]
    return periods.care_periods(current_site=patient.site.code, first_care=first_care_day(patient), moves=moves)


def site_transfers(user):
    """The transfers into and out of ``user``'s sites, newest first, codes only, for the
    Transfers page: (rows, how many are left out). A transfer of a record restricted to a
    care team the user is not in is counted, never listed, not even by code (as the report's
    drill-down does). Each row says whether the user may open the patient now (``opens``)."""
    site_ids = site_ids_of(user)
    transfers = Transfer.objects.filter(Q(from_site_id__in=site_ids) | Q(to_site_id__in=site_ids))
    hidden = Patient.objects.hidden_pks(user)
    if isinstance(hidden, list) and not hidden:
        left_out = transfers.none()
    else:
        left_out = transfers.filter(patient_id__in=hidden)
        transfers = transfers.exclude(patient_id__in=hidden)
    rows = (
        transfers.select_related("patient", "from_site", "to_site", "recorded_by")
        .only("date", "recorded_at", "patient__code", "patient__site_id", "from_site__code", "to_site__code",
              "recorded_by__username", "recorded_by__first_name", "recorded_by__last_name")
        .order_by("-date", "-pk")
    )
    return rows, left_out
