"""What every capability's API module shares: the caller, reach checks, paging, people."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja.pagination import CursorPagination

from confiance import access
from confiance.core.models import Membership, User
from confiance.engagements.models import Engagement


class Cursor(CursorPagination):
    """Keyset paging, newest first: constant work per page whatever the list's length."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ordering=("-id",), page_size=50, max_page_size=200, **kwargs)


def caller(request: HttpRequest) -> Membership:
    """The membership the request's token belongs to."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


def engagement_for(request: HttpRequest, engagement_id: int) -> Engagement:
    """An engagement the caller may see, or 404."""
    return access.get_engagement(caller(request), engagement_id)


def require(allowed: bool) -> None:
    """What the caller's role may not do answers 404, as on the pages."""
    if not allowed:
        raise Http404


def person(membership: Membership, user_id: int | None, field: str) -> User | None:
    """A person of the caller's workspace, or a field error; None stays None."""
    if user_id is None:
        return None
    user = User.objects.filter(
        pk=user_id, memberships__workspace_id=membership.workspace_id
    ).first()
    if user is None:
        raise ValidationError({field: _("No such person in this workspace.")})
    return user
