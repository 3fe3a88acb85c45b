"""What every indicator yields: a `Fact`, its label to translate when shown, and small helpers.

A fact's label is stored as its English message id with its parameters, and translated for each
reader (`render_label`): a French page shows French labels, with dates in the reader's format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from confiance.engagements.models import Engagement

CONFIRM_DAYS = 7
"""A fact one side records about itself alone counts half until the other side confirms it or
lets it stand this many days (docs/trust.md, "Padding")."""

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FLOAT_PLACEHOLDER = re.compile(r"%\((\w+)\)\.(\d)f")


@dataclass(frozen=True, slots=True)
class Fact:
    """One observed fact as evidence: amounts in units of its indicator's weight.

    ``label`` is an English message id (marked with gettext_noop) formatted with ``params`` when
    shown; a parameter holding an ISO date (YYYY-MM-DD) is shown in the reader's date format.
    """

    indicator: str
    at: datetime
    positive: float
    negative: float
    label: str
    link: str
    source_type: str
    source_id: str
    params: dict[str, Any] = field(default_factory=dict)


Collect = Callable[["Engagement", "datetime | None"], Iterator[Fact]]
Rows = Callable[["Engagement", "datetime | None"], "QuerySet[Any]"]
"""The source rows an indicator's collector reads since a moment (the same query): when there are
none, the indicator has nothing new, and the refresh skips it (services._collect)."""


Appended = Callable[["Engagement", range], Iterator[Fact]]
"""The facts of the source rows appended to the engagement's ledger at these indexes: for a source
whose rows carry their ledger index, an update reads only what was appended since the last one
(the ledger's lock orders the appends, so a size read once covers every row below it)."""


def render_label(label: str, params: dict[str, Any] | None) -> str:
    """The label in the active language, its dates in the active language's format."""
    text = gettext(label)
    if not params:
        return text
    # "%(mean).1f": a number in the reader's format (3,5 in French), with the same decimals.
    decimals = {name: int(n) for name, n in _FLOAT_PLACEHOLDER.findall(text)}
    text = _FLOAT_PLACEHOLDER.sub(lambda m: f"%({m.group(1)})s", text)
    params = {
        key: formats.number_format(value, decimals[key], use_l10n=True)
        if key in decimals and isinstance(value, int | float)
        else value
        for key, value in params.items()
    }
    shown = {
        key: formats.date_format(date.fromisoformat(value), "DATE_FORMAT")
        if isinstance(value, str) and _ISO_DAY.match(value)
        else value
        for key, value in params.items()
    }
    try:
        return text % shown
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
        return label % params


def model(app_label: str, name: str) -> Any:
    """The model, or None when its app is not installed here."""
    if not apps.is_installed(f"confiance.{app_label}"):
        return None
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def noon(day: Any) -> datetime:
    """A date as a moment (noon UTC), for facts that only know their day."""
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


def url(name: str, engagement: Engagement, **extra: Any) -> str:
    """The engagement's page `name`: reversed once per distinct link (a refresh builds the same
    links for every fact it reads, day after day)."""
    kwargs = {"ws": engagement.workspace.slug, "pk": engagement.pk, **extra}
    return _reversed(
        name, tuple(sorted(kwargs.items())), get_script_prefix(), get_urlconf(settings.ROOT_URLCONF)
    )


@lru_cache(maxsize=4096)
def _reversed(name: str, kwargs: tuple[tuple[str, Any], ...], prefix: str, urlconf: Any) -> str:
    # `prefix` and `urlconf` are part of the key: what else the reversal depends on.
    return reverse(name, urlconf=urlconf, kwargs=dict(kwargs))


def url_or(name: str, fallback: str, engagement: Engagement, **extra: Any) -> str:
    """A link to the named page, or to `fallback` when this installation names it otherwise."""
    try:
        return url(name, engagement, **extra)
    except NoReverseMatch:
        return url(fallback, engagement)


_READ: ContextVar[dict[Any, Any] | None] = ContextVar("trust_read", default=None)


@contextmanager
def one_read() -> Iterator[None]:
    """One reading of the sources (a refresh, a rebuild): what several collectors ask alike (who
    is on the client side, which facts are held) is read once for all of them, not once each."""
    token = _READ.set({})
    try:
        yield
    finally:
        _READ.reset(token)


def read_once(key: Any, read: Callable[[], Any]) -> Any:
    """`read()`, or within one_read() the answer it already gave for `key`."""
    memo = _READ.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


@lru_cache(maxsize=1)
def _client_people_query(membership: Any, role: str) -> Any:
    """The client's people of a workspace, compiled once per process (core.queries.Prepared):
    read at every refresh of every engagement."""
    from confiance.core.queries import Prepared

    return Prepared(
        lambda workspace, client: membership.objects.filter(
            workspace_id=workspace, role=role, client_id=client
        ).values_list("user_id"),
        workspace=int,
        client=int,
    )


def client_people(engagement: Engagement) -> set[int]:
    """The ids of the people of the engagement's client side (everyone else is the provider's)."""
    from confiance.core.models import Membership, Role

    def read() -> set[int]:
        return {
            user_id
            for (user_id,) in _client_people_query(Membership, Role.CLIENT).rows(
                workspace=engagement.workspace_id, client=engagement.client_id
            )
        }

    found: set[int] = read_once(("client_people", engagement.pk), read)
    return found


OVERDUE_DAYS = 7
"""A payment counts as overdue (payment_overdue, its probe) from a full week past its due date."""


# The moments a probe (Indicator.changed) computes from `since` and the clock: asked through these
# helpers, so that the refresh can compile all the probes once (services._changed, a Prepared
# query) with a stand-in for each moment instead of building them at every run.
_STAND_INS: ContextVar[dict[str, Any] | None] = ContextVar("trust_probe_stand_ins", default=None)


@contextmanager
def probe_stand_ins(**stand_ins: Any) -> Iterator[None]:
    """While compiling the probes: the helpers below answer the stand-ins of their moments."""
    token = _STAND_INS.set(stand_ins)
    try:
        yield
    finally:
        _STAND_INS.reset(token)


def stood_since(since: datetime | None) -> datetime | None:
    """Where to read facts that may have stood (CONFIRM_DAYS passed) since `since`."""
    stand_ins = _STAND_INS.get()
    if stand_ins is not None and since is not None and since == stand_ins["since"]:
        stood: datetime = stand_ins["stood"]
        return stood
    return since - timedelta(days=CONFIRM_DAYS) if since is not None else None


def now() -> datetime:
    """The moment now (timezone.now()), as a probe asks it."""
    stand_ins = _STAND_INS.get()
    if stand_ins is not None:
        moment: datetime = stand_ins["now"]
        return moment
    return timezone.now()


def overdue_before() -> date:
    """The first due date of a payment not yet a full week past due: unpaid before it, overdue."""
    stand_ins = _STAND_INS.get()
    if stand_ins is not None:
        day: date = stand_ins["overdue_before"]
        return day
    return timezone.localdate() - timedelta(days=OVERDUE_DAYS - 1)
