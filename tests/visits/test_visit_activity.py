"""A visit's other disease-activity readings on its page (R1.6 full and partial Mayo, R1.7
AIDAI, R2.5 treatment failure) and R1.4's SES-CD flag above 56, worked by hand from
clinical-rules.md. The first table needs no database: the selector reads only the visit's
fields and the calprotectins it is given."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse

from visits.selectors import ses_cd_checks, visit_activity

DAY = date(2026, 11, 20)


def _visit(**fields):
    values = {"date": DAY, "hbi": None, "mayo": None, "mayo_entered": None, "mayo_stool_frequency": None,
              "mayo_rectal_bleeding": None, "mayo_endoscopic": None, "mayo_physician_global": None, "aidai": None}
    values.update(fields)
    return SimpleNamespace(**values)


def _mayo(stool, bleeding, endoscopic, physician):
    return {"mayo": stool + bleeding + endoscopic + physician, "mayo_stool_frequency": stool,
            "mayo_rectal_bleeding": bleeding, "mayo_endoscopic": endoscopic, "mayo_physician_global": physician}


def _calpro(days, value):
    return (DAY + timedelta(days=days), Decimal(value))


CASES = [
    # (diagnosis, visit fields, calprotectins, expected [(label start, value, verdict)])
    # R2.5 CD: HBI ≥ 5 and calprotectin > 250 within ±14 days of the visit.
    ("CD", {"hbi": 6}, [_calpro(10, "300")], [("Treatment failure", None, "failure")]),
    ("CD", {"hbi": 5}, [_calpro(-14, "251")], [("Treatment failure", None, "failure")]),
    ("CD", {"hbi": 4}, [_calpro(0, "900")], [("Treatment failure", None, "no_failure")]),
    ("CD", {"hbi": 9}, [_calpro(0, "250")], [("Treatment failure", None, "no_failure")]),  # not above 250
    ("CD", {"hbi": 9}, [_calpro(15, "900")], [("Treatment failure", None, "not_evaluable")]),  # outside ±14
    ("CD", {"hbi": 9}, [], [("Treatment failure", None, "not_evaluable")]),  # missing never "no failure"
    # The nearest result counts; two equally near: the higher, the safer reading.
    ("CD", {"hbi": 7}, [_calpro(-3, "100"), _calpro(3, "400"), _calpro(10, "50")],
     [("Treatment failure", None, "failure")]),
    ("CD", {}, [_calpro(0, "900")], []),  # no HBI recorded at the visit: nothing to say
    # R1.6: Mayo 2 with no subscore > 1 is remission; partial Mayo = without the endoscopy.
    ("UC", _mayo(1, 0, 1, 0), [], [("Mayo", 2, "remission"), ("Partial Mayo", 1, ""),
                                   ("Treatment failure", None, "no_failure")]),
    ("UC", _mayo(0, 0, 2, 0), [], [("Mayo", 2, ""), ("Partial Mayo", 0, ""),  # a subscore of 2
                                   ("Treatment failure", None, "no_failure")]),
    # R2.5 UC: Mayo > 5 and endoscopic subscore > 1.
    ("UC", _mayo(2, 1, 2, 1), [], [("Mayo", 6, ""), ("Partial Mayo", 4, ""), ("Treatment failure", None, "failure")]),
    ("UC", _mayo(3, 2, 1, 2), [], [("Mayo", 8, ""), ("Partial Mayo", 7, ""),
                                   ("Treatment failure", None, "no_failure")]),  # endoscopic 1
    ("UC", _mayo(1, 1, 2, 1), [], [("Mayo", 5, ""), ("Partial Mayo", 3, ""),
                                   ("Treatment failure", None, "no_failure")]),  # Mayo 5, not above
    # A Mayo total entered without its subscores: no partial Mayo, and R2.5 cannot be judged.
    ("UC", {"mayo": 7, "mayo_entered": 7}, [], [("Mayo", 7, ""), ("Treatment failure", None, "not_evaluable")]),
    # Subscores and an entered total that differ: the computed value is used (and said, below).
    ("UC", {**_mayo(1, 0, 1, 0), "mayo_entered": 5}, [], [
        ("Mayo", 2, "remission"), ("Partial Mayo", 1, ""), ("Treatment failure", None, "no_failure")]),
    # R1.7: 9 or more "yes" answers is active.
    ("AID", {"aidai": 9}, [], [("AIDAI", 9, "active")]),
    ("AID", {"aidai": 8}, [], [("AIDAI", 8, "inactive")]),
    ("AID", {"aidai": 0}, [], [("AIDAI", 0, "inactive")]),
]


@pytest.mark.parametrize(("diagnosis", "fields", "calprotectins", "expected"), CASES)
def test_a_visits_other_activity_readings(diagnosis, fields, calprotectins, expected):
    lines = visit_activity(_visit(**fields), diagnosis, calprotectins)
    got = [(line.label, line.value if line.value is None else int(line.value), line.verdict) for line in lines]
    assert [(label.split(" ")[0], value, verdict) for label, value, verdict in got] == [
        (label.split(" ")[0], value, verdict) for label, value, verdict in expected]
    for line in lines:
        assert line.reason and ("R2.5" in line.reason or "R1.6" in line.reason or "R1.7" in line.reason)
        assert bool(line.verdict_label) == bool(line.verdict)


def test_a_stored_score_the_rule_cannot_read_is_still_shown_without_a_verdict():
    lines = visit_activity(_visit(aidai=-1), "AID", [])
    assert [(line.label, line.value, line.verdict, line.reason) for line in lines] == [("AIDAI (R1.7)", -1, "", "")]


def test_an_entered_mayo_total_that_differs_from_its_subscores_is_said():
    lines = visit_activity(_visit(**{**_mayo(1, 0, 1, 0), "mayo_entered": 5}), "UC", [])
    assert lines[0].value == 2 and "Entered Mayo total 5 differs from the computed Mayo 2" in lines[0].reason


@pytest.mark.parametrize(("total", "flagged"), [(None, False), (0, False), (56, False), (Decimal("56"), False),
                                                  (57, True), (60, True)])
def test_a_ses_cd_total_above_56_asks_for_the_segment_scores_to_be_checked(total, flagged):
    checks = ses_cd_checks(total)
    assert bool(checks) == flagged
    if flagged:
        assert "above 56" in checks[0] and "R1.4" in checks[0]


@pytest.mark.django_db
def test_the_visit_page_shows_the_readings_with_their_reasons_without_another_query(
        client, clinician, make_patient, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from visits.actions import lab_results_record, visit_record

    patient = make_patient(code="GI-ACT1", diagnosis="CD")
    today = date.today()
    visit = visit_record(actor=clinician, patient=patient, date=today - timedelta(days=5), contact="clinic",
                         hbi_entered=7)
    client.force_login(clinician)
    url = reverse("visits:detail", args=[visit.pk])
    with CaptureQueriesContext(connection) as before:
        html = client.get(url).content.decode()
    assert 'data-activity="not_evaluable"' in html and "not evaluable" in html
    lab_results_record(actor=clinician, patient=patient, date=today - timedelta(days=1),
                       lab_values={"calprotectin": Decimal("480")})
    with CaptureQueriesContext(connection) as after:
        html = client.get(url).content.decode()
    assert 'data-activity="failure"' in html and "Treatment failure" in html and "calprotectin 480 µg/g" in html
    assert len(after.captured_queries) == len(before.captured_queries)


@pytest.mark.django_db
def test_an_endoscopy_with_ses_cd_above_56_is_flagged_when_saved_and_on_the_patient_page(
        client, clinician, make_patient):
    patient = make_patient(code="GI-ACT2", diagnosis="CD")
    client.force_login(clinician)
    response = client.post(reverse("visits:endoscopy_create", args=[patient.code]),
                           {"date": (date.today() - timedelta(days=2)).isoformat(), "ses_cd": "58"}, follow=True)
    html = response.content.decode()
    assert "SES-CD 58 is above 56; please check the segment scores (R1.4)." in html  # the save message
    page = client.get(reverse("patients:detail", args=[patient.code])).content.decode()
    assert "data-ses-cd-check" in page and "above 56" in page
