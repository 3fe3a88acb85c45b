"""`confiance verify BUNDLE` checks a bundle exported through the API, offline, without Django.

Each run is a subprocess whose environment has no Django settings, secret key nor database;
each kind of tampering is caught with a message that names what is wrong.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entries_log
from confiance.ledger import services
from confiance.ledger.checkpoint import (
    format_checkpoint,
    generate_signing_key,
    parse_checkpoint,
    sign_checkpoint,
)
from confiance.ledger.merkle import canonical_json, consistency_proof, root_hash
from confiance.ledger.models import WorkspaceKey
from tests.conftest import World

LOCALE_MO = Path(__file__).resolve().parents[2] / "confiance/locale/fr/LC_MESSAGES/django.mo"


def offline_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DATABASE_URL"}
        and not key.startswith(("LC_", "LANG"))
    }
    return {**env, "LANG": "C.UTF-8", **extra}


def verify(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "confiance.cli", "verify", str(path)],
        capture_output=True,
        text=True,
        env=offline_env(**env),
        cwd=path.parent,
        timeout=60,
        check=False,
    )


def log_entries(world: World, count: int) -> None:
    day = timezone.localdate() - timedelta(days=1)
    time_entries_log(
        membership=world.member,
        engagement=world.engagement,
        items=[
            EntryInput(person=world.member.user, date=day, minutes=15 * (i + 1), shared_note="x")
            for i in range(count)
        ],
    )


@pytest.fixture
def exported(world: World) -> dict[str, Any]:
    """A bundle exported through the API: 6 entries, checkpoints at sizes 3 and 6."""
    http = HttpClient()
    http.force_login(world.user("client_contact"))
    kwargs = {"engagement_id": world.engagement.pk}
    log_entries(world, 3)
    assert http.get(reverse("api:ledger_checkpoint", kwargs=kwargs)).status_code == 200
    log_entries(world, 3)
    response = http.get(reverse("api:ledger_bundle", kwargs=kwargs))
    assert response.status_code == 200
    bundle = json.loads(b"".join(response.streaming_content))
    assert len(bundle["entries"]) == 6 and len(bundle["checkpoints"]) == 2
    return bundle


def write(tmp_path: Path, bundle: object, name: str = "bundle.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def failure_of(tmp_path: Path, bundle: dict[str, Any]) -> str:
    result = verify(write(tmp_path, bundle))
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("FAILED: ")]
    return line


def test_exported_bundle_verifies_offline_without_django(
    tmp_path: Path, exported: dict[str, Any]
) -> None:
    result = verify(write(tmp_path, exported))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Entries checked: 6" in result.stdout
    assert "Checkpoints checked: 2" in result.stdout
    assert "OK: 6 entries match the signed checkpoints" in result.stdout
    assert f"Origin: {exported['origin']}" in result.stdout


def test_the_verifier_never_imports_django(tmp_path: Path, exported: dict[str, Any]) -> None:
    path = write(tmp_path, exported)
    code = (
        "import sys; from confiance.ledger.verify_cli import run; "
        f"status = run([{str(path)!r}]); "
        "assert not any(m.split('.')[0] == 'django' for m in sys.modules), 'django imported'; "
        "sys.exit(status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=offline_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_edited_entry_is_caught(tmp_path: Path, exported: dict[str, Any]) -> None:
    bundle = copy.deepcopy(exported)
    leaf = json.loads(bundle["entries"][4]["data"])
    leaf["minutes"] = 1
    bundle["entries"][4]["data"] = canonical_json(leaf).decode()
    assert failure_of(tmp_path, bundle) == (
        "FAILED: checkpoint 2 (size 6): root does not match entries 0..5"
    )


def test_a_removed_entry_is_caught(tmp_path: Path, exported: dict[str, Any]) -> None:
    bundle = copy.deepcopy(exported)
    del bundle["entries"][2]
    line = failure_of(tmp_path, bundle)
    assert "entry at position 2 has index 3" in line and "missing" in line


def test_reordered_entries_are_caught(tmp_path: Path, exported: dict[str, Any]) -> None:
    bundle = copy.deepcopy(exported)
    entries = bundle["entries"]
    entries[1], entries[2] = entries[2], entries[1]
    line = failure_of(tmp_path, bundle)
    assert "entry at position 1 has index 2" in line and "out of order" in line
    # Swapping the data while keeping the indexes in order is caught by the signed root.
    bundle = copy.deepcopy(exported)
    entries = bundle["entries"]
    entries[1]["data"], entries[2]["data"] = entries[2]["data"], entries[1]["data"]
    assert failure_of(tmp_path, bundle) == (
        "FAILED: checkpoint 1 (size 3): root does not match entries 0..2"
    )


def test_a_forged_signature_is_caught(tmp_path: Path, exported: dict[str, Any]) -> None:
    bundle = copy.deepcopy(exported)
    genuine = parse_checkpoint(bundle["checkpoints"][1])
    name = genuine.signatures[0].name
    forger, _ = generate_signing_key(name)  # same name, another key
    bundle["checkpoints"][1] = sign_checkpoint(genuine.body, name, forger)
    assert failure_of(tmp_path, bundle) == (
        "FAILED: checkpoint 2: signature does not verify with the bundle's public key"
    )


def test_history_rewritten_between_two_checkpoints_is_caught(
    tmp_path: Path, exported: dict[str, Any], world: World
) -> None:
    # The provider itself, with its real key, rewrites entry 1 and signs the new history.
    bundle = copy.deepcopy(exported)
    leaf = json.loads(bundle["entries"][1]["data"])
    leaf["minutes"] = 5
    bundle["entries"][1]["data"] = canonical_json(leaf).decode()
    leaves = [entry["data"].encode() for entry in bundle["entries"]]
    key = WorkspaceKey.objects.get(workspace=world.workspace)
    private = services._fernet().decrypt(bytes(key.encrypted_private_key))
    body = format_checkpoint(bundle["origin"], 6, root_hash(leaves))
    bundle["checkpoints"][1] = sign_checkpoint(body, key.name, private)
    bundle["consistency_proofs"][0]["proof"] = [
        base64.b64encode(node).decode() for node in consistency_proof(leaves, 3)
    ]
    assert failure_of(tmp_path, bundle) == (
        "FAILED: checkpoint 2 is not consistent with checkpoint 1 (history rewritten)"
    )


def test_unreadable_or_non_json_files_exit_with_2(tmp_path: Path) -> None:
    missing = verify(tmp_path / "nowhere.json")
    assert missing.returncode == 2 and "Cannot read" in missing.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"{not json")
    result = verify(garbage)
    assert result.returncode == 2 and "is not a JSON file" in result.stderr
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    assert verify(binary).returncode == 2


def test_json_that_is_not_a_bundle_fails_verification(tmp_path: Path) -> None:
    result = verify(write(tmp_path, [1, 2, 3]))
    assert result.returncode == 1
    assert "FAILED: bundle is not a JSON object" in result.stdout


@pytest.mark.skipif(not LOCALE_MO.exists(), reason="French catalogue not compiled (make)")
def test_the_report_speaks_french_when_the_terminal_does(
    tmp_path: Path, exported: dict[str, Any]
) -> None:
    result = verify(write(tmp_path, exported), LANGUAGE="fr")
    assert result.returncode == 0
    assert "Entrées vérifiées\u00a0: 6" in result.stdout
    assert "OK\u00a0: 6 entrées correspondent" in result.stdout
