"""Export: every file with every column, plus the computed columns, in a deterministic
order; importing an export into an empty database and exporting again gives
byte-identical files."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from patients.models import Patient
from therapy.models import TherapyCourse
from visits import labs

from .cells import format_column_cell
from .compute import prescription_codes
from .format import FILE_ORDER, FILES, PATIENT_COLUMNS
from .writing import BATCH_SIZE

# The columns whose cell is not the model attribute of the same name, per file.
_GETTERS = {
    "visits.csv": {
        "cdai": lambda v: v.cdai_entered, "hbi": lambda v: v.hbi, "mayo": lambda v: v.mayo,
        "cdai_computed": lambda v: v.cdai,
        "clinical_status": lambda v: v.clinical_status,
    },
    "labs.csv": {"unit": lambda lab: labs.LAB_TESTS[lab.test].unit},
    "doses.csv": {"deviations": lambda d: ";".join(d.deviations or [])},
    "endoscopies.csv": {"cdeis": lambda e: e.cdeis if e.cdeis is not None else e.cdeis_entered},
    "prescriptions.csv": {
        "risk_category": lambda p: p.risk_category,
        "deviations": lambda p: ";".join(prescription_codes(p.deviations or [])),
    },
}


def _patient_rows(patients):
    courses = {c.patient_id: c for c in TherapyCourse.objects.filter(patient__in=patients.values("pk"))}
    for patient in patients.select_related("site").iterator(chunk_size=BATCH_SIZE):
        course = courses.get(patient.pk)
        cells = []
        for column in PATIENT_COLUMNS:
            if column.name == "site":
                value = patient.site.code
            elif column.target == "course":
                value = getattr(course, column.attr) if course is not None else None
            else:
                value = getattr(patient, column.attr)
            cells.append(format_column_cell(column, value))
        yield (patient.code,), cells


def _export_rows(name, patients, scoped):
    """(sort key, cells) of every stored record of one file, of ``patients``."""
    if name == "patients.csv":
        yield from _patient_rows(patients)
        return
    spec = FILES[name]
    getters = _GETTERS.get(name, {})
    rows = spec.model.objects.select_related("patient")
    if scoped:  # a user's export: the rows of their patients only
        rows = rows.filter(patient__in=patients.values("pk"))
    for obj in rows.iterator(chunk_size=BATCH_SIZE):
        cells = []
        for column in spec.columns:
            if column.name == "patient":
                value = obj.patient.code
            elif column.name in getters:
                value = getters[column.name](obj)
            else:
                value = getattr(obj, column.attr)
            cells.append(format_column_cell(column, value))
        key = (obj.patient.code, *(_sort_value(getattr(obj, k)) for k in spec.key))
        yield key, cells


def _sort_value(value):
    return value.isoformat() if isinstance(value, date) else str(value)


def export_datasheet(directory, *, actor=None) -> dict:
    """Write every file of the datasheet into ``directory``; returns rows per file. With
    an ``actor``, only the patients that user may open (their sites', issue 18, and not
    restricted to another care team); without (the command line, the operator), all."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    patients = Patient.objects.all() if actor is None else Patient.objects.visible_to(actor)
    counts = {}
    for name in FILE_ORDER:
        rows = sorted(_export_rows(name, patients, actor is not None), key=lambda item: item[0])
        with open(directory / name, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([c.name for c in FILES[name].columns])
            writer.writerows(cells for _, cells in rows)
        counts[name] = len(rows)
    return counts
