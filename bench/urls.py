"""The project's URLs plus the baseline views, for benchmarks only."""

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from confiance.core.decorators import workspace_view
from confiance.core.models import Membership
from confiance.urls import urlpatterns as project_patterns

_EMPTY_PAGE = engines["django"].from_string('{% extends "base.html" %}')


def bare(request: HttpRequest) -> HttpResponse:
    """The cheapest Django answer: the baseline every page is compared with."""
    return HttpResponse(b"ok", content_type="text/plain")


@workspace_view()
def bare_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    """An empty workspace page: what every page pays (session, user, membership, navigation,
    the base template) before its own work."""
    return HttpResponse(_EMPTY_PAGE.render({}, request))


urlpatterns = [
    path("bench/bare/", bare),
    path("w/<slug:ws>/bench/page/", bare_page),
    *project_patterns,
]
