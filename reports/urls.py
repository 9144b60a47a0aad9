from django.urls import path

from reports import network_views, views

app_name = "reports"

urlpatterns = [
    path("reports/cohort/", views.report_page, name="cohort"),
    path("reports/cohort/download/<str:fmt>/", views.report_download, name="download"),
    path("reports/cohort/patients/<str:key>/", views.figure_patients, name="figure_patients"),
    path("reports/network/", network_views.network_page, name="network"),
    path("reports/network/download/<str:fmt>/", network_views.network_download, name="network_download"),
    path("reports/datasheets/", views.upload, name="upload"),
    path("reports/datasheets/<int:pk>/", views.job, name="job"),
    path("reports/datasheets/history/", views.history, name="history"),
    path("reports/datasheets/template.zip", views.template_download, name="template"),
    path("visits/<int:pk>/summary.pdf", views.visit_pdf, name="visit_pdf"),
]
