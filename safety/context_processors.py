"""The navigation bar's counts and the urgent banner of a patient's pages (the safety
app's own context processors)."""

from safety.selectors import open_urgent_events, safety_counts_for


def due_reminders(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("safety.view_reminder"):
        return {}
    counts = safety_counts_for(request)
    return {"due_reminders": counts["due"], "urgent_count": counts["urgent"]}


def urgent_banner(request):
    """On every page of one patient (``patients.access.patient_view`` sets ``request.patient``):
    its open urgent events, most severe first."""
    patient = getattr(request, "patient", None)
    if patient is None or not request.user.has_perm("safety.view_alert"):
        return {}
    return {"patient_urgent_events": open_urgent_events(patient, request.user)}
