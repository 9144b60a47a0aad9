"""The user's own settings: the language (issue 17)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import actions
from accounts.forms import LanguageForm
from accounts.middleware import remember_choice
from accounts.records import language_of
from thalimon.access import require_permission
from thalimon.navigation import next_url


@require_permission("accounts.choose_language")
def language(request):
    """GET: the choice; POST (the settings page or the navbar's switcher): save it, back to ``next``."""
    if request.method == "POST":
        form = LanguageForm(request.POST)
        if form.is_valid():
            chosen = form.cleaned_data["language"]
            actions.set_language(request.user, chosen)
            remember_choice(request, chosen)
            # Said in the language chosen (the browser's, for "").
            with translation.override(chosen or translation.get_language_from_request(request)):
                messages.success(request, _("Language saved."))
            return redirect(next_url(request, reverse("accounts:language")))
    else:
        form = LanguageForm(initial={"language": language_of(request.user)})
    return render(request, "accounts/language.html", {"form": form, "next": next_url(request, "")})
