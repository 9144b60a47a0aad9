"""Therapy pages: change dose (with a live rule check), start-of-therapy
checklist, pregnancy tests, contraception confirmations and prescriptions (R9:
issue with a live check, edit, dispense, the authorisation form as PDF)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from patients.access import ROLE_REFUSED_MESSAGE, patient_view
from safety import selectors as safety_selectors
from thalimon import saying
from thalimon.forms import run_action
from thalimon.navigation import next_url
from thalimon.rules_config import rule_settings
from therapy import actions, records, selectors
from therapy.forms import (
    ContraceptionForm,
    DispenseForm,
    DoseChangeForm,
    PregnancyTestForm,
    PrescriptionForm,
    TherapyStartForm,
)
from therapy.models import Drug, Prescription
from therapy.rules import doses as dose_rules
from therapy.rules import pregnancy as pregnancy_rules
from therapy.rules import prescriptions as prescription_rules

CHECKED_FIELDS = ("drug", "date", "dose_mg")


def _decision_for(patient, form):
    """The live rule check of the form as typed: (decision, the checked fields' errors). No verdict
    while a checked field is missing or wrong (a green "within the rules" next to "cannot
    be in the future" would contradict the field)."""
    if not form.is_bound:
        return None, []
    form.is_valid()
    invalid = [error for name in CHECKED_FIELDS for error in form.errors.get(name, [])]
    if invalid:
        return None, invalid
    data = getattr(form, "cleaned_data", {})
    if not all(data.get(key) is not None for key in CHECKED_FIELDS):
        return None, []
    return records.check_dose(patient, drug=data["drug"], date=data["date"], dose_mg=data["dose_mg"]), []


def _refusal_once(form, decision):
    """The rule check already lists the reasons of a refusal: the dose field says only where
    to read them (the same sentences are not shown twice)."""
    reasons = {saying.render(f.reason) for f in (decision.blocking + decision.hard_blocks)} if decision else set()
    errors = form.errors.get("dose_mg")
    if not reasons or not errors or not reasons & set(errors):
        return
    said = {str(actions.DOSE_REFUSED), str(actions.DOSE_NO_OVERRIDE)}
    kept = [e for e in errors if e not in reasons and e not in said]
    form.errors["dose_mg"] = form.error_class(
        [gettext("Refused: the rule check below says why."), *kept], renderer=getattr(form, "renderer", None)
    )


@patient_view("therapy.add_dosechange")
def dose_change_view(request, patient):
    initial = {}
    if request.GET.get("drug") in ("thalidomide", "azathioprine"):
        initial["drug"] = request.GET["drug"]
    if request.GET.get("dose"):
        initial["dose_mg"] = request.GET["dose"]
    if request.GET.get("reason"):
        initial["reason"] = request.GET["reason"][:200]
    dosing = selectors.patient_dosing(patient) if request.method != "POST" else None  # a save reads it after
    suggestion = dosing.get("suggestion") if dosing else None
    if (not request.GET.get("dose") and initial.get("drug", Drug.THALIDOMIDE) == Drug.THALIDOMIDE and suggestion
            and suggestion.dose_mg and suggestion.allowed_from and suggestion.allowed_from <= timezone.localdate()):
        # The step the rules suggest, once it is allowed (R3.2/R3.3); checked live as typed.
        initial.update(dose_mg=suggestion.dose_mg, reason=initial.get("reason") or gettext("scheduled step"))
    form = DoseChangeForm(request.POST or None, patient=patient, initial=initial)
    decision, fields_invalid = _decision_for(patient, form)  # before the service: a refusal removes the dose
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        row = run_action(
            form,
            lambda: actions.dose_change_record(
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
            messages.success(request, selectors.dose_recorded_text(row))
            return redirect(next_url(request, patient.get_absolute_url()))
        messages.error(request, gettext("The dose change was not recorded: see the reasons below."))
        _refusal_once(form, decision)
        # The service's refusals on the date (order, future) leave no verdict either.
        fields_invalid = fields_invalid or form.errors.get("date", [])
    return render(
        request,
        "therapy/dose_change.html",
        {
            "form": form,
            "patient": patient,
            "next": next_url(request, ""),
            "decision": None if fields_invalid else decision,
            "fields_invalid": fields_invalid,
            "override_open": _override_open(decision, fields_invalid),
            "neuropathy_check": safety_selectors.neuropathy_data_check(patient, as_of=timezone.localdate()),
            **(dosing or selectors.patient_dosing(patient)),
        },
    )


@patient_view("therapy.add_dosechange")
def dose_check(request, patient):
    """htmx: the proposed change checked against the rules while the clinician types."""
    form = DoseChangeForm(request.POST or None, patient=patient)
    decision, fields_invalid = _decision_for(patient, form)
    override_open = _override_open(decision, fields_invalid)
    # The override fields are swapped in only when they open or close: never while a
    # reason is being typed in them (an open fieldset posts override_shown=open).
    changed = override_open != (request.POST.get("override_shown") == "open")
    return render(request, "therapy/_dose_check.html", {
        "decision": decision, "fields_invalid": fields_invalid, "form": form, "patient": patient,
        "oob": changed, "override_open": override_open, "live": True,
    })


def _override_open(decision, fields_invalid):
    """An override is offered only for a rule an override may pass (never a hard block)."""
    return bool(decision and decision.blocking and not decision.hard_blocks and not fields_invalid)


@patient_view("therapy.add_dosechange")
def therapy_start_view(request, patient):
    """The only page that starts thalidomide: the first dose, or a new start more than
    28 days after a stop (R3.1), with the start-of-therapy checklist."""
    course = getattr(patient, "course", None)
    if records.thalidomide_active(records.dose_rows_for(patient, Drug.THALIDOMIDE), timezone.localdate()):
        messages.info(request, gettext("Thalidomide is being taken: use Change dose."))
        return redirect("therapy:dose_change", code=patient.code)
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
        decision = records.check_dose(
            patient, drug="thalidomide", date=form.cleaned_data["start_date"], dose_mg=form.cleaned_data["dose_mg"]
        )
    if form.is_bound and form.is_valid():
        start_date = form.cleaned_data["start_date"]
        row = run_action(
            form,
            lambda: actions.therapy_start(
                actor=request.user,
                patient=patient,
                **{k: v for k, v in form.cleaned_data.items()},
            ),
        )
        if row:
            messages.success(request, gettext("Thalidomide started at %(dose)s mg/day on %(date)s.")
                             % {"dose": f"{row.dose_mg.normalize():f}", "date": saying.day(row.date)})
            return redirect(next_url(request, patient.get_absolute_url()))
    elif form.is_bound:
        start_date = form.cleaned_data.get("start_date") or start_date
    if request.method == "POST":
        messages.error(request, gettext("Thalidomide was not started: see below."))
    start_date = start_date or timezone.localdate()
    return render(
        request,
        "therapy/therapy_start.html",
        {
            "form": form,
            "patient": patient,
            "decision": decision,
            "start_page": True,
            "checklist": records.checklist(patient, start_date=start_date),
        },
    )


@patient_view("therapy.add_pregnancytest")
def pregnancy_test_create(request, patient):
    form = PregnancyTestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        test = run_action(
            form,
            lambda: actions.pregnancy_test_record(actor=request.user, patient=patient, **form.cleaned_data),
        )
        if test:
            if test.result == "positive":
                messages.error(
                    request,
                    gettext("POSITIVE pregnancy test of %(date)s recorded: thalidomide must stop "
                            "now; the clinician is alerted (R5.2).") % {"date": saying.day(test.date)},
                )
            else:
                messages.success(request, gettext("Negative pregnancy test of %(date)s recorded.") % {"date": saying.day(test.date)})
            return redirect(next_url(request, patient.get_absolute_url()))
    return render(request, "visits/simple_form.html", {
        "form": form, "patient": patient, "next": next_url(request, ""), "title": gettext("Record a pregnancy test"),
        "intro": gettext(
            "Females of reproductive potential: before the start, then every %(early)s days to day %(until)s, "
            "then every %(regular)s days (regular cycles) or %(irregular)s days (irregular or unknown), and "
            "%(after)s days after the stop (R5.2)."
        ) % {
            "early": pregnancy_rules.PREGNANCY_EARLY_INTERVAL_DAYS, "until": pregnancy_rules.PREGNANCY_EARLY_UNTIL_DAY,
            "regular": pregnancy_rules.PREGNANCY_REGULAR_INTERVAL_DAYS,
            "irregular": pregnancy_rules.PREGNANCY_IRREGULAR_INTERVAL_DAYS,
            "after": pregnancy_rules.PREGNANCY_AFTER_STOP_DAYS,
        },
    })


@patient_view("therapy.record_contraception")
def contraception_create(request, patient):
    form = ContraceptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        visit = run_action(
            form,
            lambda: actions.contraception_confirm(actor=request.user, patient=patient, **form.cleaned_data),
        )
        if visit:
            if visit.contraception_confirmed:
                messages.success(request, gettext("Contraception confirmed on %(date)s.") % {"date": saying.day(visit.date)})
            else:
                messages.error(request, gettext("Contraception NOT confirmed: an urgent alert is raised for the clinician (R5.3)."))
            return redirect(next_url(request, patient.get_absolute_url()))
    return render(request, "visits/simple_form.html", {
        "form": form, "patient": patient, "next": next_url(request, ""), "title": gettext("Record a contraception confirmation"),
        "intro": gettext(
            "During therapy, through interruptions and for %(days)s days after the last dose (R5.3): females of "
            "reproductive potential two methods (one highly effective); males condoms."
        ) % {"days": rule_settings().contraception_period_days},
    })


# --- R9 prescriptions ------------------------------------------------------------------
RX_CHECKED_FIELDS = ("issue_date", "dose_mg", "days_supply")


def _prescription_form(request, patient, *, prescription=None):
    """The prescription form with the facts it states (programme, category, limits), bound to a POST."""
    on = prescription.issue_date if prescription else timezone.localdate()
    dose_in_force = selectors.thalidomide_dose_in_force(patient, on=on)
    facts = selectors.prescription_facts(patient, on=on, dose_in_force=dose_in_force)
    initial = {}
    if prescription is not None:
        initial = {
            "issue_date": prescription.issue_date, "dose_mg": prescription.dose_mg,
            "days_supply": prescription.days_supply, "authorisation": prescription.authorisation,
            "contraception_confirmed": "yes" if prescription.contraception_confirmed else "no",
        }
    elif request.GET.get("dose"):
        initial["dose_mg"] = request.GET["dose"][:10]
    check_url = reverse("therapy:prescription_check", args=[patient.code])
    if prescription is not None:
        check_url += f"?edit={prescription.pk}"
    data = request.POST if request.method == "POST" else None
    return PrescriptionForm(data, patient=patient, facts=facts, check_url=check_url, initial=initial,
                            editing=prescription is not None), facts


def _prescription_checked(patient, form, *, exclude_id=None):
    """(R9.3 check, dose decision or None, the checked fields' errors) of the form as typed;
    no verdict while a checked field is missing or wrong."""
    if not form.is_bound:
        return None, None, []
    form.is_valid()
    invalid = [error for name in RX_CHECKED_FIELDS for error in form.errors.get(name, [])]
    data = getattr(form, "cleaned_data", {})
    if invalid or not all(data.get(key) is not None for key in RX_CHECKED_FIELDS):
        return None, None, invalid
    change_dose = bool(data.get("change_dose"))
    row = prescription_rules.PrescriptionRow(
        issue_date=data["issue_date"], dose_mg=data["dose_mg"], days_supply=data["days_supply"],
        contraception_confirmed=bool(data.get("contraception_confirmed")), authorisation=data.get("authorisation") or "",
    )
    check = selectors.prescription_preview(patient, row, exclude_id=exclude_id, dose_change=change_dose)
    decision = (
        records.check_dose(patient, drug=Drug.THALIDOMIDE, date=data["issue_date"], dose_mg=data["dose_mg"])
        if change_dose else None
    )
    return check, decision, []


def _rx_override_open(check, decision, fields_invalid):
    """The override box opens only after a refusal an override may pass: some code or dose
    deviation, and none that no override passes (R9.3, R3.5)."""
    if fields_invalid or check is None:
        return False
    dose_blocks = bool(decision and (decision.blocking or decision.starts_thalidomide))
    dose_hard = bool(decision and (decision.hard_blocks or decision.starts_thalidomide))
    return bool((check.deviations or dose_blocks) and check.overridable and not dose_hard)


def _rx_context(patient, form, facts, check, decision, fields_invalid, **extra):
    return {
        "form": form, "patient": patient, "facts": facts, "check": check, "decision": decision,
        "fields_invalid": fields_invalid, "override_open": _rx_override_open(check, decision, fields_invalid),
        "no_override_codes": prescription_rules.NO_OVERRIDE_CODES, **extra,
    }


def _errors_by_part(form, error):
    """A combined refusal names ``dose:field`` or ``prescription:field``: each goes on the form's field."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        part, _, field = name.rpartition(":")
        if part == "dose" and field in ("date", "dose_mg", "reason", "override_reason"):
            field = {"date": "issue_date"}.get(field, field)
            errors = [gettext("Dose change: %(error)s") % {"error": e} for e in errors]
        form.add_error(field if field in form.fields else None, errors)


def _issue(request, patient, form):
    data = form.cleaned_data
    fields = {
        "days_supply": data["days_supply"], "contraception_confirmed": data["contraception_confirmed"],
        "authorisation": data.get("authorisation") or "", "override_reason": data["override_reason"],
    }
    try:
        if data.get("change_dose"):
            _row, rx = actions.dose_change_with_prescription(
                actor=request.user, patient=patient, date=data["issue_date"], dose_mg=data["dose_mg"],
                reason=data.get("reason") or "", **fields,
            )
            rx.with_dose_change = True
        else:
            rx = actions.prescription_record(
                actor=request.user, patient=patient, issue_date=data["issue_date"], dose_mg=data["dose_mg"], **fields
            )
    except ValidationError as error:
        _errors_by_part(form, error)
        return None
    return rx


def _saved(request, rx, edited):
    date = saying.day(rx.issue_date)
    what = [gettext("Prescription of %(date)s changed") % {"date": date} if edited
            else gettext("Prescription of %(date)s issued") % {"date": date}]
    if rx.override_reason:
        what.append(gettext("with an override"))
    if getattr(rx, "with_dose_change", False):
        what.append(gettext("with the dose change to %(dose)s mg/day from %(date)s")
                    % {"dose": dose_rules.fmt(rx.dose_mg), "date": date})
    what = " ".join(what)
    messages.success(
        request, gettext("%(what)s: thalidomide %(dose)s mg/day for %(days)s days (%(units)s units). Print the form "
                         "and sign it.") % {"what": what, "dose": dose_rules.fmt(rx.dose_mg), "days": rx.days_supply,
                                            "units": dose_rules.fmt(rx.quantity_units)}
        if rx.quantity_units is not None else gettext("%(what)s.") % {"what": what},
    )
    return redirect("therapy:prescription_dispense", pk=rx.pk)


@patient_view("therapy.add_prescription")
def prescription_new(request, patient):
    """Issue a thalidomide prescription (R9), checked live; with a dose change on the issue
    date in the same step when the clinician ticks it."""
    form, facts = _prescription_form(request, patient)
    check, decision, fields_invalid = _prescription_checked(patient, form)
    if request.method == "POST" and form.is_valid():
        rx = _issue(request, patient, form)
        if rx:
            return _saved(request, rx, edited=False)
        messages.error(request, gettext("The prescription was not issued: see the reasons below."))
    return render(request, "therapy/prescription_form.html",
                  _rx_context(patient, form, facts, check, decision, fields_invalid))


@patient_view("therapy.add_prescription")
def prescription_check(request, patient):
    """htmx: the prescription checked against the rules (R9.3) while the clinician types."""
    edited = Prescription.objects.filter(patient=patient, pk=request.GET.get("edit") or 0).first() \
        if (request.GET.get("edit") or "").isdigit() else None
    form, facts = _prescription_form(request, patient, prescription=edited)
    check, decision, fields_invalid = _prescription_checked(patient, form, exclude_id=edited.pk if edited else None)
    context = _rx_context(patient, form, facts, check, decision, fields_invalid, live=True)
    context["oob"] = context["override_open"] != (request.POST.get("override_shown") == "open")
    return render(request, "therapy/_prescription_check.html", context)


@patient_view("therapy.change_prescription", record=Prescription)
def prescription_edit(request, rx):
    patient = rx.patient
    form, facts = _prescription_form(request, patient, prescription=rx)
    check, decision, fields_invalid = _prescription_checked(patient, form, exclude_id=rx.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = run_action(form, lambda: actions.prescription_update(
            actor=request.user, prescription=rx, override_reason=data["override_reason"],
            **{name: data[name] for name in actions.PRESCRIPTION_EDIT_FIELDS if name in data},
        ))
        if saved:
            return _saved(request, saved, edited=True)
        messages.error(request, gettext("The prescription was not changed: see the reasons below."))
    return render(request, "therapy/prescription_form.html",
                  _rx_context(patient, form, facts, check, decision, fields_invalid, prescription=rx))


@patient_view("therapy.view_prescription", record=Prescription)
def prescription_dispense(request, rx):
    """The prescription as issued, its status and checks, the form to print, and (nurse or
    clinician) the dispensing record."""
    may_dispense = request.user.has_perm("therapy.record_dispensing")
    today = timezone.localdate()
    rx.status_key, rx.status_text = selectors.prescription_status(rx, today=today)
    form = DispenseForm(request.POST or None, late=rx.status_key == "expired") if may_dispense else None
    if request.method == "POST":
        if not may_dispense:
            raise PermissionDenied(ROLE_REFUSED_MESSAGE)
        if form.is_valid():
            done = run_action(form, lambda: actions.prescription_dispense(
                actor=request.user, prescription=rx, dispensed_date=form.cleaned_data["dispensed_date"],
                late_reason=form.cleaned_data.get("late_reason", "")))
            if done:
                messages.success(request, gettext("Dispensing on %(date)s recorded.") % {"date": saying.day(done.dispensed_date)})
                return redirect(next_url(request, rx.patient.get_absolute_url()))
        messages.error(request, gettext("The dispensing was not recorded: see below."))
    return render(request, "therapy/prescription_detail.html", {
        "rx": rx, "patient": rx.patient, "form": form if rx.status_key in ("waiting", "expired") else None,
        "programme_title": selectors.programme_title(rx.programme), "today": today,
        "codes": selectors.prescription_codes(rx),
        "editable": rx.status_key == "waiting" and request.user.has_perm("therapy.change_prescription"),
    })


@patient_view("therapy.view_prescription", record=Prescription)
def prescription_pdf(request, rx):
    from reports.pdf import prescription_form_pdf  # WeasyPrint loads only when a PDF is asked for

    content = prescription_form_pdf(rx, show_identity=request.user.has_perm("patients.view_patient_identity"))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="prescription-{rx.patient.code}-{rx.issue_date:%Y-%m-%d}.pdf"'
    )
    return response
