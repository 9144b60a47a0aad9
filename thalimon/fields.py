"""Model fields of the house. Plumbing: imports no app."""

from django.db import models

from thalimon import said


class SaidField(models.TextField):
    """A rule's reason kept so it can be read in any language (issue 17).

    The column is text. A ``thalimon.said.Said`` is stored as a small JSON envelope
    (its message, parameters and English text); reading it back gives the ``Said``
    again (its ``str`` is the English sentence, so exports and tests read English and
    pages render it with the ``said`` filter). Plain text — rows written before
    reasons were structured — is stored and read as it is."""

    def from_db_value(self, value, expression, connection):
        return said.loads(value)

    def to_python(self, value):
        return said.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value):
        return said.dumps(value) if isinstance(value, said.Said) else super().get_prep_value(value)


class SaidListField(models.JSONField):
    """A JSON list of rule reasons (e.g. a dose check's), each kept as ``SaidField`` keeps
    one: a ``Said`` as ``{"said": …, "text": …}``, plain text as a string."""

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        return _reasons(value)

    def to_python(self, value):
        return _reasons(super().to_python(value))

    def get_prep_value(self, value):
        if isinstance(value, (list, tuple)):
            value = [_envelope(item) for item in value]
        return super().get_prep_value(value)


def _envelope(item):
    if isinstance(item, said.Said):
        return {"said": said.to_data(item), "text": str(item)}
    return item


def _reasons(value):
    if not isinstance(value, list):
        return value
    return [said.from_data(item["said"]) if isinstance(item, dict) and "said" in item else item
            for item in value]
