"""The ledger API: same access policy as the pages, proofs that verify, lazy checkpoints, no 500."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entries_log
from confiance.core.services import api_token_create
from confiance.ledger.bundle import verify_bundle
from confiance.ledger.checkpoint import verify_checkpoint
from confiance.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from confiance.ledger.models import Checkpoint, LedgerEntry, LedgerNode
from confiance.ledger.services import checkpoint_sign, log_verifier_key
from tests.conftest import World


def log_entries(world: World, count: int, note: str = "Work") -> None:
    day = timezone.localdate() - timedelta(days=1)
    time_entries_log(
        membership=world.member,
        engagement=world.engagement,
        items=[
            EntryInput(
                person=world.member.user,
                date=day,
                minutes=30 + i,
                shared_note=f"{note} {i}",
                internal_note="SECRET-INTERNAL",
            )
            for i in range(count)
        ],
    )
    # What the worker does after the commit (the test's transaction never commits).
    checkpoint_sign(engagement=world.engagement)


def url(name: str, world: World, **kwargs: Any) -> str:
    return reverse(f"api:ledger_{name}", kwargs={"engagement_id": world.engagement.pk, **kwargs})


@pytest.fixture
def api(world: World):  # type: ignore[no-untyped-def]
    """GET as a persona with a personal token: api("client_contact", url, old=1)."""
    tokens: dict[str, str] = {}

    def get(persona: str, path: str, **params: Any) -> Any:
        if persona not in tokens:
            tokens[persona] = api_token_create(membership=getattr(world, persona), name="t")[1]
        return HttpClient().get(
            path, params, headers={"Authorization": f"Bearer {tokens[persona]}"}
        )

    return get


def b64list(items: list[str]) -> list[bytes]:
    return [base64.b64decode(item) for item in items]


def test_client_reads_its_engagements_ledger_with_a_token(world: World, api) -> None:
    log_entries(world, 3)
    response = api("client_contact", url("checkpoint", world))
    assert response.status_code == 200
    data = response.json()
    assert data["size"] == 3
    checkpoint = verify_checkpoint(data["note"], data["public_key"], origin=data["origin"])
    assert (checkpoint.size, checkpoint.root.hex()) == (3, data["root"])


def test_client_reads_its_engagements_ledger_with_its_browser_session(world: World) -> None:
    log_entries(world, 2)
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(world.user("client_contact"))
    for name in ("checkpoint", "bundle"):
        assert http.get(url(name, world)).status_code == 200, name
    assert http.get(url("entry", world, index=1)).status_code == 200
    assert http.get(url("consistency", world), {"old": 1}).status_code == 200


@pytest.mark.parametrize("persona", ["other_client_contact", "expert", "outsider"])
def test_whoever_cannot_see_the_engagement_gets_404_json(world: World, api, persona) -> None:
    log_entries(world, 2)
    signed = Checkpoint.objects.count()
    session = HttpClient()
    session.force_login(world.user(persona))
    for path in (
        url("checkpoint", world),
        url("entry", world, index=0),
        url("consistency", world) + "?old=1",
        url("bundle", world),
    ):
        for response in (api(persona, path), session.get(path)):
            assert response.status_code == 404, path
            assert response.json()["detail"] == "Not found."
    assert Checkpoint.objects.count() == signed, "a refused caller makes nothing get signed"


def test_drafts_are_hidden_from_clients_and_anonymous_callers_must_authenticate(
    world: World, api
) -> None:
    draft = reverse("api:ledger_checkpoint", kwargs={"engagement_id": world.draft.pk})
    assert api("client_contact", draft).status_code == 404
    assert api("owner", draft).status_code == 200
    assert HttpClient().get(url("checkpoint", world)).status_code == 401


def test_inclusion_proofs_from_the_api_verify_against_the_signed_root(world: World, api) -> None:
    log_entries(world, 7)
    checkpoint = api("client_contact", url("checkpoint", world)).json()
    root = bytes.fromhex(checkpoint["root"])
    for index in range(7):
        entry = api("client_contact", url("entry", world, index=index)).json()
        data = entry["data"].encode()
        assert entry["tree_size"] == 7 and entry["leaf_hash"] == leaf_hash(data).hex()
        assert verify_inclusion(data, index, 7, b64list(entry["proof"]), root)
        assert "SECRET-INTERNAL" not in entry["data"]
    # A proof for an older tree size verifies against that size's root only.
    old = api("client_contact", url("entry", world, index=2), size=4).json()
    assert old["tree_size"] == 4
    proof = b64list(old["proof"])
    assert verify_inclusion(old["data"].encode(), 2, 4, proof, bytes.fromhex(old["root"]))
    assert not verify_inclusion(old["data"].encode(), 2, 4, proof, root)


def test_consistency_proofs_from_the_api_verify_between_two_checkpoints(world: World, api) -> None:
    log_entries(world, 5)
    first = api("client_contact", url("checkpoint", world)).json()
    log_entries(world, 6, note="Later")
    second = api("client_contact", url("checkpoint", world)).json()
    answer = api("client_contact", url("consistency", world), old=5, new=11).json()
    assert (answer["old_size"], answer["new_size"]) == (5, 11)
    old_root, new_root = bytes.fromhex(first["root"]), bytes.fromhex(second["root"])
    assert verify_consistency(5, 11, old_root, new_root, b64list(answer["proof"]))
    # `new` defaults to the whole log now.
    assert api("client_contact", url("consistency", world), old=5).json() == answer


def test_appends_are_checkpointed_on_commit_in_one_batch_per_engagement(
    world: World, api, django_capture_on_commit_callbacks
) -> None:
    day = timezone.localdate() - timedelta(days=1)
    item = EntryInput(person=world.member.user, date=day, minutes=30, shared_note="x")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for _round in range(3):  # three writes in one transaction: one task
            time_entries_log(membership=world.member, engagement=world.engagement, items=[item])
    signing = [c for c in callbacks if "enqueue" in c.__name__]
    assert len(signing) == 1
    assert not Checkpoint.objects.exists(), "nothing signed before the commit"
    signing[0]()  # the worker runs the task after the commit
    first = api("client_contact", url("checkpoint", world)).json()
    assert first["size"] == 3
    assert checkpoint_sign(engagement=world.engagement) is None, "nothing new: nothing signed"
    with django_capture_on_commit_callbacks(execute=True):
        time_entries_log(membership=world.member, engagement=world.engagement, items=[item])
    second = api("client_contact", url("checkpoint", world)).json()
    assert second["size"] == 4 and second["note"] != first["note"]
    assert second["public_key"] == first["public_key"] == log_verifier_key(world.engagement)
    assert Checkpoint.objects.count() == 2


@pytest.mark.parametrize(
    ("name", "kwargs", "params", "status"),
    [
        ("entry", {"index": 5}, {}, 400),  # index beyond the log
        ("entry", {"index": 1}, {"size": 1}, 400),  # index beyond the asked size
        ("entry", {"index": 0}, {"size": 9}, 400),  # size beyond the log
        ("entry", {"index": -1}, {}, 400),
        ("entry", {"index": 0}, {"size": -3}, 400),
        ("entry", {"index": 0}, {"size": 10**30}, 400),
        ("entry", {"index": 0}, {"size": "two"}, 422),
        ("consistency", {}, {"old": 4, "new": 2}, 400),
        ("consistency", {}, {"old": 1, "new": 9}, 400),
        ("consistency", {}, {"old": -1}, 400),
        ("consistency", {}, {"old": 10**30}, 400),
        ("consistency", {}, {"old": "x"}, 422),
    ],
)
def test_bad_parameters_get_a_json_error_never_a_500(
    world: World, api, name, kwargs, params, status
) -> None:
    log_entries(world, 5)
    path = url(name, world, **kwargs) if "index" not in kwargs else None
    if path is None:
        # reverse() refuses a negative int for the path converter; build it by hand.
        path = url(name, world, index=0).rsplit("/", 1)[0] + f"/{kwargs['index']}"
    response = api("client_contact", path, **params)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_ledger_rows_cannot_be_updated_or_deleted(world: World, api) -> None:
    log_entries(world, 2)
    api("owner", url("checkpoint", world))
    for model in (LedgerEntry, Checkpoint):
        row = model.objects.first()
        with pytest.raises(PermissionError):
            model.objects.filter(pk=row.pk).update(created_at=timezone.now())
        with pytest.raises(PermissionError):
            model.objects.filter(pk=row.pk).delete()
        with pytest.raises(PermissionError):
            row.save()
        with pytest.raises(PermissionError):
            row.delete()
    assert LedgerEntry.objects.count() == 2 and Checkpoint.objects.count() == 1


def _queries_for_one_proof(world: World, api, index: int) -> int:
    api("client_contact", url("entry", world, index=index))  # token touched, warm
    with CaptureQueriesContext(connection) as queries:
        response = api("client_contact", url("entry", world, index=index))
    assert response.status_code == 200
    return len(queries)


def test_inclusion_proof_query_count_does_not_grow_with_the_log(world: World, api) -> None:
    log_entries(world, 10)
    small = _queries_for_one_proof(world, api, 3)
    log_entries(world, 290, note="Bulk")
    large = _queries_for_one_proof(world, api, 3)
    assert large == small
    # The token (with its membership), the engagement within reach, the log's head with the
    # entry, the proof's nodes (one statement), the reader's openings.
    assert small == 5
    assert LedgerNode.objects.filter(engagement=world.engagement, level=0).count() == 300


def test_a_proof_over_the_browser_session_reads_the_caller_with_the_engagement(
    world: World,
) -> None:
    log_entries(world, 10)
    http = HttpClient()
    http.force_login(world.user("client_contact"))
    assert http.get(url("entry", world, index=3)).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        answer = http.get(url("entry", world, index=3))
    assert answer.status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    entry = answer.json()
    root = bytes.fromhex(http.get(url("checkpoint", world)).json()["root"])
    assert verify_inclusion(entry["data"].encode(), 3, 10, b64list(entry["proof"]), root)
    # The session's user, its membership and the engagement: one query, as a token's; then
    # the head with the entry, the proof's nodes, the reader's openings.
    assert len(sql) == 4
    assert '"core_user"."password"' in sql[0] and '"engagements_engagement"."status"' in sql[0]


@pytest.mark.parametrize("ending", ["password", "deactivated", "logout"])
def test_the_ledger_api_ends_a_session_when_django_would(world: World, ending: str) -> None:
    log_entries(world, 2)
    http = HttpClient()
    user = world.user("client_contact")
    http.force_login(user)
    assert http.get(url("entry", world, index=1)).status_code == 200
    if ending == "password":
        user.set_password("a new long passphrase 42")
        user.save()
    elif ending == "deactivated":
        user.is_active = False
        user.save(update_fields=["is_active"])
    else:
        http.post("/accounts/logout/")
    for path in (url("entry", world, index=1), url("checkpoint", world)):
        assert http.get(path).status_code == 401, path


def test_a_session_reads_each_ledger_as_the_membership_of_its_own_workspace(
    world: World,
) -> None:
    from confiance.core.models import Membership

    log_entries(world, 2)
    person = world.user("client_contact")  # a client here, a consultant elsewhere
    Membership.objects.create(workspace=world.other_workspace, user=person, role="member")
    http = HttpClient()
    http.force_login(person)
    foreign = reverse(
        "api:ledger_checkpoint", kwargs={"engagement_id": world.foreign_engagement.pk}
    )
    draft = reverse("api:ledger_checkpoint", kwargs={"engagement_id": world.draft.pk})
    assert http.get(foreign).status_code == 200  # as the consultant of that workspace
    assert http.get(url("checkpoint", world)).status_code == 200  # as the client here
    assert http.get(draft).status_code == 404  # a client does not see drafts


def test_a_token_is_the_caller_even_beside_a_session(world: World) -> None:
    log_entries(world, 2)
    http = HttpClient()
    http.force_login(world.user("owner"))
    elsewhere = api_token_create(membership=world.outsider, name="t")[1]
    answer = http.get(url("checkpoint", world), HTTP_AUTHORIZATION=f"Bearer {elsewhere}")
    assert answer.status_code == 404  # the token's workspace, not the session's
    assert http.get(url("checkpoint", world)).status_code == 200


def test_a_client_session_finds_no_draft_ledger_and_no_huge_engagement(world: World) -> None:
    http = HttpClient()
    http.force_login(world.user("client_contact"))
    draft = reverse("api:ledger_checkpoint", kwargs={"engagement_id": world.draft.pk})
    assert http.get(draft).status_code == 404
    for engagement_id in ("99999999999999999999", "0"):
        answer = http.get(f"/api/v1/engagements/{engagement_id}/ledger/checkpoint")
        assert answer.status_code in (400, 404), engagement_id
        assert answer["Content-Type"].startswith("application/json")


def test_bundle_exports_every_signed_entry_and_verifies_offline(world: World, api) -> None:
    log_entries(world, 4)
    log_entries(world, 3, note="Next")
    log_entries(world, 2, note="Signed too")
    response = api("client_contact", url("bundle", world))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    bundle = json.loads(b"".join(response.streaming_content))
    assert [json.loads(e["data"])["seq"] for e in bundle["entries"]] == list(range(9))
    assert len(bundle["checkpoints"]) == 3
    report = verify_bundle(bundle, key=log_verifier_key(world.engagement))
    assert report.ok, report.first_failure
    assert (report.checked_entries, report.checkpoints, report.signed_size) == (9, 3, 9)
    assert "SECRET-INTERNAL" not in json.dumps(bundle)


def _bundle_queries(world: World, api) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api("client_contact", url("bundle", world))
        b"".join(response.streaming_content)
    return len(queries)


def test_bundle_query_count_does_not_grow_with_entries_nor_checkpoints(world: World, api) -> None:
    log_entries(world, 3)
    api("client_contact", url("checkpoint", world))
    log_entries(world, 1)
    api("client_contact", url("checkpoint", world))
    small = _bundle_queries(world, api)
    for round_ in range(12):
        log_entries(world, 20, note=f"Round {round_}")
        api("client_contact", url("checkpoint", world))
    assert _bundle_queries(world, api) == small
