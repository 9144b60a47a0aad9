"""Plumbing that protects every response and log line (issue 13, item 7):

* ``NoStoreMiddleware``: an authenticated page or download is never kept by a browser or
  proxy cache (``Cache-Control: no-store, private``) — clinics share workstations;
* ``OneLineForbidden``: a refused request (403) is logged in one line, without a traceback;
* ``static_only_url_fetcher``: WeasyPrint may read the app's own static files and nothing
  else (no ``file://`` paths, no network);
* ``spreadsheet_safe``: a text cell a spreadsheet would run as a formula (``= + - @``, tab,
  carriage return) is neutralised with a leading apostrophe (OWASP "CSV injection");
* ``generation``/``bump_generation``: a counter in the cache, bumped when clinical data
  commits, so a cached report is never served from before a commit.
"""

import logging
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)
CLINICAL_DATA = "clinical-data"  # the generation bumped by every commit of clinical data
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response


class OneLineForbidden(logging.Filter):
    """Drop the traceback of "Forbidden" records (a refusal is not an error)."""

    def filter(self, record):
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True


def static_only_url_fetcher(url, headers=None):
    """WeasyPrint's fetcher limited to inline ``data:`` resources and the app's static files
    (``/static/…``, found through the static finders); anything else — another local
    file, the network — is refused."""
    from weasyprint.urls import URLFetcher

    parsed = urlparse(url)
    if parsed.scheme == "data":
        return URLFetcher(allowed_protocols=("data",)).fetch(url, headers)
    path = unquote(parsed.path)
    prefix = settings.STATIC_URL
    if parsed.scheme in ("", "file") and path.startswith(prefix) and ".." not in path:
        found = finders.find(path[len(prefix):])
        if found and Path(found).is_file():
            return URLFetcher(allowed_protocols=("file",)).fetch(Path(found).resolve().as_uri(), headers)
    raise ValueError(f"PDF resource refused (only the app's static files): {url[:80]}")


def spreadsheet_safe(value):
    """A text value that a spreadsheet would not run as a formula; numbers (also a negative
    number written as text, "-1.5") pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def generation(name):
    try:
        return cache.get(f"generation:{name}", 0)
    except Exception:  # a cache outage must not fail a page: no cache then
        logger.warning("Cache unavailable reading generation %s", name)
        return None


def bump_generation(name):
    try:
        cache.incr(f"generation:{name}")
    except ValueError:
        cache.set(f"generation:{name}", 1, timeout=None)
    except Exception:
        logger.warning("Cache unavailable bumping generation %s", name)
