"""R12 "or the lab's own range when one is recorded" with R4.4 "ALT or AST > 3 × upper limit
(default ULN 40)": the ALT/AST upper limit typed with the results is stored as their range and
used by the withhold tier. Worked by hand: ULN 35 → withhold above 105; default 40 → above 120;
ALT 110 on azathioprine is `withhold` with the lab's 35 and `review` (> 100) with the default."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from safety.models import Alert
from therapy import actions as therapy_actions
from visits.models import LabResult

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def on_aza(make_patient, clinician):
    patient = make_patient(code="GI-ULN")
    therapy_actions.dose_change_record(
        actor=clinician, patient=patient, drug="azathioprine", date=TODAY - timedelta(days=60),
        dose_mg=Decimal("100"), historical=True,
    )
    return patient


def _post(client, patient, **fields):
    data = {"date": TODAY.isoformat(), **fields}
    return client.post(reverse("visits:lab_create", args=[patient.code]), data)


def _alert_tier(patient, test="alt"):
    lab = LabResult.objects.get(patient=patient, test=test)
    alert = Alert.objects.filter(patient=patient, kind="lab", source=f"lab:{lab.pk}").first()
    return alert.tier if alert else None


@pytest.mark.parametrize(
    "alt, uln, tier, stored_high",
    [
        ("110", "35", "withhold", "35"),  # 110 > 3 × 35 = 105
        ("110", "", "review", None),  # 110 ≤ 3 × 40 = 120, but > 100 (tier A)
        ("105", "35", "review", "35"),  # 105 is not > 105; > 100 (tier A)
        ("130", "50", "review", "50"),  # 130 ≤ 150 with the lab's 50: tier A only
        ("130", "", "withhold", None),  # 130 > 120 with the default
    ],
)
def test_the_labs_own_upper_limit_sets_the_withhold_level(client, clinician, on_aza, alt, uln, tier, stored_high):
    client.force_login(clinician)
    response = _post(client, on_aza, lab_alt=alt, lab_liver_uln=uln)
    assert response.status_code == 302
    lab = LabResult.objects.get(patient=on_aza, test="alt")
    assert lab.lab_high == (Decimal(stored_high) if stored_high else None)
    assert _alert_tier(on_aza) == tier


def test_ast_takes_the_same_limit_and_the_flag_reads_it(client, clinician, on_aza):
    client.force_login(clinician)
    _post(client, on_aza, lab_alt="30", lab_ast="38", lab_liver_uln="35")
    ast = LabResult.objects.get(patient=on_aza, test="ast")
    assert (ast.lab_low, ast.lab_high) == (Decimal(0), Decimal(35))
    assert ast.flag(sex=on_aza.sex, age_years=40) == "high"  # 38 > 35, though within R12's 0–40
    assert LabResult.objects.get(patient=on_aza, test="alt").flag(sex=on_aza.sex, age_years=40) == ""
    from visits.labs import format_range

    assert format_range("ast", lab_low=ast.lab_low, lab_high=ast.lab_high) == "0–35"  # as the lab wrote it


def test_an_alert_recomputed_from_the_stored_result_names_the_limit_as_written(clinician, on_aza):
    """The stored limit reads 35.000; the reason says 35 and 105, as when it was typed."""
    from safety.actions import lab_alert_for
    from therapy import records as therapy_records
    from visits.actions import lab_results_record

    lab_results_record(actor=clinician, patient=on_aza, date=TODAY, lab_values={"alt": Decimal("110")},
                       liver_uln=Decimal("35"))
    stored = LabResult.objects.get(patient=on_aza, test="alt")
    alert = lab_alert_for(stored, therapy_records.dose_rows_for(on_aza, "azathioprine"))
    assert alert.tier == "withhold" and "3 × ULN 35 = 105" in alert.reason


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"lab_crp": "4", "lab_liver_uln": "35"}, "enter the ALT or AST result it belongs to"),
        ({"lab_alt": "50", "lab_liver_uln": "5"}, "Upper limit of normal for ALT and AST"),
        ({"lab_alt": "50", "lab_liver_uln": "400"}, "Upper limit of normal for ALT and AST"),
    ],
)
def test_a_limit_without_its_result_or_out_of_range_is_refused_naming_the_field(
    client, clinician, on_aza, fields, message
):
    client.force_login(clinician)
    response = _post(client, on_aza, **fields)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LabResult.objects.filter(patient=on_aza).exists()  # nothing half-written


def _edit_data(page, **changes):
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, [])}
    data.update(changes)
    return data


def test_a_visit_edit_shows_the_stored_limit_and_changing_it_recomputes_the_alert(client, clinician, on_aza):
    from visits.actions import visit_record

    visit = visit_record(actor=clinician, patient=on_aza, date=TODAY, lab_values={"alt": Decimal("110")},
                         liver_uln=Decimal("35"))
    assert _alert_tier(on_aza) == "withhold"
    client.force_login(clinician)
    page = client.get(reverse("visits:edit", args=[visit.pk]))
    assert page.context["form"].initial["lab_liver_uln"] == Decimal("35")
    kept = client.post(reverse("visits:edit", args=[visit.pk]), _edit_data(page, lab_liver_uln=""))
    assert kept.status_code == 302  # empty keeps the stored limit: nothing changes
    assert LabResult.objects.get(patient=on_aza, test="alt").lab_high == Decimal("35")
    assert _alert_tier(on_aza) == "withhold"
    page = client.get(reverse("visits:edit", args=[visit.pk]))
    changed = client.post(reverse("visits:edit", args=[visit.pk]), _edit_data(page, lab_liver_uln="50"))
    assert changed.status_code == 302
    assert LabResult.objects.get(patient=on_aza, test="alt").lab_high == Decimal("50")
    assert _alert_tier(on_aza) == "review"  # 110 ≤ 3 × 50 = 150, > 100


def test_alt_and_ast_with_different_limits_survive_an_edit_of_something_else(client, clinician, on_aza):
    """ALT 130 with no limit (withhold: > 120), AST 30 with the lab's 50 entered later: the
    edit form shows no shared limit, and saving the visit's notes changes neither."""
    from visits.actions import lab_results_record, visit_record

    visit = visit_record(actor=clinician, patient=on_aza, date=TODAY, lab_values={"alt": Decimal("130")})
    lab_results_record(actor=clinician, patient=on_aza, date=TODAY, lab_values={"ast": Decimal("30")},
                       liver_uln=Decimal("50"))
    assert _alert_tier(on_aza) == "withhold"
    client.force_login(clinician)
    page = client.get(reverse("visits:edit", args=[visit.pk]))
    assert "lab_liver_uln" not in page.context["form"].initial
    response = client.post(reverse("visits:edit", args=[visit.pk]), _edit_data(page, notes="seen"))
    assert response.status_code == 302, response.content.decode()[:1000]
    alt, ast = (LabResult.objects.get(patient=on_aza, test=t) for t in ("alt", "ast"))
    assert (alt.lab_high, ast.lab_high) == (None, Decimal("50"))
    assert _alert_tier(on_aza) == "withhold"


def test_the_same_value_again_without_a_limit_keeps_the_limit(client, clinician, on_aza):
    client.force_login(clinician)
    _post(client, on_aza, lab_alt="110", lab_liver_uln="35")
    assert _alert_tier(on_aza) == "withhold"
    _post(client, on_aza, lab_alt="110")
    assert LabResult.objects.get(patient=on_aza, test="alt").lab_high == Decimal("35")
    assert _alert_tier(on_aza) == "withhold"


def test_the_one_visit_form_stores_the_limit(client, clinician, on_aza):
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[on_aza.code]),
                           {"date": TODAY.isoformat(), "contact": "clinic", "lab_alt": "110", "lab_liver_uln": "35"})
    assert response.status_code == 302, response.content.decode()[:1000]
    assert LabResult.objects.get(patient=on_aza, test="alt").lab_high == Decimal("35")
    assert _alert_tier(on_aza) == "withhold"
