"""Visit, lab and endoscopy pages. Short views (DESIGN rule 3)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from thalimon.access import patient_for, require_permission
from thalimon.history import history_entries
from visits import selectors, services
from visits.forms import EndoscopyForm, LabPanelForm, VisitForm
from visits.models import Endoscopy, Visit


def _visit_for(request, pk, perm):
    visit = get_object_or_404(Visit.objects.select_related("patient", "created_by"), pk=pk)
    patient_for(request, visit.patient.code, perm=perm)  # one place for object-level access
    return visit


def _visit_fields(form, *, with_version=False):
    fields = {k: v for k, v in form.cleaned_data.items() if not k.startswith("lab_")}
    if not with_version:
        fields.pop("expected_version", None)
    return fields


def _run_service(form, call):
    """Call a service; a refusal becomes form errors and nothing is saved."""
    try:
        return call()
    except ValidationError as error:
        if getattr(error, "current_version", None) is not None:
            # An edit conflict: keep what was typed, and let the next save go through
            # against the version that is stored now.
            form.data = form.data.copy()
            form.data["expected_version"] = str(error.current_version)
        if hasattr(error, "error_dict"):
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return None


def _after_visit_save(request, visit):
    """The visit form ends with the dose decision when the clinician asks for it."""
    if "save_then_dose" in request.POST and request.user.has_perm("visits.add_dosechange"):
        has_thalidomide = visit.patient.dose_changes.filter(drug="thalidomide").exists()
        target = "visits:dose_change" if has_thalidomide else "visits:therapy_start"
        return redirect(target, code=visit.patient.code)
    return redirect("visits:detail", pk=visit.pk)


@require_permission("visits.add_visit")
def visit_create(request, code):
    patient = patient_for(request, code, perm="visits.add_visit")
    form = VisitForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        visit = _run_service(
            form,
            lambda: services.visit_record(
                actor=request.user, patient=patient, lab_values=form.lab_values(), **_visit_fields(form)
            ),
        )
        if visit:
            messages.success(request, f"Visit of {visit.date:%Y-%m-%d} saved.")
            return _after_visit_save(request, visit)
    if request.method == "POST":
        messages.error(request, "The visit was not saved: please correct the fields marked below.")
    return render(
        request,
        "visits/visit_form.html",
        {"form": form, "patient": patient, "visit": None, "cdai_result": selectors.cdai_preview(patient, form)},
    )


@require_permission("visits.change_visit")
def visit_edit(request, pk):
    visit = _visit_for(request, pk, "visits.change_visit")
    patient = visit.patient
    form = VisitForm(request.POST or None, instance=visit, patient=patient)
    if request.method == "POST" and form.is_valid():
        saved = _run_service(
            form,
            lambda: services.visit_update(
                actor=request.user,
                visit=visit,
                lab_values=form.lab_values(include_empty=True),
                **_visit_fields(form, with_version=True),
            ),
        )
        if saved:
            messages.success(request, f"Visit of {saved.date:%Y-%m-%d} saved.")
            return _after_visit_save(request, saved)
    if request.method == "POST":
        messages.error(request, "Nothing was saved: please correct the fields marked below.")
    return render(
        request,
        "visits/visit_form.html",
        {"form": form, "patient": patient, "visit": visit, "cdai_result": selectors.cdai_preview(patient, form)},
    )


@require_permission("visits.add_visit")
def cdai_preview(request, code):
    """htmx: the live CDAI while the clinician types, from the same server computation."""
    patient = patient_for(request, code, perm="visits.add_visit")
    if request.method != "POST":
        return redirect("patients:detail", code=code)
    form = VisitForm(request.POST, patient=patient)
    form.is_valid()
    return render(request, "visits/_cdai_live.html", {"cdai_result": selectors.cdai_preview(patient, form), "form": form})


@require_permission("visits.view_visit")
def visit_detail(request, pk):
    visit = _visit_for(request, pk, "visits.view_visit")
    return render(request, "visits/visit_detail.html", selectors.visit_page(visit))


@require_permission("visits.view_visit")
def visit_history(request, pk):
    visit = _visit_for(request, pk, "visits.view_visit")
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


@require_permission("visits.add_labresult")
def lab_create(request, code):
    patient = patient_for(request, code, perm="visits.add_labresult")
    form = LabPanelForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        saved = _run_service(
            form,
            lambda: services.lab_results_record(
                actor=request.user, patient=patient, date=form.cleaned_data["date"], lab_values=form.lab_values()
            ),
        )
        if saved is not None:
            messages.success(request, f"{len(saved)} result(s) of {form.cleaned_data['date']:%Y-%m-%d} saved.")
            return redirect("patients:detail", code=patient.code)
    if request.method == "POST":
        messages.error(request, "No result was saved: please correct the fields marked below.")
    return render(request, "visits/lab_form.html", {"form": form, "patient": patient})


def _endoscopy_form_page(request, patient, endoscopy, save):
    form = EndoscopyForm(request.POST or None, instance=endoscopy, patient=patient)
    if request.method == "POST" and form.is_valid():
        saved = _run_service(form, lambda: save(form.service_fields()))
        if saved:
            messages.success(request, f"Endoscopy of {saved.date:%Y-%m-%d} saved.")
            return redirect("patients:detail", code=patient.code)
    if request.method == "POST":
        messages.error(request, "The endoscopy was not saved: please correct the fields marked below.")
    return render(request, "visits/endoscopy_form.html", {"form": form, "patient": patient, "endoscopy": endoscopy})


@require_permission("visits.add_endoscopy")
def endoscopy_create(request, code):
    patient = patient_for(request, code, perm="visits.add_endoscopy")
    return _endoscopy_form_page(
        request, patient, None, lambda data: services.endoscopy_record(actor=request.user, patient=patient, **data)
    )


@require_permission("visits.change_endoscopy")
def endoscopy_edit(request, pk):
    endoscopy = get_object_or_404(Endoscopy.objects.select_related("patient"), pk=pk)
    patient = patient_for(request, endoscopy.patient.code, perm="visits.change_endoscopy")
    return _endoscopy_form_page(
        request,
        patient,
        endoscopy,
        lambda data: services.endoscopy_update(actor=request.user, endoscopy=endoscopy, **data),
    )
