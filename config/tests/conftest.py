"""Fixtures for tests that need a Redis of their own, which they may kill and restart."""

from __future__ import annotations

import pytest

from config import cache as cache_module
from config.testing import RedisServer


@pytest.fixture
def redis_server():
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_cache(settings, redis_server):
    """The default cache on the throwaway Redis, with short timeouts, and the cache
    module's clients and circuit breakers forgotten before and after."""
    settings.CACHE_BREAKER_SECONDS = 0.3
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": redis_server.url(),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    cache_module._clients.clear()
    cache_module._breakers.clear()
    yield settings
    cache_module._clients.clear()
    cache_module._breakers.clear()
