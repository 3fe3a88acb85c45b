"""Pages of the CSV import, under w/<ws>/engagements/<pk>/import/."""

from django.urls import path

from confiance.consumption.imports import views

urlpatterns = [
    path("", views.import_upload, name="import-upload"),
    path("<id:job_id>/", views.import_detail, name="import-detail"),
    path("<id:job_id>/confirm/", views.import_confirm, name="import-confirm"),
    path("<id:job_id>/progress/", views.import_progress, name="import-progress"),
]
