"""Issue 15 item 5 in the browser: the tick labels plotly.js draws on the patient page.

A one-point chart's time axis reads in dates (never "23:59:59.999"), the ESR axis on
the right ticks on round numbers (never 8.9 / 17.7 / 26.6), and the dose chart opens
on the thalidomide course with buttons (keyboard too) for its titration and for all the doses."""

import math
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _round_steps(labels):
    """Ticks on plotly's round steps: evenly spaced by 1, 2 or 5 × 10ⁿ, each a multiple of the step."""
    values = [float(t.replace("−", "-").replace(",", "")) for t in labels]
    steps = {round(b - a, 9) for a, b in zip(values, values[1:], strict=False)}
    if len(steps) != 1:
        return False
    (step,) = steps
    mantissa = step / 10 ** math.floor(math.log10(step))
    return round(mantissa, 6) in (1, 2, 5) and all(abs(v / step - round(v / step)) < 1e-6 for v in values)


def _ticks(page, chart, layer):
    texts = page.locator(f"#{chart} .{layer} text").evaluate_all("els => els.map(e => e.textContent)")
    return [t for t in texts if t.strip()]


@pytest.mark.parametrize("width", [1366, 768])
def test_patient_page_charts_read_in_dates_and_round_numbers(page, screenshot, make_user, make_patient, width):
    from thalimon.roles import CLINICIAN
    from therapy.models import DoseChange
    from visits.actions import endoscopy_record, lab_results_record

    doctor = make_user(CLINICIAN, username="carla", first_name="Carla", last_name="Clinician")
    patient = make_patient(code="GI-0042")
    today = timezone.localdate()
    endoscopy_record(actor=doctor, patient=patient, date=today - timedelta(days=20), cdeis_entered=Decimal("16.5"))
    for days, crp, esr in ((70, "35.2", 48), (40, "24.8", 36), (10, "16.8", 22)):
        lab_results_record(actor=doctor, patient=patient, date=today - timedelta(days=days),
                           lab_values={"crp": Decimal(crp), "esr": Decimal(esr)})
    start = today - timedelta(days=300)
    DoseChange.objects.create(patient=patient, drug="azathioprine", date=today - timedelta(days=1100),
                              dose_mg=125, warnings=["weight_missing"])
    for days, dose in ((0, 25), (14, 50), (28, 75), (42, 100)):
        DoseChange.objects.create(patient=patient, drug="thalidomide", date=start + timedelta(days=days), dose_mg=dose)

    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "carla")
    page.goto(f"/patients/{patient.code}/")
    for chart in ("chart-endoscopy", "chart-inflammation", "chart-dose"):
        page.locator(f"#{chart}[data-rendered='true']").wait_for()

    # one endoscopy: dates on the time axis, never a time of day
    dates = _ticks(page, "chart-endoscopy", "xtick")
    assert len(dates) >= 2 and not any(":" in t for t in dates), dates
    assert len(set(dates)) == len(dates), dates  # weeks apart, not one date repeated over milliseconds
    assert any(re.search(r"[A-Z][a-z]{2}", t) for t in dates), dates  # month names: dates
    # CRP on the left, ESR on the right: both on round steps
    for layer in ("ytick", "y2tick"):
        ticks = _ticks(page, "chart-inflammation", layer)
        assert len(ticks) >= 3 and _round_steps(ticks), (layer, ticks)
    # the dose chart opens on the thalidomide course, not on three years of azathioprine
    views = page.get_by_role("group", name="Time range of the dose chart")
    assert views.get_by_role("button").all_inner_texts() == ["Titration", "Thalidomide course", "All"]
    assert views.get_by_role("button", name="Thalidomide course").get_attribute("aria-pressed") == "true"
    course = _ticks(page, "chart-dose", "xtick")
    assert not any(str(today.year - 3) in t for t in course), course
    legend = page.locator("#chart-dose .legendtext").evaluate_all("els => els.map(e => e.textContent)")
    assert "Azathioprine: deviation / override" not in legend and "Azathioprine: no recent weight" in legend
    page.locator("#chart-dose").scroll_into_view_if_needed()
    screenshot(f"patient_charts_{width}")
    # by keyboard: "All" shows the azathioprine years
    everything = views.get_by_role("button", name="All")
    everything.focus()
    page.keyboard.press("Enter")
    assert everything.get_attribute("aria-pressed") == "true"
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chart-dose .xtick text')]"
        f".some(t => t.textContent.includes('{today.year - 2}'))"
    )
