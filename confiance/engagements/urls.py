from django.urls import path

from confiance.engagements import views

urlpatterns = [
    path("engagements/", views.engagement_list, name="engagement-list"),
    path("engagements/new/", views.engagement_create, name="engagement-create"),
    path("engagements/<int:pk>/", views.engagement_detail, name="engagement-detail"),
    path("engagements/<int:pk>/edit/", views.engagement_edit, name="engagement-edit"),
    path("engagements/<int:pk>/objectives/", views.objective_add, name="objective-add"),
    path("engagements/<int:pk>/interlocutors/", views.interlocutor_add, name="interlocutor-add"),
    path("engagements/<int:pk>/status/", views.status_change, name="engagement-status"),
    path("engagements/<int:pk>/stop/", views.stop_request, name="stop-request"),
    path("engagements/<int:pk>/stop/<int:sid>/answer/", views.stop_answer, name="stop-answer"),
]
