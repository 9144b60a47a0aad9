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
from functools import lru_cache
from html import escape

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language

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


def _esc(value):
    """``value`` as HTML text: safe text as it is, anything else escaped (as ``format_html``)."""
    return value if isinstance(value, SafeData) else escape(str(value), quote=True)


def _badge(status):
    return (f'<span class="badge status-badge status-{_esc(status or "none")}" data-status-label>'
            f'{_esc(label(visit_words.STATUSES, status))}</span>')


def status_badge(status):
    """The outcome-status badge (as ``visits/_status_badge.html`` draws it)."""
    return SafeString(_badge(status))


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


def _dose_inline(row, w):
    if row.thal_dose is None:
        thal = f'<span class="text-body-secondary">{w["none"]}</span>'
    elif row.thal_dose:
        thal = f"<strong>{_mg(row.thal_dose)} mg</strong>"
    else:
        thal = w["stopped"]
    text = f"{w['Thalidomide']} {thal}"
    if row.aza_dose is not None:
        text += f" · AZA {_mg(row.aza_dose)} mg" if row.aza_dose else f" · AZA {w['stopped']}"
    return text


@register.filter
def dose_inline(row):
    """Inbox: "Thalidomide <b>50 mg</b> · AZA 100 mg" on one line."""
    return SafeString(_dose_inline(row, _words(get_language())))


@register.filter
def status_cell(row):
    """The latest scored clinic visit's status badge over its date; "—" without one."""
    if not row.last_status:
        return NONE
    return format_html('{}<div class="small text-body-secondary">{}</div>', status_badge(row.last_status),
                       _day(row.last_status_date))


def _status_inline(row):
    if not row.last_status:
        return ""
    return f'<span>{_badge(row.last_status)} <span class="text-body-secondary">{_esc(_day(row.last_status_date))}</span></span>'


@register.filter
def status_inline(row):
    """Inbox: the status badge and its date on one line; empty without one."""
    return SafeString(_status_inline(row))


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


# The inbox's rows are written with f-strings, each value escaped once (``_esc``), and their
# words looked up once per language (``_words``): thirty rows of nested ``format_html`` calls
# were the inbox's largest cost after its queries.
@lru_cache(maxsize=16)
def _words(language):
    """The inbox rows' fixed words in ``language`` (the active one when called), escaped."""
    return {word: escape(_(word), quote=True) for word in (
        "none", "stopped", "Thalidomide", "Last visit", "acknowledged", "Acknowledge", "Close or snooze…",
    )}


def _clinic_line(row, w):
    status = _status_inline(row)
    return (f'<span>{_dose_inline(row, w)}</span> <span>{w["Last visit"]} {_esc(last_visit_cell(row))}</span>'
            f'{" " + status if status else ""}')


@register.filter
def clinic_line(row):
    """Inbox: the patient's doses, last visit and status on one line (``data-clinic``)."""
    return SafeString(_clinic_line(row, _words(get_language())))


def _reminder_head(reminder, show_identity, w):
    patient = reminder.patient
    parts = [f'<a class="fw-semibold code" href="{_esc(reminder.patient_url)}">{_esc(patient.code)}</a>']
    if show_identity and patient.full_name:
        parts.append(f' <span class="ms-1" data-name>{_esc(patient.full_name)}</span>')
    if show_identity and patient.phone:
        parts.append(f' <a class="small ms-1" href="tel:{_esc(patient.phone.replace(" ", ""))}" data-phone>'
                     f'{_esc(patient.phone)}</a>')
    parts.append(f' <span class="badge text-bg-light border ms-1">{_esc(label(kinds.REMINDERS, reminder.kind))}</span>'
                 f' <span class="small ms-1"><time datetime="{reminder.due.isoformat()}">'
                 f'<strong>{_esc(_day(reminder.due))}</strong></time></span>')
    if reminder.state == "acknowledged":
        parts.append(f' <span class="badge text-bg-info ms-1">{w["acknowledged"]}</span>')
    if reminder.escalated_to:
        person = reminder.escalated_to
        escalated = _("escalated to %(person)s") % {"person": person.get_full_name() or person.username}
        parts.append(f' <span class="badge text-bg-danger ms-1">{_esc(escalated)}</span>')
    return "".join(parts)


@register.filter
def reminder_head(reminder, show_identity):
    """Inbox: the reminder's first line: the patient's code (a link), name and phone for the
    roles that may see them, the kind, the due date, acknowledged and escalation badges."""
    return SafeString(_reminder_head(reminder, show_identity, _words(get_language())))


@register.simple_tag(takes_context=True)
def inbox_row(context, r):
    """Inbox: one reminder's whole row (as ``safety/_inbox_section.html`` used to write it with
    some twenty tags per row): the head, the clinic line, the reason in the reader's language,
    the action link and, for those who work reminders, acknowledge and close-or-snooze."""
    w = _words(get_language())
    can_work = context.get("can_work")
    actions = f'<a class="btn btn-sm btn-primary" href="{_esc(r.link_next)}">{_esc(saying.lazy_text(r.link_label))}</a>'
    if can_work:
        if r.state == "open":
            actions += (
                f'<form method="post" action="{_esc(r.acknowledge_url)}"><input type="hidden" '
                f'name="csrfmiddlewaretoken" value="{_esc(context.get("csrf_token"))}">'
                f'<input type="hidden" name="next" value="{_esc(context.get("next_url"))}">'
                f'<input type="hidden" name="anchor" value="reminder-{r.pk}">'
                f'<button class="btn btn-sm btn-outline-secondary" type="submit">{w["Acknowledge"]}</button></form>')
        actions_url = _esc(r.actions_url)
        actions += (f'<a class="btn btn-sm btn-outline-secondary" href="{actions_url}" hx-get="{actions_url}" '
                    f'hx-target="#actions-{r.pk}" data-reminder-actions>{w["Close or snooze…"]}</a>')
    actions_box = f'<div id="actions-{r.pk}" class="reminder-actions"></div>' if can_work else ""
    return SafeString(
        f'<div class="list-group-item reminder-row" id="reminder-{r.pk}" data-kind="{_esc(r.kind)}" '
        f'data-patient="{_esc(r.patient.code)}">'
        f'<div class="d-flex flex-wrap justify-content-between gap-2"><div>'
        f'{_reminder_head(r, context.get("show_identity"), w)}'
        f'<div class="small mt-1 d-flex flex-wrap column-gap-3" data-clinic>{_clinic_line(r, w)}</div>'
        f'<div class="small text-body-secondary mt-1" data-reason>{_esc(saying.render(r.reason))}</div></div>'
        f'<div class="d-flex flex-wrap gap-1 align-items-start">{actions}</div></div>'
        f'{actions_box}</div>')


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
