"""The in-memory records of an import plan: converted rows, each patient's bundle of
stored and new records, the state of each row, and setting a row's values."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from patients.models import Patient
from therapy.models import TherapyCourse

from .format import CHILD_FILES


@dataclass
class Converted:
    """One CSV row with its cells converted, sorted by where each value goes."""

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
class Bundle:
    """One patient: the stored or new record and every row of it, merged."""

    patient: Patient
    is_new: bool
    line: int = 0  # patients.csv line
    course: TherapyCourse | None = None
    course_row: Converted | None = None
    rows: dict = field(default_factory=lambda: {name: {} for name in CHILD_FILES})
    patient_changed: set = field(default_factory=set)
    course_state: str = "unchanged"  # new | changed | unchanged
    course_changed: set = field(default_factory=set)
    invalid: bool = False  # the patients.csv row has errors


@dataclass(slots=True)
class RowState:
    """What a row of a child file does to its record."""

    status: str  # new | changed | unchanged
    line: int
    changed: set  # the model fields the row changes
    row: Converted


_PLACES = {}


def _decimal_places(model, name):
    key = (model, name)
    if key not in _PLACES:
        try:
            _PLACES[key] = getattr(model._meta.get_field(name), "decimal_places", None)
        except Exception:  # noqa: BLE001 - not a model field
            _PLACES[key] = None
    return _PLACES[key]


def apply_values(obj, values):
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
