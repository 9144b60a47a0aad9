"""Field errors name the field and what it accepts (issue 15): never Django's generic
"Ensure this value is greater than or equal to 0" (thalimon.forms.name_field_limits)."""

import pytest
from django import forms

from patients.forms import PatientForm
from safety.forms import AdverseEventForm, DecisionForm
from thalimon.forms import name_field_limits
from therapy.forms import DoseChangeForm, TherapyStartForm
from visits.forms import EndoscopyForm, LabPanelForm

GENERIC = ("Ensure this value", "Enter a number.", "Enter a whole number.", "Ensure that there are")


class Sample(forms.Form):
    weight = forms.DecimalField(label="Weight (kg)", min_value=1, max_value=400, decimal_places=1)
    stools = forms.IntegerField(min_value=0)
    note = forms.CharField(label="Note", min_length=10, max_length=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_field_limits(self)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"weight": "-3"}, "weight", "Weight (kg): enter a value from 1 to 400."),
    ({"weight": "500"}, "weight", "Weight (kg): enter a value from 1 to 400."),
    ({"weight": "abc"}, "weight", "Weight (kg): enter a number from 1 to 400."),
    ({"weight": "70.25"}, "weight", "Weight (kg): at most 1 decimal place(s)."),
    ({"stools": "-1"}, "stools", "Stools: enter a value of at least 0."),
    ({"stools": "1.5"}, "stools", "Stools: enter a whole number of at least 0."),
    ({"note": "short"}, "note", "Note: write at least 10 characters (now 5)."),
])
def test_a_number_or_text_out_of_range_names_the_field_and_its_range(data, field, message):
    form = Sample(data)
    assert not form.is_valid()
    assert form.errors[field] == [message]


FORMS = [
    (DoseChangeForm, {"dose_mg": "-5"}, "dose_mg"),
    (TherapyStartForm, {"target_dose_mg": "-5"}, "target_dose_mg"),
    (LabPanelForm, {"lab_crp": "-5"}, "lab_crp"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "data", "field"), FORMS, ids=[f[0].__name__ for f in FORMS])
def test_the_clinic_forms_say_which_field_and_what_range(make_patient, form_class, data, field):
    form = form_class(data, patient=make_patient())
    assert not form.is_valid()
    [message] = form.errors[field]
    assert str(form.fields[field].label) in message and not message.startswith(GENERIC)


@pytest.mark.django_db
def test_model_form_limits_come_from_the_model_validators(make_patient):
    form = AdverseEventForm({"grade": "9"}, patient=make_patient())  # a choice: names the field too
    assert not form.is_valid()
    assert form.errors["grade"][0].startswith(str(form.fields["grade"].label)), form.errors["grade"]
    endoscopy = EndoscopyForm({"rutgeerts": "9"}, patient=make_patient(code="GI-0731"))
    if "rutgeerts" in endoscopy.fields:
        endoscopy.is_valid()
        assert not any(m.startswith(GENERIC) for m in endoscopy.errors.get("rutgeerts", []))


def test_the_decision_form_names_its_minimum_length():
    form = DecisionForm({"decision": "ok"})
    assert form.errors["decision"] == ["Clinical decision: write at least 10 characters (now 2)."]


@pytest.mark.django_db
def test_the_patient_form_has_no_generic_number_message():
    form = PatientForm({"height_cm": "-1", "baseline_cdai": "-4"})
    form.is_valid()
    messages = [m for name in ("height_cm", "baseline_cdai") if name in form.fields for m in form.errors.get(name, [])]
    assert messages and not any(m.startswith(GENERIC) for m in messages)


@pytest.mark.django_db
def test_a_model_range_message_with_its_unit_is_kept():
    form = PatientForm({"height_cm": "-1"})
    form.is_valid()
    assert form.errors["height_cm"] == ["Height must be between 40 and 250 cm."]
