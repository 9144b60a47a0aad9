from django.urls import path

from visits import views

app_name = "visits"

urlpatterns = [
    path("patients/<str:code>/visits/new/", views.visit_create, name="create"),
    path("patients/<str:code>/visits/cdai-preview/", views.cdai_preview, name="cdai_preview"),
    path("patients/<str:code>/labs/new/", views.lab_create, name="lab_create"),
    path("patients/<str:code>/endoscopies/new/", views.endoscopy_create, name="endoscopy_create"),
    path("visits/<int:pk>/", views.visit_detail, name="detail"),
    path("visits/<int:pk>/edit/", views.visit_edit, name="edit"),
    path("visits/<int:pk>/history/", views.visit_history, name="history"),
    path("endoscopies/<int:pk>/edit/", views.endoscopy_edit, name="endoscopy_edit"),
]
