"""`confiance verify` checks bundles exported through the API, offline, trusting only --key.

Each run is a subprocess whose environment has no Django settings, secret key nor database;
each kind of tampering exits 1 with a message naming what failed; unusable input exits 2
with no traceback.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from confiance.consumption.services import EntryInput, budget_revise, time_entries_log
from confiance.ledger import services
from confiance.ledger.checkpoint import (
    format_checkpoint,
    generate_signing_key,
    parse_checkpoint,
    sign_checkpoint,
)
from confiance.ledger.merkle import canonical_json, root_hash
from tests.conftest import World


def offline_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DATABASE_URL"}
        and not key.startswith(("LC_", "LANG"))
    }
    return {**env, "LANG": "C.UTF-8", **extra}


def verify(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "confiance.cli", "verify", *map(str, args)],
        capture_output=True,
        text=True,
        env=offline_env(**env),
        cwd=cwd,
        timeout=60,
        check=False,
    )


def log_entries(world: World, count: int, capture: Any) -> None:
    day = timezone.localdate() - timedelta(days=1)
    with capture(execute=True):
        time_entries_log(
            membership=world.member,
            engagement=world.engagement,
            items=[
                EntryInput(
                    person=world.member.user, date=day, minutes=15 * (i + 1), shared_note="x"
                )
                for i in range(count)
            ],
        )


def export(world: World, persona: str) -> dict[str, Any]:
    http = HttpClient()
    http.force_login(world.user(persona))
    kwargs = {"engagement_id": world.engagement.pk}
    response = http.get(reverse("api:ledger_bundle", kwargs=kwargs))
    assert response.status_code == 200
    return json.loads(b"".join(response.streaming_content))


@pytest.fixture
def setup(world: World, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """Three entries, a budget of 57,000 for 60 days, three more: a checkpoint after each."""
    world.workspace.show_amounts_to_client = False
    world.workspace.save(update_fields=["show_amounts_to_client"])
    log_entries(world, 3, django_capture_on_commit_callbacks)
    old = export(world, "client_contact")
    with django_capture_on_commit_callbacks(execute=True):
        budget_revise(
            membership=world.owner,
            engagement=world.engagement,
            days=Decimal(60),
            amount=Decimal(57000),
            reason="Signed order",
        )
    log_entries(world, 3, django_capture_on_commit_callbacks)
    return {
        "old": old,
        "client": export(world, "client_contact"),
        "owner": export(world, "owner"),
        "key": services.log_verifier_key(world.engagement),
        "workspace_key": services.workspace_key_get_or_create(
            workspace=world.workspace
        ).verifier_key,
    }


def write(tmp_path: Path, bundle: object, name: str = "bundle.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(bundle) if not isinstance(bundle, str) else bundle)
    return path


def test_client_and_provider_bundles_verify_offline_with_the_pinned_key(
    tmp_path: Path, setup: dict[str, Any]
) -> None:
    for who in ("client", "owner"):
        for key in (setup["key"], setup["workspace_key"]):
            result = verify(write(tmp_path, setup[who]), "--key", key, cwd=tmp_path)
            assert result.returncode == 0, result.stdout + result.stderr
            assert "OK: 7 entries match the checkpoints signed by the trusted key" in result.stdout


def test_a_client_bundle_holds_no_amount_when_amounts_are_hidden(setup: dict[str, Any]) -> None:
    client, owner = json.dumps(setup["client"]), json.dumps(setup["owner"])
    assert "57000" not in client
    assert "57000" in owner  # in the provider's opening, not in the leaf
    revision = next(e for e in setup["client"]["entries"] if '"budget.revised"' in e["data"])
    assert '"days":"60"' in revision["data"] and "amount" not in revision.get("openings", {})


def test_the_verifier_refuses_to_run_without_a_trusted_key(
    tmp_path: Path, setup: dict[str, Any]
) -> None:
    result = verify(write(tmp_path, setup["client"]), cwd=tmp_path)
    assert result.returncode == 2
    assert "--key" in result.stderr and "Traceback" not in result.stderr


def test_a_history_re_signed_with_a_foreign_key_fails(
    tmp_path: Path, setup: dict[str, Any]
) -> None:
    bundle = copy.deepcopy(setup["client"])
    leaves = [e["data"].encode() for e in bundle["entries"]]
    leaves[1] = leaves[1].replace(b'"minutes":30', b'"minutes":300')
    bundle["entries"][1]["data"] = leaves[1].decode()
    key, vkey = generate_signing_key(bundle["origin"])
    body = format_checkpoint(bundle["origin"], len(leaves), root_hash(leaves))
    bundle["checkpoints"] = [sign_checkpoint(body, bundle["origin"], key)]
    bundle["public_key"] = vkey
    result = verify(write(tmp_path, bundle), "--key", setup["key"], cwd=tmp_path)
    assert result.returncode == 1
    assert "is not signed by the trusted key" in result.stdout


def test_a_forged_tail_fails_unless_allowed(tmp_path: Path, setup: dict[str, Any]) -> None:
    bundle = copy.deepcopy(setup["client"])
    leaf = json.loads(bundle["entries"][-1]["data"])
    leaf["seq"] = leaf["seq"] + 1
    forged = {**bundle["entries"][-1], "data": canonical_json(leaf).decode()}
    bundle["entries"].append({**forged, "index": len(bundle["entries"])})
    path = write(tmp_path, bundle)
    result = verify(path, "--key", setup["key"], cwd=tmp_path)
    assert result.returncode == 1 and "nothing vouches for them" in result.stdout
    allowed = verify(path, "--key", setup["key"], "--allow-unsigned-tail", cwd=tmp_path)
    assert allowed.returncode == 0 and "Warning:" in allowed.stdout


def test_old_new_catches_a_rollback_and_accepts_a_true_extension(
    tmp_path: Path, setup: dict[str, Any]
) -> None:
    old = write(tmp_path, setup["old"], "old.json")
    new = write(tmp_path, setup["client"], "new.json")
    assert verify(old, new, "--key", setup["key"], cwd=tmp_path).returncode == 0
    result = verify(new, old, "--key", setup["key"], cwd=tmp_path)
    assert result.returncode == 1 and "rollback or truncation" in result.stdout


def test_known_checkpoints_from_the_browser_catch_a_truncation(
    tmp_path: Path, setup: dict[str, Any]
) -> None:
    latest = setup["client"]["checkpoints"][-1]
    kept = {"format": "confiance-checkpoints/1", "checkpoints": [{"note": latest}]}
    known = write(tmp_path, kept, "kept.json")
    result = verify(
        write(tmp_path, setup["old"]), "--key", setup["key"], "--known", known, cwd=tmp_path
    )
    assert result.returncode == 1 and "rollback or truncation" in result.stdout
    note = write(tmp_path, latest, "latest.txt")
    good = verify(
        write(tmp_path, setup["client"]), "--key", setup["key"], "--known", note, cwd=tmp_path
    )
    assert good.returncode == 0, good.stdout


def test_a_wrong_opening_fails(tmp_path: Path, setup: dict[str, Any]) -> None:
    bundle = copy.deepcopy(setup["owner"])
    entry = next(e for e in bundle["entries"] if "amount" in e.get("openings", {}))
    entry["openings"]["amount"]["json"] = '"5700"'
    result = verify(write(tmp_path, bundle), "--key", setup["key"], cwd=tmp_path)
    assert result.returncode == 1
    assert "the opening of 'amount' does not match the leaf's commitment" in result.stdout


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", '{"format": "confiance-ledger-bundle/2"}', "\udcff"],
)
def test_unusable_bundles_exit_2_without_traceback(
    tmp_path: Path, setup: dict[str, Any], content: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    result = verify(path, "--key", setup["key"], cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_malformed_key_or_known_checkpoint_exits_2(tmp_path: Path, setup: dict[str, Any]) -> None:
    path = write(tmp_path, setup["client"])
    result = verify(path, "--key", "nope", cwd=tmp_path)
    assert result.returncode == 2 and "Unusable key" in result.stderr
    junk = write(tmp_path, "not a checkpoint", "junk.txt")
    result = verify(path, "--key", setup["key"], "--known", junk, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    missing = verify(tmp_path / "missing.json", "--key", setup["key"], cwd=tmp_path)
    assert missing.returncode == 2


def test_the_verifier_never_imports_django(tmp_path: Path, setup: dict[str, Any]) -> None:
    path = write(tmp_path, setup["client"])
    code = (
        "import sys; from confiance.ledger.verify_cli import run; "
        f"status = run([{str(path)!r}, '--key', {setup['key']!r}]); "
        "assert 'django' not in sys.modules, 'django imported'; sys.exit(status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=offline_env(), check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkpoints_follow_c2sp_with_the_key_named_after_the_origin(setup: dict[str, Any]) -> None:
    note = setup["client"]["checkpoints"][-1]
    checkpoint = parse_checkpoint(note)
    assert checkpoint.extensions == ()
    assert checkpoint.origin == setup["client"]["origin"]
    assert {s.name for s in checkpoint.signatures} == {checkpoint.origin}
    assert setup["key"].startswith(checkpoint.origin + "+")
