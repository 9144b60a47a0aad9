from django.urls import path

from therapy import views

app_name = "therapy"

urlpatterns = [
    path("patients/<str:code>/dose/", views.dose_change_view, name="dose_change"),
    path("patients/<str:code>/dose/check/", views.dose_check, name="dose_check"),
    path("patients/<str:code>/start/", views.therapy_start_view, name="therapy_start"),
    path("patients/<str:code>/pregnancy-tests/new/", views.pregnancy_test_create, name="pregnancy_test_create"),
    path("patients/<str:code>/contraception/new/", views.contraception_create, name="contraception_create"),
    path("patients/<str:code>/prescriptions/new/", views.prescription_new, name="prescription_new"),
    path("patients/<str:code>/prescriptions/check/", views.prescription_check, name="prescription_check"),
    path("prescriptions/<int:pk>/", views.prescription_dispense, name="prescription_dispense"),
    path("prescriptions/<int:pk>/edit/", views.prescription_edit, name="prescription_edit"),
    path("prescriptions/<int:pk>/form.pdf", views.prescription_pdf, name="prescription_pdf"),
]
