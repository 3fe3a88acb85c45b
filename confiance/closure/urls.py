from django.urls import path

from confiance.closure import views

urlpatterns = [
    path("engagements/<id:pk>/closure/", views.closure_page, name="closure"),
    path("engagements/<id:pk>/closure/start/", views.closure_start, name="closure-start"),
    path(
        "engagements/<id:pk>/closure/objectives/<id:objective_id>/",
        views.objective_assess,
        name="closure-assess",
    ),
    path(
        "engagements/<id:pk>/closure/retrospective/",
        views.retrospective_write,
        name="closure-retrospective",
    ),
    path("engagements/<id:pk>/closure/approve/", views.closure_approve, name="closure-approve"),
    path("engagements/<id:pk>/closure/report.pdf", views.closure_report, name="closure-report"),
]
