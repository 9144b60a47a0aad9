"""The friendly error pages (templates/400.html, 404.html, 500.html) with DEBUG on too.

With DEBUG off Django renders these templates itself. With DEBUG on (the demo, the
tests) it shows its technical pages instead: a 404 that lists every URL pattern, a
400 or 500 with the traceback and the local variables (patient data). (403 is
friendly already: Django renders 403.html whatever DEBUG is.) This middleware puts
the friendly page in their place, after Django has done everything else as usual:
the error is logged, ``got_request_exception`` is sent (the test client still
re-raises), and the response goes on through the other middleware (security headers,
CSP, no-store, the trailing-slash redirect).

TECHNICAL_ERROR_PAGES=1 keeps Django's technical pages for a developer who wants them.
"""

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import Http404, HttpResponse
from django.template import loader

_RAISED = "_thalimon_raised"


class FriendlyErrorPagesMiddleware:
    """Place just before django-axes's middleware (the last one)."""

    def __init__(self, get_response):
        if not settings.DEBUG or getattr(settings, "TECHNICAL_ERROR_PAGES", False):
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        raised = getattr(request, _RAISED, None)
        if response.status_code == 404 and (isinstance(raised, Http404) or request.resolver_match is None):
            # A view's Http404, or a path no URL pattern matches (Django resolves before
            # any view runs, so that one never reaches process_exception).
            return self._page("404.html", 404, request, {"request_path": request.path})
        if response.status_code == 400 and raised is not None:
            # SuspiciousOperation, BadRequest: Django's technical 500 page with status 400.
            return self._page("400.html", 400, request, {})
        if response.status_code >= 500 and raised is not None:
            # Rendered without the request, as Django's own handler does: the context
            # processors read the database, which may be what failed.
            return self._page("500.html", response.status_code, None, {})
        return response

    def process_exception(self, request, exception):
        setattr(request, _RAISED, exception)
        return None  # Django goes on handling it (logging, signal, status)

    @staticmethod
    def _page(template, status, request, context):
        return HttpResponse(loader.get_template(template).render(context, request), status=status)
