"""The bundle of a large log is prepared by the task worker into a file, then downloaded.

A web worker is killed by gunicorn's timeout while it streams a bundle of hundreds of thousands
of entries; so past LEDGER_BUNDLE_INLINE_MAX entries (a handful here) the page and the API say
the bundle is being prepared, the worker writes it, and the file is served as it is. The file
is what `confiance verify` accepts, with the openings of its reader only; an erasure deletes
every prepared file; older files go once a newer one is ready.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from confiance.consumption.services import EntryInput, budget_revise, time_entries_log
from confiance.core import erasure
from confiance.ledger import prepared, services
from confiance.ledger.models import LedgerBundle
from confiance.ledger.tasks import build_bundle
from tests.conftest import World
from tests.ledger.test_verify_cli import verify

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def log_entries(world: World, count: int, capture: Any, note: str = "x") -> None:
    day = timezone.localdate() - timedelta(days=1)
    with capture(execute=True):
        time_entries_log(
            membership=world.member,
            engagement=world.engagement,
            items=[
                EntryInput(person=world.member.user, date=day, minutes=15, shared_note=note)
                for _ in range(count)
            ],
        )


@pytest.fixture
def large(world: World, settings: Any, django_capture_on_commit_callbacks: Any) -> World:
    """A log of 8 entries (a budget with an amount among them) when 5 count as large."""
    settings.LEDGER_BUNDLE_INLINE_MAX = 5
    world.workspace.show_amounts_to_client = False
    world.workspace.save(update_fields=["show_amounts_to_client"])
    log_entries(world, 3, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        budget_revise(
            membership=world.owner,
            engagement=world.engagement,
            days=Decimal(60),
            amount=Decimal(57000),
            reason="Signed order",
        )
    log_entries(world, 4, django_capture_on_commit_callbacks)
    return world


def api_get(world: World, persona: str) -> Any:
    http = HttpClient()
    http.force_login(world.user(persona))
    return http.get(reverse("api:ledger_bundle", kwargs={"engagement_id": world.engagement.pk}))


def page(world: World, persona: str, name: str = "ledger-bundle") -> Any:
    http = HttpClient()
    http.force_login(world.user(persona))
    kwargs = {"ws": world.workspace.slug, "pk": world.engagement.pk}
    return http.get(reverse(name, kwargs=kwargs))


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def run_queued_builds() -> None:
    """What the task worker does: build every bundle still queued."""
    for pk in LedgerBundle.objects.filter(status="queued").values_list("pk", flat=True):
        build_bundle.call(pk)


def test_a_large_log_says_202_until_the_worker_built_its_bundle_then_serves_the_file(
    large: World, settings: Any, tmp_path: Path
) -> None:
    settings.TASKS = DUMMY_TASKS
    waiting = api_get(large, "client_contact")
    assert waiting.status_code == 202
    assert waiting["Retry-After"] == "5"
    state = waiting.json()
    assert state["status"] == "queued" and state["size"] == 8 and state["done"] == 0
    # Asking again while it waits queues nothing more.
    assert api_get(large, "client_contact").status_code == 202
    assert LedgerBundle.objects.count() == 1

    run_queued_builds()
    served = api_get(large, "client_contact")
    assert served.status_code == 200
    assert served["Content-Disposition"].startswith("attachment;")
    assert served["Content-Type"] == "application/json"
    path = tmp_path / "bundle.json"
    path.write_bytes(body(served))
    result = verify(path, "--key", services.log_verifier_key(large.engagement), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 8 entries match the checkpoints signed by the trusted key" in result.stdout


def test_the_prepared_file_is_exactly_what_the_stream_gives_the_same_reader(
    large: World, settings: Any
) -> None:
    prepared_client = body(api_get(large, "client_contact"))
    prepared_owner = body(api_get(large, "owner"))
    settings.LEDGER_BUNDLE_INLINE_MAX = 1000
    assert body(api_get(large, "client_contact")) == prepared_client
    assert body(api_get(large, "owner")) == prepared_owner
    # Each side its own file: the client's holds no amount, the provider's does.
    assert b"57000" not in prepared_client and b"57000" in prepared_owner
    assert LedgerBundle.objects.filter(status="ready").count() == 2


def test_the_page_shows_the_progress_then_the_download_link(large: World, settings: Any) -> None:
    settings.TASKS = DUMMY_TASKS
    waiting = page(large, "client_contact")
    assert waiting.status_code == 200
    text = waiting.content.decode()
    assert "its bundle is being prepared" in text and "<progress" in text
    assert (
        reverse(
            "ledger-bundle-progress", kwargs={"ws": large.workspace.slug, "pk": large.engagement.pk}
        )
        in text
    )

    run_queued_builds()
    done = page(large, "client_contact", "ledger-bundle-progress")
    assert done.status_code == 200
    assert "The bundle of 8 entries is ready" in done.content.decode()
    assert "hx-get" not in done.content.decode()  # the polling stops
    download = page(large, "client_contact")
    assert download["Content-Disposition"].startswith("attachment;")
    assert json.loads(body(download))["format"]


def test_in_french_the_wait_is_told_in_french(large: World, settings: Any) -> None:
    settings.TASKS = DUMMY_TASKS
    http = HttpClient(headers={"accept-language": "fr"})
    http.force_login(large.user("client_contact"))
    kwargs = {"ws": large.workspace.slug, "pk": large.engagement.pk}
    text = http.get(reverse("ledger-bundle", kwargs=kwargs)).content.decode()
    assert "est en préparation" in text
    api = http.get(reverse("api:ledger_bundle", kwargs={"engagement_id": large.engagement.pk}))
    assert "en préparation" in api.json()["detail"]


def test_nobody_outside_the_engagement_gets_a_prepared_bundle(large: World) -> None:
    api_get(large, "owner")  # built and ready for the provider's readers
    for persona in ("other_client_contact", "expert", "outsider"):
        assert api_get(large, persona).status_code in (401, 404)
        assert page(large, persona).status_code in (302, 404)


def test_a_small_log_is_streamed_at_once_and_nothing_is_stored(large: World, settings: Any) -> None:
    settings.LEDGER_BUNDLE_INLINE_MAX = 8
    settings.TASKS = DUMMY_TASKS
    response = api_get(large, "client_contact")
    assert response.status_code == 200 and response.streaming
    assert len(json.loads(body(response))["entries"]) == 8
    assert not LedgerBundle.objects.exists()


def test_a_newer_bundle_replaces_the_older_file(
    large: World, django_capture_on_commit_callbacks: Any
) -> None:
    api_get(large, "owner")
    first = LedgerBundle.objects.get()
    old_file = prepared.bundle_path(first)
    assert old_file.exists()
    log_entries(large, 2, django_capture_on_commit_callbacks)
    # Asked for just now, the first one is still served though the log grew.
    assert api_get(large, "owner").status_code == 200
    LedgerBundle.objects.filter(pk=first.pk).update(
        ready_at=timezone.now() - timedelta(seconds=prepared.FRESH_SECONDS + 1)
    )
    response = api_get(large, "owner")
    assert len(json.loads(body(response))["entries"]) == 10
    assert list(LedgerBundle.objects.values_list("size", flat=True)) == [10]
    assert not old_file.exists()


def test_an_erasure_deletes_every_prepared_bundle(
    large: World, django_capture_on_commit_callbacks: Any
) -> None:
    api_get(large, "owner")
    api_get(large, "client_contact")
    files = [prepared.bundle_path(b) for b in LedgerBundle.objects.all()]
    assert len(files) == 2 and all(f.exists() for f in files)
    with django_capture_on_commit_callbacks(execute=True):
        erasure.person_erase(by=large.owner, user_id=large.member.user.pk)
    assert not LedgerBundle.objects.exists()
    assert not any(f.exists() for f in files)
    # Asked again, it is built from the openings left: the erased address is not in it.
    again = body(api_get(large, "owner"))
    assert large.member.user.email.encode() not in again
    assert b'"erased"' in again


def test_a_build_whose_worker_died_is_queued_again(large: World, settings: Any) -> None:
    settings.TASKS = DUMMY_TASKS
    api_get(large, "owner")
    LedgerBundle.objects.update(
        status="building",
        done=2,
        updated_at=timezone.now() - timedelta(seconds=prepared.STALLED_SECONDS + 1),
    )
    response = api_get(large, "owner")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    run_queued_builds()
    assert api_get(large, "owner").status_code == 200


def ranged(world: World, persona: str, headers: dict[str, str], name: str = "") -> Any:
    http = HttpClient(headers=headers)
    http.force_login(world.user(persona))
    if name:
        kwargs = {"ws": world.workspace.slug, "pk": world.engagement.pk}
        return http.get(reverse(name, kwargs=kwargs))
    return http.get(reverse("api:ledger_bundle", kwargs={"engagement_id": world.engagement.pk}))


def test_a_stopped_download_resumes_where_it_stopped(
    large: World, django_capture_on_commit_callbacks: Any
) -> None:
    whole_response = api_get(large, "client_contact")
    whole = body(whole_response)
    etag = whole_response["ETag"]
    assert whole_response["Accept-Ranges"] == "bytes"
    assert int(whole_response["Content-Length"]) == len(whole)
    for header, first, last in [
        ("bytes=100-", 100, len(whole) - 1),
        ("bytes=0-99", 0, 99),
        ("bytes=50-10000000", 50, len(whole) - 1),
        ("bytes=-30", len(whole) - 30, len(whole) - 1),
    ]:
        # Through the API and through the page's download link alike.
        for name in ("", "ledger-bundle"):
            part = ranged(large, "client_contact", {"Range": header, "If-Range": etag}, name)
            assert part.status_code == 206, header
            assert body(part) == whole[first : last + 1]
            assert part["Content-Range"] == f"bytes {first}-{last}/{len(whole)}"
            assert int(part["Content-Length"]) == last - first + 1
    # The pieces put together are the file, which verifies as the whole download does.
    pieces = [
        body(ranged(large, "client_contact", {"Range": f"bytes={start}-{start + 99}"}))
        for start in range(0, len(whole), 100)
    ]
    assert b"".join(pieces) == whole

    past = ranged(large, "client_contact", {"Range": f"bytes={len(whole)}-"})
    assert past.status_code == 416 and past["Content-Range"] == f"bytes */{len(whole)}"
    # A range this server does not serve (several, malformed) gets the whole file.
    for header in ("bytes=0-1,5-9", "lines=1-2", "bytes=9-3"):
        assert body(ranged(large, "client_contact", {"Range": header})) == whole

    # A newer bundle replaces this one: a resumption that names the old one gets the whole new
    # file, never the new file's tail glued to the old file's head.
    log_entries(large, 2, django_capture_on_commit_callbacks)
    LedgerBundle.objects.update(
        ready_at=timezone.now() - timedelta(seconds=prepared.FRESH_SECONDS + 1)
    )
    renewed = ranged(large, "client_contact", {"Range": "bytes=100-", "If-Range": etag})
    assert renewed.status_code == 200 and renewed["ETag"] != etag
    assert len(json.loads(body(renewed))["entries"]) == 10


def test_another_reader_cannot_resume_into_someone_elses_file(large: World) -> None:
    owner_file = api_get(large, "owner")
    etag = owner_file["ETag"]
    mine = ranged(large, "client_contact", {"Range": "bytes=0-", "If-Range": etag})
    # The client's own file (without amounts), whole, under its own name.
    assert mine.status_code == 200 and mine["ETag"] != etag
    assert b"57000" not in body(mine)
