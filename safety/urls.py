from django.urls import path

from safety import views

app_name = "safety"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("reminders/<int:pk>/", views.reminder_detail, name="reminder_detail"),
    path("reminders/<int:pk>/acknowledge/", views.reminder_acknowledge, name="reminder_acknowledge"),
    path("reminders/<int:pk>/complete/", views.reminder_complete, name="reminder_complete"),
    path("reminders/<int:pk>/snooze/", views.reminder_snooze, name="reminder_snooze"),
    path("reminders/<int:pk>/dismiss/", views.reminder_dismiss, name="reminder_dismiss"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("patients/<str:code>/adverse-events/new/", views.ae_create, name="ae_create"),
    path("adverse-events/<int:pk>/", views.ae_detail, name="ae_detail"),
    path("adverse-events/<int:pk>/edit/", views.ae_edit, name="ae_edit"),
]
