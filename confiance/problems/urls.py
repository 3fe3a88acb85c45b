from django.urls import path

from confiance.problems import views

urlpatterns = [
    path("engagements/<id:pk>/problems/", views.problem_list, name="problem-list"),
    path("engagements/<id:pk>/problems/new/", views.problem_raise, name="problem-raise"),
    path(
        "engagements/<id:pk>/problems/<id:problem_id>/",
        views.problem_detail,
        name="problem-detail",
    ),
    path(
        "engagements/<id:pk>/problems/escalation-contact/",
        views.client_escalation,
        name="problem-client-escalation",
    ),
    path(
        "engagements/<id:pk>/problems/<id:problem_id>/files/<id:attachment_id>/",
        views.attachment_download,
        name="problem-attachment",
    ),
    path(
        "engagements/<id:pk>/problems/<id:problem_id>/<slug:action>/",
        views.problem_action,
        name="problem-action",
    ),
    path("problems/settings/", views.problem_settings, name="problem-settings"),
]
