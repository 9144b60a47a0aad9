"""The thalidomide course of each patient (R3.1): derived from the thalidomide rows of
doses.csv when there are any (patients.csv's thalidomide_start/stop must then agree),
otherwise from patients.csv, otherwise the stored course is kept."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from thalimon.said import say
from therapy import records as therapy_records
from therapy.models import Drug, TherapyCourse

from .cells import format_cell
from .records import apply_values

_SKIP = object()  # the course cannot be judged: the error is filed already


class CoursePlanner:
    def __init__(self, plan):
        self.plan = plan
        self.findings = plan.findings
        self.validator = plan.validator

    def derive(self):
        for bundle in self.plan.bundles.values():
            if bundle.invalid:
                continue  # judged once the patient's own row is right
            self.derive_one(bundle)

    def derive_one(self, bundle):
        row = bundle.course_row
        given = row.course if row is not None else {}
        doses = sorted(
            (obj for (drug, _), obj in bundle.rows["doses.csv"].items()
             if drug == Drug.THALIDOMIDE and obj.dose_mg is not None),
            key=lambda d: d.date,
        )
        dates = self.dates(bundle, given, doses)
        if dates is _SKIP:
            return
        start, stop = dates
        course = bundle.course
        if start is None:
            if course is None:
                self.check_without_course(bundle.line, given)
            return  # no course, or the stored course is kept
        if course is None:
            course = TherapyCourse(patient=bundle.patient)
            bundle.course = course
            bundle.course_state = "new"
        values = {"start_date": start, "stop_date": stop}
        for attr in ("target_dose_mg", "regimen", "regimen_reason"):
            if attr in given:
                values[attr] = given[attr]
        zero = next((d for d in doses if d.date == stop), None) if stop else None
        values["stop_reason"] = therapy_records.stop_reason(
            current_reason=course.stop_reason, current_stop=course.stop_date, new_stop=stop,
            zero_row_reason=zero.reason if zero else "",
        )
        changed = apply_values(course, values)
        if bundle.course_state != "new":
            bundle.course_state = "changed" if changed else "unchanged"
        bundle.course_changed = changed
        if bundle.course_state != "unchanged":
            self.validate(bundle, course, row, doses)

    def dates(self, bundle, given, doses):
        """(start, stop) of the course (start None: no course to write), or ``_SKIP``."""
        # Rows whose dose is refused (an error line already) take no part in the course.
        start, stop = therapy_records.course_dates(
            [d for d in doses if d.dose_mg is not None and d.dose_mg >= 0]
        )
        course = bundle.course
        if start is not None:
            self.check_given_dates(bundle.line, given, start, stop)
            return start, stop
        if given.get("start_date"):
            return given["start_date"], given.get("stop_date", course.stop_date if course else None)
        if given.get("stop_date"):
            self.findings.error("patients.csv", bundle.line, "thalidomide_stop",
                                say("a stop needs a thalidomide_start (or thalidomide rows in doses.csv)"))
            return _SKIP
        if course is not None:
            # An empty start means unknown: the stored course is kept.
            return course.start_date, course.stop_date
        return None, None

    def check_given_dates(self, line, given, start, stop):
        """patients.csv's start and stop against those of the thalidomide dose rows."""
        if "start_date" in given and given["start_date"] != start:
            self.findings.error("patients.csv", line, "thalidomide_start",
                                say("must equal the first thalidomide row of doses.csv "
                                    "(%(date)s), got '%(given)s'",
                                    date=start, given=format_cell(given["start_date"])))
        if "stop_date" in given and given["stop_date"] != stop:
            got = format_cell(given["stop_date"])
            if stop:
                message = say("must equal the 0 mg row that follows it (%(date)s), got '%(given)s'",
                              date=stop, given=got)
            else:
                message = say("must be empty (ongoing): no 0 mg thalidomide row of doses.csv "
                              "stops the course, got '%(given)s'", given=got)
            self.findings.error("patients.csv", line, "thalidomide_stop", message)

    def check_without_course(self, line, given):
        for attr, column in (("target_dose_mg", "target_dose_mg"),
                             ("regimen", "regimen"),
                             ("regimen_reason", "regimen_reason")):
            if given.get(attr) not in (None, ""):
                self.findings.error("patients.csv", line, column,
                                    say("needs a thalidomide course: give thalidomide_start "
                                        "(or thalidomide rows in doses.csv)"))

    def validate(self, bundle, course, row, doses):
        if bundle.line:
            self.validator.validate("patients.csv", bundle.line, course, row.raw)
            return
        # No patients.csv row: the errors go to the first thalidomide row of doses.csv.
        states = self.plan.state["doses.csv"]
        first = next((states.get(id(d)) for d in doses if id(d) in states), None)
        try:
            course.full_clean(exclude=["patient"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            line = first.line if first else 0
            for messages in error.message_dict.values():
                self.findings.error("doses.csv", line, "date",
                                    say("thalidomide course: %(message)s", message=messages[0]))
