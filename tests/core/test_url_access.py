"""Every URL, requested by every role, answers the expected status.

The URL patterns are enumerated from the resolver: a new URL without an entry in EXPECTED fails
`test_every_url_has_an_expectation`, so nobody can add a page without saying who may see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from confiance.consumption.services import EntryInput, time_entry_log
from confiance.core.services import api_token_create, invitation_create
from tests.closure.support import closure_kwargs
from tests.conftest import PERSONAS, World
from tests.consumption.import_support import finished_job
from tests.followup import support as followup_support
from tests.problems.support import problem_kwargs
from tests.pulse import support as pulse_support

ANON = "anonymous"
ALL = [ANON, *PERSONAS]
INTERNAL = ["owner", "member", "finance"]
MEMBERS = [*INTERNAL, "client_contact", "other_client_contact", "expert"]


def _walk(patterns: list[Any], namespace: str | None = None) -> list[str]:
    names = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace
            inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            names += _walk(p.url_patterns, inner)
        elif isinstance(p, URLPattern):
            names.append(f"{namespace}:{p.name}" if namespace else str(p.name))
    return names


@dataclass
class Case:
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    method: str = "get"
    api: bool = False
    # persona -> status; personas not named get `default`.
    statuses: dict[str, int] = field(default_factory=dict)
    default: int = 200

    def expected(self, persona: str) -> int:
        return self.statuses.get(persona, self.default)


def ws(w: World) -> dict[str, Any]:
    return {"ws": w.workspace.slug}


def eng(w: World) -> dict[str, Any]:
    return {"ws": w.workspace.slug, "pk": w.engagement.pk}


def only(allowed: list[str], ok: int, anonymous: int = 302, other: int = 404) -> dict[str, int]:
    statuses = {p: (ok if p in allowed else other) for p in PERSONAS}
    statuses[ANON] = anonymous
    return statuses


EXPECTED: dict[str, Case] = {
    "home": Case(default=302),
    "healthz": Case(),
    "setup": Case(default=404),
    "login": Case(),
    "logout": Case(default=405),
    "password_reset": Case(),
    "password_reset_done": Case(),
    "password_reset_confirm": Case(kwargs=lambda w: {"uidb64": "MQ", "token": "bad-token"}),
    "password_reset_complete": Case(),
    "password_change": Case(statuses={ANON: 302}),
    "password_change_done": Case(statuses={ANON: 302}),
    "invitation-accept": Case(kwargs=lambda w: {"token": "tampered"}, default=410),
    "set_language": Case(default=302),
    "workspace-home": Case(kwargs=ws, statuses=only(MEMBERS, 302)),
    "members": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    "workspace-settings": Case(kwargs=ws, statuses=only(["owner"], 200)),
    # Clients: the provider's people see them all; a contact sees its own client's page only.
    "client-list": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    "client-detail": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.client_a.pk},
        statuses=only([*INTERNAL, "client_contact"], 200),
    ),
    "client-rename": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.client_a.pk},
        method="post",
        statuses=only(["owner", "member"], 400),
    ),
    "client-archive": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.client_a.pk},
        method="post",
        statuses=only(["owner", "member"], 302),
    ),
    "invitation-revoke": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.pending_invitation_id},
        method="post",
        statuses=only(["owner", "member"], 302),
    ),
    "tokens": Case(kwargs=ws, statuses=only(MEMBERS, 200)),
    "token-revoke": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.owner_token_id},
        method="post",
        statuses=only(["owner"], 302),
    ),
    "engagement-list": Case(kwargs=ws, statuses=only(MEMBERS, 200)),
    "engagement-create": Case(kwargs=ws, statuses=only(["owner", "member"], 200)),
    "engagement-detail": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.engagement.pk},
        statuses=only([*INTERNAL, "client_contact"], 200),
    ),
    "engagement-edit": Case(kwargs=eng, statuses=only(["owner", "member"], 200)),
    "objective-add": Case(kwargs=eng, method="post", statuses=only(["owner", "member"], 400)),
    "interlocutor-add": Case(kwargs=eng, method="post", statuses=only(["owner", "member"], 400)),
    "engagement-status": Case(kwargs=eng, method="post", statuses=only(["owner", "member"], 400)),
    "consumption": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "entry-log": Case(kwargs=eng, method="post", statuses=only(["owner", "member"], 400)),
    "entry-correct": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.engagement.pk, "entry_id": w.entry_id},
        statuses=only(["owner", "member"], 200),
    ),
    "budget-revise": Case(kwargs=eng, method="post", statuses=only(["owner", "finance"], 400)),
    "estimate-set": Case(kwargs=eng, method="post", statuses=only(["owner", "member"], 400)),
    "consumption-settings": Case(kwargs=eng, statuses=only(["owner", "finance"], 200)),
    "notices": Case(kwargs=ws, statuses=only(MEMBERS, 200)),
    "portfolio": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    # Trust: the client sees client→provider trust of its engagements; experts nothing.
    "trust": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "trust-portfolio": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    "trust-settings": Case(kwargs=ws, statuses=only(["owner"], 200)),
    # Closure: both sides see it; the provider runs it, each side writes its retrospective, the
    # client approves; empty POSTs are refused with the form (400).
    "closure": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "closure-start": Case(kwargs=eng, method="post", statuses=only(["owner", "member"], 400)),
    "closure-assess": Case(
        kwargs=lambda w: closure_kwargs(w, objective=True),
        method="post",
        statuses=only(["owner", "member"], 400),
    ),
    "closure-retrospective": Case(
        kwargs=closure_kwargs,
        method="post",
        statuses=only(["owner", "member", "client_contact"], 400),
    ),
    "closure-approve": Case(
        kwargs=closure_kwargs, method="post", statuses=only(["client_contact"], 400)
    ),
    "closure-report": Case(
        kwargs=closure_kwargs, statuses=only([*INTERNAL, "client_contact"], 200)
    ),
    # Follow-up: both sides of the engagement; payments for owner/finance to manage.
    "followup": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "commitment-create": Case(
        kwargs=eng, method="post", statuses=only(["owner", "member", "client_contact"], 400)
    ),
    "commitment-detail": Case(
        kwargs=lambda w: {**eng(w), "cid": followup_support.commitment_id(w)},
        statuses=only([*INTERNAL, "client_contact"], 200),
    ),
    "commitment-status": Case(
        kwargs=lambda w: {**eng(w), "cid": followup_support.commitment_id(w)},
        method="post",
        statuses=only(["owner", "member", "client_contact"], 400),
    ),
    # A provider commitment: the provider proposes, the client decides.
    "renegotiation-propose": Case(
        kwargs=lambda w: {**eng(w), "cid": followup_support.commitment_id(w)},
        method="post",
        statuses=only(["owner", "member"], 400),
    ),
    "renegotiation-decide": Case(
        kwargs=followup_support.renegotiation_kwargs,
        method="post",
        statuses=only(["client_contact"], 302),
    ),
    "meeting-create": Case(kwargs=eng, method="post", statuses=only(["owner", "member"], 400)),
    "meeting-detail": Case(
        kwargs=lambda w: {**eng(w), "mid": followup_support.meeting_id(w)},
        statuses=only([*INTERNAL, "client_contact"], 200),
    ),
    "meeting-edit": Case(
        kwargs=lambda w: {**eng(w), "mid": followup_support.meeting_id(w)},
        statuses=only(["owner", "member"], 200),
    ),
    # Already cancelled: those who may cancel are told so (400), the others see nothing.
    "meeting-cancel": Case(
        kwargs=lambda w: {**eng(w), "mid": followup_support.meeting_id(w, cancelled=True)},
        method="post",
        statuses=only(["owner", "member", "client_contact"], 400),
    ),
    "payment-create": Case(kwargs=eng, method="post", statuses=only(["owner", "finance"], 400)),
    "payment-paid": Case(
        kwargs=lambda w: {**eng(w), "pid": followup_support.payment_id(w)},
        method="post",
        statuses=only(["owner", "finance"], 400),
    ),
    "my-calendar": Case(kwargs=ws, statuses=only(MEMBERS, 200)),
    "calendar-feed": Case(kwargs=lambda w: {"token": "not-a-token"}, default=404),
    # CSV import: the owner and the engagement's lead (world.engagement has none) only.
    "import-upload": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.engagement.pk},
        statuses=only(["owner"], 200),
    ),
    "import-detail": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.engagement.pk, "job_id": finished_job(w)},
        statuses=only(["owner"], 200),
    ),
    "import-confirm": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.engagement.pk, "job_id": finished_job(w)},
        method="post",
        statuses=only(["owner"], 302),
    ),
    "import-progress": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.engagement.pk, "job_id": finished_job(w)},
        statuses=only(["owner"], 200),
    ),
    # Problems: both sides of the engagement; handling and comments on the provider's side.
    "problem-list": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "problem-raise": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "problem-detail": Case(
        kwargs=problem_kwargs, statuses=only([*INTERNAL, "client_contact"], 200)
    ),
    "problem-action": Case(
        kwargs=lambda w: {**problem_kwargs(w), "action": "comment"},
        method="post",
        statuses=only(INTERNAL, 400),
    ),
    "problem-settings": Case(kwargs=ws, statuses=only(["owner"], 200)),
    # Lessons are the provider's own learning; kudos belong to both sides.
    "lesson-list": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    "lesson-similar": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    "problem-lesson": Case(kwargs=problem_kwargs, statuses=only(INTERNAL, 200)),
    "problem-repeat": Case(kwargs=problem_kwargs, method="post", statuses=only(INTERNAL, 302)),
    "kudos": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "person-profile": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "user_id": w.member.user.pk},
        statuses=only(MEMBERS, 200),
    ),
    # Pulse: both sides of the engagement; my rounds for everyone; the cadence for the owner.
    "pulse": Case(
        kwargs=pulse_support.eng_with_open_round,
        statuses=only([*INTERNAL, "client_contact"], 200),
    ),
    "pulse-mine": Case(kwargs=ws, statuses=only(MEMBERS, 200)),
    "pulse-settings": Case(kwargs=ws, statuses=only(["owner"], 200)),
    "api:api-root": Case(default=404, api=True),
    "api:openapi-json": Case(api=True),
    "api:openapi-view": Case(api=True),
    "api:list_engagements": Case(api=True, statuses={ANON: 401}),
    "api:get_engagement": Case(
        kwargs=lambda w: {"engagement_id": w.engagement.pk},
        api=True,
        statuses=only([*INTERNAL, "client_contact"], 200, anonymous=401),
    ),
    # The ledger: whoever sees the engagement, its client included (by token here; the browser
    # session is tested in tests/ledger/test_api.py).
    **{
        f"api:ledger_{name}": Case(
            kwargs=lambda w, extra=extra: {"engagement_id": w.engagement.pk, **extra},
            api=True,
            statuses=only([*INTERNAL, "client_contact"], 200, anonymous=401),
        )
        for name, extra in [
            ("checkpoint", {}),
            ("entry", {"index": 0}),
            ("consistency", {}),
            ("bundle", {}),
        ]
    },
}


def test_every_url_has_an_expectation() -> None:
    names = set(_walk(get_resolver().url_patterns))
    assert names - set(EXPECTED) == set(), "URLs without an access expectation"
    assert set(EXPECTED) - names == set(), "expectations for URLs that no longer exist"


@pytest.fixture
def prepared(world: World) -> World:
    world.pending_invitation_id = invitation_create(  # type: ignore[attr-defined]
        membership=world.owner, email="newcomer@client-a.test", role="expert"
    ).invitation.pk
    world.entry_id = time_entry_log(  # type: ignore[attr-defined]
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(person=world.member.user, date=date(2026, 10, 1), minutes=90),
    ).pk
    world.owner_token_id = api_token_create(membership=world.owner, name="x")[0].pk  # type: ignore[attr-defined]
    world.tokens = {  # type: ignore[attr-defined]
        p: api_token_create(membership=getattr(world, p), name="access test")[1] for p in PERSONAS
    }
    return world


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_url_answers_each_role_as_expected(name: str, prepared: World) -> None:
    case = EXPECTED[name]
    url = reverse(name, kwargs=case.kwargs(prepared))
    wrong = []
    for persona in ALL:
        http = HttpClient()
        headers = {}
        if persona != ANON:
            if case.api:
                headers["Authorization"] = f"Bearer {prepared.tokens[persona]}"  # type: ignore[attr-defined]
            else:
                http.force_login(prepared.user(persona))
        response = getattr(http, case.method)(url, headers=headers)
        if response.status_code != case.expected(persona):
            wrong.append(f"{persona}: {response.status_code} (expected {case.expected(persona)})")
    assert not wrong, f"{case.method.upper()} {url}: " + "; ".join(wrong)
