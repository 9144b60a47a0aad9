from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from patients.models import Patient


@admin.register(Patient)
class PatientAdmin(SimpleHistoryAdmin):
    list_display = ["code", "sex", "birth_date", "diagnosis", "status"]
    list_filter = ["diagnosis", "sex", "status"]
    search_fields = ["code"]
