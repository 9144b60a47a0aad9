"""Nurse inbox, reminder actions, alert acknowledgement, adverse events."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Case, CharField, Count, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from safety import services
from safety.forms import AdverseEventForm, AdverseEventNoteForm, InboxFilterForm
from safety.models import AdverseEvent, Alert, Reminder
from safety.selectors import workable_reminders
from thalimon.access import hidden_patient_ids, patient_for, require_permission
from thalimon.urls_util import url_pattern
from visits.views import _run_service

ACTION_LINKS = {
    # reminder action -> (url name, label, permission needed)
    "pregnancy_test": ("visits:pregnancy_test_create", "Record the test", "safety.add_pregnancytest"),
    "dose_change": ("visits:dose_change", "Open the dose change", "visits.add_dosechange"),
    "visit": ("visits:create", "Record the visit", "visits.add_visit"),
    "contraception": ("visits:contraception_create", "Record the confirmation", "visits.record_contraception"),
    "blood_test": ("visits:lab_create", "Record the blood count", "visits.add_labresult"),
}
KIND_LABELS = {
    "neuropathy_review": "Record the neuropathy grade",
    "cumulative_dose_review": "Record the neurological review",
}


def action_link(reminder, user=None):
    """The page that resolves the reminder, if the user may use it; else the patient page."""
    code = reminder.patient.code
    if reminder.kind == "ae_follow_up" and reminder.subject:
        return reverse("safety:ae_detail", args=[reminder.subject]), "Add the follow-up"
    name, label, perm = ACTION_LINKS.get(reminder.action, ("patients:detail", "Open the patient", ""))
    label = KIND_LABELS.get(reminder.kind, label)
    if perm and user is not None and not user.has_perm(perm):
        return reverse("patients:detail", args=[code]), "Open the patient (a clinician acts)"
    return reverse(name, args=[code]), label


INBOX_ROW_FIELDS = (
    "kind", "due", "subject", "reason", "action", "state", "patient__code",
    "escalated_to__username", "escalated_to__first_name", "escalated_to__last_name",
)


def _inbox_queryset(request, form):
    today = timezone.localdate()
    reminders = (
        workable_reminders(request.user, today)
        .filter(due__lte=today + timedelta(days=7))
        .select_related("patient", "escalated_to")
        # Only what a row shows: a patient row has some forty columns.
        .only(*INBOX_ROW_FIELDS)
        # Oldest due first; (due, pk) follows the partial index of open reminders.
        .order_by("due", "pk")
    )
    if form.is_valid():
        if form.cleaned_data["kind"]:
            reminders = reminders.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["patient"]:
            reminders = reminders.filter(patient__code__iexact=form.cleaned_data["patient"].strip())
        if form.cleaned_data["mine"]:
            reminders = reminders.filter(
                Q(patient__responsible_nurse=request.user) | Q(escalated_to=request.user)
            )
    return reminders


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
    overdue_before = today - timedelta(days=7)  # overdue: due + 7 days < today (R7)
    windows = {
        "overdue": Q(due__lt=overdue_before),
        "due": Q(due__gte=overdue_before, due__lte=today),
        "upcoming": Q(due__gt=today),
    }
    counts = reminders.aggregate(**{f"n_{key}": Count("pk", filter=window) for key, window in windows.items()})
    totals = {key: counts[f"n_{key}"] for key in windows}
    if not request.GET:
        # The badge counts the same workable reminders due today or before: no second count.
        request.due_reminder_count = totals["overdue"] + totals["due"]
    next_url = request.get_full_path()
    patient_url, detail_url, acknowledge_url = (
        url_pattern(name) for name in ("patients:detail", "safety:reminder_detail", "safety:reminder_acknowledge")
    )
    shown = {key: _pages_shown(request, key) for key in windows}
    sections = _section_rows(reminders, windows, {key: INBOX_PAGE * shown[key] for key in windows if totals[key]})
    more = {}
    for key, rows in sections.items():
        for reminder in rows:
            reminder.link, reminder.link_label = action_link(reminder, request.user)
            reminder.patient_url = patient_url(reminder.patient.code)
            reminder.actions_url = f"{detail_url(reminder.pk)}?{urlencode({'next': next_url})}"
            reminder.acknowledge_url = acknowledge_url(reminder.pk)
        if totals[key] > len(rows):
            params = request.GET.copy()
            params[f"{key}_pages"] = shown[key] + 1
            more[key] = params.urlencode()
    alerts = (
        Alert.objects.filter(acknowledged_at__isnull=True)
        .exclude(patient_id__in=hidden_patient_ids(request.user))
    )
    alert_total = alerts.count()
    shown_alerts = INBOX_PAGE * _pages_shown(request, "alerts")
    unacknowledged = list(
        # The alerts that withhold a dose (R4.4 tier B) first, then the newest.
        alerts.select_related("patient").only("tier", "date", "reason", "patient__code")
        .annotate(withhold=Case(When(tier="withhold", then=Value(0)), default=Value(1)))
        .order_by("withhold", "-date", "-pk")[:shown_alerts]
    ) if alert_total else []
    for alert in unacknowledged:
        alert.patient_url = patient_url(alert.patient.code)
    if alert_total > len(unacknowledged):
        params = request.GET.copy()
        params["alerts_pages"] = _pages_shown(request, "alerts") + 1
        more["alerts"] = params.urlencode()
    return render(
        request,
        "safety/inbox.html",
        {"form": form, "sections": sections, "totals": totals, "more": more, "alerts": unacknowledged,
         "alert_total": alert_total, "page_size": INBOX_PAGE,
         "today": today, "can_work": request.user.has_perm("safety.work_reminder"), "next_url": next_url},
    )


def _section_rows(reminders, windows, limits):
    """The first ``limits[key]`` reminders of each section, oldest due first. On PostgreSQL
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
    for rows in sections.values():
        rows.sort(key=lambda r: (r.due, r.pk))  # a union does not promise the parts' order
    return sections


def _pages_shown(request, key):
    try:
        return min(max(1, int(request.GET.get(f"{key}_pages", 1))), 400)
    except ValueError:
        return 1


def _safe_next(request, value):
    """Back to the inbox view the nurse came from; never to another site."""
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return reverse("safety:inbox")


@require_permission("safety.view_reminder")
def reminder_detail(request, pk):
    """One reminder: why it is due, its history, and (for nurses and clinicians) the
    complete and snooze forms. The inbox loads the forms in place (htmx fragment)."""
    reminder = get_object_or_404(Reminder.objects.select_related("patient", "escalated_to", "closed_by"), pk=pk)
    patient = patient_for(request, reminder.patient.code, perm="safety.view_reminder")
    reminder.link, reminder.link_label = action_link(reminder, request.user)
    context = {
        "reminder": reminder, "patient": patient, "next_url": _safe_next(request, request.GET.get("next")),
        "can_work": request.user.has_perm("safety.work_reminder") and reminder.is_open,
    }
    if request.htmx:
        return render(request, "safety/_reminder_actions.html", context)
    context["history"] = reminder.history.select_related("history_user").order_by("-history_date")[:20]
    return render(request, "safety/reminder_detail.html", context)


def _reminder_action(request, pk, call, done_message):
    reminder = get_object_or_404(Reminder.objects.select_related("patient"), pk=pk)
    patient_for(request, reminder.patient.code, perm="safety.work_reminder")
    try:
        call(reminder)
        messages.success(request, done_message.format(code=reminder.patient.code))
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    return redirect(_safe_next(request, request.POST.get("next")))


@require_POST
@require_permission("safety.work_reminder")
def reminder_acknowledge(request, pk):
    return _reminder_action(
        request, pk, lambda r: services.reminder_acknowledge(actor=request.user, reminder_id=r.pk),
        "Reminder for {code} acknowledged.",
    )


@require_POST
@require_permission("safety.work_reminder")
def reminder_complete(request, pk):
    return _reminder_action(
        request, pk,
        lambda r: services.reminder_complete(actor=request.user, reminder_id=r.pk, note=request.POST.get("note", "")),
        "Reminder for {code} completed.",
    )


@require_POST
@require_permission("safety.work_reminder")
def reminder_snooze(request, pk):
    return _reminder_action(
        request, pk,
        lambda r: services.reminder_snooze(
            actor=request.user, reminder_id=r.pk, days=request.POST.get("days") or 0,
            reason=request.POST.get("reason", ""),
        ),
        "Reminder for {code} snoozed.",
    )


@require_POST
@require_permission("safety.change_alert")
def alert_acknowledge(request, pk):
    alert = get_object_or_404(Alert.objects.select_related("patient"), pk=pk)
    patient_for(request, alert.patient.code, perm="safety.change_alert")
    try:
        services.alert_acknowledge(actor=request.user, alert_id=alert.pk)
        messages.success(request, f"Alert for {alert.patient.code} acknowledged.")
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    return redirect(request.POST.get("next") or reverse("patients:detail", args=[alert.patient.code]))


# --- adverse events ---------------------------------------------------------------------
def _ae_form_page(request, patient, event):
    form = AdverseEventForm(request.POST or None, instance=event, patient=patient, initial=_ae_initial(request, patient))
    if request.method == "POST" and form.is_valid():
        saved = _run_service(
            form,
            lambda: services.adverse_event_record(
                actor=request.user, patient=patient, event=event, **form.cleaned_data
            ),
        )
        if saved:
            messages.success(request, f"Adverse event {saved.label} of {saved.onset:%Y-%m-%d} saved.")
            return redirect("safety:ae_detail", pk=saved.pk)
    if request.method == "POST":
        messages.error(request, "The adverse event was not saved: please correct the fields marked below.")
    return render(request, "safety/ae_form.html", {"form": form, "patient": patient, "event": event})


def _ae_initial(request, patient):
    initial = {}
    for name in ("term", "grade", "onset", "drug"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    return initial


@require_permission("safety.add_adverseevent")
def ae_create(request, code):
    patient = patient_for(request, code, perm="safety.add_adverseevent")
    return _ae_form_page(request, patient, None)


@require_permission("safety.change_adverseevent")
def ae_edit(request, pk):
    event = get_object_or_404(AdverseEvent.objects.select_related("patient"), pk=pk)
    patient = patient_for(request, event.patient.code, perm="safety.change_adverseevent")
    return _ae_form_page(request, patient, event)


@require_permission("safety.view_adverseevent")
def ae_detail(request, pk):
    event = get_object_or_404(AdverseEvent.objects.select_related("patient", "recorded_by"), pk=pk)
    patient = patient_for(request, event.patient.code, perm="safety.view_adverseevent")
    form = AdverseEventNoteForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("safety.add_adverseeventnote"):
            return redirect("safety:ae_detail", pk=event.pk)
        if form.is_valid():
            note = _run_service(
                form, lambda: services.adverse_event_note_add(actor=request.user, event=event, **form.cleaned_data)
            )
            if note:
                messages.success(request, "Follow-up note added.")
                return redirect("safety:ae_detail", pk=event.pk)
    withdrawn = [
        drug for drug, action in (("thalidomide", event.action_thalidomide), ("azathioprine", event.action_azathioprine))
        if action == "withdrawn"
    ]
    return render(
        request,
        "safety/ae_detail.html",
        {"event": event, "patient": patient, "notes": event.notes.select_related("author"),
         "form": form, "withdrawn": withdrawn},
    )
