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
from functools import lru_cache

from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, ngettext, pgettext

from thalimon.said import Said, clause_text


@lru_cache(maxsize=16384)
def _translated(language, context, message):
    # Called only while ``language`` is the active one (it is part of the key), so the
    # answer is that language's. The catalogues never change while the process runs.
    return pgettext(context, message) if context else gettext(message)


@lru_cache(maxsize=4096)
def _translated_n(language, singular, plural, count):
    return ngettext(singular, plural, count)  # called while ``language`` is active, as above


def tr(message, context=None) -> str:
    """``gettext(message)`` (``pgettext`` with a context), remembered per language: a list
    page asks for the same few words on every row, and each lookup walks Django's chain of
    catalogues (some eight of them for English)."""
    return _translated(get_language(), context, str(message))


# Texts remembered per language for an object that stands for them: (id, language) ->
# (the object, its text). The entry keeps its object alive and is used only for that very
# object, so an id is never mistaken for another's; each store is emptied when it grows
# past MEMO_SIZE entries.
MEMO_SIZE = 4096
_LAZY_TEXT = {}
_RENDERED = {}


def _remembered(store, value, compute):
    key = (id(value), get_language())
    found = store.get(key)
    if found is not None and found[0] is value:
        return found[1]
    if len(store) >= MEMO_SIZE:
        store.clear()
    text = compute(value)
    store[key] = (value, text)
    return text


def lazy_text(value) -> str:
    """``str(value)`` for a lazy translation (``gettext_lazy``), remembered per language: the
    labels of a module's constants (an action link's words) are asked for on every row of a
    list, and each ``str`` walks the catalogues again. Anything else is returned as it is."""
    if not isinstance(value, Promise):
        return value
    return _remembered(_LAZY_TEXT, value, str)


@lru_cache(maxsize=64)
def _date_format(language):
    return formats.get_format("DATE_FORMAT")  # called while ``language`` is active


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
    pattern = _date_format(get_language())
    if pattern == "Y-m-d":
        return value.isoformat()  # the English pages' format, without the formatter's parsing
    return formats.date_format(value, pattern)


SEPARATOR_CONTEXTS = {
    "; ": "between two reasons", ", ": "between two items of a list", " ": "between two sentences",
    " — ": "before an explanation",
}
# The separators, written out for makemessages (which reads literal pgettext calls only).
_SEPARATORS_FOR_THE_CATALOGUE = (
    lambda: pgettext("between two reasons", "; "), lambda: pgettext("between two items of a list", ", "),
    lambda: pgettext("between two sentences", " "), lambda: pgettext("before an explanation", " — "),
)


def _separator(sep: str) -> str:
    context = SEPARATOR_CONTEXTS.get(sep)
    return tr(sep, context) if context else sep


def _param(value):
    if isinstance(value, Said):
        return render(value)
    if isinstance(value, date):
        return day(value)
    return value


def render(reason) -> str:
    """``reason`` in the active language (see the module docstring). A stored reason (read
    back as the same object on every page load, ``thalimon.said.loads``) is remembered per
    language: a ``Said`` never changes once made. A reason computed for this page is not
    (it would only push the stored ones out)."""
    if not isinstance(reason, Said):
        return "" if reason is None else str(reason)
    if reason.stored:
        return _remembered(_RENDERED, reason, _render)
    return _render(reason)


def _render(reason) -> str:
    if reason.parts or reason.msgid is None:
        text = _separator(reason.sep).join(render(part) for part in reason.parts)
    else:
        if reason.plural is not None:
            message = _translated_n(get_language(), reason.msgid, reason.plural, reason.count)
        else:
            message = tr(reason.msgid)
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
