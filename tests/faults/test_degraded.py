"""Degraded but working: the pages when the shared cache (Redis) is down, and the next
request after the database dropped a persistent connection.

The cache runs behind a FaultProxy to the real Redis, with the backend production gets for
a redis:// CACHE_URL (thalimon.settings.cache_config); the database test runs the app in a
real single-threaded WSGI server (the test client turns the per-request connection handling
off, a server does not) and terminates its backend between two requests.
"""

import logging
import time
import urllib.error
import urllib.request

import psycopg
import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.conftest import valid_patient_fields
from tests.faults.proxy import FaultProxy
from tests.faults.server import app_server
from thalimon.protections import CLINICAL_DATA, bump_generation
from thalimon.roles import CLINIC_LEAD, CLINICIAN, NURSE
from thalimon.settings import cache_config

REDIS_DB = 13
PASSWORD = "a-long-test-password-123"


# --- (a) the cache is down --------------------------------------------------------------

@pytest.fixture
def redis_proxy(settings):
    """The default cache on the real Redis (db 13) through a proxy the test can cut; Redis
    is tried again at once after a failure (retry_after=0), so the log is the only thing
    keeping the outage to one line."""
    proxy = FaultProxy(6379).start()
    direct = redis.Redis(port=6379, db=REDIS_DB)
    direct.flushdb()
    settings.CACHES = {"default": cache_config(f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}?retry_after=0")}
    yield proxy, direct
    proxy.cut()
    direct.flushdb()


def _outage_lines(caplog):
    return [r for r in caplog.records if "Cache unavailable" in r.getMessage()]


def _pages(make_user, records):
    """Each page that reads or writes the cache, with a user allowed to see it."""
    from reports.models import ImportJob

    running = ImportJob.objects.create(file="datasheets/y.zip", original_name="y.zip", state="running",
                                       phase="writing", created_by=make_user(CLINIC_LEAD))
    clients = {}
    for role in (CLINICIAN, NURSE, CLINIC_LEAD):
        clients[role] = Client()
        clients[role].force_login(make_user(role))
    return [
        (clients[CLINIC_LEAD], reverse("reports:cohort")),
        (clients[CLINICIAN], reverse("patients:list")),
        (clients[CLINICIAN], reverse("patients:detail", args=[records["code"]])),
        (clients[NURSE], reverse("safety:inbox")),
        (clients[CLINIC_LEAD], reverse("reports:job", args=[running.pk])),
    ]


def _sign_in(username, password):
    return Client().post(reverse("login"), {"username": username, "password": password})


def test_pages_and_login_answer_while_the_cache_is_down_and_the_outage_is_logged_once(
        redis_proxy, make_user, records, caplog):
    proxy, direct = redis_proxy
    pages = _pages(make_user, records)
    make_user(NURSE, username="nina")
    for client, url in pages:  # warm: the report is cached in Redis
        assert client.get(url).status_code == 200, url
    assert direct.keys("*cohort-report*")

    proxy.cut()
    caplog.set_level(logging.INFO)
    for _ in range(3):
        for client, url in pages:
            assert client.get(url).status_code == 200, url
        assert _sign_in("nina", "wrong").status_code == 200  # the form again, no error
    assert _sign_in("nina", PASSWORD).status_code == 302
    outage = _outage_lines(caplog)
    assert len(outage) == 1, [r.getMessage() for r in outage]
    assert outage[0].name == "thalimon.cache" and outage[0].levelno == logging.ERROR
    assert cache.outage

    # Back: the next call goes to Redis again (logged once), the report is cached there again.
    proxy.restore()
    direct.flushdb()
    caplog.clear()
    for client, url in pages:
        assert client.get(url).status_code == 200, url
    assert not cache.outage
    assert direct.keys("*cohort-report*")
    back = [r for r in caplog.records if "Cache available again" in r.getMessage()]
    assert len(back) == 1 and back[0].name == "thalimon.cache"
    assert not _outage_lines(caplog)


def test_a_report_cached_before_an_outage_is_not_served_after_a_write_during_it(redis_proxy, db):
    """A commit during the outage bumps the clinical-data generation in the fallback; the
    bump is applied to Redis when it answers again, before anything is read from it."""
    proxy, direct = redis_proxy
    cache.set(f"generation:{CLINICAL_DATA}", 7, timeout=None)
    proxy.cut()
    bump_generation(CLINICAL_DATA)
    cache.delete("import-progress:1")
    direct.set(cache.make_key("import-progress:1"), b"stale")
    proxy.restore()
    assert cache.get(f"generation:{CLINICAL_DATA}") == 8
    assert direct.get(cache.make_key("import-progress:1")) is None


def test_values_kept_during_an_outage_expire_within_the_fallback_timeout(settings):
    proxy = FaultProxy(6379).start()
    settings.CACHES = {"default": cache_config(
        f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}?retry_after=60&fallback_timeout=30")}
    proxy.cut()
    cache.set("report", "value", timeout=None)
    assert cache.get("report") == "value"
    local = cache._health.local
    assert local._expire_info[local.make_key("report")] <= time.time() + 30


# --- (b) the database dropped the connection between two requests -------------------------

@pytest.fixture
def app_url(transactional_db):
    with app_server() as url:
        yield url


def _get(url, session):
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _terminate_other_backends():
    """Terminate every connection to the test database but this thread's own: the
    server's (a database restart or failover looks the same to the app)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s", [own],
        ).fetchall()
    return len(rows)


def test_the_next_request_after_the_database_dropped_the_connection_answers(app_url, make_user):
    from patients.models import Patient

    assert connection.settings_dict["CONN_MAX_AGE"] > 0, "persistent connections (settings.DATABASES)"
    Patient.objects.create(**valid_patient_fields())
    client = Client()
    client.force_login(make_user(CLINICIAN))
    session = client.cookies["sessionid"].value
    url = app_url + reverse("patients:list")

    assert _get(url, session) == 200
    assert _get(url, session) == 200
    assert _terminate_other_backends() >= 1  # the server kept its connection between requests
    assert _get(url, session) == 200
    assert _get(app_url + reverse("patients:detail", args=["GI-0001"]), session) == 200
