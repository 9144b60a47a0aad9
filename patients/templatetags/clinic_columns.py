"""The clinic columns of the patient list and the reminder inbox, each cell in one filter:
``{% load clinic_columns %}``.

A list page shows 25 rows and the inbox up to three sections of them; written as template
tags, each row's cells cost some sixty variable lookups, filters and an include, which made
those pages several times slower than their one query. Each filter here writes one cell
from the row's clinic columns (``patients.selectors.clinic_columns``) with ``format_html``
(every value escaped), so a cell costs one lookup. The words come from the catalogues
(``visits.words`` statuses, ``safety.kinds`` reminder kinds), as everywhere else.
"""

from decimal import Decimal
from html import escape

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeData, SafeString, mark_safe

from safety import kinds
from thalimon import saying
from thalimon.catalogue import label
from thalimon.saying import tr as _
from thalimon.urls_util import url_pattern
from visits import words as visit_words

register = template.Library()


def format_html(template_text, *args):
    """``django.utils.html.format_html`` for these cells: the same escaping (``&``, ``<``, ``>``,
    ``"`` and ``'``; safe text as it is) without its lazy-text wrappers, which were a fifth of
    the inbox's time (some 1,200 calls a page), nor ``mark_safe``'s (a lazy-text check a call):
    the result is a ``SafeString`` as ``mark_safe`` makes of a ``str``. The template is always
    a literal here."""
    return SafeString(template_text.format(*(
        arg if isinstance(arg, SafeData) else arg.__html__() if hasattr(arg, "__html__")
        else escape(str(arg), quote=True) for arg in args)))

NONE = mark_safe('<span class="text-body-secondary">—</span>')


def _mg(value):
    return format(Decimal(value).normalize(), "f")


def _day(value):
    return saying.day(value) if value else ""


def status_badge(status):
    """The outcome-status badge (as ``visits/_status_badge.html`` draws it)."""
    return format_html('<span class="badge status-badge status-{}" data-status-label>{}</span>',
                       status or "none", label(visit_words.STATUSES, status))


@register.filter
def dose_cell(row):
    """Patient list: "Thal <b>50</b>" over "AZA 100" (mg/day in the header); stopped in words."""
    lines = []
    if row.thal_dose is not None:
        lines.append(format_html("<div>{} <strong>{}</strong></div>", _("Thal"), _mg(row.thal_dose)) if row.thal_dose
                     else format_html("<div>{} {}</div>", _("Thal"), _("stopped")))
    if row.aza_dose is not None:
        lines.append(format_html('<div class="small">AZA {}</div>', _mg(row.aza_dose)) if row.aza_dose
                     else format_html('<div class="small">AZA {}</div>', _("stopped")))
    return mark_safe("".join(lines)) if lines else NONE


@register.filter
def dose_inline(row):
    """Inbox: "Thalidomide <b>50 mg</b> · AZA 100 mg" on one line."""
    if row.thal_dose is None:
        thal = format_html('<span class="text-body-secondary">{}</span>', _("none"))
    elif row.thal_dose:
        thal = format_html("<strong>{} mg</strong>", _mg(row.thal_dose))
    else:
        thal = _("stopped")
    text = format_html("{} {}", _("Thalidomide"), thal)
    if row.aza_dose is not None:
        text = format_html("{} · AZA {}", text, f"{_mg(row.aza_dose)} mg" if row.aza_dose else _("stopped"))
    return text


@register.filter
def status_cell(row):
    """The latest scored clinic visit's status badge over its date; "—" without one."""
    if not row.last_status:
        return NONE
    return format_html('{}<div class="small text-body-secondary">{}</div>', status_badge(row.last_status),
                       _day(row.last_status_date))


@register.filter
def status_inline(row):
    """Inbox: the status badge and its date on one line; empty without one."""
    if not row.last_status:
        return ""
    return format_html('<span>{} <span class="text-body-secondary">{}</span></span>', status_badge(row.last_status),
                       _day(row.last_status_date))


@register.filter
def last_visit_cell(row):
    """The latest clinic visit's date; "—" without one."""
    return _day(row.last_visit) or "—"


@register.filter
def next_due_cell(row, today):
    """The earliest open reminder: its kind over its date, the date emphasised once past."""
    if not row.next_due:
        return NONE
    late = " fw-semibold text-danger-emphasis" if today and row.next_due < today else ""
    return format_html('<div class="small">{}</div><span class="text-nowrap{}">{}</span>',
                       label(kinds.REMINDERS, row.next_due_kind), late, _day(row.next_due))


@register.filter
def care_team_cell(row):
    """The responsible clinician over the responsible nurse (full name, else username)."""
    people = [p for p in (row.responsible_clinician, row.responsible_nurse) if p]
    if not people:
        return NONE
    return format_html_join(mark_safe("<br>"), "{}", ((p.get_full_name() or p.username,) for p in people))


@register.filter
def code_cell(patient):
    """The code linking to the patient's page (``patient.url``, set by the view), with the
    urgent, care-team and inactive-status badges."""
    parts = [format_html('<a class="fw-semibold code" href="{}">{}</a>', patient.url, patient.code)]
    if patient.has_urgent:
        parts.append(format_html(' <span class="badge text-bg-danger" data-urgent>{}</span>', _("urgent")))
    if patient.care_team_only:
        parts.append(format_html(' <span class="badge text-bg-dark">{}</span>', _("care team only")))
    if patient.status != "active":
        parts.append(format_html('<div><span class="badge text-bg-secondary">{} {}</span></div>',
                                 patient.get_status_display(), _day(patient.status_date)))
    return mark_safe("".join(parts))


@register.filter
def identity_cell(patient):
    """Name over phone (a ``tel:`` link); only rendered for roles that may see identity."""
    name = patient.full_name or "—"
    if not patient.phone:
        return name
    return format_html('{}<div class="small text-body-secondary" data-phone><a href="tel:{}">{}</a></div>',
                       name, patient.phone.replace(" ", ""), patient.phone)


@register.filter
def diagnosis_cell(patient):
    """Diagnosis with its Montreal summary (CD) or autoinflammatory type."""
    detail = " ".join(part for part in (patient.montreal_summary, patient.aid_type) if part)
    if not detail:
        return patient.diagnosis
    return format_html('{} <span class="text-body-secondary small">{}</span>', patient.diagnosis, detail)


@register.filter
def clinic_line(row):
    """Inbox: the patient's doses, last visit and status on one line (``data-clinic``)."""
    status = status_inline(row)
    return format_html('<span>{}</span> <span>{} {}</span>{}', dose_inline(row), _("Last visit"), last_visit_cell(row),
                       format_html(" {}", status) if status else "")


@register.filter
def reminder_head(reminder, show_identity):
    """Inbox: the reminder's first line: the patient's code (a link), name and phone for the
    roles that may see them, the kind, the due date, acknowledged and escalation badges."""
    patient = reminder.patient
    parts = [format_html('<a class="fw-semibold code" href="{}">{}</a>', reminder.patient_url, patient.code)]
    if show_identity and patient.full_name:
        parts.append(format_html(' <span class="ms-1" data-name>{}</span>', patient.full_name))
    if show_identity and patient.phone:
        parts.append(format_html(' <a class="small ms-1" href="tel:{}" data-phone>{}</a>',
                                 patient.phone.replace(" ", ""), patient.phone))
    parts.append(format_html(' <span class="badge text-bg-light border ms-1">{}</span>'
                             ' <span class="small ms-1"><time datetime="{}"><strong>{}</strong></time></span>',
                             label(kinds.REMINDERS, reminder.kind), reminder.due.isoformat(), _day(reminder.due)))
    if reminder.state == "acknowledged":
        parts.append(format_html(' <span class="badge text-bg-info ms-1">{}</span>', _("acknowledged")))
    if reminder.escalated_to:
        person = reminder.escalated_to
        parts.append(format_html(' <span class="badge text-bg-danger ms-1">{}</span>',
                                 _("escalated to %(person)s") % {"person": person.get_full_name() or person.username}))
    return mark_safe("".join(parts))


@register.simple_tag(takes_context=True)
def inbox_row(context, r):
    """Inbox: one reminder's whole row (as ``safety/_inbox_section.html`` used to write it with
    some twenty tags per row): the head, the clinic line, the reason in the reader's language,
    the action link and, for those who work reminders, acknowledge and close-or-snooze."""
    can_work = context.get("can_work")
    actions = [format_html('<a class="btn btn-sm btn-primary" href="{}">{}</a>', r.link_next, r.link_label)]
    if can_work:
        if r.state == "open":
            actions.append(format_html(
                '<form method="post" action="{}"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                '<input type="hidden" name="next" value="{}"><input type="hidden" name="anchor" value="reminder-{}">'
                '<button class="btn btn-sm btn-outline-secondary" type="submit">{}</button></form>',
                r.acknowledge_url, context.get("csrf_token"), context.get("next_url"), r.pk, _("Acknowledge")))
        actions.append(format_html(
            '<a class="btn btn-sm btn-outline-secondary" href="{}" hx-get="{}" hx-target="#actions-{}" '
            'data-reminder-actions>{}</a>', r.actions_url, r.actions_url, r.pk, _("Close or snooze…")))
    return format_html(
        '<div class="list-group-item reminder-row" id="reminder-{}" data-kind="{}" data-patient="{}">'
        '<div class="d-flex flex-wrap justify-content-between gap-2"><div>{}'
        '<div class="small mt-1 d-flex flex-wrap column-gap-3" data-clinic>{}</div>'
        '<div class="small text-body-secondary mt-1" data-reason>{}</div></div>'
        '<div class="d-flex flex-wrap gap-1 align-items-start">{}</div></div>{}</div>',
        r.pk, r.kind, r.patient.code, reminder_head(r, context.get("show_identity")), clinic_line(r),
        saying.render(r.reason), mark_safe("".join(actions)),
        format_html('<div id="actions-{}" class="reminder-actions"></div>', r.pk) if can_work else "")


@register.simple_tag(takes_context=True)
def review_alert_row(context, alert):
    """Inbox: one R4.4 review alert's row (its tier, patient, day and reason, and acknowledge
    for those who may)."""
    tier = _("Review") if alert.tier == "review" else str(alert.tier)[:1].upper() + str(alert.tier)[1:]
    acknowledge = ""
    if context.get("can_acknowledge"):
        acknowledge = format_html(
            '<form method="post" action="{}"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}"><input type="hidden" name="anchor" value="alerts-heading">'
            '<button class="btn btn-sm btn-outline-secondary" type="submit">{}</button></form>',
            url_pattern("safety:alert_acknowledge")(alert.pk), context.get("csrf_token"), context.get("next_url"),
            _("Acknowledge"))
    return format_html(
        '<li class="list-group-item d-flex flex-wrap gap-2 align-items-center review-alert-row" data-patient="{}">'
        '<span class="badge text-bg-warning">{}</span><a class="fw-semibold code" href="{}">{}</a>'
        '<span class="small flex-grow-1">{} — {}</span>{}</li>',
        alert.patient.code, tier, alert.patient_url, alert.patient.code, _day(alert.date),
        saying.render(alert.reason), acknowledge)
