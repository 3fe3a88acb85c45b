from django.urls import path

from confiance.ledger import views

urlpatterns = [
    path("ledger/key/", views.signing_key, name="ledger-key"),
    path("ledger/key/rotate/", views.signing_key_rotate, name="ledger-key-rotate"),
    path("engagements/<int:pk>/ledger/bundle/", views.bundle_download, name="ledger-bundle"),
    path(
        "engagements/<int:pk>/ledger/bundle/progress/",
        views.bundle_progress,
        name="ledger-bundle-progress",
    ),
    path("engagements/<int:pk>/ledger/witnesses/", views.witness_add, name="ledger-witness-add"),
    path(
        "engagements/<int:pk>/ledger/witnesses/<int:witness_id>/remove/",
        views.witness_remove,
        name="ledger-witness-remove",
    ),
]
