"""The API's promises: idempotent writes, scopes and expiry, ETags, rate limits, JSON errors,
cursor paging with constant queries, and the same rules as the pages for each capability."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from confiance.closure import services as closure_services
from confiance.closure.models import ClosureApproval
from confiance.consumption.models import TimeEntry
from confiance.consumption.services import EntryInput, time_entries_log
from confiance.core.models import ApiToken
from confiance.core.services import api_token_create
from confiance.followup.models import Commitment, CommitmentStatus
from confiance.ledger.models import LedgerEntry
from tests.api import support
from tests.closure.support import objectives, started
from tests.conftest import World


class Api:
    """A small client: JSON in and out, a token, optional headers."""

    def __init__(self, token: str) -> None:
        self.http = HttpClient()
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.http.get(f"/api/v1{path}", headers=self._headers(headers))

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.http.post(
            f"/api/v1{path}",
            data=json.dumps(body),
            content_type="application/json",
            headers=self._headers(headers),
        )


@pytest.fixture
def tokens(world: World) -> dict[str, str]:
    return support.write_tokens(world)


def api(tokens: dict[str, str], persona: str) -> Api:
    return Api(tokens[persona])


def _entries(world: World) -> str:
    return f"/engagements/{world.engagement.pk}/entries"


# Idempotency, scopes, expiry -----------------------------------------------------------------


def test_a_retried_post_with_the_same_key_writes_once(world: World, tokens: dict[str, str]) -> None:
    member = api(tokens, "member")
    body = {"date": "2026-10-05", "minutes": 45, "shared_note": "Workshop"}
    first = member.post(_entries(world), body, {"Idempotency-Key": "k-1"})
    again = member.post(_entries(world), body, {"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert TimeEntry.objects.filter(engagement=world.engagement).count() == 1
    # Without a key, or with another key, it is a new write.
    assert member.post(_entries(world), body, {"Idempotency-Key": "k-2"}).status_code == 201
    assert TimeEntry.objects.filter(engagement=world.engagement).count() == 2


def test_the_same_key_with_another_request_is_refused(world: World, tokens: dict[str, str]) -> None:
    member = api(tokens, "member")
    member.post(_entries(world), {"date": "2026-10-05", "minutes": 45}, {"Idempotency-Key": "k"})
    other = member.post(
        _entries(world), {"date": "2026-10-05", "minutes": 50}, {"Idempotency-Key": "k"}
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert TimeEntry.objects.filter(engagement=world.engagement).count() == 1


def test_keys_belong_to_one_token(world: World, tokens: dict[str, str]) -> None:
    body = {"date": "2026-10-05", "minutes": 45}
    api(tokens, "member").post(_entries(world), body, {"Idempotency-Key": "shared"})
    api(tokens, "owner").post(_entries(world), body, {"Idempotency-Key": "shared"})
    assert TimeEntry.objects.filter(engagement=world.engagement).count() == 2


def test_a_refused_write_is_replayed_as_refused_and_writes_nothing(
    world: World, tokens: dict[str, str]
) -> None:
    member = api(tokens, "member")
    body = {"date": "2026-10-05", "minutes": 0}
    first = member.post(_entries(world), body, {"Idempotency-Key": "bad"})
    assert first.status_code == 400 and first.json()["code"] == "invalid"
    assert "minutes" in first.json()["errors"]
    assert member.post(_entries(world), body, {"Idempotency-Key": "bad"}).json() == first.json()
    assert not TimeEntry.objects.exists()


def test_a_read_token_cannot_write(world: World) -> None:
    _, read_only = api_token_create(membership=world.member, name="reader")
    response = Api(read_only).post(_entries(world), {"date": "2026-10-05", "minutes": 45})
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert Api(read_only).get(_entries(world)).status_code == 200
    assert not TimeEntry.objects.exists()


def test_an_expired_token_is_refused(world: World) -> None:
    token, plaintext = api_token_create(membership=world.member, name="t", expires_in_days=1)
    assert Api(plaintext).get("/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Api(plaintext).get("/me")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_token_lifetime_is_bounded(world: World) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        api_token_create(membership=world.member, name="t", expires_in_days=5000)
    with pytest.raises(ValidationError):
        api_token_create(membership=world.member, name="t", scope="admin")


def test_tokens_made_before_scopes_keep_reading_and_now_expire(world: World) -> None:
    import importlib

    migration = importlib.import_module("confiance.core.migrations.0004_apitoken_scope_expiry")
    token, _ = api_token_create(membership=world.member, name="old")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None, scope="read")
    migration.expire_existing(apps, None)
    token.refresh_from_db()
    assert token.scope == "read"
    assert token.expires_at is not None
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)


def test_the_token_page_creates_a_write_token_with_an_expiry(login, world: World) -> None:
    login("member").post(
        f"/w/{world.workspace.slug}/tokens/",
        {"name": "sync", "scope": "write", "expires_in_days": "30"},
    )
    token = ApiToken.objects.get(name="sync")
    assert token.scope == "write"
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)


# ETags, rate limits, errors ----------------------------------------------------------------


def test_a_read_with_its_etag_answers_not_modified_until_it_changes(
    world: World, tokens: dict[str, str]
) -> None:
    member = api(tokens, "member")
    first = member.get(_entries(world))
    etag = first.headers["ETag"]
    assert member.get(_entries(world), {"If-None-Match": etag}).status_code == 304
    member.post(_entries(world), {"date": "2026-10-05", "minutes": 45})
    changed = member.get(_entries(world), {"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Authorization" in changed.headers["Vary"]


def test_requests_beyond_the_rate_limit_answer_429(
    world: World, tokens: dict[str, str], settings
) -> None:  # type: ignore[no-untyped-def]
    settings.API_RATE_LIMIT = "3/min"
    member = api(tokens, "member")
    assert [member.get("/me").status_code for _ in range(3)] == [200, 200, 200]
    refused = member.get("/me")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    # Per token: another person's token is not slowed down.
    assert api(tokens, "owner").get("/me").status_code == 200


def test_every_error_is_json_with_a_stable_code(world: World, tokens: dict[str, str]) -> None:
    member = api(tokens, "member")
    cases = [
        (member.get("/no-such-thing"), 404, "not_found"),
        (member.get(f"/engagements/{world.foreign_engagement.pk}/entries"), 404, "not_found"),
        (member.post(_entries(world), {"date": "yesterday"}), 422, "invalid_request"),
        (member.post(_entries(world), {"date": "2026-10-05", "minutes": -5}), 400, "invalid"),
        (Api("cf_wrong").get("/me"), 401, "unauthenticated"),
        (member.get(f"{_entries(world)}?cursor=%%%"), 422, "invalid_request"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.content
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["code"] == code


# Cursor paging, filters, query counts ------------------------------------------------------


def _log(world: World, n: int, day: date = date(2026, 10, 1)) -> None:
    time_entries_log(
        membership=world.owner,
        engagement=world.engagement,
        items=[
            EntryInput(person=world.member.user, date=day + timedelta(days=i % 20), minutes=30)
            for i in range(n)
        ],
    )


def _all_pages(client: Api, path: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    url: str | None = path
    pages = 0
    while url:
        data = client.get(url).json()
        items += data["results"]
        pages += 1
        url = data["next"].split("/api/v1", 1)[1] if data["next"] else None
    return items, pages


def test_cursor_pages_cover_every_entry_once(world: World, tokens: dict[str, str]) -> None:
    _log(world, 7)
    items, pages = _all_pages(api(tokens, "client_contact"), f"{_entries(world)}?page_size=3")
    assert pages == 3
    assert len(items) == len({i["id"] for i in items}) == 7
    assert all(i["internal_note"] is None for i in items)


def test_entry_filters(world: World, tokens: dict[str, str]) -> None:
    _log(world, 10)
    time_entries_log(
        membership=world.owner,
        engagement=world.engagement,
        items=[EntryInput(person=world.owner.user, date=date(2026, 10, 3), minutes=60)],
    )
    owner = api(tokens, "owner")
    mine = owner.get(f"{_entries(world)}?person_id={world.owner.user.pk}").json()["results"]
    assert [e["minutes"] for e in mine] == [60]
    window = owner.get(f"{_entries(world)}?date_from=2026-10-02&date_to=2026-10-03").json()
    assert {e["date"] for e in window["results"]} == {"2026-10-02", "2026-10-03"}


def test_list_queries_do_not_grow_with_the_entries(world: World, tokens: dict[str, str]) -> None:
    member = api(tokens, "member")
    _log(world, 5)
    member.get(_entries(world))  # warm the token's last-use stamp
    with CaptureQueriesContext(connection) as few:
        member.get(_entries(world))
    _log(world, 60)
    with CaptureQueriesContext(connection) as many:
        member.get(_entries(world))
    assert len(many) == len(few)


# The same rules as the pages ---------------------------------------------------------------


def test_client_never_sees_internal_notes_through_the_api(
    world: World, tokens: dict[str, str]
) -> None:
    api(tokens, "member").post(
        _entries(world), {"date": "2026-10-05", "minutes": 45, "internal_note": "SECRET-NOTE"}
    )
    entry_id = TimeEntry.objects.get().pk
    for persona in ("client_contact",):
        client = api(tokens, persona)
        assert b"SECRET-NOTE" not in client.get(_entries(world)).content
        assert b"SECRET-NOTE" not in client.get(f"{_entries(world)}/{entry_id}").content
    assert b"SECRET-NOTE" in api(tokens, "finance").get(_entries(world)).content


def test_a_correction_appends_a_reversal_and_a_replacement_to_the_ledger(
    world: World, tokens: dict[str, str]
) -> None:
    member = api(tokens, "member")
    original = member.post(_entries(world), {"date": "2026-10-05", "minutes": 45}).json()
    before = LedgerEntry.objects.filter(engagement=world.engagement).count()
    response = member.post(
        f"{_entries(world)}/{original['id']}/corrections",
        {"reason": "Was 60", "replacement": {"date": "2026-10-05", "minutes": 60}},
    )
    assert response.status_code == 201
    assert [(e["kind"], e["minutes"]) for e in response.json()] == [
        ("reversal", -45),
        ("replacement", 60),
    ]
    assert LedgerEntry.objects.filter(engagement=world.engagement).count() == before + 2
    again = member.post(
        f"{_entries(world)}/{original['id']}/corrections", {"reason": "x", "withdraw": True}
    )
    assert again.status_code == 400


def test_commitment_renegotiated_by_one_side_agreed_by_the_other(
    world: World, tokens: dict[str, str]
) -> None:
    base = f"/engagements/{world.engagement.pk}/commitments"
    due = (timezone.localdate() + timedelta(days=7)).isoformat()
    created = api(tokens, "member").post(
        base,
        {"side": "provider", "owner_id": world.member.user.pk, "text": "Plan", "due_date": due},
    )
    cid = created.json()["id"]
    later = (timezone.localdate() + timedelta(days=21)).isoformat()
    proposal = api(tokens, "member").post(
        f"{base}/{cid}/renegotiations", {"reason": "Data late", "new_due_date": later}
    )
    assert proposal.status_code == 201
    rid = proposal.json()["id"]
    # The side that asked cannot agree to its own request.
    own = api(tokens, "member").post(f"{base}/{cid}/renegotiations/{rid}/decision", {"agree": True})
    assert own.status_code == 404
    agreed = api(tokens, "client_contact").post(
        f"{base}/{cid}/renegotiations/{rid}/decision", {"agree": True}
    )
    assert agreed.status_code == 200
    commitment = api(tokens, "client_contact").get(f"{base}/{cid}").json()
    assert commitment["due_date"] == later and commitment["version"] == 2
    assert commitment["status"] == "renegotiated"
    kept = api(tokens, "client_contact").post(f"{base}/{cid}/status", {"status": "kept"})
    assert kept.json()["status"] == "kept"
    assert Commitment.objects.get(pk=cid).status == CommitmentStatus.KEPT


def test_problem_timeline_and_comments_as_each_side_sees_them(
    world: World, tokens: dict[str, str]
) -> None:
    base = f"/engagements/{world.engagement.pk}/problems"
    raised = api(tokens, "client_contact").post(
        base, {"title": "Export fails", "severity": "high", "client_priority": "critical"}
    )
    assert raised.status_code == 201
    pid = raised.json()["id"]
    owner = api(tokens, "owner")
    acknowledged = owner.post(f"{base}/{pid}/events", {"action": "acknowledge"})
    assert acknowledged.json()["status"] == "acknowledged"
    owner.post(f"{base}/{pid}/events", {"action": "comment", "text": "INTERNAL-COMMENT"})
    named = owner.post(f"{base}/{pid}/events", {"action": "owner", "owner_id": 999999})
    assert named.status_code == 400 and "owner_id" in named.json()["errors"]
    seen = api(tokens, "client_contact").get(f"{base}/{pid}").json()
    assert [e["kind"] for e in seen["events"]] == ["raised", "acknowledged"]
    assert seen["comments"] is None
    assert [c["text"] for c in owner.get(f"{base}/{pid}").json()["comments"]] == [
        "INTERNAL-COMMENT"
    ]
    # Confirming the resolution is the client's: the provider is answered 404.
    assert owner.post(f"{base}/{pid}/events", {"action": "confirm"}).status_code == 404


def test_the_client_escalates_a_problem_through_the_api(
    world: World, tokens: dict[str, str]
) -> None:
    base = f"/engagements/{world.engagement.pk}/problems"
    client = api(tokens, "client_contact")
    pid = client.post(base, {"title": "Export fails", "severity": "high"}).json()["id"]
    empty = client.post(f"{base}/{pid}/events", {"action": "client_escalate", "reason": " "})
    assert empty.status_code == 400 and "reason" in empty.json()["errors"]
    done = client.post(f"{base}/{pid}/events", {"action": "client_escalate", "reason": "Urgent"})
    assert done.status_code == 200 and done.json()["level"] == 1
    assert done.json()["events"][-1]["kind"] == "client_escalated"
    assert done.json()["events"][-1]["person"] == "Olivia Owner"
    # The provider escalates with its own step; this one is the client's (404 to others).
    mine = {"action": "client_escalate", "reason": "x"}
    assert api(tokens, "member").post(f"{base}/{pid}/events", mine).status_code == 404
    other = f"/engagements/{world.engagement_b.pk}/problems"
    theirs = api(tokens, "owner").post(other, {"title": "B's", "severity": "low"}).json()["id"]
    assert client.post(f"{other}/{theirs}/events", mine).status_code == 404


def test_problem_files_go_up_and_down_through_the_api_with_the_pages_checks(
    world: World, tokens: dict[str, str], settings
) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from confiance.problems.models import ProblemAttachment, ProblemComment
    from tests.problems.support import PDF

    base = f"/engagements/{world.engagement.pk}/problems"
    client = api(tokens, "client_contact")
    pid = client.post(base, {"title": "Export fails", "severity": "high"}).json()["id"]

    def upload(persona: str, text: str, name: str, content: bytes) -> Any:
        return HttpClient().post(
            f"/api/v1{base}/{pid}/comments",
            {"text": text, "attachment": SimpleUploadedFile(name, content)},
            headers={"Authorization": f"Bearer {tokens[persona]}"},
        )

    sent = upload("client_contact", "The log of last night", "export.pdf", PDF)
    assert sent.status_code == 201, sent.content
    [file] = sent.json()["attachments"]
    assert (file["name"], file["content_type"], file["size"]) == (
        "export.pdf",
        "application/pdf",
        len(PDF),
    )
    stored = ProblemAttachment.objects.get(pk=file["id"])
    full = Path(settings.PROBLEM_ATTACHMENT_DIR) / stored.path
    assert full.read_bytes() == PDF and "export" not in stored.path  # a random name, kept aside
    # Both sides read it in the problem, and download it; nobody else does.
    seen = api(tokens, "member").get(f"{base}/{pid}").json()["shared_comments"]
    assert seen[0]["attachments"][0]["id"] == file["id"]
    path = f"{base}/{pid}/attachments/{file['id']}"
    got = api(tokens, "member").get(path)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert got["Content-Disposition"].startswith("attachment")
    for outsider in ("other_client_contact", "expert", "outsider"):
        refused = api(tokens, outsider).get(path)
        assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    # Bad input: a field error in JSON, nothing stored.
    settings.PROBLEM_ATTACHMENT_MAX_BYTES = 100
    before = (ProblemComment.objects.count(), ProblemAttachment.objects.count())
    for text, name, content, field in [
        ("A page", "page.html", b"<html><script>x</script></html>", "attachment"),
        ("A program", "run.exe", b"MZ", "attachment"),
        ("Too big", "big.pdf", PDF + b"0" * 200, "attachment"),
        ("Renamed", "fake.pdf", b"not a pdf", "attachment"),
        ("   ", "export.pdf", PDF, "text"),
    ]:
        refused = upload("client_contact", text, name, content)
        assert refused.status_code == 400, (name, refused.content)
        assert field in refused.json()["errors"]
    assert (ProblemComment.objects.count(), ProblemAttachment.objects.count()) == before
    # An invited expert does not see the problem: 404, nothing stored.
    assert upload("expert", "Hello", "a.txt", b"hello").status_code == 404


def test_glossary_and_vision_through_the_api_as_on_the_page(
    world: World, tokens: dict[str, str]
) -> None:
    from confiance.ledger.models import LedgerEntry

    base = f"/engagements/{world.engagement.pk}/common"
    member, client = api(tokens, "member"), api(tokens, "client_contact")
    empty = member.post(f"{base}/glossary", {"term": " ", "meaning": ""})
    assert empty.status_code == 400 and set(empty.json()["errors"]) == {"term", "meaning"}
    proposed = member.post(f"{base}/glossary", {"term": "Lot", "meaning": "A batch of records"})
    assert proposed.status_code == 201 and proposed.json()["state"] == "proposed"
    tid = proposed.json()["id"]
    read = client.get(base).json()
    assert read["your_side"] == "client" and [t["term"] for t in read["proposals"]] == ["Lot"]
    same_side = member.post(f"{base}/glossary/{tid}/agree", {})
    assert same_side.status_code == 400
    agreed = client.post(f"{base}/glossary/{tid}/agree", {})
    assert agreed.status_code == 200 and agreed.json()["agreed_by"] == "Carla Contact"
    assert LedgerEntry.objects.filter(kind="glossary.agreed").count() == 1
    change = client.post(f"{base}/glossary/{tid}/change", {"meaning": "Records moved at once"})
    assert change.status_code == 201 and change.json()["replaces_id"] == tid
    assert api(tokens, "finance").get(base).json()["your_side"] is None
    refused = api(tokens, "finance").post(f"{base}/glossary", {"term": "X", "meaning": "Y"})
    assert refused.status_code == 404
    assert api(tokens, "other_client_contact").get(base).status_code == 404
    vision = {"problem": "Three systems", "outcome": "One record", "success": "All reconciled"}
    vid = client.post(f"{base}/vision", vision).json()["id"]
    accepted = member.post(f"{base}/vision/{vid}/agree", {})
    assert accepted.status_code == 200 and accepted.json()["state"] == "agreed"
    assert member.get(base).json()["vision"]["outcome"] == "One record"


def test_client_approves_the_closure_it_read(world: World, tokens: dict[str, str]) -> None:
    closure = started(world)
    for objective in objectives(world):
        closure_services.objective_assess(
            membership=world.owner,
            closure=closure,
            objective=objective,
            attainment="attained",
            evidence="Measured",
        )
    client = api(tokens, "client_contact")
    path = f"/engagements/{world.engagement.pk}/closure"
    read = client.get(path).json()
    assert read["all_assessed"] and read["approval"] is None
    stale = client.post(f"{path}/approval", {"analysis_hash": "0" * 64})
    assert stale.status_code == 400
    approved = client.post(f"{path}/approval", {"analysis_hash": read["analysis_hash"]})
    assert approved.status_code == 201
    assert approved.json()["approval"]["valid"] is True
    assert ClosureApproval.objects.filter(closure=closure).count() == 1


def test_trust_gives_the_client_its_direction_only_with_reasons_and_uncertainty(
    world: World, tokens: dict[str, str]
) -> None:
    path = f"/engagements/{world.engagement.pk}/trust"
    client = api(tokens, "client_contact").get(path).json()
    assert [d["direction"] for d in client["directions"]] == ["c2p"]
    overall = client["directions"][0]["overall"]
    assert overall["low"] <= overall["projected"] <= overall["high"]
    assert 0 <= overall["uncertainty"] <= 100 and "reasons" in overall
    provider = api(tokens, "member").get(path).json()
    assert [d["direction"] for d in provider["directions"]] == ["c2p", "p2c"]


def test_pulse_means_stay_hidden_below_three_answers(world: World, tokens: dict[str, str]) -> None:
    from tests.pulse import support as pulse_support

    pulse_support.eng_with_open_round(world)
    path = f"/engagements/{world.engagement.pk}/pulse"
    page = api(tokens, "client_contact").get(path).json()
    round_id = page["open_round_id"]
    scores = {k: 4 for k in ("common_language", "common_vision", "discretion", "receptivity")}
    answered = api(tokens, "client_contact").post(
        f"{path}/rounds/{round_id}/answer", {**scores, "proximity": 2}
    )
    assert answered.status_code == 200
    mine = answered.json()
    assert mine["my_answer"]["proximity"] == 2
    assert all(not s["visible"] and s["means"] == {} for s in mine["rounds"][0]["sides"])
    # Another person never reads it.
    assert api(tokens, "member").get(path).json()["my_answer"] is None


def test_the_client_contests_and_asks_to_stop_through_the_api_as_on_the_pages(
    world: World, tokens: dict[str, str], django_capture_on_commit_callbacks
) -> None:
    """Issue 10, parts 2 and 3 through the API: the client reads what the provider recorded
    about it and contests it with a reason (an empty or oversized one: a field error, nothing
    recorded); asks to stop early; the provider declines with its reason."""
    from confiance.core.models import Notice
    from confiance.followup.models import FactReview, ReviewState
    from confiance.followup.reviews import MAX_REASON_LENGTH
    from tests.followup.support import review_id

    rid = review_id(world)
    base = f"/engagements/{world.engagement.pk}"
    client = api(tokens, "client_contact")
    (listed,) = client.get(f"{base}/reviews").json()
    assert listed["id"] == rid and listed["side"] == "client" and listed["state"] == "pending"
    assert "marked" in listed["what"] and listed["recorded_by"] == "Mark Member"
    for reason in (" ", "x" * (MAX_REASON_LENGTH + 1)):
        refused = client.post(f"{base}/reviews/{rid}/contest", {"reason": reason})
        assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    assert FactReview.objects.get(pk=rid).state == ReviewState.PENDING
    assert api(tokens, "member").post(f"{base}/reviews/{rid}/confirm", {}).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        contested = client.post(f"{base}/reviews/{rid}/contest", {"reason": "Sent on the 2nd"})
    assert contested.status_code == 200 and contested.json()["state"] == "contested"
    assert Notice.objects.filter(user=world.member.user, kind="review.contested").exists()

    empty = client.post(f"{base}/stop-requests", {"reason": ""})
    assert empty.status_code == 400 and "reason" in empty.json()["errors"]
    asked = client.post(f"{base}/stop-requests", {"reason": "Our budget was cut"})
    assert asked.status_code == 201 and asked.json()["state"] == "pending"
    sid = asked.json()["id"]
    owner = api(tokens, "owner")
    bare = owner.post(f"{base}/stop-requests/{sid}/answer", {"accept": False, "answer": ""})
    assert bare.status_code == 400 and "answer" in bare.json()["errors"]
    declined = owner.post(
        f"{base}/stop-requests/{sid}/answer", {"accept": False, "answer": "Two weeks left"}
    )
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    (seen,) = client.get(f"{base}/stop-requests").json()
    assert seen["answer"] == "Two weeks left" and seen["answered_by"] == "Olivia Owner"
