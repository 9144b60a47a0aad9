"""Sentences the pure rules say to people, kept as message + parameters (issue 17).

No Django and no clock here: the rule modules (therapy/rules, visits/scoring.py,
safety/schedule.py …) import this module to write their reasons. A reason is a
``Said``: a ``str`` whose value is the English sentence, exactly as before, and
which also remembers how it was made — the message written with ``%(name)s``
placeholders (the catalogue's msgid) and its parameters (numbers, dates, codes and
other ``Said``). So every caller that treats a reason as text (tests, exports,
datasheets, logs of codes) still reads English, and a page, PDF or email renders
the same reason in its reader's language through ``thalimon.saying.render``,
which looks the message up in the catalogue and fills the parameters in (dates
in the reader's format). No rule logic moves out of the rule modules; only the
words do.

The forms:

- ``say("Thalidomide is not active on %(date)s: no step (R3.1).", date=on)``
- ``say_n("%(count)s day", "%(count)s days", count)`` for a count's plural;
- ``join([a, b], "; ")`` a list of reasons (the separator is one of SEPARATORS);
- ``as_clause(reason, rule)`` a reason used inside a longer one: its final
  " (rule)." (or else its full stop) dropped and its first letter in lower case
  (the same in every language; lower case only where the language has it).

Catalogue extraction: ``makemessages`` reads ``say`` and ``say_n`` as gettext
keywords (thalimon/management/commands/makemessages.py).
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache

SEPARATORS = ("; ", " ", ", ", " — ")


class Said(str):
    """English text that can be said again in another language (see the module docstring).

    ``msgid`` and ``params`` for a message (``plural`` and ``count`` when it has a plural
    form); ``parts`` and ``sep`` for a joined list; ``clause`` when used as a clause."""

    msgid = None
    plural = None
    count = None
    params: dict = {}
    parts: tuple = ()
    sep = ""
    clause = False
    stored = False  # read back from a stored row (``loads``): the same object on every page load

    def __reduce__(self):
        return (from_data, (to_data(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def english(value) -> str:
    """A parameter as the English sentence shows it (dates in ISO 8601)."""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _fill(message: str, params: dict, show) -> str:
    return message % {name: show(value) for name, value in params.items()} if params else message


def clause_text(text: str, rule=None, lower: bool = True) -> str:
    """``text`` as a clause: a final "(rule)." (any parentheses, any full stop) or else the
    final full stop dropped, and the first letter lowered."""
    stripped = text
    if rule:
        suffix = re.compile(r"\s*[(（]" + re.escape(rule) + r"[)）]\s*[.。]\s*$")
        stripped = suffix.sub("", text)
    if stripped == text:
        stripped = text.rstrip(".。")
    return stripped[:1].lower() + stripped[1:] if lower else stripped


def say(msgid: str, **params) -> Said:
    """The reason ``msgid % params``, remembered as message and parameters."""
    said = Said(_fill(msgid, params, english))
    said.msgid, said.params = msgid, params
    return said


def say_n(singular: str, plural: str, count: int, **params) -> Said:
    """A message with a plural form chosen by ``count`` (``%(count)s`` is filled in)."""
    params = {"count": count, **params}
    said = Said(_fill(singular if count == 1 else plural, params, english))
    said.msgid, said.plural, said.count, said.params = singular, plural, count, params
    return said


def join(parts, sep: str = "; ") -> Said:
    """Reasons (``Said`` or plain text) joined by ``sep`` (one of SEPARATORS)."""
    if sep not in SEPARATORS:
        raise ValueError(f"separator {sep!r} is not one of {SEPARATORS}")
    parts = tuple(parts)
    said = Said(sep.join(str(part) for part in parts))
    said.parts, said.sep = parts, sep
    return said


def as_clause(reason, rule=None) -> Said:
    """``reason`` used inside a longer sentence, its own "(rule)." dropped (see ``clause_text``)."""
    if not isinstance(reason, Said):
        reason = join([reason], " ")
    said = Said(clause_text(str(reason), rule))
    said.__dict__.update(reason.__dict__)
    said.__dict__.pop("stored", None)  # a new object, made for this page
    said.clause = rule or True
    return said


# --- storing a reason (thalimon.fields.SaidField, JSON columns of reasons) ---

def to_data(value):
    """A reason as JSON-ready data: plain text stays text; a ``Said`` becomes a dict."""
    if isinstance(value, Said):
        if value.parts or (value.msgid is None):
            data = {"j": value.sep, "parts": [to_data(part) for part in value.parts]}
        else:
            data = {"m": value.msgid, "p": {name: to_data(v) for name, v in value.params.items()}}
            if value.plural is not None:
                data.update({"pl": value.plural, "n": value.count})
        if value.clause:
            data["c"] = value.clause
        return data
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def from_data(data):
    """The reason ``to_data`` gave (English ``str`` value, remembered message)."""
    if isinstance(data, dict):
        if "d" in data:
            return date.fromisoformat(data["d"])
        if "j" in data:
            said = join([from_data(part) for part in data["parts"]], data["j"])
        else:
            params = {name: from_data(v) for name, v in data.get("p", {}).items()}
            if "pl" in data:
                params.pop("count", None)
                said = say_n(data["m"], data["pl"], data["n"], **params)
            else:
                said = say(data["m"], **params)
        clause = data.get("c")
        return as_clause(said, clause if isinstance(clause, str) else None) if clause else said
    return data


ENVELOPE = '{"said":'


def dumps(value) -> str:
    """A reason as the text a SaidField stores: plain text as it is, a ``Said`` as JSON."""
    if isinstance(value, Said):
        return json.dumps({"said": to_data(value), "text": str(value)}, ensure_ascii=False)
    return "" if value is None else str(value)


def loads(text):
    """The reason ``dumps`` stored (a row written before reasons were structured stays text)."""
    if isinstance(text, str) and text.startswith(ENVELOPE):
        return _loads_envelope(text)
    return text


# A page shows the same stored reasons on every load (an inbox's thirty rows, a patient's
# visits): each envelope is decoded once per process. A ``Said`` is never changed once made
# (``as_clause`` and ``join`` make new ones; copying returns it as it is), so one object may
# stand for every row that stored the same text.
@lru_cache(maxsize=8192)
def _loads_envelope(text):
    try:
        said = from_data(json.loads(text)["said"])
    except (ValueError, KeyError, TypeError):
        return text
    if isinstance(said, Said):
        said.stored = True  # read back from a row: rendered once per language (thalimon.saying)
    return said
