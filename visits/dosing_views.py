"""Dosing pages: change dose (with a live rule check), start-of-therapy
checklist, pregnancy tests and contraception confirmations."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from thalimon.access import patient_for, require_permission
from visits import dosing, selectors
from visits.dosing_forms import (
    ContraceptionForm,
    DoseChangeForm,
    PregnancyTestForm,
    TherapyStartForm,
)
from visits.views import _run_service


def _decision_for(patient, form):
    """The live rule check of the form as typed (None until it is complete)."""
    if not form.is_bound:
        return None
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    if not all(data.get(key) is not None for key in ("drug", "date", "dose_mg")):
        return None
    return dosing.check_dose(patient, drug=data["drug"], date=data["date"], dose_mg=data["dose_mg"])


@require_permission("visits.add_dosechange")
def dose_change_view(request, code):
    patient = patient_for(request, code, perm="visits.add_dosechange")
    initial = {}
    if request.GET.get("drug") in ("thalidomide", "azathioprine"):
        initial["drug"] = request.GET["drug"]
    if request.GET.get("dose"):
        initial["dose_mg"] = request.GET["dose"]
    if request.GET.get("reason"):
        initial["reason"] = request.GET["reason"][:200]
    form = DoseChangeForm(request.POST or None, patient=patient, initial=initial)
    decision = _decision_for(patient, form)  # before the service: a refusal removes the dose from cleaned_data
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        row = _run_service(
            form,
            lambda: dosing.dose_change_record(
                actor=request.user,
                patient=patient,
                drug=data["drug"],
                date=data["date"],
                dose_mg=data["dose_mg"],
                reason=data["reason"],
                override_reason=data["override_reason"],
            ),
        )
        if row:
            note = " with an override" if row.override_reason else ""
            messages.success(
                request, f"{row.get_drug_display()} {row.dose_mg.normalize():f} mg/day from {row.date:%Y-%m-%d} recorded{note}."
            )
            return redirect("patients:detail", code=patient.code)
    if request.method == "POST":
        messages.error(request, "The dose change was not recorded: see the reasons below.")
    return render(
        request,
        "visits/dose_change.html",
        {
            "form": form,
            "patient": patient,
            "decision": decision,
            **selectors.patient_dosing(patient),
        },
    )


@require_permission("visits.add_dosechange")
def dose_check(request, code):
    """htmx: the proposed change checked against the rules while the clinician types."""
    patient = patient_for(request, code, perm="visits.add_dosechange")
    form = DoseChangeForm(request.POST or None, patient=patient)
    return render(request, "visits/_dose_check.html", {"decision": _decision_for(patient, form), "form": form})


@require_permission("visits.add_dosechange")
def therapy_start_view(request, code):
    patient = patient_for(request, code, perm="visits.add_dosechange")
    course = getattr(patient, "course", None)
    if patient.dose_changes.filter(drug="thalidomide").exists():
        messages.info(request, "Thalidomide has been started already: use Change dose.")
        return redirect("visits:dose_change", code=patient.code)
    initial = {}
    if course:
        initial.update(
            consent_signed_date=course.consent_signed_date,
            contraception_counselling_date=course.contraception_counselling_date,
            target_dose_mg=course.target_dose_mg,
            regimen=course.regimen,
            regimen_reason=course.regimen_reason,
        )
    form = TherapyStartForm(request.POST or None, patient=patient, initial=initial)
    start_date = form.fields["start_date"].initial
    decision = None
    if form.is_bound and form.is_valid():
        decision = dosing.check_dose(
            patient, drug="thalidomide", date=form.cleaned_data["start_date"], dose_mg=form.cleaned_data["dose_mg"]
        )
    if form.is_bound and form.is_valid():
        start_date = form.cleaned_data["start_date"]
        row = _run_service(
            form,
            lambda: dosing.therapy_start(
                actor=request.user,
                patient=patient,
                **{k: v for k, v in form.cleaned_data.items()},
            ),
        )
        if row:
            messages.success(request, f"Thalidomide started at {row.dose_mg.normalize():f} mg/day on {row.date:%Y-%m-%d}.")
            return redirect("patients:detail", code=patient.code)
    elif form.is_bound:
        start_date = form.cleaned_data.get("start_date") or start_date
    if request.method == "POST":
        messages.error(request, "Thalidomide was not started: see below.")
    start_date = start_date or timezone.localdate()
    return render(
        request,
        "visits/therapy_start.html",
        {
            "form": form,
            "patient": patient,
            "decision": decision,
            "checklist": dosing.checklist(patient, start_date=start_date),
        },
    )


@require_permission("safety.add_pregnancytest")
def pregnancy_test_create(request, code):
    patient = patient_for(request, code, perm="safety.add_pregnancytest")
    form = PregnancyTestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        test = _run_service(
            form,
            lambda: dosing.pregnancy_test_record(actor=request.user, patient=patient, **form.cleaned_data),
        )
        if test:
            if test.result == "positive":
                messages.error(
                    request,
                    f"POSITIVE pregnancy test of {test.date:%Y-%m-%d} recorded: thalidomide must stop now; "
                    "the clinician is alerted (R5.2).",
                )
            else:
                messages.success(request, f"Negative pregnancy test of {test.date:%Y-%m-%d} recorded.")
            return redirect("patients:detail", code=patient.code)
    return render(request, "visits/simple_form.html", {
        "form": form, "patient": patient, "title": "Record a pregnancy test",
        "intro": "Females of reproductive potential: before the start, then every 7 days to day 28, "
                 "then every 28 days (regular cycles) or 14 days (irregular or unknown), and 28 days after the stop (R5.2).",
    })


@require_permission("visits.record_contraception")
def contraception_create(request, code):
    patient = patient_for(request, code, perm="visits.record_contraception")
    form = ContraceptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        visit = _run_service(
            form,
            lambda: dosing.contraception_confirm(actor=request.user, patient=patient, **form.cleaned_data),
        )
        if visit:
            if visit.contraception_confirmed:
                messages.success(request, f"Contraception confirmed on {visit.date:%Y-%m-%d}.")
            else:
                messages.error(request, "Contraception NOT confirmed: an urgent alert is raised for the clinician (R5.3).")
            return redirect("patients:detail", code=patient.code)
    return render(request, "visits/simple_form.html", {
        "form": form, "patient": patient, "title": "Record a contraception confirmation",
        "intro": "During therapy, through interruptions and for 6 months after the last dose (R5.3): "
                 "females of reproductive potential two methods (one highly effective); males condoms.",
    })
