from django.urls import include, path

from confiance.consumption import views

urlpatterns = [
    path("engagements/<int:pk>/consumption/", views.consumption, name="consumption"),
    path("engagements/<int:pk>/consumption/log/", views.entry_log, name="entry-log"),
    path(
        "engagements/<int:pk>/consumption/entries/<int:entry_id>/correct/",
        views.entry_correct,
        name="entry-correct",
    ),
    path("engagements/<int:pk>/consumption/budget/", views.budget_revise, name="budget-revise"),
    path("engagements/<int:pk>/consumption/estimate/", views.estimate_set, name="estimate-set"),
    path(
        "engagements/<int:pk>/consumption/settings/",
        views.settings_page,
        name="consumption-settings",
    ),
    path("engagements/<int:pk>/import/", include("confiance.consumption.imports.urls")),
    path("notices/", views.notices, name="notices"),
    path("portfolio/", views.portfolio, name="portfolio"),
]
