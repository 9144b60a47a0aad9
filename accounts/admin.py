from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Preference


@admin.register(Preference)
class PreferenceAdmin(SimpleHistoryAdmin):
    list_display = ("user", "language")
    list_select_related = ("user",)
    search_fields = ("user__username",)
