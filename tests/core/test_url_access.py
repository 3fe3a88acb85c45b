"""Every URL, requested by every role, answers the expected status.

The URL patterns are enumerated from the resolver: a new URL without an entry in EXPECTED fails
`test_every_url_has_an_expectation`, so nobody can add a page without saying who may see it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entry_log
from confiance.core.notices import unsubscribe_token
from confiance.core.services import api_token_create, invitation_create
from tests.alignment.support import a_proposal, a_vision_proposal, an_agreed_term
from tests.api import support as api_support
from tests.closure.support import closure_kwargs
from tests.conftest import PERSONAS, World, _settings_for_tests, build_world
from tests.consumption.import_support import finished_job
from tests.emergence import support as em
from tests.followup import support as followup_support
from tests.problems.support import an_attachment, problem_kwargs
from tests.pulse import support as pulse_support
from tests.trust.support import an_alert
from tests.webhooks import support as hooks

ANON = "anonymous"
ALL = [ANON, *PERSONAS]
INTERNAL = ["owner", "member", "finance"]
MEMBERS = [*INTERNAL, "client_contact", "other_client_contact", "expert"]
# Who sees the test opportunity (open to the firm; the expert and client A's contact invited).
OPP = [*INTERNAL, "client_contact", "expert"]
OPP_WRITERS = ["owner", "member", "client_contact", "expert"]


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
    # API writes: a JSON body, and `kwargs` called again for each persona (a fresh object).
    body: Callable[[World], dict[str, Any]] | None = None
    fresh: bool = False

    def expected(self, persona: str) -> int:
        return self.statuses.get(persona, self.default)


def ws(w: World) -> dict[str, Any]:
    return {"ws": w.workspace.slug}


def eng(w: World) -> dict[str, Any]:
    return {"ws": w.workspace.slug, "pk": w.engagement.pk}


def _stop_request_id(w: World) -> int:
    from confiance.engagements.stops import stop_request_create

    return stop_request_create(
        membership=w.client_contact, engagement=w.engagement, reason="Budget cut"
    ).pk


def only(allowed: list[str], ok: int, anonymous: int = 302, other: int = 404) -> dict[str, int]:
    statuses = {p: (ok if p in allowed else other) for p in PERSONAS}
    statuses[ANON] = anonymous
    return statuses


READERS = [*INTERNAL, "client_contact"]
WRITERS = ["owner", "member", "client_contact"]  # act for a side of the engagement


def api_only(allowed: list[str], ok: int = 200) -> dict[str, int]:
    return only(allowed, ok, anonymous=401)


def _api_get(kwargs: Callable[[World], dict[str, Any]], allowed: list[str]) -> Case:
    return Case(kwargs=kwargs, api=True, statuses=api_only(allowed))


def _api_post(
    kwargs: Callable[[World], dict[str, Any]],
    body: Callable[[World], dict[str, Any]],
    allowed: list[str],
    ok: int = 201,
) -> Case:
    return Case(
        kwargs=kwargs,
        api=True,
        method="post",
        body=body,
        fresh=True,
        statuses=api_only(allowed, ok),
    )


def _soon(days: int = 7) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


# The API: readers are both sides of the engagement; writes follow the pages' rules. What a role
# may not do answers 404 as on the pages; 401 without a token.
A = api_support
API_EXPECTED: dict[str, Case] = {
    "api:me": _api_get(lambda w: {}, PERSONAS),
    "api:my_data": _api_get(lambda w: {}, PERSONAS),
    "api:remove_member": _api_post(
        lambda w: {"membership_id": A.newcomer(w).pk}, lambda w: {}, ["owner"], ok=200
    ),
    "api:erase_person": _api_post(
        lambda w: {"user_id": A.newcomer(w).user_id}, lambda w: {}, ["owner"], ok=200
    ),
    "api:list_notices": _api_get(lambda w: {}, PERSONAS),
    "api:read_notices": _api_post(lambda w: {}, lambda w: {}, PERSONAS, ok=200),
    # Workspace-wide lists: the outsider is the owner of its own workspace, and sees that one.
    "api:list_clients": _api_get(lambda w: {}, [*INTERNAL, "outsider"]),
    "api:create_client": _api_post(
        lambda w: {}, lambda w: {"name": A.unique("Client")}, ["owner", "member", "outsider"]
    ),
    "api:list_members": _api_get(lambda w: {}, [*INTERNAL, "outsider"]),
    "api:list_entries": _api_get(A.eng, READERS),
    "api:get_entry": _api_get(A.entry, READERS),
    "api:log_entry": _api_post(
        A.eng, lambda w: {"date": "2026-10-02", "minutes": 60}, ["owner", "member"]
    ),
    "api:correct_entry": _api_post(
        A.entry, lambda w: {"reason": "Wrong day", "withdraw": True}, ["owner", "member"]
    ),
    "api:consumption": _api_get(A.eng, READERS),
    "api:list_budget_revisions": _api_get(A.eng, READERS),
    "api:revise_budget": _api_post(
        A.eng, lambda w: {"days": "20", "reason": "Signed order"}, ["owner", "finance"]
    ),
    "api:set_estimate": _api_post(A.eng, lambda w: {"remaining_minutes": 600}, ["owner", "member"]),
    "api:list_activities": _api_get(A.eng, READERS),
    "api:create_activity": _api_post(
        A.eng, lambda w: {"name": A.unique("Workshops")}, ["owner", "finance"]
    ),
    "api:list_commitments": _api_get(A.eng, READERS),
    "api:get_commitment": _api_get(A.commitment, READERS),
    "api:create_commitment": _api_post(
        A.eng,
        lambda w: {
            "side": "provider",
            "owner_id": w.member.user.pk,
            "text": "Send the plan",
            "due_date": _soon(),
        },
        ["owner", "member"],
    ),
    "api:set_commitment_status": _api_post(
        A.commitment, lambda w: {"status": "kept"}, ["owner", "member", "client_contact"], ok=200
    ),
    "api:propose_renegotiation": _api_post(
        A.commitment,
        lambda w: {"reason": "Late data", "new_due_date": _soon(14)},
        ["owner", "member"],
    ),
    "api:decide_renegotiation": _api_post(
        A.renegotiation, lambda w: {"agree": True}, ["client_contact"], ok=200
    ),
    "api:list_meetings": _api_get(A.eng, READERS),
    "api:get_meeting": _api_get(A.meeting, READERS),
    "api:create_meeting": _api_post(
        A.eng,
        lambda w: {
            "title": "Kick-off",
            "starts_at": _soon(3) + "T10:00:00+00:00",
            "duration_minutes": 60,
            "channel": "video",
            "attendee_ids": [w.member.user.pk, w.client_contact.user.pk],
        },
        ["owner", "member"],
    ),
    "api:cancel_meeting": _api_post(
        A.meeting, lambda w: {"reason": "Holiday"}, ["owner", "member", "client_contact"], ok=200
    ),
    "api:record_meeting": _api_post(
        lambda w: A.meeting(w, past=True),
        lambda w: {
            "attendance": [{"user_id": w.member.user.pk, "attendance": "present"}],
            "minutes": "Decided the plan.",
        },
        ["owner", "member"],
        ok=200,
    ),
    "api:list_payments": _api_get(A.eng, READERS),
    "api:create_payment": _api_post(
        A.eng,
        lambda w: {
            "kind": "invoice",
            "label": "Invoice 1",
            "amount": "1200.00",
            "issue_date": _soon(0),
            "due_date": _soon(30),
        },
        ["owner", "finance"],
    ),
    "api:mark_paid": _api_post(
        A.payment, lambda w: {"paid_date": _soon(0)}, ["owner", "finance"], ok=200
    ),
    "api:list_problems": _api_get(A.eng, READERS),
    "api:get_problem": _api_get(A.problem, READERS),
    "api:raise_problem": _api_post(
        A.eng, lambda w: {"title": "Export fails", "severity": "high"}, READERS
    ),
    "api:problem_step": _api_post(
        A.problem, lambda w: {"action": "comment", "text": "Looking into it"}, INTERNAL, ok=200
    ),
    # Shared comments with a file (multipart; a JSON body has no text: 400) and their download.
    "api:add_problem_comment": _api_post(
        A.problem, lambda w: {"text": "ignored: not multipart"}, READERS, ok=400
    ),
    "api:download_problem_attachment": _api_get(A.problem_file, READERS),
    # Common language and vision: both sides read; the owner, consultants and the client's
    # contacts propose; only the other side agrees (the same side: 400).
    "api:get_common_ground": _api_get(A.eng, READERS),
    "api:propose_term": _api_post(
        A.eng, lambda w: {"term": A.unique("Lot"), "meaning": "A batch"}, WRITERS
    ),
    "api:propose_term_change": _api_post(
        A.agreed_term, lambda w: {"meaning": "Two batches"}, WRITERS
    ),
    "api:agree_term": Case(
        kwargs=A.term_proposal,
        api=True,
        method="post",
        body=lambda w: {},
        fresh=True,
        statuses={**api_only(WRITERS), "owner": 400, "member": 400},
    ),
    "api:propose_vision": _api_post(
        A.eng, lambda w: {"problem": "P", "outcome": "O", "success": "S"}, WRITERS
    ),
    "api:agree_vision": Case(
        kwargs=A.vision_proposal,
        api=True,
        method="post",
        body=lambda w: {},
        fresh=True,
        statuses={**api_only(WRITERS), "owner": 400, "member": 400},
    ),
    # Closure: started, objectives not yet assessed: the client may approve, but not yet (400).
    "api:get_closure": _api_get(lambda w: {**A.eng(w), **_closure(w)}, READERS),
    "api:approve_closure": _api_post(
        lambda w: {**A.eng(w), **_closure(w)},
        lambda w: {"analysis_hash": "0" * 64},
        ["client_contact"],
        ok=400,
    ),
    # Pulse: both sides see it; those asked in the open round answer (finance is not asked).
    "api:get_pulse": _api_get(lambda w: {**A.eng(w), **_pulse(w)}, READERS),
    "api:answer_pulse": _api_post(
        lambda w: {**A.eng(w), "round_id": _pulse_round(w)},
        lambda w: {
            "common_language": 4,
            "common_vision": 4,
            "discretion": 5,
            "receptivity": 3,
            "proximity": 4,
        },
        ["owner", "member", "client_contact"],
        ok=200,
    ),
    "api:get_trust": _api_get(A.eng, READERS),
    # Confirm or contest: a client commitment the provider marked broken; the client answers,
    # both sides end a contest (nothing contested yet: 400).
    "api:list_reviews": _api_get(A.eng, READERS),
    "api:confirm_review": _api_post(A.review, lambda w: {}, ["client_contact"], ok=200),
    "api:contest_review": _api_post(
        A.review, lambda w: {"reason": "Sent on the 2nd"}, ["client_contact"], ok=200
    ),
    "api:resolve_review": _api_post(
        A.review, lambda w: {}, ["owner", "member", "client_contact"], ok=400
    ),
    # Either side may stop: the client asks, the provider answers (declines here, with why).
    "api:list_stop_requests": _api_get(A.eng, READERS),
    "api:ask_to_stop": _api_post(A.eng, lambda w: {"reason": "Budget cut"}, ["client_contact"]),
    "api:answer_stop_request": _api_post(
        A.stop_request, lambda w: {"accept": False, "answer": "Not now"}, ["owner", "member"], 200
    ),
    # Webhooks: the owner's; the outsider owns its own workspace and sees its (empty) lists.
    "api:event_types": _api_get(lambda w: {}, ["owner", "outsider"]),
    "api:list_webhooks": _api_get(lambda w: {}, ["owner", "outsider"]),
    "api:create_webhook": _api_post(
        lambda w: {},
        lambda w: {"url": "https://hooks.example/a", "event_types": ["problem.raised"]},
        ["owner", "outsider"],
    ),
    "api:get_webhook": _api_get(lambda w: {"endpoint_id": hooks.endpoint_id(w)}, ["owner"]),
    "api:update_webhook": _api_post(
        lambda w: {"endpoint_id": hooks.endpoint_id(w)},
        lambda w: {"url": "https://hooks.example/b", "event_types": ["trust.alert"]},
        ["owner"],
        ok=200,
    ),
    "api:remove_webhook": _api_post(
        lambda w: {"endpoint_id": hooks.endpoint_id(w)}, lambda w: {}, ["owner"], ok=204
    ),
    "api:ping_webhook": _api_post(
        lambda w: {"endpoint_id": hooks.endpoint_id(w)}, lambda w: {}, ["owner"], ok=202
    ),
    "api:list_deliveries": _api_get(lambda w: {"endpoint_id": hooks.endpoint_id(w)}, ["owner"]),
    "api:replay_delivery": _api_post(
        lambda w: {"delivery_id": hooks.delivery_id(w)}, lambda w: {}, ["owner"], ok=202
    ),
}


def _closure(w: World) -> dict[str, Any]:
    closure_kwargs(w)
    return {}


def _pulse(w: World) -> dict[str, Any]:
    pulse_support.eng_with_open_round(w)
    return {}


def _pulse_round(w: World) -> int:
    from confiance.pulse.models import PulseSurvey

    _pulse(w)
    return PulseSurvey.objects.filter(engagement=w.engagement).latest("opened_at").pk


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
    "two-factor": Case(statuses={ANON: 302}),
    "invitation-accept": Case(kwargs=lambda w: {"token": "tampered"}, default=410),
    "set_language": Case(default=302),
    "notice-preferences": Case(statuses={ANON: 302}),
    # The signed link works without logging in (GET asks for confirmation, changes nothing).
    "notice-unsubscribe": Case(
        kwargs=lambda w: {"token": unsubscribe_token(w.client_contact.user, "budget")}
    ),
    "workspace-home": Case(kwargs=ws, statuses=only(MEMBERS, 302)),
    "members": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    "member-remove": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": api_support.newcomer(w).pk},
        method="post",
        fresh=True,
        statuses=only(["owner"], 302),
    ),
    "my-data": Case(kwargs=ws, statuses=only(MEMBERS, 200)),
    "erasure": Case(kwargs=ws, statuses=only(["owner"], 200)),
    "person-erase": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.member.user.pk},
        statuses=only(["owner"], 200),
    ),
    "webhooks": Case(kwargs=ws, statuses=only(["owner"], 200)),
    "webhook-detail": Case(kwargs=hooks.page, statuses=only(["owner"], 200)),
    "webhook-ping": Case(kwargs=hooks.page, method="post", statuses=only(["owner"], 302)),
    "webhook-remove": Case(
        kwargs=hooks.page, method="post", fresh=True, statuses=only(["owner"], 302)
    ),
    "webhook-replay": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": hooks.delivery_id(w)},
        method="post",
        statuses=only(["owner"], 302),
    ),
    "workspace-settings": Case(kwargs=ws, statuses=only(["owner"], 200)),
    "schedule": Case(kwargs=ws, statuses=only(["owner"], 200)),
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
    # The client asks to stop early; the provider answers. Empty forms: field errors, nothing kept.
    "stop-request": Case(kwargs=eng, method="post", statuses=only(["client_contact"], 400)),
    "stop-answer": Case(
        kwargs=lambda w: {**eng(w), "sid": _stop_request_id(w)},
        method="post",
        statuses=only(["owner", "member"], 400),
    ),
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
    "entries-csv": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "entries-xlsx": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "statement": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "consumption-leaves": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "entry-log": Case(kwargs=eng, method="post", statuses=only(["owner", "member"], 400)),
    "entry-correct": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.engagement.pk, "entry_id": w.entry_id},
        statuses=only(["owner", "member"], 200),
    ),
    "budget-revise": Case(kwargs=eng, method="post", statuses=only(["owner", "finance"], 400)),
    "estimate-set": Case(kwargs=eng, method="post", statuses=only(["owner", "member"], 400)),
    "consumption-settings": Case(kwargs=eng, statuses=only(["owner", "finance"], 200)),
    # Witnesses of the ledger: the provider's budget managers and the engagement's client; an
    # empty form comes back to the Ledger section with its error.
    # The workspace's signing key: every reader of a ledger; an empty rotation reason is a 400.
    "ledger-key": Case(
        kwargs=ws, statuses=only([*INTERNAL, "client_contact", "other_client_contact"], 200)
    ),
    "ledger-key-rotate": Case(kwargs=ws, method="post", statuses=only(["owner"], 400)),
    # The ledger bundle (streamed at once for the small test log) and the progress of a
    # prepared one: whoever sees the engagement, both sides.
    "ledger-bundle": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "ledger-bundle-progress": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    "ledger-witness-add": Case(
        kwargs=eng, method="post", statuses=only(["owner", "finance", "client_contact"], 302)
    ),
    "ledger-witness-remove": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.engagement.pk, "witness_id": 999999},
        method="post",
        statuses={ANON: 302},
        default=404,
    ),
    "notices": Case(kwargs=ws, statuses=only(MEMBERS, 200)),
    "portfolio": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    # Trust: the client sees client→provider trust of its engagements; experts nothing.
    "trust": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    # Acting on an alert: the provider's owners and consultants (an empty POST: 400).
    "trust-alert-act": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.engagement.pk, "alert_id": an_alert(w)},
        method="post",
        statuses=only(["owner", "member"], 400),
    ),
    # Taking an alert's step (the review meeting form): the provider's owners and consultants.
    "trust-alert-meeting": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "pk": w.engagement.pk, "alert_id": an_alert(w)},
        statuses=only(["owner", "member"], 200),
    ),
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
    # A client commitment the provider marked broken: the client answers, both sides resolve.
    "review-confirm": Case(
        kwargs=lambda w: {**eng(w), "rid": followup_support.review_id(w)},
        method="post",
        statuses=only(["client_contact"], 302),
    ),
    "review-contest": Case(  # an empty reason: the form says why, nothing is recorded
        kwargs=lambda w: {**eng(w), "rid": followup_support.review_id(w)},
        method="post",
        statuses=only(["client_contact"], 400),
    ),
    "review-resolve": Case(  # nothing contested yet: refused with a message, back to the page
        kwargs=lambda w: {**eng(w), "rid": followup_support.review_id(w)},
        method="post",
        statuses=only(["owner", "member", "client_contact"], 302),
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
    "problem-attachment": Case(
        kwargs=an_attachment, statuses=only([*INTERNAL, "client_contact"], 200)
    ),
    # The client's side names its escalation contact (an empty form: a field error).
    "problem-client-escalation": Case(
        kwargs=eng, method="post", statuses=only(["client_contact"], 400)
    ),
    "problem-settings": Case(kwargs=ws, statuses=only(["owner"], 200)),
    # Common language and vision: both sides read; the owner, consultants and the client's
    # contacts propose and agree (empty forms: field errors; finance only reads).
    "common-ground": Case(kwargs=eng, statuses=only(READERS, 200)),
    "glossary-propose": Case(kwargs=eng, method="post", statuses=only(WRITERS, 400)),
    "glossary-change": Case(kwargs=an_agreed_term, method="post", statuses=only(WRITERS, 400)),
    "glossary-agree": Case(
        kwargs=a_proposal, method="post", fresh=True, statuses=only(WRITERS, 302)
    ),
    "vision-propose": Case(kwargs=eng, method="post", statuses=only(WRITERS, 400)),
    "vision-agree": Case(
        kwargs=a_vision_proposal, method="post", fresh=True, statuses=only(WRITERS, 302)
    ),
    # Lessons are the provider's own learning; kudos belong to both sides.
    "lesson-list": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    "lesson-similar": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    "problem-lesson": Case(kwargs=problem_kwargs, statuses=only(INTERNAL, 200)),
    "problem-repeat": Case(kwargs=problem_kwargs, method="post", statuses=only(INTERNAL, 302)),
    "kudos": Case(kwargs=eng, statuses=only([*INTERNAL, "client_contact"], 200)),
    # A profile (here client A's contact): the provider's people, and who shares an engagement
    # with the person; never another client's contact or an expert.
    "person-profile": Case(
        kwargs=lambda w: {"ws": w.workspace.slug, "user_id": w.client_contact.user.pk},
        statuses=only([*INTERNAL, "client_contact"], 200),
    ),
    # Pulse: both sides of the engagement; my rounds for everyone; the cadence for the owner.
    "pulse": Case(
        kwargs=pulse_support.eng_with_open_round,
        statuses=only([*INTERNAL, "client_contact"], 200),
    ),
    "pulse-mine": Case(kwargs=ws, statuses=only(MEMBERS, 200)),
    "pulse-settings": Case(kwargs=ws, statuses=only(["owner"], 200)),
    # Emergence: experts and clients see only the opportunity they take part in; the opener (the
    # owner here) steers; whoever takes part writes; finance reads only.
    "opportunity-list": Case(kwargs=ws, statuses=only(MEMBERS, 200)),
    "opportunity-open": Case(kwargs=ws, statuses=only(["owner", "member"], 200)),
    "opportunity-detail": Case(kwargs=em.opp, statuses=only(OPP, 200)),
    "opportunity-edit": Case(kwargs=em.opp, statuses=only(["owner"], 200)),
    "opportunity-invite": Case(
        kwargs=em.opp, method="post", statuses=only(["owner", "member"], 400)
    ),
    "opportunity-participation": Case(
        kwargs=lambda w: {**em.opp(w), "action": "join"},
        method="post",
        statuses=only(["owner", "expert", "client_contact"], 302),
    ),
    "participant-remove": Case(
        kwargs=lambda w: {**em.opp(w), "pid": em.participant_id(w)},
        method="post",
        statuses=only(["owner"], 302),
    ),
    "opportunity-phase": Case(kwargs=em.opp, method="post", statuses=only(["owner"], 400)),
    "slot-propose": Case(kwargs=em.opp, method="post", statuses=only(OPP_WRITERS, 400)),
    "slot-nominate": Case(
        kwargs=lambda w: {**em.opp(w), "slot_id": em.slot_id(w)},
        method="post",
        statuses={**only(OPP_WRITERS, 302), "client_contact": 400},
    ),
    "nomination-action": Case(
        kwargs=lambda w: {**em.opp(w), "nid": em.nomination_id(w), "action": "endorse"},
        method="post",
        statuses={**only(OPP_WRITERS, 302), "expert": 400},
    ),
    "opportunity-discussion": Case(kwargs=em.opp, statuses=only(OPP, 200)),
    "post-edit": Case(
        kwargs=lambda w: {**em.opp(w), "post_id": em.post_id(w)}, statuses=only(["expert"], 200)
    ),
    "post-history": Case(
        kwargs=lambda w: {**em.opp(w), "post_id": em.post_id(w)}, statuses=only(OPP, 200)
    ),
    "attachment-download": Case(
        kwargs=lambda w: {**em.opp(w), "attachment_id": em.attachment_id(w)},
        statuses=only(OPP, 200),
    ),
    # The agreement: everyone of the opportunity reads it; those who write in it co-edit; the
    # opener (the owner) starts it; the provider's steerer and the client's contact accept.
    "agreement": Case(kwargs=em.agreement_opp, statuses=only(OPP, 200)),
    "agreement-start": Case(kwargs=em.agreement_opp, method="post", statuses=only(["owner"], 400)),
    "agreement-terms": Case(
        kwargs=em.agreement_opp, method="post", statuses=only(OPP_WRITERS, 400)
    ),
    "agreement-clause-add": Case(
        kwargs=em.agreement_opp, method="post", statuses=only(OPP_WRITERS, 400)
    ),
    **{
        f"agreement-clause-{action}": Case(
            kwargs=em.clause_kwargs, method="post", statuses=only(OPP_WRITERS, 400)
        )
        for action in ("edit", "remove", "comment")
    },
    "agreement-accept": Case(
        kwargs=em.agreement_opp, method="post", statuses=only(["owner", "client_contact"], 400)
    ),
    "agreement-diff": Case(kwargs=em.agreement_opp, statuses=only(OPP, 200)),
    "agreement-pdf": Case(kwargs=em.agreement_opp, statuses=only(OPP, 200)),
    # How it ends: the opener (the owner here) converts or declines; the partner directory is the
    # provider's; the discussion is read from the engagement by those who see the engagement.
    "opportunity-convert": Case(kwargs=em.opp, method="post", statuses=only(["owner"], 400)),
    "opportunity-decline": Case(kwargs=em.opp, method="post", statuses=only(["owner"], 400)),
    "partners": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    "referral-received": Case(kwargs=ws, method="post", statuses=only(["owner", "member"], 400)),
    "engagement-emergence": Case(
        kwargs=em.converted_engagement, statuses=only([*INTERNAL, "client_contact"], 200)
    ),
    "expert-network": Case(kwargs=ws, statuses=only(INTERNAL, 200)),
    "expert-profile": Case(
        kwargs=em.expert_profile_kwargs,
        statuses=only([*INTERNAL, "client_contact", "expert"], 200),
    ),
    "my-profile": Case(kwargs=ws, statuses=only(MEMBERS, 200)),
    "api:api-root": Case(default=404, api=True),
    "api:openapi-json": Case(api=True),
    "api:openapi-view": Case(api=True),
    "api:list_engagements": Case(api=True, statuses={ANON: 401}),
    **API_EXPECTED,
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


def _prepare(world: World) -> World:
    world.pending_invitation_id = invitation_create(  # type: ignore[attr-defined]
        membership=world.owner, email="newcomer@client-a.test", role="expert"
    ).invitation.pk
    world.entry_id = time_entry_log(  # type: ignore[attr-defined]
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(person=world.member.user, date=date(2026, 10, 1), minutes=90),
    ).pk
    world.owner_token_id = api_token_create(membership=world.owner, name="x")[0].pk  # type: ignore[attr-defined]
    world.tokens = api_support.write_tokens(world)  # type: ignore[attr-defined]
    return world


@pytest.fixture(scope="module")
def _prepared_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:  # type: ignore[no-untyped-def]
    """The world the rows need, built once for the table instead of once a row (the build costs
    more than a row's eight requests), in a transaction rolled back after the module. Each row
    runs in a savepoint inside it (pytest-django's `db`), so a row's writes are undone before the
    next row, as with Django's TestCase.setUpTestData."""
    outer = transaction.atomic()
    with django_db_blocker.unblock(), override_settings(**_settings_for_tests(tmp_path_factory)):
        outer.__enter__()
        try:
            world = _prepare(build_world())
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def prepared(_prepared_once: World, db: None) -> World:  # type: ignore[no-untyped-def]
    # A copy for each row: a row may change its model instances in memory.
    return copy.deepcopy(_prepared_once)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_url_answers_each_role_as_expected(name: str, prepared: World) -> None:
    case = EXPECTED[name]
    url = reverse(name, kwargs=case.kwargs(prepared))
    wrong = []
    for persona in ALL:
        http = HttpClient()
        headers = {}
        if case.fresh:
            url = reverse(name, kwargs=case.kwargs(prepared))
        if persona != ANON:
            if case.api:
                headers["Authorization"] = f"Bearer {prepared.tokens[persona]}"  # type: ignore[attr-defined]
            else:
                http.force_login(prepared.user(persona))
        extra: dict[str, Any] = {}
        if case.body is not None:
            extra = {"data": case.body(prepared), "content_type": "application/json"}
        response = getattr(http, case.method)(url, headers=headers, **extra)
        if response.status_code != case.expected(persona):
            wrong.append(f"{persona}: {response.status_code} (expected {case.expected(persona)})")
    assert not wrong, f"{case.method.upper()} {url}: " + "; ".join(wrong)
