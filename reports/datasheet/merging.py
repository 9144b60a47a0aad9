"""Merging converted rows into the stored or new records: patients.csv first (one
bundle per patient), then the rows of the other files into their patient's bundle.

Readings chosen where the contract is open (safest for the patient) are marked
"Reading:".
"""

from __future__ import annotations

from patients.models import Patient, Sex
from thalimon.said import join, say
from visits import labs

from .cells import format_cell
from .format import ACTOR_FIELD, CHILD_FILES, FILES
from .records import Bundle, RowState, apply_values


class PatientPlanner:
    """patients.csv: each row merged into its stored patient, or a new one."""

    def __init__(self, plan):
        self.plan = plan
        self.findings = plan.findings
        self.validator = plan.validator

    def merge(self):
        plan = self.plan
        seen = {}
        for row in plan.converted["patients.csv"]:
            lower = row.code.lower()
            if lower in seen:
                self.findings.error("patients.csv", row.line, "patient",
                                    say("duplicate of line %(line)s (patient codes are compared "
                                        "ignoring case)", line=seen[lower]))
                continue
            seen[lower] = row.line
            if lower in plan.other_site:  # stored at a site the user is not a member of
                self.findings.error("patients.csv", row.line, "patient",
                                    say("a patient '%(code)s' is stored at a site you are not a member of; "
                                        "refused (an import never moves a patient between sites)", code=row.code))
                continue
            if lower in plan.hidden:  # restricted to another care team: unknown to this user
                self.findings.error("patients.csv", row.line, "patient",
                                    say("unknown patient '%(code)s'", code=row.code))
                continue
            stored = plan.stored.get(lower)
            if stored is not None and stored.code != row.code:
                self.findings.error("patients.csv", row.line, "patient",
                                    say("a patient '%(code)s' exists; codes are compared "
                                        "ignoring case, so write the code exactly as stored", code=stored.code))
                continue
            self.merge_row(row, stored)
        # Patients named only in the other files must be stored already.
        for stored in plan.stored.values():
            if stored.code not in plan.bundles:
                plan.bundles[stored.code] = plan.stored_bundles[stored.pk]

    def merge_row(self, row, stored):
        plan = self.plan
        if stored is not None:
            bundle = plan.stored_bundles[stored.pk]
        else:
            patient = Patient()
            patient.pk = -(len(plan.bundles) + 1)  # a placeholder id while validating
            bundle = Bundle(patient=patient, is_new=True)
        bundle.line = row.line
        bundle.course_row = row
        plan.bundles[row.code] = bundle
        patient = bundle.patient
        if not plan.sites.resolve(row, patient, bundle.is_new):
            bundle.invalid = True
            return
        values = dict(row.values)
        self.readings(row, patient, values)
        bundle.patient_changed = apply_values(patient, values)
        if bundle.is_new or bundle.patient_changed:
            before = self.findings.error_count
            self.validator.validate(
                "patients.csv", row.line, patient, row.raw, whole=row.ok,
                fields=set(values) if bundle.is_new else bundle.patient_changed,
            )
            bundle.invalid = not row.ok or self.findings.error_count > before

    def readings(self, row, patient, values):
        sex = values.get("sex", patient.sex)
        if (
            sex == Sex.MALE
            and "irregular_cycles" in values
            and values["irregular_cycles"] is False
        ):
            # A 0 (cycles not irregular) for a male patient says nothing; stored empty.
            values["irregular_cycles"] = None
            self.findings.warn("patients.csv", row.line, "irregular_cycles",
                               say("applies to female patients only; 0 stored as empty"))
        if sex == Sex.FEMALE and values.get("reproductive_potential", None) is False:
            self.female_not_of_potential(row, patient, values)

    def female_not_of_potential(self, row, patient, values):
        """R5.1 for a female's ``reproductive_potential`` = 0: kept when the row (or the
        stored record, for a column left out) records an exemption, else not trusted."""
        column = "non_reproductive_reason"
        if column not in values and (row.raw.get(column) or "").strip():
            return  # a bad exemption cell: its error says so, and nothing is written
        reason = values.get(column, patient.non_reproductive_reason)
        if reason or values.get("premenarchal", patient.premenarchal):
            return
        # Reading (R5.1, safest): a woman is of reproductive potential unless an
        # exemption is RECORDED (hysterectomy, bilateral oophorectomy, ≥ 24 months
        # without menses, or premenarchal), so a 0 alone cannot switch pregnancy
        # prevention off. Stored as empty: R5.1 applies.
        values["reproductive_potential"] = None
        self.findings.warn(
            "patients.csv", row.line, "reproductive_potential",
            say("0 for a female patient needs a recorded exemption: non_reproductive_reason "
                "(hysterectomy, bilateral_oophorectomy, amenorrhoea_24_months) or "
                "premenarchal = 1; none is given, so it is stored as empty and pregnancy "
                "prevention (R5.1) applies"),
        )


class ChildPlanner:
    """The files after patients.csv: each row merged into its patient's record of the
    same natural key, or a new one; the columns handled apart per file."""

    def __init__(self, plan):
        self.plan = plan
        self.findings = plan.findings
        self.validator = plan.validator
        self.special = {
            "visits.csv": self.visit_totals,
            "labs.csv": self.lab_unit,
            "endoscopies.csv": self.endoscopy_totals,
        }

    def merge(self):
        for name in CHILD_FILES:
            self.merge_file(name)

    def bundle_for(self, row):
        bundle = self.plan.bundles.get(row.code)
        if bundle is None:
            close = [c for c in self.plan.bundles if c.lower() == row.code.lower()]
            if close:
                message = say("unknown patient '%(code)s' (did you mean '%(close)s'? codes must match "
                              "exactly): neither in patients.csv nor stored", code=row.code, close=close[0])
            else:
                message = say("unknown patient '%(code)s': neither in patients.csv nor stored", code=row.code)
            self.findings.error(row.file, row.line, "patient", message)
        return bundle

    def merge_file(self, name):
        spec = FILES[name]
        seen = {}
        for row in self.plan.converted[name]:
            bundle = self.bundle_for(row)
            if bundle is None:
                continue
            full_key = (row.code, row.key)
            if full_key in seen:
                self.findings.error(name, row.line, spec.key[-1],
                                    say("duplicate of line %(line)s (same patient, %(key)s)",
                                        line=seen[full_key], key=join(spec.key, ", ")))
                continue
            seen[full_key] = row.line
            self.merge_row(spec, bundle, row)

    def record_for(self, spec, bundle, row):
        """(the stored record of the row's natural key, or a new one; whether new)."""
        rows = bundle.rows[spec.name]
        obj = rows.get(row.key)
        if obj is not None:
            return obj, False
        obj = spec.model(**dict(zip(spec.key, row.key, strict=True)))
        obj.patient = bundle.patient
        if spec.model in ACTOR_FIELD:
            setattr(obj, ACTOR_FIELD[spec.model] + "_id", getattr(self.plan.actor, "pk", None))
        rows[row.key] = obj
        return obj, True

    def merge_row(self, spec, bundle, row):
        name = spec.name
        obj, is_new = self.record_for(spec, bundle, row)
        values = dict(row.values)
        stored_result = None if is_new else getattr(obj, "result", None)
        if name in self.special:
            self.special[name](row, obj, is_new, values)
        changed = apply_values(obj, values)
        if name == "visits.csv" and "cdai_complications" in changed and (
            obj.cdai_complication_flags
        ):
            # The datasheet holds the count only: a changed count replaces the
            # ticked categories recorded on the page (kept in the history).
            obj.cdai_complication_flags = []
            changed.add("cdai_complication_flags")
        if name == "pregnancy_tests.csv" and not is_new and "result" in changed:
            # Reading (R5.2, as pregnancy_test_record): a result is never
            # overwritten — a positive turned negative would lift the block.
            obj.result = stored_result
            self.findings.error(name, row.line, "result",
                                say("a different result is already recorded on that date; a result "
                                    "is never overwritten (a clinician corrects it in the record's "
                                    "history)"))
            return
        status = "new" if is_new else ("changed" if changed else "unchanged")
        self.plan.state[name][id(obj)] = RowState(status, row.line, changed, row)
        self.plan.objects[name].append((bundle, obj))
        if status != "unchanged":
            self.validator.validate(
                name, row.line, obj, row.raw, whole=row.ok and not bundle.invalid,
                fields=set(values) | set(spec.key) if is_new else changed,
            )

    # --- the columns handled apart ----------------------------------------------------
    def visit_totals(self, row, visit, is_new, values):
        # hbi / mayo columns hold the visit's total. The datasheet has no HBI items
        # and only the endoscopic Mayo subscore, so the total is stored as the entered
        # total — unless it is the score already stored (computed from the items
        # recorded on the page), which is then left alone.
        for column, entered, score in (("hbi", "hbi_entered", "hbi"), ("mayo", "mayo_entered", "mayo")):
            if column not in row.special:
                continue
            value = row.special[column]
            if not is_new and value is not None and value == getattr(visit, score):
                continue
            values[entered] = value

    def lab_unit(self, row, lab, is_new, values):
        unit = row.special.get("unit")
        if unit and "test" in row.values:
            message = labs.unit_error(row.values["test"], unit)
            if message:
                self.findings.error(row.file, row.line, "unit", message)

    def endoscopy_totals(self, row, endoscopy, is_new, values):
        segments = bool(endoscopy.cdeis_segments)
        if "cdeis" in row.special:
            value = row.special["cdeis"]
            # The cdeis column holds the total: stored as the entered total unless it is
            # the score already stored (e.g. computed from the segments on the page).
            unchanged = value == endoscopy.cdeis_entered or (
                value is not None and value == endoscopy.cdeis
            )
            if is_new or not unchanged:
                values["cdeis_entered"] = value
        if "ulceration" in row.special:
            value = row.special["ulceration"]
            if segments:
                if value != endoscopy.ulceration:
                    self.findings.warn(
                        row.file, row.line, "ulceration",
                        say("derived from the recorded CDEIS segments (%(stored)s); "
                            "the datasheet's %(given)s is ignored",
                            stored=format_cell(endoscopy.ulceration), given=format_cell(value)),
                    )
            else:
                values["ulceration"] = value
