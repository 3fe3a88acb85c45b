"""Throttling that stops attackers, not users: progressive delays per account and per address,
atomic counters, rate limits on password-reset e-mails and invitations."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient

from confiance.core import throttle
from confiance.core.auth import account_delay
from confiance.core.services import invitation_create
from tests.conftest import PASSWORD, World


class Clock:
    def __init__(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        self.now = 1_000_000.0
        monkeypatch.setattr(throttle, "clock", lambda: self.now)


def log_in(email: str, password: str, address: str = "10.0.0.1") -> tuple[int, bytes]:
    response = HttpClient(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": email, "password": password}
    )
    return response.status_code, response.content


def test_the_right_password_works_once_the_delay_has_passed(
    world: World, settings, monkeypatch
) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    clock = Clock(monkeypatch)
    email = world.member.user.email
    for _ in range(3):  # free failures: no wait
        assert log_in(email, "wrong")[0] == 200
    assert log_in(email, PASSWORD)[0] == 302  # the owner of the account is not locked out
    for _ in range(4):
        log_in(email, "wrong")
        clock.now += 60
    # Each failure past the 3 free ones doubles the wait: after the 5th, 2^2 = 4 s.
    assert log_in(email, "wrong")[0] == 200
    status, content = log_in(email, PASSWORD)
    assert status == 200 and b"Wait 4 seconds" in content
    clock.now += 3
    assert b"Wait 1 second " in log_in(email, PASSWORD)[1]
    clock.now += 1
    assert log_in(email, PASSWORD)[0] == 302
    # Success forgets the account's failures.
    assert account_delay().wait_seconds(email) == 0


def test_failures_for_one_account_do_not_slow_another_behind_the_same_address(
    world: World, settings, monkeypatch
) -> None:
    settings.LOGIN_FAILURE_LIMIT = 2
    Clock(monkeypatch)
    for _ in range(5):
        log_in(world.member.user.email, "wrong")
    assert b"Too many failed attempts" in log_in(world.member.user.email, PASSWORD)[1]
    assert log_in(world.owner.user.email, PASSWORD)[0] == 302


def test_many_failures_from_one_address_slow_that_address_down(
    world: World, settings, monkeypatch
) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    Clock(monkeypatch)
    for n in range(5):  # password spraying: one try per account
        log_in(f"nobody{n}@provider.test", "wrong", address="10.9.9.9")
    assert b"Too many failed attempts" in log_in(world.owner.user.email, PASSWORD, "10.9.9.9")[1]
    assert log_in(world.owner.user.email, PASSWORD, "10.1.1.1")[0] == 302


def test_parallel_failures_are_each_counted() -> None:
    delay = throttle.FailureDelay("test-parallel", free_failures=3)

    def fail() -> None:
        for _ in range(10):
            delay.failed("someone")

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert delay.failed("someone") == 81


def test_the_delay_doubles_up_to_its_cap() -> None:
    delay = throttle.FailureDelay("x", free_failures=5, max_delay_seconds=900)
    assert [delay.delay_after(n) for n in (0, 5, 6, 7, 8, 14, 15, 100)] == [
        0,
        0,
        2,
        4,
        8,
        512,
        900,
        900,
    ]


def test_password_reset_sends_at_most_three_emails_an_hour_per_address(
    world: World, monkeypatch
) -> None:
    clock = Clock(monkeypatch)
    for _ in range(5):
        response = HttpClient().post(
            "/accounts/password-reset/", {"email": world.member.user.email}
        )
        assert response.status_code == 302  # the same answer, whatever happens
    assert len(mail.outbox) == 3
    clock.now += 3600
    HttpClient().post("/accounts/password-reset/", {"email": world.member.user.email})
    assert len(mail.outbox) == 4


def test_a_workspace_sends_a_bounded_number_of_invitations_an_hour(world: World, settings) -> None:
    settings.INVITATIONS_PER_HOUR = 2
    for n in range(2):
        invitation_create(membership=world.owner, email=f"p{n}@x.test", role="member")
    with pytest.raises(ValidationError) as raised:
        invitation_create(membership=world.owner, email="p3@x.test", role="member")
    assert "email" in raised.value.message_dict


def test_two_factor_turned_on_then_asked_at_log_in(world: World, login) -> None:
    from confiance.core import totp

    http = login("member")
    page = http.get("/accounts/two-factor/")
    secret = page.context["secret"]
    assert secret and secret in page.content.decode()
    assert http.post("/accounts/two-factor/", {"code": "000000"}).status_code == 400
    code = totp.totp(totp._key(secret), throttle.time.time())
    response = http.post("/accounts/two-factor/", {"code": code})
    assert response.status_code == 302
    world.member.user.refresh_from_db()
    assert world.member.user.totp_secret == secret

    email = world.member.user.email
    assert log_in(email, PASSWORD)[0] == 200  # the password alone no longer opens the account
    response = HttpClient().post(
        "/accounts/login/", {"username": email, "password": PASSWORD, "code": "123456"}
    )
    assert b"6-digit code" in response.content
    response = HttpClient().post(
        "/accounts/login/",
        {
            "username": email,
            "password": PASSWORD,
            "code": totp.totp(totp._key(secret), throttle.time.time()),
        },
    )
    assert response.status_code == 302
