"""Patient forms: input shape only; the clinical checks live in Patient.clean()."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row, Submit
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients.models import IDENTITY_FIELDS, Diagnosis, Patient, Transfer, site_ids_of
from patients.selectors import LIST_FILTERS, LIST_SORTS
from sites.models import Site
from thalimon.concurrency import VersionedEditMixin, expected_version_field
from thalimon.forms import name_field_limits
from thalimon.roles import CLINICIAN, NURSE
from therapy.actions import COURSE_PAGE_FIELDS, START_BY_CHECKLIST, START_FIELDS
from therapy.models import TherapyCourse


class UnknownYesNo(forms.NullBooleanSelect):
    """A yes/no/unknown select whose labels say what "unknown" means."""

    def __init__(self, unknown=None, yes=None, no=None, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", unknown or _("Unknown")), ("true", yes or _("Yes")), ("false", no or _("No"))]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def iso_dates_only(form):
    """Field messages a person can act on. Dates are ISO only: 03/04/2021 is ambiguous
    (3 April or 4 March?); and every number field names itself and its allowed range
    (``thalimon.forms.name_field_limits``)."""
    name_field_limits(form)
    for name, field in form.fields.items():
        if isinstance(field, forms.DateField):
            field.input_formats = ["%Y-%m-%d"]
            field.error_messages["invalid"] = gettext(
                "%(label)s: enter a date as YYYY-MM-DD, e.g. 2021-03-14."
            ) % {"label": field.label or name}


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.username


class NetworkStaffChoiceField(StaffChoiceField):
    """Staff of any site of the network, each with their site codes (the transfer form)."""

    def label_from_instance(self, user):
        codes = ", ".join(membership.site.code for membership in user.site_memberships.all())
        return f"{super().label_from_instance(user)} ({codes})"


class PatientForm(VersionedEditMixin, forms.ModelForm):
    expected_version = expected_version_field()
    reproductive_potential = forms.NullBooleanField(
        label=_("Reproductive potential"),
        required=False,
        widget=UnknownYesNo(
            unknown=_("R5.1 default (female: yes unless exempt)"),
            no=_("No (exemption recorded below)"),
        ),
        help_text=_("R5.1: every female patient unless an exemption below is recorded."),
    )
    irregular_cycles = forms.NullBooleanField(
        label=_("Irregular cycles"),
        required=False,
        widget=UnknownYesNo(),
        help_text=_(
            "Female patients only. Sets the pregnancy-test interval (R5.2); unknown counts as irregular."
        ),
    )

    class Meta:
        model = Patient
        fields = [
            "code",
            "site",
            "full_name",
            "phone",
            "sex",
            "birth_date",
            "height_cm",
            "standard_weight_kg",
            "diagnosis",
            "aid_type",
            "montreal_location",
            "upper_gi",
            "montreal_behavior",
            "perianal",
            "ileocolic_resection",
            "reproductive_potential",
            "non_reproductive_reason",
            "premenarchal",
            "irregular_cycles",
            "contraception_start",
            "smoker",
            "prior_biologic",
            "xanthine_oxidase_inhibitor",
            "tpmt",
            "nudt15",
            "baseline_cdai",
            "crp_at_lor",
            "esr_at_lor",
            "tgn_on_aza_mono",
            "status",
            "status_date",
            "responsible_clinician",
            "responsible_nurse",
            "care_team_only",
        ]
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "birth_date": DateInput(),
            "contraception_start": DateInput(),
            "status_date": DateInput(),
        }
        # Fields whose model column has no verbose name of its own (adding one would alter the migration).
        labels = {
            "sex": _("Sex"),
            "diagnosis": _("Diagnosis"),
            "premenarchal": _("Premenarchal"),
            "smoker": _("Smoker"),
        }

    def __init__(self, *args, show_identity=True, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The user's sites only (issue 18): the site of a new patient (their only one by
        # default), and the staff of those sites for the care team. The action checks the
        # site again (patients.actions).
        site_ids = site_ids_of(user)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)
        self.fields["site"].empty_label = None if len(site_ids) == 1 else "---------"
        if not self.instance.pk and len(site_ids) == 1:
            self.fields["site"].initial = site_ids[0]
        # With one site there is nothing to choose: left out of a POST, it is that site
        # (a new patient) or the patient's own (an edit).
        self.fields["site"].required = len(site_ids) != 1
        self._only_site = Site.objects.filter(pk=site_ids[0]).first if len(site_ids) == 1 else None
        users = (
            get_user_model().objects.filter(is_active=True, site_memberships__site_id__in=site_ids)
            .distinct().order_by("last_name", "username")
        )
        self.fields["responsible_clinician"] = StaffChoiceField(
            queryset=users.filter(groups__name=CLINICIAN),
            required=False,
            label=_("Responsible clinician"),
        )
        self.fields["responsible_nurse"] = StaffChoiceField(
            queryset=users.filter(groups__name=NURSE), required=False, label=_("Responsible nurse")
        )
        self.fields["diagnosis"].widget.attrs["data-diagnosis-select"] = "1"
        self.fields["expected_version"].initial = self.instance.version
        iso_dates_only(self)
        if not show_identity:
            for name in IDENTITY_FIELDS:
                del self.fields[name]
        if self.instance.pk:
            # The code is the key that datasheets and reminders use; it is not renamed here.
            self.fields["code"].disabled = True
            # A patient moves between sites only by a transfer (patients.actions.patient_transfer).
            self.fields["site"].disabled = True
            self.fields["site"].queryset = Site.objects.filter(pk=self.instance.site_id)
            self.fields["site"].help_text = _("Changed only by a transfer (Transfer on the patient's page).")

        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = patient_layout(show_identity=show_identity)

    def clean_site(self):
        site = self.cleaned_data.get("site")
        if site is None and self._only_site is not None:
            site = self.instance.site if self.instance.pk else self._only_site()
        return site



def patient_layout(*, show_identity):
    """The patient form's sections (names only for the roles that may see them)."""
    identity = [("code", "col-md-3"), ("site", "col-md-3"),
                *([("full_name", "col-md-3"), ("phone", "col-md-3")] if show_identity else [])]
    return Layout(
        "expected_version",
        Fieldset(
            _("Identity"),
            Row(*[Column(name, css_class=css) for name, css in identity]),
            Row(
                Column("sex", css_class="col-md-3"),
                Column("birth_date", css_class="col-md-3"),
                Column("height_cm", css_class="col-md-3"),
                Column("standard_weight_kg", css_class="col-md-3"),
            ),
        ),
        Fieldset(
            _("Diagnosis"),
            Row(Column("diagnosis", css_class="col-md-6"), Column("aid_type", css_class="col-md-6")),
            HTML(
                '<p class="form-text mb-2" data-show-for="CD">'
                + gettext("Montreal classification (Crohn's disease only):")
                + "</p>"
            ),
            Row(
                Column("montreal_location", css_class="col-md-4"),
                Column("montreal_behavior", css_class="col-md-4"),
                Column("upper_gi", "perianal", "ileocolic_resection", css_class="col-md-4"),
            ),
        ),
        Fieldset(
            _("Reproductive status and pregnancy prevention (R5)"),
            Row(
                Column("reproductive_potential", css_class="col-md-6"),
                Column("non_reproductive_reason", css_class="col-md-6"),
            ),
            Row(
                Column("premenarchal", css_class="col-md-4"),
                Column("irregular_cycles", css_class="col-md-4"),
                Column("contraception_start", css_class="col-md-4"),
            ),
        ),
        Fieldset(
            _("Background and genotype"),
            Row(
                Column("smoker", "prior_biologic", "xanthine_oxidase_inhibitor", css_class="col-md-4"),
                Column("tpmt", css_class="col-md-4"),
                Column("nudt15", css_class="col-md-4"),
            ),
        ),
        Fieldset(
            _("Baseline at loss of response"),
            Row(
                Column("baseline_cdai", css_class="col-md-3"),
                Column("crp_at_lor", css_class="col-md-3"),
                Column("esr_at_lor", css_class="col-md-3"),
                Column("tgn_on_aza_mono", css_class="col-md-3"),
            ),
        ),
        Fieldset(
            _("Care team and follow-up"),
            Row(
                Column("responsible_clinician", css_class="col-md-6"),
                Column("responsible_nurse", css_class="col-md-6"),
            ),
            "care_team_only",
            Row(Column("status", css_class="col-md-6"), Column("status_date", css_class="col-md-6")),
        ),
        Submit("save", _("Save patient"), css_class="btn-primary"),
    )


class PatientSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    diagnosis = forms.ChoiceField(
        label=_("Diagnosis"),
        required=False,
        choices=[("", _("All diagnoses")), *Diagnosis.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    show = forms.ChoiceField(
        label=_("Show"), required=False, choices=[("", _("All patients")), *LIST_FILTERS.items()],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    seen_on = forms.DateField(label=_("Seen on"), required=False, widget=DateInput(attrs={"class": "form-control"}))
    sort = forms.ChoiceField(label=_("Sort by"), required=False, widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, show_identity=False, **kwargs):
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        self.fields["sort"].choices = [
            (key, label) for key, (label, _order) in LIST_SORTS.items() if show_identity or key != "name"
        ]


class TransferForm(forms.ModelForm):
    """Record a transfer to another site of the network (issue 18): input shape only; the
    action (``patients.actions.patient_transfer``) refuses a same site, a future date, a
    date before the previous transfer or the first recorded care, and a care team that is
    not of the destination, each naming its field."""

    class Meta:
        model = Transfer
        fields = ["to_site", "date", "reason"]
        widgets = {"date": DateInput(), "reason": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        # Every site of the network is a destination (a forged same-site choice is refused
        # by the action, naming the field); the list offers only the others.
        sites = self.fields["to_site"]
        sites.queryset = Site.objects.all()
        sites.widget.choices = [("", "---------")] + [
            (site.pk, str(site)) for site in Site.objects.exclude(pk=patient.site_id).order_by("code")
        ]
        staff = get_user_model().objects.filter(is_active=True, site_memberships__isnull=False).distinct()
        staff = staff.order_by("last_name", "username").prefetch_related("site_memberships__site")
        self.fields["responsible_clinician"] = NetworkStaffChoiceField(
            queryset=staff.filter(groups__name=CLINICIAN), required=False, label=_("Responsible clinician there"),
            help_text=_("Empty: the current one if a member of the destination, else none."),
        )
        self.fields["responsible_nurse"] = NetworkStaffChoiceField(
            queryset=staff.filter(groups__name=NURSE), required=False, label=_("Responsible nurse there"),
            help_text=_("Empty: the current one if a member of the destination, else none."),
        )
        for name, message in (
            ("to_site", gettext("Destination site: required; choose one of the network's other sites.")),
            ("date", gettext("Transfer date: required.")),
            ("reason", gettext("Reason: required; say why the patient moves (e.g. moved house, referred).")),
        ):
            self.fields[name].error_messages["required"] = message
        self.fields["to_site"].error_messages["invalid_choice"] = gettext(
            "Destination site: unknown site; choose one of the network's other sites."
        )
        self.fields["date"].initial = timezone.localdate()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("Transfer to another site"),
                Row(Column("to_site", css_class="col-md-6"), Column("date", css_class="col-md-6")),
                "reason",
                Row(Column("responsible_clinician", css_class="col-md-6"),
                    Column("responsible_nurse", css_class="col-md-6")),
            ),
            Submit("save", _("Record the transfer"), css_class="btn-primary"),
        )


__all__ = ["PatientForm", "PatientSearchForm", "TransferForm", "Diagnosis"]


class CourseForm(forms.ModelForm):
    """The course page: what may change once thalidomide has started. The start (day 0 and
    the first dose) is shown read-only, never taken: a start field in the POST, even forged,
    is refused naming it (the action refuses it too)."""

    class Meta:
        model = TherapyCourse
        fields = list(COURSE_PAGE_FIELDS)
        widgets = {"stop_date": DateInput()}

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.patient = patient
        iso_dates_only(self)
        self.fields["regimen"].choices = [("", gettext("From age at the start (R3.1)")), *self.fields["regimen"].choices[1:]]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("Thalidomide course"),
                Row(Column("target_dose_mg", css_class="col-md-4")),
                Row(Column("regimen", css_class="col-md-4"), Column("regimen_reason", css_class="col-md-8")),
                Row(Column("stop_date", css_class="col-md-4"), Column("stop_reason", css_class="col-md-8")),
            ),
            Submit("save", _("Save course")),
        )

    def clean(self):
        cleaned = super().clean()
        for name in START_FIELDS:
            if name in self.data:
                self.add_error(
                    None,
                    gettext("%(field)s: not taken on the course page — %(why)s.")
                    % {"field": name, "why": START_BY_CHECKLIST},
                )
        return cleaned
