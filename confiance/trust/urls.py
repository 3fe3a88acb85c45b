from django.urls import path

from confiance.trust import views

urlpatterns = [
    path("engagements/<id:pk>/trust/", views.trust, name="trust"),
    path("trust/", views.portfolio, name="trust-portfolio"),
    path("trust/settings/", views.trust_settings, name="trust-settings"),
]
