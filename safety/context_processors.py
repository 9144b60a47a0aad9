"""The navigation bar's count of due reminders (the safety app's own context processor)."""

from safety.selectors import due_reminder_count_for


def due_reminders(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("safety.view_reminder"):
        return {}
    return {"due_reminders": due_reminder_count_for(request)}
