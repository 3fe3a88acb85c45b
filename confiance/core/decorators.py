"""The view decorator that resolves the workspace from the URL through the access policy."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from confiance import access
from confiance.core.models import Membership

Check = Callable[[Membership], bool]


def workspace_view(
    check: Check | None = None,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Require a log-in and a membership of the URL's workspace; `check` failing is a 404."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, ws: str, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = access.require_membership(request.user, ws)  # type: ignore[arg-type]
            if check is not None and not check(membership):
                raise Http404
            request.membership = membership  # type: ignore[attr-defined]
            return view(request, membership, *args, **kwargs)

        return wrapper

    return decorator
