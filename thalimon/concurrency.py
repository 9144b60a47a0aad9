"""Optimistic locking: a record edited by two people at once keeps the first save;
the second is refused with what changed in between, and nothing is lost (the
form keeps what the second person typed)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
            gettext(
                "Someone else saved this record while you were editing it; your changes were NOT saved. "
                "Their changes are below — check the form (it still holds what you typed) and save again."
            ),
            *changes,
        ],
        code="edit_conflict",
    )
    conflict.current_version = current.version
    raise conflict


MISSING_VERSION = _(
    "This edit came without the version of the record it was made on, so it could overwrite a "
    "newer save: nothing was saved. Reload the record and edit it again."
)


class VersionedEditMixin:
    """An edit form (its instance is stored) must carry the version it was opened on: one
    re-posted without it is a conflict, never a blind overwrite of a newer save."""

    def clean_expected_version(self):
        version = self.cleaned_data.get("expected_version")
        if self.instance.pk and version is None:
            raise ValidationError(MISSING_VERSION, code="edit_conflict")
        return version


def expected_version_field():
    from django import forms

    return forms.IntegerField(widget=forms.HiddenInput, required=False)
