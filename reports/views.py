"""Cohort report page and downloads, datasheet upload with progress, visit PDF."""

import zipfile

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patients.access import patient_view
from patients.models import site_ids_of
from reports import charts, exports
from reports.access import report_site_choices, site_choice
from reports.actions import import_job_queue, live_progress
from reports.cohort import ALL_DIAGNOSES
from reports.datasheet.reading import MAX_COLUMNS, MAX_ROWS
from reports.datasheet.template import datasheet_template
from reports.models import ImportJob
from reports.selectors import cached_cohort_report as cohort_report
from reports.selectors import figure_listing, figure_members, recent_cohort_report
from reports.tables import diagnosis_name, figure_caption, report_tables, site_line
from safety.selectors import safety_decisions
from sites.models import Site
from thalimon.access import require_permission
from visits.models import Visit

CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class SiteField(forms.ChoiceField):
    """A site of ``site_choices`` (reports/access.py), its code compared ignoring case."""

    def __init__(self, *, site_choices, **kwargs):
        self.site_choices = site_choices
        super().__init__(choices=[(choice.value, choice.label) for choice in site_choices], **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        choice = site_choice(self.site_choices, value)
        return choice.value if choice else value


class ReportFilterForm(forms.Form):
    """The report's filters. ``user`` decides the Site filter's choices
    (reports/access.py): a site outside them is an error naming the field."""

    as_of = forms.DateField(
        label=gettext_lazy("As of"), required=False, input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("As of: enter a date as YYYY-MM-DD.")},
    )
    diagnosis = forms.ChoiceField(
        choices=[("CD", gettext_lazy("Crohn's disease")), ("UC", gettext_lazy("Ulcerative colitis")),
                 ("AID", gettext_lazy("Autoinflammatory disease")), (ALL_DIAGNOSES, gettext_lazy("All diagnoses"))],
        required=False, widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": format_lazy(gettext_lazy("Diagnosis: choose CD, UC, AID or {all}."), all=ALL_DIAGNOSES)},
    )

    def __init__(self, data=None, *, user):
        super().__init__(data)
        self.site_choices = report_site_choices(user)
        codes = ", ".join(choice.value for choice in self.site_choices if choice.value) or _("none")
        self.fields["site"] = SiteField(
            label=gettext_lazy("Site"), required=False, site_choices=self.site_choices,
            widget=forms.Select(attrs={"class": "form-select"}),
            error_messages={"invalid_choice": _("Site: choose one of the sites offered (%(codes)s).") % {"codes": codes}},
        )

    def clean_as_of(self):
        value = self.cleaned_data.get("as_of")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("As of: the report cannot look into the future."))
        return value

    def chosen_site(self):
        """The site choice asked for (the default while the form is not valid)."""
        value = self.cleaned_data.get("site", "") if self.is_bound and self.is_valid() else ""
        return site_choice(self.site_choices, value)


def _filters(request):
    """The filters asked for; an invalid one is reported, never silently replaced."""
    form = ReportFilterForm(request.GET or None, user=request.user)
    as_of, diagnosis = timezone.localdate(), "CD"
    if form.is_valid():
        as_of = form.cleaned_data["as_of"] or as_of
        diagnosis = form.cleaned_data["diagnosis"] or diagnosis
    return form, as_of, diagnosis, form.chosen_site()


def _filter_query(as_of, diagnosis, site):
    """The query string of these filters, for the links between the page and its drill-downs."""
    query = QueryDict(mutable=True)
    query.update({"as_of": f"{as_of:%Y-%m-%d}", "diagnosis": diagnosis})
    if site.value:
        query["site"] = site.value
    return query.urlencode()


def _filter_errors(form):
    return [e for field in form for e in field.errors] if form.is_bound and not form.is_valid() else []


@require_permission("reports.view_cohort_report")
def report_page(request):
    form, as_of, diagnosis, site = _filters(request)
    if _filter_errors(form):
        return render(request, "reports/report.html", {"form": form, "invalid": True}, status=400)
    report, computed_at = recent_cohort_report(
        as_of=as_of, diagnosis=diagnosis, site_ids=site.site_ids, fresh="fresh" in request.GET
    )
    figures = charts.report_figures(report, say=_)
    query = request.GET.copy()
    query.pop("fresh", None)
    return render(
        request,
        "reports/report.html",
        {"form": form, "report": report, "tables": report_tables(report), "figures": figures,
         "query": query.urlencode(), "figure_query": _filter_query(as_of, diagnosis, site),
         "site_line": site_line(report, own=site.own),
         "safety_decisions": safety_decisions(as_of, site_ids=site.site_ids), "computed_at": computed_at,
         "recent_minutes": settings.THALIMON_REPORT_RECENT_SECONDS // 60},
    )


@require_permission("reports.view_cohort_report")
def report_download(request, fmt):
    if fmt not in CONTENT_TYPES:
        return HttpResponse(_("Unknown format: choose json, csv, xlsx or pdf."), status=404)
    form, as_of, diagnosis, site = _filters(request)
    errors = _filter_errors(form)
    if errors:
        return HttpResponse(" ".join(errors), status=400, content_type="text/plain; charset=utf-8")
    report = cohort_report(as_of=as_of, diagnosis=diagnosis, site_ids=site.site_ids)
    if fmt == "json":
        content = exports.as_json(report)
    elif fmt == "csv":
        content = exports.as_csv(report)
    elif fmt == "xlsx":
        content = exports.as_xlsx(report)
    else:
        from reports.pdf import cohort_report_pdf

        content = cohort_report_pdf(report)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    # The site's code when one is chosen (a code is letters, digits, - and _); the default
    # (a clinic lead's own sites, a network lead's whole network) keeps the name it had.
    where = f"-{site.value}" if site.value else ""
    response["Content-Disposition"] = f'attachment; filename="cohort-{diagnosis}{where}-{as_of:%Y-%m-%d}.{fmt}"'
    return response


CODES_PER_PAGE = 500


@require_permission("reports.view_cohort_report")
def figure_patients(request, key):
    """The patient codes behind one count of the report (Tables 2 and 4, relapse, titration),
    of the same sites as the report's (the Site filter)."""
    form, as_of, diagnosis, site = _filters(request)
    errors = _filter_errors(form)
    if errors:
        return render(request, "reports/figure_patients.html", {"errors": errors}, status=400)
    figure = figure_members(as_of=as_of, diagnosis=diagnosis, key=key, site_ids=site.site_ids)
    if figure is None:
        raise Http404(_("The cohort report has no such count."))
    # exact: its count is shown beside the codes
    report = cohort_report(as_of=as_of, diagnosis=diagnosis, site_ids=site.site_ids)
    listing = figure_listing(figure, request.user)
    return render(request, "reports/figure_patients.html", {
        "figure": figure, "caption": figure_caption(report_tables(report), key), "listing": listing,
        "page": Paginator(listing["rows"], CODES_PER_PAGE).get_page(request.GET.get("page")),
        "as_of": as_of, "diagnosis": diagnosis, "diagnosis_name": diagnosis_name(diagnosis),
        "site_line": site_line(report, own=site.own), "query": _filter_query(as_of, diagnosis, site),
    })


@patient_view("visits.view_visit", record=Visit)
def visit_pdf(request, visit):
    from reports.pdf import visit_summary_pdf  # WeasyPrint loads only when a PDF is asked for

    show_identity = request.user.has_perm("patients.view_patient_identity")
    response = HttpResponse(visit_summary_pdf(visit, show_identity=show_identity), content_type="application/pdf")
    # inline: the browser opens it, ready to print; the name is kept for saving it
    response["Content-Disposition"] = f'inline; filename="visit-{visit.patient.code}-{visit.date:%Y-%m-%d}.pdf"'
    return response


def upload_limits():
    return {"megabytes": settings.THALIMON_MAX_DATASHEET_BYTES // (1024 * 1024), "columns": MAX_COLUMNS,
            "rows": MAX_ROWS}


class UploadForm(forms.Form):
    datasheet = forms.FileField(
        label=gettext_lazy("Datasheet (.zip of the CSV files)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip", "class": "form-control"}),
    )

    def clean_datasheet(self):
        upload = self.cleaned_data["datasheet"]
        if not upload.name.lower().endswith(".zip"):
            raise forms.ValidationError(_("Datasheet: upload a .zip holding the CSV files (interfaces.md)."))
        limit = settings.THALIMON_MAX_DATASHEET_BYTES
        if upload.size > limit:
            raise forms.ValidationError(_("Datasheet: the file is larger than the limit of %(mb)s MB.")
                                        % {"mb": limit // (1024 * 1024)})
        if not zipfile.is_zipfile(upload):
            raise forms.ValidationError(_("Datasheet: this file is not a zip (or a damaged one); make the zip again."))
        upload.seek(0)
        return upload


def import_jobs_for(user):
    """The import jobs ``user`` may read (issue 18): their findings name patients by code,
    so a job is shown only to a user who is a member of every site its importer is."""
    return ImportJob.objects.exclude(
        created_by__site_memberships__site_id__in=Site.objects.exclude(pk__in=site_ids_of(user)).values("pk")
    )


@require_permission("reports.import_datasheet")
def upload(request):
    """The upload only stores the file (the configured storage) and queues the job: the
    worker reads, checks and imports it, reporting progress on the job page."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = import_job_queue(actor=request.user, upload_file=form.cleaned_data["datasheet"])
        return redirect("reports:job", pk=job.pk)
    jobs = import_jobs_for(request.user).select_related("created_by")[:5]
    return render(request, "reports/upload.html", {"form": form, "jobs": jobs, "limits": upload_limits()})


FINDINGS_PER_PAGE = 50


@require_permission("reports.view_importjob")
def job(request, pk):
    job = live_progress(get_object_or_404(import_jobs_for(request.user).select_related("created_by"), pk=pk))
    if request.htmx:
        response = render(request, "reports/_job_status.html", {"job": job})
        if not job.active:
            response["HX-Refresh"] = "true"  # finished: the whole page, with its counts and findings
        return response
    pages = {
        kind: Paginator(getattr(job, kind), FINDINGS_PER_PAGE).get_page(request.GET.get(f"{kind}_page"))
        for kind in ("errors", "warnings")
    }
    return render(request, "reports/job.html", {"job": job, "pages": pages})


@require_permission("reports.view_importjob")
def history(request):
    jobs = import_jobs_for(request.user).select_related("created_by").defer("errors", "warnings")
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    return render(request, "reports/history.html", {"page": page})


@require_permission("reports.import_datasheet")
def template_download(request):
    response = HttpResponse(datasheet_template(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="thalimon-datasheet-template.zip"'
    return response
