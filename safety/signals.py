"""Every write to a patient's clinical record rescans that patient's
reminders after the transaction commits; lab results and visits refresh
their alerts (R4.4) in the same transaction, whoever wrote them (form,
import, admin)."""

from django.db.models.signals import post_delete, post_save


def _rescan(sender, instance, **kwargs):
    from safety.services import request_rescan

    patient_id = getattr(instance, "patient_id", None) or getattr(getattr(instance, "event", None), "patient_id", None)
    if patient_id:
        request_rescan(patient_id)


def _lab_saved(sender, instance, **kwargs):
    from safety.services import lab_alert_refresh

    lab_alert_refresh(instance)


def _lab_deleted(sender, instance, **kwargs):
    from safety.services import lab_alert_remove

    lab_alert_remove(instance.pk, instance.patient)


def _visit_saved(sender, instance, **kwargs):
    from safety.services import visit_alert_refresh

    visit_alert_refresh(instance)


def connect():
    from safety.models import AdverseEvent, AdverseEventNote, PregnancyTest
    from visits.models import DoseChange, LabResult, Visit

    for model in (Visit, LabResult, DoseChange, PregnancyTest, AdverseEvent, AdverseEventNote):
        post_save.connect(_rescan, sender=model, dispatch_uid=f"rescan-save-{model.__name__}")
        post_delete.connect(_rescan, sender=model, dispatch_uid=f"rescan-delete-{model.__name__}")
    post_save.connect(_lab_saved, sender=LabResult, dispatch_uid="lab-alert")
    post_delete.connect(_lab_deleted, sender=LabResult, dispatch_uid="lab-alert-delete")
    post_save.connect(_visit_saved, sender=Visit, dispatch_uid="visit-alert")
