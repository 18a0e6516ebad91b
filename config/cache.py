"""Django's Redis cache with one client per process, which degrades to no cache when
Redis is down.

Django keeps cache objects per request context; under ASGI every request gets new ones,
and ``RedisCache`` then builds a new client and pool each time, which means a new Redis
connection for every request (BENCHMARKS.md, api_live). redis-py's pool is thread-safe,
so the client is shared by every cache object with the same servers and options.

The cache only makes things faster, so an outage of Redis must not fail the requests
that use it (issue 7, "Faults"): ``ResilientRedisCache`` answers a miss for reads and
drops writes while Redis cannot be reached, warns once per outage, and keeps a short
circuit breaker so that requests do not each wait for a connection timeout. Code that
must know whether Redis answers (the readiness probe, the live list) asks
``strict_cache()``, which raises as Django's own backend does.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What "Redis cannot be reached" looks like from redis-py; any other error is a bug and
# is raised as usual.
UNAVAILABLE_ERRORS = (RedisConnectionError, RedisTimeoutError)

_clients: dict[tuple, object] = {}
_breakers: dict[tuple, CircuitBreaker] = {}
_clients_lock = threading.Lock()


class SharedPoolRedisCache(RedisCache):
    """Django's ``RedisCache`` whose client (and pool) is shared process-wide."""

    @cached_property
    def _client_key(self) -> tuple:
        return (tuple(self._servers), repr(sorted(self._options.items())))

    @cached_property
    def _cache(self):
        with _clients_lock:
            client = _clients.get(self._client_key)
            if client is None:
                client = _clients[self._client_key] = self._class(self._servers, **self._options)
        return client


class CircuitBreaker:
    """Remembers, for one Redis, that it was unreachable, so calls skip it for a while.

    Open for ``open_seconds`` after a failure; the first call after that tries Redis again
    and either closes it (logging the recovery) or opens it again. The outage is logged
    once, when it starts, not once per request.
    """

    def __init__(self, name: str, open_seconds: float) -> None:
        self.name = name
        self.open_seconds = open_seconds
        self._open_until = 0.0
        self._down_since: float | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    @property
    def down(self) -> bool:
        """Whether the last call to this Redis failed."""
        return self._down_since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self._open_until = time.monotonic() + self.open_seconds
            first = self._down_since is None
            if first:
                self._down_since = time.monotonic()
        if first:
            logger.warning(
                "Cache %s unavailable (%s): serving without the cache until it answers again",
                self.name,
                type(exc).__name__,
            )

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            since, self._down_since, self._open_until = self._down_since, None, 0.0
        if since is not None:
            logger.warning("Cache %s is back after %.0f s", self.name, time.monotonic() - since)


def _answer(value: Any):
    """A fallback that answers ``value`` whatever it is called with."""

    def fallback(*_args: Any, **_kwargs: Any) -> Any:
        return value

    return fallback


class ResilientRedisCache(SharedPoolRedisCache):
    """A Redis cache that behaves as an empty, write-dropping cache while Redis is down.

    Reads answer their default, ``add`` and ``touch`` answer False, ``incr`` raises
    ``ValueError`` as for a missing key, writes and deletes do nothing. ``strict`` is the
    same cache without that tolerance.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._server_arg = server
        self._params = params

    @cached_property
    def breaker(self) -> CircuitBreaker:
        with _clients_lock:
            breaker = _breakers.get(self._client_key)
            if breaker is None:
                seconds = getattr(settings, "CACHE_BREAKER_SECONDS", 2.0)
                breaker = _breakers[self._client_key] = CircuitBreaker(
                    ",".join(map(_redacted, self._servers)), seconds
                )
        return breaker

    @cached_property
    def strict(self) -> StrictRedisCache:
        """The same cache and client, raising when Redis cannot be reached."""
        return StrictRedisCache(self._server_arg, self._params, breaker=self.breaker)

    def _guard(self, operation: str, fallback, *args: Any, **kwargs: Any) -> Any:
        breaker = self.breaker
        if breaker.is_open:
            return fallback(*args, **kwargs)
        try:
            result = getattr(super(), operation)(*args, **kwargs)
        except UNAVAILABLE_ERRORS as exc:
            breaker.failed(exc)
            return fallback(*args, **kwargs)
        breaker.succeeded()
        return result

    def get(self, key, default=None, version=None):
        return self._guard("get", _answer(default), key, default, version)

    def get_many(self, keys, version=None):
        return self._guard("get_many", _answer({}), keys, version)

    def has_key(self, key, version=None):
        return self._guard("has_key", _answer(False), key, version)

    def add(self, *args, **kwargs):
        return self._guard("add", _answer(False), *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._guard("set", _answer(None), *args, **kwargs)

    def set_many(self, data, *args, **kwargs):
        return self._guard("set_many", _answer(list(data)), data, *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._guard("touch", _answer(False), *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._guard("delete", _answer(False), *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._guard("delete_many", _answer(None), *args, **kwargs)

    def clear(self):
        return self._guard("clear", _answer(False))

    def incr(self, key, delta=1, version=None):
        def unavailable(*_args: Any, **_kwargs: Any) -> int:
            raise ValueError(f"Key '{key}' not found: the cache is unavailable.")

        return self._guard("incr", unavailable, key, delta, version)


class StrictRedisCache(SharedPoolRedisCache):
    """The shared-client cache that raises on an outage, and tells the breaker either way,
    so a strict caller's success ends an outage for the tolerant callers too."""

    def __init__(self, server: str, params: dict[str, Any], breaker: CircuitBreaker) -> None:
        super().__init__(server, params)
        self._breaker = breaker

    def run_script(self, script: str, keys: list[str], args: list[Any]) -> Any:
        """Run a Lua ``script`` on Redis, atomically, with ``keys`` made into this cache's
        keys: for what Django's API cannot do in one step (an increment that also sets the
        expiry of a key it creates). Reports to the breaker like every other operation."""
        cache_keys = [self.make_and_validate_key(key) for key in keys]
        try:
            result = self._cache.get_client(cache_keys[0], write=True).eval(
                script, len(cache_keys), *cache_keys, *args
            )
        except UNAVAILABLE_ERRORS as exc:
            self._breaker.failed(exc)
            raise
        self._breaker.succeeded()
        return result


def _reporting(operation: str):
    plain = getattr(SharedPoolRedisCache, operation)

    def method(self: StrictRedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            result = plain(self, *args, **kwargs)
        except UNAVAILABLE_ERRORS as exc:
            self._breaker.failed(exc)
            raise
        self._breaker.succeeded()
        return result

    method.__name__ = operation
    return method


_OPERATIONS = ("get", "get_many", "has_key", "add", "set", "set_many", "touch", "delete")
for _operation in (*_OPERATIONS, "delete_many", "clear", "incr"):
    setattr(StrictRedisCache, _operation, _reporting(_operation))


def _redacted(url: str) -> str:
    """A Redis URL without its password, for the log."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


def cache_available(alias: str = "default") -> bool:
    """False while the cache's circuit breaker is open, i.e. its server just failed.

    Lets a caller with a fallback skip a server that is known to be down instead of
    waiting on it; always True for backends without a breaker.
    """
    breaker = getattr(caches[alias], "breaker", None)
    return breaker is None or not breaker.is_open


def strict_cache(alias: str = "default") -> BaseCache:
    """The cache ``alias`` as one that raises when its server cannot be reached.

    For the readiness probe and for callers with a fallback better than "no cache" (the
    live list reads the database instead). Other backends are returned as they are.
    """
    backend = caches[alias]
    return getattr(backend, "strict", backend)
