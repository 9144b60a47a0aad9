"""Reads for the safety pages."""

from datetime import timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.models import Patient
from safety import data_checks
from safety.kinds import (
    LABELS,
    URGENT_LABELS,
    action_link,
    urgent_action_link,
    urgent_code,
    urgent_label,
)
from safety.models import OPEN_STATES, URGENT_TIERS, AdverseEvent, Alert, AlertTier, Reminder
from safety.schedule import REPEAT_WITHIN_DAYS
from thalimon import saying
from thalimon.counting import COUNT_SHOWN_UP_TO
from thalimon.rules_config import rule_settings
from therapy.rules.doses import DoseRow
from therapy.rules.urgent import CODES as URGENT_CODES


def _visible(user):
    """The rows of the patients ``user`` may open, for reminders and alerts: the site
    condition on the row's own site (the patient's, kept in step: ``safety.models.OfPatientSite``),
    through the site-led indexes, without joining every patient of the user's sites."""
    return Patient.objects.visible_q(user, site_field="site_id")


def workable_reminders(user, today):
    """Open reminders, not snoozed past ``today``, of the patients ``user`` may open: what
    the inbox lists and the navigation badge counts (one definition for both)."""
    return (
        Reminder.objects.filter(state__in=OPEN_STATES)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
        .filter(_visible(user))  # their sites, not restricted to another care team
    )


def open_urgent(user):
    """Open urgent events of the patients ``user`` may open (inbox, badge: one definition)."""
    return (
        Alert.objects.filter(tier__in=URGENT_TIERS, resolved_at__isnull=True)
        .filter(_visible(user))
    )


def review_alerts(user):
    """R4.4 review-tier alerts not yet acknowledged, of the patients ``user`` may open."""
    return (
        Alert.objects.filter(acknowledged_at__isnull=True, tier=AlertTier.REVIEW)
        .filter(_visible(user))
    )


def by_severity(alerts):
    """Urgent events most severe first (the order of ``therapy.rules.urgent.CODES``), then oldest."""
    order = Case(
        When(kind="lab", then=Value(URGENT_CODES.index("withhold_lab_result"))),
        *[When(kind=code, then=Value(index)) for index, code in enumerate(URGENT_CODES)],
        default=Value(len(URGENT_CODES)), output_field=IntegerField(),
    )
    return alerts.annotate(severity=order).order_by("severity", "date", "pk")


def decorate_urgent(alerts, user):
    for alert in alerts:
        alert.code = urgent_code(alert)
        alert.label = urgent_label(alert)
        alert.link, alert.link_label = urgent_action_link(alert, user)
    return alerts


def open_urgent_events(patient, user):
    """One patient's open urgent events, most severe first (the banner of its pages)."""
    alerts = list(by_severity(Alert.objects.filter(patient=patient, tier__in=URGENT_TIERS, resolved_at__isnull=True))
                  .select_related("patient", "acknowledged_by"))
    return decorate_urgent(alerts, user)


def lab_alert_messages(patient, day, *, wbc=None):
    """What a person must read right after saving results of ``day``: each R4.4 alert they
    raised, with its action (a withhold-level result first), and, for a ``wbc`` below 4.0 whose
    alert does not already say it (3.5–3.99 has none), R4.4's suggestion to record leukopenia.
    Empty when nothing needs acting on."""
    found = list(Alert.objects.filter(patient=patient, kind="lab", date=day,
                                      tier__in=[AlertTier.REVIEW, AlertTier.WITHHOLD]).order_by("tier", "pk"))
    messages = []
    for alert in sorted(found, key=lambda a: a.tier != AlertTier.WITHHOLD):
        repeat_by = day + timedelta(days=REPEAT_WITHIN_DAYS)
        if alert.tier == AlertTier.WITHHOLD:
            messages.append(_("URGENT — %(reason)s The clinician is alerted; repeat the test by %(date)s.")
                            % {"reason": saying.render(alert.reason), "date": saying.day(repeat_by)})
        else:
            messages.append(_("%(reason)s Repeat by %(date)s.") % {"reason": saying.render(alert.reason), "date": saying.day(repeat_by)})
    suggestion = wbc is not None and data_checks.leukopenia_suggested(wbc=[(day, wbc)], events=(), as_of=day)
    if suggestion and not any(alert.suggest_adverse_event == data_checks.LEUKOPENIA_EVENT for alert in found):
        messages.append(saying.render(suggestion.text))
    return messages


def capped_counts(querysets, up_to=COUNT_SHOWN_UP_TO):
    """``{key: count}`` of each queryset, counted up to ``up_to[key]`` (or ``up_to``) + 1 rows,
    in one query: a count above the cap means "more than the cap" (thalimon/counting.py).
    A cap of None counts every row."""
    counts, parts, params = {key: 0 for key in querysets}, {}, []
    for index, (key, queryset) in enumerate(querysets.items()):
        cap = up_to.get(key, COUNT_SHOWN_UP_TO) if isinstance(up_to, dict) else up_to
        rows = queryset.order_by().values("pk")
        try:
            sql, part_params = (rows if cap is None else rows[: cap + 1]).query.sql_with_params()
        except EmptyResultSet:  # .none(), or a filter no row can meet: 0 without asking
            continue
        parts[key] = f"(SELECT COUNT(*) FROM ({sql}) part_{index})"
        params.extend(part_params)
    if parts:
        with connections[next(iter(querysets.values())).db].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts.values()), params)
            counts.update(zip(parts, cursor.fetchone(), strict=True))
    return counts


def safety_counts_for(request):
    """The badge's counts: every open urgent event, and due reminders + review alerts, each
    counted up to the shown cap (a sum above it reads "1000+", as either part above it would),
    unless the inbox already counted the same rows on this request. One query."""
    counted = getattr(request, "safety_counts", None)
    if counted is not None:
        return counted
    today = timezone.localdate()
    user = request.user
    counts = capped_counts(
        {"urgent": open_urgent(user), "review": review_alerts(user),
         "due": workable_reminders(user, today).filter(due__lte=today)},
        up_to={"urgent": None, "review": COUNT_SHOWN_UP_TO, "due": COUNT_SHOWN_UP_TO},
    )
    return {"urgent": counts["urgent"], "due": counts["due"] + counts["review"]}


def patient_safety(patient, user=None):
    """Open reminders, alerts and adverse events of one patient (three queries)."""
    reminders = list(
        Reminder.objects.filter(patient=patient, state__in=OPEN_STATES).select_related("patient").order_by("due")
    )
    for reminder in reminders:
        reminder.link, reminder.link_label = action_link(reminder, user)
    decided = list(
        Alert.objects.filter(patient=patient, tier__in=URGENT_TIERS, resolved_by__isnull=False)
        .select_related("resolved_by").order_by("-resolved_at")[:10]
    )
    for alert in decided:
        alert.label = urgent_label(alert)
    return {
        "open_reminders": reminders,
        "patient_alerts": list(
            Alert.objects.filter(patient=patient).select_related("patient")
            .order_by("acknowledged_at", "-date")[:20]
        ),
        "urgent_decisions": decided,
        "dismissed_reminders": list(
            Reminder.objects.filter(patient=patient, state="dismissed").select_related("closed_by")
            .order_by("-closed_at")[:10]
        ),
        "adverse_events": list(AdverseEvent.objects.filter(patient=patient).order_by("-onset")),
        "today": timezone.localdate(),
        "review_tier": AlertTier.REVIEW,
    }


def patient_data_checks(*, patient, visits, lab_cells, adverse_events, thalidomide_rows, as_of):
    """The R3.4, R4.4, R5.1 and R5.3 data checks (``safety.data_checks``) from what the patient page has
    already read: its visits, lab cells ({date: {test: cell}}), adverse events and thalidomide
    rows. No query."""
    return data_checks.data_checks(
        grades=[(v.date, v.neuropathy_grade) for v in visits if v.contact == "clinic" and v.neuropathy_grade is not None],
        wbc=[(day, tests["wbc"].value) for day, tests in lab_cells.items() if "wbc" in tests],
        events=[data_checks.Event(e.term, e.onset, e.resolved) for e in adverse_events],
        contacts=[data_checks.Contact(v.date, v.contact, v.contraception_confirmed, v.menarche) for v in visits],
        thalidomide=[DoseRow(row.date, row.dose_mg) for row in thalidomide_rows],
        contraception_rules_apply=patient.sex == "M" or patient.is_female_of_reproductive_potential,
        contraception_period_days=rule_settings().contraception_period_days,
        premenarchal=patient.sex == "F" and patient.premenarchal,
        as_of=as_of,
    )


def neuropathy_data_check(patient, *, as_of):
    """R3.4's data-quality warning where a dose is decided (the dose page): an open neuropathy
    event while the latest clinic grade is 0 means the step rules are reading a grade the event
    contradicts. Two queries: the clinic grades and the open neuropathy events."""
    events = (
        AdverseEvent.objects.filter(patient=patient, term=data_checks.NEUROPATHY_EVENT, onset__lte=as_of)
        .filter(Q(resolved__isnull=True) | Q(resolved__gt=as_of))
        .values_list("term", "onset", "resolved")
    )
    events = [data_checks.Event(*event) for event in events]
    if not events:
        return None
    grades = patient.visits.filter(contact="clinic", neuropathy_grade__isnull=False, date__lte=as_of)
    return data_checks.neuropathy_event_at_grade_0(
        grades=list(grades.values_list("date", "neuropathy_grade")), events=events, as_of=as_of
    )


def safety_decisions(as_of, site_ids=None):
    """The clinic lead's report of how safety signals were closed up to ``as_of`` (counts, no
    patients): urgent events by code — open, resolved by the data, closed by a clinician's
    decision — and reminders dismissed by a decision, by kind. Two queries. ``site_ids``:
    the patients' sites counted (None: every site), as the cohort report's (issue 18)."""
    of_sites = {} if site_ids is None else {"patient__site_id__in": sorted(set(site_ids))}
    urgent = {}
    for kind, by_data, decided, still_open in (
        Alert.objects.filter(tier__in=[*URGENT_TIERS, AlertTier.CLEARED], date__lte=as_of, **of_sites)
        .values("kind")
        .annotate(
            by_data=Count("pk", filter=Q(resolved_at__isnull=False, resolved_by__isnull=True)),
            decided=Count("pk", filter=Q(resolved_by__isnull=False)),
            still_open=Count("pk", filter=Q(resolved_at__isnull=True)),
        ).values_list("kind", "by_data", "decided", "still_open")
    ):
        label = URGENT_LABELS.get("withhold_lab_result" if kind == "lab" else kind, kind)
        urgent[label] = (still_open, by_data, decided)
    dismissed = dict(
        Reminder.objects.filter(state="dismissed", closed_at__date__lte=as_of, **of_sites)
        .values("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    return {
        "urgent": sorted(urgent.items()),
        "dismissed": [(LABELS[kind], dismissed[kind]) for kind in LABELS if kind in dismissed],
    }


def patient_due_summary(patient):
    """The banner's reminder line: how many reminders are open and the one due first (two queries)."""
    open_reminders = Reminder.objects.filter(patient=patient, state__in=OPEN_STATES)
    first = open_reminders.only("kind", "due", "patient_id").order_by("due").first()
    return {"open_count": open_reminders.count() if first else 0, "first": first}
