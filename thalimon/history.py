"""Audit history rendered for people: who changed what, and when.

Works for any model with django-simple-history. The history rows are read in
one query (with their users), consecutive versions are diffed in Python, and
foreign keys to users are resolved in one more query, so the page costs the
same whatever the number of changes.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model

CHANGE_TYPES = {"+": "Created", "~": "Changed", "-": "Deleted"}


@dataclass
class HistoryEntry:
    when: object
    who: str
    action: str
    reason: str
    changes: list = field(default_factory=list)  # [(label, old, new)]


def _display(model_field, value, users):
    if value is None or value == "":
        return "—"
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    if model_field.is_relation:
        user = users.get(value)
        return (user.get_full_name() or user.username) if user else f"#{value}"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def history_entries(history_queryset, *, hidden_fields=(), hidden_text="(hidden for your role)"):
    """Newest first. ``hidden_fields`` are shown as changed without values."""
    records = list(history_queryset.select_related("history_user").order_by("history_date", "history_id"))
    if not records:
        return []
    model = records[0].instance_type
    user_fk_ids = set()
    for record in records:
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is get_user_model():
                value = getattr(record, f.attname, None)
                if value:
                    user_fk_ids.add(value)
    users = get_user_model().objects.in_bulk(user_fk_ids)

    entries = []
    previous = None
    for record in records:
        who = record.history_user
        entry = HistoryEntry(
            when=record.history_date,
            who=(who.get_full_name() or who.username) if who else "system (import or job)",
            action=CHANGE_TYPES.get(record.history_type, record.history_type),
            reason=record.history_change_reason or "",
        )
        if previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                model_field = model._meta.get_field(change.field)
                label = str(model_field.verbose_name).capitalize()
                if change.field in hidden_fields:
                    entry.changes.append((label, hidden_text, hidden_text))
                else:
                    entry.changes.append(
                        (label, _display(model_field, change.old, users), _display(model_field, change.new, users))
                    )
        entries.append(entry)
        previous = record
    entries.reverse()
    return entries
