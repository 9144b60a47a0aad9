"""Patient pages: list, create, edit, detail, history. Short views: role, then object, then one action or selector."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from patients import selectors
from patients.access import patient_view
from patients.actions import patient_create, patient_transfer, patient_update
from patients.forms import CourseForm, PatientForm, PatientSearchForm, TransferForm
from patients.models import Patient, site_ids_of
from safety import selectors as safety_selectors
from thalimon import saying
from thalimon.access import require_permission
from thalimon.forms import run_action
from thalimon.navigation import next_url
from thalimon.roles import CLINICIAN
from thalimon.urls_util import url_pattern
from therapy import records as therapy_records
from therapy import selectors as therapy_selectors
from therapy.actions import course_save
from visits import selectors as visit_selectors

PAGE_SIZE = 25
# A search counts its matches up to this many; past it the page says "more than 1,000 match"
# and lists the first 40 pages (a search that broad wants a narrower one). Counting every
# match was the search's slowest query (a scan of every patient's code and name).
SEARCH_COUNT_CAP = 1000


class SearchPaginator(Paginator):
    """Pages of a search: ``count`` stops at SEARCH_COUNT_CAP + 1 (``capped`` says so)."""

    @cached_property
    def count(self):
        return min(self.object_list.values("pk")[: SEARCH_COUNT_CAP + 1].count(), SEARCH_COUNT_CAP + 1)

    @property
    def capped(self):
        return self.count > SEARCH_COUNT_CAP

    @cached_property
    def num_pages(self):
        return super().num_pages if not self.capped else -(-SEARCH_COUNT_CAP // self.per_page)


def _can_see_identity(user):
    return user.has_perm("patients.view_patient_identity")


@require_permission("patients.view_patient")
def patient_list(request):
    """Patients with their doses, last visit and status, next due and urgent events, in one
    query a page (the columns are subqueries on indexed keys: patients.selectors)."""
    show_identity = _can_see_identity(request.user)
    form = PatientSearchForm(request.GET or None, show_identity=show_identity)
    patients = Patient.objects.visible_to(request.user)
    today = timezone.localdate()
    options = {"today": today}
    searched = False
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        searched = bool(query)
        if query:
            match = Q(code__icontains=query)
            if show_identity:  # never let a name search reveal names to other roles
                match |= Q(full_name__icontains=query)
            patients = patients.filter(match)
        if form.cleaned_data["diagnosis"]:
            patients = patients.filter(diagnosis=form.cleaned_data["diagnosis"])
        options.update(show=form.cleaned_data["show"], seen_on=form.cleaned_data["seen_on"],
                       sort=form.cleaned_data["sort"] or "code")
    paginator = SearchPaginator if searched else Paginator
    page = paginator(selectors.patient_rows(patients, **options), PAGE_SIZE).get_page(request.GET.get("page"))
    detail_url = url_pattern("patients:detail")
    page.object_list = selectors.attach_care_team(list(page.object_list))  # the page's rows only: one query
    for patient in page:
        patient.age = patient.age_on(today)
        patient.url = detail_url(patient.code)
    querystring = request.GET.copy()
    querystring.pop("page", None)
    sort_links = request.GET.copy()
    sort_links.pop("page", None)
    sort_links.pop("sort", None)
    return render(
        request,
        "patients/patient_list.html",
        {
            "form": form,
            "page": page,
            "show_identity": show_identity,
            "querystring": querystring.urlencode(),
            "sort_query": sort_links.urlencode(),
            "sort": options.get("sort", "code"),
            "today": today,
            "search_cap": SEARCH_COUNT_CAP,
        },
    )


def _save_form(request, form, save):
    """Bind, validate, call the action; a refused save changes nothing."""
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "code" or not form.instance.pk}
        if not form.instance.pk:
            data.pop("expected_version", None)
        return run_action(form, lambda: save(data))
    return None


@require_permission("patients.add_patient")
def patient_create_view(request):
    show_identity = _can_see_identity(request.user)
    initial = {}
    if request.user.groups.filter(name=CLINICIAN).exists():
        initial["responsible_clinician"] = request.user
    form = PatientForm(request.POST or None, initial=initial, show_identity=show_identity, user=request.user)
    if request.method == "POST":
        patient = _save_form(request, form, lambda data: patient_create(actor=request.user, **data))
        if patient:
            messages.success(request, _("Patient %(code)s created.") % {"code": patient.code})
            return redirect(patient)
        messages.error(request, _("The patient was not saved: please correct the fields marked below."))
    return render(request, "patients/patient_form.html", {"form": form, "patient": None})


@patient_view("patients.change_patient")
def patient_edit_view(request, patient):
    show_identity = _can_see_identity(request.user)
    form = PatientForm(request.POST or None, instance=patient, show_identity=show_identity, user=request.user)
    if request.method == "POST":
        saved = _save_form(
            request,
            form,
            lambda data: patient_update(actor=request.user, patient=patient, **data),
        )
        if saved:
            messages.success(request, _("Patient %(code)s saved.") % {"code": saved.code})
            return redirect(saved)
        messages.error(request, _("Nothing was saved: please correct the fields marked below."))
    return render(request, "patients/patient_form.html", {"form": form, "patient": patient})


@patient_view("patients.view_patient")
def patient_detail(request, patient):
    today = timezone.localdate()
    clinical = visit_selectors.patient_clinical(patient, as_of=today)
    dosing = therapy_selectors.patient_dosing(patient, as_of=today)
    if dosing.get("dose_figure"):
        clinical["figures"] = {"dose": dosing.pop("dose_figure"), **clinical["figures"]}
    flowsheet = therapy_selectors.flowsheet(
        patient=patient, course=clinical["course"], visits=clinical["visits"], lab_cells=clinical["lab_cells"],
        thal_rows=dosing["thalidomide_rows"], aza_rows=dosing["azathioprine_rows"], tests=dosing["pregnancy_tests"],
        show_all=request.GET.get("dates") == "all",
    )
    safety = safety_selectors.patient_safety(patient, request.user)
    return render(
        request,
        "patients/patient_detail.html",
        {
            "patient": patient,
            "show_identity": _can_see_identity(request.user),
            "age": patient.age_on(today),
            "risk_flags": selectors.relapse_risk_flags(patient),
            "care_periods": selectors.care_periods(patient),
            "flowsheet": flowsheet,
            **clinical,
            **dosing,
            **safety,
            "data_checks": safety_selectors.patient_data_checks(
                patient=patient, visits=clinical["visits"], lab_cells=clinical["lab_cells"],
                adverse_events=safety["adverse_events"], thalidomide_rows=dosing["thalidomide_rows"], as_of=today,
            ),
            **therapy_selectors.patient_prescriptions(patient, as_of=today),
            "today": today,
        },
    )


@patient_view("therapy.change_therapycourse")
def course_edit(request, patient):
    """Target dose, regimen and stop of a started course. The start is shown read-only:
    it is recorded only by the start-of-therapy checklist (therapy:therapy_start)."""
    course = getattr(patient, "course", None)
    form = CourseForm(request.POST or None, instance=course, patient=patient)
    if request.method == "POST":
        saved = _save_form(
            request, form, lambda data: course_save(actor=request.user, patient=patient, **data)
        )
        if saved:
            messages.success(request, _("Thalidomide course of %(code)s saved.") % {"code": patient.code})
            return redirect(patient)
        messages.error(request, _("The course was not saved: please correct the fields marked below."))
    start = therapy_records.start_record_for(patient, on=timezone.localdate())
    return render(request, "patients/course_form.html", {"form": form, "patient": patient, "start": start})


@patient_view("patients.view_patient")
def patient_history(request, patient):
    """Every change to the patient's clinical record, newest first, one kind at a time on request."""
    kind = request.GET.get("kind") if request.GET.get("kind") in selectors.HISTORY_KINDS else ""
    entries = selectors.patient_full_history(patient, show_identity=_can_see_identity(request.user), kind=kind)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "patients/patient_history.html",
        {"patient": patient, "entries": page, "page": page, "kind": kind,
         "kinds": [(key, label) for key, (label, _model, _name) in selectors.HISTORY_KINDS.items()]},
    )


# --- transfers between sites (issue 18) ------------------------------------------------------
@patient_view("patients.transfer_patient")
def patient_transfer_view(request, patient):
    """Record a transfer of the patient to another site (a clinician of the patient's site).
    Afterwards the user returns where they came from while they may still open the patient;
    a transfer to a site they are not a member of lands on the Transfers page (the patient's
    pages now answer 404 to them)."""
    form = TransferForm(request.POST or None, patient=patient)
    if request.method == "POST":
        transfer = _save_form(request, form, lambda data: patient_transfer(actor=request.user, patient=patient, **data))
        if transfer:
            messages.success(request, _("Patient %(code)s transferred from %(from)s to %(to)s on %(date)s.") % {
                "code": patient.code, "from": transfer.from_site.code, "to": transfer.to_site.code,
                "date": saying.day(transfer.date)})
            if patient.may_be_opened_by(request.user):
                return redirect(next_url(request, patient.get_absolute_url()))
            return redirect("patients:transfers")
        messages.error(request, _("The transfer was not recorded: please correct the fields marked below."))
    return render(request, "patients/transfer_form.html", {
        "form": form, "patient": patient, "next": next_url(request, ""), "care_periods": selectors.care_periods(patient),
    })


@require_permission("patients.view_patient")
def transfer_list(request):
    """The transfers into and out of the user's sites, codes only: where a site's patient
    went (or came from) without opening the record."""
    rows, left_out = selectors.site_transfers(request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    site_ids = set(site_ids_of(request.user))
    detail_url = url_pattern("patients:detail")
    for transfer in page:
        transfer.url = detail_url(transfer.patient.code) if transfer.patient.site_id in site_ids else ""
    return render(request, "patients/transfer_list.html", {"page": page, "left_out": left_out.count()})
