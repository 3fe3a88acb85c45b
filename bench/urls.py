"""The project's URLs plus the bare baseline view, for benchmarks only."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from confiance.urls import urlpatterns as project_patterns


def bare(request: HttpRequest) -> HttpResponse:
    """The cheapest Django answer: the baseline every page is compared with."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *project_patterns]
