"""Reads for the safety pages."""

from django.db.models import Q
from django.utils import timezone

from patients.models import Patient
from safety.kinds import action_link
from safety.models import OPEN_STATES, AdverseEvent, Alert, Reminder


def workable_reminders(user, today):
    """Open reminders, not snoozed past ``today``, of the patients ``user`` may open: what
    the inbox lists and the navigation badge counts (one definition for both)."""
    return (
        Reminder.objects.filter(state__in=OPEN_STATES)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
        .exclude(patient_id__in=Patient.objects.hidden_from(user).values("pk"))  # restricted to another care team
    )


def due_reminder_count(user):
    """Due reminders of the patients ``user`` may open (the navigation badge)."""
    today = timezone.localdate()
    return workable_reminders(user, today).filter(due__lte=today).count()


def due_reminder_count_for(request):
    """The badge's count, unless the page already counted the same reminders (the inbox)."""
    counted = getattr(request, "due_reminder_count", None)
    return counted if counted is not None else due_reminder_count(request.user)


def patient_safety(patient, user=None):
    """Open reminders, alerts and adverse events of one patient (three queries)."""
    reminders = list(
        Reminder.objects.filter(patient=patient, state__in=OPEN_STATES).select_related("patient").order_by("due")
    )
    for reminder in reminders:
        reminder.link, reminder.link_label = action_link(reminder, user)
    return {
        "open_reminders": reminders,
        "patient_alerts": list(Alert.objects.filter(patient=patient).order_by("acknowledged_at", "-date")[:20]),
        "adverse_events": list(AdverseEvent.objects.filter(patient=patient).order_by("-onset")),
        "today": timezone.localdate(),
    }
