from django.urls import path

from confiance.followup import views

urlpatterns = [
    path("engagements/<int:pk>/followup/", views.followup, name="followup"),
    path(
        "engagements/<int:pk>/followup/commitments/",
        views.commitment_create,
        name="commitment-create",
    ),
    path(
        "engagements/<int:pk>/followup/commitments/<int:cid>/",
        views.commitment_detail,
        name="commitment-detail",
    ),
    path(
        "engagements/<int:pk>/followup/commitments/<int:cid>/status/",
        views.commitment_status,
        name="commitment-status",
    ),
    path(
        "engagements/<int:pk>/followup/commitments/<int:cid>/renegotiate/",
        views.renegotiation_propose,
        name="renegotiation-propose",
    ),
    path(
        "engagements/<int:pk>/followup/commitments/<int:cid>/renegotiations/<int:rid>/",
        views.renegotiation_decide,
        name="renegotiation-decide",
    ),
    path("engagements/<int:pk>/followup/meetings/", views.meeting_create, name="meeting-create"),
    path(
        "engagements/<int:pk>/followup/meetings/<int:mid>/",
        views.meeting_detail,
        name="meeting-detail",
    ),
    path(
        "engagements/<int:pk>/followup/meetings/<int:mid>/edit/",
        views.meeting_edit,
        name="meeting-edit",
    ),
    path(
        "engagements/<int:pk>/followup/meetings/<int:mid>/cancel/",
        views.meeting_cancel,
        name="meeting-cancel",
    ),
    path("engagements/<int:pk>/followup/payments/", views.payment_create, name="payment-create"),
    path(
        "engagements/<int:pk>/followup/payments/<int:pid>/paid/",
        views.payment_paid,
        name="payment-paid",
    ),
    path(
        "engagements/<int:pk>/followup/reviews/<int:rid>/confirm/",
        views.review_confirm,
        name="review-confirm",
    ),
    path(
        "engagements/<int:pk>/followup/reviews/<int:rid>/contest/",
        views.review_contest,
        name="review-contest",
    ),
    path(
        "engagements/<int:pk>/followup/reviews/<int:rid>/resolve/",
        views.review_resolve,
        name="review-resolve",
    ),
    path("calendar/", views.my_calendar, name="my-calendar"),
]

# Outside /w/<ws>/: a calendar application fetches it with the secret token and no session.
feed_patterns = [
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
