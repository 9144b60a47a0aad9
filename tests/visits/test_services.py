"""Visit services: scores stored with the rules version, haematocrit fallback,
statuses of the whole series — on the example datasheet's patient EX01,
worked by hand from clinical-rules.md R1.1, R2.1–R2.3."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from patients.actions import patient_update
from thalimon.rules_config import rules_version
from therapy.actions import course_save, historical_course_save
from visits.actions import endoscopy_record, lab_results_record, visit_record, visit_update
from visits.models import LabResult, Visit

pytestmark = pytest.mark.django_db

# EX01 (tests/fixtures/example_datasheet): male, 172 cm, no standard weight, so
# standard weight = 22.1 × 1.72² = 65.38064 kg (R1.1, unrounded).
EX01_VISITS = [
    # date, contact, weight, S, P, W, C, A, M, Hct
    (date(2021, 2, 1), "clinic", "58.5", 35, 10, 12, 1, False, 2, "38.0"),
    (date(2021, 2, 15), "phone", None, None, None, None, None, None, None, None),
    (date(2021, 3, 1), "clinic", "59.0", 28, 9, 10, 1, False, 0, "39.5"),
    (date(2021, 3, 29), "clinic", "60.1", 14, 4, 6, 0, False, 0, "41.0"),
    (date(2021, 4, 26), "clinic", "61.0", 6, 2, 3, 0, False, 0, "42.5"),
    (date(2021, 7, 19), "clinic", "62.0", 5, 1, 2, 0, False, 0, "43.0"),
    (date(2022, 4, 11), "clinic", "60.0", 30, 12, 14, 1, False, 2, "39.0"),
]
EX01_EXPECTED = {
    # 2S+5P+7W+20C+30A+10M+6(47−Hct)+100(1−wt/65.38064), half up
    date(2021, 2, 1): (309, ""),  # 70+50+84+20+0+20+54+10.524 = 308.52 → 309; day 0: no status, baseline
    date(2021, 2, 15): (None, ""),  # phone contact: no CDAI, no status
    date(2021, 3, 1): (246, "no_response"),  # 56+45+70+20+45+9.759 = 245.76 → 246; Δ 63 < 70
    date(2021, 3, 29): (134, "remission"),  # 28+20+42+36+8.076 = 134.08 → 134; <150, Δ 175
    date(2021, 4, 26): (77, "remission"),  # 12+10+21+27+6.700 = 76.70 → 77
    date(2021, 7, 19): (58, "remission"),  # 10+5+14+24+5.171 = 58.17 → 58
    date(2022, 4, 11): (314, "relapse"),  # 60+60+98+20+20+48+8.230 = 314.23 → 314 > 150 and > nadir 58 + 70 (R2.3)
}


@pytest.fixture
def ex01(make_patient, clinician):
    patient = make_patient(code="EX01", sex="M", birth_date=date(1990, 3, 14), height_cm=172)
    historical_course_save(actor=clinician, patient=patient, start_date=date(2021, 2, 1), target_dose_mg=100)
    for d, contact, weight, s, p, w, c, a, m, hct in EX01_VISITS:
        visit_record(
            actor=clinician,
            patient=patient,
            date=d,
            contact=contact,
            weight_kg=Decimal(weight) if weight else None,
            cdai_stools=s,
            cdai_pain=p,
            cdai_wellbeing=w,
            cdai_complications=c,
            cdai_antidiarrheal=a,
            cdai_mass=m,
            hematocrit=Decimal(hct) if hct else None,
        )
    return patient


def test_ex01_scores_and_statuses_worked_by_hand(ex01):
    got = {v.date: (v.cdai, v.clinical_status) for v in Visit.objects.filter(patient=ex01)}
    assert got == EX01_EXPECTED


def test_stored_results_carry_rule_reason_and_rules_version(ex01):
    visit = Visit.objects.get(patient=ex01, date=date(2021, 3, 29))
    assert visit.cdai_source == "computed"
    assert visit.status_rule == "R2.2"
    assert "134" in visit.status_reason and "remission" in visit.status_reason
    assert visit.rules_version == rules_version()
    relapse = Visit.objects.get(patient=ex01, date=date(2022, 4, 11))
    assert relapse.status_rule == "R2.3" and "58" in relapse.status_reason  # the nadir named


def test_recorded_baseline_changes_every_status(ex01, clinician):
    # R2.1: a recorded baseline CDAI wins over the day-0 visit. With 300,
    # the visit of 2021-03-01 (246) is Δ 54 → still no response; 134 is Δ 166.
    patient_update(actor=clinician, patient=ex01, baseline_cdai=Decimal("200"))
    # Baseline 200: 2021-03-29 134 → Δ 66 < 70 → no response (not remission).
    assert Visit.objects.get(patient=ex01, date=date(2021, 3, 29)).clinical_status == "no_response"


def test_no_course_means_no_statuses(make_patient, clinician):
    patient = make_patient()
    visit = visit_record(actor=clinician, patient=patient, date=date(2024, 1, 1), cdai_entered=Decimal("220"))
    assert visit.cdai == 220 and visit.cdai_source == "entered"
    assert visit.clinical_status == "" and "No thalidomide start" in visit.status_reason


@pytest.mark.parametrize(
    "lab_day, expected_cdai",
    [
        # Male, all items 0 except haematocrit: H = 6 × (47 − 40) = 42; no weight term (std weight 70, weight 70).
        (date(2024, 3, 3), 42),  # 7 days before the visit: counts (R1.1 "in the 7 days up to the visit")
        (date(2024, 3, 10), 42),  # the visit day itself
        (date(2024, 3, 2), None),  # 8 days before: too old → not computable
    ],
)
def test_r1_1_haematocrit_from_the_latest_lab_in_7_days(make_patient, clinician, lab_day, expected_cdai):
    patient = make_patient(standard_weight_kg=Decimal("70"))
    lab_results_record(actor=clinician, patient=patient, date=lab_day, lab_values={"hematocrit": Decimal("40")})
    visit = visit_record(
        actor=clinician, patient=patient, date=date(2024, 3, 10), weight_kg=Decimal("70"),
        cdai_stools=0, cdai_pain=0, cdai_wellbeing=0, cdai_complications=0, cdai_antidiarrheal=False, cdai_mass=0,
    )
    assert visit.cdai == expected_cdai
    if expected_cdai is None:
        assert "haematocrit" in visit.cdai_reason.lower()


def test_a_later_lab_haematocrit_rescored_the_visit(make_patient, clinician):
    patient = make_patient(standard_weight_kg=Decimal("70"))
    visit = visit_record(
        actor=clinician, patient=patient, date=date(2024, 3, 10), weight_kg=Decimal("70"),
        cdai_stools=0, cdai_pain=0, cdai_wellbeing=0, cdai_complications=0, cdai_antidiarrheal=False, cdai_mass=0,
    )
    assert visit.cdai is None
    lab_results_record(actor=clinician, patient=patient, date=date(2024, 3, 8), lab_values={"hematocrit": Decimal("45")})
    visit.refresh_from_db()
    assert visit.cdai == 12  # 6 × (47 − 45)


def test_visit_labs_saved_with_the_visit_and_refused_together(make_patient, clinician):
    patient = make_patient()
    with pytest.raises(ValidationError) as refused:
        visit_record(
            actor=clinician, patient=patient, date=date(2024, 3, 10), cdai_entered=Decimal("200"),
            lab_values={"crp": Decimal("12"), "hemoglobin": Decimal("9.8")},
        )
    assert "expected g/L" in str(refused.value)
    assert not Visit.objects.exists() and not LabResult.objects.exists()


def test_refused_update_changes_nothing(ex01, clinician):
    visit = Visit.objects.get(patient=ex01, date=date(2021, 3, 29))
    with pytest.raises(ValidationError):
        visit_update(actor=clinician, visit=visit, cdai_pain=22, notes="typo")
    visit.refresh_from_db()
    assert visit.cdai_pain == 4 and visit.notes == "" and visit.cdai == 134


def test_history_records_the_actor(ex01, clinician):
    visit = Visit.objects.get(patient=ex01, date=date(2021, 3, 29))
    assert visit.history.first().history_user == clinician


def test_rutgeerts_refused_without_resection(make_patient, clinician):
    patient = make_patient(ileocolic_resection=False)
    with pytest.raises(ValidationError) as refused:
        endoscopy_record(actor=clinician, patient=patient, date=date(2024, 1, 1), rutgeerts=2)
    assert "ileocolonic resection" in str(refused.value)


def test_endoscopy_cdeis_from_segments_and_mucosal_healing(make_patient, clinician):
    patient = make_patient()
    # R1.3: ileum 12 + 0 + 6 + 3 = 21; rectum 0 + 0 + 2 + 0 = 2; A = 23, n = 2 → 11.5; + 3 ulcerated stenosis = 14.5
    endoscopy = endoscopy_record(
        actor=clinician, patient=patient, date=date(2024, 1, 1), ulcerated_stenosis=True,
        cdeis_segments=[
            {"name": "ileum", "deep_ulceration": True, "superficial_ulceration": False, "involved_cm": "6", "ulcerated_cm": "3"},
            {"name": "rectum", "deep_ulceration": False, "superficial_ulceration": False, "involved_cm": "2", "ulcerated_cm": "0"},
        ],
    )
    assert endoscopy.cdeis == Decimal("14.5") and endoscopy.cdeis_source == "computed"
    assert endoscopy.ulceration is True


def test_cdeis_ulcerated_larger_than_involved_is_refused(make_patient, clinician):
    patient = make_patient()
    with pytest.raises(ValidationError) as refused:
        endoscopy_record(
            actor=clinician, patient=patient, date=date(2024, 1, 1),
            cdeis_segments=[{"name": "ileum", "deep_ulceration": False, "superficial_ulceration": True, "involved_cm": "2", "ulcerated_cm": "3"}],
        )
    assert "cannot be larger" in str(refused.value)


def test_changing_sex_or_standard_weight_rescores_every_visit(make_patient, clinician):
    patient = make_patient(standard_weight_kg=Decimal("70"))
    visit = visit_record(
        actor=clinician, patient=patient, date=date(2024, 3, 10), weight_kg=Decimal("70"), hematocrit=Decimal("40"),
        cdai_stools=0, cdai_pain=0, cdai_wellbeing=0, cdai_complications=0, cdai_antidiarrheal=False, cdai_mass=0,
    )
    assert visit.cdai == 42  # male: 6 × (47 − 40)
    patient_update(actor=clinician, patient=patient, sex="F", standard_weight_kg=Decimal("60"))
    visit.refresh_from_db()
    # female: 6 × (42 − 40) = 12; weight term 100 × (1 − 70/60) = −16.7 floored at −10 → 2
    assert visit.cdai == 2


def test_a_historical_course_refuses_a_start_before_birth(make_patient, clinician):
    patient = make_patient()
    with pytest.raises(ValidationError) as refused:
        historical_course_save(actor=clinician, patient=patient, start_date=date(1980, 1, 1))
    assert any("before the patient's birth date" in m for m in refused.value.message_dict["start_date"])


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"regimen": "paediatric", "regimen_reason": "small", "target_dose_mg": Decimal("90")},
         "target_dose_mg", "half-tablet step"),
        ({"target_dose_mg": Decimal("60")}, "target_dose_mg", "50, 75 or 100"),
    ],
)
def test_course_refuses_impossible_values(make_patient, clinician, fields, field, words):
    patient = make_patient()
    historical_course_save(actor=clinician, patient=patient, start_date=date(2024, 1, 1))
    with pytest.raises(ValidationError) as refused:
        course_save(actor=clinician, patient=patient, **fields)
    assert any(words in m for m in refused.value.message_dict[field])
