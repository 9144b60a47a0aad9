"""No patient names or clinical values in the logs or emails of a full journey."""

import logging
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db
NAME = "Ottilie Quarantotto"


def test_a_full_journey_logs_and_mails_codes_only(client, clinician, nurse, caplog, settings):
    from safety.digest import send_digests
    from safety.scan import scan_reminders

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    caplog.set_level(logging.DEBUG)
    nurse.email = "noor@clinic.example"
    nurse.save()
    today = timezone.localdate()
    client.force_login(clinician)
    client.post(reverse("patients:create"), {
        "code": "GI-7777", "full_name": NAME, "phone": "+39 06 5550 1234", "sex": "M", "birth_date": "1990-01-02", "diagnosis": "CD",
        "reproductive_potential": "unknown", "tpmt": "normal", "nudt15": "normal",
        "status": "active", "responsible_nurse": nurse.pk
    })
    from patients.models import Patient
    from therapy import actions as therapy_actions

    therapy_actions.therapy_start(
        actor=clinician, patient=Patient.objects.get(code="GI-7777"), start_date=today - timedelta(days=40),
        dose_mg=25, consent_signed_date=today - timedelta(days=41),
    )
    client.post(reverse("visits:create", args=["GI-7777"]), {
        "date": (today - timedelta(days=20)).isoformat(), "contact": "clinic", "weight_kg": "61.3",
        "cdai_entered": "287", "neuropathy_grade": "0", "lab_crp": "41.7", "lab_hemoglobin": "97",
    })
    client.post(reverse("visits:create", args=["GI-7777"]), {"date": "2999-01-01", "contact": "clinic"})  # refused
    client.get(reverse("patients:detail", args=["NOPE-1"]))  # a 404 is logged
    scan_reminders(as_of=today)
    send_digests(as_of=today)
    assert mail.outbox, "the digest was sent"
    text = caplog.text + "".join(m.body + str(m.alternatives) + m.subject for m in mail.outbox)
    assert "GI-7777" in "".join(m.body for m in mail.outbox)
    from patients.models import Patient as Stored

    assert Stored.objects.get(code="GI-7777").phone == "+39 06 5550 1234"  # the phone was saved
    for secret in (NAME, "+39 06 5550 1234", "5550 1234", "Ottilie", "Quarantotto", "287", "41.7", "61.3", "1990-01-02"):
        # A value counts when it stands as its own number: the digits of a log line's timestamp
        # ("13:36:00.528737") are not the CDAI 287.
        assert not re.search(rf"(?<!\d){re.escape(secret)}(?!\d)", text), secret


def test_gunicorn_access_log_never_writes_query_strings_or_referers():
    """A patient search is /patients/?q=<name>: the access log keeps the path only."""
    import re
    import runpy
    from pathlib import Path

    config = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    atoms = set(re.findall(r"%\(([^)]+)\)s", config["access_log_format"]))
    # r: request line with query, q: query, f: Referer, {…}i/e: headers and environ, a: user agent
    assert atoms <= {"h", "t", "m", "U", "s", "b", "B", "M", "D", "L", "T", "H", "p"}, atoms
    assert "U" in atoms and config["accesslog"] == "-"
