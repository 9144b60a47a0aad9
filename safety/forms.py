"""Safety forms: input shape only."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.utils import timezone

from patients.forms import DateInput, iso_dates_only
from safety.kinds import REMINDER_KINDS
from safety.models import AdverseEvent
from thalimon.forms import name_field_limits

URGENT, ALERTS = "urgent", "alerts"
# How the inbox orders the rows of each section (oldest due first by default).
INBOX_SORTS = {"": "Due date", "code": "Patient code", "last_visit": "Last visit (longest ago first)"}


class InboxFilterForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "All kinds"), (URGENT, "Urgent events"), (ALERTS, "Review alerts (R4.4)"),
                 ("Reminders", REMINDER_KINDS)],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    patient = forms.CharField(
        label="Patient code", required=False, max_length=32,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "e.g. DEMO-004"}),
    )
    mine = forms.BooleanField(label="Only my patients", required=False)
    sort = forms.ChoiceField(
        label="Sort each section by", required=False, choices=list(INBOX_SORTS.items()),
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class AdverseEventForm(forms.ModelForm):
    class Meta:
        model = AdverseEvent
        fields = [
            "term", "term_text", "onset", "grade", "serious", "drug",
            "action_thalidomide", "action_azathioprine", "hospitalised", "resolved",
        ]
        widgets = {"onset": DateInput(), "resolved": DateInput()}

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.patient = patient
        iso_dates_only(self)
        latest = (
            patient.visits.filter(contact="clinic", neuropathy_grade__isnull=False).order_by("-date").first()
        )
        if latest is not None:
            # R3.4 / R6: the neuropathy event and the visit's grade are kept consistent:
            # the form proposes the latest visit grade for a peripheral-neuropathy event.
            self.fields["grade"].help_text = (
                f"Latest visit neuropathy grade: {latest.neuropathy_grade} on {latest.date:%Y-%m-%d} — "
                "for peripheral neuropathy use the same grade."
            )
            if not self.instance.pk and self.initial.get("term") == "peripheral_neuropathy" and not self.initial.get("grade"):
                self.initial["grade"] = max(latest.neuropathy_grade, 1)
        if not self.instance.pk:
            self.initial.setdefault("onset", timezone.localdate())
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Event (R6)",
                Row(Column("term", css_class="col-md-6"), Column("term_text", css_class="col-md-6")),
                Row(
                    Column("onset", css_class="col-md-3"),
                    Column("grade", css_class="col-md-3"),
                    Column("drug", css_class="col-md-3"),
                    Column("serious", "hospitalised", css_class="col-md-3"),
                ),
            ),
            Fieldset(
                "Action taken",
                Row(
                    Column("action_thalidomide", css_class="col-md-4"),
                    Column("action_azathioprine", css_class="col-md-4"),
                    Column("resolved", css_class="col-md-4"),
                ),
            ),
            Submit("save", "Save adverse event"),
        )

    def clean(self):
        cleaned = super().clean()
        grade = cleaned.get("grade")
        if cleaned.get("term") == "peripheral_neuropathy" and grade is not None:
            latest = (
                self.instance.patient.visits.filter(contact="clinic", neuropathy_grade__isnull=False)
                .order_by("-date").first()
            )
            if latest is not None and latest.neuropathy_grade == 0 and not cleaned.get("resolved"):
                # R3.4: an open neuropathy event with latest grade 0 is a data-quality problem.
                self.add_error(
                    "grade",
                    f"The latest visit ({latest.date:%Y-%m-%d}) recorded neuropathy grade 0; record the "
                    "current grade at a visit, or give a resolution date.",
                )
        return cleaned


class AdverseEventNoteForm(forms.Form):
    date = forms.DateField(widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Row(Column("date", css_class="col-md-3"), Column("note", css_class="col-md-9")),
                                    Submit("save", "Add follow-up note"))


class DecisionForm(forms.Form):
    """A clinician's recorded decision that closes an urgent event or dismisses a reminder."""

    decision = forms.CharField(
        label="Clinical decision", min_length=10, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "e.g. Thalidomide stopped on 2026-12-01, patient referred to obstetrics"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_field_limits(self)
