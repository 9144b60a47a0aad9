"""The daily digest email: each nurse and clinician their due reminders, patient codes
and links only (no names, no values)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from safety import schedule
from safety.kinds import urgent_label
from safety.models import OPEN_STATES, URGENT_TIERS, Alert, Reminder
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
    urgent = list(
        Alert.objects.filter(tier__in=URGENT_TIERS, resolved_at__isnull=True)
        .select_related("patient").order_by("date", "pk")
    )
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
            # Escalated to him as the patient's current clinician, and only what he may open.
            mine += [r for r in due if r.escalated_to_id == user.pk and r.patient.may_be_opened_by(user)
                     and r not in mine]
            # A record restricted to the care team with no nurse: its clinician is the
            # only one who can work its reminders, so they go to him from the first day.
            mine += [
                r for r in due
                if r.patient.care_team_only and r.patient.responsible_nurse_id is None
                and r.patient.responsible_clinician_id == user.pk and r not in mine
            ]
        # The open urgent events are listed again for whoever may open the patient.
        urgent_rows = [_urgent_row(a) for a in urgent if a.patient.may_be_opened_by(user)]
        if not mine and not urgent_rows:
            continue
        context = {
            "user": user, "as_of": as_of, "rows": _digest_rows(mine, as_of), "urgent": urgent_rows,
            "inbox_url": settings.THALIMON_BASE_URL.rstrip("/") + reverse("safety:inbox"),
        }
        message = EmailMultiAlternatives(
            subject=(
                (f"ThaliMon: {len(urgent_rows)} URGENT, " if urgent_rows else "ThaliMon: ")
                + f"{len(mine)} reminder{'s' if len(mine) != 1 else ''} due ({as_of:%Y-%m-%d})"
            ),
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


# --- urgent events: one email at once to the responsible clinician ----------------------
def _base_url():
    return settings.THALIMON_BASE_URL.rstrip("/")


def _urgent_row(alert):
    return {
        "patient": alert.patient.code, "label": urgent_label(alert), "rule": alert.rule, "date": alert.date,
        "url": _base_url() + reverse("safety:alert_detail", args=[alert.pk]),
    }


def urgent_recipients(patient):
    """The responsible clinician; without one (or without an email address), every active
    clinician who may open the record — an urgent event never goes to nobody if anyone can act."""
    clinician = patient.responsible_clinician
    if clinician is not None and clinician.is_active and clinician.email:
        return [clinician]
    clinicians = (
        get_user_model().objects.filter(is_active=True, groups__name=CLINICIAN).exclude(email="")
        .distinct().order_by("pk")
    )
    return [user for user in clinicians if patient.may_be_opened_by(user)]


@transaction.atomic
def send_urgent_notification(alert_id):
    """Email one open urgent event once: codes and links only. The row is locked while the
    email goes, and marked sent in the same transaction, so a retry or the sweep never
    sends it twice; an SMTP fault raises (the transaction rolls back, the task retries)."""
    alert = (
        Alert.objects.select_for_update(of=("self",)).select_related("patient__responsible_clinician")
        .filter(pk=alert_id, tier__in=URGENT_TIERS, resolved_at__isnull=True, notified_at__isnull=True).first()
    )
    if alert is None:
        return "nothing to send"
    recipients = urgent_recipients(alert.patient)
    if recipients:
        row = _urgent_row(alert)
        context = {"row": row, "inbox_url": _base_url() + reverse("safety:inbox")}
        message = EmailMultiAlternatives(
            subject=f"ThaliMon URGENT: {row['label']} — patient {row['patient']}",
            body=render_to_string("emails/urgent.txt", context),
            to=[user.email for user in recipients],
        )
        message.attach_alternative(render_to_string("emails/urgent.html", context), "text/html")
        message.send()
    else:
        # Stays pending: the sweep tries again (every 5 minutes) until a clinician can receive it.
        logger.warning("Urgent event %s: no clinician with an email address may open the record", alert.pk)
        return "no recipient yet"
    Alert.objects.filter(pk=alert.pk).update(notified_at=timezone.now())
    return f"sent to {len(recipients)}"


def pending_urgent_notifications(older_than_seconds=60):
    """Open urgent events whose email has not gone (the sweep's work list)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Alert.objects.filter(tier__in=URGENT_TIERS, resolved_at__isnull=True, notified_at__isnull=True,
                             created_at__lte=cutoff).values_list("pk", flat=True)
    )
