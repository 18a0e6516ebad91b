"""Counting events in a time window atomically, for throttles.

A throttle that reads a count and then increments it lets every request that arrives
between the two through (issue 7, item 6), so a count is only ever decided on the value
that the increment itself returns. Counts live in the cache, which is Redis in production,
so every web process sees the same ones.

The cache tolerates an outage of Redis by answering misses (``config.cache``); a throttle
built on that would silently stop throttling. Counters therefore use ``strict_cache()``,
which raises, and while Redis cannot be reached they count in this process instead, and
say so once in the log: each process then allows up to the limit, which is weaker than a
shared count but never "no limit" and never a 500.

A window opens with the first event of a key and lasts ``window`` seconds from then.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from dataclasses import dataclass

from django.core.cache import BaseCache

from config.cache import UNAVAILABLE_ERRORS, cache_available, strict_cache

logger = logging.getLogger(__name__)

_ATTEMPTS = 3  # a key that expires between add and incr is simply opened again


@dataclass(frozen=True)
class WindowCount:
    """The count of a key after an event, and how long its window still runs."""

    count: int
    retry_after: int


class _MemoryCounters:
    """Per-process counters, used while the shared cache cannot be reached."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[int, float]] = {}  # count, expiry

    def hit(self, key: str, window: float, delta: int) -> WindowCount:
        """Add ``delta`` to ``key`` (opening a window if it has none) and return its count."""
        now = time.monotonic()
        with self._lock:
            count, expires = self._entries.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + window
                if len(self._entries) >= self.MAX_KEYS:
                    self._drop_expired(now)
            count += delta
            self._entries[key] = (count, expires)
        return WindowCount(count, _seconds_left(expires - now))

    def refund(self, key: str, delta: int) -> None:
        """Take ``delta`` back from ``key`` if its window is still open."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[1] > now:
                self._entries[key] = (entry[0] - delta, entry[1])

    def forget(self, key: str) -> None:
        """Remove ``key``, closing its window."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Remove every key (tests start from nothing)."""
        with self._lock:
            self._entries.clear()

    def _drop_expired(self, now: float) -> None:
        for key in [k for k, (_count, expires) in self._entries.items() if expires <= now]:
            del self._entries[key]


_memory = _MemoryCounters()
_fallback_lock = threading.Lock()
_fallback_since: float | None = None


def _seconds_left(seconds: float) -> int:
    return max(1, math.ceil(seconds))


# INCRBY and, for a key it has just created, EXPIRE, in one step: a key that expired
# between a separate "exists" and "incr" would otherwise be created without an expiry and
# count forever. Answers the count and the seconds left in the window.
_HIT_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {count, ttl}
"""
# DECRBY only while the window is open, so a refund never opens one below zero.
_REFUND_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('DECRBY', KEYS[1], ARGV[1])
end
return 0
"""


def _shared_hit(cache: BaseCache, key: str, window: float, delta: int) -> WindowCount:
    """``delta`` added to ``key`` in the shared cache, deciding on what the increment
    returns."""
    timeout = max(1, math.ceil(window))
    if hasattr(cache, "run_script"):
        count, ttl = cache.run_script(_HIT_SCRIPT, [key], [delta, timeout])
        return WindowCount(int(count), _seconds_left(ttl))
    # Another backend (the embedded run's in-process cache, whose incr is atomic and keeps
    # the expiry): open the window with add, then count with incr.
    start_key = f"{key}:start"
    for _ in range(_ATTEMPTS):
        now = time.time()
        cache.add(start_key, now, timeout=timeout)
        cache.add(key, 0, timeout=timeout)
        try:
            count = cache.incr(key, delta)
        except ValueError:  # the window ended between add and incr: open the next one
            continue
        started = cache.get(start_key, now)
        return WindowCount(count, _seconds_left(started + window - now))
    raise RuntimeError(f"Counter {key} expired {_ATTEMPTS} times in a row")


def _shared_refund(cache: BaseCache, key: str, delta: int) -> None:
    if hasattr(cache, "run_script"):
        cache.run_script(_REFUND_SCRIPT, [key], [delta])
        return
    with contextlib.suppress(ValueError):  # the window has ended: nothing to refund
        cache.decr(key, delta)


def _using_memory(exc: BaseException) -> None:
    global _fallback_since
    with _fallback_lock:
        first = _fallback_since is None
        if first:
            _fallback_since = time.monotonic()
    if first:
        logger.warning(
            "Throttle counters cannot reach the cache (%s): counting in this process "
            "until it answers again, so each process allows the full limit",
            type(exc).__name__,
        )


def _shared_again() -> None:
    global _fallback_since
    if _fallback_since is None:
        return
    with _fallback_lock:
        since, _fallback_since = _fallback_since, None
    if since is not None:
        logger.warning(
            "Throttle counters reach the cache again after %.0f s", time.monotonic() - since
        )


class _Skipped(Exception):
    """The shared cache's circuit breaker is open: it just failed."""


def hit(key: str, window: float, delta: int = 1) -> WindowCount:
    """Add ``delta`` (1 per event) to ``key`` and return its new count in the window.

    The caller decides on the returned count, never on a read made before: with a limit
    of N, at most N callers see a count of N or less, however many arrive at once.
    """
    try:
        if not cache_available():
            raise _Skipped("the cache failed moments ago")
        result = _shared_hit(strict_cache(), key, window, delta)
    except (*UNAVAILABLE_ERRORS, _Skipped) as exc:
        _using_memory(exc)
        return _memory.hit(key, window, delta)
    _shared_again()
    return result


def refund(key: str, delta: int = 1) -> None:
    """Take back ``delta`` counted by ``hit`` for an event that turned out not to count
    (a sign-in that succeeded); a window that has ended is left alone."""
    _memory.refund(key, delta)
    if not cache_available():
        return
    try:
        _shared_refund(strict_cache(), key, delta)
    except UNAVAILABLE_ERRORS as exc:
        _using_memory(exc)


def forget(key: str) -> None:
    """Close ``key``'s window (a successful sign-in forgives its account's failures)."""
    _memory.forget(key)
    if not cache_available():
        return
    try:
        strict_cache().delete_many([key, f"{key}:start"])
    except UNAVAILABLE_ERRORS as exc:
        _using_memory(exc)


def reset_local() -> None:
    """Forget the per-process counters and the outage state (for tests)."""
    global _fallback_since
    _memory.clear()
    with _fallback_lock:
        _fallback_since = None
