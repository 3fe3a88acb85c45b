"""Throttles that stop attackers, not users: counters in the shared cache, incremented atomically.

- `FailureDelay`: after a few free failures, each further failure doubles the wait before the next
  attempt is heard (2 s, 4 s, 8 s, ... up to a cap). The right password after the wait still works:
  nobody can lock someone else out for long by typing wrong passwords in their name.
- `RateLimit`: at most N actions per key in a fixed window (password reset e-mails, invitations).

Counting uses `cache.incr` (atomic on Redis and in-process memory): parallel attempts each get
their own number, so they cannot slip past a limit together.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache


def clock() -> float:
    """Now, in seconds (a function, so tests can move time on)."""
    return time.time()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _incr(key: str, ttl: int) -> int:
    cache.add(key, 0, ttl)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 0, ttl)
        return int(cache.incr(key))


@dataclass(frozen=True)
class FailureDelay:
    """Progressive delay after failures for one kind of key (an account, an address)."""

    name: str
    free_failures: int
    max_delay_seconds: int = 900
    # Failures are forgotten this long after the last one.
    memory_seconds: int = 24 * 3600

    def _keys(self, value: str) -> tuple[str, str]:
        base = f"throttle:{self.name}:{_digest(value)}"
        return base + ":n", base + ":at"

    def delay_after(self, failures: int) -> int:
        """Seconds to wait after `failures` failures (0 while they are free)."""
        beyond = failures - self.free_failures
        if beyond <= 0:
            return 0
        return min(self.max_delay_seconds, 2 ** min(beyond, 30))

    def wait_seconds(self, value: str, *, now: float | None = None) -> int:
        """How long before `value` may try again (0: now)."""
        count_key, at_key = self._keys(value)
        failures = int(cache.get(count_key) or 0)
        delay = self.delay_after(failures)
        if not delay:
            return 0
        last = float(cache.get(at_key) or 0)
        return max(0, math.ceil(last + delay - (now if now is not None else clock())))

    def failed(self, value: str, *, now: float | None = None) -> int:
        """Count a failure (atomically); return the number of failures so far."""
        count_key, at_key = self._keys(value)
        failures = _incr(count_key, self.memory_seconds)
        cache.set(at_key, now if now is not None else clock(), self.memory_seconds)
        return failures

    def reset(self, value: str) -> None:
        cache.delete_many(list(self._keys(value)))


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` actions per key within `window_seconds` (a fixed window)."""

    name: str
    limit: int
    window_seconds: int

    def hit(self, value: str, *, now: float | None = None) -> bool:
        """Count one action; False when it is over the limit (and should not happen)."""
        moment = now if now is not None else clock()
        window = int(moment // self.window_seconds)
        key = f"rate:{self.name}:{window}:{_digest(value)}"
        return _incr(key, self.window_seconds) <= self.limit
