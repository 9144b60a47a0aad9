"""Nurse inbox, reminder actions, alert acknowledgement, adverse events."""

import re
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import CharField, F, Q, Value
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patients.access import patient_view
from patients.selectors import attach_clinic_columns, clinic_columns
from safety import actions, policy, schedule
from safety.forms import (
    ALERTS,
    URGENT,
    AdverseEventForm,
    AdverseEventNoteForm,
    DecisionForm,
    InboxFilterForm,
)
from safety.kinds import ACTION_NAMES, RESOLVED_BY, URGENT_RESOLVED_BY, action_link
from safety.models import AdverseEvent, Alert, AttributedDrug, Reminder
from safety.selectors import (
    by_severity,
    capped_counts,
    decorate_urgent,
    open_urgent,
    review_alerts,
    workable_reminders,
)
from thalimon import saying
from thalimon.access import require_permission
from thalimon.counting import COUNT_SHOWN_UP_TO
from thalimon.forms import run_action
from thalimon.urls_util import url_pattern

INBOX_ROW_FIELDS = (
    "kind", "due", "subject", "reason", "action", "state", "patient",
    "escalated_to__username", "escalated_to__first_name", "escalated_to__last_name",
)
# The shown rows' patients are read with their clinic columns (attach_clinic_columns), not
# joined in the sections' query: its three parts cost less to compile and to plan without.
INBOX_PATIENT_FIELDS = ("code",)
# The clinic columns a row shows (its clinic line): doses, last visit, status.
INBOX_CLINIC_COLUMNS = ("thal_dose", "aza_dose", "last_visit", "last_status", "last_status_date")
# Shown (and read) only for the roles that may see names.
INBOX_IDENTITY_FIELDS = ("full_name", "phone")
# Each section's order: oldest due first (the partial index of open reminders), or as chosen.
SECTION_ORDER = {
    "": ("due", "pk"),
    "code": ("patient__code", "due", "pk"),
    "last_visit": (F("last_visit").asc(nulls_first=True), "due", "pk"),
}


def _show_identity(user):
    return user.has_perm("patients.view_patient_identity")


def _inbox_queryset(request, form):
    today = timezone.localdate()
    reminders = (
        workable_reminders(request.user, today)
        .filter(due__lte=today + timedelta(days=7))
        .select_related("escalated_to")
        .only(*INBOX_ROW_FIELDS)
        # Oldest due first; (due, pk) follows the partial index of open reminders.
        .order_by("due", "pk")
    )
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        if kind in (URGENT, ALERTS):
            reminders = reminders.none()
        elif kind:
            reminders = reminders.filter(kind=kind)
        reminders = _common_filters(request, form, reminders, Q(escalated_to=request.user))
    return reminders


def _with_back(url, back):
    """``with_next(url, next_url)`` for the inbox's own links (paths with at most a #part), with
    ``next`` already encoded (``back``)."""
    path, hash_mark, fragment = url.partition("#")
    return f"{path}{'&' if '?' in path else '?'}{back}{hash_mark}{fragment}"


def _sort(form):
    return form.cleaned_data.get("sort", "") if form.is_valid() else ""


def _common_filters(request, form, rows, also_mine):
    """The patient and "only my patients" filters, for reminders and alerts alike."""
    if form.cleaned_data["patient"]:
        rows = rows.filter(patient__code__iexact=form.cleaned_data["patient"].strip())
    if form.cleaned_data["mine"]:
        rows = rows.filter(
            Q(patient__responsible_nurse=request.user) | Q(patient__responsible_clinician=request.user) | also_mine
        )
    return rows


def _alert_querysets(request, form):
    """(urgent events, review alerts) under the inbox's filters. A reminder kind hides both
    (the page says how many urgent events the filter hides)."""
    urgent, review = open_urgent(request.user), review_alerts(request.user)
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        urgent = urgent if kind in ("", URGENT) else urgent.none()
        review = review if kind in ("", ALERTS) else review.none()
        urgent = _common_filters(request, form, urgent, Q(pk__in=[]))
        review = _common_filters(request, form, review, Q(pk__in=[]))
    return urgent, review


# An anchor a redirect may carry back (a section or row id of the inbox).
SAFE_ANCHOR = re.compile(r"[a-z][a-z0-9-]{0,40}")
# Rows per section (and alerts) before "Show more": the oldest first, with each total.
INBOX_PAGE = 10


@require_permission("safety.view_reminder")
def inbox(request):
    """Three sections (overdue, due now, next 7 days), counted together in one query and
    shown INBOX_PAGE rows at a time, so the inbox costs the same for 10 or 10,000 patients.
    Completing or snoozing opens the reminder's own page (loaded in place with htmx)."""
    today = timezone.localdate()
    form = InboxFilterForm(request.GET or None)
    reminders = _inbox_queryset(request, form)
    overdue_before = schedule.overdue_before(today)  # overdue: due + 7 days < today (R7)
    windows = {
        "overdue": Q(due__lt=overdue_before),
        "due": Q(due__gte=overdue_before, due__lte=today),
        "upcoming": Q(due__gt=today),
    }
    shown = {key: _pages_shown(request, key) for key in (*windows, "alerts")}
    urgent, review = _alert_querysets(request, form)
    # Each section and the review alerts counted up to 1,000 (or the rows shown, when more
    # pages are open), in one query; a count above that reads "1000+" (count_shown). The
    # urgent events are counted in it too, so that none are listed without a query of
    # their own only when there are none (they are listed, never capped, when there are).
    totals = capped_counts({**{key: reminders.filter(window) for key, window in windows.items()}, "alerts": review,
                            "urgent": urgent},
                           up_to={**{key: max(COUNT_SHOWN_UP_TO, INBOX_PAGE * pages) for key, pages in shown.items()},
                                  "urgent": URGENT_LIMIT})
    alert_total, any_urgent = totals.pop("alerts"), totals.pop("urgent") > 0
    # The badge counts the same workable reminders due today or before: no second count.
    request.due_reminder_count = totals["overdue"] + totals["due"]
    next_url = request.get_full_path()
    patient_url, detail_url, acknowledge_url = (
        url_pattern(name) for name in ("patients:detail", "safety:reminder_detail", "safety:reminder_acknowledge")
    )
    limits = {key: INBOX_PAGE * shown[key] for key in windows if totals[key]}
    # The rows shown carry the patient's doses, last visit and status: one query on the shown
    # rows' patients after the sections are cut (in the sections' query PostgreSQL computed
    # them for every overdue reminder before the sort). Sorting by last visit aliases it alone.
    shown_rows = reminders
    if _sort(form) == "last_visit":
        shown_rows = reminders.alias(last_visit=clinic_columns("patient_id", today)["last_visit"])
    sections = _section_rows(shown_rows.order_by(*SECTION_ORDER[_sort(form)]), windows, limits)
    patient_fields = INBOX_PATIENT_FIELDS + (INBOX_IDENTITY_FIELDS if _show_identity(request.user) else ())
    attach_clinic_columns([r for rows in sections.values() for r in rows], today, lambda r: r.patient_id,
                          columns=INBOX_CLINIC_COLUMNS, patient_fields=patient_fields)
    for rows in sections.values():
        rows.sort(key=_section_key(_sort(form)))  # a union does not promise the parts' order
    more = {}
    back = urlencode({"next": next_url})  # the same for every row: encoded once
    for key, rows in sections.items():
        actions_query = f"{back}&{urlencode({'anchor': f'section-{key}'})}"
        for reminder in rows:
            reminder.link, reminder.link_label = action_link(reminder, request.user)
            reminder.link_next = _with_back(reminder.link, back)
            reminder.patient_url = patient_url(reminder.patient.code)
            reminder.section = key
            reminder.actions_url = f"{detail_url(reminder.pk)}?{actions_query}"
            reminder.acknowledge_url = acknowledge_url(reminder.pk)
        if totals[key] > len(rows):
            params = request.GET.copy()
            params[f"{key}_pages"] = shown[key] + 1
            more[key] = params.urlencode()
    urgent_rows, urgent_total, unacknowledged = _inbox_alerts(
        request, (urgent if any_urgent else None, review, alert_total), more, patient_url)
    if not request.GET:
        request.safety_counts = {"urgent": urgent_total, "due": request.due_reminder_count + alert_total}
    return render(
        request,
        "safety/inbox.html",
        {"form": form, "widgets": form.widgets_html(), "sections": sections, "totals": totals, "more": more, "alerts": unacknowledged,
         "alert_total": alert_total, "page_size": INBOX_PAGE, "urgent": urgent_rows, "urgent_total": urgent_total,
         "urgent_hidden": _urgent_hidden(request, form, urgent_total),
         "can_acknowledge": request.user.has_perm("safety.change_alert"),
         "today": today, "can_work": request.user.has_perm("safety.work_reminder"), "next_url": next_url,
         "show_identity": _show_identity(request.user)},
    )


# Urgent events are few and never wait behind routine rows: all of them, up to this many.
URGENT_LIMIT = 200


def _inbox_alerts(request, alerts, more, patient_url):
    """(urgent rows, their total, review alerts shown) of ``alerts`` (the urgent and review
    querysets under the filters, and the review alerts' count). The urgent queryset is None
    when the inbox's count found none: no query."""
    urgent, review, alert_total = alerts
    urgent_rows = [] if urgent is None else decorate_urgent(
        list(by_severity(urgent).select_related("patient", "acknowledged_by")[:URGENT_LIMIT]), request.user
    )
    urgent_total = len(urgent_rows) if len(urgent_rows) < URGENT_LIMIT else urgent.count()
    shown_alerts = INBOX_PAGE * _pages_shown(request, "alerts")
    unacknowledged = list(
        review.select_related("patient").only("tier", "date", "reason", "patient__code", "suggest_adverse_event")
        .order_by("-date", "-pk")[:shown_alerts]
    ) if alert_total else []
    for alert in unacknowledged + urgent_rows:
        alert.patient_url = patient_url(alert.patient.code)
    if alert_total > len(unacknowledged):
        params = request.GET.copy()
        params["alerts_pages"] = _pages_shown(request, "alerts") + 1
        more["alerts"] = params.urlencode()
    return urgent_rows, urgent_total, unacknowledged


def _urgent_hidden(request, form, shown):
    """How many open urgent events the kind filter hides (said on the page)."""
    if not form.is_valid() or form.cleaned_data["kind"] in ("", URGENT):
        return 0
    return _common_filters(request, form, open_urgent(request.user), Q(pk__in=[])).count()


def _section_key(sort):
    """The Python order of a section's rows, the same as SECTION_ORDER's (a union does not
    keep its parts' order)."""
    if sort == "code":
        return lambda r: (r.patient.code, r.due, r.pk)
    if sort == "last_visit":
        return lambda r: (r.last_visit is not None, r.last_visit or r.due, r.due, r.pk)
    return lambda r: (r.due, r.pk)


def _section_rows(reminders, windows, limits):
    """The first ``limits[key]`` reminders of each section (unordered: the caller sorts). On PostgreSQL
    one query (UNION ALL of the sections, each an index scan of open reminders by due);
    where the database cannot limit the parts of a union (SQLite), a query a section."""
    parts = {
        key: reminders.filter(windows[key]).annotate(section=Value(key, output_field=CharField()))[:limit]
        for key, limit in limits.items()
    }
    sections = {key: [] for key in windows}
    if len(parts) > 1 and connections[reminders.db].features.supports_slicing_ordering_in_compound:
        first, *rest = parts.values()
        rows = first.union(*rest, all=True)
    else:
        rows = [reminder for part in parts.values() for reminder in part]
    for reminder in rows:
        sections[reminder.section].append(reminder)
    return sections


def _pages_shown(request, key):
    try:
        return min(max(1, int(request.GET.get(f"{key}_pages", 1))), 400)
    except ValueError:
        return 1


def _safe_next(request, value, anchor=""):
    """Back to the inbox view the nurse came from, at the section the row was in
    (``anchor``); never to another site."""
    if not (value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                      require_https=request.is_secure())):
        value = reverse("safety:inbox")
    return f"{value.split('#')[0]}#{anchor}" if SAFE_ANCHOR.fullmatch(anchor or "") else value


@patient_view("safety.view_reminder", record=Reminder)
def reminder_detail(request, reminder):
    """One reminder: why it is due, its history, and (for nurses and clinicians) the
    complete and snooze forms. The inbox loads the forms in place (htmx fragment)."""
    patient = reminder.patient
    reminder.link, reminder.link_label = action_link(reminder, request.user)
    allowed = actions.allowed_actions(request.user, reminder)
    context = {
        "reminder": reminder, "patient": patient, "next_url": _safe_next(request, request.GET.get("next")),
        "anchor": request.GET.get("anchor", "") if SAFE_ANCHOR.fullmatch(request.GET.get("anchor", "")) else "",
        "can_work": request.user.has_perm("safety.work_reminder") and reminder.is_open,
        "allowed": allowed, "resolved_by": _(RESOLVED_BY[reminder.kind]),
        "refused": [(action, ACTION_NAMES[action],
                     saying.render(policy.refusal(reminder.kind, action, actions.reminder_roles(request.user))))
                    for action in policy.REMINDER_ACTIONS if action not in allowed],
        "max_snooze": policy.MAX_SNOOZE_DAYS, "snooze_days": range(1, policy.MAX_SNOOZE_DAYS + 1),
    }
    if request.htmx:
        return render(request, "safety/_reminder_actions.html", context)
    context["history"] = reminder.history.select_related("history_user").order_by("-history_date")[:20]
    return render(request, "safety/reminder_detail.html", context)


def _reminder_action(request, reminder, call, done_message):
    try:
        call(reminder)
        messages.success(request, done_message % {"code": reminder.patient.code})
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    return redirect(_safe_next(request, request.POST.get("next"), request.POST.get("anchor")))


@require_POST
@patient_view("safety.work_reminder", record=Reminder)
def reminder_acknowledge(request, reminder):
    return _reminder_action(
        request, reminder, lambda r: actions.reminder_acknowledge(actor=request.user, reminder_id=r.pk),
        _("Reminder for %(code)s acknowledged."),
    )


@require_POST
@patient_view("safety.work_reminder", record=Reminder)
def reminder_complete(request, reminder):
    return _reminder_action(
        request, reminder,
        lambda r: actions.reminder_complete(actor=request.user, reminder_id=r.pk),
        _("Reminder for %(code)s closed: the recorded data resolves it."),
    )


@require_POST
@patient_view("safety.dismiss_reminder", record=Reminder)
def reminder_dismiss(request, reminder):
    return _reminder_action(
        request, reminder,
        lambda r: actions.reminder_dismiss(actor=request.user, reminder_id=r.pk, decision=request.POST.get("decision")),
        _("Reminder for %(code)s dismissed; the decision is kept in the record."),
    )


@require_POST
@patient_view("safety.work_reminder", record=Reminder)
def reminder_snooze(request, reminder):
    return _reminder_action(
        request, reminder,
        lambda r: actions.reminder_snooze(
            actor=request.user, reminder_id=r.pk, days=request.POST.get("days") or 0,
            reason=request.POST.get("reason", ""),
        ),
        _("Reminder for %(code)s snoozed."),
    )


@require_POST
@patient_view("safety.change_alert", record=Alert)
def alert_acknowledge(request, alert):
    try:
        actions.alert_acknowledge(actor=request.user, alert_id=alert.pk)
        messages.success(request, (_("Alert for %(code)s acknowledged — it stays open until resolved.") if alert.is_urgent
                                   else _("Alert for %(code)s acknowledged.")) % {"code": alert.patient.code})
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    return redirect(_safe_next(request, request.POST.get("next"), request.POST.get("anchor")) if request.POST.get("next")
                    else reverse("patients:detail", args=[alert.patient.code]))


@patient_view("safety.view_alert", record=Alert)
def alert_detail(request, alert):
    """One alert or urgent event: what raised it, its resolving action, who saw it, and for
    a clinician the decision that closes an urgent event."""
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("safety.decide_alert"):
            messages.error(request, _("Only a clinician records the decision that closes an urgent event."))
            return redirect("safety:alert_detail", pk=alert.pk)
        if form.is_valid():
            if run_action(form, lambda: actions.alert_decide(actor=request.user, alert_id=alert.pk,
                                                              decision=form.cleaned_data["decision"])):
                messages.success(request, _("Decision recorded; the urgent event of %(code)s is closed.")
                                 % {"code": alert.patient.code})
                return redirect("patients:detail", code=alert.patient.code)
        if not form.is_valid():
            messages.error(request, _("The decision was not saved: please correct the field marked below."))
    decorate_urgent([alert], request.user)
    return render(request, "safety/alert_detail.html", {
        "alert": alert, "patient": alert.patient, "form": form,
        "resolved_by": _(URGENT_RESOLVED_BY[alert.kind]) if alert.kind in URGENT_RESOLVED_BY else "",
        "history": alert.history.select_related("history_user").order_by("-history_date")[:20],
        "next_url": _safe_next(request, request.GET.get("next")),
    })


# --- adverse events ---------------------------------------------------------------------
def _ae_form_page(request, patient, event):
    form = AdverseEventForm(request.POST or None, instance=event, patient=patient, initial=_ae_initial(request, patient))
    if request.method == "POST" and form.is_valid():
        saved = run_action(
            form,
            lambda: actions.adverse_event_record(
                actor=request.user, patient=patient, event=event, **form.cleaned_data
            ),
        )
        if saved:
            messages.success(request, _("Adverse event %(label)s of %(onset)s saved.")
                             % {"label": saved.label, "onset": saying.day(saved.onset)})
            if form.data_check is not None:
                messages.warning(request, saying.render(form.data_check.text))
            return redirect("safety:ae_detail", pk=saved.pk)
    if request.method == "POST":
        messages.error(request, _("The adverse event was not saved: please correct the fields marked below."))
    return render(request, "safety/ae_form.html", {"form": form, "patient": patient, "event": event})


def _ae_initial(request, patient):
    initial = {}
    for name in ("term", "grade", "onset", "drug"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    return initial


@patient_view("safety.add_adverseevent")
def ae_create(request, patient):
    return _ae_form_page(request, patient, None)


@patient_view("safety.change_adverseevent", record=AdverseEvent)
def ae_edit(request, event):
    return _ae_form_page(request, event.patient, event)


@patient_view("safety.view_adverseevent", record=AdverseEvent)
def ae_detail(request, event):
    patient = event.patient
    form = AdverseEventNoteForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("safety.add_adverseeventnote"):
            return redirect("safety:ae_detail", pk=event.pk)
        if form.is_valid():
            note = run_action(
                form, lambda: actions.adverse_event_note_add(actor=request.user, event=event, **form.cleaned_data)
            )
            if note:
                messages.success(request, _("Follow-up note added."))
                return redirect("safety:ae_detail", pk=event.pk)
    withdrawn = [
        (drug, AttributedDrug(drug).label)
        for drug, action in (("thalidomide", event.action_thalidomide), ("azathioprine", event.action_azathioprine))
        if action == "withdrawn"
    ]
    return render(
        request,
        "safety/ae_detail.html",
        {"event": event, "patient": patient, "notes": event.notes.select_related("author"),
         "form": form, "withdrawn": withdrawn},
    )
