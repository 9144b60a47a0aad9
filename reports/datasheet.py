"""Cohort datasheet import and export (interfaces.md §1, commands §2).

One service behind ``manage.py import_datasheet``, ``manage.py export_datasheet``
and the web upload:

* ``read_datasheet(path_or_zip)`` reads a folder or a ``.zip`` of one, refusing
  zip members outside the datasheet folder ("zip slip", absolute paths, ``..``,
  links) and anything larger than ``settings.THALIMON_MAX_DATASHEET_BYTES``.
* ``validate_datasheet(files)`` checks EVERYTHING (cells, headers, unknown files
  and patients, natural-key duplicates, the model validation of every new or
  changed row, the thalidomide course against the dose rows) and returns every
  error as ``file:line: column: message`` in one report. Nothing is written.
* ``import_datasheet(path)`` validates, then writes all of it or nothing in one
  transaction, with history (the acting user, or none = "system (import)").
* ``export_datasheet(directory)`` writes every file with every column, plus the
  computed columns, in a deterministic order; importing an export into an empty
  database and exporting again gives byte-identical files.

Design for volume (10,000 patients × 30 visits): rows are converted and
validated in memory with the models' own ``full_clean()`` (the source of truth
for ranges; the per-row database checks — foreign keys, unique and check
constraints — are replaced by in-memory natural-key checks), and the computed
values are derived once per patient with the same functions the services use
(``visits.services.compute_cdai``, ``scoring.hbi/mayo``, ``outcomes``,
``titration.check_thalidomide_history``, ``titration.check_aza_dose``). Rows are
then written in bulk with their history rows (PostgreSQL COPY for new rows, one
UPDATE … FROM VALUES per batch for changed ones, as simple_history's
``bulk_create_with_history`` / ``bulk_update_with_history`` would record them); the R4.4 alerts that the per-row signals would
raise are raised here for the rows written, and the reminders are rescanned
once at the end (``rescans_deferred`` + ``scan_reminders(patient_ids=…)``).

Readings chosen where the contract is open (safest for the patient) are marked
"Reading:" below.
"""

from __future__ import annotations

import csv
import difflib
import gc
import io
import operator
import os
import re
import zipfile
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.db.models import JSONField
from django.db.models.functions import Lower
from django.utils import timezone

from patients.models import (
    AidType,
    Diagnosis,
    FollowUpStatus,
    Genotype,
    MontrealBehavior,
    MontrealLocation,
    Patient,
    Regimen,
    Sex,
    TherapyCourse,
)
from safety import alerts as safety_alerts
from safety.models import (
    AE_TERMS,
    AdverseEvent,
    Alert,
    AttributedDrug,
    DrugAction,
    PregnancyResult,
    PregnancyTest,
)
from thalimon.rules_config import rule_settings, rules_version
from visits import labs, outcomes, titration
from visits.models import (
    BackgroundTherapy,
    Contact,
    DoseChange,
    Drug,
    Endoscopy,
    GlobalAssessment,
    LabResult,
    RelapseEvent,
    Visit,
)
from visits.services import apply_endoscopy_scores, visit_scores

DEFAULT_MAX_DATASHEET_BYTES = 200 * 1024 * 1024
BATCH_SIZE = 2000
# Files of operating systems' archivers that hold no datasheet data (macOS resource
# forks, Finder and Explorer metadata). They are skipped, never read.
IGNORED_ENTRIES = ("__MACOSX", "Thumbs.db", "desktop.ini")


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------


@dataclass
class DatasheetError:
    """One finding. ``line`` is the CSV line number (header = 1; 0 = the file as a whole)."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self):
        if self.column:
            return f"{self.file}:{self.line}: {self.column}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ImportReport:
    errors: list = field(default_factory=list)  # DatasheetError
    warnings: list = field(default_factory=list)  # DatasheetError
    counts: dict = field(default_factory=dict)  # file -> {"created", "updated", "unchanged"}
    dry_run: bool = False
    written: bool = False

    @property
    def ok(self):
        return not self.errors


class DatasheetInvalid(Exception):
    """The datasheet could not be read at all (zip slip, size limit, not a zip)."""

    def __init__(self, errors):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


# ---------------------------------------------------------------------------
# The format (interfaces.md §1)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # text | code | date | decimal | int | flag | choice | computed
    field: str | None = None  # model attribute (None: same as name; "" = handled apart)
    required: bool = False  # the cell must not be empty (and the column must be there)
    choices: tuple = ()
    default: object = None  # value of an empty cell
    target: str = "model"  # model | course | special | computed

    @property
    def attr(self):
        return self.name if self.field is None else self.field


def _c(name, kind, **kw):
    return Column(name, kind, **kw)


def _flag(name, *, nullable):
    # A non-nullable flag's empty cell (unknown) is stored as the model default, 0.
    return Column(name, "flag", default=None if nullable else False)


def _choice(name, choices, *, default="", required=False, field=None, target="model"):
    return Column(
        name, "choice", choices=tuple(choices), default=default, required=required,
        field=field, target=target,
    )


PATIENT_COLUMNS = (
    _c("patient", "code", field="code", required=True),
    _choice("sex", Sex.values, required=True),
    _c("birth_date", "date", required=True),
    _c("height_cm", "decimal"),
    _c("standard_weight_kg", "decimal"),
    _choice("diagnosis", Diagnosis.values, required=True),
    _choice("aid_type", AidType.values),
    _choice("montreal_location", MontrealLocation.values),
    _flag("upper_gi", nullable=False),
    _choice("montreal_behavior", MontrealBehavior.values),
    _flag("perianal", nullable=False),
    _flag("reproductive_potential", nullable=True),
    _flag("irregular_cycles", nullable=True),
    _flag("smoker", nullable=False),
    _flag("ileocolic_resection", nullable=False),
    _flag("prior_biologic", nullable=False),
    _choice("tpmt", Genotype.values, default=Genotype.UNKNOWN),
    _choice("nudt15", Genotype.values, default=Genotype.UNKNOWN),
    _c("thalidomide_start", "date", field="start_date", target="course"),
    _c("thalidomide_stop", "date", field="stop_date", target="course"),
    _c("target_dose_mg", "decimal", target="course"),
    _choice("regimen", Regimen.values, target="course"),
    _c("regimen_reason", "text", default="", target="course"),
    _flag("premenarchal", nullable=False),
    _c("contraception_start", "date"),
    _flag("xanthine_oxidase_inhibitor", nullable=False),
    _choice("status", FollowUpStatus.values, default=FollowUpStatus.ACTIVE),
    _c("status_date", "date"),
    _c("baseline_cdai", "decimal"),
    _c("crp_at_lor", "decimal"),
    _c("esr_at_lor", "decimal"),
    _c("tgn_on_aza_mono", "decimal"),
)

VISIT_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _c("date", "date", required=True),
    _choice("contact", Contact.values, default=Contact.CLINIC),
    _c("weight_kg", "decimal"),
    _c("cdai_stools", "int"),
    _c("cdai_pain", "int"),
    _c("cdai_wellbeing", "int"),
    _c("cdai_complications", "int"),
    _flag("cdai_antidiarrheal", nullable=True),
    _c("cdai_mass", "int"),
    _c("hematocrit", "decimal"),
    _c("cdai", "decimal", field="cdai_entered"),
    _c("hbi", "int", field="hbi_entered", target="special"),
    _c("mayo", "int", field="mayo_entered", target="special"),
    _c("aidai", "int"),
    _c("neuropathy_grade", "int"),
    _flag("contraception_confirmed", nullable=True),
    _choice("relapse_event", RelapseEvent.values),
    _c("heart_rate", "int"),
    _c("mayo_endoscopic", "int"),
    _choice("global_assessment", GlobalAssessment.values),
    _choice("background_therapy", BackgroundTherapy.values),
    _flag("breastfeeding", nullable=True),
    _flag("neurological_review", nullable=False),
    _c("notes", "text", default=""),
    _c("cdai_computed", "computed", field="", target="computed"),
    _c("clinical_status", "computed", field="", target="computed"),
)

LAB_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _c("date", "date", required=True),
    _choice("test", labs.LAB_TESTS, required=True),
    _c("value", "decimal", required=True),
    _c("unit", "text", field="", target="special"),
)

DOSE_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _choice("drug", Drug.values, required=True),
    _c("date", "date", required=True),
    _c("dose_mg", "decimal", required=True),
    _c("reason", "text", default=""),
    _c("override_reason", "text", default=""),
    _c("deviations", "computed", field="", target="computed"),
)

ENDOSCOPY_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _c("date", "date", required=True),
    _c("cdeis", "decimal", field="cdeis_entered", target="special"),
    _c("ses_cd", "int"),
    _c("rutgeerts", "int"),
    Column("ulceration", "flag", default=None, target="special"),
)

AE_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _c("onset", "date", required=True),
    _choice("term", [code for code, _ in AE_TERMS], required=True),
    _c("term_text", "text", default=""),
    _c("grade", "int", required=True),
    _flag("serious", nullable=False),
    _choice("drug", AttributedDrug.values, required=True),
    _choice("action_thalidomide", DrugAction.values, default=DrugAction.NONE),
    _choice("action_azathioprine", DrugAction.values, default=DrugAction.NONE),
    _flag("hospitalised", nullable=False),
    _c("resolved", "date"),
)

PREGNANCY_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _c("date", "date", required=True),
    _choice("result", PregnancyResult.values, required=True),
)


@dataclass(frozen=True)
class FileSpec:
    name: str
    model: type
    columns: tuple
    key: tuple  # model fields of the natural key after the patient
    extra_fields: tuple = ()  # (model field, column) for validation messages

    @property
    def by_name(self):
        return {c.name: c for c in self.columns}


FILES = {
    spec.name: spec
    for spec in (
        FileSpec(
            "patients.csv", Patient, PATIENT_COLUMNS, (),
            (("non_reproductive_reason", "reproductive_potential"),
             ("stop_reason", "thalidomide_stop"),
             ("consent_signed_date", "thalidomide_start"),
             ("contraception_counselling_date", "thalidomide_start")),
        ),
        FileSpec(
            "visits.csv", Visit, VISIT_COLUMNS, ("date", "contact"),
            (("cdai_complication_flags", "cdai_complications"),),
        ),
        FileSpec("labs.csv", LabResult, LAB_COLUMNS, ("date", "test")),
        FileSpec("doses.csv", DoseChange, DOSE_COLUMNS, ("drug", "date")),
        FileSpec(
            "endoscopies.csv", Endoscopy, ENDOSCOPY_COLUMNS, ("date",),
            (("cdeis_segments", "cdeis"),),
        ),
        FileSpec("adverse_events.csv", AdverseEvent, AE_COLUMNS, ("onset", "term")),
        FileSpec("pregnancy_tests.csv", PregnancyTest, PREGNANCY_COLUMNS, ("date",)),
    )
}
FILE_ORDER = tuple(FILES)
CHILD_FILES = FILE_ORDER[1:]
ACTOR_FIELD = {
    Visit: "created_by", LabResult: "created_by", DoseChange: "decided_by",
    Endoscopy: "created_by", AdverseEvent: "recorded_by", PregnancyTest: "recorded_by",
}


# ---------------------------------------------------------------------------
# Reading a folder or a zip
# ---------------------------------------------------------------------------


class Row(dict):
    """One CSV record: column -> cell text, with its line number."""

    line = 0
    extra_cells = False


class SheetRows(list):
    """The rows of one file, with its header and any problem reading it."""

    def __init__(self, rows=(), *, header=None, problem=""):
        super().__init__(rows)
        self.header = list(header or [])
        self.problem = problem


def max_datasheet_bytes():
    return getattr(settings, "THALIMON_MAX_DATASHEET_BYTES", DEFAULT_MAX_DATASHEET_BYTES)


def _megabytes(size):
    return f"{size / (1024 * 1024):.1f} MB"


def parse_csv(data: bytes) -> SheetRows:
    """Rows of one UTF-8 CSV file (a byte-order mark, as Excel writes, is accepted)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return SheetRows(problem=f"not UTF-8 text (invalid byte at offset {error.start}); "
                                 "save the file as CSV UTF-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return SheetRows(problem="empty file: a header row is required")
        header = [name.strip() for name in header]
        rows = SheetRows(header=header)
        previous = reader.line_num
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # a blank line
            row = Row(zip(header, record, strict=False))
            for name in header[len(record):]:
                row.setdefault(name, "")
            row.line = start
            row.extra_cells = any(cell.strip() for cell in record[len(header):])
            rows.append(row)
    except csv.Error as error:
        return SheetRows(header=header, problem=f"line {reader.line_num}: not valid CSV ({error})")
    return rows


def _skipped(name):
    base = PurePosixPath(name).name
    return base.startswith(".") or any(part in IGNORED_ENTRIES for part in PurePosixPath(name).parts)


def _read_folder(folder: Path, limit):
    files = {}
    errors = []
    total = 0
    for entry in sorted(folder.iterdir()):
        if _skipped(entry.name):
            continue
        if entry.is_symlink():
            errors.append(DatasheetError(entry.name, 0, "", "refused: a symbolic link"))
            continue
        if entry.is_dir():
            files[entry.name + "/"] = SheetRows()
            continue
        total += entry.stat().st_size
        if total > limit:
            raise DatasheetInvalid([DatasheetError(
                folder.name, 0, "", f"the datasheet is larger than the limit of {_megabytes(limit)}",
            )])
        files[entry.name] = parse_csv(entry.read_bytes()) if entry.suffix == ".csv" else SheetRows()
    if errors:
        raise DatasheetInvalid(errors)
    return files


def _unsafe_member(name):
    """Why a zip member name is refused, or ''."""
    if "\\" in name:
        return "refused: backslashes in a path (a Windows path could leave the datasheet folder)"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "refused: an absolute path (outside the datasheet folder)"
    if ".." in PurePosixPath(name).parts:
        return "refused: '..' in the path (outside the datasheet folder)"
    if "\x00" in name:
        return "refused: a NUL byte in the name"
    return ""


def _read_zip(source, limit, label):
    if isinstance(source, (str, os.PathLike)):
        size = os.path.getsize(source)
    else:
        position = source.tell()
        source.seek(0, os.SEEK_END)
        size = source.tell()
        source.seek(position)
    if size > limit:
        raise DatasheetInvalid([DatasheetError(
            label, 0, "", f"the zip is {_megabytes(size)}, above the limit of {_megabytes(limit)}",
        )])
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise DatasheetInvalid([DatasheetError(label, 0, "", f"not a valid zip file ({error})")]) from error
    with archive:
        errors, members = [], []
        for info in archive.infolist():
            name = info.filename
            problem = _unsafe_member(name)
            if not problem and (info.external_attr >> 16) & 0o170000 == 0o120000:
                problem = "refused: a symbolic link"
            if problem:
                errors.append(DatasheetError(name, 0, "", problem))
                continue
            if info.is_dir() or _skipped(name):
                continue
            members.append((PurePosixPath(name), info))
        # The datasheet is one folder: files at the top of the zip, or all in one folder.
        folder = min((path.parent for path, _ in members), key=lambda p: len(p.parts), default=None)
        for path, _ in members:
            if path.parent != folder:
                errors.append(DatasheetError(
                    str(path), 0, "", f"refused: outside the datasheet folder '{folder}'",
                ))
        total = sum(info.file_size for _, info in members)
        if total > limit:
            errors.append(DatasheetError(
                label, 0, "", f"the zip unpacks to {_megabytes(total)}, above the limit of "
                              f"{_megabytes(limit)}",
            ))
        if errors:
            raise DatasheetInvalid(errors)
        files = {}
        for path, info in members:
            if info.flag_bits & 0x1:
                raise DatasheetInvalid([DatasheetError(path.name, 0, "", "refused: encrypted")])
            with archive.open(info) as handle:
                data = handle.read(limit + 1)
            if len(data) > limit:
                raise DatasheetInvalid([DatasheetError(
                    path.name, 0, "", f"larger than the limit of {_megabytes(limit)}",
                )])
            files[path.name] = parse_csv(data) if path.suffix == ".csv" else SheetRows()
        return files


def read_datasheet(path_or_zipfile, *, max_bytes=None) -> dict:
    """{file name: rows} of a datasheet folder or zip (a path or an open binary file).

    Raises ``DatasheetInvalid`` when the datasheet cannot be read safely.
    """
    limit = max_bytes if max_bytes is not None else max_datasheet_bytes()
    if isinstance(path_or_zipfile, (str, os.PathLike)):
        path = Path(path_or_zipfile)
        if path.is_dir():
            return _read_folder(path, limit)
        if not path.exists():
            raise DatasheetInvalid([DatasheetError(path.name, 0, "", "no such file or folder")])
        return _read_zip(path, limit, path.name)
    name = getattr(path_or_zipfile, "name", None) or "datasheet.zip"
    return _read_zip(path_or_zipfile, limit, PurePosixPath(str(name)).name)


# ---------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Bad(Exception):
    pass


def _convert(column: Column, raw, today):
    text = "" if raw is None else str(raw).strip()
    if text == "":
        if column.required:
            raise _Bad("required: the cell is empty")
        return column.default
    kind = column.kind
    if "\x00" in text:
        raise _Bad("contains a NUL character, which cannot be stored")
    if kind in ("text", "code", "computed"):
        return text
    if kind == "date":
        try:
            if not _DATE.match(text):
                raise ValueError
            value = date.fromisoformat(text)
        except ValueError:
            raise _Bad(f"must be a date as YYYY-MM-DD, got '{text}'") from None
        if value > today:
            raise _Bad(f"{text} is in the future (today is {today.isoformat()}); "
                       "dates in the future are not accepted")
        return value
    if kind in ("decimal", "int"):
        if not _NUMBER.match(text):
            raise _Bad(f"must be a number (digits and a decimal point, no unit), got '{text}'")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _Bad(f"must be a number, got '{text}'") from None
        if kind == "int":
            if value != value.to_integral_value():
                raise _Bad(f"must be a whole number, got '{text}'")
            return int(value)
        return value
    if kind == "flag":
        if text not in ("0", "1"):
            raise _Bad(f"must be 0 or 1, got '{text}'")
        return text == "1"
    if kind == "choice":
        for choice in column.choices:
            if choice.lower() == text.lower():
                return choice
        raise _Bad(f"unknown code '{text}'; expected one of: {', '.join(column.choices)}")
    raise AssertionError(kind)


def _fmt(value) -> str:
    """A value as a datasheet cell: empty = unknown, flags 0/1, ISO dates, plain numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return str(value)


# ---------------------------------------------------------------------------
# Validation and planning
# ---------------------------------------------------------------------------


@dataclass
class _Converted:
    file: str
    line: int
    code: str
    values: dict  # model field -> value (plain model columns present in the file)
    special: dict  # column -> converted value (hbi, mayo, cdeis, ulceration, unit)
    course: dict  # course field -> value (patients.csv)
    computed: dict  # column -> raw text
    key: tuple = ()
    raw: dict = field(default_factory=dict)  # the CSV cells, for messages
    ok: bool = True


@dataclass
class _Bundle:
    """One patient: the stored or new record and every row of it, merged."""

    patient: Patient
    is_new: bool
    line: int = 0  # patients.csv line
    course: TherapyCourse | None = None
    course_row: _Converted | None = None
    rows: dict = field(default_factory=lambda: {name: {} for name in CHILD_FILES})
    patient_changed: set = field(default_factory=set)
    course_state: str = "unchanged"  # new | changed | unchanged
    course_changed: set = field(default_factory=set)
    invalid: bool = False  # the patients.csv row has errors


class _Plan:
    def __init__(self, files, *, actor, today):
        self.files = files
        self.actor = actor
        self.today = today
        self._errors = {}
        self.warnings = []
        self.bundles = {}  # code -> _Bundle
        self.state = {name: {} for name in FILE_ORDER}  # id(obj) -> [status, line, fields]
        self.objects = {name: [] for name in FILE_ORDER}  # objects in file order, once each
        self.columns = {}  # file -> present columns
        self.converted = {name: [] for name in FILE_ORDER}
        self.computed_updates = []  # visits whose computed values changed (no data change)
        self.counts = {}

    # --- findings -----------------------------------------------------------
    def error(self, file, line, column, message):
        self._errors.setdefault((file, line, column), DatasheetError(file, line, column, message))

    def warn(self, file, line, column, message):
        self.warnings.append(DatasheetError(file, line, column, message))

    @property
    def errors(self):
        def order(item):
            (file, line, column), _ = item
            index = FILE_ORDER.index(file) if file in FILES else len(FILE_ORDER)
            names = [c.name for c in FILES[file].columns] if file in FILES else []
            position = names.index(column) if column in names else -1
            return (index, file, line, position, column)

        return [error for _, error in sorted(self._errors.items(), key=order)]

    # --- 1. files and headers -------------------------------------------------
    def check_files(self):
        if "patients.csv" not in self.files:
            self.error("patients.csv", 0, "", "required file missing: a datasheet always has "
                                              "patients.csv")
        for name, rows in self.files.items():
            if name not in FILES:
                close = difflib.get_close_matches(name, FILE_ORDER, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.error(name, 0, "", f"unknown file{hint}; a datasheet holds only "
                                        f"{', '.join(FILE_ORDER)}")
                continue
            if getattr(rows, "problem", ""):
                self.error(name, 0, "", rows.problem)
                continue
            spec = FILES[name]
            header = getattr(rows, "header", None)
            if header is None:
                header = list(rows[0].keys()) if rows else []
            known = spec.by_name
            seen = set()
            usable = True
            for column in header:
                if column in seen:
                    self.error(name, 1, column, "duplicate column")
                    usable = False
                seen.add(column)
                if column not in known:
                    close = difflib.get_close_matches(column, list(known), n=1)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    what = "an empty column name" if column == "" else "unknown column"
                    self.error(name, 1, column, f"{what}{hint}; columns of {name}: "
                                                f"{', '.join(known)}")
            for column in spec.columns:
                if column.required and column.name not in seen:
                    self.error(name, 1, column.name, "required column missing from the header")
                    usable = False
            if usable:
                self.columns[name] = [known[c] for c in header if c in known]

    # --- 2. cells ---------------------------------------------------------------
    def convert(self):
        for name in FILE_ORDER:
            if name not in self.columns:
                continue
            columns = self.columns[name]
            for index, row in enumerate(self.files[name]):
                line = getattr(row, "line", 0) or index + 2
                if getattr(row, "extra_cells", False):
                    self.error(name, line, "", "more cells than columns in the header")
                converted = _Converted(name, line, "", {}, {}, {}, {}, raw=row)
                ok = True
                for column in columns:
                    raw = row.get(column.name)
                    if column.target == "computed":
                        converted.computed[column.name] = (raw or "").strip()
                        continue
                    try:
                        value = _convert(column, raw, self.today)
                    except _Bad as bad:
                        self.error(name, line, column.name, str(bad))
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
                        continue  # the natural key is unusable: the cell errors say why
                    converted.key = tuple(converted.values[k] for k in spec.key)
                elif not converted.code:
                    continue
                converted.ok = ok
                self.converted[name].append(converted)

    # --- 3. stored records ---------------------------------------------------------
    def load(self):
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
        self.stored = stored
        ids = [p.pk for p in stored.values()]
        by_id = {p.pk: p for p in stored.values()}
        self.stored_bundles = {}
        for patient in stored.values():
            self.stored_bundles[patient.pk] = _Bundle(patient=patient, is_new=False)
        loaders = (
            ("visits.csv", Visit), ("labs.csv", LabResult), ("doses.csv", DoseChange),
            ("endoscopies.csv", Endoscopy), ("adverse_events.csv", AdverseEvent),
            ("pregnancy_tests.csv", PregnancyTest),
        )
        for start in range(0, len(ids), 2000):
            chunk = ids[start : start + 2000]
            for course in TherapyCourse.objects.filter(patient_id__in=chunk):
                course.patient = by_id[course.patient_id]
                self.stored_bundles[course.patient_id].course = course
            for name, model in loaders:
                key = FILES[name].key
                for obj in model.objects.filter(patient_id__in=chunk):
                    obj.patient = by_id[obj.patient_id]
                    rows = self.stored_bundles[obj.patient_id].rows[name]
                    rows[tuple(getattr(obj, k) for k in key)] = obj

    # --- 4. merging rows into records ------------------------------------------------
    def _validate(self, file, line, obj, hint_raw=None, *, whole=True, fields=None):
        """The model's validation, mapped to file:line: column errors.

        ``whole=False`` checks each field alone (``clean_fields``), not the record's
        cross-field rules (``clean``): for a row with a bad cell, or a row of a patient
        whose own row is bad, the cross-field rules would judge values that are not
        there and report errors that are only echoes of the first one. ``fields``
        limits the per-field checks to the values the row sets (the others are
        stored values or model defaults, valid already)."""
        relations, names = _field_names(type(obj))
        exclude = relations | (names - fields) if fields is not None else relations
        try:
            if whole:
                obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
            else:
                obj.clean_fields(exclude=exclude)
        except ValidationError as error:
            self._map_validation_error(file, line, error, hint_raw or {})

    def _map_validation_error(self, file, line, error, raw):
        spec = FILES[file]
        mapping = {c.attr: c.name for c in spec.columns if c.attr}
        mapping.update(dict(spec.extra_fields))
        mapping["code"] = "patient"
        if not hasattr(error, "error_dict"):
            self.error(file, line, "", " ".join(error.messages))
            return
        for field_name, errors in error.error_dict.items():
            column = mapping.get(field_name, "")
            messages = []
            for item in errors:
                if item.code == "invalid_choice":
                    value = (item.params or {}).get("value")
                    choices = _model_choices(spec.model, field_name)
                    messages.append(f"must be one of {choices}, got {value}")
                else:
                    messages.extend(item.messages)
            # The model's own clinical wording, with the value, wins over generic text.
            message = next((m for m in messages if "(got" in m), messages[0])
            cell = (raw.get(column) or "").strip()
            if cell and cell not in message and "(got" not in message and len(cell) <= 40:
                message = f"{message.rstrip('.')} (got {cell})."
            if not column or field_name == NON_FIELD_ERRORS:
                label = "" if field_name == NON_FIELD_ERRORS else f"{field_name}: "
                self.error(file, line, "", f"{label}{message}")
            else:
                self.error(file, line, column, message)

    @staticmethod
    def _apply(obj, values):
        """Set the values that differ from the stored ones; the names of those changed.

        A number is held as the database will hold it (55 → 55.0 in a one-decimal
        field) when that is exact, so that what is computed now (e.g. the CDAI reason
        text) is what a later recomputation from the stored record gives."""
        changed = set()
        for name, value in values.items():
            if isinstance(value, Decimal):
                places = _decimal_places(type(obj), name)
                if places is not None and value.as_tuple().exponent >= -places:
                    value = value.quantize(Decimal(1).scaleb(-places))
            current = getattr(obj, name)
            if current != value or (current is None) != (value is None):
                setattr(obj, name, value)
                changed.add(name)
        return changed

    def merge_patients(self):
        seen = {}
        for row in self.converted["patients.csv"]:
            lower = row.code.lower()
            if lower in seen:
                self.error("patients.csv", row.line, "patient",
                           f"duplicate of line {seen[lower]} (patient codes are compared "
                           "ignoring case)")
                continue
            seen[lower] = row.line
            stored = self.stored.get(lower)
            if stored is not None and stored.code != row.code:
                self.error("patients.csv", row.line, "patient",
                           f"a patient '{stored.code}' exists; codes are compared ignoring case, "
                           "so write the code exactly as stored")
                continue
            if stored is not None:
                bundle = self.stored_bundles[stored.pk]
            else:
                patient = Patient()
                patient.pk = -(len(self.bundles) + 1)  # a placeholder id while validating
                bundle = _Bundle(patient=patient, is_new=True)
            bundle.line = row.line
            bundle.course_row = row
            self.bundles[row.code] = bundle
            patient = bundle.patient
            values = dict(row.values)
            self._patient_readings(row, patient, values)
            bundle.patient_changed = self._apply(patient, values)
            if bundle.is_new or bundle.patient_changed:
                before = len(self._errors)
                self._validate("patients.csv", row.line, patient, row.raw, whole=row.ok,
                               fields=set(values) if bundle.is_new else bundle.patient_changed)
                bundle.invalid = not row.ok or len(self._errors) > before
        # Patients named only in the other files must be stored already.
        for stored in self.stored.values():
            if stored.code not in self.bundles:
                self.bundles[stored.code] = self.stored_bundles[stored.pk]

    def _patient_readings(self, row, patient, values):
        sex = values.get("sex", patient.sex)
        if (
            sex == Sex.MALE
            and "irregular_cycles" in values
            and values["irregular_cycles"] is False
        ):
            # A 0 (cycles not irregular) for a male patient says nothing; stored empty.
            values["irregular_cycles"] = None
            self.warn("patients.csv", row.line, "irregular_cycles",
                      "applies to female patients only; 0 stored as empty")
        premenarchal = values.get("premenarchal", patient.premenarchal)
        if (
            sex == Sex.FEMALE
            and values.get("reproductive_potential", None) is False
            and not (patient.non_reproductive_reason or premenarchal)
        ):
            # Reading (R5.1, safest): a woman is of reproductive potential unless an
            # exemption is RECORDED (hysterectomy, bilateral oophorectomy, ≥ 24 months
            # without menses); the datasheet has no column for it, so a 0 alone cannot
            # switch pregnancy prevention off. Stored as empty: R5.1 applies.
            values["reproductive_potential"] = None
            self.warn("patients.csv", row.line, "reproductive_potential",
                      "0 for a female patient needs a recorded exemption (hysterectomy, "
                      "bilateral oophorectomy, ≥ 24 months without menses, or premenarchal), "
                      "which the datasheet cannot carry; stored as empty, so pregnancy "
                      "prevention (R5.1) applies until the exemption is recorded on the "
                      "patient's page")

    def _bundle_for(self, row):
        bundle = self.bundles.get(row.code)
        if bundle is None:
            close = [c for c in self.bundles if c.lower() == row.code.lower()]
            hint = f" (did you mean '{close[0]}'? codes must match exactly)" if close else ""
            self.error(row.file, row.line, "patient",
                       f"unknown patient '{row.code}'{hint}: neither in patients.csv nor stored")
        return bundle

    def merge_children(self):
        for name in CHILD_FILES:
            spec = FILES[name]
            seen = {}
            for row in self.converted[name]:
                bundle = self._bundle_for(row)
                if bundle is None:
                    continue
                full_key = (row.code, row.key)
                if full_key in seen:
                    key_text = ", ".join(spec.key)
                    self.error(name, row.line, spec.key[-1],
                               f"duplicate of line {seen[full_key]} (same patient, {key_text})")
                    continue
                seen[full_key] = row.line
                rows = bundle.rows[name]
                obj = rows.get(row.key)
                is_new = obj is None
                if is_new:
                    obj = spec.model(**dict(zip(spec.key, row.key, strict=True)))
                    obj.patient = bundle.patient
                    setattr(obj, ACTOR_FIELD[spec.model] + "_id",
                            getattr(self.actor, "pk", None))
                    rows[row.key] = obj
                values = dict(row.values)
                stored_result = None if is_new else getattr(obj, "result", None)
                getattr(self, "_special_" + name.split(".")[0], lambda *a: None)(
                    row, obj, is_new, values
                )
                changed = self._apply(obj, values)
                if name == "visits.csv" and "cdai_complications" in changed and (
                    obj.cdai_complication_flags
                ):
                    # The datasheet holds the count only: a changed count replaces the
                    # ticked categories recorded on the page (kept in the history).
                    obj.cdai_complication_flags = []
                    changed.add("cdai_complication_flags")
                if name == "pregnancy_tests.csv" and not is_new and "result" in changed:
                    # Reading (R5.2, as pregnancy_test_record): a result is never
                    # overwritten — a positive turned negative would lift the block.
                    obj.result = stored_result
                    self.error(name, row.line, "result",
                               f"a {stored_result} test is already recorded on that date; a "
                               "result is never overwritten (a clinician corrects it in the "
                               "record's history)")
                    continue
                status = "new" if is_new else ("changed" if changed else "unchanged")
                self.state[name][id(obj)] = [status, row.line, changed, row]
                self.objects[name].append((bundle, obj))
                if status != "unchanged":
                    self._validate(name, row.line, obj, row.raw, whole=row.ok and not bundle.invalid,
                                   fields=set(values) | set(spec.key) if is_new else changed)

    def _special_visits(self, row, visit, is_new, values):
        # hbi / mayo columns hold the visit's total. The datasheet has no HBI items
        # and only the endoscopic Mayo subscore, so the total is stored as the entered
        # total — unless it is the score already stored (computed from the items
        # recorded on the page), which is then left alone.
        for column, entered, score in (("hbi", "hbi_entered", "hbi"), ("mayo", "mayo_entered", "mayo")):
            if column not in row.special:
                continue
            value = row.special[column]
            if not is_new and value is not None and value == getattr(visit, score):
                continue
            values[entered] = value

    def _special_labs(self, row, lab, is_new, values):
        unit = row.special.get("unit")
        if unit and "test" in row.values:
            message = labs.unit_error(row.values["test"], unit)
            if message:
                self.error(row.file, row.line, "unit", message)

    def _special_endoscopies(self, row, endoscopy, is_new, values):
        segments = bool(endoscopy.cdeis_segments)
        if "cdeis" in row.special:
            value = row.special["cdeis"]
            # The cdeis column holds the total: stored as the entered total unless it is
            # the score already stored (e.g. computed from the segments on the page).
            unchanged = value == endoscopy.cdeis_entered or (
                value is not None and value == endoscopy.cdeis
            )
            if is_new or not unchanged:
                values["cdeis_entered"] = value
        if "ulceration" in row.special:
            value = row.special["ulceration"]
            if segments:
                if value != endoscopy.ulceration:
                    self.warn(row.file, row.line, "ulceration",
                              f"derived from the recorded CDEIS segments ({_fmt(endoscopy.ulceration)}); "
                              f"the datasheet's {_fmt(value)} is ignored")
            else:
                values["ulceration"] = value

    # --- 5. the thalidomide course (R3.1) --------------------------------------------
    def derive_courses(self):
        for bundle in self.bundles.values():
            if bundle.invalid:
                continue  # judged once the patient's own row is right
            row = bundle.course_row
            given = row.course if row is not None else {}
            doses = sorted(
                (obj for (drug, _), obj in bundle.rows["doses.csv"].items()
                 if drug == Drug.THALIDOMIDE and obj.dose_mg is not None),
                key=lambda d: d.date,
            )
            dose_rows = [titration.DoseRow(date=d.date, dose_mg=d.dose_mg) for d in doses]
            dosed = [r for r in dose_rows if r.dose_mg > 0]
            course = bundle.course
            start = stop = None
            line = bundle.line
            if dosed:
                start = dosed[0].date
                stop = titration.stop_date(dose_rows, dose_rows[-1].date)
                if "start_date" in given and given["start_date"] != start:
                    self.error("patients.csv", line, "thalidomide_start",
                               f"must equal the first thalidomide row of doses.csv "
                               f"({start.isoformat()}), got '{_fmt(given['start_date'])}'")
                if "stop_date" in given and given["stop_date"] != stop:
                    expected = (
                        f"must equal the 0 mg row that follows it ({stop.isoformat()})" if stop
                        else "must be empty (ongoing): no 0 mg thalidomide row of doses.csv "
                             "stops the course"
                    )
                    self.error("patients.csv", line, "thalidomide_stop",
                               f"{expected}, got '{_fmt(given['stop_date'])}'")
            elif given.get("start_date"):
                start = given["start_date"]
                stop = given.get("stop_date", course.stop_date if course else None)
            elif given.get("stop_date"):
                self.error("patients.csv", line, "thalidomide_stop",
                           "a stop needs a thalidomide_start (or thalidomide rows in doses.csv)")
                continue
            elif course is not None:
                # An empty start means unknown: the stored course is kept.
                start, stop = course.start_date, course.stop_date
            if start is None:
                if course is None:
                    for attr, column in (("target_dose_mg", "target_dose_mg"),
                                         ("regimen", "regimen"),
                                         ("regimen_reason", "regimen_reason")):
                        if given.get(attr) not in (None, ""):
                            self.error("patients.csv", line, column,
                                       "needs a thalidomide course: give thalidomide_start "
                                       "(or thalidomide rows in doses.csv)")
                continue  # no course, or the stored course is kept
            if course is None:
                course = TherapyCourse(patient=bundle.patient)
                bundle.course = course
                bundle.course_state = "new"
            values = {"start_date": start, "stop_date": stop}
            for attr in ("target_dose_mg", "regimen", "regimen_reason"):
                if attr in given:
                    values[attr] = given[attr]
            if stop is None:
                values["stop_reason"] = ""
            elif not course.stop_reason or course.stop_date != stop:
                zero = next((d for d in doses if d.date == stop), None)
                values["stop_reason"] = ((zero.reason if zero else "") or "stopped")[:200]
            changed = self._apply(course, values)
            if bundle.course_state != "new":
                bundle.course_state = "changed" if changed else "unchanged"
            bundle.course_changed = changed
            if bundle.course_state != "unchanged":
                if line:
                    self._validate("patients.csv", line, course, row.raw)
                else:
                    first = next(
                        (self.state["doses.csv"].get(id(d)) for d in doses
                         if id(d) in self.state["doses.csv"]), None,
                    )
                    self._validate_course_elsewhere(course, first)

    def _validate_course_elsewhere(self, course, state):
        try:
            course.full_clean(exclude=["patient"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            line = state[1] if state else 0
            for messages in error.message_dict.values():
                self.error("doses.csv", line, "date", f"thalidomide course: {messages[0]}")

    # --- 6. computed values -----------------------------------------------------------
    def compute(self):
        rules = rule_settings()
        version = rules_version()
        for bundle in self.bundles.values():
            self._compute_doses(bundle, version)
            self._compute_visits(bundle, rules, version)
            for obj in bundle.rows["endoscopies.csv"].values():
                state = self.state["endoscopies.csv"].get(id(obj))
                if state and state[0] != "unchanged":
                    apply_endoscopy_scores(obj)

    def _thalidomide_patient(self, bundle, visits, tests):
        patient = bundle.patient
        course = bundle.course
        regimen = course.effective_regimen if course is not None else ""
        if not regimen:
            regimen = Regimen.ADULT if patient.age_on(self.today) >= 16 else Regimen.PAEDIATRIC
        return titration.ThalidomidePatient(
            regimen=regimen,
            target_dose_mg=course.target_dose_mg if course is not None else None,
            sex=patient.sex,
            female_of_reproductive_potential=patient.is_female_of_reproductive_potential,
            irregular_cycles=patient.irregular_cycles,
            contraception_start=patient.contraception_start,
            weights=tuple((v.date, v.weight_kg) for v in visits if v.weight_kg is not None),
            neuropathy=tuple(
                (v.date, v.neuropathy_grade) for v in visits
                if v.contact == Contact.CLINIC and v.neuropathy_grade is not None
            ),
            breastfeeding=tuple((v.date, v.breastfeeding) for v in visits if v.breastfeeding is not None),
            pregnancy_tests=tuple(titration.PregnancyTest(date=t.date, result=t.result) for t in tests),
        )

    def _compute_doses(self, bundle, version):
        doses = bundle.rows["doses.csv"]
        if not doses:
            return
        states = self.state["doses.csv"]
        visits = sorted(bundle.rows["visits.csv"].values(), key=lambda v: v.date)
        tests = sorted(bundle.rows["pregnancy_tests.csv"].values(), key=lambda t: t.date)
        patient = bundle.patient
        by_drug = defaultdict(list)
        for (drug, _), obj in doses.items():
            by_drug[drug].append(obj)
        results = {}
        thal = sorted(by_drug[Drug.THALIDOMIDE], key=lambda d: d.date)
        if thal:
            history = [titration.DoseRow(date=d.date, dose_mg=d.dose_mg) for d in thal]
            checks = titration.check_thalidomide_history(
                patient=self._thalidomide_patient(bundle, visits, tests), history=history
            )
            for obj, check in zip(thal, checks, strict=True):
                results[id(obj)] = (check.kind, list(check.deviations), list(check.warnings))
        aza = sorted(by_drug[Drug.AZATHIOPRINE], key=lambda d: d.date)
        weights = tuple((v.date, v.weight_kg) for v in visits if v.weight_kg is not None)
        for index, obj in enumerate(aza):
            if obj.dose_mg == 0:
                results[id(obj)] = ("stop", [], [])
                continue
            check = titration.check_aza_dose(
                dose_mg=obj.dose_mg, on=obj.date, weights=weights, tpmt=patient.tpmt,
                nudt15=patient.nudt15, xanthine_oxidase_inhibitor=patient.xanthine_oxidase_inhibitor,
            )
            starting = index == 0 or aza[index - 1].dose_mg == 0
            deviations = []
            if check.contraindicated and starting:
                gate = titration.aza_start_gate(tpmt=patient.tpmt, nudt15=patient.nudt15)
                deviations = [gate] if gate else []
            results[id(obj)] = ("first_dose" if starting else "change", deviations, list(check.warnings))
        for obj in doses.values():
            state = states.get(id(obj))
            if state is None or id(obj) not in results:
                continue
            kind, deviations, warnings = results[id(obj)]
            codes = [f.code for f in deviations]
            given = state[3].computed.get("deviations")
            # An empty computed cell means unknown (not "none"): nothing to compare.
            if given and sorted(filter(None, (c.strip() for c in given.split(";")))) != sorted(codes):
                self.warn("doses.csv", state[1], "deviations",
                          f"'{given}' differs from the recomputed '{';'.join(codes)}'; the "
                          "recomputed deviations are stored")
            if state[0] == "unchanged":
                continue
            obj.kind = kind
            obj.deviations = codes
            obj.warnings = [f.code for f in warnings]
            obj.check_reasons = [f.reason for f in deviations + warnings]
            obj.rules_version = version

    def _compute_visits(self, bundle, rules, version):
        visits = bundle.rows["visits.csv"]
        if not visits:
            return
        patient = bundle.patient
        hematocrits = [
            (lab.date, lab.value) for (day, test), lab in bundle.rows["labs.csv"].items()
            if test == "hematocrit"
        ]
        ordered = sorted(visits.values(), key=lambda v: (v.date, v.contact))
        states = self.state["visits.csv"]
        scores = {}
        for visit in ordered:
            computed = visit_scores(patient, visit, lab_hematocrits=hematocrits)
            scores[id(visit)] = (
                computed.cdai, computed.cdai_source, computed.cdai_reason, computed.hbi, computed.mayo,
            )
            state = states.get(id(visit))
            if state and state[0] != "unchanged":
                for warning in computed.warnings:
                    self.warn("visits.csv", state[1], "", warning)
        course = bundle.course
        observations = [
            outcomes.VisitObs(key=index, date=v.date, contact=v.contact, cdai=scores[id(v)][0],
                              relapse_event=v.relapse_event)
            for index, v in enumerate(ordered)
        ]
        if course is None:
            statuses = {
                index: ("", "R2.1", "No thalidomide start recorded: statuses are empty (R2.1).")
                for index in range(len(ordered))
            }
        else:
            baseline = outcomes.baseline_cdai(
                recorded=patient.baseline_cdai, visits=observations, start_date=course.start_date
            )
            statuses = {
                s.key: (s.status, s.rule, s.reason)
                for s in outcomes.clinical_statuses(
                    visits=observations, baseline=baseline, start_date=course.start_date,
                    as_of=self.today, remission_below=rules.remission_cdai_below,
                    response_drop=rules.response_cdai_drop,
                )
            }
        for index, visit in enumerate(ordered):
            cdai, source, reason, hbi, mayo = scores[id(visit)]
            status, rule, status_reason = statuses.get(index, ("", "", ""))
            new = (cdai, source, reason, hbi, mayo, status, rule, status_reason, version)
            old = (visit.cdai, visit.cdai_source, visit.cdai_reason, visit.hbi, visit.mayo,
                   visit.clinical_status, visit.status_rule, visit.status_reason, visit.rules_version)
            state = states.get(id(visit))
            if state is not None:
                given = state[3].computed
                if given.get("cdai_computed") and given["cdai_computed"] != _fmt(cdai):
                    self.warn("visits.csv", state[1], "cdai_computed",
                              f"'{given['cdai_computed']}' differs from the recomputed "
                              f"'{_fmt(cdai)}'; the recomputed CDAI is stored")
                if given.get("clinical_status") and given["clinical_status"] != status:
                    self.warn("visits.csv", state[1], "clinical_status",
                              f"'{given['clinical_status']}' differs from the recomputed "
                              f"'{status}'; the recomputed status is stored")
            if new == old:
                continue
            (visit.cdai, visit.cdai_source, visit.cdai_reason, visit.hbi, visit.mayo,
             visit.clinical_status, visit.status_rule, visit.status_reason,
             visit.rules_version) = new
            if state is None or state[0] == "unchanged":
                self.computed_updates.append(visit)

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
                for status, *_ in self.state[name].values():
                    counts[{"new": "created", "changed": "updated"}.get(status, status)] += 1
            self.counts[name] = counts

    def run(self):
        self.check_files()
        self.convert()
        self.load()
        self.merge_patients()
        self.merge_children()
        self.derive_courses()
        if not self._errors:
            self.compute()
        self.count()
        return self

    def report(self, *, dry_run=False):
        return ImportReport(
            errors=self.errors, warnings=self.warnings, counts=self.counts, dry_run=dry_run
        )

    # --- 8. writing ------------------------------------------------------------------------
    def write(self):
        actor = self.actor
        now = timezone.now()
        bundles = list(self.bundles.values())
        new_patients = [b.patient for b in bundles if b.is_new]
        for patient in new_patients:
            patient.pk = None
        _copy_insert(Patient, new_patients, actor=actor)
        changed = [b for b in bundles if not b.is_new and b.patient_changed]
        if changed:
            fields = sorted(set().union(*(b.patient_changed for b in changed)) | {"updated_at"})
            for bundle in changed:
                bundle.patient.updated_at = now
            _bulk_update(Patient, [b.patient for b in changed], fields, actor=actor)
        # Re-point every row of a new patient at its stored id.
        for bundle in bundles:
            if not bundle.is_new:
                continue
            if bundle.course is not None:
                bundle.course.patient = bundle.patient
            for rows in bundle.rows.values():
                for obj in rows.values():
                    obj.patient = bundle.patient
        self._write_model(
            TherapyCourse,
            [b.course for b in bundles if b.course_state == "new"],
            [(b.course, b.course_changed) for b in bundles if b.course_state == "changed"],
        )
        written = {}
        for name in CHILD_FILES:
            model = FILES[name].model
            created, updated = [], []
            for _, obj in self.objects[name]:
                status, _, fields, _ = self.state[name][id(obj)]
                if status == "new":
                    created.append(obj)
                elif status == "changed":
                    updated.append((obj, fields | _COMPUTED.get(model, set())))
            if model is Visit:
                for obj, _ in updated:
                    obj.updated_at = now
                updated = [(obj, fields | {"updated_at"}) for obj, fields in updated]
            self._write_model(model, created, updated)
            written[name] = (created, [obj for obj, _ in updated])
        # Computed values only (as patient_outcomes_refresh): no history row.
        _bulk_update(Visit, self.computed_updates, sorted(_COMPUTED[Visit]), history=False)
        self._write_alerts(written)

    def _write_model(self, model, created, updated):
        _copy_insert(model, created, actor=self.actor)
        if updated:
            fields = sorted(set().union(*(fields for _, fields in updated)))
            _bulk_update(model, [obj for obj, _ in updated], fields, actor=self.actor)

    def _write_alerts(self, written):
        """R4.4 alerts for the labs and visits written (the per-row signals do not fire
        for bulk writes): one per lab result at its highest tier, bradycardia on thalidomide."""
        from safety.services import lab_alert_refresh, visit_alert_refresh

        dose_rows = {}
        for bundle in self.bundles.values():
            rows = defaultdict(list)
            for (drug, _), obj in bundle.rows["doses.csv"].items():
                rows[drug].append(titration.DoseRow(date=obj.date, dose_mg=obj.dose_mg))
            dose_rows[bundle.patient.pk] = rows
        new_alerts = []
        labs_created, labs_updated = written.get("labs.csv", ([], []))
        for lab in labs_created:
            rows = dose_rows[lab.patient_id][Drug.AZATHIOPRINE]
            found = safety_alerts.lab_alert(
                test=lab.test, value=lab.value,
                aza_active=bool(rows) and titration.current_dose(rows, lab.date) > 0,
            )
            if found is not None:
                new_alerts.append(Alert(
                    patient_id=lab.patient_id, kind="lab", source=f"lab:{lab.pk}", tier=found.tier,
                    date=lab.date, rule=found.rule, reason=found.reason,
                    suggest_adverse_event=found.suggest_adverse_event,
                ))
        visits_created, visits_updated = written.get("visits.csv", ([], []))
        for visit in visits_created:
            rows = dose_rows[visit.patient_id][Drug.THALIDOMIDE]
            found = None
            if visit.heart_rate is not None:
                found = safety_alerts.bradycardia_alert(
                    heart_rate=visit.heart_rate,
                    thalidomide_active=bool(rows) and titration.thalidomide_active(rows, visit.date),
                )
            if found is not None:
                new_alerts.append(Alert(
                    patient_id=visit.patient_id, kind="bradycardia", source=f"visit:{visit.pk}",
                    tier=found.tier, date=visit.date, rule=found.rule, reason=found.reason,
                    suggest_adverse_event="bradycardia",
                ))
        _copy_insert(Alert, new_alerts)
        for lab in labs_updated:
            lab_alert_refresh(lab)
        for visit in visits_updated:
            visit_alert_refresh(visit)


_COMPUTED = {
    Visit: {"cdai", "cdai_source", "cdai_reason", "hbi", "mayo", "clinical_status", "status_rule",
            "status_reason", "rules_version"},
    DoseChange: {"kind", "deviations", "warnings", "check_reasons", "rules_version"},
    Endoscopy: {"cdeis", "cdeis_source", "cdeis_reason", "ulceration", "rules_version"},
}


_PLACES = {}
_FIELD_NAMES = {}


def _field_names(model):
    """(relation field names, other field names) of a model, computed once."""
    if model not in _FIELD_NAMES:
        fields = model._meta.fields
        _FIELD_NAMES[model] = (
            {f.name for f in fields if f.is_relation},
            {f.name for f in fields if not f.is_relation},
        )
    return _FIELD_NAMES[model]


def _decimal_places(model, name):
    key = (model, name)
    if key not in _PLACES:
        try:
            _PLACES[key] = getattr(model._meta.get_field(name), "decimal_places", None)
        except Exception:  # noqa: BLE001 - not a model field
            _PLACES[key] = None
    return _PLACES[key]


def _bulk_update(model, objs, fields, *, actor=None, history=True):
    """UPDATE … FROM (VALUES …): one statement per batch, far cheaper than Django's
    CASE/WHEN ``bulk_update`` for thousands of rows; then the history rows, as
    ``bulk_update_with_history`` writes them."""
    if not objs:
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
    psycopg adapts dates, numbers, text and booleans; JSON is wrapped)."""
    extra = extra or {}
    names = [f.attname for f in fields if f.attname not in extra]
    getter = operator.attrgetter(*names)
    json_fields = [(i, f) for i, f in enumerate(fields) if isinstance(f, JSONField)]
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


def _copy(cursor, table, fields, rows):
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_insert(model, objs, *, actor=None, history=True):
    """INSERT by PostgreSQL COPY — ids drawn from the table's sequence first, so every
    object knows its id — and the "+" history rows, as ``bulk_create_with_history``
    writes them (one history row per object, the acting user, no reason)."""
    if not objs:
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


def _model_choices(model, field_name):
    try:
        choices = model._meta.get_field(field_name).choices or []
    except Exception:  # noqa: BLE001 - a message helper only
        return "the listed codes"
    return ", ".join(str(value) for value, _ in choices)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


@contextmanager
def _gc_paused():
    """The cyclic garbage collector re-walks every live object as millions of rows
    are built (~15 % of an import's time); reference counting still frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def validate_datasheet(files, *, actor=None) -> ImportReport:
    """Check everything; write nothing. ``files`` as returned by ``read_datasheet``."""
    with _gc_paused():
        plan = _Plan(files, actor=actor, today=timezone.localdate()).run()
    return plan.report(dry_run=True)


def import_datasheet(path, *, actor=None, dry_run=False, max_bytes=None) -> ImportReport:
    """Import a datasheet folder or zip: all of it, or with any error nothing."""
    try:
        files = read_datasheet(path, max_bytes=max_bytes)
    except DatasheetInvalid as invalid:
        return ImportReport(errors=list(invalid.errors), dry_run=dry_run)
    if dry_run:
        return validate_datasheet(files, actor=actor)
    from safety.services import rescans_deferred, scan_reminders

    with _gc_paused(), rescans_deferred(), transaction.atomic():
        plan = _Plan(files, actor=actor, today=timezone.localdate()).run()
        report = plan.report()
        if report.errors:
            return report
        plan.write()
        ids = [b.patient.pk for b in plan.bundles.values()]
        scan_reminders(patient_ids=ids)
        report.written = True
    return report


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def _export_rows(name):
    """(sort key, cells) of every stored record of one file."""
    if name == "patients.csv":
        courses = {c.patient_id: c for c in TherapyCourse.objects.all()}
        for patient in Patient.objects.all().iterator(chunk_size=BATCH_SIZE):
            course = courses.get(patient.pk)
            cells = []
            for column in PATIENT_COLUMNS:
                if column.target == "course":
                    value = getattr(course, column.attr) if course is not None else None
                else:
                    value = getattr(patient, column.attr)
                cells.append(_fmt(value))
            yield (patient.code,), cells
        return
    spec = FILES[name]
    model = spec.model
    getters = {
        "visits.csv": {
            "cdai": lambda v: v.cdai_entered, "hbi": lambda v: v.hbi, "mayo": lambda v: v.mayo,
            "cdai_computed": lambda v: v.cdai,
            "clinical_status": lambda v: v.clinical_status,
        },
        "labs.csv": {"unit": lambda lab: labs.LAB_TESTS[lab.test].unit},
        "doses.csv": {"deviations": lambda d: ";".join(d.deviations or [])},
        "endoscopies.csv": {"cdeis": lambda e: e.cdeis if e.cdeis is not None else e.cdeis_entered},
    }.get(name, {})
    for obj in model.objects.select_related("patient").iterator(chunk_size=BATCH_SIZE):
        cells = []
        for column in spec.columns:
            if column.name == "patient":
                value = obj.patient.code
            elif column.name in getters:
                value = getters[column.name](obj)
            else:
                value = getattr(obj, column.attr)
            cells.append(_fmt(value))
        key = (obj.patient.code, *(_sort_value(getattr(obj, k)) for k in spec.key))
        yield key, cells


def _sort_value(value):
    return value.isoformat() if isinstance(value, date) else str(value)


def export_datasheet(directory) -> dict:
    """Write every file of the datasheet into ``directory``; returns rows per file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in FILE_ORDER:
        rows = sorted(_export_rows(name), key=lambda item: item[0])
        with open(directory / name, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([c.name for c in FILES[name].columns])
            writer.writerows(cells for _, cells in rows)
        counts[name] = len(rows)
    return counts
