"""Visit rows (stored or imported) → the plain records the rules take.

The one definition of each derivation from visits: the CDAI input of a visit
(with the lab haematocrit of the 7 days before it), the stored scores, the
R2 status series of a patient, and the complication count of a visit form.
Stored ``Visit`` instances and the importer's unsaved ones go through the same
functions; nothing here writes.
"""

from dataclasses import dataclass, replace
from datetime import timedelta

from thalimon.rules_config import rule_settings, rules_version
from thalimon.said import join, say
from visits import other_scores, outcomes, scoring
from visits.models import Contact

# R1.1: the latest lab haematocrit in the 7 days up to the visit stands in for a missing one.
HEMATOCRIT_LOOKBACK_DAYS = 7
# R1.1 items whose presence means the CDAI is being recorded at this contact.
CDAI_ITEM_FIELDS = ("cdai_stools", "cdai_pain", "cdai_wellbeing", "cdai_antidiarrheal", "cdai_mass", "hematocrit")
NO_COURSE_STATUS = ("", "R2.1", "No thalidomide start recorded: statuses are empty (R2.1).")


def complication_count(*, flags, count, items_recorded):
    """R1.1 C from the ticked categories: their number, 0 included, whenever CDAI items
    are being recorded (no category ticked means none present); else the count given."""
    flags = list(flags or [])
    if flags or items_recorded:
        return len(flags)
    return count


def cdai_items_recorded(values):
    """Whether any CDAI item is given in ``values`` (a mapping of field name → value)."""
    return any(values.get(name) is not None for name in CDAI_ITEM_FIELDS)


def lab_hematocrit(day, lab_hematocrits):
    """(date, value) of the latest lab haematocrit from ``day`` − 7 to ``day``, or None."""
    window_start = day - timedelta(days=HEMATOCRIT_LOOKBACK_DAYS)
    candidates = [(d, v) for d, v in lab_hematocrits if window_start <= d <= day]
    return max(candidates) if candidates else None


def compute_cdai(patient, visit, *, lab_hematocrits):
    """R1.1 for one (possibly unsaved) visit; ``lab_hematocrits`` are (date, value) pairs."""
    if visit.contact != Contact.CLINIC:
        return scoring.ScoreResult(
            name="CDAI", value=None, rule="R1.1", source="",
            reason="A CDAI is recorded only at clinic contacts (R1.1).",
        )
    hematocrit = visit.hematocrit
    from_lab = None
    if hematocrit is None and visit.date:
        from_lab = lab_hematocrit(visit.date, lab_hematocrits)
        hematocrit = from_lab[1] if from_lab else None
    complications = visit.cdai_complications
    if complications is None and visit.cdai_complication_flags:
        complications = len(visit.cdai_complication_flags)
    result = scoring.cdai(
        stools=visit.cdai_stools,
        pain=visit.cdai_pain,
        wellbeing=visit.cdai_wellbeing,
        complications=complications,
        antidiarrheal=visit.cdai_antidiarrheal,
        mass=visit.cdai_mass,
        hematocrit=hematocrit,
        sex=patient.sex,
        weight_kg=visit.weight_kg,
        standard_weight=patient.standard_weight_kg,
        height_cm=patient.height_cm,
        entered_total=visit.cdai_entered,
        weight_floor=rule_settings().cdai_weight_floor,
    )
    if from_lab and result.source == "computed":
        day, value = from_lab
        result = replace(
            result,
            reason=join([result.reason, say("Haematocrit %(value)s %% from the lab of %(day)s.",
                                            value=format(value.normalize(), "f"), day=day)], " "),
        )
    return result


@dataclass(frozen=True)
class VisitScores:
    """The stored scores of one visit (R1.1, R1.2, R1.6)."""

    cdai: int | None
    cdai_source: str
    cdai_reason: str
    hbi: int | None
    mayo: int | None
    warnings: tuple = ()

    def apply_to(self, visit):
        """Set the score fields of ``visit``; True when any of them changed."""
        before = (visit.cdai, visit.cdai_source, visit.cdai_reason, visit.hbi, visit.mayo)
        after = (self.cdai, self.cdai_source, self.cdai_reason, self.hbi, self.mayo)
        visit.cdai, visit.cdai_source, visit.cdai_reason, visit.hbi, visit.mayo = after
        visit.rules_version = rules_version()
        return before != after


def visit_scores(patient, visit, *, lab_hematocrits):
    """CDAI, HBI and Mayo of one visit, as they are stored."""
    cdai = compute_cdai(patient, visit, lab_hematocrits=lab_hematocrits)
    hbi = other_scores.hbi(
        wellbeing=visit.hbi_wellbeing,
        pain=visit.hbi_pain,
        liquid_stools=visit.hbi_liquid_stools,
        mass=visit.hbi_mass,
        complications=visit.hbi_complications,
        entered_total=visit.hbi_entered,
    )
    mayo = other_scores.mayo(
        stool_frequency=visit.mayo_stool_frequency,
        rectal_bleeding=visit.mayo_rectal_bleeding,
        endoscopy=visit.mayo_endoscopic,
        physician_global=visit.mayo_physician_global,
        entered_total=visit.mayo_entered,
    )
    return VisitScores(
        cdai=int(cdai.value) if cdai.value is not None else None,
        cdai_source=cdai.source if cdai.value is not None else "",
        # Warnings (stools above 140, an entered total that differs) are kept with the score.
        cdai_reason=join([cdai.reason, *(say("Warning: %(warning)s", warning=w) for w in cdai.warnings)], " "),
        hbi=int(hbi.value) if hbi.value is not None else None,
        mayo=int(mayo.value) if mayo.value is not None else None,
        warnings=(*cdai.warnings, *hbi.warnings, *mayo.warnings),
    )


def visit_observations(visits, *, cdai_of=None):
    """R2 observations of ``visits`` (in date order), keyed by their position."""
    cdai_of = cdai_of or (lambda visit: visit.cdai)
    return [
        outcomes.VisitObs(key=index, date=v.date, contact=v.contact, cdai=cdai_of(v), relapse_event=v.relapse_event)
        for index, v in enumerate(visits)
    ]


def course_baseline(*, recorded, start_date, visits, cdai_of=None):
    """R2.1 baseline of a course starting on ``start_date``, or None without a course."""
    if start_date is None:
        return None
    return outcomes.baseline_cdai(
        recorded=recorded, visits=visit_observations(visits, cdai_of=cdai_of), start_date=start_date
    )


def status_series(*, recorded_baseline, start_date, visits, as_of, cdai_of=None):
    """R2.2/R2.3 (status, rule, reason) of each visit of one patient, in the order given
    (date order). Statuses depend on each other (nadir, relapse episodes): always the
    whole series. Without a thalidomide start every status is empty (R2.1)."""
    if start_date is None:
        return [NO_COURSE_STATUS for _ in visits]
    rules = rule_settings()
    observations = visit_observations(visits, cdai_of=cdai_of)
    baseline = outcomes.baseline_cdai(recorded=recorded_baseline, visits=observations, start_date=start_date)
    computed = {
        s.key: (s.status, s.rule, s.reason)
        for s in outcomes.clinical_statuses(
            visits=observations,
            baseline=baseline,
            start_date=start_date,
            as_of=as_of,
            remission_below=rules.remission_cdai_below,
            response_drop=rules.response_cdai_drop,
        )
    }
    return [computed.get(index, ("", "", "")) for index in range(len(visits))]


def ordered(visits):
    """Visits in the order every status series uses: date, then contact, then id."""
    return sorted(visits, key=lambda v: (v.date, v.contact, v.pk or 0))
