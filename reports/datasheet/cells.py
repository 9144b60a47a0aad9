"""Cells: text to value by the column's kind (with the message of a bad cell), and back."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from thalimon.said import join, say

from .format import Column

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CellError(Exception):
    """A cell that cannot be converted; the message (a ``Said``) says why, for the cell's
    error line."""

    @property
    def message(self):
        return self.args[0]


def convert_cell(column: Column, raw, today):
    """The value of one cell (the column's default when empty); ``CellError`` if bad."""
    text = "" if raw is None else str(raw).strip()
    if text == "":
        if column.required:
            raise CellError(say("required: the cell is empty"))
        return column.default
    kind = column.kind
    if "\x00" in text:
        raise CellError(say("contains a NUL character, which cannot be stored"))
    if kind == "text":
        return text[1:] if text.startswith(QUOTE) else text  # the export's guard (below), undone
    if kind in ("code", "computed"):
        return text
    if kind == "date":
        return _date(text, today)
    if kind in ("decimal", "int"):
        return _number(text, kind)
    if kind == "flag":
        if text not in ("0", "1"):
            raise CellError(say("must be 0 or 1, got '%(value)s'", value=text))
        return text == "1"
    if kind == "choice":
        for choice in column.choices:
            if choice.lower() == text.lower():
                return choice
        raise CellError(say("unknown code '%(value)s'; expected one of: %(choices)s",
                            value=text, choices=join(column.choices, ", ")))
    raise AssertionError(kind)


def _date(text, today):
    try:
        if not _DATE.match(text):
            raise ValueError
        value = date.fromisoformat(text)
    except ValueError:
        raise CellError(say("must be a date as YYYY-MM-DD, got '%(value)s'", value=text)) from None
    if value > today:
        raise CellError(say("%(value)s is in the future (today is %(today)s); "
                            "dates in the future are not accepted", value=text, today=today))
    return value


def _number(text, kind):
    if not _NUMBER.match(text):
        raise CellError(say("must be a number (digits and a decimal point, no unit), got '%(value)s'",
                            value=text))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError(say("must be a number, got '%(value)s'", value=text)) from None
    if kind == "int":
        if value != value.to_integral_value():
            raise CellError(say("must be a whole number, got '%(value)s'", value=text))
        return int(value)
    return value


# A text cell a spreadsheet would run as a formula is written with a leading apostrophe
# (as spreadsheets themselves do); so is one that starts with an apostrophe, and the
# import drops one leading apostrophe: the round trip stays byte-identical.
QUOTE = "'"
FORMULA_STARTS = ("=", "+", "-", "@", QUOTE)


def format_column_cell(column, value) -> str:
    """``format_cell``, with text cells guarded against spreadsheet formulas."""
    text = format_cell(value)
    if column.kind == "text" and text.startswith(FORMULA_STARTS):
        return QUOTE + text
    return text


def format_cell(value) -> str:
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
