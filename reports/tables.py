"""The cohort report laid out as the source paper's tables (pure: dict in, tables out).

One layout serves the web page, the PDF, the XLSX (one sheet per table) and
the CSV, so the four can never disagree.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from reports.cohort import round_half_up

WEEKS = ["0", "4", "8", "12", "24"]
KM_MONTHS = ["12", "24", "36", "48", "60"]


@dataclass
class Table:
    key: str
    title: str
    header: list
    rows: list = field(default_factory=list)  # each row: [label, cell, cell, ...]
    note: str = ""


def _num(value, places=None):
    """A figure with the Conventions' fixed decimals (counts as integers); "—" when missing."""
    if value is None:
        return "—"
    if places is None:
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return f"{value:.{places}f}"


def _stat(value):
    return _num(value, 2)  # means, SDs, medians, quartiles, months: 2 decimals


def _survival(value):
    return _num(value, 3)  # survival proportions: 3 decimals


def n_pct(entry):
    """n (%) with 1 decimal; "—" when the figure cannot be computed (no denominator)."""
    if not entry or entry.get("n") is None or entry.get("pct") is None:
        return "—"
    return f"{entry['n']} ({entry['pct']:.1f} %)"


def mean_sd(pair):
    if not pair or pair[0] is None:
        return "—"
    return f"{_stat(pair[0])} ({_stat(pair[1])})"


def median_iqr(triple):
    if not triple or triple[0] is None:
        return "—"
    return f"{_stat(triple[0])} ({_stat(triple[1])}–{_stat(triple[2])})"


def report_tables(report):
    """Every table of the report, in the paper's order (Table 1 only with baseline data)."""
    tables = []
    if report.get("baseline"):
        tables.append(_baseline_table(report["baseline"]))
    tables += [
        _induction_table(report.get("induction") or {}),
        _relapse_free_table(report.get("relapse_free") or {}),
        _relapse_free_summary_table(report.get("relapse_free") or {}),
        _adverse_events_table(report.get("adverse_events") or {}, report.get("n_patients") or 0),
        _endoscopy_table(report.get("endoscopy") or {}),
        _titration_table(report.get("titration") or {}),
        _exposure_table(report.get("exposure") or {}),
    ]
    return tables


def _baseline_table(baseline):
    t1 = Table("baseline", "Table 1 — Baseline characteristics at thalidomide start", ["", "Value"])
    t1.rows += [
        ["Patients", _num(baseline.get("n"))],
        ["Male, n (%)", n_pct(baseline.get("male"))],
        ["Age, years, median (IQR)", median_iqr(baseline.get("age_median_iqr"))],
    ]
    for code, entry in (baseline.get("montreal_location") or {}).items():
        t1.rows.append([f"Montreal location {code}", n_pct(entry)])
    t1.rows.append(["Upper GI disease (L4)", n_pct(baseline.get("upper_gi"))])
    for code, entry in (baseline.get("montreal_behavior") or {}).items():
        t1.rows.append([f"Montreal behaviour {code}", n_pct(entry)])
    for key, label in (
        ("perianal", "Perianal disease"),
        ("smoker", "Smoker"),
        ("prior_biologic", "Prior biologic"),
        ("ileocolic_resection", "Ileocolic resection"),
    ):
        t1.rows.append([label, n_pct(baseline.get(key))])
    return t1


def _induction_table(induction):
    t2 = Table(
        "induction",
        "Table 2 — Induction: response and remission by week (intention to treat)",
        ["", *[f"Week {w}" for w in WEEKS]],
        note="Response: CDAI fall ≥ 70 from baseline; remission: CDAI < 150 and fall ≥ 70 (R2.2). "
        "Denominator: every patient whose window has closed (R8).",
    )
    response = induction.get("response") or {}
    remission = induction.get("remission") or {}
    t2.rows.append(["Response, n (%)", "", *[n_pct(response.get(w)) for w in WEEKS[1:]]])
    t2.rows.append(["Remission, n (%)", "", *[n_pct(remission.get(w)) for w in WEEKS[1:]]])
    t2.rows.append(["CDAI, mean (SD)", *[mean_sd((induction.get("cdai_mean_sd") or {}).get(w)) for w in WEEKS]])
    t2.rows.append(["CRP mg/L, median (IQR)", *[median_iqr((induction.get("crp_median_iqr") or {}).get(w)) for w in WEEKS]])
    t2.rows.append(["ESR mm/h, median (IQR)", *[median_iqr((induction.get("esr_median_iqr") or {}).get(w)) for w in WEEKS]])
    return t2


def _relapse_free_table(relapse):
    t3 = Table(
        "relapse_free", "Relapse-free survival among responders (Kaplan–Meier)",
        ["", *[f"{m} months" for m in KM_MONTHS]],
        note="Origin: first response by day 182; event: first relapse (R2.3); censored at the last "
        "clinic visit or the thalidomide stop.",
    )
    t3.rows.append(["Relapse-free proportion", *[_survival((relapse.get("km") or {}).get(m)) for m in KM_MONTHS]])
    return t3


def _relapse_free_summary_table(relapse):
    ci = relapse.get("median_ci") or [None, None]
    median = relapse.get("median_months")
    if not relapse.get("n"):
        median_text = "—"  # no responders: not computable
    elif median is None:
        median_text = "not reached"
    else:
        median_text = f"{_stat(median)} ({_stat(ci[0])}–{'not reached' if ci[1] is None else _stat(ci[1])})"
    return Table(
        "relapse_free_summary", "Relapse-free survival: patients, relapses, median", ["", "Value"],
        rows=[
            ["Responders followed", _num(relapse.get("n"))],
            ["Relapses", _num(relapse.get("events"))],
            ["Median relapse-free months (95 % CI)", median_text],
        ],
    )


def _adverse_events_table(ae, n):
    """Table 4; ``n`` (the cohort size) is the denominator of the per-term percentages."""
    t4 = Table("adverse_events", "Table 4 — Adverse events", ["", "Value"],
               note="Patients, n (% of the cohort), unless the row says events.")

    def pct(count):
        if count is None or not n:
            return _num(count)
        return f"{count} ({round_half_up(Decimal(count) * 100 / Decimal(n), 1):.1f} %)"

    t4.rows.append(["Any adverse event", n_pct({"n": ae.get("patients"), "pct": ae.get("pct")})])
    t4.rows.append(["Total events (events)", _num(ae.get("events"))])
    t4.rows.append(["Nervous system (neuropathy, somnolence, vertigo, fatigue, insomnia)", pct(ae.get("nervous_system_patients"))])
    for term, count in (ae.get("by_term") or {}).items():
        if count:
            t4.rows.append([term.replace("_", " ").capitalize(), pct(count)])
    t4.rows += [
        ["Led to thalidomide withdrawal only (events)", _num(ae.get("thalidomide_withdrawn"))],
        ["Led to azathioprine withdrawal only (events)", _num(ae.get("azathioprine_withdrawn"))],
        ["Led to withdrawal of both (events)", _num(ae.get("both_withdrawn"))],
        ["Hospitalised (events)", _num(ae.get("hospitalised"))],
    ]
    for m in KM_MONTHS:
        t4.rows.append([f"Adverse-event-free at {m} months (KM proportion)", _survival((ae.get("ae_free_km") or {}).get(m))])
    return t4


def _endoscopy_table(endo):
    t5 = Table("endoscopy", "Endoscopic outcomes", ["", "Value"],
               note="Among patients with a baseline and at least one later endoscopy (R2.4).")
    t5.rows += [
        ["Patients", _num(endo.get("n"))],
        ["Endoscopic remission, n (%)", n_pct(endo.get("remission"))],
        ["Mucosal healing, n (%)", n_pct(endo.get("mucosal_healing"))],
        ["CDEIS baseline, mean (SD)", mean_sd((endo.get("cdeis_mean_sd") or {}).get("baseline"))],
        ["CDEIS last follow-up, mean (SD)", mean_sd((endo.get("cdeis_mean_sd") or {}).get("follow_up"))],
        ["Rutgeerts baseline, mean (SD)", mean_sd((endo.get("rutgeerts_mean_sd") or {}).get("baseline"))],
        ["Rutgeerts last follow-up, mean (SD)", mean_sd((endo.get("rutgeerts_mean_sd") or {}).get("follow_up"))],
    ]
    return t5


def _titration_table(titration):
    t6 = Table("titration", "Titration: deviations from the schedule (R3.5)", ["", "Count"])
    t6.rows.append(["Thalidomide dose changes checked", _num(titration.get("dose_changes"))])
    for code, count in (titration.get("deviations") or {}).items():
        t6.rows.append([code, _num(count)])
    t6.rows.append(["Overrides", _num(titration.get("overrides"))])
    return t6


def _exposure_table(exposure):
    t7 = Table("exposure", "Exposure", ["", "Value"])
    t7.rows += [
        ["Patient-months on thalidomide", _stat(exposure.get("patient_months"))],
        ["Adverse events per 100 patient-months", _stat(exposure.get("ae_per_100_patient_months"))],
        ["Cumulative thalidomide g per patient, median (IQR)", median_iqr(exposure.get("cumulative_dose_g_median_iqr"))],
    ]
    return t7
