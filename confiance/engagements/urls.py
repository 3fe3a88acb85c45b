from django.urls import path

from confiance.engagements import views

urlpatterns = [
    path("engagements/", views.engagement_list, name="engagement-list"),
    path("engagements/new/", views.engagement_create, name="engagement-create"),
    path("engagements/<int:pk>/", views.engagement_detail, name="engagement-detail"),
]
