"""Safety forms: input shape only."""

from functools import lru_cache

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from patients.forms import DateInput, iso_dates_only
from safety import data_checks
from safety.kinds import REMINDER_KINDS
from safety.models import AdverseEvent
from thalimon import saying
from thalimon.forms import name_field_limits

URGENT, ALERTS = "urgent", "alerts"
# How the inbox orders the rows of each section (oldest due first by default).
INBOX_SORTS = {
    "": gettext_lazy("Due date"), "code": gettext_lazy("Patient code"),
    "last_visit": gettext_lazy("Last visit (longest ago first)"),
}


class InboxFilterForm(forms.Form):
    """The inbox's filters. Its four widgets are written once per language and set of values
    (``widgets_html``): Django renders a select through a template per option, a tenth of
    the inbox's time for the same HTML every time."""

    kind = forms.ChoiceField(
        choices=[("", gettext_lazy("All kinds")), (URGENT, gettext_lazy("Urgent events")),
                 (ALERTS, gettext_lazy("Review alerts (R4.4)")), (gettext_lazy("Reminders"), REMINDER_KINDS)],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    patient = forms.CharField(
        label=gettext_lazy("Patient code"), required=False, max_length=32,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": gettext_lazy("e.g. DEMO-004")}),
    )
    mine = forms.BooleanField(label=gettext_lazy("Only my patients"), required=False)
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort each section by"), required=False, choices=list(INBOX_SORTS.items()),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    FIELDS = ("kind", "patient", "sort", "mine")

    def widgets_html(self):
        """{field: its widget's HTML} for this form's submitted values (the same HTML Django
        writes), remembered per language and values."""
        data = self.data if self.is_bound else {}
        key = tuple((name, tuple(data.getlist(name)) if hasattr(data, "getlist") else data.get(name))
                    for name in self.FIELDS)
        return _widgets_html(get_language(), key)


@lru_cache(maxsize=512)
def _widgets_html(language, key):
    values = {}
    for name, value in key:
        if isinstance(value, tuple):
            if value:
                values[name] = value[-1]
        elif value is not None:
            values[name] = value
    form = InboxFilterForm(values or None)
    return {name: str(form[name]) for name in InboxFilterForm.FIELDS}


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
            self.fields["grade"].help_text = _(
                "Latest visit neuropathy grade: %(grade)s on %(date)s — for peripheral neuropathy use the same grade."
            ) % {"grade": latest.neuropathy_grade, "date": saying.day(latest.date)}
            if not self.instance.pk and self.initial.get("term") == "peripheral_neuropathy" and not self.initial.get("grade"):
                self.initial["grade"] = max(latest.neuropathy_grade, 1)
        if not self.instance.pk:
            self.initial.setdefault("onset", timezone.localdate())
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("Event (R6)"),
                Row(Column("term", css_class="col-md-6"), Column("term_text", css_class="col-md-6")),
                Row(
                    Column("onset", css_class="col-md-3"),
                    Column("grade", css_class="col-md-3"),
                    Column("drug", css_class="col-md-3"),
                    Column("serious", "hospitalised", css_class="col-md-3"),
                ),
            ),
            Fieldset(
                _("Action taken"),
                Row(
                    Column("action_thalidomide", css_class="col-md-4"),
                    Column("action_azathioprine", css_class="col-md-4"),
                    Column("resolved", css_class="col-md-4"),
                ),
            ),
            Submit("save", _("Save adverse event")),
        )

    def clean(self):
        """R3.4: an open neuropathy event while the latest grade is 0 is saved, with the data-quality
        warning in ``self.data_check`` (the view shows it): an adverse event is never refused for it."""
        cleaned = super().clean()
        self.data_check = None
        if cleaned.get("term") == data_checks.NEUROPATHY_EVENT and cleaned.get("onset"):
            grades = self.instance.patient.visits.filter(
                contact="clinic", neuropathy_grade__isnull=False
            ).values_list("date", "neuropathy_grade")
            self.data_check = data_checks.neuropathy_event_at_grade_0(
                grades=list(grades),
                events=[data_checks.Event(data_checks.NEUROPATHY_EVENT, cleaned["onset"], cleaned.get("resolved"))],
                as_of=timezone.localdate(),
            )
        return cleaned


class AdverseEventNoteForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Row(Column("date", css_class="col-md-3"), Column("note", css_class="col-md-9")),
                                    Submit("save", _("Add follow-up note")))


class DecisionForm(forms.Form):
    """A clinician's recorded decision that closes an urgent event or dismisses a reminder."""

    decision = forms.CharField(
        label=gettext_lazy("Clinical decision"), min_length=10, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": gettext_lazy(
            "e.g. Thalidomide stopped on 2026-12-01, patient referred to obstetrics")}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_field_limits(self)
