"""Visit, lab and endoscopy pages. Short views: role, then object, then one action."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from patients.access import patient_view
from safety.selectors import lab_alert_messages
from thalimon.forms import run_action
from thalimon.history import history_entries
from therapy.models import DoseChange, Drug
from visits import actions, selectors
from visits.forms import EndoscopyForm, LabPanelForm, VisitForm
from visits.models import Endoscopy, Visit


def _visit_fields(form, *, with_version=False):
    fields = {k: v for k, v in form.cleaned_data.items() if not k.startswith("lab_")}
    if not with_version:
        fields.pop("expected_version", None)
    return fields


def _after_visit_save(request, visit):
    """The visit form ends with the dose decision when the clinician asks for it."""
    if "save_then_dose" in request.POST and request.user.has_perm("therapy.add_dosechange"):
        has_thalidomide = DoseChange.objects.filter(patient=visit.patient, drug=Drug.THALIDOMIDE).exists()
        target = "therapy:dose_change" if has_thalidomide else "therapy:therapy_start"
        return redirect(target, code=visit.patient.code)
    return redirect("visits:detail", pk=visit.pk)


def _saved_message(request, patient, saved_text, day):
    """Green only when nothing needs acting on: results at an R4.4 alert level turn the
    confirmation into a warning naming each result and its action."""
    flagged = lab_alert_messages(patient, day)
    if flagged:
        messages.warning(request, " ".join([f"{saved_text} Results at an alert level:", *flagged]))
    else:
        messages.success(request, saved_text)


@patient_view("visits.add_visit")
def visit_create(request, patient):
    form = VisitForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        visit = run_action(
            form,
            lambda: actions.visit_record(
                actor=request.user, patient=patient, lab_values=form.lab_values(), **_visit_fields(form)
            ),
        )
        if visit:
            _saved_message(request, patient, f"Visit of {visit.date:%Y-%m-%d} saved.", visit.date)
            return _after_visit_save(request, visit)
    if request.method == "POST":
        messages.error(request, "The visit was not saved: please correct the fields marked below.")
    return render(
        request,
        "visits/visit_form.html",
        {"form": form, "patient": patient, "visit": None, "cdai_result": selectors.cdai_preview(patient, form)},
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
                **_visit_fields(form, with_version=True),
            ),
        )
        if saved:
            _saved_message(request, patient, f"Visit of {saved.date:%Y-%m-%d} saved.", saved.date)
            return _after_visit_save(request, saved)
    if request.method == "POST":
        messages.error(request, "Nothing was saved: please correct the fields marked below.")
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
            "title": f"History of the visit of {visit.date:%Y-%m-%d}",
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
                actor=request.user, patient=patient, date=form.cleaned_data["date"], lab_values=form.lab_values()
            ),
        )
        if saved is not None:
            day = form.cleaned_data["date"]
            count = f"{len(saved)} result{'s' if len(saved) != 1 else ''}"
            _saved_message(request, patient, f"{count} of {day:%Y-%m-%d} saved.", day)
            return redirect("patients:detail", code=patient.code)
    if request.method == "POST":
        messages.error(request, "No result was saved: please correct the fields marked below.")
    return render(request, "visits/lab_form.html", {"form": form, "patient": patient})


def _endoscopy_form_page(request, patient, endoscopy, save):
    form = EndoscopyForm(request.POST or None, instance=endoscopy, patient=patient)
    if request.method == "POST" and form.is_valid():
        saved = run_action(form, lambda: save(form.service_fields()))
        if saved:
            messages.success(request, f"Endoscopy of {saved.date:%Y-%m-%d} saved.")
            return redirect("patients:detail", code=patient.code)
    if request.method == "POST":
        messages.error(request, "The endoscopy was not saved: please correct the fields marked below.")
    return render(request, "visits/endoscopy_form.html", {"form": form, "patient": patient, "endoscopy": endoscopy})


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
