from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create_view, name="create"),
    # Before the patient's pages: the list of transfers of the user's sites (issue 18).
    path("transfers/", views.transfer_list, name="transfers"),
    path("<str:code>/", views.patient_detail, name="detail"),
    path("<str:code>/edit/", views.patient_edit_view, name="edit"),
    path("<str:code>/history/", views.patient_history, name="history"),
    path("<str:code>/course/", views.course_edit, name="course"),
    path("<str:code>/transfer/", views.patient_transfer_view, name="transfer"),
]
