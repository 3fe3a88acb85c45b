"""URLs: public pages, workspace pages under /w/<slug>/, and the API under /api/v1/."""

from django.urls import include, path

from confiance.api.api import api
from confiance.core.urls import urlpatterns as core_patterns
from confiance.core.urls import workspace_patterns
from confiance.followup.urls import feed_patterns as followup_feed_patterns

urlpatterns = [
    *core_patterns,
    path("w/<slug:ws>/", include(workspace_patterns)),
    path("w/<slug:ws>/", include("confiance.engagements.urls")),
    path("w/<slug:ws>/", include("confiance.consumption.urls")),
    path("w/<slug:ws>/", include("confiance.ledger.urls")),
    path("w/<slug:ws>/", include("confiance.closure.urls")),
    path("w/<slug:ws>/", include("confiance.pulse.urls")),
    path("w/<slug:ws>/", include("confiance.problems.urls")),
    path("w/<slug:ws>/", include("confiance.lessons.urls")),
    path("w/<slug:ws>/", include("confiance.followup.urls")),
    path("w/<slug:ws>/", include("confiance.trust.urls")),
    path("w/<slug:ws>/", include("confiance.emergence.urls")),
    path("w/<slug:ws>/", include("confiance.webhooks.urls")),
    path("w/<slug:ws>/", include("confiance.alignment.urls")),
    *followup_feed_patterns,
    path("api/v1/", api.urls),
]
