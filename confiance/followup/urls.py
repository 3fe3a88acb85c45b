from django.urls import path

from confiance.followup import views

urlpatterns = [
    path("engagements/<id:pk>/followup/", views.followup, name="followup"),
    path(
        "engagements/<id:pk>/followup/commitments/",
        views.commitment_create,
        name="commitment-create",
    ),
    path(
        "engagements/<id:pk>/followup/commitments/<id:cid>/",
        views.commitment_detail,
        name="commitment-detail",
    ),
    path(
        "engagements/<id:pk>/followup/commitments/<id:cid>/status/",
        views.commitment_status,
        name="commitment-status",
    ),
    path(
        "engagements/<id:pk>/followup/commitments/<id:cid>/renegotiate/",
        views.renegotiation_propose,
        name="renegotiation-propose",
    ),
    path(
        "engagements/<id:pk>/followup/commitments/<id:cid>/renegotiations/<id:rid>/",
        views.renegotiation_decide,
        name="renegotiation-decide",
    ),
    path("engagements/<id:pk>/followup/meetings/", views.meeting_create, name="meeting-create"),
    path(
        "engagements/<id:pk>/followup/meetings/<id:mid>/",
        views.meeting_detail,
        name="meeting-detail",
    ),
    path(
        "engagements/<id:pk>/followup/meetings/<id:mid>/edit/",
        views.meeting_edit,
        name="meeting-edit",
    ),
    path(
        "engagements/<id:pk>/followup/meetings/<id:mid>/cancel/",
        views.meeting_cancel,
        name="meeting-cancel",
    ),
    path("engagements/<id:pk>/followup/payments/", views.payment_create, name="payment-create"),
    path(
        "engagements/<id:pk>/followup/payments/<id:pid>/paid/",
        views.payment_paid,
        name="payment-paid",
    ),
    path(
        "engagements/<id:pk>/followup/reviews/<id:rid>/confirm/",
        views.review_confirm,
        name="review-confirm",
    ),
    path(
        "engagements/<id:pk>/followup/reviews/<id:rid>/contest/",
        views.review_contest,
        name="review-contest",
    ),
    path(
        "engagements/<id:pk>/followup/reviews/<id:rid>/resolve/",
        views.review_resolve,
        name="review-resolve",
    ),
    path("calendar/", views.my_calendar, name="my-calendar"),
]

# Outside /w/<ws>/: a calendar application fetches it with the secret token and no session.
feed_patterns = [
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
