"""Writes of the users' preferences (with their history)."""

from django.db import transaction

from accounts.models import LANGUAGE_CHOICES, Preference


@transaction.atomic
def set_language(user, language: str) -> Preference:
    """Save ``user``'s language ("" = the browser's). Only ever the user's own (the view passes request.user)."""
    if language not in dict(LANGUAGE_CHOICES):
        raise ValueError(f"unknown language {language!r}")
    preference, created = Preference.objects.select_for_update().get_or_create(
        user=user, defaults={"language": language})
    if not created and preference.language != language:
        preference.language = language
        preference.save(update_fields=["language"])
    return preference
