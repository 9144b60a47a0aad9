"""The models' own validation (``full_clean``/``clean_fields``) of a row's record,
reported as ``file:line: column: message`` findings."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from thalimon.said import Said, join, say

from .format import FILES

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


def _model_choices(model, field_name):
    try:
        choices = model._meta.get_field(field_name).choices or []
    except Exception:  # noqa: BLE001 - a message helper only
        return say("the listed codes")
    return join([str(value) for value, _ in choices], ", ")


def _without_full_stop(message):
    """``message`` without its final full stops (a ``Said`` without one stays as it is)."""
    if isinstance(message, Said) and not message.endswith("."):
        return message
    return message.rstrip(".")


class RowValidator:
    """Validates records with their model's rules and files the errors in ``findings``."""

    def __init__(self, findings):
        self.findings = findings

    def validate(self, file, line, obj, hint_raw=None, *, whole=True, fields=None):
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
            self._report(file, line, error, hint_raw or {})

    def _report(self, file, line, error, raw):
        spec = FILES[file]
        mapping = {c.attr: c.name for c in spec.columns if c.attr}
        mapping.update(dict(spec.extra_fields))
        mapping["code"] = "patient"
        if not hasattr(error, "error_dict"):
            self.findings.error(file, line, "", join(error.messages, " "))
            return
        for field_name, errors in error.error_dict.items():
            column = mapping.get(field_name, "")
            messages = []
            for item in errors:
                if item.code == "invalid_choice":
                    value = (item.params or {}).get("value")
                    choices = _model_choices(spec.model, field_name)
                    messages.append(say("must be one of %(choices)s, got %(value)s", choices=choices, value=value))
                else:
                    messages.extend(item.messages)
            # The model's own clinical wording, with the value, wins over generic text.
            message = next((m for m in messages if "(got" in m), messages[0])
            cell = (raw.get(column) or "").strip()
            if cell and cell not in message and "(got" not in message and len(cell) <= 40:
                message = say("%(message)s (got %(value)s).", message=_without_full_stop(message), value=cell)
            if field_name == NON_FIELD_ERRORS:
                self.findings.error(file, line, "", message)
            elif not column:
                self.findings.error(file, line, "", say("%(field)s: %(message)s", field=field_name, message=message))
            else:
                self.findings.error(file, line, column, message)
