"""The cohort report laid out as the source paper's tables (pure: dict in, tables out).

One layout serves the web page, the PDF, the XLSX (one sheet per table) and
the CSV, so the four can never disagree. A count that stands for patients, events or
dose rows carries the figure key of the drill-down (``Table.links``; the page links it
to the list of patients behind it, reports/cohort_members.py).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from reports.cohort import ACTIVITY_DIAGNOSIS, ALL_DIAGNOSES, WITHDRAWAL_KEYS
from reports.statistics import round_half_up
from thalimon import catalogue
from therapy import words as therapy_words

WEEKS = ["0", "4", "8", "12", "24"]
KM_MONTHS = ["12", "24", "36", "48", "60"]
DIAGNOSIS_NAMES = {
    "CD": gettext_lazy("Crohn's disease"), "UC": gettext_lazy("Ulcerative colitis"),
    "AID": gettext_lazy("Autoinflammatory disease"),
}


@dataclass
class Table:
    key: str
    title: str
    header: list
    rows: list = field(default_factory=list)  # each row: [label, cell, cell, ...]
    note: str = ""
    links: dict = field(default_factory=dict)  # (row index, column index) → figure key

    def add(self, row, keys=()):
        """Append a row; ``keys`` (aligned with the row, None for no link) name the counts
        that drill down to their patients."""
        for column, key in enumerate(keys):
            if key:
                self.links[(len(self.rows), column)] = key
        self.rows.append(row)

    @property
    def cells(self):
        """Each row as (text, figure key or None) pairs, for the page."""
        return [
            [(text, self.links.get((index, column))) for column, text in enumerate(row)]
            for index, row in enumerate(self.rows)
        ]


def diagnosis_name(code):
    return _("All diagnoses") if code == ALL_DIAGNOSES else DIAGNOSIS_NAMES.get(code, code or "")


def site_line(report, *, own=False):
    """Which sites the figures cover, as the page, the PDF, the XLSX and the CSV say it:
    "Site: EAST — East clinic" (one site), "All sites (the whole network)", "Sites: EAST,
    MAIN" (several; "Your sites: EAST, MAIN" when they are the user's own, ``own``). A report
    without the key is of every site (it was made before sites)."""
    sites = report.get("sites")
    if sites is None:
        return _("All sites (the whole network)")
    if len(sites) == 1:
        return _("Site: %(code)s — %(name)s") % {"code": sites[0]["code"], "name": sites[0]["name"]}
    codes = ", ".join(site["code"] for site in sites) or _("none")
    if own:
        return _("Your sites: %(codes)s") % {"codes": codes}
    return _("Sites: %(codes)s") % {"codes": codes}


def figure_caption(tables, key):
    """Where the count ``key`` stands in the report: its table, row, column (when the
    table has several) and text; None when the report does not show it."""
    for table in tables:
        for (row, column), linked in table.links.items():
            if linked == key:
                return {
                    "table": table.title,
                    "row": table.rows[row][0],
                    "column": table.header[column] if len(table.header) > 2 else "",
                    "text": table.rows[row][column],
                    "note": table.note,
                }
    return None


def _linked(count, key):
    """The key of a count worth opening (a positive number), else None."""
    return key if isinstance(count, (int, float)) and count > 0 else None


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
    activity = [
        _induction_table(report.get("induction") or {}),
        _relapse_free_table(report.get("relapse_free") or {}),
        _relapse_free_summary_table(report.get("relapse_free") or {}),
    ]
    endoscopy = _endoscopy_table(report.get("endoscopy") or {})
    _scope_activity_tables([*activity, endoscopy], report)
    tables += activity + [
        _adverse_events_table(report.get("adverse_events") or {}, report.get("n_patients") or 0),
        endoscopy,
        _titration_table(report.get("titration") or {}),
        _exposure_table(report.get("exposure") or {}),
    ]
    if "prescriptions" in report:
        tables.append(_prescriptions_table(report.get("prescriptions") or {}))
    return tables


def _scope_activity_tables(tables, report):
    """Say whom the CDAI-based and endoscopic tables cover when it is not the whole cohort."""
    scope = report.get("activity_cohort")
    diagnosis = report.get("diagnosis")
    if scope:
        suffix = _(" — %(diagnosis)s patients only") % {"diagnosis": DIAGNOSIS_NAMES[ACTIVITY_DIAGNOSIS]}
        words = _(
            "%(diagnosis)s patients only (%(n)s of %(total)s): CDAI, relapse (R2.3) and the endoscopic scores are "
            "Crohn's disease measures, so other diagnoses are left out of this table."
        ) % {"diagnosis": DIAGNOSIS_NAMES[ACTIVITY_DIAGNOSIS], "n": scope.get("n_patients"), "total": report.get("n_patients")}
    elif diagnosis in DIAGNOSIS_NAMES and diagnosis != ACTIVITY_DIAGNOSIS:
        suffix = ""
        words = _(
            "CDAI is recorded for Crohn's disease only: no %(code)s patient has a CDAI "
            "assessment, so R8 counts each as not responding. These rows do not measure the "
            "response of %(name)s."
        ) % {"code": diagnosis, "name": diagnosis_name(diagnosis).lower()}
    else:
        return
    for table in tables:
        table.title += suffix
        table.note = f"{table.note} {words}".strip()


def _baseline_table(baseline):
    t1 = Table("baseline", _("Table 1 — Baseline characteristics at thalidomide start"), ["", _("Value")])
    t1.rows += [
        [_("Patients"), _num(baseline.get("n"))],
        *[[_("%(diagnosis)s, n (%%)") % {"diagnosis": diagnosis_name(code)}, n_pct(entry)] for code, entry in (baseline.get("diagnosis") or {}).items()],
        [_("Male, n (%)"), n_pct(baseline.get("male"))],
        [_("Age, years, median (IQR)"), median_iqr(baseline.get("age_median_iqr"))],
    ]
    for code, entry in (baseline.get("montreal_location") or {}).items():
        t1.rows.append([_("Montreal location %(code)s") % {"code": _montreal(code)}, n_pct(entry)])
    t1.rows.append([_("Upper GI disease (L4)"), n_pct(baseline.get("upper_gi"))])
    for code, entry in (baseline.get("montreal_behavior") or {}).items():
        t1.rows.append([_("Montreal behaviour %(code)s") % {"code": _montreal(code)}, n_pct(entry)])
    for key, label in (
        ("perianal", _("Perianal disease")),
        ("smoker", _("Smoker")),
        ("prior_biologic", _("Prior biologic")),
        ("ileocolic_resection", _("Ileocolic resection")),
    ):
        t1.rows.append([label, n_pct(baseline.get(key))])
    return t1


def _montreal(code):
    return _("not applicable (not Crohn's disease)") if code == "not_applicable" else code


def _induction_table(induction):
    t2 = Table(
        "induction",
        _("Table 2 — Induction: response and remission by week (intention to treat)"),
        ["", *[_("Week %(week)s") % {"week": w} for w in WEEKS]],
        note=_("Response: CDAI fall ≥ 70 from baseline; remission: CDAI < 150 and fall ≥ 70 (R2.2). "
               "Denominator: every patient whose window has closed (R8)."),
    )
    response = induction.get("response") or {}
    remission = induction.get("remission") or {}
    for name, label, entries in (("response", _("Response, n (%)"), response), ("remission", _("Remission, n (%)"), remission)):
        t2.add(
            [label, "", *[n_pct(entries.get(w)) for w in WEEKS[1:]]],
            [None, None, *[_linked((entries.get(w) or {}).get("n"), f"induction.{name}.{w}.n") for w in WEEKS[1:]]],
        )
    t2.rows.append([_("CDAI, mean (SD)"), *[mean_sd((induction.get("cdai_mean_sd") or {}).get(w)) for w in WEEKS]])
    t2.rows.append([_("CRP mg/L, median (IQR)"), *[median_iqr((induction.get("crp_median_iqr") or {}).get(w)) for w in WEEKS]])
    t2.rows.append([_("ESR mm/h, median (IQR)"), *[median_iqr((induction.get("esr_median_iqr") or {}).get(w)) for w in WEEKS]])
    return t2


def _relapse_free_table(relapse):
    t3 = Table(
        "relapse_free", _("Relapse-free survival among responders (Kaplan–Meier)"),
        ["", *[_("%(months)s months") % {"months": m} for m in KM_MONTHS]],
        note=_("Origin: first response by day 182; event: first relapse (R2.3); censored at the last "
               "clinic visit or the thalidomide stop."),
    )
    t3.rows.append([_("Relapse-free proportion"), *[_survival((relapse.get("km") or {}).get(m)) for m in KM_MONTHS]])
    return t3


def _relapse_free_summary_table(relapse):
    ci = relapse.get("median_ci") or [None, None]
    median = relapse.get("median_months")
    if not relapse.get("n"):
        median_text = "—"  # no responders: not computable
    elif median is None:
        median_text = _("not reached")
    else:
        median_text = f"{_stat(median)} ({_stat(ci[0])}–{_('not reached') if ci[1] is None else _stat(ci[1])})"
    summary = Table(
        "relapse_free_summary", _("Relapse-free survival: patients, relapses, median"), ["", _("Value")],
    )
    summary.add([_("Responders followed"), _num(relapse.get("n"))], [None, _linked(relapse.get("n"), "relapse_free.n")])
    summary.add([_("Relapses"), _num(relapse.get("events"))], [None, _linked(relapse.get("events"), "relapse_free.events")])
    summary.add([_("Median relapse-free months (95 % CI)"), median_text])
    return summary


# The per-term rows read the term's code as words ("Peripheral neuropathy"); those that differ
# from the adverse-event form's labels (safety.models.AE_TERMS) are marked here for the catalogue.
TERM_ROW_WORDS = (gettext_noop("Peripheral neuropathy"), gettext_noop("Rash"), gettext_noop("Herpes zoster"),
                  gettext_noop("Anorexia"), gettext_noop("Other"))


def _adverse_events_table(ae, n):
    """Table 4; ``n`` (the cohort size) is the denominator of the per-term percentages."""
    t4 = Table("adverse_events", _("Table 4 — Adverse events"), ["", _("Value")],
               # xgettext:no-python-format
               note=_("Patients, n (% of the cohort), unless the row says events."))

    def pct(count):
        if count is None or not n:
            return _num(count)
        return f"{count} ({round_half_up(Decimal(count) * 100 / Decimal(n), 1):.1f} %)"

    def count_row(label, key, text):
        t4.add([label, text], [None, _linked(ae.get(key), f"adverse_events.{key}")])

    count_row(_("Any adverse event"), "patients", n_pct({"n": ae.get("patients"), "pct": ae.get("pct")}))
    count_row(_("Total events (events)"), "events", _num(ae.get("events")))
    count_row(_("Nervous system (neuropathy, somnolence, vertigo, fatigue, insomnia)"), "nervous_system_patients",
              pct(ae.get("nervous_system_patients")))
    for term, count in (ae.get("by_term") or {}).items():
        if count:
            t4.add([_(term.replace("_", " ").capitalize()), pct(count)],
                   [None, _linked(count, f"adverse_events.by_term.{term}")])
    labels = {
        "thalidomide_withdrawn": _("Led to thalidomide withdrawal only (events)"),
        "azathioprine_withdrawn": _("Led to azathioprine withdrawal only (events)"),
        "both_withdrawn": _("Led to withdrawal of both (events)"),
    }
    for key in WITHDRAWAL_KEYS:
        count_row(labels[key], key, _num(ae.get(key)))
    count_row(_("Hospitalised (events)"), "hospitalised", _num(ae.get("hospitalised")))
    for m in KM_MONTHS:
        t4.rows.append([_("Adverse-event-free at %(months)s months (KM proportion)") % {"months": m}, _survival((ae.get("ae_free_km") or {}).get(m))])
    return t4


def _endoscopy_table(endo):
    t5 = Table("endoscopy", _("Endoscopic outcomes"), ["", _("Value")],
               note=_("Among patients with a baseline and at least one later endoscopy (R2.4)."))
    t5.rows += [
        [_("Patients"), _num(endo.get("n"))],
        [_("Endoscopic remission, n (%)"), n_pct(endo.get("remission"))],
        [_("Mucosal healing, n (%)"), n_pct(endo.get("mucosal_healing"))],
        [_("CDEIS baseline, mean (SD)"), mean_sd((endo.get("cdeis_mean_sd") or {}).get("baseline"))],
        [_("CDEIS last follow-up, mean (SD)"), mean_sd((endo.get("cdeis_mean_sd") or {}).get("follow_up"))],
        [_("Rutgeerts baseline, mean (SD)"), mean_sd((endo.get("rutgeerts_mean_sd") or {}).get("baseline"))],
        [_("Rutgeerts last follow-up, mean (SD)"), mean_sd((endo.get("rutgeerts_mean_sd") or {}).get("follow_up"))],
    ]
    return t5


def _titration_table(titration):
    t6 = Table("titration", _("Titration: deviations from the schedule (R3.5)"), ["", _("Count")])
    t6.add([_("Thalidomide dose changes checked"), _num(titration.get("dose_changes"))],
           [None, _linked(titration.get("dose_changes"), "titration.dose_changes")])
    for code, count in (titration.get("deviations") or {}).items():
        t6.add([str(catalogue.label(therapy_words.FINDINGS, code)), _num(count)],
               [None, _linked(count, f"titration.deviations.{code}")])
    t6.add([_("Overrides"), _num(titration.get("overrides"))], [None, _linked(titration.get("overrides"), "titration.overrides")])
    return t6


def _exposure_table(exposure):
    t7 = Table("exposure", _("Exposure"), ["", _("Value")])
    t7.rows += [
        [_("Patient-months on thalidomide"), _stat(exposure.get("patient_months"))],
        [_("Adverse events per 100 patient-months"), _stat(exposure.get("ae_per_100_patient_months"))],
        [_("Cumulative thalidomide g per patient, median (IQR)"), median_iqr(exposure.get("cumulative_dose_g_median_iqr"))],
    ]
    return t7


def _prescriptions_table(prescriptions):
    """R9.5: prescriptions issued, each R9.3 code, the share without one, the share dispensed in time."""
    t8 = Table("prescriptions", _("Prescriptions under the pregnancy-prevention programme (R9)"), ["", _("Count")],
               note=_("Prescriptions issued on or before the report date, with the codes stored when each was "
                      "checked (R9.3); dispensed in time: by the dispense-by date, among those dispensed (R9.5)."))

    def count_row(label, key, text=None):
        count = prescriptions.get(key)
        t8.add([label, _num(count) if text is None else text], [None, _linked(count, f"prescriptions.{key}")])

    count_row(_("Prescriptions issued"), "issued")
    for code, count in (prescriptions.get("deviations") or {}).items():
        t8.add([str(catalogue.label(therapy_words.PRESCRIPTION_DEVIATIONS, code)), _num(count)],
               [None, _linked(count, f"prescriptions.deviations.{code}")])
    count_row(_("Without any code, n (%)"), "no_deviation",
              n_pct({"n": prescriptions.get("no_deviation"), "pct": prescriptions.get("no_deviation_pct")}))
    count_row(_("Dispensed"), "dispensed")
    # xgettext:no-python-format
    count_row(_("Dispensed in time, n (% of those dispensed)"), "dispensed_in_time",
              n_pct({"n": prescriptions.get("dispensed_in_time"), "pct": prescriptions.get("dispensed_in_time_pct")}))
    count_row(_("Overrides"), "overrides")
    return t8
