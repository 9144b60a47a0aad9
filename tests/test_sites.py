"""Sites and site-scoped access (issue 18, first slice).

A user sees and opens only the patients of the sites they are a member of: on every
per-patient URL of the access matrix (taken from the URL configuration), in the
list and search, the inbox, alerts, badge and digest, the import and export; inside
a site the care-team restriction keeps working. The SQL form (``visible_to``,
``visible_q``, ``hidden_from``) and the object form (``may_be_opened_by``) agree.
"""

import csv
import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import main_site, site, valid_patient_fields
from tests.test_access_matrix import MATRIX, NO, POST_ONLY, ROLES, _url
from tests.test_care_team import PER_PATIENT
from thalimon.roles import ADMIN, CLINIC_LEAD, CLINICIAN, NURSE

pytestmark = pytest.mark.django_db


def _call(client, name, records):
    url = _url(name, records)
    if name in POST_ONLY:
        return client.post(url, {"note": "x", "days": "1", "reason": "x"})
    return client.get(url)


# --- the cross-site dimension of the access matrix -----------------------------------------


@pytest.mark.parametrize("role", [CLINICIAN, NURSE, CLINIC_LEAD, ADMIN])
@pytest.mark.parametrize("name", PER_PATIENT)
def test_a_user_of_another_site_is_refused_every_patient_url(client, records, make_user, name, role):
    """GI-0100 is at MAIN; a user of EAST only gets 404 (no such patient: not even its
    existence is told) where the role is allowed, 403 where it is not."""
    client.force_login(make_user(role, sites=["EAST"]))
    response = _call(client, name, records)
    if MATRIX[name][ROLES.index(role)] == NO:
        assert response.status_code == 403
    else:
        assert response.status_code == 404, (name, response.status_code)
    # Nothing of the record is said (the URL asked for is only echoed in the language switch).
    assert records["code"] not in response.content.decode().replace(_url(name, records), "")


@pytest.mark.parametrize("name", ["patients:detail", "patients:edit", "visits:detail", "safety:reminder_detail"])
def test_a_member_of_both_sites_opens_the_record(client, records, make_user, name):
    client.force_login(make_user(CLINICIAN, sites=["EAST", "MAIN"]))
    assert _call(client, name, records).status_code == 200


def test_a_user_of_no_site_sees_no_patient(client, records, make_user):
    from patients.models import Patient

    user = make_user(CLINICIAN, sites=[])
    assert not Patient.objects.visible_to(user).exists()
    client.force_login(user)
    assert client.get(reverse("patients:detail", args=[records["code"]])).status_code == 404
    assert records["code"] not in client.get(reverse("patients:list")).content.decode()


def test_list_search_inbox_alerts_and_badge_show_only_the_users_sites(client, records, make_user):
    from safety.models import Alert, Reminder

    today = timezone.localdate()
    Reminder.objects.filter(pk=records["reminder"]).update(due=today)
    Alert.objects.filter(pk=records["alert"]).update(reason="main-alert-reason")
    Alert.objects.create(patient_id=Reminder.objects.get(pk=records["reminder"]).patient_id, kind="neuropathy",
                         tier="urgent", source="x", date=today, rule="R3.3", reason="main-urgent-reason")
    code = records["code"]
    link = f'href="{reverse("patients:detail", args=[code])}"'
    east = make_user(NURSE, sites=["EAST"])
    client.force_login(east)
    assert link not in client.get(reverse("patients:list")).content.decode()
    page = client.get(reverse("patients:list"), {"q": code}).content.decode()
    assert link not in page and "0 patients match" in page
    page = client.get(reverse("safety:inbox")).content.decode()
    assert code not in page and "main-alert-reason" not in page and "main-urgent-reason" not in page
    assert "data-due-count" not in page and "data-urgent-count" not in page
    # The same pages for a nurse of MAIN list and count them.
    client.force_login(make_user(NURSE))
    assert link in client.get(reverse("patients:list"), {"q": code}).content.decode()
    page = client.get(reverse("safety:inbox")).content.decode()
    assert code in page and "main-alert-reason" in page
    assert re.search(r'data-due-count[^>]*>2<', page)


def test_selectors_of_the_badge_and_inbox_follow_the_sites(records, make_user):
    from types import SimpleNamespace

    from safety.selectors import open_urgent, review_alerts, safety_counts_for, workable_reminders

    today = timezone.localdate()
    east, main = make_user(NURSE, sites=["EAST"]), make_user(NURSE)
    assert not workable_reminders(east, today).exists() and workable_reminders(main, today).exists()
    assert not review_alerts(east).exists() and review_alerts(main).exists()
    assert not open_urgent(east).exists()
    review_only = review_alerts(main).count()
    assert safety_counts_for(SimpleNamespace(user=east)) == {"urgent": 0, "due": 0}
    assert safety_counts_for(SimpleNamespace(user=main))["due"] >= review_only == 1


def test_digest_and_urgent_emails_go_to_the_patients_site_only(records, make_user, settings):
    from patients.models import Patient
    from safety.digest import send_digests, urgent_recipients
    from safety.models import Reminder

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = timezone.localdate()
    Reminder.objects.filter(pk=records["reminder"]).update(due=today - timedelta(days=1))
    make_user(NURSE, email="main-nurse@x.test")
    make_user(NURSE, email="east-nurse@x.test", sites=["EAST"])
    send_digests(as_of=today)
    assert {m.to[0] for m in mail.outbox} == {"main-nurse@x.test"}
    # Urgent events: without a responsible clinician, the clinicians of the patient's site only.
    patient = Patient.objects.get(code=records["code"])
    Patient.objects.filter(pk=patient.pk).update(responsible_clinician=None)
    patient.refresh_from_db()
    main_doc = make_user(CLINICIAN, email="main-doc@x.test")
    make_user(CLINICIAN, email="east-doc@x.test", sites=["EAST"])
    assert urgent_recipients(patient) == [main_doc]
    # A responsible clinician who is no longer a member of the site is not written to.
    east_only = make_user(CLINICIAN, email="moved@x.test", sites=["EAST"])
    Patient.objects.filter(pk=patient.pk).update(responsible_clinician=east_only)
    patient = Patient.objects.select_related("responsible_clinician").get(pk=patient.pk)
    assert urgent_recipients(patient) == [main_doc]


def test_figure_codes_of_another_site_are_not_listed(records, make_user):
    from reports.selectors import figure_listing

    class Figure:
        counts = {records["code"]: 2}
        diagnoses = {}
        unit = "events"

    lead_east = make_user(CLINIC_LEAD, sites=["EAST"])
    listing = figure_listing(Figure, lead_east)
    assert listing["rows"] == [] and listing["hidden_patients"] == 1
    assert [r["code"] for r in figure_listing(Figure, make_user(CLINIC_LEAD))["rows"]] == [records["code"]]


def test_import_jobs_of_another_sites_user_are_not_shown(client, records, make_user):
    lead_east = make_user(CLINIC_LEAD, sites=["EAST"])
    client.force_login(lead_east)
    assert client.get(reverse("reports:job", args=[records["job"]])).status_code == 404
    client.force_login(make_user(CLINIC_LEAD))
    assert client.get(reverse("reports:job", args=[records["job"]])).status_code == 200


# --- the care-team restriction inside a site --------------------------------------------


def test_care_team_restriction_still_works_inside_a_site(client, records, make_user):
    from patients.models import Patient

    team_doc = make_user(CLINICIAN)
    Patient.objects.filter(code=records["code"]).update(responsible_clinician=team_doc, care_team_only=True)
    url = reverse("patients:detail", args=[records["code"]])
    client.force_login(make_user(CLINICIAN))  # same site, not in the care team
    response = client.get(url)
    assert response.status_code == 403 and "restricted to the care team" in response.content.decode()
    client.force_login(team_doc)
    assert client.get(url).status_code == 200
    # The care team's clinician, once no longer a member of the site, is refused too.
    team_doc.site_memberships.all().delete()
    client.force_login(team_doc)
    assert client.get(url).status_code == 404


# --- one rule, two forms -----------------------------------------------------------------


def test_sql_and_object_forms_agree(make_user):
    from patients.actions import patient_create
    from patients.models import Patient

    main, east, west = main_site(), site("EAST"), site("WEST")
    team = make_user(CLINICIAN, sites=["MAIN", "EAST"])
    users = [
        make_user(CLINICIAN), make_user(NURSE, sites=["EAST"]), make_user(CLINIC_LEAD, sites=["MAIN", "EAST"]),
        make_user(ADMIN, sites=[]), make_user(CLINICIAN, sites=["WEST"]), team,
        make_user(NURSE, sites=["MAIN", "EAST", "WEST"]),  # every site: no site condition at all
    ]
    n = 0
    for where in (main, east, west):
        for restricted in (False, True):
            n += 1
            patient_create(actor=None, **valid_patient_fields(
                code=f"AG-{n:03d}", site=where, responsible_clinician=team, care_team_only=restricted))
    everyone = list(Patient.objects.all())
    for user in users:
        by_object = {p.code for p in everyone if p.may_be_opened_by(user)}
        assert set(Patient.objects.visible_to(user).values_list("code", flat=True)) == by_object
        assert set(Patient.objects.exclude(pk__in=Patient.objects.hidden_from(user)).values_list(
            "code", flat=True)) == by_object
        assert set(Patient.objects.filter(Patient.objects.visible_q(user, via="")).values_list(
            "code", flat=True)) == by_object
    assert {p.code for p in everyone if p.may_be_opened_by(team)} == {"AG-001", "AG-002", "AG-003", "AG-004"}


def test_site_ids_are_read_once_and_list_queries_do_not_grow_with_sites(client, make_patient, make_user):
    """The patient list costs the same number of queries for a user of one site or of
    six, and whatever the number of sites stored."""
    from patients.models import Patient

    for index in range(3):
        make_patient(code=f"QC-{index:03d}")

    def count_for(user):
        client.force_login(user)
        client.get(reverse("patients:list"))  # warm
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("patients:list")).status_code == 200
        return len(queries)

    one = count_for(make_user(NURSE))
    many = count_for(make_user(NURSE, sites=["MAIN", "S1", "S2", "S3", "S4", "S5"]))
    assert one == many
    user = make_user(NURSE)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            list(Patient.objects.visible_to(user))
    membership_reads = [q for q in queries.captured_queries if "sites_membership" in q["sql"]]
    assert len(membership_reads) == 1


# --- creating and moving patients ----------------------------------------------------------


def test_create_form_offers_the_users_sites_and_defaults_to_the_only_one(client, make_user):
    from patients.forms import PatientForm

    site("EAST")
    one = make_user(CLINICIAN)
    form = PatientForm(user=one)
    assert [s.code for s in form.fields["site"].queryset] == ["MAIN"]
    assert form.fields["site"].initial == main_site().pk and not form.fields["site"].required
    several = make_user(CLINICIAN, sites=["MAIN", "EAST"])
    form = PatientForm(user=several)
    assert [s.code for s in form.fields["site"].queryset] == ["EAST", "MAIN"]
    assert form.fields["site"].required and form.fields["site"].initial is None


def _post_data(**overrides):
    data = {
        "code": "NEW-001", "sex": "M", "birth_date": "1990-03-14", "height_cm": "172", "diagnosis": "CD",
        "tpmt": "normal", "nudt15": "normal", "status": "active", "reproductive_potential": "unknown",
        "irregular_cycles": "unknown", "expected_version": "0",
    }
    data.update(overrides)
    return data


def test_create_view_puts_the_patient_in_the_chosen_site_and_refuses_a_foreign_one(client, make_user):
    from patients.models import Patient

    east = site("EAST")
    user = make_user(CLINICIAN)
    client.force_login(user)
    response = client.post(reverse("patients:create"), _post_data(site=east.pk))
    assert response.status_code == 200 and not Patient.objects.filter(code="NEW-001").exists()
    response = client.post(reverse("patients:create"), _post_data())
    assert response.status_code == 302
    assert Patient.objects.get(code="NEW-001").site.code == "MAIN"
    # Several sites: the site must be chosen.
    client.force_login(make_user(CLINICIAN, sites=["MAIN", "EAST"]))
    response = client.post(reverse("patients:create"), _post_data(code="NEW-002"))
    assert response.status_code == 200 and not Patient.objects.filter(code="NEW-002").exists()
    response = client.post(reverse("patients:create"), _post_data(code="NEW-002", site=east.pk))
    assert response.status_code == 302 and Patient.objects.get(code="NEW-002").site == east


def test_actions_refuse_a_site_the_user_is_not_a_member_of(make_user):
    from patients.actions import patient_create, patient_update
    from patients.models import Patient

    east = site("EAST")
    user = make_user(CLINICIAN)
    with pytest.raises(ValidationError) as refused:
        patient_create(actor=user, **valid_patient_fields(code="ACT-001", site=east))
    assert "site" in refused.value.message_dict
    patient = patient_create(actor=user, **valid_patient_fields(code="ACT-001", site=None))
    assert patient.site == main_site()
    with pytest.raises(ValidationError):
        patient_update(actor=user, patient=patient, expected_version=patient.version, site=east)
    assert Patient.objects.get(pk=patient.pk).site == main_site()
    several = make_user(CLINICIAN, sites=["MAIN", "EAST"])
    with pytest.raises(ValidationError):
        patient_create(actor=several, **valid_patient_fields(code="ACT-002", site=None))  # which site?
    nobody = make_user(CLINICIAN, sites=[])
    with pytest.raises(ValidationError):
        patient_create(actor=nobody, **valid_patient_fields(code="ACT-003", site=None))
    # Even a member of both sites does not move a patient by an edit: a patient moves only by a
    # transfer (patients.actions.patient_transfer, tests/test_transfers.py), which keeps the periods.
    patient = Patient.objects.get(pk=patient.pk)
    with pytest.raises(ValidationError) as refused:
        patient_update(actor=several, patient=patient, expected_version=patient.version, site=east)
    assert "transfer" in refused.value.message_dict["site"][0]
    assert Patient.objects.get(pk=patient.pk).site == main_site()


def test_edit_form_cannot_move_a_patient_to_a_foreign_site(client, make_patient, make_user):
    from patients.forms import PatientForm
    from patients.models import Patient

    east = site("EAST")
    patient = make_patient(code="MV-001")
    user = make_user(CLINICIAN)
    client.force_login(user)
    data = {k: v for k, v in PatientForm(instance=patient, user=user).initial.items() if v is not None}
    data.update({"expected_version": patient.version, "birth_date": patient.birth_date.isoformat(),
                 "reproductive_potential": "unknown", "irregular_cycles": "unknown", "site": east.pk})
    data.pop("responsible_clinician", None)
    response = client.post(reverse("patients:edit", args=["MV-001"]), data)
    # The site is read-only on the edit form (a patient moves only by a transfer): a forged
    # site is ignored, the rest of the edit is saved.
    assert response.status_code in (200, 302)
    assert Patient.objects.get(code="MV-001").site == main_site()


# --- the datasheet's site column -------------------------------------------------------------


def _patients_csv(folder, rows, *, with_site=True):
    folder.mkdir(exist_ok=True)
    header = ["patient", *(["site"] if with_site else []), "sex", "birth_date", "diagnosis"]
    with open(folder / "patients.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row[0], *([row[1]] if with_site else []), "M", "1990-01-01", "UC"])
    return folder


def _errors(report):
    return [str(e) for e in report.errors]


def test_import_site_column_present_absent_unknown_and_foreign(tmp_path, make_user):
    from patients.models import Patient
    from reports.datasheet import import_datasheet

    east, _west = site("EAST"), site("WEST")
    lead = make_user(CLINIC_LEAD, sites=["MAIN", "EAST"])
    only_main = make_user(CLINIC_LEAD)

    # Present, a site of the user's: there.
    report = import_datasheet(_patients_csv(tmp_path / "a", [("SC-001", "EAST"), ("SC-002", "main")]), actor=lead)
    assert not report.errors, _errors(report)
    assert Patient.objects.get(code="SC-001").site == east and Patient.objects.get(code="SC-002").site == main_site()
    # Absent, one membership: the user's only site.
    report = import_datasheet(_patients_csv(tmp_path / "b", [("SC-003", "")], with_site=False), actor=only_main)
    assert not report.errors and Patient.objects.get(code="SC-003").site == main_site()
    # Absent (or empty), several memberships: an error naming the column.
    report = import_datasheet(_patients_csv(tmp_path / "c", [("SC-004", "")], with_site=False), actor=lead)
    assert _errors(report) and all("patients.csv:2: site:" in e for e in _errors(report)), _errors(report)
    assert "several sites" in _errors(report)[0]
    # Unknown code, and a site the user is not a member of: errors, nothing written.
    report = import_datasheet(_patients_csv(tmp_path / "d", [("SC-005", "NOPE"), ("SC-006", "WEST")]), actor=lead)
    errors = _errors(report)
    assert any(e.startswith("patients.csv:2: site: unknown site 'NOPE'") for e in errors), errors
    assert any(e.startswith("patients.csv:3: site: you are not a member of site 'WEST'") for e in errors), errors
    assert not Patient.objects.filter(code__in=["SC-005", "SC-006"]).exists()
    from sites.models import Site

    assert not Site.objects.filter(code="NOPE").exists()


def test_import_refuses_a_row_of_another_sites_patient_and_never_moves_one(tmp_path, make_user):
    from patients.models import Patient
    from reports.datasheet import import_datasheet

    east = site("EAST")
    lead_east = make_user(CLINIC_LEAD, sites=["EAST"])
    both = make_user(CLINICIAN, sites=["MAIN", "EAST"])
    report = import_datasheet(_patients_csv(tmp_path / "a", [("OS-001", "MAIN")]), actor=both)
    assert not report.errors, _errors(report)
    # A user of EAST: the code is another site's patient — refused, not created, not moved.
    for folder, with_site in (("b", True), ("c", False)):
        report = import_datasheet(
            _patients_csv(tmp_path / folder, [("OS-001", "EAST")], with_site=with_site), actor=lead_east)
        assert any(e.startswith("patients.csv:2: patient: a patient 'OS-001' is stored at a site you are not")
                   for e in _errors(report)), _errors(report)
    # A member of both sites naming the other site: refused (an import never moves a patient).
    report = import_datasheet(_patients_csv(tmp_path / "d", [("OS-001", "EAST")]), actor=both)
    assert any("patients.csv:2: site:" in e and "never moves" in e for e in _errors(report)), _errors(report)
    assert Patient.objects.get(code="OS-001").site == main_site() != east


def test_command_line_import_creates_an_unknown_site_and_needs_the_column_with_several(tmp_path, capsys):
    from patients.models import Patient
    from sites.models import Site

    Site.objects.exclude(code="MAIN").delete()
    main_site()
    # One site stored: the column may be left out.
    call_command("import_datasheet", str(_patients_csv(tmp_path / "a", [("CL-001", "")], with_site=False)))
    assert Patient.objects.get(code="CL-001").site.code == "MAIN"
    # An unknown code is created by the operator's tool (interfaces.md §1), not in a dry run.
    call_command("import_datasheet", "--dry-run", str(_patients_csv(tmp_path / "b", [("CL-002", "NORTH")])))
    assert not Site.objects.filter(code="NORTH").exists()
    call_command("import_datasheet", str(_patients_csv(tmp_path / "c", [("CL-002", "NORTH")])))
    assert Patient.objects.get(code="CL-002").site.code == "NORTH"
    assert "site 'NORTH' is not stored: it is created" in capsys.readouterr().err
    # Now two sites: the column is required for a new patient.
    with pytest.raises(CommandError):
        call_command("import_datasheet", str(_patients_csv(tmp_path / "d", [("CL-003", "")], with_site=False)))
    assert "patients.csv:2: site: required: there are several sites" in capsys.readouterr().err


def test_export_has_the_site_column_and_only_the_users_sites_and_round_trips(tmp_path, make_user, records):
    from patients.actions import patient_create
    from reports.datasheet import export_datasheet, import_datasheet

    east = site("EAST")
    patient_create(actor=None, **valid_patient_fields(code="EX-EAST", site=east))
    export_datasheet(tmp_path / "all")
    rows = list(csv.DictReader(open(tmp_path / "all" / "patients.csv", encoding="utf-8")))
    assert list(rows[0])[:2] == ["patient", "site"]
    assert {r["patient"]: r["site"] for r in rows} == {records["code"]: "MAIN", "EX-EAST": "EAST"}

    export_datasheet(tmp_path / "east", actor=make_user(CLINIC_LEAD, sites=["EAST"]))
    rows = list(csv.DictReader(open(tmp_path / "east" / "patients.csv", encoding="utf-8")))
    assert [(r["patient"], r["site"]) for r in rows] == [("EX-EAST", "EAST")]
    for name in ("visits.csv", "adverse_events.csv", "doses.csv"):
        assert records["code"] not in (tmp_path / "east" / name).read_text()

    # Round trip: the export imported again changes nothing and exports identically.
    both = make_user(CLINICIAN, sites=["MAIN", "EAST"])
    export_datasheet(tmp_path / "first", actor=both)
    report = import_datasheet(tmp_path / "first", actor=both)
    assert not report.errors, _errors(report)
    assert all(c["created"] == 0 and c["updated"] == 0 for c in report.counts.values()), report.counts
    export_datasheet(tmp_path / "second", actor=both)
    for name in sorted(p.name for p in (tmp_path / "first").iterdir()):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name


# --- the admin ----------------------------------------------------------------------------------


def get_user_model_class():
    from django.contrib.auth import get_user_model

    return get_user_model()


def test_admin_manages_sites_and_memberships_of_their_sites_but_not_their_own(client, make_user):
    from sites.models import Membership

    east = site("EAST")
    admin_user = make_user(ADMIN, sites=["MAIN"])
    nurse = make_user(NURSE, sites=[])
    client.force_login(admin_user)
    assert client.get("/admin/sites/site/").status_code == 200
    page = client.get(f"/admin/auth/user/{nurse.pk}/change/").content.decode()
    assert "site_memberships-TOTAL_FORMS" in page
    # Never the admin's own memberships (a membership opens records: a privilege, like a role).
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from sites.admin import MembershipInline

    request = RequestFactory().get("/")
    request.user = admin_user
    inline = MembershipInline(get_user_model_class(), django_admin.site)
    assert not inline.has_add_permission(request, admin_user) and not inline.has_delete_permission(request, admin_user)
    assert inline.has_add_permission(request, nurse)
    # Only the admin's own sites are offered.
    assert list(inline.get_formset(request, nurse).form.base_fields["site"].queryset) == [main_site()]
    assert east not in inline.get_queryset(request).values_list("site", flat=True)
    # A site the admin adds: they become its member, to staff it.
    response = client.post("/admin/sites/site/add/", {"code": "NORTH", "name": "North clinic"})
    assert response.status_code == 302
    assert list(admin_user.sites.order_by("code").values_list("code", flat=True)) == ["MAIN", "NORTH"]
    # A membership added by the admin is in the history.
    Membership.objects.create(user=nurse, site=main_site())
    assert Membership.history.filter(user_id=nurse.pk, history_type="+").count() == 1


def test_migration_puts_existing_patients_and_users_in_main(transactional_db):
    """Forward from the schema before sites: the patients go to MAIN (with their history rows)
    and every user becomes its member, so the clinic works unchanged."""
    from django.db.migrations.executor import MigrationExecutor

    def migrate(targets, state_of):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(state_of).apps

    before = [("patients", "0011_patient_phone")]
    old = migrate([*before, ("sites", None)], before)
    user = old.get_model("auth", "User").objects.create(username="before-sites")
    patient = old.get_model("patients", "Patient").objects.create(
        code="MIG-SITE", sex="M", birth_date=date(1990, 1, 1), diagnosis="UC", tpmt="normal", nudt15="normal",
    )
    old.get_model("patients", "HistoricalPatient").objects.create(
        id=patient.pk, code="MIG-SITE", sex="M", birth_date=date(1990, 1, 1), diagnosis="UC", tpmt="normal",
        nudt15="normal", version=0, created_at="2026-01-04T10:00:00Z", history_date="2026-01-04T10:00:00Z",
        history_type="+", status="active",
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    migrate(executor.loader.graph.leaf_nodes(), executor.loader.graph.leaf_nodes())

    from django.contrib.auth import get_user_model

    from patients.models import Patient

    stored = Patient.objects.get(code="MIG-SITE")
    assert stored.site.code == "MAIN" and stored.site.name == "Main clinic"
    assert stored.history.get().site_id == stored.site_id
    user = get_user_model().objects.get(username="before-sites")
    assert list(user.sites.values_list("code", flat=True)) == ["MAIN"]
    assert Patient.objects.visible_to(user).filter(code="MIG-SITE").exists()


def test_a_member_of_every_site_needs_no_site_condition_until_a_site_is_added(make_user):
    """A single-site clinic's users (and a member of every site of a network) are filtered
    by the care team only: on the reminders the site condition is a join with every
    patient. The answer is read with the site ids (no query of its own) and is recomputed
    for the next request once a site is added."""
    from django.contrib.auth import get_user_model

    from patients.models import Patient, covers_every_site, site_ids_of
    from safety.models import Reminder

    main_site()
    user = make_user(NURSE)  # MAIN, the only site
    with CaptureQueriesContext(connection) as queries:
        assert covers_every_site(user) and site_ids_of(user) and covers_every_site(user)
    assert len(queries) == 1
    def sql(q):  # the conditions only (a reminder's columns include its own site_id)
        return str(Reminder.objects.order_by().filter(q).values("pk").query)

    for q in (Patient.objects.visible_q(user), Patient.objects.visible_q(user, site_field="site_id")):
        assert "site_id" not in sql(q) and "JOIN" not in sql(q)
    site("EAST")
    assert covers_every_site(user)  # kept for this request, as Django keeps permissions
    fresh = get_user_model().objects.get(pk=user.pk)  # the next request's user
    assert not covers_every_site(fresh)
    assert "site_id" in sql(Patient.objects.visible_q(fresh))
    # On the rows that carry their patient's site, the condition is on that column: no join.
    own = sql(Patient.objects.visible_q(fresh, site_field="site_id"))
    assert '"safety_reminder"."site_id" IN' in own and "JOIN" not in own
    assert not covers_every_site(make_user(NURSE, sites=[]))


def test_a_users_sites_and_restricted_records_are_read_together_in_one_query(make_user, monkeypatch):
    """``site_ids_of`` reads the user's sites and the records restricted to another care team
    in one statement on PostgreSQL (every page filters with both); the answers are those of
    two separate reads, and past HIDDEN_PKS_INLINE records the restricted ones are left out
    by a subquery."""
    from django.contrib.auth import get_user_model

    from patients import models as patient_models
    from patients.actions import patient_create
    from patients.models import Patient, covers_every_site, site_ids_of

    main, east = main_site(), site("EAST")
    site("WEST")
    team = make_user(CLINICIAN, sites=["MAIN", "EAST"])
    outsider = make_user(NURSE, sites=["EAST", "MAIN"])
    restricted = [patient_create(actor=None, **valid_patient_fields(
        code=f"RA-{n}", site=where, responsible_clinician=team, care_team_only=True))
        for n, where in enumerate((main, east, main))]
    patient_create(actor=None, **valid_patient_fields(code="RA-OPEN", site=east))
    with CaptureQueriesContext(connection) as queries:
        assert site_ids_of(outsider) == sorted([main.pk, east.pk])
        assert not covers_every_site(outsider)  # WEST too is a site of the network
        assert sorted(Patient.objects.hidden_pks(outsider)) == sorted(p.pk for p in restricted)
    assert len(queries) == 1
    assert Patient.objects.hidden_pks(team) == []
    assert set(Patient.objects.visible_to(outsider).values_list("code", flat=True)) == {"RA-OPEN"}
    assert set(Patient.objects.visible_to(team).values_list("code", flat=True)) == {
        "RA-0", "RA-1", "RA-2", "RA-OPEN"}
    # More restricted records than are listed inline: a subquery, with the same answer.
    monkeypatch.setattr(patient_models, "HIDDEN_PKS_INLINE", 2)
    fresh = get_user_model().objects.get(pk=outsider.pk)
    hidden = Patient.objects.hidden_pks(fresh)
    assert not isinstance(hidden, list)
    assert set(Patient.objects.visible_to(fresh).values_list("code", flat=True)) == {"RA-OPEN"}
    # A user of no site: no site, and nothing to open.
    nobody = make_user(NURSE, sites=[])
    assert site_ids_of(nobody) == [] and not covers_every_site(nobody)
    assert not Patient.objects.visible_to(nobody).exists()
