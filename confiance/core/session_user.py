"""A workspace page's person and membership from the session in one query (and an API call's,
with the engagement it names).

Django reads the session's user (one query, `AuthenticationMiddleware`) and the page then reads
the membership joined to the same user row again. The membership query already carries the
user's row: when the session is one Django would accept as it stands, that row is the request's
user, and Django's own query is not made. Anything else (no session, another authentication
backend, a session hash that does not match the current password, an inactive user, no
membership here) is left to Django exactly as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from confiance import access
from confiance.core.models import Membership, User

if TYPE_CHECKING:
    from confiance.engagements.models import Engagement

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _session_user_id(request: HttpRequest) -> int | None:
    """The user id of a session Django would check with ModelBackend alone, the user not read
    yet; None otherwise."""
    if hasattr(request, "_cached_user"):  # the user was read already
        return None
    session = request.session
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])  # type: ignore[union-attr]
        backend = session[BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return None
    if backend != MODEL_BACKEND or backend not in settings.AUTHENTICATION_BACKENDS:
        return None
    return int(user_id)


def _accepted(request: HttpRequest, membership: Membership) -> bool:
    """Whether Django would accept the session as the membership's user; if so, that user is
    set as `request.user`."""
    user = membership.user
    session_hash = request.session.get(HASH_SESSION_KEY)
    # ModelBackend refuses an inactive user; a password change (or a SECRET_KEY rotation:
    # Django re-signs such a session itself) changes the hash.
    if (
        not user.is_active
        or not session_hash
        or not constant_time_compare(session_hash, user.get_session_auth_hash())
    ):
        return False
    request._cached_user = user  # type: ignore[attr-defined]  # what AuthenticationMiddleware reads
    return True


def membership_from_session(request: HttpRequest, workspace_slug: str) -> Membership | None:
    """The session user's membership of this workspace, the user set as `request.user`; or None
    when Django's own check (`django.contrib.auth.get_user`) would do more than accept."""
    user_id = _session_user_id(request)
    if user_id is None:
        return None
    membership = access.membership_row(user_id, workspace_slug)
    if membership is None or not _accepted(request, membership):
        return None
    return membership


def engagement_from_session(
    request: HttpRequest, engagement_id: int
) -> tuple[Membership, Engagement] | None:
    """The session user's membership of the engagement's workspace and the engagement (not yet
    checked against the membership: `access.check_engagement`), the user set as `request.user`,
    in one query; or None as `membership_from_session`."""
    user_id = _session_user_id(request)
    if user_id is None:
        return None
    found = access.membership_with_engagement(user_id, engagement_id)
    if found is None or not _accepted(request, found[0]):
        return None
    return found
