"""Audit history: saving with the acting user, and history rendered for people.

Works for any model with django-simple-history. ``save_with_history`` is the
one way an action saves a clinical row so that its history row names who did
it; ``bulk_create_with_history``/``bulk_update_with_history`` do the same for
many rows in a fixed number of queries. ``history_entries`` reads the history
rows in one query (with their users), diffs consecutive versions in Python and
resolves foreign keys to users in one more query, so a history page costs the
same whatever the number of changes.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from thalimon import saying

# The action of a history row: a stable word (code compares it) and its label for people.
CHANGE_TYPES = {"+": "Created", "~": "Changed", "-": "Deleted"}
ACTION_LABELS = {"Created": _("Created"), "Changed": _("Changed"), "Deleted": _("Deleted")}


def save_with_history(obj, actor, *, reason=None, **save_kwargs):
    """Save ``obj`` recording ``actor`` (None: a job or an import) in its history row."""
    obj._history_user = actor
    if reason:
        obj._change_reason = reason
    obj.save(**save_kwargs)
    return obj


def delete_with_history(obj, actor):
    obj._history_user = actor
    obj.delete()


def bulk_create_recorded(model, objs, actor, *, ignore_conflicts=False):
    """Insert ``objs`` with their "+" history rows in a fixed number of queries (rows a
    unique constraint refuses are skipped with ``ignore_conflicts``)."""
    if not objs:
        return []
    return bulk_create_with_history(objs, model, default_user=actor, ignore_conflicts=ignore_conflicts)


def bulk_update_recorded(model, objs, fields, actor):
    """Update ``fields`` of ``objs`` with their "~" history rows in a fixed number of queries."""
    if not objs:
        return 0
    return bulk_update_with_history(objs, model, fields, default_user=actor)


@dataclass
class HistoryEntry:
    when: object
    who: str
    action: str
    reason: str
    changes: list = field(default_factory=list)  # [(label, old, new)]
    record: object = None  # the historical row (its fields as of this version)

    @property
    def action_label(self):
        """The action in the reader's language (``action`` stays the stable English word)."""
        return ACTION_LABELS.get(self.action, self.action)


def _display(model_field, value, users):
    if value is None or value == "":
        return "—"
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    if model_field.is_relation:
        user = users.get(value)
        return (user.get_full_name() or user.username) if user else f"#{value}"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date) and not isinstance(value, datetime):
        return saying.day(value)
    return saying.render(value)  # a rule's reason in the reader's language; other text as it is


def history_entries(history_queryset, *, hidden_fields=(), hidden_text=None):
    """Newest first. ``hidden_fields`` are shown as changed without values."""
    if hidden_text is None:
        hidden_text = gettext("(hidden for your role)")
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
    previous_of = {}  # each object's previous version: a queryset may hold many objects' histories
    object_key = model._meta.pk.attname
    for record in records:
        previous = previous_of.get(getattr(record, object_key))
        who = record.history_user
        entry = HistoryEntry(
            when=record.history_date,
            who=(who.get_full_name() or who.username) if who else gettext("system (import or job)"),
            action=CHANGE_TYPES.get(record.history_type, record.history_type),
            reason=record.history_change_reason or "",
        )
        if previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                model_field = model._meta.get_field(change.field)
                label = capfirst(str(model_field.verbose_name))
                if change.field in hidden_fields:
                    entry.changes.append((label, hidden_text, hidden_text))
                else:
                    entry.changes.append(
                        (label, _display(model_field, change.old, users), _display(model_field, change.new, users))
                    )
        entry.record = record
        entries.append(entry)
        previous_of[getattr(record, object_key)] = record
    entries.reverse()
    return entries
