from django.urls import path

from confiance.emergence import views

urlpatterns = [
    path("opportunities/", views.opportunity_list, name="opportunity-list"),
    path("opportunities/new/", views.opportunity_open, name="opportunity-open"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity-edit"),
    path("opportunities/<int:pk>/invite/", views.invite, name="opportunity-invite"),
    path(
        "opportunities/<int:pk>/participation/<slug:action>/",
        views.participation,
        name="opportunity-participation",
    ),
    path(
        "opportunities/<int:pk>/participants/<int:pid>/remove/",
        views.participant_remove,
        name="participant-remove",
    ),
    path("opportunities/<int:pk>/phase/", views.phase_move, name="opportunity-phase"),
    path("opportunities/<int:pk>/roles/", views.slot_propose, name="slot-propose"),
    path(
        "opportunities/<int:pk>/roles/<int:slot_id>/nominate/",
        views.nominate,
        name="slot-nominate",
    ),
    path(
        "opportunities/<int:pk>/nominations/<int:nid>/<slug:action>/",
        views.nomination_action,
        name="nomination-action",
    ),
    path("opportunities/<int:pk>/discussion/", views.discussion, name="opportunity-discussion"),
    path("opportunities/<int:pk>/posts/<int:post_id>/edit/", views.post_edit, name="post-edit"),
    path(
        "opportunities/<int:pk>/posts/<int:post_id>/history/",
        views.post_history,
        name="post-history",
    ),
    path(
        "opportunities/<int:pk>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment-download",
    ),
    path("experts/", views.expert_network, name="expert-network"),
    path("people/<int:user_id>/expert/", views.expert_profile, name="expert-profile"),
    path("me/profile/", views.my_profile, name="my-profile"),
]
