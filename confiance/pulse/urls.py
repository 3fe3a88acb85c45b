from django.urls import path

from confiance.pulse import views

urlpatterns = [
    path("engagements/<id:pk>/pulse/", views.pulse, name="pulse"),
    path("pulse/", views.pulse_mine, name="pulse-mine"),
    path("pulse/settings/", views.pulse_settings, name="pulse-settings"),
]
