"""Shared fixtures: one user per role, a valid patient factory, and the check
that the suite runs against real PostgreSQL (as `make test` arranges)."""

import os
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from thalimon.roles import ADMIN, CLINIC_LEAD, CLINICIAN, NURSE, ROLE_ORDER

ROLES = ROLE_ORDER


def pytest_collection_modifyitems(config, items):
    # Browser tests last: they are the slowest and need a transactional database.
    items.sort(key=lambda item: 1 if "e2e" in str(item.fspath) else 0)


# Fixtures that set up the test database: pytest-django's ``db`` and
# ``transactional_db`` and everything built on them depend on ``django_db_setup``;
# ``live_server`` requests ``transactional_db`` at run time.
DATABASE_FIXTURES = frozenset({"django_db_setup", "db", "transactional_db", "live_server"})


def _uses_database(item):
    """Whether a collected test touches the database (fixtures, django_db marker, TestCase)."""
    from django.test import TransactionTestCase

    if item.get_closest_marker("django_db") is not None:
        return True
    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return True
    return not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session", autouse=True)
def _real_postgresql(request):
    """The suite runs against real PostgreSQL (`make test`), never SQLite.

    Checked (and the test database set up) only when a collected test uses the
    database: the pure rule tests (tests/rules) run with no database or service.
    """
    if not any(_uses_database(item) for item in request.session.items):
        return
    request.getfixturevalue("django_db_setup")
    from django.db import connection

    if connection.vendor != "postgresql" and not os.environ.get("THALIMON_ALLOW_SQLITE_TESTS"):
        pytest.exit(
            "The test suite runs against PostgreSQL: use `make test` "
            "(or set DATABASE_URL=postgres://postgres@127.0.0.1:5432/thalimon).",
            returncode=2,
        )


def main_site():
    """The site the migration makes (``MAIN``); made again after a transactional test
    flushed the database."""
    from sites.models import MAIN_CODE, MAIN_NAME, Site

    return Site.objects.get_or_create(code=MAIN_CODE, defaults={"name": MAIN_NAME})[0]


def site(code, name=None):
    from sites.models import Site

    return Site.objects.get_or_create(code=code, defaults={"name": name or f"{code} clinic"})[0]


@pytest.fixture
def make_user(db):
    counter = {"n": 0}

    def _make(role=None, username=None, password="a-long-test-password-123", sites=None, **extra):
        """A user of ``role``, a member of ``sites`` (site codes; default: ``MAIN``)."""
        from sites.models import Membership

        counter["n"] += 1
        username = username or f"{(role or 'norole').lower().replace(' ', '_')}{counter['n']}"
        user = get_user_model().objects.create_user(
            username=username, password=password, is_staff=(role == ADMIN), **extra
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        for code in ["MAIN"] if sites is None else sites:
            Membership.objects.create(user=user, site=main_site() if code == "MAIN" else site(code))
        return user

    return _make


@pytest.fixture
def clinician(make_user):
    return make_user(CLINICIAN, first_name="Carla", last_name="Clinician")


@pytest.fixture
def nurse(make_user):
    return make_user(NURSE, first_name="Noor", last_name="Nurse")


@pytest.fixture
def clinic_lead(make_user):
    return make_user(CLINIC_LEAD)


@pytest.fixture
def admin_role_user(make_user):
    return make_user(ADMIN)


@pytest.fixture
def user_for_role(make_user):
    def _get(role):
        return make_user(role) if role else None

    return _get


def valid_patient_fields(**overrides):
    fields = {
        "code": "GI-0001",
        "full_name": "Zed Fictional",
        "sex": "M",
        "birth_date": date(1990, 3, 14),
        "height_cm": 172,
        "diagnosis": "CD",
        "montreal_location": "L3",
        "montreal_behavior": "B2",
        "tpmt": "normal",
        "nudt15": "normal",
    }
    if "site" not in overrides:
        fields["site"] = main_site()  # every patient has a site (issue 18); site=None: the actor's only one
    fields.update(overrides)
    return fields


@pytest.fixture
def make_patient(db, clinician):
    from patients.actions import patient_create

    counter = {"n": 0}

    def _make(**overrides):
        counter["n"] += 1
        overrides.setdefault("code", f"GI-{counter['n']:04d}")
        return patient_create(actor=clinician, **valid_patient_fields(**overrides))

    return _make


@pytest.fixture
def records(make_patient, clinician):
    """One patient (GI-0100) with a record of every kind, for tests that visit every URL."""
    from therapy.actions import historical_course_save
    from visits.actions import endoscopy_record, visit_record

    patient = make_patient(code="GI-0100", ileocolic_resection=True, sex="F")
    historical_course_save(actor=clinician, patient=patient, start_date=date(2024, 1, 1))
    visit = visit_record(actor=clinician, patient=patient, date=date(2024, 1, 15), cdai_entered=200)
    endoscopy = endoscopy_record(actor=clinician, patient=patient, date=date(2024, 2, 1), cdeis_entered=5)
    from safety.models import AdverseEvent, Alert, Reminder

    event = AdverseEvent.objects.create(patient=patient, onset=date(2024, 1, 20), term="fatigue", grade=1, drug="thalidomide")
    reminder = Reminder.objects.create(patient=patient, kind="visit_due", due=date(2024, 2, 1), reason="test")
    alert = Alert.objects.create(patient=patient, kind="lab", tier="review", source="lab:0", date=date(2024, 2, 1), rule="R4.4", reason="test")
    from reports.models import ImportJob

    job = ImportJob.objects.create(file="datasheets/x.zip", original_name="x.zip", state="invalid", created_by=clinician)
    from therapy.actions import prescription_record

    prescription = prescription_record(actor=clinician, patient=patient, issue_date=date(2024, 2, 1), dose_mg=25,
                                       days_supply=28, contraception_confirmed=True, historical=True)
    return {"code": patient.code, "visit": visit.pk, "endoscopy": endoscopy.pk, "ae": event.pk, "job": job.pk,
            "reminder": reminder.pk, "alert": alert.pk, "prescription": prescription.pk}


@pytest.fixture(autouse=True)
def _no_login_throttle_carried_over():
    """The per-address sign-in throttle lives in the (real) cache: each test starts clean."""
    from django.core.cache import cache

    for address in ("127.0.0.1", "10.0.0.99"):
        try:
            cache.delete(f"login-failures:{address}")
        except Exception:
            pass
    yield


@pytest.fixture(autouse=True)
def _no_report_carried_over():
    """The report page may show the latest cohort report computed in the last minutes
    (reports.selectors.recent_cohort_report): another test's data is not that."""
    from django.core.cache import cache

    try:
        cache.clear()
    except Exception:
        pass
    yield
