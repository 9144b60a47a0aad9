"""Every code the rules can emit has words (a label and a sentence) in its app's catalogue
(docs/architecture.md, "Words"): adding a code without words fails here.

The codes are read from the rule modules themselves — their code tuples, and every
string given as a finding's code in their source — not from the catalogues."""

import ast
from pathlib import Path

import pytest
from django.template import Context, Template

from safety import kinds, schedule
from therapy import words as therapy_words
from therapy.rules import doses, prescriptions, thalidomide_check, urgent
from visits import charts, efficacy, endoscopy_scores, other_scores, outcomes, scoring
from visits import words as visit_words

ROOT = Path(__file__).resolve().parent.parent
FINDING_MAKERS = {"Finding", "_warning", "_deviation", "Deviation"}


def _finding_codes():
    """Every string literal a therapy rule module passes as a finding's code."""
    codes = set()
    for path in sorted((ROOT / "therapy" / "rules").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name not in FINDING_MAKERS:
                continue
            given = [kw.value for kw in node.keywords if kw.arg == "code"] + node.args[:1]
            codes |= {arg.value for arg in given if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return codes


def _checklist_keys():
    """The keys of the start-of-therapy checklist items (therapy/records.py)."""
    tree = ast.parse((ROOT / "therapy" / "records.py").read_text())
    return {
        kw.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "ChecklistItem"
        for kw in node.keywords
        if kw.arg == "key"
    }


def _bands():
    found = {scoring.cdai_band(v) for v in range(0, 700, 5)}
    found |= {other_scores.hbi_band(v) for v in range(0, 30)}
    found |= {endoscopy_scores.ses_cd_band(v) for v in range(0, 10)}
    found |= {other_scores.aidai(yes_count=n).band for n in range(0, 20)}
    return found - {""}


EMITTED = [
    ("deviations", therapy_words.DEVIATIONS, set(thalidomide_check.DEVIATION_CODES)),
    ("findings", therapy_words.FINDINGS,
     _finding_codes() | set(thalidomide_check.DEVIATION_CODES) | set(prescriptions.PRESCRIPTION_CODES)),
    ("prescription codes", therapy_words.PRESCRIPTION_DEVIATIONS, set(prescriptions.PRESCRIPTION_CODES)),
    ("risk categories", therapy_words.RISK_CATEGORIES, set(prescriptions.RISK_CATEGORIES)),
    ("change kinds", therapy_words.CHANGE_KINDS, set(doses.ChangeKind.ALL)),
    ("checklist items", therapy_words.CHECKLIST_ITEMS, _checklist_keys()),
    ("statuses", visit_words.STATUSES,
     {outcomes.REMISSION, outcomes.RESPONSE, outcomes.NO_RESPONSE, outcomes.RELAPSE, ""}),
    ("score bands", visit_words.BANDS, _bands()),
    ("treatment failure", visit_words.FAILURE_STATUSES, {efficacy.FAILURE, efficacy.NO_FAILURE, efficacy.NOT_EVALUABLE}),
    ("reminder kinds", kinds.REMINDERS, set(schedule.KINDS)),
    ("urgent events", kinds.URGENT, set(urgent.CODES)),
]


def test_the_code_enumeration_finds_the_rules_codes():
    """The source scan is not empty-handed (a broken scan would make the next test pass)."""
    found = _finding_codes()
    assert {"weight_missing", "above_target_dose", "aza_genotype_unknown", "step_too_soon"} <= found
    assert {"consent", "genotype"} <= _checklist_keys()
    assert {"remission-range", "mild", "moderate", "severe", "active", "inactive"} <= _bands()


@pytest.mark.parametrize(("name", "catalogue", "codes"), EMITTED, ids=[e[0] for e in EMITTED])
def test_every_code_the_rules_emit_has_a_label_and_a_sentence(name, catalogue, codes):
    missing = sorted(code for code in codes if code not in catalogue)
    assert missing == [], f"{name} without words: {missing}"
    for code in codes:
        label, sentence = catalogue[code]
        assert str(label)[:1].isupper(), f"{name}: {code!r} has no label (a label starts with a capital)"
        assert str(sentence).strip().endswith("."), f"{name}: {code!r} has no sentence"
        assert "_" not in str(label), f"{name}: {code!r}'s label reads as a code"


@pytest.mark.parametrize(("name", "catalogue", "codes"), EMITTED, ids=[e[0] for e in EMITTED])
def test_no_words_for_codes_the_rules_never_emit(name, catalogue, codes):
    """A code removed from the rules takes its words with it (no stale catalogue entries)."""
    assert sorted(set(catalogue) - codes) == []


def _render(source, **context):
    return Template("{% load words %}" + source).render(Context(context))


def test_filters_give_labels_and_sentences():
    assert _render("{{ c|deviation_label }}", c="step_too_soon") == "Step too soon"
    assert "14 days" in _render("{{ c|deviation_sentence }}", c="step_too_soon")
    assert _render("{{ c|warning_label }}", c="weight_missing") == "Weight missing"
    assert _render("{{ c|status_label }}", c="no_response") == "No response"
    assert "baseline" in _render("{{ c|status_reason }}", c="response")
    assert _render("{{ c|band_label }}", c="remission-range") == "Remission range"
    assert _render("{{ c|reminder_label }}", c="blood_test_due") == "Blood test due"
    assert _render("{{ c|urgent_label }}", c="breastfeeding") == "Breast-feeding"
    assert _render("{{ c|change_kind_label }}", c="first_dose") == "First dose"
    assert _render("{{ c|checklist_label }}", c="genotype") == "TPMT and NUDT15 results"
    assert _render("{{ c|prescription_label }}", c="early_repeat") == "Issued too early"
    assert "7 days" in _render("{{ c|prescription_sentence }}", c="early_repeat")
    assert _render("{{ c|deviation_label }}", c="dose_not_dispensable") == "Dose cannot be dispensed"
    assert _render("{{ c|risk_category_label }}", c="male") == "Male"


def test_the_printed_category_starts_with_the_catalogue_label():
    """The rule's printed category (R9.2) and the catalogue's label say the same words."""
    for code in prescriptions.RISK_CATEGORIES:
        assert prescriptions.CATEGORY_TEXTS[code] == str(therapy_words.RISK_CATEGORIES[code][0])


def test_code_lists_read_as_labels_each_once():
    """The report's "weight_missing weight_missing": a code listed twice reads once, in words."""
    assert _render("{{ c|deviation_labels }}", c=["weight_missing", "weight_missing", "step_too_soon"]) == (
        "Weight missing, Step too soon"
    )


def test_label_and_sentence_escapes_and_joins():
    html = _render('{{ c|label_and_sentence:"deviation" }}', c="breastfeeding")
    assert html.startswith("<strong>Breast-feeding</strong> — ")
    assert "<script>" not in _render('{{ c|label_and_sentence:"deviation" }}', c="<script>")


def test_an_unknown_code_reads_as_words_not_an_error():
    assert _render("{{ c|deviation_label }}|{{ c|deviation_sentence }}", c="new_code") == "new code|"


def test_the_chart_takes_its_status_words_from_the_catalogue():
    assert not hasattr(charts, "STATUS_LABELS")
    figure = charts.cdai_figure(
        dates=[__import__("datetime").date(2026, 1, 1)], values=[100], statuses=["remission"],
        remission_below=150, response_drop=70, status_labels={"remission": "Remission"},
    )
    assert figure["data"][0]["text"] == ["Remission"]


@pytest.mark.django_db
def test_the_history_names_a_dose_row_with_its_findings_in_words(make_patient, clinician, client):
    from datetime import date
    from decimal import Decimal

    from django.urls import reverse

    from thalimon.history import save_with_history
    from therapy.models import DoseChange

    patient = make_patient(code="GI-W1")
    row = DoseChange(patient=patient, drug="thalidomide", date=date(2026, 1, 1), dose_mg=Decimal("50"),
                     deviations=["step_too_soon"], warnings=["weight_missing", "weight_missing"],
                     override_reason="flare")
    save_with_history(row, clinician)
    client.force_login(clinician)
    page = client.get(reverse("patients:history", args=["GI-W1"]), {"kind": "dose"}).content.decode()
    assert "Thalidomide 50 mg/day from 2026-01-01 (Step too soon, Weight missing; overridden)" in page
    assert "step_too_soon" not in page and "weight_missing" not in page
