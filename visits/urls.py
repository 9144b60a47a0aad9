from django.urls import path

from visits import dosing_views, views

app_name = "visits"

urlpatterns = [
    path("patients/<str:code>/visits/new/", views.visit_create, name="create"),
    path("patients/<str:code>/visits/cdai-preview/", views.cdai_preview, name="cdai_preview"),
    path("patients/<str:code>/labs/new/", views.lab_create, name="lab_create"),
    path("patients/<str:code>/endoscopies/new/", views.endoscopy_create, name="endoscopy_create"),
    path("patients/<str:code>/dose/", dosing_views.dose_change_view, name="dose_change"),
    path("patients/<str:code>/dose/check/", dosing_views.dose_check, name="dose_check"),
    path("patients/<str:code>/start/", dosing_views.therapy_start_view, name="therapy_start"),
    path("patients/<str:code>/pregnancy-tests/new/", dosing_views.pregnancy_test_create, name="pregnancy_test_create"),
    path("patients/<str:code>/contraception/new/", dosing_views.contraception_create, name="contraception_create"),
    path("visits/<int:pk>/", views.visit_detail, name="detail"),
    path("visits/<int:pk>/edit/", views.visit_edit, name="edit"),
    path("visits/<int:pk>/history/", views.visit_history, name="history"),
    path("endoscopies/<int:pk>/edit/", views.endoscopy_edit, name="endoscopy_edit"),
]
