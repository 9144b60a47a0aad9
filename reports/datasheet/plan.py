"""Validation and the import plan: everything is checked (files and headers, cells,
unknown patients, natural-key duplicates, the model validation of every new or
changed row, the thalidomide course against the dose rows) and every error is
reported as ``file:line: column: message``. Nothing is written here
(``writing.write_plan`` writes a plan without errors).

Design for volume (10,000 patients × 30 visits): rows are converted and validated
in memory with the models' own ``full_clean()`` (the source of truth for ranges;
the per-row database checks — foreign keys, unique and check constraints — are
replaced by in-memory natural-key checks), and the computed values are derived
once per patient (``compute.py``).

The steps, in order (``Plan.run``):

1. files and headers (``check_files``);
2. cells (``convert``, with ``cells.convert_cell``);
3. the stored records of the patients named that the user may open (``load``; the
   others are unknown to that user, ``access.py``);
4. rows merged into stored or new records (``merging.PatientPlanner``, ``ChildPlanner``);
5. the thalidomide course (``course.CoursePlanner``), then the user's right to change
   stored records (``access.check_edits``);
6. the computed values, when there is no error (``compute.ComputedValues``), then the
   recent dose rows checked as on the dose page (``access.check_recent_doses``);
7. counts per file (``count``).
"""

from __future__ import annotations

import difflib

from django.db.models.functions import Lower

from patients.models import Patient
from safety.models import AdverseEvent
from thalimon.said import join, say
from therapy.models import DoseChange, PregnancyTest, Prescription, TherapyCourse
from visits.models import Contact, Endoscopy, LabResult, Visit

from .access import check_edits, check_recent_doses, hidden_codes, other_site_codes
from .cells import CellError, convert_cell
from .compute import ComputedValues
from .course import CoursePlanner
from .format import FILE_ORDER, FILES
from .merging import ChildPlanner, PatientPlanner
from .records import Bundle, Converted
from .report import Findings, ImportReport
from .sites import SiteResolver
from .validation import RowValidator

_STORED_MODELS = (
    ("visits.csv", Visit), ("labs.csv", LabResult), ("doses.csv", DoseChange),
    ("endoscopies.csv", Endoscopy), ("adverse_events.csv", AdverseEvent),
    ("pregnancy_tests.csv", PregnancyTest), ("prescriptions.csv", Prescription),
)


def _unknown_column(name, column, close, known):
    """The message of a header cell that names no column of ``name``."""
    columns = join(known, ", ")
    if column == "":  # nothing is close to an empty name
        return say("an empty column name; columns of %(file)s: %(columns)s", file=name, columns=columns)
    if close:
        return say("unknown column (did you mean %(close)s?); columns of %(file)s: %(columns)s",
                   close=close[0], file=name, columns=columns)
    return say("unknown column; columns of %(file)s: %(columns)s", file=name, columns=columns)


class Plan:
    """What importing ``files`` would do, checked in full. The planners of the steps
    work on its state: ``bundles`` (code -> ``Bundle``), ``state`` (file -> id(record)
    -> ``RowState``) and ``objects`` (file -> [(bundle, record)] in file order)."""

    def __init__(self, files, *, actor, today, findings=None):
        self.files = files
        self.actor = actor
        self.today = today
        self.findings = findings if findings is not None else Findings()
        self.validator = RowValidator(self.findings)
        self.bundles = {}  # code -> Bundle
        self.state = {name: {} for name in FILE_ORDER}  # id(obj) -> RowState
        self.objects = {name: [] for name in FILE_ORDER}  # objects in file order, once each
        self.columns = {}  # file -> present columns
        self.converted = {name: [] for name in FILE_ORDER}
        self.computed_updates = []  # visits whose computed values changed (no data change)
        self.counts = {}
        self.stored = {}  # lower-cased code -> stored Patient (that the actor may open)
        self.hidden = set()  # lower-cased codes of stored patients the actor may not open
        self.other_site = set()  # ... of them, those stored at a site the actor is not a member of
        self.sites = None  # the site column (sites.SiteResolver), from load()
        self.stored_bundles = {}  # patient id -> Bundle of a stored patient

    @property
    def errors(self):
        return self.findings.errors

    @property
    def warnings(self):
        return self.findings.warnings

    def run(self):
        self.check_files()
        self.convert()
        self.load()
        PatientPlanner(self).merge()
        ChildPlanner(self).merge()
        CoursePlanner(self).derive()
        check_edits(self)
        if not self.findings.error_count:
            ComputedValues(self).compute()
            check_recent_doses(self)
        self.count()
        return self

    def report(self, *, dry_run=False):
        return ImportReport(
            errors=self.errors, warnings=self.warnings, counts=self.counts, dry_run=dry_run
        )

    # --- 1. files and headers -------------------------------------------------
    def check_files(self):
        if "patients.csv" not in self.files:
            self.findings.error("patients.csv", 0, "", say("required file missing: a datasheet always "
                                                           "has patients.csv"))
        for name, rows in self.files.items():
            if name not in FILES:
                close = difflib.get_close_matches(name, FILE_ORDER, n=1)
                files = join(FILE_ORDER, ", ")
                if close:
                    message = say("unknown file (did you mean %(name)s?); a datasheet holds only %(files)s",
                                  name=close[0], files=files)
                else:
                    message = say("unknown file; a datasheet holds only %(files)s", files=files)
                self.findings.error(name, 0, "", message)
                continue
            if getattr(rows, "problem", ""):
                self.findings.error(name, 0, "", rows.problem)
                continue
            header = getattr(rows, "header", None)
            if header is None:
                header = list(rows[0].keys()) if rows else []
            self.check_header(name, header)

    def check_header(self, name, header):
        spec = FILES[name]
        known = spec.by_name
        seen = set()
        usable = True
        for column in header:
            if column in seen:
                self.findings.error(name, 1, column, say("duplicate column"))
                usable = False
            seen.add(column)
            if column not in known:
                close = difflib.get_close_matches(column, list(known), n=1)
                self.findings.error(name, 1, column, _unknown_column(name, column, close, list(known)))
        for column in spec.columns:
            if column.required and column.name not in seen:
                self.findings.error(name, 1, column.name, say("required column missing from the header"))
                usable = False
        if usable:
            self.columns[name] = [known[c] for c in header if c in known]

    # --- 2. cells ---------------------------------------------------------------
    def convert(self):
        for name in FILE_ORDER:
            if name not in self.columns:
                continue
            for index, row in enumerate(self.files[name]):
                converted = self.convert_row(name, self.columns[name], index, row)
                if converted is not None:
                    self.converted[name].append(converted)

    def convert_row(self, name, columns, index, row):
        """The row converted, or None when its natural key is unusable (the cell errors
        say why)."""
        line = getattr(row, "line", 0) or index + 2
        if getattr(row, "extra_cells", False):
            self.findings.error(name, line, "", say("more cells than columns in the header"))
        converted = Converted(name, line, "", {}, {}, {}, {}, raw=row)
        ok = True
        for column in columns:
            raw = row.get(column.name)
            if column.target == "computed":
                converted.computed[column.name] = (raw or "").strip()
                continue
            try:
                value = convert_cell(column, raw, self.today)
            except CellError as bad:
                self.findings.error(name, line, column.name, bad.message)
                ok = False
                continue
            if column.name == "patient":
                converted.code = value
                if name == "patients.csv":
                    converted.values["code"] = value
            elif column.target == "course":
                converted.course[column.attr] = value
            elif column.target == "special":
                converted.special[column.name] = value
            else:
                converted.values[column.attr] = value
        spec = FILES[name]
        if name != "patients.csv":
            if "contact" in spec.key and all(c.name != "contact" for c in columns):
                converted.values["contact"] = Contact.CLINIC  # the column left out
            if not all(k in converted.values for k in spec.key) or not converted.code:
                return None
            converted.key = tuple(converted.values[k] for k in spec.key)
        elif not converted.code:
            return None
        converted.ok = ok
        return converted

    # --- 3. stored records ---------------------------------------------------------
    def load(self):
        self.sites = SiteResolver(self)
        codes = set()
        for name in FILE_ORDER:
            codes.update(c.code for c in self.converted[name])
        lowered = sorted({code.lower() for code in codes})
        stored = {}
        for start in range(0, len(lowered), 5000):
            chunk = lowered[start : start + 5000]
            for patient in Patient.objects.annotate(code_lower=Lower("code")).filter(
                code_lower__in=chunk
            ):
                stored[patient.code.lower()] = patient
        # A record the importing user may not open is, for that user, not there at all.
        self.hidden = hidden_codes(self.actor, stored)
        self.other_site = other_site_codes(self.actor, stored)
        stored = {lower: patient for lower, patient in stored.items() if lower not in self.hidden}
        self.stored = stored
        ids = [p.pk for p in stored.values()]
        by_id = {p.pk: p for p in stored.values()}
        self.stored_bundles = {}
        for patient in stored.values():
            self.stored_bundles[patient.pk] = Bundle(patient=patient, is_new=False)
        for start in range(0, len(ids), 2000):
            self.load_rows(ids[start : start + 2000], by_id)

    def load_rows(self, chunk, by_id):
        """The courses and child rows of one chunk of stored patients, into their bundles."""
        for course in TherapyCourse.objects.filter(patient_id__in=chunk):
            course.patient = by_id[course.patient_id]
            self.stored_bundles[course.patient_id].course = course
        for name, model in _STORED_MODELS:
            key = FILES[name].key
            for obj in model.objects.filter(patient_id__in=chunk):
                obj.patient = by_id[obj.patient_id]
                rows = self.stored_bundles[obj.patient_id].rows[name]
                rows[tuple(getattr(obj, k) for k in key)] = obj

    # --- 7. counts ----------------------------------------------------------------------
    def count(self):
        for name in FILE_ORDER:
            if name not in self.files:
                continue
            counts = {"created": 0, "updated": 0, "unchanged": 0}
            if name == "patients.csv":
                for bundle in self.bundles.values():
                    if bundle.course_row is None:
                        continue
                    if bundle.is_new:
                        counts["created"] += 1
                    elif bundle.patient_changed or bundle.course_state != "unchanged":
                        counts["updated"] += 1
                    else:
                        counts["unchanged"] += 1
            else:
                for state in self.state[name].values():
                    status = state.status
                    counts[{"new": "created", "changed": "updated"}.get(status, status)] += 1
            self.counts[name] = counts
