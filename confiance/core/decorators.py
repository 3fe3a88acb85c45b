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
from confiance.core.session_user import membership_from_session

Check = Callable[[Membership], bool]
R = TypeVar("R", bound=HttpResponseBase)  # a page, or a file (FileResponse)


def workspace_view(
    check: Check | None = None,
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Require a log-in and a membership of the URL's workspace; `check` failing is a 404."""

    def decorator(view: Callable[..., R]) -> Callable[..., R]:
        @login_required
        def checked(request: HttpRequest, ws: str, *args: Any, **kwargs: Any) -> R:
            membership = getattr(request, "_session_membership", None)
            if membership is None:
                membership = access.require_membership(request.user, ws)  # type: ignore[arg-type]
            if check is not None and not check(membership):
                raise Http404
            request.membership = membership  # type: ignore[attr-defined]
            return view(request, membership, *args, **kwargs)

        @wraps(view)
        def wrapper(request: HttpRequest, ws: str, *args: Any, **kwargs: Any) -> R:
            # The user and the membership in one query when the session allows it.
            request._session_membership = membership_from_session(request, ws)  # type: ignore[attr-defined]
            return checked(request, ws, *args, **kwargs)

        return wrapper

    return decorator
