"""The cohort report by site (issue 18): the per-site reports add up to the network's,
the command's --site, the page's Site filter, its downloads and drill-downs for a
clinic lead of one site, the 400 for a site that is not theirs, separate cache keys, and
query counts that do not depend on the number of sites.

The two-site datasheet is the example datasheet (tests/fixtures/example_datasheet) with
a ``site`` column, its four patients twice (EX01–EX04 and a copy EY01–EY04), split
between MAIN and EAST; WEST is a third site without patients.
"""

import csv
import html
import io
import json
import re
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from reports.exports import as_json
from tests.conftest import main_site, site
from thalimon.roles import CLINIC_LEAD

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example_datasheet"
SITE_OF = {"EX01": "EAST", "EX02": "MAIN", "EX03": "EAST", "EX04": "MAIN",
           "EY01": "MAIN", "EY02": "EAST", "EY03": "MAIN", "EY04": "EAST"}
CODES = {where: {code for code, at in SITE_OF.items() if at == where} for where in ("MAIN", "EAST")}
LINK = re.compile(r'href="(/reports/cohort/patients/([^/"]+)/\?[^"]*)" data-figure="([^"]+)"')
ANY_CODE = re.compile(r"\bE[XY]0[1-4]\b")

# --- the figures that add up across sites -----------------------------------------------------

# JSON paths of the figures that add across sites; "*" stands for every key found at that
# level in any report compared (a key missing from one site's report counts 0 there). A
# new additive figure is one more line.
ADDITIVE = [
    "n_patients",
    "baseline.n",
    "baseline.male.n",
    "baseline.montreal_location.*.n",
    "baseline.montreal_behavior.*.n",
    "baseline.upper_gi.n", "baseline.perianal.n", "baseline.smoker.n", "baseline.prior_biologic.n",
    "baseline.ileocolic_resection.n",
    "induction.response.*.n", "induction.response.*.of",
    "induction.remission.*.n", "induction.remission.*.of",
    "induction.assessed.*",
    "relapse_free.n", "relapse_free.events",
    "adverse_events.patients", "adverse_events.events", "adverse_events.nervous_system_patients",
    "adverse_events.by_term.*", "adverse_events.by_term_events.*",
    "adverse_events.thalidomide_withdrawn", "adverse_events.azathioprine_withdrawn",
    "adverse_events.both_withdrawn", "adverse_events.hospitalised",
    "adverse_events.ae_free.n", "adverse_events.ae_free.events",
    "endoscopy.n", "endoscopy.remission.n", "endoscopy.mucosal_healing.n", "endoscopy.mucosal_healing_at_last.n",
    "titration.dose_changes", "titration.deviations.*", "titration.overrides",
    "exposure.cumulative_dose_n",
    "prescriptions.issued", "prescriptions.deviations.*", "prescriptions.no_deviation",
    "prescriptions.dispensed", "prescriptions.dispensed_in_time", "prescriptions.overrides",
]
# Figures each report rounds: they add up within half a unit of the last place per report.
WITHIN_ROUNDING = {"exposure.patient_months": Decimal("0.005")}


def _paths(report, pattern):
    """The concrete paths of ``pattern`` in ``report`` (expanding "*")."""
    found = [("", report)]
    for part in pattern.split("."):
        step = []
        for prefix, value in found:
            if not isinstance(value, dict):
                continue
            keys = list(value) if part == "*" else [part] if part in value else []
            step += [(f"{prefix}.{key}" if prefix else key, value[key]) for key in keys]
        found = step
    return {path for path, _value in found}


def _at(report, path):
    value = report
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def not_adding_up(network, parts, additive=ADDITIVE, within=WITHIN_ROUNDING):
    """[(path, network value, per-part values)] of every figure that does not add up; also
    a pattern that names no figure of the network (a misspelt line would test nothing)."""
    wrong = []
    for pattern in [*additive, *within]:
        paths = set().union(*(_paths(report, pattern) for report in [network, *parts]))
        if not _paths(network, pattern):
            wrong.append((pattern, "names no figure of the network report", None))
        tolerance = within.get(pattern, 0) * (len(parts) + 1)
        for path in sorted(paths):
            whole, each = _at(network, path), [_at(part, path) for part in parts]
            if whole is None or abs(Decimal(str(whole)) - sum(Decimal(str(v or 0)) for v in each)) > tolerance:
                wrong.append((path, whole, each))
    return wrong


def test_the_comparison_finds_a_figure_that_does_not_add_up():
    network = {"n_patients": 5, "adverse_events": {"by_term": {"rash": 2, "fatigue": 1}, "events": 4},
               "exposure": {"patient_months": Decimal("10.01")}}
    east = {"n_patients": 2, "adverse_events": {"by_term": {"rash": 1}, "events": 1},
            "exposure": {"patient_months": Decimal("4.00")}}
    main = {"n_patients": 3, "adverse_events": {"by_term": {"rash": 1, "fatigue": 1}, "events": 2},
            "exposure": {"patient_months": Decimal("6.00")}}
    additive = ["n_patients", "adverse_events.by_term.*", "adverse_events.events"]
    within = {"exposure.patient_months": Decimal("0.005")}
    assert not_adding_up(network, [east, main], additive, within) == [("adverse_events.events", 4, [1, 2])]
    main["adverse_events"]["by_term"]["fatigue"] = 0
    main["exposure"]["patient_months"] = Decimal("5.9")
    assert [path for path, *_ in not_adding_up(network, [east, main], additive, within)] == [
        "adverse_events.by_term.fatigue", "adverse_events.events", "exposure.patient_months"]
    assert not_adding_up(network, [east, main], ["adverse_events.no_such"], {})[0][0] == "adverse_events.no_such"


# --- the two-site datasheet ---------------------------------------------------------------


def _two_site_datasheet(folder):
    """The example datasheet with a site column and each patient twice (EX → EY)."""
    shutil.copytree(EXAMPLE, folder)
    for path in folder.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        rows += [[row[0].replace("EX", "EY"), *row[1:]] for row in rows]
        if path.name == "patients.csv":
            header = [header[0], "site", *header[1:]]
            rows = [[row[0], SITE_OF[row[0]], *row[1:]] for row in rows]
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows])
    return folder


@pytest.fixture
def two_sites(db, tmp_path):
    from reports.datasheet import import_datasheet

    main_site()
    site("EAST", "East clinic")
    site("WEST", "West clinic")
    report = import_datasheet(_two_site_datasheet(tmp_path / "two-sites"))
    assert report.errors == [], [str(e) for e in report.errors]


def _command_json(tmp_path, *args):
    out = tmp_path / f"report{'-'.join(args)}.json"
    call_command("cohort_report", "--format", "json", "--out", str(out), *args)
    return json.loads(out.read_text())


def test_the_per_site_reports_add_up_to_the_network_report(two_sites, tmp_path):
    network = _command_json(tmp_path)
    parts = {code: _command_json(tmp_path, "--site", code) for code in ("MAIN", "EAST", "WEST")}
    assert network["site"] is None and network["sites"] is None
    assert {code: (r["site"], r["sites"]) for code, r in parts.items()} == {
        "MAIN": ("MAIN", [{"code": "MAIN", "name": "Main clinic"}]),
        "EAST": ("EAST", [{"code": "EAST", "name": "East clinic"}]),
        "WEST": ("WEST", [{"code": "WEST", "name": "West clinic"}]),
    }
    assert (network["n_patients"], parts["MAIN"]["n_patients"], parts["EAST"]["n_patients"],
            parts["WEST"]["n_patients"]) == (8, 4, 4, 0)
    # The data reach every block, at both sites: the sums below compare real figures.
    for report in (network, parts["MAIN"], parts["EAST"]):
        assert report["adverse_events"]["events"] > 0 and report["titration"]["dose_changes"] > 0
        assert report["prescriptions"]["issued"] > 0 and report["exposure"]["patient_months"] > 0
    assert network["relapse_free"]["n"] > 0 and network["endoscopy"]["n"] > 0
    assert any(entry["n"] for entry in network["induction"]["response"].values())
    assert not_adding_up(network, list(parts.values())) == []
    compared = sum(len(_paths(network, pattern)) for pattern in [*ADDITIVE, *WITHIN_ROUNDING])
    assert compared > 80, compared


def test_the_command_names_a_site_and_refuses_an_unknown_code(two_sites, tmp_path, capsys):
    east = _command_json(tmp_path, "--site", "east")  # a code is compared ignoring case, as in a datasheet
    assert east["site"] == "EAST" and east["n_patients"] == 4
    assert "Cohort report (site EAST, 4 patients" in capsys.readouterr().out
    with pytest.raises(CommandError) as refused:
        _command_json(tmp_path, "--site", "NORTH")
    assert str(refused.value) == "--site: unknown site 'NORTH'; known sites: EAST, MAIN, WEST."
    assert not (tmp_path / "report--site-NORTH.json").exists()
    call_command("cohort_report", "--format", "csv", "--out", str(tmp_path / "east.csv"), "--site", "EAST")
    text = (tmp_path / "east.csv").read_bytes().decode("utf-8-sig")
    assert "Patients in the cohort (Site: EAST — East clinic; diagnosis CD" in text
    assert "Other figure: site" not in text


# --- the page, the downloads and the drill-downs -------------------------------------------


def _network_lead(make_user, sites=("MAIN",)):
    """A user with the permission of the network report (the network lead role is made
    elsewhere; the permission is taken as it is stored, or made here for the test)."""
    user = make_user(CLINIC_LEAD, sites=list(sites))
    permission = Permission.objects.filter(codename="view_network_report", content_type__app_label="reports").first()
    if permission is None:
        from reports.models import ImportJob

        permission = Permission.objects.create(codename="view_network_report", name="Can view the network report",
                                               content_type=ContentType.objects.get_for_model(ImportJob))
    user.user_permissions.add(permission)
    return user


def _options(page):
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', page.split('name="site"', 1)[1].split("</select>")[0])


def test_a_clinic_lead_of_one_site_gets_that_sites_figures_only(client, two_sites, make_user, tmp_path):
    client.force_login(make_user(CLINIC_LEAD, sites=["EAST"]))
    east = _command_json(tmp_path, "--site", "EAST")

    response = client.get(reverse("reports:cohort"))
    page = html.unescape(response.content.decode())
    report = response.context["report"]
    assert report["n_patients"] == 4 and report["site"] == "EAST"
    assert json.loads(as_json(report)) == east  # the command's --site EAST, figure by figure
    assert "Site: EAST — East clinic" in page
    assert _options(page) == [("", "All my sites (EAST)"), ("EAST", "EAST — East clinic")]
    assert "MAIN" not in page.split("<main", 1)[-1] and "WEST" not in page

    # Downloads: the same figures, the site said, the code in the file name.
    download = client.get(reverse("reports:download", args=["json"]))
    assert json.loads(download.content)["n_patients"] == 4 and json.loads(download.content)["site"] == "EAST"
    assert re.search(r'filename="cohort-CD-\d{4}-\d\d-\d\d\.json"', download["Content-Disposition"])
    chosen = client.get(reverse("reports:download", args=["json"]), {"site": "EAST"})
    assert json.loads(chosen.content) == json.loads(download.content)
    assert re.search(r'filename="cohort-CD-EAST-\d{4}-\d\d-\d\d\.json"', chosen["Content-Disposition"])
    csv_text = client.get(reverse("reports:download", args=["csv"])).content.decode("utf-8-sig")
    assert "Site: EAST — East clinic" in csv_text and not ANY_CODE.search(csv_text)
    book = load_workbook(io.BytesIO(client.get(reverse("reports:download", args=["xlsx"])).content))
    assert all(book[name]["A2"].value == "Site: EAST — East clinic" for name in book.sheetnames if name != "figures")
    pdf = tmp_path / "east.pdf"
    pdf.write_bytes(client.get(reverse("reports:download", args=["pdf"])).content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Site: EAST — East clinic" in text and f"{report['n_patients']} patients" in text

    # Every drill-down the page links: EAST's codes only, and its count.
    links = LINK.findall(response.content.decode())
    assert len(links) > 5
    for url, key, _figure in links:
        opened = client.get(html.unescape(url))
        assert opened.status_code == 200, url
        codes = set(ANY_CODE.findall(opened.content.decode()))
        assert codes and codes <= CODES["EAST"], (key, codes)
        assert "Site: EAST — East clinic" in html.unescape(opened.content.decode())


@pytest.mark.parametrize("code", ["MAIN", "WEST", "NOPE", "all"])
def test_a_site_that_is_not_the_leads_is_a_400_naming_the_field(client, two_sites, make_user, code):
    client.force_login(make_user(CLINIC_LEAD, sites=["EAST"]))
    query = {"site": code}
    for url in (reverse("reports:cohort"), reverse("reports:download", args=["json"]),
                reverse("reports:download", args=["pdf"]),
                reverse("reports:figure_patients", args=["adverse_events.patients"])):
        response = client.get(url, query)
        text = html.unescape(response.content.decode())
        assert response.status_code == 400, url
        assert "Site: choose one of the sites offered (EAST)." in text, url
        assert not ANY_CODE.search(text)  # no figure, no code: the same answer for a site that exists or not


def test_a_clinic_lead_of_two_sites_chooses_all_of_them_or_one(client, two_sites, make_user):
    client.force_login(make_user(CLINIC_LEAD, sites=["MAIN", "EAST"]))
    response = client.get(reverse("reports:cohort"))
    page = html.unescape(response.content.decode())
    assert response.context["report"]["n_patients"] == 8
    assert response.context["report"]["site"] is None
    assert [s["code"] for s in response.context["report"]["sites"]] == ["EAST", "MAIN"]
    assert "Your sites: EAST, MAIN" in page and "WEST" not in page
    assert [value for value, _label in _options(page)] == ["", "EAST", "MAIN"]
    download = client.get(reverse("reports:download", args=["csv"]))
    assert 'filename="cohort-CD-20' in download["Content-Disposition"]  # no site chosen: no code
    assert "Sites: EAST, MAIN" in download.content.decode("utf-8-sig")

    chosen = client.get(reverse("reports:cohort"), {"site": "MAIN"})
    assert chosen.context["report"]["n_patients"] == 4
    assert "Site: MAIN — Main clinic" in html.unescape(chosen.content.decode())
    for url, _key, _figure in LINK.findall(chosen.content.decode()):
        assert "site=MAIN" in url
        assert set(ANY_CODE.findall(client.get(html.unescape(url)).content.decode())) <= CODES["MAIN"]
    assert json.loads(client.get(reverse("reports:download", args=["json"]), {"site": "main"}).content)["site"] == "MAIN"


def test_a_network_lead_chooses_the_whole_network_or_any_site(client, two_sites, make_user):
    client.force_login(_network_lead(make_user))
    response = client.get(reverse("reports:cohort"))
    page = html.unescape(response.content.decode())
    assert response.context["report"]["n_patients"] == 8 and response.context["report"]["sites"] is None
    assert "All sites (the whole network)" in page
    assert [value for value, _label in _options(page)] == ["", "EAST", "MAIN", "WEST"]
    assert client.get(reverse("reports:cohort"), {"site": "WEST"}).context["report"]["n_patients"] == 0
    west = client.get(reverse("reports:download", args=["xlsx"]), {"site": "WEST"})
    assert west.status_code == 200 and "-WEST-" in west["Content-Disposition"]
    # The drill-down of the whole network names the codes of the lead's own sites only; the
    # others are counted, and the page says why they are not listed.
    drill = client.get(reverse("reports:figure_patients", args=["adverse_events.patients"]))
    text = html.unescape(drill.content.decode())
    listing = drill.context["listing"]
    assert {row["code"] for row in listing["rows"]} <= CODES["MAIN"]
    assert listing["other_site_patients"] > 0 and listing["care_team_patients"] == 0
    assert "belong to sites you are not a member of" in text or "belongs to a site you are not" in text
    assert not set(ANY_CODE.findall(text)) & CODES["EAST"]


def test_the_safety_decisions_table_counts_the_chosen_sites_only(client, two_sites, make_user):
    from patients.models import Patient
    from safety.models import Alert

    Alert.objects.create(patient=Patient.objects.get(code="EX02"), kind="positive_pregnancy_test", tier="urgent",
                         source="t:1", date=timezone.localdate() - timedelta(days=3), rule="R5.2", reason="test")

    def decisions(user, **query):
        client.force_login(user)
        return dict(client.get(reverse("reports:cohort"), query).context["safety_decisions"]["urgent"])

    withhold = "Withhold-level blood result on azathioprine"  # the imported WBC 3.4 of EX01 (EAST) and EY01 (MAIN)
    positive = "Positive pregnancy test"  # EX02, at MAIN
    assert decisions(make_user(CLINIC_LEAD, sites=["EAST"])) == {withhold: (1, 0, 0)}
    assert decisions(make_user(CLINIC_LEAD, sites=["MAIN"])) == {withhold: (1, 0, 0), positive: (1, 0, 0)}
    network = _network_lead(make_user)
    assert decisions(network) == {withhold: (2, 0, 0), positive: (1, 0, 0)}
    assert decisions(network, site="EAST") == {withhold: (1, 0, 0)}


# --- caching and query counts ---------------------------------------------------------------


def test_two_site_choices_never_share_a_cached_report(two_sites, make_user, settings):
    from patients.models import Patient
    from reports import selectors
    from sites.models import Site

    ids = dict(Site.objects.values_list("code", "pk"))
    key = selectors.sites_key
    assert key(None) == "all" and key([ids["MAIN"], ids["EAST"]]) == key([ids["EAST"], ids["MAIN"]])
    assert key([ids["MAIN"]]) != key([ids["EAST"]]) != key(None)
    assert len(key(range(1000, 1100))) < 40
    as_of = timezone.localdate()
    assert selectors.cached_cohort_report(site_ids=[ids["MAIN"]])["n_patients"] == 4
    assert selectors.cached_cohort_report(site_ids=[ids["WEST"]])["n_patients"] == 0
    assert selectors.cached_cohort_report()["n_patients"] == 8
    for code in ("MAIN", "EAST"):
        members = selectors.figure_members(as_of=as_of, diagnosis="CD", key="adverse_events.patients",
                                           site_ids=[ids[code]])
        assert members.counts and set(members.counts) <= CODES[code]
    # The page's recent report (served while records change) is one of the same sites.
    settings.THALIMON_REPORT_RECENT_SECONDS = 300
    selectors.recent_cohort_report(as_of=as_of, site_ids=[ids["MAIN"]])
    Patient.objects.filter(code="EX02").first().save()  # a write: a new history row
    report, _computed_at = selectors.recent_cohort_report(as_of=as_of, site_ids=[ids["EAST"]])
    assert report["n_patients"] == 4 and report["site"] == "EAST"


def test_query_counts_do_not_grow_with_the_number_of_sites(client, two_sites, make_user):
    """The report of 1, 2 or 6 sites costs the same queries (one more than the whole
    network's: the sites' codes and names); so do the page, a download and a drill-down
    for a clinic lead of 2 or of 6 sites, and for a network lead of a network of 3 or 7."""
    from reports.selectors import cohort_report
    from sites.models import Site

    def page_count(user, url, query=None):
        client.force_login(user)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, query).status_code == 200
        return len(queries)

    urls = (reverse("reports:cohort"), reverse("reports:download", args=["json"]),
            reverse("reports:figure_patients", args=["adverse_events.events"]))
    network = _network_lead(make_user)
    network_of_three = [page_count(network, url, query) for url in urls for query in (None, {"site": "EAST"})]
    for code in ("S1", "S2", "S3", "S4"):
        site(code)
    network = _network_lead(make_user)
    assert [page_count(network, url, query) for url in urls for query in (None, {"site": "EAST"})] == network_of_three

    ids = dict(Site.objects.values_list("code", "pk"))

    def count(**kwargs):
        with CaptureQueriesContext(connection) as queries:
            cohort_report(**kwargs)
        return len(queries)

    two = count(site_ids=[ids["MAIN"], ids["EAST"]])
    six = count(site_ids=[ids[c] for c in ("MAIN", "EAST", "S1", "S2", "S3", "S4")])
    assert two == six == count(site_ids=[ids["EAST"]]) == count() + 1

    lead_two = make_user(CLINIC_LEAD, sites=["MAIN", "EAST"])
    lead_six = make_user(CLINIC_LEAD, sites=["MAIN", "EAST", "S1", "S2", "S3", "S4"])
    for url in urls:
        assert page_count(lead_two, url) == page_count(lead_six, url), url
        assert page_count(lead_two, url, {"site": "EAST"}) == page_count(lead_six, url, {"site": "EAST"}), url
