from django.urls import path

from confiance.alignment import views

urlpatterns = [
    path("engagements/<id:pk>/common/", views.common_ground, name="common-ground"),
    path("engagements/<id:pk>/common/glossary/", views.glossary_propose, name="glossary-propose"),
    path(
        "engagements/<id:pk>/common/glossary/<id:entry_id>/change/",
        views.glossary_change,
        name="glossary-change",
    ),
    path(
        "engagements/<id:pk>/common/glossary/<id:entry_id>/agree/",
        views.glossary_agree,
        name="glossary-agree",
    ),
    path("engagements/<id:pk>/common/vision/", views.vision_propose, name="vision-propose"),
    path(
        "engagements/<id:pk>/common/vision/<id:vision_id>/agree/",
        views.vision_agree,
        name="vision-agree",
    ),
]
