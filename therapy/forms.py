"""Forms of the dosing pages: input shape only; the rules are in titration.py."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.urls import reverse
from django.utils import timezone

from patients.forms import DateInput, iso_dates_only
from thalimon.forms import not_in_future
from therapy.models import Drug, PregnancyResult, Regimen
from visits.models import Contact


def override_cleaned(form, cleaned):
    """An override needs its reason; without the box ticked a reason typed is dropped (R3.5, R9.3)."""
    if cleaned.get("override") and not (cleaned.get("override_reason") or "").strip():
        form.add_error("override_reason", "Override reason: write why the rules are overridden.")
    if not cleaned.get("override"):
        cleaned["override_reason"] = ""
    return cleaned


class DoseChangeForm(forms.Form):
    drug = forms.ChoiceField(choices=Drug.choices, initial=Drug.THALIDOMIDE)
    date = forms.DateField(label="Date of the change", widget=DateInput())
    dose_mg = forms.DecimalField(
        label="New dose (mg/day)", min_value=0, max_value=400, decimal_places=1,
        help_text="0 = stop. Thalidomide: multiples of 25 mg (adult) or 12.5 mg (paediatric).",
    )
    reason = forms.CharField(max_length=200, required=False, help_text="e.g. scheduled step, neuropathy grade 1")
    override = forms.BooleanField(
        label="Override the dosing rules", required=False,
        help_text="Only when the change is clinically necessary despite the rules explained above.",
    )
    override_reason = forms.CharField(
        label="Override reason", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, patient, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        check_url = reverse("therapy:dose_check", args=[patient.code])
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Proposed change",
                Div(
                    Row(
                        Column("drug", css_class="col-md-3"),
                        Column("date", css_class="col-md-3"),
                        Column("dose_mg", css_class="col-md-3"),
                        Column("reason", css_class="col-md-3"),
                    ),
                    # Only the proposed change re-checks (events bubble from its inputs): typing
                    # the override reason must not re-render what is being typed.
                    **{
                        "hx-post": check_url,
                        "hx-trigger": "input changed delay:300ms, change",
                        "hx-target": "#dose-check",
                        "hx-include": "closest form",
                    },
                ),
            ),
            Div(HTML('{% include "therapy/_dose_check.html" %}'), css_id="dose-check", **{"aria-live": "polite"}),
            # Shown only when the check finds a rule an override may pass (the live check swaps it).
            HTML('{% include "therapy/_override_fields.html" %}'),
            Submit("save", "Record dose change"),
        )

    def clean_date(self):
        return not_in_future(self.cleaned_data.get("date"), "Date of the change")

    def clean(self):
        return override_cleaned(self, super().clean())


class TherapyStartForm(forms.Form):
    start_date = forms.DateField(label="Start date (day 0)", widget=DateInput())
    dose_mg = forms.DecimalField(
        label="First dose (mg/day)", min_value=Decimal("12.5"), max_value=100, decimal_places=1,
        help_text="Adult: 25 mg (R3.2). Paediatric: at most 25 mg and the weight cap (R3.3).",
    )
    target_dose_mg = forms.DecimalField(
        label="Target dose (mg/day)", required=False, min_value=0, max_value=100, decimal_places=1,
        help_text="Adult 50–100 (default 100). Paediatric: leave empty for the R3.3 cap.",
    )
    regimen = forms.ChoiceField(
        choices=[("", "From age at the start (R3.1)"), *Regimen.choices], required=False
    )
    regimen_reason = forms.CharField(max_length=200, required=False)
    consent_signed_date = forms.DateField(
        label="Teratogenicity consent signed on", required=False, widget=DateInput()
    )
    contraception_counselling_date = forms.DateField(
        label="Contraception counselling on", required=False, widget=DateInput(),
        help_text="Female of reproductive potential (R5.3).",
    )
    override_reason = forms.CharField(
        label="Checklist override reason (only if the checklist is incomplete)", required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Covers this start only, never a later restart.",
    )
    dose_override_reason = forms.CharField(
        label="First-dose override reason (only if the dose check above shows deviations)", required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, patient, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("start_date", timezone.localdate())
        initial.setdefault("dose_mg", 25)
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        self.helper = FormHelper()
        self.helper.form_tag = False
        rows = [
            Row(
                Column("start_date", css_class="col-md-4"),
                Column("dose_mg", css_class="col-md-4"),
                Column("target_dose_mg", css_class="col-md-4"),
            ),
            Row(Column("regimen", css_class="col-md-4"), Column("regimen_reason", css_class="col-md-8")),
            Row(
                Column("consent_signed_date", css_class="col-md-4"),
                Column("contraception_counselling_date", css_class="col-md-4")
                if patient.is_female_of_reproductive_potential
                else Column(css_class="col-md-4"),
            ),
        ]
        if not patient.is_female_of_reproductive_potential:
            del self.fields["contraception_counselling_date"]
        self.helper.layout = Layout(
            Fieldset("First thalidomide dose", *rows),
            Div(HTML('{% include "therapy/_dose_check.html" %}'), css_id="dose-check"),
            Fieldset("Overrides", "override_reason", "dose_override_reason"),
            Submit("save", "Start thalidomide"),
        )


class PregnancyTestForm(forms.Form):
    date = forms.DateField(label="Test date", widget=DateInput())
    result = forms.ChoiceField(choices=PregnancyResult.choices, widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("date", css_class="col-md-4"), Column("result", css_class="col-md-4")),
            Submit("save", "Record pregnancy test"),
        )


class ContraceptionForm(forms.Form):
    date = forms.DateField(widget=DateInput())
    contact = forms.ChoiceField(choices=Contact.choices, initial=Contact.PHONE)
    confirmed = forms.TypedChoiceField(
        label="Contraception confirmed",
        choices=[("yes", "Yes — using contraception as agreed"), ("no", "No — not using it")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("date", css_class="col-md-4"),
                Column("contact", css_class="col-md-4"),
                Column("confirmed", css_class="col-md-4"),
            ),
            Submit("save", "Record confirmation"),
        )


YES_NO = [("yes", "Yes"), ("no", "No")]


class PrescriptionForm(forms.Form):
    """A thalidomide prescription (R9.3). The rules are checked live (therapy:prescription_check)
    and by the action; the form takes the input's shape only. ``facts`` (from
    therapy.selectors.prescription_facts) give the limits the page states."""

    issue_date = forms.DateField(label="Issue date", widget=DateInput())
    dose_mg = forms.DecimalField(label="Daily dose (mg/day)", min_value=Decimal("0.5"), max_value=400, decimal_places=1)
    days_supply = forms.IntegerField(label="Days of supply", min_value=1, max_value=366)
    contraception_confirmed = forms.TypedChoiceField(
        label="Contraception confirmed at this prescription", choices=YES_NO, coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    authorisation = forms.CharField(label="Authorisation number", max_length=60, required=False)
    change_dose = forms.BooleanField(
        label="This is a dose change: record it on the issue date too", required=False,
        help_text="The new dose is checked by the dosing rules (R3.5) and the prescription is written at it, "
                  "in one step.",
    )
    reason = forms.CharField(label="Reason for the dose change", max_length=200, required=False,
                             help_text="e.g. scheduled step")
    override = forms.BooleanField(
        label="Override the rules", required=False,
        help_text="Only when the prescription is clinically necessary despite the rules explained above.",
    )
    override_reason = forms.CharField(label="Override reason", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, patient, facts, check_url, editing=False, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("issue_date", timezone.localdate())
        if facts["dose_in_force"]:
            initial.setdefault("dose_mg", facts["dose_in_force"])
        initial.setdefault("days_supply", facts["max_days"])
        super().__init__(*args, **kwargs)
        self.facts = facts
        self.fields["days_supply"].help_text = (
            f"At most {facts['max_days']} days for this patient ({facts['category_text']}, {facts['programme_title']})."
        )
        self.fields["dose_mg"].help_text = (
            f"Dose in force: {facts['dose_in_force_text']}. Made from {facts['unit_text']}."
        )
        if facts["authorisation_required"]:
            # Required by the programme: its absence is the check's ``authorisation_missing``
            # (R9.3), refused unless overridden with a reason — not a bare form error.
            self.fields["authorisation"].label = "Authorisation number (REMS)"
            self.fields["authorisation"].help_text = "Required by the REMS programme."
        else:
            self.fields["authorisation"].help_text = "If the programme's pharmacy gives one (not required here)."
        self.asks_contraception = facts["asks_contraception"]
        if not self.asks_contraception:
            del self.fields["contraception_confirmed"]
        if editing or not facts["dose_in_force"]:
            del self.fields["change_dose"], self.fields["reason"]
        iso_dates_only(self)
        self.helper = FormHelper()
        self.helper.form_tag = False
        prescribed = [
            Row(Column("issue_date", css_class="col-md-3"), Column("dose_mg", css_class="col-md-4"),
                Column("days_supply", css_class="col-md-5")),
            Row(
                Column("contraception_confirmed", css_class="col-md-5") if self.asks_contraception else Column(
                    HTML('<p class="small text-body-secondary">Contraception is not asked: '
                         'female not of reproductive potential (R5.1).</p>'), css_class="col-md-5"),
                Column("authorisation", css_class="col-md-4"),
            ),
        ]
        if "change_dose" in self.fields:
            prescribed.append(Row(Column("change_dose", css_class="col-md-7"), Column("reason", css_class="col-md-5")))
        self.helper.layout = Layout(
            Fieldset(
                "Prescription",
                # Every input re-checks live (events bubble from the inputs); the override box does not.
                Div(*prescribed, **{"hx-post": check_url, "hx-trigger": "input changed delay:300ms, change",
                                    "hx-target": "#prescription-check", "hx-include": "closest form"}),
            ),
            Div(HTML('{% include "therapy/_prescription_check.html" %}'), css_id="prescription-check",
                **{"aria-live": "polite"}),
            HTML('{% include "therapy/_override_fields.html" %}'),
            Submit("save", "Save prescription" if editing else "Issue prescription"),
        )

    def clean_issue_date(self):
        return not_in_future(self.cleaned_data.get("issue_date"), "Issue date")

    def clean(self):
        cleaned = override_cleaned(self, super().clean())
        cleaned.setdefault("contraception_confirmed", False)
        if not self.asks_contraception:
            cleaned["contraception_confirmed"] = False
        return cleaned


class DispenseForm(forms.Form):
    dispensed_date = forms.DateField(label="Dispensed on", widget=DateInput())
    late_reason = forms.CharField(
        label="Only if dispensed after the dispense-by date: why", required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded with “Dispensed too late”. Leave empty otherwise.",
    )

    def __init__(self, *args, late=False, **kwargs):
        """``late``: the prescription is past its dispense-by date, so the form asks why."""
        kwargs.setdefault("initial", {}).setdefault("dispensed_date", timezone.localdate())
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        if late:
            self.fields["late_reason"].required = True
            self.fields["late_reason"].label = "Why it was dispensed after its dispense-by date"
        else:
            del self.fields["late_reason"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("dispensed_date", css_class="col-md-5")),
            *(["late_reason"] if late else []),
            Submit("save", "Record the late dispensing" if late else "Record dispensing"),
        )

    def clean_dispensed_date(self):
        return not_in_future(self.cleaned_data.get("dispensed_date"), "Dispensed on")
