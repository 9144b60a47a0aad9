"""The daily digest email: each nurse and clinician their due reminders, patient codes
and links only (no names, no values)."""

import logging
from datetime import timedelta
from smtplib import SMTPConnectError, SMTPException, SMTPHeloError, SMTPServerDisconnected

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.records import languages_of
from patients.models import prefetch_site_ids
from safety import schedule
from safety.kinds import urgent_label
from safety.models import OPEN_STATES, URGENT_TIERS, Alert, DigestDelivery, DigestState, Reminder
from thalimon import saying
from thalimon.roles import CLINICIAN, NURSE

logger = logging.getLogger(__name__)


MAIL_TIMEOUT_SECONDS = 30  # without EMAIL_TIMEOUT, a hung SMTP server would hold a send for ever


def mail_connection():
    """The mail backend, with a timeout; one per message, so a fault spoils that one only."""
    return get_connection(timeout=settings.EMAIL_TIMEOUT or MAIL_TIMEOUT_SECONDS)


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


DIGEST_STALE_AFTER = timedelta(minutes=15)  # a claim older than this was abandoned (a crash): retried
DIGEST_BACKOFF_FIRST = timedelta(minutes=5)
DIGEST_BACKOFF_CAP = timedelta(hours=2)
RETRYABLE = (DigestState.FAILED, DigestState.SENDING)


def digest_backoff(attempts):
    """The wait after a digest's ``attempts``-th failed try: 5 minutes doubling, at most 2 hours."""
    return min(DIGEST_BACKOFF_FIRST * 2 ** max(attempts - 1, 0), DIGEST_BACKOFF_CAP)


def send_digests(*, as_of=None, user_ids=None, now=None):
    """Email each nurse the due reminders of her patients (patients without a
    nurse go to every nurse, except records restricted to another care team) and
    each clinician the reminders escalated to him (and, for a restricted record
    without a nurse, every due reminder of it).
    Patient codes and links only; one failed recipient does not stop the others.

    Each recipient's delivery of the day (``DigestDelivery``) is claimed and committed
    before the email goes and marked sent after, so a re-delivered or re-run task skips
    whoever already has it; a failure is kept for ``retry_digests`` with backoff. Run it
    outside a transaction (the tasks do), or the claims are not committed before sending.
    ``user_ids`` limits it to those recipients (the retry); ``now`` is the run's clock."""
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
    users = get_user_model().objects.filter(is_active=True, groups__name__in=[NURSE, CLINICIAN]).exclude(email="")
    if user_ids is not None:
        users = users.filter(pk__in=user_ids)
    deliveries = {d.user_id: d for d in DigestDelivery.objects.filter(day=as_of)}
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    served = set()
    users = prefetch_site_ids(users.distinct().order_by("pk").prefetch_related("groups"))
    languages = languages_of(user.pk for user in users)
    for user in users:
        with translation.override(languages.get(user.pk) or settings.LANGUAGE_CODE):  # the recipient's language
            message = _digest_message(user, as_of, due, urgent)
        if message is None:
            continue
        served.add(user.pk)
        delivery = _claim(deliveries.get(user.pk), user, as_of, now or timezone.now())
        if delivery is None:  # sent already, being sent, or waiting for its next attempt
            counts["skipped"] += 1
            continue
        try:
            message.send()
        except Exception as error:  # one failed recipient must not stop the others
            counts["failed"] += 1
            _delivery_failed(delivery, error, now or timezone.now())
            logger.exception("Reminder digest to user %s failed (attempt %s); retried with backoff",
                             user.pk, delivery.attempts)
            continue
        DigestDelivery.objects.filter(pk=delivery.pk).update(
            state=DigestState.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error="",
            updated_at=timezone.now(),
        )
        counts["sent"] += 1
    # Left to retry but nothing to send now (all done, or no longer a recipient): not retried.
    left = DigestDelivery.objects.filter(day=as_of, state__in=RETRYABLE, next_attempt_at__lte=now or timezone.now())
    if user_ids is not None:
        left = left.filter(user_id__in=user_ids)
    left.exclude(user_id__in=served).update(state=DigestState.WITHDRAWN, next_attempt_at=None,
                                            updated_at=timezone.now())
    return counts


def retry_digests(*, now=None):
    """Send again today's digests that failed (or were abandoned mid-send) and whose next
    attempt is due; the content is what is due now."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    user_ids = list(
        DigestDelivery.objects.filter(day=day, state__in=RETRYABLE, next_attempt_at__lte=now)
        .values_list("user_id", flat=True)
    )
    if not user_ids:
        return {"sent": 0, "failed": 0, "skipped": 0}
    return send_digests(as_of=day, user_ids=user_ids, now=now)


def _digest_message(user, as_of, due, urgent):
    """The digest for this user, or None when there is nothing for him."""
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
            and r.patient.responsible_clinician_id == user.pk and r.patient.may_be_opened_by(user) and r not in mine
        ]
    # The open urgent events are listed again for whoever may open the patient.
    urgent_rows = [_urgent_row(a) for a in urgent if a.patient.may_be_opened_by(user)]
    if not mine and not urgent_rows:
        return None
    context = {
        "user": user, "as_of": as_of, "rows": _digest_rows(mine, as_of), "urgent": urgent_rows,
        "inbox_url": settings.THALIMON_BASE_URL.rstrip("/") + reverse("safety:inbox"),
    }
    message = EmailMultiAlternatives(
        subject=_digest_subject(len(urgent_rows), len(mine), as_of),
        body=render_to_string("emails/digest.txt", context),
        to=[user.email],
        connection=mail_connection(),
    )
    message.attach_alternative(render_to_string("emails/digest.html", context), "text/html")
    return message


def _digest_subject(n_urgent, n_due, as_of):
    due = ngettext("%(n)s reminder due (%(date)s)", "%(n)s reminders due (%(date)s)", n_due) % {
        "n": n_due, "date": saying.day(as_of)}
    if n_urgent:
        return _("ThaliMon: %(n)s URGENT, %(due)s") % {"n": n_urgent, "due": due}
    return _("ThaliMon: %(due)s") % {"due": due}


def _claim(delivery, user, day, now):
    """Take this recipient's delivery of the day (committed at once, outside a transaction);
    None if it is sent, being sent by another run, or not due for its next attempt."""
    if delivery is None:
        try:
            with transaction.atomic():
                return DigestDelivery.objects.create(
                    user=user, day=day, state=DigestState.SENDING, attempts=1,
                    next_attempt_at=now + DIGEST_STALE_AFTER,
                )
        except IntegrityError:  # another run claimed it a moment ago
            return None
    if delivery.state == DigestState.SENT or (delivery.next_attempt_at or now) > now:
        return None
    # Conditional on the state and attempts read: of two runs, one claims it.
    claimed = DigestDelivery.objects.filter(pk=delivery.pk, state=delivery.state, attempts=delivery.attempts).update(
        state=DigestState.SENDING, attempts=delivery.attempts + 1, next_attempt_at=now + DIGEST_STALE_AFTER,
        updated_at=timezone.now(),
    )
    if not claimed:
        return None
    delivery.state, delivery.attempts = DigestState.SENDING, delivery.attempts + 1
    return delivery


def _delivery_failed(delivery, error, now):
    DigestDelivery.objects.filter(pk=delivery.pk, state=DigestState.SENDING, attempts=delivery.attempts).update(
        state=DigestState.FAILED, last_error=type(error).__name__[:100],
        next_attempt_at=now + digest_backoff(delivery.attempts), updated_at=timezone.now(),
    )


# --- urgent events: one email at once to the responsible clinician ----------------------
def _base_url():
    return settings.THALIMON_BASE_URL.rstrip("/")


def _urgent_row(alert):
    return {
        "patient": alert.patient.code, "label": urgent_label(alert), "rule": alert.rule, "date": alert.date,
        "url": _base_url() + reverse("safety:alert_detail", args=[alert.pk]),
    }


def _urgent_message(alert, emails):
    row = _urgent_row(alert)
    context = {"row": row, "inbox_url": _base_url() + reverse("safety:inbox")}
    message = EmailMultiAlternatives(
        subject=_("ThaliMon URGENT: %(label)s — patient %(patient)s") % {"label": row["label"], "patient": row["patient"]},
        body=render_to_string("emails/urgent.txt", context),
        to=emails,
        connection=mail_connection(),
    )
    message.attach_alternative(render_to_string("emails/urgent.html", context), "text/html")
    return message


def urgent_recipients(patient):
    """The responsible clinician; without one (or without an email address), every active
    clinician who may open the record — an urgent event never goes to nobody if anyone can act."""
    clinician = patient.responsible_clinician
    if clinician is not None and clinician.is_active and clinician.email:
        prefetch_site_ids([clinician])
        if patient.may_be_opened_by(clinician):  # still a member of the patient's site
            return [clinician]
    clinicians = (
        get_user_model().objects.filter(is_active=True, groups__name=CLINICIAN, site_memberships__site_id=patient.site_id)
        .exclude(email="").distinct().order_by("pk")
    )
    return [user for user in prefetch_site_ids(clinicians) if patient.may_be_opened_by(user)]


@transaction.atomic
def send_urgent_notification(alert_id):
    """Email one open urgent event once: codes and links only. The row is locked
    (SELECT … FOR UPDATE, only while ``notified_at`` is empty) while the email goes, and
    marked sent in the same transaction: a second sender (the task's retry, the sweep)
    waits for the lock, then finds it sent and sends nothing. An SMTP fault raises: the
    transaction rolls back, ``notified_at`` stays empty, the task retries with backoff and
    the sweep after it."""
    alert = (
        Alert.objects.select_for_update(of=("self",)).select_related("patient__responsible_clinician")
        .filter(pk=alert_id, tier__in=URGENT_TIERS, resolved_at__isnull=True, notified_at__isnull=True).first()
    )
    if alert is None:
        return "nothing to send"
    recipients = urgent_recipients(alert.patient)
    if recipients:
        # One email per language among the recipients (one email when they share it).
        languages = languages_of(user.pk for user in recipients)
        by_language = {}
        for user in recipients:
            by_language.setdefault(languages.get(user.pk) or settings.LANGUAGE_CODE, []).append(user.email)
        for language, emails in by_language.items():
            with translation.override(language):
                _urgent_message(alert, emails).send()
    else:
        # Stays pending: the sweep tries again (every 5 minutes) until a clinician can receive it.
        logger.warning("Urgent event %s: no clinician with an email address may open the record", alert.pk)
        return "no recipient yet"
    Alert.objects.filter(pk=alert.pk).update(notified_at=timezone.now())
    return f"sent to {len(recipients)}"


def pending_urgent_notifications(older_than_seconds=60):
    """Open urgent events whose email has not gone (the sweep's work list), oldest first."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Alert.objects.filter(tier__in=URGENT_TIERS, resolved_at__isnull=True, notified_at__isnull=True,
                             created_at__lte=cutoff).order_by("created_at", "pk").values_list("pk", flat=True)
    )


def send_pending_urgent():
    """The sweep: each pending urgent email once (``send_urgent_notification`` locks it).
    A refused message is left for the next sweep and the others still go; when the SMTP
    server is down or unreachable the round stops at the first fault (the rest would wait
    out the same fault), so a dead server costs one connection attempt per sweep."""
    sent, failed = 0, 0
    pending = pending_urgent_notifications()
    for position, alert_id in enumerate(pending):
        try:
            sent += send_urgent_notification(alert_id).startswith("sent")
        except (OSError, SMTPException) as error:
            failed += 1
            logger.exception("Urgent email for event %s failed; the next sweep retries", alert_id)
            if _server_unavailable(error):
                logger.warning("SMTP server unavailable: %d urgent email(s) left for the next sweep",
                               len(pending) - position - 1)
                break
    return {"sent": sent, "failed": failed}


def _server_unavailable(error):
    """A fault of the server or the way to it, not of this one message."""
    if isinstance(error, (SMTPConnectError, SMTPServerDisconnected, SMTPHeloError)):
        return True
    return isinstance(error, OSError) and not isinstance(error, SMTPException)
