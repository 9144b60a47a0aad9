"""PDF documents: the cohort report and the one-page visit summary. The only module
that calls WeasyPrint."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from reports import charts, print_charts
from reports.tables import report_tables
from safety import schedule
from safety.models import AdverseEvent
from safety.records import patient_records
from thalimon.protections import static_only_url_fetcher
from thalimon.rules_config import rule_settings, rules_version
from therapy.models import DoseChange
from visits import selectors
from visits.models import Endoscopy, Visit


def render_pdf(template, context):
    html = render_to_string(template, {**context, "generated_at": timezone.localtime(), "rules_version": rules_version()})
    return HTML(string=html, url_fetcher=static_only_url_fetcher).write_pdf()


# Each chart of the cohort PDF follows the table that holds its figures.
CHART_AFTER_TABLE = {"induction": "induction", "relapse_free_summary": "relapse_free", "adverse_events": "ae_free"}


def cohort_report_pdf(report):
    """The cohort report as PDF: its tables, each followed by its chart (vector SVG drawn by
    matplotlib, reports/print_charts.py); a chart whose table is missing comes last."""
    drawn = print_charts.report_charts(report)
    sections = []
    for table in report_tables(report):
        name = CHART_AFTER_TABLE.get(table.key)
        sections.append({"table": table, "chart": drawn.pop(name, None), "chart_name": name})
    sections += [{"table": None, "chart": chart, "chart_name": name} for name, chart in drawn.items()]
    return render_pdf("reports/pdf/cohort_report.html", {"report": report, "sections": sections})


def visit_summary_context(visit):
    """Everything the one-page visit summary shows (a fixed number of queries)."""
    patient = visit.patient
    page = selectors.visit_page(visit)
    series = list(Visit.objects.filter(patient=patient, date__lte=visit.date).order_by("date"))
    doses = list(DoseChange.objects.filter(patient=patient, date__lte=visit.date).order_by("date"))
    thalidomide = [(d.date, d.dose_mg) for d in doses if d.drug == "thalidomide"]
    start = min([v.date for v in series] + [d for d, _ in thalidomide] + [visit.date])
    (batch,) = list(patient_records(as_of=visit.date, patient_ids=[patient.pk]))
    _, record = batch[0]
    due_next = sorted(schedule.reminders(record, visit.date), key=lambda r: r.due)
    return {
        **page,
        "age": patient.age_on(visit.date),
        "endoscopy": Endoscopy.objects.filter(patient=patient, date__lte=visit.date).order_by("-date").first(),
        "adverse_events": list(
            AdverseEvent.objects.filter(patient=patient, onset__lte=visit.date).order_by("-onset")[:10]
        ),
        "decisions": [d for d in doses if d.date == visit.date],
        "current_doses": {
            drug: next((d for d in reversed(doses) if d.drug == drug), None)
            for drug in ("thalidomide", "azathioprine")
        },
        "due_next": due_next[:8],
        "trend_svg": charts.trend_svg(
            cdai=[(v.date, v.cdai) for v in series if v.cdai is not None],
            doses=thalidomide,
            start=start,
            end=max(visit.date, start + timedelta(days=1)),
            remission_below=rule_settings().remission_cdai_below,
            width=680,
            height=150,
        ),
    }


def visit_summary_pdf(visit):
    return render_pdf("reports/pdf/visit_summary.html", visit_summary_context(visit))
