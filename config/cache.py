"""Django's Redis cache with one client, and so one connection pool, per process.

Django keeps cache objects per request context; under ASGI every request gets new ones,
and ``RedisCache`` then builds a new client and pool each time, which means a new Redis
connection for every request (BENCHMARKS.md, api_live). redis-py's pool is thread-safe,
so the client is shared by every cache object with the same servers and options.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


class SharedPoolRedisCache(RedisCache):
    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
        return client
