"""The drill-down (patient codes behind a report figure) and the all-diagnoses report.

The cohort is built here (patients GI-A … GI-X, each with a known part in each figure);
every count the report page links must open a list of exactly that many (with the
restricted record counted but not listed), and only for the clinic lead.
"""

import html
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from safety.models import AdverseEvent
from thalimon.roles import CLINIC_LEAD, CLINICIAN
from therapy.actions import historical_course_save
from therapy.models import DoseChange
from visits.actions import visit_record

pytestmark = pytest.mark.django_db
START = timezone.localdate() - timedelta(days=200)
LINK = re.compile(r'href="(/reports/cohort/patients/([^/"]+)/\?[^"]*)" data-figure="([^"]+)"')
CODE = re.compile(r'<li class="col">(?:<a (?:class="[^"]*" )?href="/patients/([^/]+)/"[^>]*>[^<]*</a>|([^<\s]+))')
DIAGNOSIS_BADGE = re.compile(r'<a (?:class="[^"]*" )?href="/patients/([^/]+)/"[^>]*>[^<]*</a>(?: <span[^>]*>[^<]*</span>)? <span class="badge[^>]*>(\w+)</span>')


def day(n):
    return START + timedelta(days=n)


def _patient(make_patient, clinician, code, *, diagnosis="CD", cdai=(), events=(), doses=(), **fields):
    if diagnosis != "CD":
        fields.update(montreal_location="", montreal_behavior="")
    if diagnosis == "AID":
        fields.setdefault("aid_type", "AGS")
    patient = make_patient(code=code, diagnosis=diagnosis, full_name=f"Name Of {code}",
                           standard_weight_kg=Decimal("70"), **fields)
    historical_course_save(actor=clinician, patient=patient, start_date=START)
    for n, score in cdai:
        visit_record(actor=clinician, patient=patient, date=day(n), cdai_entered=Decimal(score))
    for n, term, extra in events:
        AdverseEvent.objects.create(patient=patient, onset=day(n), term=term, grade=2, drug="thalidomide", **extra)
    for n, mg, deviations, override in doses:
        DoseChange.objects.create(patient=patient, drug="thalidomide", date=day(n), dose_mg=Decimal(mg),
                                  deviations=deviations, override_reason=override)
    return patient


@pytest.fixture
def cohort(make_patient, clinician):
    """GI-A, GI-R remit at week 4 (GI-R restricted to its care team); GI-B does not respond;
    GI-U (UC) and GI-X (AID) have events and dose rows but no CDAI."""
    _patient(make_patient, clinician, "GI-A", cdai=[(0, 300), (28, 120)],
             events=[(10, "peripheral_neuropathy", {"action_thalidomide": "withdrawn"})],
             doses=[(0, 25, [], ""), (10, 50, ["step_too_soon"], "checked with the patient")])
    _patient(make_patient, clinician, "GI-B", cdai=[(0, 250), (28, 240)],
             events=[(12, "rash", {"hospitalised": True}), (40, "rash", {})])
    _patient(make_patient, clinician, "GI-R", cdai=[(0, 300), (28, 130)], events=[(15, "fatigue", {})],
             care_team_only=True, responsible_clinician=clinician)
    _patient(make_patient, clinician, "GI-U", diagnosis="UC",
             events=[(30, "nausea", {"action_azathioprine": "withdrawn"})],
             doses=[(0, 25, [], ""), (7, 50, ["step_too_soon"], "")])
    _patient(make_patient, clinician, "GI-X", diagnosis="AID", events=[(20, "peripheral_neuropathy", {})])


def _report(diagnosis):
    from reports.selectors import cached_cohort_report

    return cached_cohort_report(as_of=timezone.localdate(), diagnosis=diagnosis)


def _at(report, key):
    value = report
    for part in key.split("."):
        value = value[part]
    return value


def _listed(page):
    """The codes a drill-down page lists (linked or not)."""
    return [linked or plain for linked, plain in CODE.findall(page)]


def _total(page):
    return int(re.search(r'data-figure-total="(\d+)"', page).group(1))


def _hidden(page):
    found = re.search(r'data-hidden-patients="(\d+)"', page)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("diagnosis", ["CD", "all"])
def test_every_linked_count_lists_as_many_patients_as_it_counts(client, clinic_lead, cohort, diagnosis):
    client.force_login(clinic_lead)
    page = client.get(reverse("reports:cohort"), {"diagnosis": diagnosis}).content.decode()
    links = LINK.findall(page)
    keys = {key for _, key, _ in links}
    assert {"induction.response.4.n", "induction.remission.4.n", "adverse_events.patients",
            "adverse_events.events", "adverse_events.by_term.peripheral_neuropathy",
            "titration.dose_changes", "titration.deviations.step_too_soon"} <= keys
    report = _report(diagnosis)
    for url, key, _ in links:
        drill = client.get(url.replace("&amp;", "&"))
        assert drill.status_code == 200, key
        text = drill.content.decode()
        figure = _at(report, key)
        assert _total(text) == figure, key
        patients = len(_listed(text)) + _hidden(text)
        if key.endswith((".n", "patients")) or ".by_term." in key:
            assert patients == figure, key  # a count of patients: one code each


def test_the_codes_behind_figures_are_the_right_patients(client, clinic_lead, cohort):
    client.force_login(clinic_lead)

    def codes(key, diagnosis="all"):
        page = client.get(reverse("reports:figure_patients", args=[key]),
                          {"as_of": timezone.localdate().isoformat(), "diagnosis": diagnosis}).content.decode()
        return _listed(page), _hidden(page)

    assert codes("induction.remission.4.n") == (["GI-A"], 1)  # GI-R remitted too: counted, not listed
    assert codes("adverse_events.patients") == (["GI-A", "GI-B", "GI-U", "GI-X"], 1)
    assert codes("adverse_events.patients", "UC") == (["GI-U"], 0)
    assert codes("adverse_events.by_term.peripheral_neuropathy") == (["GI-A", "GI-X"], 0)
    assert codes("adverse_events.thalidomide_withdrawn") == (["GI-A"], 0)
    assert codes("adverse_events.azathioprine_withdrawn") == (["GI-U"], 0)
    assert codes("adverse_events.hospitalised") == (["GI-B"], 0)
    assert codes("titration.deviations.step_too_soon") == (["GI-A", "GI-U"], 0)
    assert codes("titration.overrides") == (["GI-A"], 0)
    assert codes("titration.dose_changes", "CD") == (["GI-A"], 0)


def test_the_lead_sees_codes_never_names_and_codes_open_the_record(client, clinic_lead, cohort):
    client.force_login(clinic_lead)
    page = client.get(reverse("reports:figure_patients", args=["adverse_events.events"]),
                      {"diagnosis": "all"}).content.decode()
    assert "Name Of" not in page and "GI-R" not in page
    assert '<a class="code" href="/patients/GI-A/">GI-A</a>' in page
    assert "× 2" in page  # GI-B: two events
    assert dict(DIAGNOSIS_BADGE.findall(page)) == {"GI-A": "CD", "GI-B": "CD", "GI-U": "UC", "GI-X": "AID"}
    assert "restricted to its care team" in page
    assert client.get(reverse("patients:detail", args=["GI-A"])).status_code == 200


def test_a_member_of_the_care_team_who_is_also_a_lead_sees_the_restricted_code(client, make_user, cohort):
    from patients.models import Patient

    both = make_user(CLINIC_LEAD)
    both.groups.add(*make_user(CLINICIAN).groups.all())
    Patient.objects.filter(code="GI-R").update(responsible_clinician=both)
    client.force_login(both)
    page = client.get(reverse("reports:figure_patients", args=["induction.remission.4.n"])).content.decode()
    assert _listed(page) == ["GI-A", "GI-R"] and _hidden(page) == 0
    assert "Name Of" not in page  # the drill-down lists codes only, for every role


@pytest.mark.parametrize("role", ["clinician", "nurse", "admin_role_user"])
def test_other_roles_are_refused(request, client, cohort, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("reports:figure_patients", args=["adverse_events.patients"]))
    assert response.status_code == 403
    assert b"GI-A" not in response.content


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("reports:figure_patients", args=["adverse_events.patients"]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("query", "field"), [
    ({"as_of": "2024-13-01"}, "As of"),
    ({"as_of": "not a date"}, "As of"),
    ({"as_of": "2024-01-01\x00"}, "As of"),
    ({"as_of": "2999-01-01"}, "As of"),
    ({"diagnosis": "XYZ"}, "Diagnosis"),
    ({"diagnosis": "ALL"}, "Diagnosis"),
])
def test_bad_filters_are_a_400_naming_the_field(client, clinic_lead, cohort, query, field):
    client.force_login(clinic_lead)
    response = client.get(reverse("reports:figure_patients", args=["adverse_events.patients"]), query)
    assert response.status_code == 400
    assert field in response.content.decode() and "GI-A" not in response.content.decode()


@pytest.mark.parametrize("key", [
    "induction.response.5.n", "induction.cdai_mean_sd.4", "adverse_events.by_term.no_such_term",
    "titration.deviations.no_such_code", "n_patients", "x" * 300, "adverse_events.patients.extra",
    "adverse_events.by_term.%00",
])
def test_a_key_that_names_no_count_is_a_404(client, clinic_lead, cohort, key):
    client.force_login(clinic_lead)
    assert client.get(f"/reports/cohort/patients/{key}/").status_code == 404


def test_drilldown_queries_do_not_grow_with_patients(client, clinic_lead, make_patient, clinician,
                                                    django_assert_max_num_queries):
    client.force_login(clinic_lead)
    url = reverse("reports:figure_patients", args=["adverse_events.events"])
    for index in range(2):
        _patient(make_patient, clinician, f"GI-S{index}", cdai=[(0, 300)], events=[(5, "rash", {})])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200  # a cold cache: report and figure computed
    for index in range(12):
        _patient(make_patient, clinician, f"GI-M{index}", cdai=[(0, 300)], events=[(5, "rash", {})],
                 care_team_only=index % 3 == 0, responsible_clinician=clinician)
    # The report's and the figure's cohort loads each read the prescriptions too (R9.5); the
    # user's site ids (issue 18; one query, whatever the number of sites); the Site filter's
    # choices and the report's covered sites (+2; tests/reports/test_site_reports.py).
    with django_assert_max_num_queries(34), CaptureQueriesContext(connection) as many:
        assert _total(client.get(url).content.decode()) == 14
    assert len(many) == len(few)
    # Warm: the figure and the report come from the cache (left: sign-in, permissions, the
    # data fingerprints, the user's site ids, the Site filter's choices, the restricted
    # codes, the navigation badge).
    with django_assert_max_num_queries(14):
        client.get(url)


def test_report_page_offers_all_diagnoses_and_says_whom_cdai_figures_cover(client, clinic_lead, cohort):
    client.force_login(clinic_lead)
    page = html.unescape(client.get(reverse("reports:cohort"), {"diagnosis": "all"}).content.decode())
    assert '<option value="all" selected>All diagnoses</option>' in page
    assert "· All diagnoses ·" in page and "data-activity-cohort" in page
    assert "3 Crohn's disease patients" in page
    assert "Table 2 — Induction: response and remission by week (intention to treat) — Crohn's disease patients only" in page
    response = client.get(reverse("reports:download", args=["json"]), {"diagnosis": "all"})
    assert response.status_code == 200 and 'filename="cohort-all-' in response["Content-Disposition"]
    assert json.loads(response.content)["n_patients"] == 5
    for fmt in ("csv", "xlsx"):
        assert client.get(reverse("reports:download", args=[fmt]), {"diagnosis": "all"}).status_code == 200


def test_all_diagnoses_report_against_the_per_diagnosis_reports(cohort, tmp_path):
    reports = {}
    for diagnosis in ("CD", "UC", "AID", "all"):
        out = tmp_path / f"{diagnosis}.json"
        call_command("cohort_report", "--format", "json", "--out", str(out), "--diagnosis", diagnosis)
        reports[diagnosis] = json.loads(out.read_text())
    everyone, parts = reports.pop("all"), reports.values()
    assert everyone["n_patients"] == sum(r["n_patients"] for r in parts) == 5
    for block in ("induction", "relapse_free", "endoscopy"):
        assert everyone[block] == reports["CD"][block]
    assert everyone["activity_cohort"]["n_patients"] == reports["CD"]["n_patients"] == 3
    for key in ("patients", "events", "nervous_system_patients", "thalidomide_withdrawn",
                "azathioprine_withdrawn", "both_withdrawn", "hospitalised"):
        assert everyone["adverse_events"][key] == sum(r["adverse_events"][key] for r in parts), key
    for key in ("dose_changes", "overrides"):
        assert everyone["titration"][key] == sum(r["titration"][key] for r in parts), key
    assert everyone["baseline"]["diagnosis"] == {
        "CD": {"n": 3, "pct": 60.0}, "UC": {"n": 1, "pct": 20.0}, "AID": {"n": 1, "pct": 20.0}}
    assert everyone["baseline"]["montreal_location"]["not_applicable"] == {"n": 2, "pct": 40.0}


def test_the_command_refuses_an_unknown_diagnosis(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="invalid choice"):
        call_command("cohort_report", "--format", "json", "--out", str(tmp_path / "r.json"), "--diagnosis", "XYZ")
