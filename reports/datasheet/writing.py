"""Writing a checked plan in bulk, with history (PostgreSQL).

New rows go in by COPY (ids drawn from the table's sequence first), changed rows
by one UPDATE … FROM VALUES per batch, each with its history rows as
simple_history's ``bulk_create_with_history`` / ``bulk_update_with_history``
would record them. The R4.4 alerts that the per-row signals would raise are
raised here for the rows written (the signals do not fire for bulk writes).
"""

from __future__ import annotations

import operator
from collections import defaultdict

from django.db import connection
from django.db.models import JSONField
from django.utils import timezone

from patients.models import Patient
from safety.actions import (
    bradycardia_alert_for,
    lab_alert_for,
    lab_alerts_refresh,
    visit_alerts_refresh,
)
from safety.models import Alert, with_patient_site
from thalimon.fields import SaidField
from therapy import records as therapy_records
from therapy.models import Drug, TherapyCourse
from visits.models import Visit

from .compute import COMPUTED_FIELDS
from .format import CHILD_FILES, FILES

BATCH_SIZE = 2000


# ---------------------------------------------------------------------------
# Bulk SQL
# ---------------------------------------------------------------------------


def bulk_update(model, objs, fields, *, actor=None, history=True):
    """UPDATE … FROM (VALUES …): one statement per batch, far cheaper than Django's
    CASE/WHEN ``bulk_update`` for thousands of rows; then the history rows, as
    ``bulk_update_with_history`` writes them."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        _portable_update(model, objs, fields, actor=actor, history=history)
        return
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    names = [pk.column] + [f.column for f in columns]
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    casts = [pk.db_type(connection)] + [f.db_type(connection) for f in columns]
    row_sql = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH_SIZE):
            batch = objs[start : start + BATCH_SIZE]
            params = []
            for obj in batch:
                params.append(obj.pk)
                params.extend(
                    f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns
                )
            cursor.execute(
                f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
                f"FROM (VALUES {', '.join([row_sql] * len(batch))}) "
                f"AS v({', '.join(quote(n) for n in names)}) "
                f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}",
                params,
            )
    if history:
        model.history.bulk_history_create(
            objs, batch_size=BATCH_SIZE, update=True, default_user=actor
        )


def _row_maker(fields, extra=None):
    """obj -> the list of COPY values of ``fields`` (attribute values as they are:
    psycopg adapts dates, numbers, text and booleans; JSON and reasons are prepared by
    their fields)."""
    extra = extra or {}
    names = [f.attname for f in fields if f.attname not in extra]
    getter = operator.attrgetter(*names)
    json_fields = [(i, f) for i, f in enumerate(fields) if isinstance(f, (JSONField, SaidField))]
    positions = [(i, extra[f.attname]) for i, f in enumerate(fields) if f.attname in extra]

    def make(obj):
        values = getter(obj)
        row = list(values) if len(names) > 1 else [values]
        for index, value in positions:
            row.insert(index, value)
        for index, f in json_fields:
            row[index] = f.get_db_prep_save(row[index], connection)
        return row

    return make


def _portable_insert(model, objs, *, actor, history):
    """Any other database (the demo's SQLite): Django's bulk INSERT, which sets every
    object's id (RETURNING), then the same "+" history rows."""
    model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
    if history:
        model.history.bulk_history_create(objs, batch_size=BATCH_SIZE, default_user=actor)


def _portable_update(model, objs, fields, *, actor, history):
    """Any other database: Django's bulk UPDATE, then the same "~" history rows."""
    model.objects.bulk_update(objs, list(fields), batch_size=BATCH_SIZE)
    if history:
        model.history.bulk_history_create(objs, batch_size=BATCH_SIZE, update=True, default_user=actor)


def _copy(cursor, table, fields, rows):
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def copy_insert(model, objs, *, actor=None, history=True):
    """INSERT by PostgreSQL COPY — ids drawn from the table's sequence first, so every
    object knows its id — and the "+" history rows, as ``bulk_create_with_history``
    writes them (one history row per object, the acting user, no reason)."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        _portable_insert(model, objs, actor=actor, history=history)
        return
    meta = model._meta
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        automatic = [
            f for f in meta.concrete_fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        for obj, pk in zip(objs, ids, strict=True):
            obj.pk = pk
            for f in automatic:
                setattr(obj, f.attname, now)
        fields = meta.concrete_fields
        make = _row_maker(fields)
        _copy(cursor, meta.db_table, fields, (make(obj) for obj in objs))
        for obj in objs:
            obj._state.adding = False
            obj._state.db = connection.alias
        if not history:
            return
        historical = model.history.model
        history_fields = [f for f in historical._meta.concrete_fields if not f.primary_key]
        extra = {
            "history_date": now, "history_change_reason": "", "history_type": "+",
            "history_user_id": getattr(actor, "pk", None),
        }
        make = _row_maker(history_fields, extra)
        _copy(cursor, historical._meta.db_table, history_fields, (make(obj) for obj in objs))


# ---------------------------------------------------------------------------
# A plan
# ---------------------------------------------------------------------------


def write_plan(plan):
    """Write a plan without errors (inside the caller's transaction)."""
    PlanWriter(plan).write()


class PlanWriter:
    def __init__(self, plan):
        self.plan = plan
        self.actor = plan.actor

    def write(self):
        now = timezone.now()
        bundles = list(self.plan.bundles.values())
        self.write_patients(bundles, now)
        # Re-point every row of a new patient at its stored id.
        for bundle in bundles:
            if not bundle.is_new:
                continue
            if bundle.course is not None:
                bundle.course.patient = bundle.patient
            for rows in bundle.rows.values():
                for obj in rows.values():
                    obj.patient = bundle.patient
        self.write_model(
            TherapyCourse,
            [b.course for b in bundles if b.course_state == "new"],
            [(b.course, b.course_changed) for b in bundles if b.course_state == "changed"],
        )
        written = {name: self.write_file(name, now) for name in CHILD_FILES}
        # Computed values only (as patient_outcomes_refresh): no history row.
        bulk_update(Visit, self.plan.computed_updates, sorted(COMPUTED_FIELDS[Visit]), history=False)
        self.write_alerts(written)

    def write_patients(self, bundles, now):
        self.plan.sites.save_new_sites()  # the command line's new site codes
        new_patients = [b.patient for b in bundles if b.is_new]
        for patient in new_patients:
            patient.pk = None
            patient.site_id = patient.site.pk
        copy_insert(Patient, new_patients, actor=self.actor)
        changed = [b for b in bundles if not b.is_new and b.patient_changed]
        if changed:
            fields = sorted(set().union(*(b.patient_changed for b in changed)) | {"updated_at"})
            for bundle in changed:
                bundle.patient.updated_at = now
            bulk_update(Patient, [b.patient for b in changed], fields, actor=self.actor)

    def write_file(self, name, now):
        """(created, updated) records of one child file, written."""
        model = FILES[name].model
        states = self.plan.state[name]
        created, updated = [], []
        for _, obj in self.plan.objects[name]:
            state = states[id(obj)]
            if state.status == "new":
                created.append(obj)
            elif state.status == "changed":
                updated.append((obj, state.changed | COMPUTED_FIELDS.get(model, set())))
        if model is Visit:
            for obj, _ in updated:
                obj.updated_at = now
            updated = [(obj, fields | {"updated_at"}) for obj, fields in updated]
        self.write_model(model, created, updated)
        return created, [obj for obj, _ in updated]

    def write_model(self, model, created, updated):
        copy_insert(model, created, actor=self.actor)
        if updated:
            fields = sorted(set().union(*(fields for _, fields in updated)))
            bulk_update(model, [obj for obj, _ in updated], fields, actor=self.actor)

    def write_alerts(self, written):
        """R4.4 alerts for the labs and visits written, built by the same functions as a
        web write (``safety.actions``): new rows' alerts copied in bulk, changed rows'
        refreshed per patient."""
        dose_rows = {
            bundle.patient.pk: therapy_records.doses_by_drug(bundle.rows["doses.csv"].values())
            for bundle in self.plan.bundles.values()
        }
        labs_created, labs_updated = written.get("labs.csv", ([], []))
        visits_created, visits_updated = written.get("visits.csv", ([], []))
        new_alerts = [
            *(lab_alert_for(lab, dose_rows[lab.patient_id][Drug.AZATHIOPRINE]) for lab in labs_created),
            *(bradycardia_alert_for(v, dose_rows[v.patient_id][Drug.THALIDOMIDE]) for v in visits_created),
        ]
        # Each alert with its patient's site (COPY bypasses save()), from the batch's patients.
        patients = [bundle.patient for bundle in self.plan.bundles.values()]
        copy_insert(Alert, with_patient_site([alert for alert in new_alerts if alert is not None], patients))
        for patient_id, labs in _by_patient(labs_updated).items():
            lab_alerts_refresh(patient_id, labs)
        for patient_id, visits in _by_patient(visits_updated).items():
            visit_alerts_refresh(patient_id, visits)


def _by_patient(rows):
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.patient_id].append(row)
    return grouped
