"""The view decorator that resolves the workspace from the URL through the access policy."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from confiance import access
from confiance.core.models import Membership

Check = Callable[[Membership], bool]
R = TypeVar("R", bound=HttpResponseBase)  # a page, or a file (FileResponse)


def workspace_view(
    check: Check | None = None,
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Require a log-in and a membership of the URL's workspace; `check` failing is a 404."""

    def decorator(view: Callable[..., R]) -> Callable[..., R]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, ws: str, *args: Any, **kwargs: Any) -> R:
            membership = access.require_membership(request.user, ws)  # type: ignore[arg-type]
            if check is not None and not check(membership):
                raise Http404
            request.membership = membership  # type: ignore[attr-defined]
            return view(request, membership, *args, **kwargs)

        return wrapper

    return decorator
