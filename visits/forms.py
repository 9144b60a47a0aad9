"""Visit, lab and endoscopy forms: input shape only; ranges and rules are on the
models and in the pure scoring module."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Fieldset, Layout, Row, Submit
from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients.forms import DateInput, UnknownYesNo, iso_dates_only
from patients.models import Diagnosis
from thalimon import saying
from thalimon.concurrency import VersionedEditMixin, expected_version_field
from thalimon.forms import name_field_limits
from therapy.models import Drug
from visits import labs, records
from visits import words as visit_words
from visits.models import CDAI_COMPLICATIONS, Endoscopy, Visit

CDAI_FIELDS = [
    "cdai_stools",
    "cdai_pain",
    "cdai_wellbeing",
    "cdai_complication_flags",
    "cdai_antidiarrheal",
    "cdai_mass",
    "hematocrit",
    "cdai_entered",
]
HBI_FIELDS = ["hbi_wellbeing", "hbi_pain", "hbi_liquid_stools", "hbi_mass", "hbi_complications", "hbi_entered"]
MAYO_FIELDS = [
    "mayo_stool_frequency",
    "mayo_rectal_bleeding",
    "mayo_endoscopic",
    "mayo_physician_global",
    "mayo_entered",
]
AID_FIELDS = ["aidai", "global_assessment", "background_therapy"]
SAFETY_FIELDS = [
    "neuropathy_grade",
    "contraception_confirmed",
    "breastfeeding",
    "menarche",
    "neurological_review",
    "relapse_event",
    "heart_rate",
]
VISIT_LAB_TESTS = [t for t in labs.LAB_ORDER if t != "hematocrit"]  # haematocrit is a CDAI item above

HELP = {
    "cdai_stools": _("Number of liquid or very soft stools, added up over the 7 days before the visit (×2)."),
    "cdai_pain": _("Daily rating 0 none, 1 mild, 2 moderate, 3 severe — added up over 7 days (0–21, ×5)."),
    "cdai_wellbeing": _(
        "Daily rating 0 well, 1 slightly under par, 2 poor, 3 very poor, 4 terrible — "
        "added up over 7 days (0–28, ×7)."
    ),
    "cdai_complication_flags": _("One point (×20) for each category present."),
    "cdai_antidiarrheal": _("Diphenoxylate, loperamide or opiates for diarrhoea (×30)."),
    "cdai_mass": "×10.",
    "hematocrit": _("In %, e.g. 42 (not 0.42). Empty: the latest lab haematocrit of the 7 days up to the visit."),
    "cdai_entered": _("Only when the items are not available, e.g. from a paper chart; stored as entered."),
}


def _lab_field(test, *, sex=None, age_years=None):
    lab = labs.LAB_TESTS[test]
    return forms.DecimalField(
        label=format_lazy("{} ({})", visit_words.LAB_TESTS.get(test, lab.label), lab.unit),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=3,
        help_text=gettext("Reference %(range)s") % {"range": labs.format_range(test, sex=sex, age_years=age_years)},
    )


class LabValuesMixin:
    """Adds one optional field per lab test (``lab_<test>``) and checks plausibility (R12)."""

    lab_tests = VISIT_LAB_TESTS

    def add_lab_fields(self, patient=None):
        sex = patient.sex if patient else None
        age = patient.age_on(timezone.localdate()) if patient else None
        for test in self.lab_tests:
            self.fields[f"lab_{test}"] = _lab_field(test, sex=sex, age_years=age)
        if any(test in labs.LIVER_TESTS for test in self.lab_tests):
            self.fields["lab_liver_uln"] = forms.DecimalField(
                label=_("Upper limit of normal for ALT and AST at this lab (U/L)"),
                required=False, min_value=labs.LIVER_ULN_RANGE[0], max_value=labs.LIVER_ULN_RANGE[1],
                max_digits=10, decimal_places=3,
                help_text=_("From the lab report, for the ALT and AST entered here. Empty: the limit already "
                            "recorded with them, else 40 U/L (R12). Azathioprine is withheld above 3 × this limit "
                            "(R4.4)."),
            )
        name_field_limits(self)  # the lab fields name their unit and range when out of it

    def clean_lab_values(self):
        for test in self.lab_tests:
            value = self.cleaned_data.get(f"lab_{test}")
            if value is not None:
                message = labs.plausibility_error(test, value)
                if message:
                    self.add_error(f"lab_{test}", saying.render(message))
        if self.cleaned_data.get("lab_liver_uln") is not None and not any(
            self.cleaned_data.get(f"lab_{test}") is not None or f"lab_{test}" in self.errors for test in labs.LIVER_TESTS
        ):
            self.add_error("lab_liver_uln", gettext(
                "Upper limit of normal for ALT and AST: enter the ALT or AST result it belongs to, or leave it empty."
            ))

    def liver_uln(self):
        """The lab's own ALT/AST upper limit given with the results (R12), or None (R4.4's 40 U/L)."""
        return self.cleaned_data.get("lab_liver_uln")

    def lab_values(self, *, include_empty=False):
        """{test: value}; with ``include_empty`` an emptied field maps to None (delete)."""
        return {
            test: self.cleaned_data.get(f"lab_{test}")
            for test in self.lab_tests
            if include_empty or self.cleaned_data.get(f"lab_{test}") is not None
        }

    def lab_layout(self):
        names = [f"lab_{test}" for test in self.lab_tests]
        rows = [Row(*[Column(name, css_class="col-6 col-md-3 col-xl-2") for name in names[i : i + 6]]) for i in range(0, len(names), 6)]
        if "lab_liver_uln" in self.fields:
            rows.append(Row(Column("lab_liver_uln", css_class="col-md-6 col-xl-4")))
        return rows


class VisitForm(VersionedEditMixin, LabValuesMixin, forms.ModelForm):
    cdai_complication_flags = forms.MultipleChoiceField(
        label=_("Complications present (past week)"),
        required=False,
        choices=CDAI_COMPLICATIONS,
        widget=forms.CheckboxSelectMultiple,
    )
    cdai_antidiarrheal = forms.NullBooleanField(
        label=_("Antidiarrhoeal use"), required=False, widget=UnknownYesNo(unknown=_("Not recorded"))
    )
    breastfeeding = forms.NullBooleanField(
        label=_("Breast-feeding"), required=False, widget=UnknownYesNo(unknown=_("Not asked")),
        help_text=_("Breast-feeding refuses thalidomide (R5.1)."),
    )
    menarche = forms.NullBooleanField(
        label=_("Menarche (R5.1 review of the premenarchal exemption)"), required=False,
        widget=UnknownYesNo(unknown=_("Not asked"), yes=_("Reached — the exemption ends"), no=_("Not yet")),
        help_text=_("Reached: pregnancy tests and contraception apply from now on (R5.2, R5.3)."),
    )
    contraception_confirmed = forms.NullBooleanField(
        label=_("Contraception confirmed (R5.3)"),
        required=False,
        widget=UnknownYesNo(unknown=_("Not asked"), yes=_("Yes, confirmed"), no=_("No — not using it")),
    )

    class Meta:
        model = Visit
        fields = (
            ["date", "contact", "weight_kg"]
            + CDAI_FIELDS
            + HBI_FIELDS
            + MAYO_FIELDS
            + AID_FIELDS
            + SAFETY_FIELDS
            + ["notes"]
        )
        widgets = {"date": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}
        # Columns with no verbose name of their own (adding one would alter the migration).
        labels = {"contact": _("Contact"), "notes": _("Notes")}

    expected_version = expected_version_field()

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.instance.patient = patient
        self.fields["expected_version"].initial = self.instance.version
        iso_dates_only(self)
        self.add_lab_fields(patient)
        if self.instance.pk:
            limits = set()
            for lab in patient.lab_results.filter(date=self.instance.date, test__in=self.lab_tests):
                self.initial[f"lab_{lab.test}"] = lab.value
                if lab.test in labs.LIVER_TESTS:
                    limits.add(lab.lab_high)
            # Shown only when the day's ALT and AST share it; empty keeps each result's own limit.
            if len(limits) == 1 and None not in limits:
                self.initial["lab_liver_uln"] = limits.pop().normalize()
        for name, text in HELP.items():
            self.fields[name].help_text = text
        self.fields["cdai_mass"].choices = [("", _("Not recorded")), *self.fields["cdai_mass"].choices[1:]]
        if "relapse_event" in self.fields:
            self.fields["relapse_event"].choices = [("", _("None")), *self.fields["relapse_event"].choices[1:]]
        self.fields["neuropathy_grade"].choices = [
            ("", _("Not assessed")),
            *self.fields["neuropathy_grade"].choices[1:],
        ]

        sections = self._score_sections(patient)
        if not self.instance.pk:
            self.fields["date"].initial = timezone.localdate()  # the clinic's today
        sections.append(
            Fieldset(_("Safety at this contact (R3.4, R5)"), *self._safety_rows(patient), css_id="part-safety")
        )
        sections.append(Fieldset(_("Laboratory results of the visit date (R12 units)"), *self.lab_layout()))
        sections.append(Fieldset(_("Notes"), Field("notes")))
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(*sections)  # the page adds the visit's other parts, then the buttons

    def _score_sections(self, patient):
        """The contact and the score fieldsets of the patient's diagnosis; the other
        diagnoses' score fields are removed."""
        diagnosis = patient.diagnosis
        sections = [
            "expected_version",
            Fieldset(
                _("Contact"),
                Row(
                    Column("date", css_class="col-md-4"),
                    Column("contact", css_class="col-md-4"),
                    Column("weight_kg", css_class="col-md-4"),
                ),
            )
        ]
        if diagnosis == Diagnosis.CD:
            preview_url = reverse("visits:cdai_preview", args=[patient.code])
            sections.append(
                Fieldset(
                    _("CDAI diary — the 7 days before the visit (R1.1)"),
                    Div(
                        Row(
                            Column("cdai_stools", css_class="col-md-4"),
                            Column("cdai_pain", css_class="col-md-4"),
                            Column("cdai_wellbeing", css_class="col-md-4"),
                        ),
                        Row(
                            Column("cdai_complication_flags", css_class="col-md-6"),
                            Column("cdai_antidiarrheal", "cdai_mass", css_class="col-md-3"),
                            Column("hematocrit", css_class="col-md-3"),
                        ),
                        Row(Column("cdai_entered", css_class="col-md-4")),
                        **{
                            "hx-post": preview_url,
                            "hx-trigger": "input changed delay:300ms from:closest form, change from:closest form",
                            "hx-target": "#cdai-live",
                            "hx-include": "closest form",
                            "hx-swap": "innerHTML",
                        },
                    ),
                    HTML('<div id="cdai-live" aria-live="polite">{% include "visits/_cdai_live.html" %}</div>'),
                )
            )
            sections.append(
                Fieldset(
                    _("Harvey–Bradshaw Index — previous day (R1.2, optional)"),
                    Row(*[Column(name, css_class="col-md-2") for name in HBI_FIELDS]),
                )
            )
        else:
            for name in CDAI_FIELDS + HBI_FIELDS:
                del self.fields[name]
        if diagnosis == Diagnosis.UC:
            sections.append(
                Fieldset(_("Mayo score (R1.6)"), Row(*[Column(n, css_class="col-md") for n in MAYO_FIELDS]))
            )
        else:
            for name in MAYO_FIELDS:
                del self.fields[name]
        if diagnosis == Diagnosis.AID:
            sections.append(
                Fieldset(
                    _("Autoinflammatory disease activity (R1.7, R2.6)"),
                    Row(*[Column(n, css_class="col-md-4") for n in AID_FIELDS]),
                )
            )
        else:
            for name in AID_FIELDS:
                del self.fields[name]
        return sections

    def _safety_rows(self, patient):
        """Neuropathy, contraception, heart rate, relapse; breast-feeding for women only; the
        menarche review for a patient recorded as premenarchal (or a visit that recorded it)."""
        if patient.sex == "F" and (patient.premenarchal or self.instance.menarche is not None):
            review = [Row(Column("menarche", css_class="col-md-6"))]
        else:
            del self.fields["menarche"]
            review = []
        return self._safety_rows_by_sex(patient) + review

    def _safety_rows_by_sex(self, patient):
        if patient.sex != "F":  # breast-feeding refuses thalidomide for every woman (R5.1)
            del self.fields["breastfeeding"]
            safety_rows = [
                Row(
                    Column("neuropathy_grade", css_class="col-md-6"),
                    Column("contraception_confirmed", css_class="col-md-3"),
                    Column("heart_rate", css_class="col-md-3"),
                ),
                Row(Column("relapse_event", css_class="col-md-6"), Column("neurological_review", css_class="col-md-6")),
            ]
        else:
            safety_rows = [
                Row(
                    Column("neuropathy_grade", css_class="col-md-6"),
                    Column("contraception_confirmed", css_class="col-md-3"),
                    Column("heart_rate", css_class="col-md-3"),
                ),
                Row(
                    Column("relapse_event", css_class="col-md-6"),
                    Column("breastfeeding", "neurological_review", css_class="col-md-6"),
                ),
            ]
        return safety_rows

    def clean(self):
        cleaned = super().clean()
        self.clean_lab_values()
        if cleaned.get("neurological_review") and cleaned.get("neuropathy_grade") is None and (
            "neuropathy_grade" not in self.errors
        ):
            # The review closes the 20 g review reminder (R3.4): it needs what it found.
            self.add_error("neuropathy_grade", gettext("Peripheral neuropathy grade: record the grade found at the "
                                                       "neurological review."))
        if "cdai_complication_flags" in self.fields:
            # R1.1 C: the count of ticked categories, 0 included, whenever CDAI items are being
            # recorded; unticking every box sets it back to 0 (never a stale count).
            cleaned["cdai_complications"] = records.complication_count(
                flags=cleaned.get("cdai_complication_flags"),
                count=None,
                items_recorded=records.cdai_items_recorded(cleaned),
            )
        return cleaned


class LabPanelForm(LabValuesMixin, forms.Form):
    date = forms.DateField(label=_("Sample date"), widget=DateInput(), initial=timezone.localdate)
    lab_tests = list(labs.LAB_ORDER)

    def __init__(self, *args, patient=None, **kwargs):
        super().__init__(*args, **kwargs)
        iso_dates_only(self)
        self.add_lab_fields(patient)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(_("Sample"), Row(Column("date", css_class="col-md-4"))),
            Fieldset(_("Results (fixed units, R12)"), *self.lab_layout()),
            Submit("save", _("Save results")),
        )

    def clean(self):
        cleaned = super().clean()
        self.clean_lab_values()
        if not any(cleaned.get(f"lab_{t}") is not None for t in self.lab_tests):
            raise forms.ValidationError(gettext("Enter at least one result."))
        return cleaned


SEGMENT_LABELS = {
    "ileum": _("Ileum"),
    "right_colon": _("Right colon"),
    "transverse": _("Transverse colon"),
    "left_colon": _("Left colon and sigmoid"),
    "rectum": _("Rectum"),
}


class EndoscopyForm(forms.ModelForm):
    class Meta:
        model = Endoscopy
        fields = [
            "date",
            "ulcerated_stenosis",
            "nonulcerated_stenosis",
            "cdeis_entered",
            "ses_cd",
            "rutgeerts",
            "ulceration",
            "notes",
        ]
        widgets = {"date": DateInput(), "notes": forms.Textarea(attrs={"rows": 2})}
        labels = {"notes": _("Notes")}

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["date"].initial = timezone.localdate()  # the clinic's today
        self.patient = patient
        self.instance.patient = patient
        iso_dates_only(self)
        self.fields["ulceration"] = forms.NullBooleanField(
            label=_("Ulceration in any explored segment"),
            required=False,
            widget=UnknownYesNo(unknown=_("From the segments / not recorded")),
            help_text=_("No ulceration = mucosal healing (R2.4)."),
        )
        stored = {s["name"]: s for s in (self.instance.cdeis_segments or [])}
        segment_rows = []
        for name, label in SEGMENT_LABELS.items():
            seg = stored.get(name, {})
            self.fields[f"{name}_explored"] = forms.BooleanField(
                label=_("Explored"), required=False, initial=name in stored
            )
            self.fields[f"{name}_deep"] = forms.BooleanField(
                label=_("Deep ulceration (12)"), required=False, initial=seg.get("deep_ulceration", False)
            )
            self.fields[f"{name}_superficial"] = forms.BooleanField(
                label=_("Superficial ulceration (6)"), required=False, initial=seg.get("superficial_ulceration", False)
            )
            self.fields[f"{name}_involved"] = forms.DecimalField(
                label=_("Involved (cm, 0–10)"), required=False, min_value=0, max_value=10, decimal_places=1,
                initial=seg.get("involved_cm"),
            )
            self.fields[f"{name}_ulcerated"] = forms.DecimalField(
                label=_("Ulcerated (cm, 0–10)"), required=False, min_value=0, max_value=10, decimal_places=1,
                initial=seg.get("ulcerated_cm"),
            )
            # One row per segment, a group named after it; the segment's name and its "Explored"
            # box share a column, so no label overlaps the ulceration boxes at any width.
            segment_rows.append(
                Row(
                    Column(HTML(f'<p class="fw-semibold mb-1 mt-md-2" id="segment-{name}">{label}</p>'),
                           f"{name}_explored", css_class="col-12 col-md-3"),
                    Column(f"{name}_deep", f"{name}_superficial", css_class="col-12 col-md-3 pt-md-2"),
                    Column(f"{name}_involved", css_class="col-6 col-md-3"),
                    Column(f"{name}_ulcerated", css_class="col-6 col-md-3"),
                    css_class="border-bottom mb-2 pt-1 segment-row",
                    role="group", aria_labelledby=f"segment-{name}",
                )
            )
        rutgeerts_note = (
            "" if patient.ileocolic_resection
            else '<p class="form-text">{}</p>'.format(
                gettext("Rutgeerts applies only after ileocolonic resection (none recorded).")
            )
        )
        name_field_limits(self)  # the segment fields, added above, name their range too
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(_("Endoscopy"), Row(Column("date", css_class="col-md-4"))),
            Fieldset(
                _("CDEIS by segment (R1.3) — tick the segments explored"),
                *segment_rows,
                Row(
                    Column("ulcerated_stenosis", css_class="col-md-4"),
                    Column("nonulcerated_stenosis", css_class="col-md-4"),
                ),
                HTML('<p class="form-text">{}</p>'.format(gettext("Or, when segment data are not available:"))),
                Row(Column("cdeis_entered", css_class="col-md-4")),
            ),
            Fieldset(
                _("Other scores"),
                Row(
                    Column("ses_cd", css_class="col-md-3"),
                    Column("rutgeerts", HTML(rutgeerts_note), css_class="col-md-5"),
                    Column("ulceration", css_class="col-md-4"),
                ),
            ),
            Fieldset(_("Notes"), Field("notes")),
            Submit("save", _("Save endoscopy")),
        )

    def clean(self):
        cleaned = super().clean()
        segments = []
        for name, label in SEGMENT_LABELS.items():
            touched = any(
                cleaned.get(f"{name}_{part}") for part in ("deep", "superficial", "involved", "ulcerated")
            )
            if not cleaned.get(f"{name}_explored"):
                if touched:
                    self.add_error(f"{name}_explored", gettext("%(segment)s: tick 'Explored' to score this segment.") % {"segment": label})
                continue
            involved = cleaned.get(f"{name}_involved") or Decimal("0")
            ulcerated = cleaned.get(f"{name}_ulcerated") or Decimal("0")
            if ulcerated > involved:
                self.add_error(
                    f"{name}_ulcerated",
                    gettext("%(segment)s: ulcerated surface (%(ulcerated)s cm) cannot be larger than the surface "
                            "involved by disease (%(involved)s cm).")
                    % {"segment": label, "ulcerated": ulcerated, "involved": involved},
                )
            segments.append(
                {
                    "name": name,
                    "deep_ulceration": bool(cleaned.get(f"{name}_deep")),
                    "superficial_ulceration": bool(cleaned.get(f"{name}_superficial")),
                    "involved_cm": str(involved),
                    "ulcerated_cm": str(ulcerated),
                }
            )
        if segments and cleaned.get("cdeis_entered") is not None:
            self.add_error("cdeis_entered", gettext("CDEIS total: enter either the segments or a total, not both."))
        cleaned["cdeis_segments"] = segments
        return cleaned

    def service_fields(self):
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields}
        data["cdeis_segments"] = self.cleaned_data["cdeis_segments"]
        return data


# --- the one-visit workflow: what else the clinic records at this contact -----------------
class VisitPregnancyTestForm(forms.Form):
    """A pregnancy test done at the visit (its date is the visit's)."""

    result = forms.ChoiceField(
        label=_("Pregnancy test at this visit"),
        required=False,
        choices=[("", _("Not tested at this visit")), ("negative", _("Negative")), ("positive", _("Positive"))],
        help_text=_("A positive test stops thalidomide at once and alerts the clinician (R5.2)."),
    )


class VisitDoseDecisionForm(forms.Form):
    """A dose decision taken at the visit (dated the visit's date), checked by the same rules
    as the dose page once the visit and its test are saved, in the same transaction."""

    record = forms.BooleanField(
        label=_("Record a dose decision with this visit"), required=False,
        help_text=_("Leave unticked to keep the current doses."),
    )
    drug = forms.ChoiceField(label=_("Drug"), choices=Drug.choices, initial=Drug.THALIDOMIDE, required=False)
    dose_mg = forms.DecimalField(
        label=_("New dose (mg/day)"), required=False, min_value=0, max_value=400, decimal_places=1,
        help_text=_("0 = stop. Thalidomide: multiples of 25 mg (adult) or 12.5 mg (paediatric)."),
        error_messages={
            "min_value": _("New dose (mg/day): 0 (stop) or more."),
            "max_value": _("New dose (mg/day): at most 400 mg."),
            "max_decimal_places": _("New dose (mg/day): at most one decimal."),
            "invalid": _("New dose (mg/day): enter a number of mg, e.g. 50."),
        },
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False,
                             help_text=_("e.g. scheduled step, neuropathy grade 1"))
    override_reason = forms.CharField(
        label=_("Override reason (the change is clinically necessary despite the rules above)"),
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Set by the page only after a save was refused with reasons an override may pass (R3.5):
    # an override is written in answer to the rules shown, never in advance.
    override_offered = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, drugs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if drugs is not None:
            self.fields["drug"].choices = [c for c in Drug.choices if c[0] in drugs]
        self.offer_override = False

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("record"):
            if cleaned.get("dose_mg") is None and "dose_mg" not in self.errors:
                self.add_error("dose_mg", gettext("New dose (mg/day): enter the dose decided, or untick the dose decision."))
            if not cleaned.get("drug") and "drug" not in self.errors:
                self.add_error("drug", gettext("Drug: choose the drug of the dose decision."))
            elif (self.initial.get("dose_mg") is not None and "drug" in self.changed_data
                  and "dose_mg" not in self.changed_data):
                # The prefilled dose is the thalidomide step: never carried over to another drug.
                self.add_error("dose_mg", gettext("New dose (mg/day): enter the dose of the drug chosen (the dose shown "
                                                  "was the suggested thalidomide step)."))
        elif (cleaned.get("dose_mg") is not None and "dose_mg" in self.changed_data) or cleaned.get("override_reason"):
            self.add_error("record", gettext("Tick “Record a dose decision” to record the dose typed, or clear it."))
        return cleaned

    def decision(self):
        """The dose change to record, or None when the box is unticked."""
        if not self.cleaned_data.get("record"):
            return None
        data = self.cleaned_data
        return {"drug": data["drug"], "dose_mg": data["dose_mg"], "reason": data["reason"],
                "override_reason": data["override_reason"] if data.get("override_offered") else ""}
