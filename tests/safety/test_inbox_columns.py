"""The inbox (issue 15): each row names the patient for the roles that see names (with the
phone), and says the current doses, last visit and outcome status; each section can be
sorted; an action returns to the section the row was in; the queries do not grow."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from safety.models import Reminder
from therapy.models import DoseChange
from visits.models import Visit

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
URL = reverse("safety:inbox")


@pytest.fixture
def rows(make_patient):
    a = make_patient(code="GI-IA", full_name="Alma Fictional", phone="+44 20 7946 0001")
    b = make_patient(code="GI-IB", full_name="Bert Fictional")
    DoseChange.objects.create(patient=a, drug="thalidomide", date=TODAY - timedelta(days=20), dose_mg=Decimal("50"))
    DoseChange.objects.create(patient=a, drug="azathioprine", date=TODAY - timedelta(days=90), dose_mg=Decimal("125"))
    Visit.objects.create(patient=a, date=TODAY - timedelta(days=3), contact="clinic", clinical_status="response")
    Visit.objects.create(patient=b, date=TODAY - timedelta(days=40), contact="clinic")
    first = Reminder.objects.create(patient=a, kind="blood_test_due", due=TODAY - timedelta(days=2), reason="r")
    second = Reminder.objects.create(patient=b, kind="visit_due", due=TODAY - timedelta(days=1), reason="r")
    return first, second


def _row(html, pk):
    start = html.index(f'id="reminder-{pk}"')
    return html[start:html.index('class="reminder-actions"', start)]


def test_rows_say_the_doses_last_visit_and_status_in_words(client, nurse, rows):
    client.force_login(nurse)
    html = client.get(URL).content.decode()
    a = _row(html, rows[0].pk)
    assert "<strong>50 mg</strong>" in a and "AZA 125 mg" in a
    assert f"Last visit {(TODAY - timedelta(days=3)).isoformat()}" in a and ">Response<" in a
    assert ">Blood test due<" in a and "blood_test_due" not in a.replace('data-kind="blood_test_due"', "")
    assert "due <strong>" not in a  # the label already says "due"
    b = _row(html, rows[1].pk)
    assert "Thalidomide <span class=\"text-body-secondary\">none</span>" in b


def test_names_and_phone_only_for_roles_that_see_names(client, nurse, clinic_lead, rows):
    client.force_login(nurse)
    html = client.get(URL).content.decode()
    assert "Alma Fictional" in html and "+44 20 7946 0001" in html
    client.force_login(clinic_lead)
    html = client.get(URL).content.decode()
    assert "GI-IA" in html and "Fictional" not in html and "7946" not in html


@pytest.mark.parametrize(("sort", "first"), [("", 0), ("code", 0), ("last_visit", 1)])
def test_each_section_can_be_sorted(client, nurse, rows, sort, first):
    client.force_login(nurse)
    sections = client.get(URL, {"sort": sort} if sort else {}).context["sections"]
    assert [r.pk for r in sections["due"]][0] == rows[first].pk


def test_an_action_returns_to_the_section_it_was_in(client, nurse, rows):
    client.force_login(nurse)
    html = client.get(URL, {"kind": "blood_test_due"}).content.decode()
    assert 'name="anchor" value="reminder-' in html
    actions = re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "anchor=section-due" in actions
    fragment = client.get(actions, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="anchor" value="section-due"' in fragment
    response = client.post(
        reverse("safety:reminder_snooze", args=[rows[0].pk]),
        {"days": "2", "reason": "patient away", "next": "/inbox/?kind=blood_test_due", "anchor": "section-due"},
    )
    assert response.status_code == 302 and response.url == "/inbox/?kind=blood_test_due#section-due"
    # An anchor that is not an id of the page is dropped; another site is never a target.
    response = client.post(
        reverse("safety:reminder_acknowledge", args=[rows[1].pk]),
        {"next": "https://evil.example/", "anchor": '"><script>'},
    )
    assert response.url == URL


def test_the_inbox_with_its_columns_costs_the_same_for_10_or_50_patients(
    client, nurse, make_patient, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(start, n):
        for i in range(start, start + n):
            p = make_patient(code=f"GI-N{i:03d}", full_name=f"Name {i}")
            DoseChange.objects.create(patient=p, drug="thalidomide", date=TODAY - timedelta(days=30), dose_mg=Decimal("50"))
            Visit.objects.create(patient=p, date=TODAY - timedelta(days=i % 20 + 1), contact="clinic", clinical_status="response")
            Reminder.objects.create(patient=p, kind="visit_due", due=TODAY - timedelta(days=i % 12), reason="r")

    client.force_login(nurse)
    add(0, 10)
    with CaptureQueriesContext(connection) as ten:
        client.get(URL, {"sort": "last_visit"})
    add(10, 40)
    with django_assert_max_num_queries(len(ten.captured_queries)):
        response = client.get(URL, {"sort": "last_visit"})
    assert sum(len(rows) for rows in response.context["sections"].values()) > 10


def test_the_columns_are_read_for_the_shown_rows_only(client, nurse, make_patient):
    """The sections are cut first (the union of reminders reads no dose, visit or alert
    table), then one query reads the columns of the shown rows' patients: PostgreSQL had
    evaluated the columns for every overdue reminder before sorting them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from safety.views import INBOX_PAGE

    for i in range(INBOX_PAGE + 5):
        p = make_patient(code=f"GI-S{i:03d}")
        DoseChange.objects.create(patient=p, drug="thalidomide", date=TODAY - timedelta(days=30), dose_mg=Decimal("50"))
        Reminder.objects.create(patient=p, kind="visit_due", due=TODAY - timedelta(days=30 + i), reason="r")
    client.force_login(nurse)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    shown = response.context["sections"]["overdue"]
    assert len(shown) == INBOX_PAGE and all(r.thal_dose == Decimal("50") for r in shown)
    sections_sql = [q["sql"] for q in queries.captured_queries if '"safety_reminder"."reason"' in q["sql"]]
    assert sections_sql and not any("visits_dosechange" in sql for sql in sections_sql)
    columns_sql = [q["sql"] for q in queries.captured_queries if "visits_dosechange" in q["sql"]]
    assert len(columns_sql) == 1
    shown_ids = {r.patient_id for r in shown}
    hidden_id = Reminder.objects.exclude(patient_id__in=shown_ids).values_list("patient_id", flat=True).first()
    assert re.search(rf"\b{hidden_id}\b", columns_sql[0].split(" WHERE ")[-1]) is None


def test_a_row_escapes_every_value_a_person_or_a_rule_wrote(client, nurse, make_patient, make_user):
    """The row is written with f-strings (clinic_columns.inbox_row): the patient's name, the
    reason and the escalation's name are escaped as Django escapes them (a phone is validated
    to digits and separators)."""
    from django.utils.html import escape

    name = "<script>alert('x')</script> O'Brien & \"Sons\""
    patient = make_patient(code="GI-ESC", full_name=name)
    person = make_user("Clinician", first_name="<i>Eve</i>")
    reminder = Reminder.objects.create(patient=patient, kind="visit_due", due=TODAY - timedelta(days=10),
                                       reason="<img src=x onerror=alert(1)>", escalated_to=person)
    client.force_login(nurse)
    row = _row(client.get(URL).content.decode(), reminder.pk)
    assert "<script>" not in row and "<img" not in row and "<i>Eve" not in row
    assert escape(name) in row and escape("<img src=x onerror=alert(1)>") in row and "&lt;i&gt;Eve&lt;/i&gt;" in row


def test_the_sections_read_no_patient_row_and_the_shown_rows_get_their_patient(client, nurse, clinic_lead, rows):
    """The sections' union joins no patient (cheaper to compile and plan); the shown rows'
    patients come with their clinic columns, with name and phone only for the roles that see them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(nurse)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    sections_sql = [q["sql"] for q in queries.captured_queries if '"safety_reminder"."reason"' in q["sql"]]
    assert sections_sql and not any('JOIN "patients_patient"' in sql for sql in sections_sql)
    shown = response.context["sections"]["due"]
    assert {(r.patient.code, r.patient.full_name) for r in shown} == {("GI-IA", "Alma Fictional"),
                                                                      ("GI-IB", "Bert Fictional")}
    client.force_login(clinic_lead)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    columns_sql = [q["sql"] for q in queries.captured_queries if "visits_dosechange" in q["sql"]]
    assert len(columns_sql) == 1 and "full_name" not in columns_sql[0] and '"phone"' not in columns_sql[0]
