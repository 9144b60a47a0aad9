"""The network report page and its downloads (issue 18): every site's figures side by side
and the funnel plot, for the network lead (``reports.view_network_report``). Site codes
and names and figures only: no patient code, no name, no link to a patient."""

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from reports import network_charts, network_exports
from reports.exports import as_json
from reports.network_selectors import network_report
from reports.tables import diagnosis_name
from reports.views import CONTENT_TYPES, ReportFilterForm
from thalimon.access import require_permission

FORMATS = ("json", "csv", "xlsx")


class NetworkFilterForm(forms.Form):
    """As of and diagnosis, as the cohort report's page takes them (the same fields and messages)."""

    as_of = ReportFilterForm.base_fields["as_of"]
    diagnosis = ReportFilterForm.base_fields["diagnosis"]
    clean_as_of = ReportFilterForm.clean_as_of


def _asked(request):
    """(form, as_of, diagnosis); as_of is None when a filter is invalid (the form says which)."""
    form = NetworkFilterForm(request.GET or None)
    if not form.is_bound:
        return form, timezone.localdate(), "CD"
    if not form.is_valid():
        return form, None, None
    return form, form.cleaned_data["as_of"] or timezone.localdate(), form.cleaned_data["diagnosis"] or "CD"


@require_permission("reports.view_network_report")
def network_page(request):
    form, as_of, diagnosis = _asked(request)
    if as_of is None:
        return render(request, "reports/network.html", {"form": form, "invalid": True}, status=400)
    result = network_report(as_of=as_of, diagnosis=diagnosis)
    figure = network_charts.funnel_figure(result["funnel"], say=_)
    title = figure["layout"].pop("title")["text"] if figure else _(network_charts.FUNNEL_TITLE)
    return render(request, "reports/network.html", {
        "form": form, "result": result, "diagnosis_name": diagnosis_name(diagnosis),
        "funnel_figure": figure, "funnel_title": title,
        "funnel_message": network_charts.empty_message(result["funnel"], say=_),
        "rows": _rows(result),
        "query": request.GET.urlencode(),
    })


def _rows(result):
    """The sites' rows of the table, each with where it lies on the funnel (words and colour)."""
    words = network_charts.position_words(result["funnel"], say=_)
    groups = {site["site"]: network_charts.site_group(site) for site in result["funnel"]["sites"]}
    return [{**row, "position": words[row["site"]], "group": groups.get(row["site"], "")} for row in result["sites"]]


@require_permission("reports.view_network_report")
def network_download(request, fmt):
    if fmt not in FORMATS:
        return HttpResponse(_("Unknown format: choose json, csv or xlsx."), status=404)
    form, as_of, diagnosis = _asked(request)
    if as_of is None:
        errors = [error for field in form for error in field.errors]
        return HttpResponse(" ".join(errors), status=400, content_type="text/plain; charset=utf-8")
    result = network_report(as_of=as_of, diagnosis=diagnosis)
    content = {"json": as_json, "csv": network_exports.network_csv, "xlsx": network_exports.network_xlsx}[fmt](result)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="network-{diagnosis}-{as_of:%Y-%m-%d}.{fmt}"'
    return response
