"""The daily digest email: each nurse and clinician their due reminders, patient codes
and links only (no names, no values)."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from safety import schedule
from safety.models import OPEN_STATES, Reminder
from thalimon.roles import CLINICIAN, NURSE

logger = logging.getLogger(__name__)


# --- the daily digest -------------------------------------------------------------------
def _digest_rows(reminders, as_of):
    rows = []
    for r in reminders:
        rows.append(
            {
                "patient": r.patient.code,
                "kind": r.get_kind_display(),
                "due": r.due,
                "overdue": r.due < schedule.overdue_before(as_of),
                "url": settings.THALIMON_BASE_URL.rstrip("/") + reverse("patients:detail", args=[r.patient.code]),
            }
        )
    return rows


def send_digests(*, as_of=None):
    """Email each nurse the due reminders of her patients (patients without a
    nurse go to every nurse, except records restricted to another care team) and
    each clinician the reminders escalated to him (and, for a restricted record
    without a nurse, every due reminder of it).
    Patient codes and links only; one failed recipient does not stop the others."""
    as_of = as_of or timezone.localdate()
    due = list(
        Reminder.objects.filter(state__in=OPEN_STATES, due__lte=as_of)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=as_of))
        .select_related("patient")
        .order_by("due", "patient__code", "kind")
    )
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    sent, failed = 0, 0
    for user in users.filter(groups__name__in=[NURSE, CLINICIAN]).distinct().order_by("pk").prefetch_related("groups"):
        roles = {g.name for g in user.groups.all()}
        mine = []
        if NURSE in roles:
            mine += [
                r for r in due
                if r.patient.responsible_nurse_id in (None, user.pk) and r.patient.may_be_opened_by(user)
            ]
        if CLINICIAN in roles:
            mine += [r for r in due if r.escalated_to_id == user.pk and r not in mine]
            # A record restricted to the care team with no nurse: its clinician is the
            # only one who can work its reminders, so they go to him from the first day.
            mine += [
                r for r in due
                if r.patient.care_team_only and r.patient.responsible_nurse_id is None
                and r.patient.responsible_clinician_id == user.pk and r not in mine
            ]
        if not mine:
            continue
        context = {
            "user": user, "as_of": as_of, "rows": _digest_rows(mine, as_of),
            "inbox_url": settings.THALIMON_BASE_URL.rstrip("/") + reverse("safety:inbox"),
        }
        message = EmailMultiAlternatives(
            subject=f"ThaliMon: {len(mine)} reminder{'s' if len(mine) != 1 else ''} due ({as_of:%Y-%m-%d})",
            body=render_to_string("emails/digest.txt", context),
            to=[user.email],
        )
        message.attach_alternative(render_to_string("emails/digest.html", context), "text/html")
        try:
            message.send()
            sent += 1
        except Exception:  # one failed recipient must not stop the others
            failed += 1
            logger.exception("Reminder digest to user %s failed", user.pk)
    return {"sent": sent, "failed": failed}
