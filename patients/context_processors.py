"""The patient banner: on every page of one patient (``patients.access.patient_view`` sets
``request.patient``), who the patient is and where the therapy stands, in a fixed number of
queries."""

from django.utils import timezone

from safety.selectors import patient_due_summary
from therapy.selectors import patient_banner as therapy_banner


def patient_banner(request):
    patient = getattr(request, "patient", None)
    user = getattr(request, "user", None)
    if patient is None or user is None or not user.is_authenticated:
        return {}
    today = timezone.localdate()
    banner = {
        "patient": patient,
        "today": today,
        "age": patient.age_on(today),
        "show_identity": user.has_perm("patients.view_patient_identity"),
        # A page that read the same facts already (the visit form) hands them over.
        **(getattr(request, "banner_facts", None) or therapy_banner(patient, as_of=today)),
    }
    if user.has_perm("safety.view_reminder"):
        banner["due"] = patient_due_summary(patient)
    return {"banner": banner}
