"""Webhooks: signed per the Standard Webhooks specification, retried by the task worker until
the receiver recovers, logged with replay, disabled after repeated failures with a notice, and
never sent to private addresses unless allowed."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entry_log
from confiance.core.models import Notice
from confiance.problems.services import problem_raise
from confiance.webhooks import outbound, services
from confiance.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.conftest import World
from tests.webhooks.receiver import receiver, verify


@pytest.fixture
def local(settings):  # type: ignore[no-untyped-def]
    """The test's receiver listens on the loopback interface: allowed here by the setting."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_RETRY_DELAYS = [0, 0, 0]
    return settings


def _endpoint(world: World, url: str, events: list[str]) -> WebhookEndpoint:
    return services.endpoint_create(membership=world.owner, url=url, event_types=events)


def _log(world: World) -> None:
    time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(person=world.member.user, date=date(2026, 10, 1), minutes=90),
    )


def test_receiver_verifies_the_signature_of_time_logged(
    world: World, local, django_capture_on_commit_callbacks
) -> None:
    with receiver() as hook:
        endpoint = _endpoint(world, hook.url, ["time_entry.logged"])
        secret = services.endpoint_secret(endpoint)
        with django_capture_on_commit_callbacks(execute=True):
            _log(world)
    assert len(hook.received) == 1
    message = hook.received[0]
    assert verify(secret, message.headers, message.body)
    assert not verify(secret, message.headers, message.body + b" "), "a changed body fails"
    assert not verify(
        secret, message.headers, message.body, now=timezone.now().timestamp() + 3600
    ), "an old message is refused"
    payload = message.payload
    assert payload["type"] == "time_entry.logged"
    assert payload["data"]["engagement_id"] == world.engagement.pk
    assert payload["data"]["workspace"] == world.workspace.slug
    assert payload["data"]["count"] == 1
    assert message.headers["webhook-id"].startswith("msg_")
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_only_subscribed_events_of_the_own_workspace_are_sent(
    world: World, local, django_capture_on_commit_callbacks
) -> None:
    with receiver() as hook:
        _endpoint(world, hook.url, ["problem.raised"])
        with django_capture_on_commit_callbacks(execute=True):
            _log(world)  # not subscribed
            for membership, engagement in (
                (world.client_contact, world.engagement),
                (world.outsider, world.foreign_engagement),
            ):
                problem_raise(
                    membership=membership, engagement=engagement, title="Export", severity="high"
                )
    assert [m.payload["type"] for m in hook.received] == ["problem.raised"]
    assert hook.received[0].payload["data"]["object"]["type"] == "problems.problem"


def test_fan_out_queues_each_endpoint_in_constant_queries(
    world: World, local, django_assert_num_queries
) -> None:
    for n in range(5):
        _endpoint(world, f"https://hooks{n}.example/x", ["trust.alert"])
    with django_assert_num_queries(2):  # the endpoints, then one insert for every delivery
        count = services.deliveries_create(
            workspace_id=world.workspace.pk, event_type="trust.alert", at=timezone.now(), data={}
        )
    assert count == 5


@pytest.mark.django_db(transaction=True)
def test_worker_retries_until_the_receiver_recovers(settings, world: World) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_RETRY_DELAYS = [0, 0, 0, 0]
    with receiver(answers=[500, 503]) as hook:
        endpoint = _endpoint(world, hook.url, ["time_entry.logged"])
        secret = services.endpoint_secret(endpoint)
        _log(world)
        assert hook.received == [], "nothing is sent before the worker runs"
        call_command("db_worker", batch=True, queue_name="*", reload=False, startup_delay=False)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 3
    assert [t.status_code for t in delivery.tries.all()] == [500, 503, 200]
    # The same message id on every attempt (the receiver's idempotency key), each signed.
    assert {m.headers["webhook-id"] for m in hook.received} == {delivery.message_id}
    assert all(verify(secret, m.headers, m.body) for m in hook.received)
    assert WebhookEndpoint.objects.get().failure_streak == 0


@pytest.mark.django_db(transaction=True)
def test_a_retry_waits_its_backoff_in_the_queue(settings, world: World) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_RETRY_DELAYS = [300, 1800]
    from django_tasks_db.models import DBTaskResult

    with receiver(answers=[500]) as hook:
        _endpoint(world, hook.url, ["time_entry.logged"])
        _log(world)
        call_command("db_worker", batch=True, queue_name="*", reload=False, startup_delay=False)
    assert len(hook.received) == 1, "the retry is not due yet"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    waiting = DBTaskResult.objects.filter(status="READY").get()
    wait = (waiting.run_after - timezone.now()).total_seconds()
    assert 250 < wait <= 330
    assert delivery.next_attempt_at is not None


def test_repeated_failures_disable_the_endpoint_and_tell_the_owner(
    world: World, local, django_capture_on_commit_callbacks
) -> None:
    local.WEBHOOK_RETRY_DELAYS = [0]
    local.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    with receiver(answers=[500] * 10) as hook:
        endpoint = _endpoint(world, hook.url, ["time_entry.logged"])
        with django_capture_on_commit_callbacks(execute=True):
            _log(world)
        endpoint.refresh_from_db()
        assert endpoint.is_active and endpoint.failure_streak == 1
        with django_capture_on_commit_callbacks(execute=True):
            _log(world)
        endpoint.refresh_from_db()
        assert not endpoint.is_active
        assert endpoint.disabled_reason == services.REASON_FAILURES
        sent = len(hook.received)
        assert sent == 4  # two deliveries, one retry each
        with django_capture_on_commit_callbacks(execute=True):
            _log(world)
        assert len(hook.received) == sent, "a disabled endpoint receives nothing"
    notice = Notice.objects.get(user=world.owner.user, kind="webhook.disabled")
    assert hook.url in notice.text() and "2 deliveries in a row failed" in notice.text()
    assert not Notice.objects.filter(kind="webhook.disabled").exclude(user=world.owner.user)


def test_gone_disables_at_once(world: World, local, django_capture_on_commit_callbacks) -> None:
    with receiver(answers=[410]) as hook:
        endpoint = _endpoint(world, hook.url, ["time_entry.logged"])
        with django_capture_on_commit_callbacks(execute=True):
            _log(world)
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == services.REASON_GONE
    assert len(hook.received) == 1


def test_ping_and_replay_send_the_same_message_again(
    world: World, local, django_capture_on_commit_callbacks
) -> None:
    with receiver() as hook:
        endpoint = _endpoint(world, hook.url, ["time_entry.logged"])
        with django_capture_on_commit_callbacks(execute=True):
            services.endpoint_ping(membership=world.owner, endpoint_id=endpoint.pk)
        assert hook.received[0].payload["type"] == "webhook.ping"
        first = WebhookDelivery.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            replay = services.delivery_replay(membership=world.owner, delivery_id=first.pk)
    assert [m.headers["webhook-id"] for m in hook.received] == [first.message_id] * 2
    assert hook.received[0].body == hook.received[1].body
    replay.refresh_from_db()
    assert replay.replay_of_id == first.pk and replay.status == DeliveryStatus.SUCCEEDED


def test_private_addresses_are_refused_unless_allowed(
    world: World, settings, django_capture_on_commit_callbacks
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_RETRY_DELAYS = []
    for url in (
        "http://127.0.0.1/x",
        "http://localhost:8000/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest",
        "http://10.0.0.8/x",
    ):
        with pytest.raises(Exception, match="private or local"):
            _endpoint(world, url, ["time_entry.logged"])
    with receiver() as hook:
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
        endpoint = _endpoint(world, hook.url, ["time_entry.logged"])
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
        with django_capture_on_commit_callbacks(execute=True):
            services.endpoint_ping(membership=world.owner, endpoint_id=endpoint.pk)
        # A name resolving to the loopback is checked after resolution, at send time.
        answer = outbound.post(hook.url.replace("127.0.0.1", "localhost"), b"{}", {})
    assert hook.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("blocked")
    assert answer.status is None and answer.error.startswith("blocked")


def test_redirects_are_not_followed(world: World, local) -> None:
    with receiver(answers=[302]) as hook, receiver() as elsewhere:
        hook.headers_out["Location"] = elsewhere.url
        answer = outbound.post(hook.url, b"{}", {})
    assert answer.status == 302
    assert elsewhere.received == []


def test_owner_pages_show_the_log_and_others_get_404(
    world: World, local, django_capture_on_commit_callbacks
) -> None:
    http = HttpClient()
    http.force_login(world.owner.user)
    ws = world.workspace.slug
    with receiver(answers=[500]) as hook:
        response = http.post(
            reverse("webhooks", kwargs={"ws": ws}),
            {"url": hook.url, "event_types": ["time_entry.logged", "budget.alert"]},
        )
        endpoint = WebhookEndpoint.objects.get()
        assert response.status_code == 302
        local.WEBHOOK_RETRY_DELAYS = []
        with django_capture_on_commit_callbacks(execute=True):
            http.post(reverse("webhook-ping", kwargs={"ws": ws, "pk": endpoint.pk}))
    page = http.get(reverse("webhook-detail", kwargs={"ws": ws, "pk": endpoint.pk}))
    text = page.content.decode()
    assert page.status_code == 200
    assert services.endpoint_secret(endpoint) in text
    assert "webhook.ping" in text and "HTTP 500" in text
    bad = http.post(reverse("webhooks", kwargs={"ws": ws}), {"url": "ftp://x", "event_types": []})
    assert bad.status_code == 400
    member = HttpClient()
    member.force_login(world.member.user)
    assert (
        member.get(reverse("webhook-detail", kwargs={"ws": ws, "pk": endpoint.pk})).status_code
        == 404
    )
