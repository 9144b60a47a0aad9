"""What people read for the therapy rules' codes: one label and one sentence per code.

The codes belong to the pure rules (``therapy.rules``: R3.5 deviation codes, the
warnings beside them, R3.1 change kinds, R4 azathioprine warnings, the
start-of-therapy checklist items, R9.3 prescription codes and R9.2 risk categories); this catalogue is the only place their words
live. Pages use them through the ``words`` template filters
(``safety/templatetags/words.py``); tests/test_words.py checks that every code the
rules can emit has both. Strings are marked for translation (issue 17).
"""

from django.utils.translation import gettext_lazy as _

# R3.5 deviation codes (therapy.rules.thalidomide_check.DEVIATION_CODES): (label, sentence).
DEVIATIONS = {
    "start_dose_not_25": (
        _("Start dose not 25 mg"),
        _("An adult course starts at 25 mg/day; this start is at another dose (R3.2)."),
    ),
    "start_dose_too_high": (
        _("Start dose too high"),
        _("A child's course starts at no more than 25 mg/day and no more than the weight-based cap (R3.3)."),
    ),
    "dose_not_in_steps": (
        _("Dose not in tablet steps"),
        _("Doses are multiples of 25 mg for adults and of 12.5 mg for children (R3.2, R3.3)."),
    ),
    "step_too_large": (
        _("Step too large"),
        _("An increase is at most 50 mg (adult) or 25 mg (child) above the dose before it (R3.2, R3.3)."),
    ),
    "step_too_soon": (
        _("Step too soon"),
        _("An increase comes at least 14 days after the previous dose change (R3.2, R3.3)."),
    ),
    "above_max_dose": (
        _("Above the maximum dose"),
        _("The dose is above 100 mg/day (adult) or above the child's weight-based cap (R3.2, R3.3)."),
    ),
    "step_up_during_neuropathy": (
        _("Increase during neuropathy"),
        _("No increase while the latest neuropathy grade is 1 or more, until it is back to 0 (R3.4)."),
    ),
    "dose_above_neuropathy_limit": (
        _("Above 50 mg with neuropathy"),
        _("With any neuropathy (grade 1 or more) an adult's dose is at most 50 mg/day (R3.4)."),
    ),
    "continued_despite_grade3_neuropathy": (
        _("Dosed despite grade 3 neuropathy"),
        _("At neuropathy grade 3 or more thalidomide must be stopped; any other dose is refused (R3.4)."),
    ),
    "no_valid_pregnancy_test": (
        _("No valid pregnancy test"),
        _("A woman who could become pregnant needs a negative pregnancy test covering this dose (R5.2)."),
    ),
    "dosed_after_positive_pregnancy_test": (
        _("Dosed after a positive pregnancy test"),
        _("After a positive pregnancy test no dose is given until a later test is negative (R5.2)."),
    ),
    "contraception_not_established": (
        _("Contraception not yet established"),
        _("Contraception must have started at least 28 days before the first dose (R5.3)."),
    ),
    "breastfeeding": (
        _("Breast-feeding"),
        _("Thalidomide is not started or continued while the patient is breast-feeding (R5.1)."),
    ),
}

# Warnings beside the deviations (not refused): thalidomide (R3.1–R3.4) and azathioprine (R4).
WARNINGS = {
    "above_target_dose": (
        _("Above the target dose"),
        _("The dose is above the patient's chosen target; allowed, but check it is meant (R3.1)."),
    ),
    "target_dose_out_of_range": (
        _("Target outside 50–100 mg"),
        _("An adult's target dose is chosen between 50 and 100 mg/day; at most 100 mg/day is used (R3.2)."),
    ),
    "neuropathy_not_assessed": (
        _("Neuropathy not graded"),
        _("No neuropathy grade is recorded yet; grade it at a visit before stepping up (R3.4)."),
    ),
    "weight_missing": (
        _("Weight missing"),
        _("No recent weight is recorded, so the weight-based dose limits cannot be worked out (R3.3, R4.1)."),
    ),
    "no_step_under_cap": (
        _("No dose fits under the cap"),
        _("The child's weight is so low that even the smallest step is above 2 mg/kg (R3.3)."),
    ),
    "no_step_in_target_range": (
        _("No step within 1–2 mg/kg"),
        _("No tablet step falls within 1–2 mg/kg for this weight; the clinician chooses (R3.3)."),
    ),
    "aza_contraindicated_poor_metaboliser": (
        _("Azathioprine contraindicated (poor metaboliser)"),
        _("A poor TPMT or NUDT15 status contraindicates azathioprine; a start needs an override with a reason (R4.2)."),
    ),
    "aza_genotype_unknown": (
        _("TPMT/NUDT15 status unknown"),
        _("Record the TPMT and NUDT15 status before the first azathioprine dose (R4.2)."),
    ),
    "aza_dose_outside_range": (
        _("Azathioprine dose outside 2–2.5 mg/kg"),
        _("The azathioprine dose is outside 2.0–2.5 mg/kg/day of the latest weight (R4.1)."),
    ),
    "aza_dose_above_genotype_limit": (
        _("Azathioprine dose above the genotype limit"),
        _("With an intermediate TPMT or NUDT15 status the dose is a reduced share of 2.5 mg/kg (R4.2)."),
    ),
    "aza_with_xanthine_oxidase_inhibitor": (
        _("Azathioprine with allopurinol or febuxostat"),
        _("With allopurinol or febuxostat the azathioprine dose is at most a third of 2.5 mg/kg (R4.1)."),
    ),
}

# R9.3 prescription codes (therapy.rules.prescriptions.PRESCRIPTION_CODES): (label, sentence).
PRESCRIPTION_DEVIATIONS = {
    "supply_too_long": (
        _("Supply too long"),
        _("A prescription supplies at most 28 days for a woman who could become pregnant, and at most 84 "
          "days (EU) or 28 days (US REMS) for every other patient (R9.1, R9.3)."),
    ),
    "no_recent_negative_test": (
        _("No recent negative pregnancy test"),
        _("A woman who could become pregnant needs a negative test dated on the issue date or the 3 days "
          "before it (EU; 7 days under the US REMS) (R9.1, R9.3)."),
    ),
    "start_not_covered": (
        _("Start not covered"),
        _("The course's first prescription needs what the first dose needs: both pre-start pregnancy tests "
          "and contraception from 28 days before the start for a woman who could become pregnant, and no "
          "breast-feeding (R9.3, R3.5)."),
    ),
    "positive_test_unresolved": (
        _("Positive pregnancy test"),
        _("After a positive pregnancy test no thalidomide is prescribed until a later test is negative; no "
          "override can pass this (R9.3)."),
    ),
    "dose_mismatch": (
        _("Dose differs from the dose record"),
        _("The daily dose must be the thalidomide dose in force on the issue date (or, if none is taken, "
          "the first dose recorded in the 7 days after it) (R9.3)."),
    ),
    "early_repeat": (
        _("Issued too early"),
        _("A new prescription is issued at most 7 days before the course's earlier supply runs out (R9.3)."),
    ),
    "contraception_not_confirmed": (
        _("Contraception not confirmed"),
        _("Contraception is confirmed at every prescription for a woman who could become pregnant and for "
          "a man (R5.3, R9.3)."),
    ),
    "dispensed_too_late": (
        _("Dispensed too late"),
        _("The prescription was dispensed after its dispense-by date: 7 days after issue for a woman who "
          "could become pregnant, 30 days for others under the US REMS (R9.1, R9.3)."),
    ),
    "authorisation_missing": (
        _("Authorisation number missing"),
        _("Under the US REMS every prescription carries an authorisation number (R9.1, R9.3)."),
    ),
    "dose_not_dispensable": (
        _("Dose cannot be dispensed"),
        _("The daily dose must be made of whole tablets or capsules (or halves, where the product allows "
          "them); no override can pass this (R9.1, R9.3)."),
    ),
}

# R9.2 risk categories (therapy.rules.prescriptions.RISK_CATEGORIES): (label, sentence).
RISK_CATEGORIES = {
    "female_reproductive_potential": (
        _("Female of reproductive potential"),
        _("A woman who could become pregnant: pregnancy tests, contraception and the shorter supply apply "
          "(R5.1, R9.2)."),
    ),
    "female_not_reproductive_potential": (
        _("Female not of reproductive potential"),
        _("A woman who cannot become pregnant, with the reason recorded (R5.1, R9.2)."),
    ),
    "male": (
        _("Male"),
        _("A man: contraception (condoms) is confirmed at every prescription (R5.3, R9.2)."),
    ),
}

# R9.1 programmes (therapy.rules.prescriptions.PROGRAMMES): the name a page or form prints.
PROGRAMMES = {
    "eu_ppp": _("EU pregnancy-prevention programme"),
    "us_rems": _("US REMS"),
}

# Every finding the checks can show (deviations, warnings and prescription codes share one code space).
FINDINGS = {**DEVIATIONS, **WARNINGS, **PRESCRIPTION_DEVIATIONS}

# R3.1 change kinds (therapy.rules.doses.ChangeKind.ALL).
CHANGE_KINDS = {
    "first_dose": (_("First dose"), _("The first thalidomide dose of a course (day 0).")),
    "restart": (_("Restart"), _("A dose more than 28 days after a stop: checked as a new start (R3.1).")),
    "increase": (_("Increase"), _("A higher dose than the one in force.")),
    "decrease": (_("Decrease"), _("A lower dose than the one in force; always allowed.")),
    "stop": (_("Stop"), _("0 mg: thalidomide stops; always allowed.")),
    "continuation": (_("Continuation"), _("The same dose again: not a change, the 14-day clock does not restart.")),
}


# Start-of-therapy checklist items (therapy.records.checklist keys; stored in a course's
# ``checklist_override_missing`` when the checklist is overridden).
CHECKLIST_ITEMS = {
    "consent": (_("Teratogenicity consent"), _("The teratogenicity consent is signed on or before the start (R5).")),
    "pregnancy_tests": (
        _("Two pre-start pregnancy tests"),
        _("Two negative tests: one on day −14 to −10 and one on day −1 or 0 (R5.2)."),
    ),
    "contraception": (
        _("Contraception counselling"),
        _("Counselling recorded and two methods of contraception from 4 weeks before the start (R5.3)."),
    ),
    "genotype": (
        _("TPMT and NUDT15 results"),
        _("TPMT and NUDT15 status recorded before azathioprine (R4.2)."),
    ),
}
