from django.urls import path

from confiance.closure import views

urlpatterns = [
    path("engagements/<int:pk>/closure/", views.closure_page, name="closure"),
    path("engagements/<int:pk>/closure/start/", views.closure_start, name="closure-start"),
    path(
        "engagements/<int:pk>/closure/objectives/<int:objective_id>/",
        views.objective_assess,
        name="closure-assess",
    ),
    path(
        "engagements/<int:pk>/closure/retrospective/",
        views.retrospective_write,
        name="closure-retrospective",
    ),
    path("engagements/<int:pk>/closure/approve/", views.closure_approve, name="closure-approve"),
    path("engagements/<int:pk>/closure/report.pdf", views.closure_report, name="closure-report"),
]
