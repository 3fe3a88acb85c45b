from django.urls import include, path

from confiance.consumption import views

urlpatterns = [
    path("engagements/<id:pk>/consumption/", views.consumption, name="consumption"),
    path(
        "engagements/<id:pk>/consumption/entries.csv",
        views.entries_export,
        {"extension": "csv"},
        name="entries-csv",
    ),
    path(
        "engagements/<id:pk>/consumption/entries.xlsx",
        views.entries_export,
        {"extension": "xlsx"},
        name="entries-xlsx",
    ),
    path("engagements/<id:pk>/consumption/statement/", views.statement, name="statement"),
    path("engagements/<id:pk>/consumption/leaves/", views.leaves, name="consumption-leaves"),
    path("engagements/<id:pk>/consumption/log/", views.entry_log, name="entry-log"),
    path(
        "engagements/<id:pk>/consumption/entries/<id:entry_id>/correct/",
        views.entry_correct,
        name="entry-correct",
    ),
    path("engagements/<id:pk>/consumption/budget/", views.budget_revise, name="budget-revise"),
    path("engagements/<id:pk>/consumption/estimate/", views.estimate_set, name="estimate-set"),
    path(
        "engagements/<id:pk>/consumption/settings/",
        views.settings_page,
        name="consumption-settings",
    ),
    path("engagements/<id:pk>/import/", include("confiance.consumption.imports.urls")),
    path("notices/", views.notices, name="notices"),
    path("portfolio/", views.portfolio, name="portfolio"),
]
