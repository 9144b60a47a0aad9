"""The prescription pages (R9): the new-prescription page with its live check in words and the
override only after an overridable refusal, bad input named by field (never a 500), who may
prescribe, dispense or read, the one-page authorisation form, and the patient page's panel
(its queries do not grow with the prescriptions)."""

import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.therapy.prescription_fixtures import TODAY, issue
from therapy import actions as therapy_actions
from therapy.models import DoseChange, Prescription

pytestmark = pytest.mark.django_db


def _text(response):
    """What a person reads: the page without its tags (attributes carry codes for tests)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _form(**fields):
    data = {"issue_date": TODAY.isoformat(), "dose_mg": "25", "days_supply": "28", "contraception_confirmed": "yes"}
    data.update(fields)
    return data


def test_the_page_states_the_programme_and_the_limits_with_the_dose_in_force(client, clinician, man):
    client.force_login(clinician)
    response = client.get(reverse("therapy:prescription_new", args=[man.code]))
    assert response.status_code == 200
    text = _text(response)
    assert "EU pregnancy-prevention programme" in text and "At most 84 days" in text and "Male" in text
    form = response.context["form"]
    assert form["dose_mg"].value() == Decimal("25") and form["issue_date"].value() == TODAY
    assert "25 mg tablets" in text


def test_the_live_check_explains_each_code_and_offers_the_override_only_when_it_may_pass(client, clinician, man):
    client.force_login(clinician)
    url = reverse("therapy:prescription_check", args=[man.code])
    ok = client.post(url, _form())
    assert 'data-rx-check="ok"' in ok.content.decode() and "28 units" in _text(ok)
    too_long = client.post(url, _form(days_supply="90"))
    body = too_long.content.decode()
    assert 'data-rx-check="deviations"' in body and 'data-override="open"' in body
    assert "supply_too_long" not in _text(too_long)  # in words only
    blocked = client.post(url, _form(dose_mg="30", override_shown="open"))  # no tablet makes 30 mg
    assert 'data-rx-check="no-override"' in blocked.content.decode()
    assert 'data-override="closed"' in blocked.content.decode()  # swapped closed: no override is possible
    invalid = client.post(url, _form(days_supply="abc"))
    assert 'data-rx-check="fields-invalid"' in invalid.content.decode() and "Days of supply" in _text(invalid)


def test_a_refusal_stays_on_the_page_and_an_override_issues_it(client, clinician, man):
    client.force_login(clinician)
    url = reverse("therapy:prescription_new", args=[man.code])
    refused = client.post(url, _form(days_supply="90", override="on", override_reason="ignored: not offered yet")
                          | {"override": ""})
    assert refused.status_code == 200 and not Prescription.objects.exists()
    assert "was not issued" in _text(refused) and refused.context["form"].errors["days_supply"]
    issued = client.post(url, _form(days_supply="90", override="on", override_reason="Going abroad for 3 months"))
    rx = Prescription.objects.get()
    assert issued.status_code == 302 and issued.url == reverse("therapy:prescription_dispense", args=[rx.pk])
    assert rx.deviations == ["supply_too_long"] and rx.override_reason == "Going abroad for 3 months"


@pytest.mark.parametrize(("field", "value", "words"), [
    ("days_supply", "abc", "Days of supply"),
    ("days_supply", "0", "Days of supply"),
    ("dose_mg", "1e9", "Daily dose"),
    ("issue_date", "03/04/2026", "Issue date"),
    ("issue_date", (TODAY + timedelta(days=1)).isoformat(), "cannot be in the future"),
    ("contraception_confirmed", "maybe", "Contraception confirmed"),
    ("authorisation", "x" * 61, "Authorisation number"),
    ("issue_date", "2026-01-01\x00", "Issue date"),
])
def test_bad_input_is_named_by_its_field_never_a_500(client, clinician, man, field, value, words):
    client.force_login(clinician)
    response = client.post(reverse("therapy:prescription_new", args=[man.code]), _form(**{field: value}))
    assert response.status_code == 200 and not Prescription.objects.exists()
    assert words in " ".join(response.context["form"].errors.get(field, [])) or words in _text(response)


def test_a_dose_change_and_its_prescription_from_the_page(client, clinician, man):
    client.force_login(clinician)
    check = client.post(reverse("therapy:prescription_check", args=[man.code]),
                        _form(dose_mg="50", change_dose="on"))
    assert 'data-rx-check="dose-ok"' in check.content.decode() and 'data-rx-check="ok"' in check.content.decode()
    response = client.post(reverse("therapy:prescription_new", args=[man.code]),
                           _form(dose_mg="50", change_dose="on", reason="scheduled step"))
    assert response.status_code == 302
    assert "with the dose change to 50 mg/day" in _text(client.get(response.url))
    assert DoseChange.objects.get(patient=man, date=TODAY).dose_mg == Decimal("50")
    assert Prescription.objects.get().deviations == []


def test_a_refused_dose_change_shows_on_the_dose_field(client, clinician, man):
    client.force_login(clinician)
    response = client.post(reverse("therapy:prescription_new", args=[man.code]),
                           _form(dose_mg="100", change_dose="on"))  # 25 → 100: a step above 50 mg
    assert response.status_code == 200 and not Prescription.objects.exists()
    assert any(e.startswith("Dose change:") for e in response.context["form"].errors["dose_mg"])


def test_who_may_prescribe_dispense_or_read(client, clinician, nurse, clinic_lead, man):
    rx = issue(clinician, man)
    client.force_login(nurse)
    assert client.get(reverse("therapy:prescription_new", args=[man.code])).status_code == 403
    assert client.post(reverse("therapy:prescription_edit", args=[rx.pk]), _form(days_supply="7")).status_code == 403
    page = client.get(reverse("therapy:prescription_dispense", args=[rx.pk]))
    assert page.status_code == 200 and page.context["form"] is not None and "Edit" not in _text(page)
    done = client.post(reverse("therapy:prescription_dispense", args=[rx.pk]), {"dispensed_date": TODAY.isoformat()})
    assert done.status_code == 302
    rx.refresh_from_db()
    assert rx.dispensed_date == TODAY and rx.dispensing_recorded_by == nurse
    client.force_login(clinic_lead)
    page = client.get(reverse("therapy:prescription_dispense", args=[rx.pk]))
    assert page.status_code == 200 and page.context["form"] is None
    assert client.post(reverse("therapy:prescription_dispense", args=[rx.pk]),
                       {"dispensed_date": TODAY.isoformat()}).status_code == 403


def test_an_expired_prescription_says_so_and_takes_a_late_dispensing_only_with_its_reason(client, clinician, nurse,
                                                                                           woman):
    issued = TODAY - timedelta(days=9)
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=issued, result="negative")
    rx = issue(clinician, woman, issue_date=issued)
    client.force_login(nurse)
    url = reverse("therapy:prescription_dispense", args=[rx.pk])
    page = client.get(url)
    assert f"Expired (not dispensed by {rx.dispense_by:%Y-%m-%d})" in _text(page)
    assert "late_reason" in page.context["form"].fields  # the late dispensing asks why
    patient_page = _text(client.get(reverse("patients:detail", args=[woman.code])))
    assert f"Expired (not dispensed by {rx.dispense_by:%Y-%m-%d})" in patient_page
    refused = client.post(url, {"dispensed_date": TODAY.isoformat()})
    assert refused.status_code == 200 and "late_reason" in refused.context["form"].errors
    rx.refresh_from_db()
    assert rx.dispensed_date is None
    done = client.post(url, {"dispensed_date": TODAY.isoformat(), "late_reason": "Collected late after a flood."})
    assert done.status_code == 302
    rx.refresh_from_db()
    assert rx.dispensed_date == TODAY and rx.deviations == ["dispensed_too_late"]
    shown = _text(client.get(url))
    assert "Collected late after a flood." in shown and "Dispensed too late" in shown


def _pdf(tmp_path, content):
    path = tmp_path / "rx.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return pages, re.sub(r"\s+", " ", text)


def test_the_authorisation_form_is_one_page_with_the_category_and_the_test(client, clinician, nurse, clinic_lead,
                                                                           woman, tmp_path):
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=TODAY - timedelta(days=1), result="negative")
    rx = issue(clinician, woman, override_reason="")
    client.force_login(clinician)
    response = client.get(reverse("therapy:prescription_pdf", args=[rx.pk]))
    assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("inline")
    pages, text = _pdf(tmp_path, response.content)
    assert pages == 1
    assert "Female of reproductive potential" in text and "EU pregnancy-prevention programme" in text
    assert f"{TODAY - timedelta(days=1):%Y-%m-%d}, negative" in text
    assert "28 units of 25 mg tablets" in text and "Wanda Fictional" in text
    assert "Prescriber" in text and "Dispenser" in text and "Carla Clinician" in text
    client.force_login(clinic_lead)  # codes only for a clinic lead
    _pages, lead_text = _pdf(tmp_path, client.get(reverse("therapy:prescription_pdf", args=[rx.pk])).content)
    assert "Wanda Fictional" not in lead_text and woman.code in lead_text


def test_a_long_override_still_prints_on_one_page(client, clinician, man, tmp_path):
    rx = issue(clinician, man, days_supply=90, override_reason="Long reason. " * 80)
    client.force_login(clinician)
    pages, _text_ = _pdf(tmp_path, client.get(reverse("therapy:prescription_pdf", args=[rx.pk])).content)
    assert pages == 1


def test_the_patient_panel_shows_the_supply_and_its_queries_do_not_grow(client, clinician, make_patient):
    from therapy.actions import dose_change_record

    def page_queries(code, count):
        patient = make_patient(code=code, sex="M")
        first = TODAY - timedelta(days=30 * count + 10)
        dose_change_record(actor=clinician, patient=patient, drug="thalidomide", date=first, dose_mg=Decimal("25"),
                           historical=True)
        for n in range(count):
            therapy_actions.prescription_record(
                actor=clinician, patient=patient, issue_date=first + timedelta(days=30 * n), dose_mg=Decimal("25"),
                days_supply=30, contraception_confirmed=True, historical=True,
            )
        client.force_login(clinician)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("patients:detail", args=[code]))
        assert response.status_code == 200
        return len(queries), response

    few, _ = page_queries("RX-0100", 2)
    many, response = page_queries("RX-0101", 20)
    assert few == many
    text = _text(response)
    latest = TODAY - timedelta(days=30 * 20 + 10) + timedelta(days=30 * 19)
    assert f"Tablets run out on {latest + timedelta(days=30):%Y-%m-%d}" in text  # issue + 30 days
    assert "and 14 older, dispensed" not in text  # undispensed ones always show


def test_under_the_us_rems_the_authorisation_number_is_required_and_printed(client, clinician, man, settings,
                                                                           tmp_path):
    settings.THALIMON_RULES = {"prescription_programme": "us_rems"}
    client.force_login(clinician)
    url = reverse("therapy:prescription_new", args=[man.code])
    page = client.get(url)
    assert "US REMS" in _text(page) and "At most 28 days" in _text(page)
    missing = client.post(url, _form())
    assert missing.status_code == 200 and missing.context["form"].errors["authorisation"]
    assert client.post(url, _form(authorisation="RA-123456")).status_code == 302
    rx = Prescription.objects.get()
    assert (rx.programme, rx.authorisation, rx.dispense_by) == ("us_rems", "RA-123456", TODAY + timedelta(days=30))
    pages, text = _pdf(tmp_path, client.get(reverse("therapy:prescription_pdf", args=[rx.pk])).content)
    assert pages == 1 and "RA-123456" in text and "US REMS" in text and "adult" in text.lower()
