"""Visit, lab and endoscopy pages. Short views: role, then object, then one action."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from patients.access import patient_view
from safety.selectors import lab_alert_messages
from thalimon import saying
from thalimon.forms import run_action
from thalimon.history import history_entries
from thalimon.navigation import next_url
from therapy import actions as therapy_actions
from therapy import selectors as therapy_selectors
from therapy.models import Drug
from visits import actions, selectors
from visits.forms import (
    EndoscopyForm,
    LabPanelForm,
    VisitDoseDecisionForm,
    VisitForm,
    VisitPregnancyTestForm,
)
from visits.models import Endoscopy, Visit


def _visit_fields(form, *, with_version=False):
    fields = {k: v for k, v in form.cleaned_data.items() if not k.startswith("lab_")}
    if not with_version:
        fields.pop("expected_version", None)
    return fields


def _saved_message(request, patient, saved_text, day, form=None):
    """Green only when nothing needs acting on: results at an R4.4 alert level, or a WBC
    below 4.0 (R4.4: record leukopenia), turn the confirmation into a warning naming each
    result and its action."""
    flagged = lab_alert_messages(patient, day, wbc=form.cleaned_data.get("lab_wbc") if form else None)
    if flagged:
        messages.warning(request, " ".join([saved_text, gettext("Results at an alert level:"), *flagged]))
    else:
        messages.success(request, saved_text)


# The parts of the visit form a link may open (reminders and the patient page link to them).
VISIT_PARTS = {"safety", "review", "pregnancy", "dose"}


def _visit_parts(request, patient, facts):
    """The visit's other parts this user may record: a woman's pregnancy test, the dose
    decision (prefilled with the suggested step once it is allowed)."""
    data = request.POST or None
    parts = {}
    if patient.sex == "F" and request.user.has_perm("therapy.add_pregnancytest"):
        parts["pregnancy"] = VisitPregnancyTestForm(data, prefix="pregnancy")
    if request.user.has_perm("therapy.add_dosechange"):
        initial = {}
        suggestion = facts.get("suggestion")
        today = timezone.localdate()
        if suggestion and suggestion.dose_mg and suggestion.allowed_from and suggestion.allowed_from <= today:
            initial = {"drug": Drug.THALIDOMIDE, "dose_mg": suggestion.dose_mg, "reason": gettext("scheduled step")}
        # Thalidomide is started only by the start-of-therapy checklist (R3.1).
        drugs = None if facts.get("thal_current") is not None else [Drug.AZATHIOPRINE]
        if drugs:
            initial["drug"] = Drug.AZATHIOPRINE
        parts["dose"] = VisitDoseDecisionForm(data, prefix="dose", initial=initial, drugs=drugs)
    return parts


# The dose action's refusal that an override may pass (R3.5); hard blocks and the checklist say otherwise.
OVERRIDABLE_REFUSAL = therapy_actions.DOSE_REFUSED


def _route_refusal(error, form, parts):
    """A refusal names its part (``dose:dose_mg``); the visit's own fields have no prefix. A
    refusal an override may pass opens the override box, under the reasons just shown."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, errors in error.message_dict.items():
        part_name, _, field = key.rpartition(":")
        target = parts.get(part_name, form)
        target.add_error(field if field in target.fields else None, errors)
        if part_name == "dose" and any(str(e) == str(OVERRIDABLE_REFUSAL) for e in errors):
            target.offer_override = True


def _visit_saved(request, patient, visit, test, row, form=None):
    text = [gettext("Visit of %(date)s saved.") % {"date": saying.day(visit.date)}]
    if test is not None and test.result == "negative":
        text.append(gettext("Negative pregnancy test recorded."))
    if row is not None:
        text.append(therapy_selectors.dose_recorded_text(row))
    _saved_message(request, patient, " ".join(text), visit.date, form)
    if test is not None and test.result == "positive":
        messages.error(request, gettext("POSITIVE pregnancy test of %(date)s recorded: thalidomide must stop "
                                        "now; the clinician is alerted (R5.2).") % {"date": saying.day(test.date)})


@patient_view("visits.add_visit")
def visit_create(request, patient):
    """One visit and what was decided at it: CDAI, labs, safety questions (neuropathy,
    neurological review, contraception), the pregnancy test and the dose decision, saved
    together or not at all."""
    today = timezone.localdate()
    part = request.GET.get("part") if request.GET.get("part") in VISIT_PARTS else ""
    facts = therapy_selectors.patient_banner(patient, as_of=today)
    request.banner_facts = facts  # the banner on this page reads the same facts
    form = VisitForm(request.POST or None, patient=patient)
    parts = _visit_parts(request, patient, facts)
    if request.method == "POST" and all([form.is_valid(), *[p.is_valid() for p in parts.values()]]):
        try:
            visit, test, row = therapy_actions.visit_with_decisions_record(
                actor=request.user, patient=patient, lab_values=form.lab_values(), liver_uln=form.liver_uln(),
                **_visit_fields(form),
                pregnancy_result=parts["pregnancy"].cleaned_data["result"] if "pregnancy" in parts else None,
                dose=parts["dose"].decision() if "dose" in parts else None,
            )
        except ValidationError as error:
            _route_refusal(error, form, parts)
        else:
            _visit_saved(request, patient, visit, test, row, form)
            return redirect(next_url(request, reverse("visits:detail", args=[visit.pk])))
    if request.method == "POST":
        messages.error(request, gettext("Nothing was saved: please correct the fields marked below."))
    return render(
        request,
        "visits/visit_form.html",
        {"form": form, "patient": patient, "visit": None, "parts": parts, "part": part, "facts": facts,
         "next": next_url(request, ""), "cdai_result": selectors.cdai_preview(patient, form)},
    )


@patient_view("visits.change_visit", record=Visit)
def visit_edit(request, visit):
    patient = visit.patient
    form = VisitForm(request.POST or None, instance=visit, patient=patient)
    if request.method == "POST" and form.is_valid():
        saved = run_action(
            form,
            lambda: actions.visit_update(
                actor=request.user,
                visit=visit,
                lab_values=form.lab_values(include_empty=True),
                liver_uln=form.liver_uln(),
                **_visit_fields(form, with_version=True),
            ),
        )
        if saved:
            _saved_message(
                request, patient, gettext("Visit of %(date)s saved.") % {"date": saying.day(saved.date)}, saved.date, form
            )
            return redirect(next_url(request, reverse("visits:detail", args=[saved.pk])))
    if request.method == "POST":
        messages.error(request, gettext("Nothing was saved: please correct the fields marked below."))
    return render(
        request,
        "visits/visit_form.html",
        {"form": form, "patient": patient, "visit": visit, "cdai_result": selectors.cdai_preview(patient, form)},
    )


@patient_view("visits.add_visit")
def cdai_preview(request, patient):
    """htmx: the live CDAI while the clinician types, from the same server computation."""
    if request.method != "POST":
        return redirect("patients:detail", code=patient.code)
    form = VisitForm(request.POST, patient=patient)
    form.is_valid()
    return render(request, "visits/_cdai_live.html", {"cdai_result": selectors.cdai_preview(patient, form), "form": form})


@patient_view("visits.view_visit", record=Visit)
def visit_detail(request, visit):
    return render(request, "visits/visit_detail.html", selectors.visit_page(visit))


@patient_view("visits.view_visit", record=Visit)
def visit_history(request, visit):
    return render(
        request,
        "visits/record_history.html",
        {
            "patient": visit.patient,
            "title": gettext("History of the visit of %(date)s") % {"date": saying.day(visit.date)},
            "back_url": reverse("visits:detail", args=[visit.pk]),
            "entries": history_entries(visit.history.all()),
        },
    )


@patient_view("visits.add_labresult")
def lab_create(request, patient):
    form = LabPanelForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        saved = run_action(
            form,
            lambda: actions.lab_results_record(
                actor=request.user, patient=patient, date=form.cleaned_data["date"], lab_values=form.lab_values(),
                liver_uln=form.liver_uln(),
            ),
        )
        if saved is not None:
            day = form.cleaned_data["date"]
            text = ngettext("%(count)s result of %(date)s saved.", "%(count)s results of %(date)s saved.", len(saved))
            _saved_message(request, patient, text % {"count": len(saved), "date": saying.day(day)}, day, form)
            return redirect(next_url(request, patient.get_absolute_url()))
    if request.method == "POST":
        messages.error(request, gettext("No result was saved: please correct the fields marked below."))
    return render(request, "visits/lab_form.html", {"form": form, "patient": patient, "next": next_url(request, "")})


def _endoscopy_form_page(request, patient, endoscopy, save):
    form = EndoscopyForm(request.POST or None, instance=endoscopy, patient=patient)
    if request.method == "POST" and form.is_valid():
        saved = run_action(form, lambda: save(form.service_fields()))
        if saved:
            messages.success(request, gettext("Endoscopy of %(date)s saved.") % {"date": saying.day(saved.date)})
            for check in selectors.ses_cd_checks(saved.ses_cd):
                messages.warning(request, saying.render(check))
            return redirect(next_url(request, patient.get_absolute_url()))
    if request.method == "POST":
        messages.error(request, gettext("The endoscopy was not saved: please correct the fields marked below."))
    return render(request, "visits/endoscopy_form.html",
                  {"form": form, "patient": patient, "endoscopy": endoscopy, "next": next_url(request, "")})


@patient_view("visits.add_endoscopy")
def endoscopy_create(request, patient):
    return _endoscopy_form_page(
        request, patient, None, lambda data: actions.endoscopy_record(actor=request.user, patient=patient, **data)
    )


@patient_view("visits.change_endoscopy", record=Endoscopy)
def endoscopy_edit(request, endoscopy):
    patient = endoscopy.patient
    return _endoscopy_form_page(
        request,
        patient,
        endoscopy,
        lambda data: actions.endoscopy_update(actor=request.user, endoscopy=endoscopy, **data),
    )
