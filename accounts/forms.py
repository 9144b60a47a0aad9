from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import LANGUAGE_CHOICES


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False,
                                 widget=forms.RadioSelect)
