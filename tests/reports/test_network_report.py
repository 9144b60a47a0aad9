"""The network report from the database: the selector, the page, its downloads and the
command (issue 18). The figures themselves are tested from hand-worked cases in
tests/rules/test_network.py; here: who sees it, that it adds up, that it costs the same
number of queries for 2 sites as for 6, and that no patient is named."""

import csv
import io
import json
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from patients.actions import patient_create
from reports.network import ADDS_UP
from reports.network_selectors import network_report
from sites.models import Site
from tests.conftest import site, valid_patient_fields
from thalimon.roles import CLINIC_LEAD, NETWORK_LEAD
from therapy.actions import historical_course_save
from visits.actions import visit_record

pytestmark = pytest.mark.django_db
START = timezone.localdate() - timedelta(days=200)
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example_datasheet"


def _patient(clinician, code, site_code, week12_cdai):
    """A Crohn's disease patient of ``site_code`` started 200 days ago, baseline CDAI 300 on
    day 0 and ``week12_cdai`` on day 84 (120: remission; 280: no response)."""
    patient = patient_create(actor=None, **valid_patient_fields(  # the system: any site
        code=code, full_name=f"Name Of {code}", standard_weight_kg=Decimal("70"), site=site(site_code)))
    historical_course_save(actor=clinician, patient=patient, start_date=START)
    visit_record(actor=clinician, patient=patient, date=START, cdai_entered=Decimal(300))
    visit_record(actor=clinician, patient=patient, date=START + timedelta(days=84), cdai_entered=Decimal(week12_cdai))
    return patient


@pytest.fixture
def network_lead(make_user):
    return make_user(NETWORK_LEAD, sites=[])  # as the demo seeds it: a member of no site


@pytest.fixture
def two_sites(clinician):
    """NORTH: 2 in remission of 3; SOUTH: 1 of 2; EMPTY: a site with no patient."""
    for code, site_code, cdai in [("GI-N1", "NORTH", 120), ("GI-N2", "NORTH", 120), ("GI-N3", "NORTH", 280),
                                  ("GI-S1", "SOUTH", 120), ("GI-S2", "SOUTH", 280)]:
        _patient(clinician, code, site_code, cdai)
    site("EMPTY", "Empty clinic")


def test_the_selector_groups_the_cohort_by_site(two_sites):
    result = network_report()
    rows = {row["site"]: row for row in result["sites"]}
    assert list(rows) == ["EMPTY", "MAIN", "NORTH", "SOUTH"]  # every site, in code order
    assert rows["EMPTY"]["name"] == "Empty clinic" and rows["EMPTY"]["patients"] == 0
    assert (rows["NORTH"]["patients"], rows["NORTH"]["remission_n"], rows["NORTH"]["remission_of"]) == (3, 2, 3)
    assert (rows["SOUTH"]["patients"], rows["SOUTH"]["remission_n"], rows["SOUTH"]["remission_of"]) == (2, 1, 2)
    assert (result["network"]["remission_n"], result["network"]["remission_of"]) == (3, 5)
    assert result["funnel"]["pooled"] == {"n": 3, "of": 5, "proportion": 0.6}
    assert [s["site"] for s in result["funnel"]["sites"]] == ["NORTH", "SOUTH"]
    assert result["funnel"]["not_placed"] == ["EMPTY", "MAIN"]


def test_a_renamed_site_is_never_served_from_the_cache(two_sites):
    assert {row["site"]: row["name"] for row in network_report()["sites"]}["NORTH"] == "NORTH clinic"
    Site.objects.filter(code="NORTH").update(name="North infirmary")
    assert {row["site"]: row["name"] for row in network_report()["sites"]}["NORTH"] == "North infirmary"


def test_the_selector_reads_the_cache_the_second_time(two_sites):
    with CaptureQueriesContext(connection) as cold:
        first = network_report()
    with CaptureQueriesContext(connection) as warm:
        assert network_report() == first
    assert len(warm) == 2 < len(cold)  # the sites and the data fingerprint


def _more_sites(clinician, indexes):
    for index in indexes:
        for n in range(2):
            _patient(clinician, f"GI-X{index}{n}", f"EXTRA{index}", 120 if n else 280)


def test_queries_do_not_grow_with_the_number_of_sites(client, network_lead, clinician,
                                                      django_assert_max_num_queries):
    """2 sites with patients, then 6: the same queries for the selector and for the page."""
    _more_sites(clinician, range(2))
    with CaptureQueriesContext(connection) as two:
        network_report()
    client.force_login(network_lead)
    with CaptureQueriesContext(connection) as two_page:
        assert client.get(reverse("reports:network")).status_code == 200
    _more_sites(clinician, range(2, 6))  # EXTRA0 … EXTRA5: 6 sites with patients
    with CaptureQueriesContext(connection) as six:
        result = network_report()
    assert len([row for row in result["sites"] if row["patients"]]) == 6
    assert len(six) == len(two)
    with django_assert_max_num_queries(len(two_page)), CaptureQueriesContext(connection) as six_page:
        assert client.get(reverse("reports:network")).status_code == 200
    assert len(six_page) == len(two_page)


def test_page_query_count(client, network_lead, two_sites, django_assert_max_num_queries):
    client.force_login(network_lead)
    # Cold: session, user, permissions, the sites, the data fingerprint, the cohort (9: one query
    # a table), the patients' sites, and the session's save (savepoint, update, release).
    with django_assert_max_num_queries(18):
        assert client.get(reverse("reports:network")).status_code == 200
    with django_assert_max_num_queries(8):  # warm: the report from the cache
        assert client.get(reverse("reports:network")).status_code == 200


def test_the_page_shows_sites_and_figures_and_names_no_patient(client, network_lead, two_sites):
    client.force_login(network_lead)
    page = client.get(reverse("reports:network")).content.decode()
    assert 'data-site="NORTH"' in page and 'data-site="SOUTH"' in page and "Empty clinic" in page
    assert "2 of 3 (66.7 %)" in page and "1 of 2 (50.0 %)" in page and "3 of 5 (60.0 %)" in page
    assert 'data-plotly-figure="figure-funnel"' in page and "plotly-basic.min.js" in page
    assert "How to read the funnel plot" in page
    assert 'data-position="not_placed"' in page  # EMPTY and MAIN: no denominator
    for code in ("GI-N1", "GI-S2", "Name Of"):
        assert code not in page
    assert "/patients/" not in page.replace('href="/patients/"', "")  # no link to a patient's page


def test_the_nav_links_the_network_report_for_its_role_only(client, network_lead, make_user):
    client.force_login(network_lead)
    page = client.get(reverse("reports:cohort")).content.decode()
    assert f'href="{reverse("reports:network")}"' in page
    assert f'href="{reverse("patients:list")}"' not in page  # no patient page in its menu
    client.force_login(make_user(CLINIC_LEAD))
    assert f'href="{reverse("reports:network")}"' not in client.get(reverse("reports:cohort")).content.decode()


def test_the_network_lead_lands_on_the_network_report(client, network_lead):
    response = client.post(reverse("login"), {"username": network_lead.username,
                                              "password": "a-long-test-password-123"})
    assert response.status_code == 302 and response.url == reverse("reports:network")
    assert client.get(reverse("home")).url == reverse("reports:network")


def test_other_roles_still_land_on_the_patient_list(client, clinician):
    client.force_login(clinician)
    assert client.get(reverse("home")).url == reverse("patients:list")


def test_the_network_lead_opens_no_patient_even_by_url(client, network_lead, two_sites):
    from patients.models import Patient

    client.force_login(network_lead)
    assert not Patient.objects.visible_to(network_lead).exists()
    for url in ("/patients/", "/patients/GI-N1/", "/patients/GI-N1/history/", "/inbox/"):
        assert client.get(url).status_code == 403, url
    # The cohort report's drill-down counts, but lists no code for a user of no site.
    page = client.get(reverse("reports:figure_patients", args=["induction.remission.12.n"])).content.decode()
    assert "GI-N1" not in page and "GI-S1" not in page


@pytest.mark.parametrize("query, field", [({"as_of": "2026-13-01"}, "As of"), ({"diagnosis": "XX"}, "Diagnosis"),
                                          ({"as_of": "2999-01-01"}, "As of")])
def test_a_bad_filter_is_a_400_naming_the_field(client, network_lead, query, field):
    client.force_login(network_lead)
    page = client.get(reverse("reports:network"), query)
    assert page.status_code == 400 and field in page.content.decode()
    download = client.get(reverse("reports:network_download", args=["csv"]), query)
    assert download.status_code == 400 and download.content.decode().startswith(field)


def test_an_unknown_format_is_a_404(client, network_lead):
    client.force_login(network_lead)
    assert client.get(reverse("reports:network_download", args=["pdf"])).status_code == 404


def test_an_empty_network_page(client, network_lead):
    client.force_login(network_lead)
    page = client.get(reverse("reports:network")).content.decode()
    assert "nothing to place on the funnel" in page and "plotly-basic.min.js" not in page


def _download(client, fmt, **query):
    response = client.get(reverse("reports:network_download", args=[fmt]), query)
    assert response.status_code == 200
    return response


def test_json_csv_and_xlsx_downloads(client, network_lead, two_sites):
    client.force_login(network_lead)
    as_of = timezone.localdate().isoformat()
    data = json.loads(_download(client, "json", as_of=as_of).content)
    assert data["as_of"] == as_of and data["network"]["patients"] == 5
    response = _download(client, "csv", as_of=as_of)
    assert response["Content-Disposition"] == f'attachment; filename="network-CD-{as_of}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["site"] for row in rows] == ["EMPTY", "MAIN", "NORTH", "SOUTH", "(network)"]
    assert rows[2]["remission week 12 n"] == "2" and rows[-1]["remission week 12 of"] == "5"
    book = load_workbook(io.BytesIO(_download(client, "xlsx", as_of=as_of).content))
    assert book.sheetnames == ["sites", "funnel"]
    funnel = list(book["funnel"].iter_rows(values_only=True))
    assert [row[0] for row in funnel[2:]] == ["NORTH", "SOUTH", "EMPTY", "MAIN"]


def _two_site_datasheet(tmp_path):
    """The example datasheet with a site column: EX01, EX02 at NORTH; EX03, EX04 at SOUTH."""
    target = tmp_path / "sheet"
    shutil.copytree(EXAMPLE, target)
    lines = (target / "patients.csv").read_text().splitlines()
    header, *rows = lines
    sited = [header.replace("patient,", "patient,site,", 1)]
    for index, row in enumerate(rows):
        code, rest = row.split(",", 1)
        sited.append(f"{code},{'NORTH' if index < 2 else 'SOUTH'},{rest}")
    (target / "patients.csv").write_text("\n".join(sited) + "\n")
    return target


def test_the_sites_of_a_two_site_datasheet_add_up_to_the_network(client, network_lead, tmp_path):
    from reports.datasheet import import_datasheet

    Site.objects.exclude(code="NORTH").filter(patients__isnull=True).delete()  # MAIN, without patients
    report = import_datasheet(_two_site_datasheet(tmp_path))  # the command line's import creates the sites
    assert report.errors == [], [str(e) for e in report.errors]
    client.force_login(network_lead)
    data = json.loads(_download(client, "json", diagnosis="all").content)
    assert [row["site"] for row in data["sites"]] == ["NORTH", "SOUTH"]
    assert all(row["patients"] == 2 for row in data["sites"])
    for key in ADDS_UP:
        assert sum(row[key] for row in data["sites"]) == data["network"][key], key
    assert data["network"]["ae_events"] > 0 and data["network"]["dose_changes"] > 0  # the figures are not all 0
    months = sum(row["patient_months"] for row in data["sites"])
    assert abs(months - data["network"]["patient_months"]) <= 0.01  # each rounded to 2 decimals


def test_the_command_writes_each_format(two_sites, tmp_path):
    for fmt in ("json", "csv", "xlsx"):
        out = tmp_path / f"network.{fmt}"
        call_command("network_report", "--format", fmt, "--out", str(out), "--diagnosis", "CD")
        assert out.stat().st_size > 0
    assert json.loads((tmp_path / "network.json").read_text())["network"]["remission_of"] == 5


@pytest.mark.parametrize("arguments, message", [
    (["--as-of", "2026-02-30"], "--as-of: expected a date"),
    (["--as-of", "2999-01-01"], "in the future"),
    (["--out", "/no/such/folder/x.json"], "does not exist"),
])
def test_the_command_refuses_bad_input(tmp_path, arguments, message):
    from django.core.management.base import CommandError

    base = ["--format", "json", "--out", str(tmp_path / "x.json")]
    with pytest.raises(CommandError, match=message):
        call_command("network_report", *base, *arguments)
