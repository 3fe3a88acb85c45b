from django.urls import path

from confiance.webhooks import views

urlpatterns = [
    path("webhooks/", views.endpoints, name="webhooks"),
    path("webhooks/<id:pk>/", views.endpoint_detail, name="webhook-detail"),
    path("webhooks/<id:pk>/ping/", views.endpoint_ping, name="webhook-ping"),
    path("webhooks/<id:pk>/remove/", views.endpoint_remove, name="webhook-remove"),
    path("webhooks/deliveries/<id:pk>/replay/", views.delivery_replay, name="webhook-replay"),
]
