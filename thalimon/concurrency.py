"""Optimistic locking: a record edited by two people at once keeps the first save;
the second is refused with what changed in between, and nothing is lost (the
form keeps what the second person typed)."""

from django.core.exceptions import ValidationError

from thalimon.history import history_entries


class EditConflict(ValidationError):
    """Carries the version now stored, so the form can be saved again after review."""

    current_version = None


def check_version(model, pk, expected_version):
    """Lock the row and refuse when it changed since ``expected_version`` was read."""
    current = model.objects.select_for_update().get(pk=pk)
    if expected_version is None or int(expected_version) == current.version:
        return current
    changes = []
    for entry in reversed(history_entries(current.history.filter(version__gte=int(expected_version)))):
        if entry.action == "Changed":
            changes += [f"{label}: {old} → {new} ({entry.who}, {entry.when:%Y-%m-%d %H:%M})"
                        for label, old, new in entry.changes]
    conflict = EditConflict(
        [
            "Someone else saved this record while you were editing it; your changes were NOT saved. "
            "Their changes are below — check the form (it still holds what you typed) and save again.",
            *changes,
        ],
        code="edit_conflict",
    )
    conflict.current_version = current.version
    raise conflict


def expected_version_field():
    from django import forms

    return forms.IntegerField(widget=forms.HiddenInput, required=False)
