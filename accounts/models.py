"""A user's own settings: the language of the pages, PDFs and emails (issue 17)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

BROWSER = ""
# The languages' own names, as a language switcher shows them (not translated).
LANGUAGE_CHOICES = [(BROWSER, _("The browser's language")), ("en-gb", "English"), ("zh-hans", "简体中文")]


class Preference(models.Model):
    """One user's preferences; no row means the defaults (the browser's language)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(max_length=10, blank=True, default=BROWSER, choices=LANGUAGE_CHOICES)
    history = HistoricalRecords()

    class Meta:
        permissions = [("choose_language", "Can choose their own language")]

    def __str__(self):
        return f"preferences of user {self.user_id}"
