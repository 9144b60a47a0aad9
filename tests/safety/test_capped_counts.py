"""The inbox's section counts and the navigation badge count reminders exactly up to 1,000
and then read "1000+" (thalimon/counting.py): the count stops at the 1,001st row instead of
reading every open reminder on every page. Every row stays reachable (show more)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from safety.models import Reminder
from thalimon.counting import COUNT_SHOWN_UP_TO, count_shown

TODAY = timezone.localdate()


@pytest.mark.parametrize("count, shown", [
    (None, ""), (0, "0"), (1, "1"), (999, "999"), (1000, "1000"), (1001, "1000+"), (11234, "1000+"),
])
def test_count_shown(count, shown):
    assert COUNT_SHOWN_UP_TO == 1000
    assert count_shown(count) == shown


def _overdue(patient, n, start=8):
    Reminder.objects.bulk_create(
        Reminder(patient=patient, kind="visit_due", due=TODAY - timedelta(days=start + i), reason="r")
        for i in range(n)
    )


@pytest.mark.django_db
def test_capped_counts_count_each_queryset_up_to_its_cap_in_one_query(make_patient, django_assert_num_queries):
    from safety.selectors import capped_counts

    patient = make_patient(code="GI-CC1")
    _overdue(patient, 7)
    open_ = Reminder.objects.filter(patient=patient)
    with django_assert_num_queries(1):
        counts = capped_counts({"all": open_, "old": open_.filter(due__lt=TODAY - timedelta(days=10)),
                                "none": open_.filter(kind="pregnancy_test_due")}, up_to={"all": 3, "old": 10})
    assert counts == {"all": 4, "old": 4, "none": 0}  # 7 counted up to 3 + 1; 4 under their cap; none
    assert capped_counts({"all": open_}, up_to=100) == {"all": 7}
    assert capped_counts({}) == {}
    with django_assert_num_queries(0):  # nothing any row could meet: 0 without a query
        assert capped_counts({"none": open_.none(), "empty": open_.filter(pk__in=[])}) == {"none": 0, "empty": 0}


@pytest.mark.django_db
def test_the_inbox_and_badge_say_1000_plus_and_still_show_more(client, nurse, make_patient):
    from safety.views import INBOX_PAGE

    _overdue(make_patient(code="GI-CC2"), COUNT_SHOWN_UP_TO + 2)
    client.force_login(nurse)
    html = client.get(reverse("safety:inbox")).content.decode()
    head = html[html.index('id="section-overdue"'):html.index("</h2>", html.index('id="section-overdue"'))]
    assert ">1000+<" in head
    assert f"Showing {INBOX_PAGE} of 1000+." in html and "overdue_pages=2" in html
    assert "1000+<span" in html  # the navigation badge
    # Exact below the cap: one reminder fewer than the cap and the count is the number.
    Reminder.objects.filter(pk__in=Reminder.objects.order_by("pk").values("pk")[:3]).delete()
    html = client.get(reverse("safety:inbox")).content.decode()
    head = html[html.index('id="section-overdue"'):html.index("</h2>", html.index('id="section-overdue"'))]
    assert f">{COUNT_SHOWN_UP_TO - 1}<" in head
    html = client.get(reverse("patients:list")).content.decode()  # the badge on another page
    assert f">{COUNT_SHOWN_UP_TO - 1}<span" in html


@pytest.mark.django_db
def test_the_inbox_counts_urgent_events_with_the_sections_and_lists_them_only_when_there_are_some(
        client, nurse, make_patient):
    """Urgent events are counted in the sections' one counting query: with none, the inbox
    asks for no list of them; with one, it is listed and counted exactly."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from safety.models import Alert

    patient = make_patient(code="GI-CC3")
    _overdue(patient, 2)
    client.force_login(nurse)
    with CaptureQueriesContext(connection) as none:
        html = client.get(reverse("safety:inbox")).content.decode()
    alert_lists = [q["sql"] for q in none.captured_queries if q["sql"].lstrip().startswith('SELECT "safety_alert"')]
    assert alert_lists == []
    assert 'data-urgent-total' not in html or 'data-urgent-total>0<' in html
    Alert.objects.create(patient=patient, kind="breastfeeding", tier="urgent", source="visit:1", date=TODAY,
                         rule="R5.1", reason="r")
    with CaptureQueriesContext(connection) as one:
        html = client.get(reverse("safety:inbox")).content.decode()
    assert len(one.captured_queries) == len(none.captured_queries) + 1  # the list of urgent events
    assert "data-urgent-total>1<" in html and "GI-CC3" in html[html.index("urgent-heading"):]


@pytest.mark.django_db
def test_the_badge_counts_in_one_query_every_urgent_event_and_the_due_rows_up_to_the_cap(
        nurse, make_patient, monkeypatch, django_assert_num_queries):
    """On every page but the inbox the badge is one counting query: open urgent events are
    counted exactly (never capped), due reminders and review alerts each up to the cap."""
    from types import SimpleNamespace

    from django.contrib.auth import get_user_model

    from patients.models import site_ids_of
    from safety import selectors
    from safety.models import Alert

    patient = make_patient(code="GI-CC4")
    _overdue(patient, 4)
    Reminder.objects.create(patient=patient, kind="visit_due", due=TODAY + timedelta(days=3), reason="later")
    for n in range(5):
        Alert.objects.create(patient=patient, kind="breastfeeding", tier="urgent", source=f"visit:{n}", date=TODAY,
                             rule="R5.1", reason="r")
    Alert.objects.create(patient=patient, kind="lab", tier="review", source="lab:1", date=TODAY, rule="R4.4", reason="r")
    Alert.objects.create(patient=patient, kind="lab", tier="urgent", source="lab:2", date=TODAY, rule="R4.4",
                         reason="r", resolved_at=timezone.now())  # resolved: not counted

    def badge():
        user = get_user_model().objects.get(pk=nurse.pk)  # a new request's user
        site_ids_of(user)  # read once per request, for every list of the page
        with django_assert_num_queries(1):
            return selectors.safety_counts_for(SimpleNamespace(user=user))

    assert badge() == {"urgent": 5, "due": 4 + 1}
    monkeypatch.setattr(selectors, "COUNT_SHOWN_UP_TO", 2)
    # Due reminders counted up to 2 + 1 (reads "more than the cap"); urgent events still exact.
    assert badge() == {"urgent": 5, "due": 3 + 1}
