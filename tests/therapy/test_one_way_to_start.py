"""Thalidomide starts on the web only through the start-of-therapy checklist (R3.1,
R3.5, R5.2, R4.2).

A patient once started from the course page ("Record thalidomide start") skipped the
checklist: consent, the two pre-start pregnancy tests, contraception counselling and
TPMT/NUDT15. The course page now shows the start read-only and refuses any start field
(even a forged POST), the dose page refuses a first dose or a new start more than
28 days after a stop and points to the checklist, and an imported start still shows.
"""

import ast
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from reports.datasheet import import_datasheet
from therapy import actions as therapy_actions
from therapy.models import DoseChange, TherapyCourse

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
START = TODAY - timedelta(days=60)
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "fixtures" / "example_datasheet"
CHECKLIST_WORDS = "start-of-therapy checklist"
# The course page's old start field, and names a start could be forged under.
FORGED_START_FIELDS = [
    ("start_date", START.isoformat()),
    ("thalidomide_start", START.isoformat()),
    ("first_dose_mg", "25"),
    ("dose_mg", "25"),
]


@pytest.fixture
def man(make_patient):
    return make_patient(code="GI-0610", sex="M", tpmt="normal", nudt15="normal")


def start_by_checklist(patient, clinician, *, on=START, **extra):
    extra.setdefault("consent_signed_date", on - timedelta(days=1))
    return therapy_actions.therapy_start(actor=clinician, patient=patient, start_date=on, dose_mg=Decimal("25"), **extra)


def course_url(patient):
    return reverse("patients:course", args=[patient.code])


def dose_url(patient):
    return reverse("therapy:dose_change", args=[patient.code])


def start_url(patient):
    return reverse("therapy:therapy_start", args=[patient.code])


def course_state(patient):
    return list(TherapyCourse.objects.filter(patient=patient).values_list(
        "start_date", "stop_date", "target_dose_mg", "regimen", "consent_signed_date", "checklist_override_reason",
    ))


# --- the course page -------------------------------------------------------------------
@pytest.mark.parametrize("field, value", FORGED_START_FIELDS)
def test_the_course_page_refuses_a_start_of_a_patient_never_started(client, clinician, man, field, value):
    client.force_login(clinician)
    response = client.post(course_url(man), {field: value, "target_dose_mg": "100"})
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{field}: not taken on the course page" in page and CHECKLIST_WORDS in page
    assert not DoseChange.objects.exists() and not TherapyCourse.objects.exists()


@pytest.mark.parametrize("field, value", FORGED_START_FIELDS)
def test_the_course_page_refuses_a_forged_start_change(client, clinician, man, field, value):
    start_by_checklist(man, clinician)
    before, rows = course_state(man), list(DoseChange.objects.values_list("date", "dose_mg"))
    forged = value if field != "start_date" and field != "thalidomide_start" else (START - timedelta(days=30)).isoformat()
    client.force_login(clinician)
    response = client.post(course_url(man), {field: forged, "target_dose_mg": "75", "regimen": "adult"})
    assert response.status_code == 200 and f"{field}: not taken on the course page" in response.content.decode()
    assert course_state(man) == before  # nothing written: the target dose did not change either
    assert list(DoseChange.objects.values_list("date", "dose_mg")) == rows


@pytest.mark.parametrize(
    "fields",
    [
        {"start_date": START},
        {"start_date": START, "target_dose_mg": Decimal("100")},
        {"first_dose_mg": Decimal("25")},
        {"consent_signed_date": START},  # a checklist fact, recorded with the start only
    ],
)
def test_course_save_refuses_a_start_even_without_the_form(man, clinician, fields):
    with pytest.raises(ValidationError) as refused:
        therapy_actions.course_save(actor=clinician, patient=man, **fields)
    named = [name for name in fields if name not in therapy_actions.COURSE_PAGE_FIELDS]
    assert set(named) <= set(refused.value.message_dict)
    assert all(CHECKLIST_WORDS in refused.value.message_dict[name][0] for name in named)
    assert not TherapyCourse.objects.exists() and not DoseChange.objects.exists()


def test_course_save_refuses_a_start_date_change_of_a_started_course(man, clinician):
    start_by_checklist(man, clinician)
    before = course_state(man)
    with pytest.raises(ValidationError) as refused:
        therapy_actions.course_save(actor=clinician, patient=man, start_date=START - timedelta(days=10))
    assert "start_date" in refused.value.message_dict
    assert course_state(man) == before and DoseChange.objects.count() == 1


def test_course_save_does_not_create_a_course(man, clinician):
    with pytest.raises(ValidationError) as refused:
        therapy_actions.course_save(actor=clinician, patient=man, target_dose_mg=Decimal("100"))
    assert "has not been started" in refused.value.message_dict["start_date"][0]
    assert not TherapyCourse.objects.exists()


def test_the_course_page_shows_the_start_read_only(client, clinician, man):
    start_by_checklist(man, clinician, consent_signed_date=START)
    client.force_login(clinician)
    page = client.get(course_url(man)).content.decode()
    assert 'name="start_date"' not in page and 'name="dose_mg"' not in page
    assert 'data-started="true"' in page
    assert f"<dd class=\"col-sm-8\" data-start-date>{START:%Y-%m-%d}</dd>" in page
    assert f"25 mg/day on {START:%Y-%m-%d}" in page
    assert 'data-start-checklist><span class="badge text-bg-success">complete' in page
    assert 'name="target_dose_mg"' in page and 'name="regimen"' in page  # what the page still edits
    assert start_url(man) not in page  # taken now: nothing to start


def test_the_course_page_of_a_patient_never_started_links_to_the_checklist(client, clinician, man):
    client.force_login(clinician)
    page = client.get(course_url(man)).content.decode()
    assert "data-not-started" in page and f'href="{start_url(man)}"' in page
    assert 'name="target_dose_mg"' not in page and 'name="start_date"' not in page


def test_the_patient_page_offers_the_checklist_not_the_course_page(client, clinician, man):
    client.force_login(clinician)
    page = client.get(reverse("patients:detail", args=[man.code])).content.decode()
    assert "Record thalidomide start" not in page and f'href="{course_url(man)}"' not in page
    assert f'href="{start_url(man)}"' in page


def test_the_course_page_still_edits_target_regimen_and_stop_reason(client, clinician, man):
    start_by_checklist(man, clinician)
    client.force_login(clinician)
    response = client.post(course_url(man), {"target_dose_mg": "75", "regimen": "adult"})
    assert response.status_code == 302
    course = TherapyCourse.objects.get(patient=man)
    assert course.target_dose_mg == Decimal("75") and course.regimen == "adult" and course.start_date == START


# --- the dose page -------------------------------------------------------------------
def test_the_dose_page_refuses_a_first_dose_and_points_to_the_checklist(client, clinician, man):
    # The checklist facts are on record (an imported course without dose rows, consent signed,
    # genotype known): the dose page once let this first dose through without the checklist page.
    TherapyCourse.objects.create(patient=man, start_date=START, consent_signed_date=START - timedelta(days=1))
    client.force_login(clinician)
    response = client.post(
        dose_url(man), {"drug": "thalidomide", "date": START.isoformat(), "dose_mg": "25", "reason": "start"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "was not saved" in page and CHECKLIST_WORDS in page
    assert f'href="{start_url(man)}"' in page and 'data-dose-check="start-via-checklist"' in page
    assert not DoseChange.objects.exists()


def test_dose_change_record_refuses_a_first_dose_even_with_an_override(man, clinician):
    TherapyCourse.objects.create(patient=man, start_date=START, consent_signed_date=START - timedelta(days=1))
    with pytest.raises(ValidationError) as refused:
        therapy_actions.dose_change_record(
            actor=clinician, patient=man, drug="thalidomide", date=START, dose_mg=Decimal("25"), override_reason="x",
        )
    assert CHECKLIST_WORDS in refused.value.message_dict["dose_mg"][0]
    assert not DoseChange.objects.exists()


def test_a_new_start_after_a_long_stop_goes_through_the_checklist(client, clinician, man):
    first = START - timedelta(days=60)
    start_by_checklist(man, clinician, on=first)
    therapy_actions.dose_change_record(
        actor=clinician, patient=man, drug="thalidomide", date=first + timedelta(days=10), dose_mg=Decimal("0"),
        reason="somnolence",
    )
    # 29 days after the stop: a new start (R3.1), refused on the dose page …
    restart = first + timedelta(days=39)
    with pytest.raises(ValidationError) as refused:
        therapy_actions.dose_change_record(
            actor=clinician, patient=man, drug="thalidomide", date=restart, dose_mg=Decimal("25"),
        )
    assert CHECKLIST_WORDS in str(refused.value) and DoseChange.objects.count() == 2
    # … and the checklist page, open again now that thalidomide is stopped, records it.
    client.force_login(clinician)
    assert client.get(start_url(man)).status_code == 200
    row = start_by_checklist(man, clinician, on=restart)
    assert row.kind == "restart"
    course = TherapyCourse.objects.get(patient=man)
    assert course.start_date == first and course.stop_date is None  # day 0 stays the first row (R3.1)
    assert client.get(start_url(man)).status_code == 302  # taken again: Change dose


def test_a_resumption_within_28_days_stays_on_the_dose_page(man, clinician):
    start_by_checklist(man, clinician)
    therapy_actions.dose_change_record(
        actor=clinician, patient=man, drug="thalidomide", date=START + timedelta(days=10), dose_mg=Decimal("0"),
    )
    with pytest.raises(ValidationError) as refused:  # the checklist records starts only
        start_by_checklist(man, clinician, on=START + timedelta(days=20))
    assert "Change dose" in refused.value.message_dict["start_date"][0]
    row = therapy_actions.dose_change_record(
        actor=clinician, patient=man, drug="thalidomide", date=START + timedelta(days=20), dose_mg=Decimal("25"),
    )
    assert row.kind == "increase"


def test_azathioprine_is_still_started_on_the_dose_page(man, clinician):
    from visits.actions import visit_record

    visit_record(actor=clinician, patient=man, date=START, weight_kg=Decimal("70"))
    row = therapy_actions.dose_change_record(
        actor=clinician, patient=man, drug="azathioprine", date=START, dose_mg=Decimal("150"),
    )
    assert row.kind == "first_dose"


# --- the start checklist ---------------------------------------------------------------
def test_the_checklist_page_starts_thalidomide(client, clinician, man):
    client.force_login(clinician)
    response = client.post(start_url(man), {
        "start_date": START.isoformat(), "dose_mg": "25", "target_dose_mg": "100",
        "consent_signed_date": (START - timedelta(days=1)).isoformat(),
    })
    assert response.status_code == 302
    row = DoseChange.objects.get(patient=man)
    assert (row.drug, row.date, row.dose_mg, row.kind) == ("thalidomide", START, Decimal("25"), "first_dose")
    course = TherapyCourse.objects.get(patient=man)
    assert course.start_date == START and not course.checklist_override_reason


def test_the_checklist_override_still_starts_and_is_shown(client, clinician, man):
    client.force_login(clinician)
    data = {"start_date": START.isoformat(), "dose_mg": "25"}  # no consent: the checklist is incomplete
    refused = client.post(start_url(man), data)
    assert refused.status_code == 200 and not DoseChange.objects.exists()
    response = client.post(start_url(man), {**data, "override_reason": "consent on paper, scanned tomorrow"})
    assert response.status_code == 302
    course = TherapyCourse.objects.get(patient=man)
    assert course.checklist_override_date == START and course.checklist_override_missing == ["consent"]
    page = client.get(course_url(man)).content.decode()
    assert "overridden</span> for the start on" in page and "consent on paper, scanned tomorrow" in page


# --- an imported start -----------------------------------------------------------------
def test_an_imported_start_still_shows(client, clinician, tmp_path):
    datasheet = tmp_path / "example"
    shutil.copytree(EXAMPLE, datasheet)
    doses = datasheet / "doses.csv"
    # EX03's start only in patients.csv (no thalidomide rows): a course without a first-dose row.
    doses.write_text("".join(line for line in doses.read_text().splitlines(keepends=True)
                             if not line.startswith("EX03,thalidomide")))
    report = import_datasheet(datasheet, actor=clinician)
    assert report.errors == [], [str(e) for e in report.errors]
    client.force_login(clinician)

    ex01 = client.get(reverse("patients:course", args=["EX01"])).content.decode()
    assert "data-start-date>2021-02-01<" in ex01 and "25 mg/day on 2021-02-01" in ex01
    ex03 = client.get(reverse("patients:course", args=["EX03"])).content.decode()
    assert "data-start-date>2020-09-07<" in ex03 and "no thalidomide dose recorded" in ex03
    detail = client.get(reverse("patients:detail", args=["EX01"])).content.decode()
    assert "2021-02-01" in detail and "Edit course" in detail

    # The course page edits an imported course too; its start stays.
    response = client.post(reverse("patients:course", args=["EX01"]), {"target_dose_mg": "75"})
    assert response.status_code == 302
    course = TherapyCourse.objects.get(patient__code="EX01")
    assert course.start_date.isoformat() == "2021-02-01" and course.target_dose_mg == Decimal("75")


# --- no page takes the historical paths --------------------------------------------------
def _door_modules():
    for app in ("patients", "visits", "therapy", "safety", "reports"):
        for name in ("views.py", "forms.py", "urls.py"):
            if (ROOT / app / name).exists():
                yield ROOT / app / name


def test_no_page_calls_a_start_without_the_checklist():
    """``historical_course_save`` and ``dose_change_record(historical=True)`` write a past
    chart's start without the checklist: the demo seed, the benchmark and test set-up
    use them, never a page."""
    found = []
    for path in _door_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute | ast.Name) and "historical_course_save" in (
                getattr(node, "attr", None), getattr(node, "id", None)
            ):
                found.append(f"{path.name}: historical_course_save")
            if isinstance(node, ast.Call) and any(k.arg in ("historical", "via_checklist") for k in node.keywords):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
