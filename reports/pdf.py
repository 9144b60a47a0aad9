"""PDF documents: the cohort report, the one-page visit summary and the one-page
prescription authorisation form (R9). The only module that calls WeasyPrint."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from weasyprint import HTML

from patients import selectors as patient_selectors
from reports import charts, print_charts
from reports.tables import report_tables, site_line
from safety import schedule
from safety.models import AdverseEvent
from safety.records import patient_records
from thalimon import saying
from thalimon.protections import static_only_url_fetcher
from thalimon.rules_config import rule_settings, rules_version
from therapy import records as therapy_records
from therapy import selectors as therapy_selectors
from therapy.models import DoseChange, PregnancyTest
from visits import selectors
from visits.models import Endoscopy, Visit


def page_counter_css():
    """The CSS ``content`` of the page footer, "page N of M" in the reader's language:
    the translated sentence with its two numbers as CSS counters."""
    text = _("page %(page)s of %(pages)s") % {"page": "\0", "pages": "\1"}
    before, rest = text.split("\0")
    between, after = rest.split("\1")

    def quoted(part):
        return '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'

    parts = [quoted(before), "counter(page)", quoted(between), "counter(pages)"] + ([quoted(after)] if after else [])
    return " ".join(parts)


def _document(template, context):
    html = render_to_string(template, {
        **context, "generated_at": timezone.localtime(), "rules_version": rules_version(),
        "page_counter": page_counter_css(),
    })
    return HTML(string=html, url_fetcher=static_only_url_fetcher).render()


def render_pdf(template, context):
    return _document(template, context).write_pdf()


def render_one_page(template, context):
    """A document that must print on one sheet: laid out as is, then, only if that
    spills, again with ``compact`` (smaller type and chart; the template decides)."""
    document = _document(template, {**context, "compact": False})
    if len(document.pages) > 1:
        document = _document(template, {**context, "compact": True})
    return document.write_pdf()


# Each chart of the cohort PDF follows the table that holds its figures.
CHART_AFTER_TABLE = {"induction": "induction", "relapse_free_summary": "relapse_free", "adverse_events": "ae_free"}


def cohort_report_pdf(report):
    """The cohort report as PDF: its tables, each followed by its chart (vector SVG drawn by
    matplotlib, reports/print_charts.py); a chart whose table is missing comes last."""
    drawn = print_charts.report_charts(report, say=_)
    sections = []
    for table in report_tables(report):
        name = CHART_AFTER_TABLE.get(table.key)
        sections.append({"table": table, "chart": drawn.pop(name, None), "chart_name": name})
    sections += [{"table": None, "chart": chart, "chart_name": name} for name, chart in drawn.items()]
    return render_pdf("reports/pdf/cohort_report.html",
                      {"report": report, "sections": sections, "site_line": site_line(report)})


# The visit summary prints on one A4 sheet whatever the record holds: the longest lists
# show their first few, then "and N more" (the patient page has them all).
DUE_NEXT_SHOWN = 5
ADVERSE_EVENTS_SHOWN = 4
OVERRIDE_CHARS = 320  # an override reason past this ends in "…" (the dose page has it whole)


def _first(items, shown):
    """(the first ``shown`` items, how many more)."""
    return items[:shown], max(len(items) - shown, 0)


def visit_summary_context(visit, *, show_identity=False):
    """Everything the one-page visit summary shows (a fixed number of queries).

    ``show_identity``: the reader may see the patient's name and birth date
    (patients.view_patient_identity); the code is always there."""
    patient = visit.patient
    page = selectors.visit_page(visit)
    series = list(Visit.objects.filter(patient=patient, date__lte=visit.date).order_by("date"))
    thalidomide = list(
        DoseChange.objects.filter(patient=patient, drug="thalidomide", date__lte=visit.date)
        .order_by("date").values_list("date", "dose_mg")
    )
    start = min([v.date for v in series] + [d for d, _ in thalidomide] + [visit.date])
    (batch,) = list(patient_records(as_of=visit.date, patient_ids=[patient.pk]))
    _patient, record = batch[0]
    due_next, due_more = _first(sorted(schedule.reminders(record, visit.date), key=lambda r: r.due), DUE_NEXT_SHOWN)
    events, events_more = _first(
        list(AdverseEvent.objects.filter(patient=patient, onset__lte=visit.date).order_by("-onset")),
        ADVERSE_EVENTS_SHOWN,
    )
    return {
        **page,
        "show_identity": show_identity,
        "override_chars": OVERRIDE_CHARS,
        "age": patient.age_on(visit.date),
        "recorded_by": visit.created_by,
        "responsible_clinician": patient.responsible_clinician,
        # The sites that treated the patient and when (issue 18): filed at one site, read at another.
        "care_periods": patient_selectors.care_periods(patient),
        "endoscopy": Endoscopy.objects.filter(patient=patient, date__lte=visit.date).order_by("-date").first(),
        "adverse_events": events,
        "adverse_events_more": events_more,
        "due_next": due_next,
        "due_more": due_more,
        "trend_svg": charts.trend_svg(
            cdai=[(v.date, v.cdai) for v in series if v.cdai is not None],
            doses=thalidomide,
            start=start,
            end=max(visit.date, start + timedelta(days=1)),
            remission_below=rule_settings().remission_cdai_below,
            width=680,
            height=120,
            say=_,
            day_text=saying.day,  # the first and last day in the reader's format
        ),
    }


def visit_summary_pdf(visit, *, show_identity=False):
    return render_one_page("reports/pdf/visit_summary.html", visit_summary_context(visit, show_identity=show_identity))


def prescription_form_context(rx, *, show_identity=False):
    """The prescription authorisation form (R9): one sheet with what the programme asks printed
    on every prescription (a fixed number of queries). ``show_identity`` as the visit summary."""
    patient = rx.patient
    check = therapy_records.check_prescription_for(patient, therapy_records.prescription_row(rx), exclude_id=rx.pk)
    tests = list(PregnancyTest.objects.filter(patient=patient, date__lte=rx.issue_date).order_by("-date")[:1])
    return {
        "rx": rx,
        "patient": patient,
        "show_identity": show_identity,
        "age": patient.age_on(rx.issue_date),
        "category_text": saying.render(check.category_text),
        "programme_title": therapy_selectors.programme_title(rx.programme),
        "unit_text": therapy_selectors.unit_text(therapy_records.prescription_programme()),
        "course": therapy_records.course_of(patient),
        "last_test": tests[0] if tests else None,
        "codes": therapy_selectors.prescription_codes(rx),
        "contraception_period_days": rule_settings().contraception_period_days,
    }


def prescription_form_pdf(rx, *, show_identity=False):
    return render_one_page("reports/pdf/prescription_form.html", prescription_form_context(rx, show_identity=show_identity))
