"""Patient validation: every bad input is refused with a message naming the
field and what is expected, and a refused save changes nothing."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from patients.actions import patient_create, patient_update
from patients.models import Patient
from tests.conftest import valid_patient_fields

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + timedelta(days=1)

BAD_INPUT = [
    # (case id, overrides, field, words the message must contain)
    ("birth date in the future", {"birth_date": TOMORROW}, "birth_date", "Birth date cannot be in the future"),
    ("height below 40 cm", {"height_cm": 39}, "height_cm", "Height must be between 40 and 250 cm"),
    ("height above 250 cm", {"height_cm": 251}, "height_cm", "Height must be between 40 and 250 cm"),
    ("standard weight 0", {"standard_weight_kg": 0}, "standard_weight_kg", "Standard weight must be between 2 and 250 kg"),
    ("code with spaces (a name?)", {"code": "John Smith"}, "code", "Patient code must be 1–32 letters"),
    ("Montreal location on UC", {"diagnosis": "UC", "montreal_behavior": ""}, "montreal_location", "Crohn's disease only"),
    ("Montreal behaviour on AID", {"diagnosis": "AID", "aid_type": "SAVI", "montreal_location": ""}, "montreal_behavior", "Crohn's disease only"),
    ("L4 on UC", {"diagnosis": "UC", "montreal_location": "", "montreal_behavior": "", "upper_gi": True}, "upper_gi", "Crohn's disease only"),
    ("perianal on UC", {"diagnosis": "UC", "montreal_location": "", "montreal_behavior": "", "perianal": True}, "perianal", "Crohn's disease only"),
    ("ileocolic resection (Rutgeerts) on UC", {"diagnosis": "UC", "montreal_location": "", "montreal_behavior": "", "ileocolic_resection": True}, "ileocolic_resection", "allows Rutgeerts scoring"),
    ("AID without type", {"diagnosis": "AID", "montreal_location": "", "montreal_behavior": ""}, "aid_type", "choose the disease type"),
    ("AID type on CD", {"aid_type": "SAVI"}, "aid_type", "applies to AID only"),
    ("female recorded not of potential without exemption (R5.1)", {"sex": "F", "reproductive_potential": False}, "reproductive_potential", "unless an exemption is recorded"),
    ("female of potential and exempt at once", {"sex": "F", "reproductive_potential": True, "non_reproductive_reason": "hysterectomy"}, "reproductive_potential", "choose one or the other"),
    ("exemption on a male", {"non_reproductive_reason": "hysterectomy"}, "non_reproductive_reason", "female patients only"),
    ("premenarchal male", {"premenarchal": True}, "premenarchal", "female patients only"),
    ("irregular cycles on a male", {"irregular_cycles": True}, "irregular_cycles", "female patients only"),
    ("died without a date", {"status": "died"}, "status_date", "Status date is required"),
    ("status date while active", {"status_date": date(2024, 1, 1)}, "status_date", "only for died, transferred or lost"),
    ("CRP beyond plausible", {"crp_at_lor": 501}, "crp_at_lor", "between 0 and 500 mg/L"),
    ("ESR beyond plausible", {"esr_at_lor": 151}, "esr_at_lor", "between 0 and 150 mm/h"),
    ("6-TGN beyond plausible", {"tgn_on_aza_mono": 3001}, "tgn_on_aza_mono", "between 0 and 3000"),
    ("contraception start in the future", {"sex": "F", "contraception_start": TOMORROW}, "contraception_start", "cannot be in the future"),
]


@pytest.mark.parametrize(
    "overrides, field, words", [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT]
)
def test_bad_input_is_refused_with_a_named_message_and_nothing_saved(clinician, overrides, field, words):
    with pytest.raises(ValidationError) as refused:
        patient_create(actor=clinician, **valid_patient_fields(**overrides))
    errors = refused.value.message_dict
    assert field in errors, errors
    assert any(words in message for message in errors[field]), errors[field]
    assert Patient.objects.count() == 0


def test_valid_patient_is_saved_with_history_by_the_actor(clinician):
    patient = patient_create(actor=clinician, **valid_patient_fields())
    record = patient.history.get()
    assert record.history_type == "+"
    assert record.history_user == clinician


def test_duplicate_code_is_refused(make_patient, clinician):
    make_patient(code="GI-0042")
    with pytest.raises(ValidationError) as refused:
        patient_create(actor=clinician, **valid_patient_fields(code="GI-0042"))
    assert "a patient with this code already exists" in str(refused.value)
    assert Patient.objects.count() == 1


def test_duplicate_code_differing_only_in_case_is_refused(make_patient, clinician):
    make_patient(code="GI-0042")
    with pytest.raises(ValidationError) as refused:
        patient_create(actor=clinician, **valid_patient_fields(code="gi-0042"))
    assert "codes are compared ignoring case" in str(refused.value)
    assert Patient.objects.count() == 1


def test_refused_update_changes_nothing(make_patient, clinician):
    patient = make_patient(height_cm=170)
    with pytest.raises(ValidationError):
        patient_update(actor=clinician, patient=patient, height_cm=20, smoker=True)
    stored = Patient.objects.get(pk=patient.pk)
    assert stored.height_cm == 170
    assert stored.smoker is False
    assert stored.history.count() == 1


def test_database_refuses_montreal_on_uc_even_without_validation(make_patient):
    """The database itself holds the rule (a CheckConstraint), for any writer."""
    from django.db import IntegrityError, transaction

    patient = make_patient()
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(diagnosis="UC")


def test_update_records_the_acting_user_and_the_change(make_patient, make_user):
    from thalimon.roles import CLINICIAN

    patient = make_patient(height_cm=170)
    other = make_user(CLINICIAN, username="dr_other")
    patient_update(actor=other, patient=patient, height_cm=171)
    latest = patient.history.first()
    assert latest.history_user == other
    delta = latest.diff_against(latest.prev_record)
    assert [change.field for change in delta.changes] == ["height_cm"]


@pytest.mark.parametrize(
    "sex, recorded, exemption, premenarchal, expected",
    [
        ("F", None, "", False, True),  # R5.1 default: every female patient
        ("F", True, "", False, True),
        ("F", None, "hysterectomy", False, False),
        ("F", None, "bilateral_oophorectomy", False, False),
        ("F", None, "amenorrhoea_24_months", False, False),
        ("F", None, "", True, False),  # premenarchal
        ("M", None, "", False, False),  # males: the condom rule, not this flag
    ],
)
def test_r5_1_reproductive_potential_on_the_model(clinician, sex, recorded, exemption, premenarchal, expected):
    overrides = {
        "sex": sex,
        "reproductive_potential": recorded,
        "non_reproductive_reason": exemption,
        "premenarchal": premenarchal,
    }
    patient = patient_create(actor=clinician, **valid_patient_fields(**overrides))
    assert patient.is_female_of_reproductive_potential is expected
