"""Restore of the demo's archive: restored into an empty installation it gives the same pages and
the same verified ledgers; a tampered archive or a non-empty installation restores nothing, with a
clear error.

Each test builds the demo in its own transaction. (Shared through the module's `demo` fixture, the
first test failed once in a whole PostgreSQL run: after the restore, a trust alert's page had
another id. Not understood yet; so each test builds its own demo, as before.)"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client as HttpClient
from django.utils import timezone

from confiance.core.archive import RestoreError, archive_restore, workspace_export
from confiance.core.demo import DEMO_SLUG, build_demo
from confiance.core.models import Membership, Role, User, Workspace
from confiance.engagements.models import Engagement
from confiance.ledger import verify_cli
from confiance.ledger.services import log_verifier_key
from tests.core.test_archive import _empty_installation
from tests.crawl import crawl, fetcher

CSRF = re.compile(
    r'name="csrfmiddlewaretoken" value="[^"]+"|data-csrf="[^"]+"|csrftoken[^"]*"[^"]+"'
)


def _pages(email: str) -> dict[str, str]:
    http = HttpClient()
    http.force_login(User.objects.get(email=email))

    fetch = fetcher(http)

    return {
        path: CSRF.sub("csrf", html)
        for path, _name, _status, html in crawl(fetch, f"/w/{DEMO_SLUG}/engagements/")
    }


def _export() -> bytes:
    buffer = io.BytesIO()
    workspace_export(workspace=Workspace.objects.get(slug=DEMO_SLUG), target=buffer)
    return buffer.getvalue()


def _verified_ledgers(tmp_path: Path) -> int:
    owner = Membership.objects.get(workspace__slug=DEMO_SLUG, role=Role.OWNER)
    from confiance.core.archive import _bundle

    checked = 0
    for engagement in Engagement.objects.visible_to(owner).select_related("workspace"):
        path = tmp_path / f"{engagement.pk}.json"
        path.write_text(_bundle(engagement))
        out = io.StringIO()
        assert verify_cli.run([str(path), "--key", log_verifier_key(engagement)], out) == 0, (
            out.getvalue()
        )
        checked += 1
    return checked


@pytest.mark.django_db
def test_restore_of_an_export_gives_the_same_pages_and_verified_ledgers(tmp_path: Path) -> None:
    build_demo()
    archive = _export()
    people = ["claire.martin@meridian.example", "sophie.lefevre@saint-roch.example"]
    people = [e for e in people if User.objects.filter(email=e).exists()] or [
        Membership.objects.get(workspace__slug=DEMO_SLUG, role=Role.OWNER).user.email
    ]
    # Both crawls read the pages at one moment: trust decays with time, and a fact's weight
    # shown to two decimals may round differently a minute later on a loaded machine.
    with time_machine.travel(timezone.now(), tick=False):
        before = {email: _pages(email) for email in people}
        assert sum(len(p) for p in before.values()) > 20

        _empty_installation()
        report = archive_restore(source=io.BytesIO(archive))
        assert report.workspace == DEMO_SLUG and report.ledgers >= 2 and report.entries > 0

        after = {email: _pages(email) for email in people}
        for email in people:
            assert sorted(after[email]) == sorted(before[email])
            # (The two-factor page offers a new random secret at each visit.)
            differ = [
                path
                for path in before[email]
                if before[email][path] != after[email][path] and path != "/accounts/two-factor/"
            ]
            assert differ == [], f"{email}: pages differ after restore: {differ[:5]}"
    assert _verified_ledgers(tmp_path) >= 2
    # The restored installation signs new checkpoints with the restored key (re-encrypted).
    from confiance.ledger.services import checkpoint_sign

    engagement = Engagement.objects.filter(workspace__slug=DEMO_SLUG).first()
    assert engagement is not None
    checkpoint_sign(engagement=engagement)


@pytest.mark.django_db
def test_a_tampered_archive_restores_nothing(tmp_path: Path) -> None:
    build_demo()
    archive = _export()
    # Change one fact of the ledger's rows, as a forger would.
    source = zipfile.ZipFile(io.BytesIO(archive))
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name == "objects/ledger.ledgerentry.json":
                rows = json.loads(data)
                rows[3]["fields"]["data"] = rows[3]["fields"]["data"].replace('"', "'", 2)
                data = json.dumps(rows).encode()
            out.writestr(name, data)
    _empty_installation()
    with pytest.raises(RestoreError, match="ledger of engagement"):
        archive_restore(source=io.BytesIO(tampered.getvalue()))
    assert not User.objects.exists() and not Workspace.objects.exists(), "all or nothing"
    path = tmp_path / "tampered.zip"
    path.write_bytes(tampered.getvalue())
    with pytest.raises(CommandError, match="Nothing was restored"):
        call_command("restore", str(path))


@pytest.mark.django_db
def test_restore_refuses_a_non_empty_installation_and_a_stranger_file(tmp_path: Path) -> None:
    build_demo()
    archive = _export()
    with pytest.raises(RestoreError, match="not empty"):
        archive_restore(source=io.BytesIO(archive))
    _empty_installation()
    with pytest.raises(RestoreError, match="not a Confiance archive"):
        archive_restore(source=io.BytesIO(b"hello"))
