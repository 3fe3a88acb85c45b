"""The API's per-token limit holds across processes while most requests touch no shared store."""

from __future__ import annotations

from confiance.api.auth import LEASE_FRACTION, TokenLeases

PERIOD = 60
NOW = 1_000_000 * PERIOD + 5.0  # five seconds into a window


def test_two_workers_together_serve_exactly_the_limit_in_a_window() -> None:
    first, second = TokenLeases(), TokenLeases()  # two gunicorn workers, one shared cache
    served = 0
    for attempt in range(300):
        worker = first if attempt % 2 else second
        if worker.take(7, 100, PERIOD, NOW) is None:
            served += 1
    assert served == 100


def test_a_refused_request_is_told_when_the_window_ends() -> None:
    worker = TokenLeases()
    assert [worker.take(7, 3, PERIOD, NOW) for _ in range(3)] == [None, None, None]
    assert worker.take(7, 3, PERIOD, NOW) == PERIOD - 5.0
    # The next window starts afresh; another token was never limited by this one.
    assert worker.take(7, 3, PERIOD, NOW + PERIOD) is None
    assert TokenLeases().take(8, 3, PERIOD, NOW) is None


def test_most_requests_do_not_touch_the_shared_cache() -> None:
    from django.core.cache import cache

    worker = TokenLeases()
    writes = 0
    real_incr = cache.incr

    def counting_incr(key: str, delta: int = 1) -> int:
        nonlocal writes
        writes += 1
        return real_incr(key, delta)

    cache.incr = counting_incr  # type: ignore[method-assign]
    try:
        for _ in range(600):
            assert worker.take(7, 600, PERIOD, NOW) is None
    finally:
        del cache.incr
    assert writes == LEASE_FRACTION  # one shared write per lease of 30 requests, not 600
