"""Reads of the users' preferences."""

from accounts.models import BROWSER, Preference


def language_of(user) -> str:
    """The user's saved language code, or "" (the browser's language)."""
    if user is None or not getattr(user, "pk", None):
        return BROWSER
    return Preference.objects.filter(user_id=user.pk).values_list("language", flat=True).first() or BROWSER


def languages_of(user_ids) -> dict[int, str]:
    """{user id: saved language code} for the users who saved one (emails to many recipients)."""
    rows = Preference.objects.filter(user_id__in=list(user_ids)).exclude(language=BROWSER)
    return dict(rows.values_list("user_id", "language"))
