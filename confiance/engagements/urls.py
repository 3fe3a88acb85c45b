from django.urls import path

from confiance.engagements import views

urlpatterns = [
    path("engagements/", views.engagement_list, name="engagement-list"),
    path("engagements/new/", views.engagement_create, name="engagement-create"),
    path("engagements/<id:pk>/", views.engagement_detail, name="engagement-detail"),
    path("engagements/<id:pk>/edit/", views.engagement_edit, name="engagement-edit"),
    path("engagements/<id:pk>/objectives/", views.objective_add, name="objective-add"),
    path("engagements/<id:pk>/interlocutors/", views.interlocutor_add, name="interlocutor-add"),
    path("engagements/<id:pk>/status/", views.status_change, name="engagement-status"),
    path("engagements/<id:pk>/stop/", views.stop_request, name="stop-request"),
    path("engagements/<id:pk>/stop/<id:sid>/answer/", views.stop_answer, name="stop-answer"),
]
