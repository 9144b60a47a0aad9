"""The signed-in user's language on every page (issue 17).

Django's LocaleMiddleware (before this one) picks the browser's language (Accept-Language)
for everyone; this middleware, after authentication, replaces it by the language the user
saved (accounts.Preference), read once at sign-in into the session: no query per page.
"""

from django.utils import translation

from accounts.records import language_of

SESSION_KEY = "thalimon_language"


def remember_language(sender, request, user, **kwargs):
    """user_logged_in: the saved language into the new session ("" = the browser's)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = language_of(user)


def remember_choice(request, language):
    """After the user saves a language: this session follows it from the next page on."""
    request.session[SESSION_KEY] = language


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        language = request.session.get(SESSION_KEY)
        if language is None:  # a session opened before the preference existed: read it once
            language = request.session[SESSION_KEY] = language_of(user)
        if not language:
            return self.get_response(request)
        previous = translation.get_language()
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        try:
            response = self.get_response(request)
        finally:
            # The thread goes back to the browser's language (nothing leaks to the next
            # request or to a task run in this thread).
            translation.activate(previous)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
