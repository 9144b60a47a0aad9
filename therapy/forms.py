"""Forms of the dosing pages: input shape only; the rules are in titration.py."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients.forms import DateInput, iso_dates_only
from thalimon.forms import not_in_future
from therapy.models import Drug, PregnancyResult, Regimen
from visits.models import Contact


def override_cleaned(form, cleaned):
    """An override needs its reason; without the box ticked a reason typed is dropped (R3.5, R9.3)."""
    if cleaned.get("override") and not (cleaned.get("override_reason") or "").strip():
        form.add_error("override_reason", gettext("Override reason: write why the rules are overridden."))
    if not cleaned.get("override"):
        cleaned["override_reason"] = ""
    return cleaned


class DoseChangeForm(forms.Form):
    drug = forms.ChoiceField(label=_("Drug"), choices=Drug.choices, initial=Drug.THALIDOMIDE)
    date = forms.DateField(label=_("Date of the change"), widget=DateInput())
    dose_mg = forms.DecimalField(
        label=_("New dose (mg/day)"), min_value=0, max_value=400, decimal_places=1,
        help_text=_("0 = stop. Thalidomide: multiples of 25 mg (adult) or 12.5 mg (paediatric)."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=200, required=False, help_text=_("e.g. scheduled step, neuropathy grade 1")
    )
    override = forms.BooleanField(
        label=_("Override the dosing rules"), required=False,
        help_text=_("Only when the change is clinically necessary despite the rules explained above."),
    )
    override_reason = forms.CharField(
        label=_("Override reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
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
                _("Proposed change"),
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
            Submit("save", _("Record dose change")),
        )

    def clean_date(self):
        return not_in_future(self.cleaned_data.get("date"), _("Date of the change"))

    def clean(self):
        return override_cleaned(self, super().clean())


class TherapyStartForm(forms.Form):
    start_date = forms.DateField(label=_("Start date (day 0)"), widget=DateInput())
    dose_mg = forms.DecimalField(
        label=_("First dose (mg/day)"), min_value=Decimal("12.5"), max_value=100, decimal_places=1,
        help_text=_("Adult: 25 mg (R3.2). Paediatric: at most 25 mg and the weight cap (R3.3)."),
    )
    target_dose_mg = forms.DecimalField(
        label=_("Target dose (mg/day)"), required=False, min_value=0, max_value=100, decimal_places=1,
        help_text=_("Adult 50–100 (default 100). Paediatric: leave empty for the R3.3 cap."),
    )
    regimen = forms.ChoiceField(
        label=_("Regimen"), choices=[("", _("From age at the start (R3.1)")), *Regimen.choices], required=False
    )
    regimen_reason = forms.CharField(label=_("Regimen reason"), max_length=200, required=False)
    consent_signed_date = forms.DateField(
        label=_("Teratogenicity consent signed on"), required=False, widget=DateInput()
    )
    contraception_counselling_date = forms.DateField(
        label=_("Contraception counselling on"), required=False, widget=DateInput(),
        help_text=_("Female of reproductive potential (R5.3)."),
    )
    override_reason = forms.CharField(
        label=_("Checklist override reason (only if the checklist is incomplete)"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Covers this start only, never a later restart."),
    )
    dose_override_reason = forms.CharField(
        label=_("First-dose override reason (only if the dose check above shows deviations)"), required=False,
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
            Fieldset(_("First thalidomide dose"), *rows),
            Div(HTML('{% include "therapy/_dose_check.html" %}'), css_id="dose-check"),
            Fieldset(_("Overrides"), "override_reason", "dose_override_reason"),
            Submit("save", _("Start thalidomide")),
        )


class PregnancyTestForm(forms.Form):
    date = forms.DateField(label=_("Test date"), widget=DateInput())
    result = forms.ChoiceField(label=_("Result"), choices=PregnancyResult.choices, widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("date", css_class="col-md-4"), Column("result", css_class="col-md-4")),
            Submit("save", _("Record pregnancy test")),
        )


class ContraceptionForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    contact = forms.ChoiceField(label=_("Contact"), choices=Contact.choices, initial=Contact.PHONE)
    confirmed = forms.TypedChoiceField(
        label=_("Contraception confirmed"),
        choices=[("yes", _("Yes — using contraception as agreed")), ("no", _("No — not using it"))],
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
            Submit("save", _("Record confirmation")),
        )


YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class PrescriptionForm(forms.Form):
    """A thalidomide prescription (R9.3). The rules are checked live (therapy:prescription_check)
    and by the action; the form takes the input's shape only. ``facts`` (from
    therapy.selectors.prescription_facts) give the limits the page states."""

    issue_date = forms.DateField(label=_("Issue date"), widget=DateInput())
    dose_mg = forms.DecimalField(label=_("Daily dose (mg/day)"), min_value=Decimal("0.5"), max_value=400, decimal_places=1)
    days_supply = forms.IntegerField(label=_("Days of supply"), min_value=1, max_value=366)
    contraception_confirmed = forms.TypedChoiceField(
        label=_("Contraception confirmed at this prescription"), choices=YES_NO, coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    authorisation = forms.CharField(label=_("Authorisation number"), max_length=60, required=False)
    change_dose = forms.BooleanField(
        label=_("This is a dose change: record it on the issue date too"), required=False,
        help_text=_("The new dose is checked by the dosing rules (R3.5) and the prescription is written at it, "
                    "in one step."),
    )
    reason = forms.CharField(label=_("Reason for the dose change"), max_length=200, required=False,
                             help_text=_("e.g. scheduled step"))
    override = forms.BooleanField(
        label=_("Override the rules"), required=False,
        help_text=_("Only when the prescription is clinically necessary despite the rules explained above."),
    )
    override_reason = forms.CharField(label=_("Override reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, patient, facts, check_url, editing=False, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("issue_date", timezone.localdate())
        if facts["dose_in_force"]:
            initial.setdefault("dose_mg", facts["dose_in_force"])
        initial.setdefault("days_supply", facts["max_days"])
        super().__init__(*args, **kwargs)
        self.facts = facts
        self.fields["days_supply"].help_text = gettext(
            "At most %(days)s days for this patient (%(category)s, %(programme)s)."
        ) % {"days": facts["max_days"], "category": facts["category_text"], "programme": facts["programme_title"]}
        self.fields["dose_mg"].help_text = gettext("Dose in force: %(dose)s. Made from %(unit)s.") % {
            "dose": facts["dose_in_force_text"], "unit": facts["unit_text"],
        }
        if facts["authorisation_required"]:
            # Required by the programme: its absence is the check's ``authorisation_missing``
            # (R9.3), refused unless overridden with a reason — not a bare form error.
            self.fields["authorisation"].label = _("Authorisation number (REMS)")
            self.fields["authorisation"].help_text = _("Required by the REMS programme.")
        else:
            self.fields["authorisation"].help_text = _("If the programme's pharmacy gives one (not required here).")
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
                    HTML('<p class="small text-body-secondary">{}</p>'.format(gettext(
                        "Contraception is not asked: female not of reproductive potential (R5.1)."))),
                    css_class="col-md-5"),
                Column("authorisation", css_class="col-md-4"),
            ),
        ]
        if "change_dose" in self.fields:
            prescribed.append(Row(Column("change_dose", css_class="col-md-7"), Column("reason", css_class="col-md-5")))
        self.helper.layout = Layout(
            Fieldset(
                _("Prescription"),
                # Every input re-checks live (events bubble from the inputs); the override box does not.
                Div(*prescribed, **{"hx-post": check_url, "hx-trigger": "input changed delay:300ms, change",
                                    "hx-target": "#prescription-check", "hx-include": "closest form"}),
            ),
            Div(HTML('{% include "therapy/_prescription_check.html" %}'), css_id="prescription-check",
                **{"aria-live": "polite"}),
            HTML('{% include "therapy/_override_fields.html" %}'),
            Submit("save", _("Save prescription") if editing else _("Issue prescription")),
        )

    def clean_issue_date(self):
        return not_in_future(self.cleaned_data.get("issue_date"), _("Issue date"))

    def clean(self):
        cleaned = override_cleaned(self, super().clean())
        cleaned.setdefault("contraception_confirmed", False)
        if not self.asks_contraception:
            cleaned["contraception_confirmed"] = False
        return cleaned


class DispenseForm(forms.Form):
    dispensed_date = forms.DateField(label=_("Dispensed on"), widget=DateInput())
    late_reason = forms.CharField(
        label=_("Only if dispensed after the dispense-by date: why"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded with “Dispensed too late”. Leave empty otherwise."),
    )

    def __init__(self, *args, late=False, **kwargs):
        """``late``: the prescription is past its dispense-by date, so the form asks why."""
        kwargs.setdefault("initial", {}).setdefault("dispensed_date", timezone.localdate())
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        if late:
            self.fields["late_reason"].required = True
            self.fields["late_reason"].label = _("Why it was dispensed after its dispense-by date")
        else:
            del self.fields["late_reason"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("dispensed_date", css_class="col-md-5")),
            *(["late_reason"] if late else []),
            Submit("save", _("Record the late dispensing") if late else _("Record dispensing")),
        )

    def clean_dispensed_date(self):
        return not_in_future(self.cleaned_data.get("dispensed_date"), _("Dispensed on"))
