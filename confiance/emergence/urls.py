from django.urls import path

from confiance.emergence import agreement_views, outcome_views, views

urlpatterns = [
    path("opportunities/", views.opportunity_list, name="opportunity-list"),
    path("opportunities/new/", views.opportunity_open, name="opportunity-open"),
    path("opportunities/<id:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("opportunities/<id:pk>/edit/", views.opportunity_edit, name="opportunity-edit"),
    path("opportunities/<id:pk>/invite/", views.invite, name="opportunity-invite"),
    path(
        "opportunities/<id:pk>/participation/<slug:action>/",
        views.participation,
        name="opportunity-participation",
    ),
    path(
        "opportunities/<id:pk>/participants/<id:pid>/remove/",
        views.participant_remove,
        name="participant-remove",
    ),
    path("opportunities/<id:pk>/phase/", views.phase_move, name="opportunity-phase"),
    path("opportunities/<id:pk>/roles/", views.slot_propose, name="slot-propose"),
    path(
        "opportunities/<id:pk>/roles/<id:slot_id>/nominate/",
        views.nominate,
        name="slot-nominate",
    ),
    path(
        "opportunities/<id:pk>/nominations/<id:nid>/<slug:action>/",
        views.nomination_action,
        name="nomination-action",
    ),
    path("opportunities/<id:pk>/discussion/", views.discussion, name="opportunity-discussion"),
    path("opportunities/<id:pk>/posts/<id:post_id>/edit/", views.post_edit, name="post-edit"),
    path(
        "opportunities/<id:pk>/posts/<id:post_id>/history/",
        views.post_history,
        name="post-history",
    ),
    path(
        "opportunities/<id:pk>/attachments/<id:attachment_id>/",
        views.attachment_download,
        name="attachment-download",
    ),
    path("opportunities/<id:pk>/agreement/", agreement_views.agreement, name="agreement"),
    path(
        "opportunities/<id:pk>/agreement/start/",
        agreement_views.agreement_start,
        name="agreement-start",
    ),
    path(
        "opportunities/<id:pk>/agreement/terms/", agreement_views.terms_set, name="agreement-terms"
    ),
    path(
        "opportunities/<id:pk>/agreement/clauses/add/",
        agreement_views.clause_add,
        name="agreement-clause-add",
    ),
    path(
        "opportunities/<id:pk>/agreement/clauses/<slug:key>/edit/",
        agreement_views.clause_edit,
        name="agreement-clause-edit",
    ),
    path(
        "opportunities/<id:pk>/agreement/clauses/<slug:key>/remove/",
        agreement_views.clause_remove,
        name="agreement-clause-remove",
    ),
    path(
        "opportunities/<id:pk>/agreement/clauses/<slug:key>/comments/",
        agreement_views.clause_comment,
        name="agreement-clause-comment",
    ),
    path(
        "opportunities/<id:pk>/agreement/accept/",
        agreement_views.agreement_accept,
        name="agreement-accept",
    ),
    path(
        "opportunities/<id:pk>/agreement/diff/",
        agreement_views.agreement_diff,
        name="agreement-diff",
    ),
    path(
        "opportunities/<id:pk>/agreement.pdf",
        agreement_views.agreement_download,
        name="agreement-pdf",
    ),
    path(
        "opportunities/<id:pk>/convert/",
        outcome_views.opportunity_convert,
        name="opportunity-convert",
    ),
    path(
        "opportunities/<id:pk>/decline/",
        outcome_views.opportunity_decline,
        name="opportunity-decline",
    ),
    path("partners/", outcome_views.partners, name="partners"),
    path("partners/received/", outcome_views.referral_received, name="referral-received"),
    path(
        "engagements/<id:pk>/emergence/",
        outcome_views.engagement_emergence,
        name="engagement-emergence",
    ),
    path("experts/", views.expert_network, name="expert-network"),
    path("people/<id:user_id>/expert/", views.expert_profile, name="expert-profile"),
    path("me/profile/", views.my_profile, name="my-profile"),
]
