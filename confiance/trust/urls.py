from django.urls import path

from confiance.trust import views

urlpatterns = [
    path("engagements/<id:pk>/trust/", views.trust, name="trust"),
    path(
        "engagements/<id:pk>/trust/alerts/<id:alert_id>/",
        views.trust_alert_act,
        name="trust-alert-act",
    ),
    path(
        "engagements/<id:pk>/trust/alerts/<id:alert_id>/meeting/",
        views.trust_alert_meeting,
        name="trust-alert-meeting",
    ),
    path("trust/", views.portfolio, name="trust-portfolio"),
    path("trust/settings/", views.trust_settings, name="trust-settings"),
]
