"""R2.6 on the patient page: months 3, 6, 9 and 12 for a child with an autoinflammatory
disease, with the baseline read as R2.1 reads it. Cases worked by hand from clinical-rules.md
(month m: the clinic visit nearest day 30.4375 × m within ±14 days; D1 activity improved,
D2 CRP ≤ 8 and ESR ≤ 20, D3 background therapy reduced or stopped; effective = two met and
none worse). The first tests need no database."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse

from visits.selectors import paediatric_efficacy_rows

START = date(2026, 1, 1)


def _patient(diagnosis="AID", born=date(2016, 5, 1), crp=None, esr=None):
    from patients import demographics

    return SimpleNamespace(diagnosis=diagnosis, crp_at_lor=crp, esr_at_lor=esr,
                           age_on=lambda day: demographics.age_in_years(born, day))


def _visit(day, aidai=None, global_assessment="", background="", contact="clinic"):
    return SimpleNamespace(date=START + timedelta(days=day), contact=contact, aidai=aidai,
                           global_assessment=global_assessment, background_therapy=background)


def _labs(rows):
    """{date: {test: lab}} from (day, crp, esr), values stored to three decimals."""
    found = {}
    for day, crp, esr in rows:
        found[START + timedelta(days=day)] = {
            "crp": SimpleNamespace(value=Decimal(crp).quantize(Decimal("0.001"))),
            "esr": SimpleNamespace(value=Decimal(esr).quantize(Decimal("0.001"))),
        }
    return found


COURSE = SimpleNamespace(start_date=START)
# Baseline visit on day −7: AIDAI 12, CRP 20, ESR 40 (abnormal).
VISITS = [
    _visit(-7, aidai=12),
    _visit(90, aidai=4, background="reduced"),     # month 3 (window days 78–105): D1, D2, D3 met
    _visit(100, aidai=20, background="increased", contact="phone"),  # a phone contact: never assessed
    _visit(180, aidai=12, background="unchanged"),  # month 6 (169–196): CRP, ESR higher → worse
]
LABS = _labs([(-7, "20", "40"), (90, "5", "10"), (180, "30", "50")])


def test_months_of_a_child_with_an_autoinflammatory_disease():
    rows = paediatric_efficacy_rows(_patient(), COURSE, VISITS, LABS, as_of=START + timedelta(days=400))
    got = [(row["result"].month, row["result"].visit_date, row["result"].status) for row in rows]
    assert got == [
        (3, START + timedelta(days=90), "effective"),
        (6, START + timedelta(days=180), "not_effective"),
        (9, None, "not_evaluable"),   # window closed (days 260–288) with no clinic visit
        (12, None, "not_evaluable"),  # window closed (days 351–379)
    ]
    month_3 = rows[0]["result"].reason
    # Said as the laboratory wrote the values (5, not 5.000), with the baseline beside them.
    assert "CRP 5 mg/L (baseline 20)" in month_3 and "5.000" not in month_3
    assert rows[0]["label"] == "Effective" and rows[1]["label"] == "Not effective"


def test_the_recorded_week_0_crp_and_esr_come_before_the_baseline_visits_results():
    # CRP 6 and ESR 15 recorded at the start: normal at baseline, so normal at month 3 is "not
    # worse", not "met" — D1 and D3 met still make month 3 effective.
    rows = paediatric_efficacy_rows(_patient(crp=Decimal("6.0"), esr=Decimal("15")), COURSE, VISITS, LABS,
                                    as_of=START + timedelta(days=120))
    assert [(row["result"].month, row["result"].status) for row in rows] == [(3, "effective")]
    assert "normal at baseline and still normal" in rows[0]["result"].reason
    assert "baseline 6" in rows[0]["result"].reason


def test_a_month_whose_window_is_open_and_empty_is_not_listed_yet():
    rows = paediatric_efficacy_rows(_patient(), COURSE, VISITS[:1], LABS, as_of=START + timedelta(days=95))
    assert rows == []  # month 3's window (days 78–105) is still open and has no visit yet


@pytest.mark.parametrize(("patient", "course", "listed"), [
    (_patient(born=date(2007, 1, 1)), COURSE, True),    # 19 at the start: R2.6 sets no age limit
    (_patient(born=date(2016, 1, 2)), COURSE, True),    # a child
    (_patient(diagnosis="CD"), COURSE, False),          # not an autoinflammatory disease
    (_patient(diagnosis="UC"), COURSE, False),
    (_patient(), None, False),                          # no thalidomide course
    (_patient(), SimpleNamespace(start_date=None), False),
])
def test_every_patient_with_an_autoinflammatory_disease_on_thalidomide_gets_the_months(patient, course, listed):
    rows = paediatric_efficacy_rows(patient, course, VISITS, LABS, as_of=START + timedelta(days=400))
    assert bool(rows) == listed


def test_a_disease_assessed_by_global_assessment_alone_keeps_its_baseline_results():
    """No AIDAI anywhere (a disease without a validated score): the baseline CRP and ESR are
    the latest results from day −14 to 0 all the same. Month 3: global assessment improved
    (D1 met), CRP 5 and ESR 10 after 20 and 40 (D2 met), therapy unchanged (D3 not worse):
    effective."""
    visits = [_visit(-7), _visit(90, global_assessment="improved", background="unchanged")]
    labs = _labs([(-10, "30", "60"), (-7, "20", "40"), (90, "5", "10")])
    rows = paediatric_efficacy_rows(_patient(), COURSE, visits, labs, as_of=START + timedelta(days=120))
    assert [(row["result"].month, row["result"].status) for row in rows] == [(3, "effective")]
    assert "CRP 5 mg/L (baseline 20)" in rows[0]["result"].reason  # the latest in the window, day −7
    # A result before day −14 is not a baseline: D2 cannot be shown met, so not effective either way.
    early = paediatric_efficacy_rows(_patient(), COURSE, visits, _labs([(-15, "20", "40"), (90, "5", "10")]),
                                     as_of=START + timedelta(days=120))
    assert early[0]["result"].status == "not_evaluable" and "baseline not recorded" in early[0]["result"].reason


def test_a_month_whose_window_is_open_is_provisional_until_it_closes():
    # Month 3's window is days 78–105 (day 91.3125 ± 14).
    for day, provisional in ((95, True), (105, True), (106, False)):
        rows = paediatric_efficacy_rows(_patient(), COURSE, VISITS, LABS, as_of=START + timedelta(days=day))
        assert rows[0]["result"].month == 3 and rows[0]["provisional"] is provisional


@pytest.mark.django_db
def test_the_patient_page_shows_the_months_without_another_query(client, clinician, make_patient):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from therapy.actions import historical_course_save
    from visits.actions import lab_results_record, visit_record

    today = date.today()
    start = today - timedelta(days=120)
    patient = make_patient(code="GI-PAED1", diagnosis="AID", aid_type="Blau", montreal_location="", montreal_behavior="",
                           birth_date=today - timedelta(days=9 * 365))
    historical_course_save(actor=clinician, patient=patient, start_date=start)
    visit_record(actor=clinician, patient=patient, date=start - timedelta(days=5), contact="clinic", aidai=14)
    lab_results_record(actor=clinician, patient=patient, date=start - timedelta(days=5),
                       lab_values={"crp": Decimal("25"), "esr": Decimal("35")})
    client.force_login(clinician)
    url = reverse("patients:detail", args=[patient.code])
    with CaptureQueriesContext(connection) as before:
        html = client.get(url).content.decode()
    # Day 120: month 3's window (days 78–105) has closed without a clinic visit.
    assert 'data-paed-month="3" data-paed-status="not_evaluable"' in html
    visit_record(actor=clinician, patient=patient, date=start + timedelta(days=91), contact="clinic", aidai=3,
                 background_therapy="stopped")
    lab_results_record(actor=clinician, patient=patient, date=start + timedelta(days=91),
                       lab_values={"crp": Decimal("4"), "esr": Decimal("12")})
    with CaptureQueriesContext(connection) as after:
        html = client.get(url).content.decode()
    assert 'data-paed-month="3" data-paed-status="effective"' in html
    assert "data-provisional" not in html  # day 120: month 3's window closed on day 105
    assert "Efficacy at months 3, 6, 9 and 12 (R2.6)" in html
    assert len(after.captured_queries) == len(before.captured_queries)
