"""Saying a rule's reason in the reader's language (issue 17): the Django side of
``thalimon.said``.

``render(reason)`` looks a ``Said``'s message up in the catalogue (gettext, or
ngettext for a count) in the active language and fills its parameters in: a nested
reason is rendered the same way, a day in the language's DATE_FORMAT
(thalimon/formats/), anything else as written (numbers, codes). Plain text — a
reason stored before reasons were structured, a clinician's own words — is shown as
it is. Templates use the ``said`` filter (thalimon/templatetags/clinical.py) and
the ``day`` filter for days.
"""

from datetime import date, datetime

from django.utils import formats
from django.utils.translation import gettext, ngettext, pgettext

from thalimon.said import Said, clause_text


def day(value) -> str:
    """A day as the reader's language writes it (English: ISO 8601; Chinese: 2026年12月7日)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str) and len(value) == 10:  # an ISO day kept as text (the report's JSON)
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, date):
        return "" if value is None else str(value)
    pattern = formats.get_format("DATE_FORMAT")  # cached per language
    if pattern == "Y-m-d":
        return value.isoformat()  # the English pages' format, without the formatter's parsing
    return formats.date_format(value, pattern)


def _separator(sep: str) -> str:
    words = {
        "; ": pgettext("between two reasons", "; "),
        ", ": pgettext("between two items of a list", ", "),
        " ": pgettext("between two sentences", " "),
        " — ": pgettext("before an explanation", " — "),
    }
    return words.get(sep, sep)


def _param(value):
    if isinstance(value, Said):
        return render(value)
    if isinstance(value, date):
        return day(value)
    return value


def render(reason) -> str:
    """``reason`` in the active language (see the module docstring)."""
    if not isinstance(reason, Said):
        return "" if reason is None else str(reason)
    if reason.parts or reason.msgid is None:
        text = _separator(reason.sep).join(render(part) for part in reason.parts)
    else:
        if reason.plural is not None:
            message = ngettext(reason.msgid, reason.plural, reason.count)
        else:
            message = gettext(reason.msgid)
        params = {name: _param(value) for name, value in reason.params.items()}
        try:
            text = message % params if params else message
        except (KeyError, ValueError, TypeError):
            # A translation that names a parameter wrongly must never hide the reason.
            text = str(reason)
    if reason.clause:
        text = clause_text(text, reason.clause if isinstance(reason.clause, str) else None,
                           lower=not _is_cjk(text))
    return text


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text[:3])
