"""Key rotation: announced in every log, signed by the old key; verifiers follow it, forgers fail.

A reader who pinned the old key (a browser, a `--key` kept from the start) must accept the new
key only through the announcement the old key signed; a reader given the new key checks the
older checkpoints with the keys the announcements name; a history re-signed by someone holding
only the old key after the rotation, or an announcement the old key did not sign, fails.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from confiance.ledger import services
from confiance.ledger.bundle import verify_bundle
from confiance.ledger.checkpoint import (
    format_checkpoint,
    generate_signing_key,
    parse_checkpoint,
    sign_checkpoint,
    sign_rotation,
)
from confiance.ledger.merkle import canonical_json, root_hash
from confiance.ledger.models import WorkspaceKey
from tests.conftest import World
from tests.ledger.test_verify_cli import export, log_entries, verify, write


@pytest.fixture
def rotated(world: World, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """Two entries under the first key, a rotation, two entries under the new key."""
    log_entries(world, 2, django_capture_on_commit_callbacks)
    old_key = services.log_verifier_key(world.engagement)
    old_private = services._fernet().decrypt(
        bytes(services.workspace_key_get_or_create(workspace=world.workspace).encrypted_private_key)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.workspace_key_rotate(
            workspace=world.workspace, actor=world.owner.user, reason="Yearly change"
        )
    log_entries(world, 2, django_capture_on_commit_callbacks)
    return {
        "old_key": old_key,
        "old_private": old_private,
        "new_key": services.log_verifier_key(world.engagement),
        "bundle": export(world, "client_contact"),
    }


def test_a_rotation_is_announced_in_the_log_and_both_keys_verify(rotated: dict[str, Any]) -> None:
    bundle = rotated["bundle"]
    assert rotated["old_key"] != rotated["new_key"]
    kinds = [json.loads(e["data"])["kind"] for e in bundle["entries"]]
    assert kinds.count("key.rotated") == 1
    for key in (rotated["old_key"], rotated["new_key"]):
        report = verify_bundle(bundle, key=key)
        assert report.ok, report.first_failure
        assert report.signed_size == len(bundle["entries"])
        assert any("signing key changed" in w for w in report.warnings)


def test_the_command_line_verifier_follows_the_rotation(
    tmp_path: Path, rotated: dict[str, Any]
) -> None:
    result = verify(write(tmp_path, rotated["bundle"]), "--key", rotated["old_key"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "signing key changed" in result.stdout


def test_a_rotation_the_old_key_did_not_sign_fails(rotated: dict[str, Any]) -> None:
    bundle = copy.deepcopy(rotated["bundle"])
    origin = bundle["origin"]
    # Someone without the old key rewrites the announcement to their own key and re-signs all.
    forger_private, forger_key = generate_signing_key(origin)
    position = next(
        i for i, e in enumerate(bundle["entries"]) if '"kind":"key.rotated"' in e["data"]
    )
    leaf = json.loads(bundle["entries"][position]["data"])
    leaf["new_key"] = forger_key
    leaf["announcement"] = sign_rotation(origin, forger_key, forger_private)
    bundle["entries"][position]["data"] = canonical_json(leaf).decode()
    leaves = [e["data"].encode() for e in bundle["entries"]]
    body = format_checkpoint(origin, len(leaves), root_hash(leaves))
    bundle["checkpoints"] = [sign_checkpoint(body, origin, forger_private)]
    report = verify_bundle(bundle, key=rotated["old_key"])
    assert not report.ok
    assert "not signed by the previous key" in (report.first_failure or "")


def test_the_old_key_cannot_sign_after_the_new_one_did(rotated: dict[str, Any]) -> None:
    # The old key leaked: its holder appends a forged entry and signs with it.
    bundle = copy.deepcopy(rotated["bundle"])
    origin = bundle["origin"]
    forged = json.loads(bundle["entries"][-1]["data"])
    forged["seq"] += 1
    bundle["entries"].append(
        {
            **bundle["entries"][-1],
            "index": len(bundle["entries"]),
            "data": canonical_json(forged).decode(),
        }
    )
    leaves = [e["data"].encode() for e in bundle["entries"]]
    body = format_checkpoint(origin, len(leaves), root_hash(leaves))
    bundle["checkpoints"].append(sign_checkpoint(body, origin, rotated["old_private"]))
    for key in (rotated["old_key"], rotated["new_key"]):
        report = verify_bundle(bundle, key=key)
        assert not report.ok
        assert "is not signed by the trusted key" in (report.first_failure or "")


def test_the_new_key_alone_needs_a_checkpoint_it_signed(rotated: dict[str, Any]) -> None:
    # Cut the bundle right after the old key's checkpoint covering the announcement.
    bundle = copy.deepcopy(rotated["bundle"])
    position = next(
        i for i, e in enumerate(bundle["entries"]) if '"kind":"key.rotated"' in e["data"]
    )
    bundle["entries"] = bundle["entries"][: position + 1]
    bundle["checkpoints"] = [
        n for n in bundle["checkpoints"] if parse_checkpoint(n).size <= position + 1
    ]
    assert verify_bundle(bundle, key=rotated["old_key"]).ok
    report = verify_bundle(bundle, key=rotated["new_key"])
    assert not report.ok and "no checkpoint is signed by the trusted key" in (
        report.first_failure or ""
    )


def test_a_checkpoint_kept_before_the_rotation_still_counts(rotated: dict[str, Any]) -> None:
    bundle = rotated["bundle"]
    first = bundle["checkpoints"][0]
    assert verify_bundle(bundle, key=rotated["new_key"], known=[first]).ok
    truncated = copy.deepcopy(bundle)
    truncated["entries"] = truncated["entries"][:1]
    truncated["checkpoints"] = []
    report = verify_bundle(truncated, key=rotated["old_key"], known=[bundle["checkpoints"][-1]])
    assert not report.ok


def test_the_owner_rotates_from_the_key_page_and_the_client_is_shown_it(world: World) -> None:
    owner, client, member = HttpClient(), HttpClient(), HttpClient()
    owner.force_login(world.user("owner"))
    client.force_login(world.user("client_contact"))
    member.force_login(world.user("member"))
    page = reverse("ledger-key", kwargs={"ws": world.workspace.slug})
    rotate = reverse("ledger-key-rotate", kwargs={"ws": world.workspace.slug})
    before = client.get(page).content.decode()
    assert member.post(rotate, {"reason": "no"}).status_code == 404
    empty = owner.post(rotate, {"reason": "  "})
    assert (
        empty.status_code == 400
        and WorkspaceKey.objects.filter(workspace=world.workspace).count() == 1
    )
    assert owner.post(rotate, {"reason": "Laptop lost"}).status_code == 302
    after = client.get(page).content.decode()
    current = services.workspace_key_get_or_create(workspace=world.workspace).verifier_key
    assert current in after and current not in before
    assert "Laptop lost" in after
    consumption = client.get(
        reverse("consumption", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    ).content.decode()
    assert "Laptop lost" in consumption
