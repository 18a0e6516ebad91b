"""Throttle counters: atomic against a real Redis, and counting per process while Redis is
down instead of not at all (issue 7, item 6 and "Faults")."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from rest_framework.test import APIClient

from config import cache as cache_module
from config import counters
from config.cache import strict_cache
from config.testing import wait_until
from conftest import PERSONA_PASSWORD


def ttl(key: str) -> int:
    cache = strict_cache()
    return cache._cache.get_client(write=True).ttl(cache.make_and_validate_key(key))


def test_simultaneous_hits_each_get_their_own_count(redis_cache):
    with ThreadPoolExecutor(16) as pool:
        counts = list(pool.map(lambda _: counters.hit("race", 60).count, range(64)))
    assert sorted(counts) == list(range(1, 65))
    assert 0 < ttl("race") <= 60


def test_a_window_ends_and_a_new_one_opens_with_an_expiry(redis_cache):
    first = counters.hit("short", 1)
    assert (first.count, first.retry_after) == (1, 1)
    wait_until(lambda: counters.hit("short", 1).count == 1, 5, message="a new window")
    assert ttl("short") > 0


def test_a_refund_never_opens_a_window(redis_cache):
    counters.refund("nothing-yet")
    assert counters.hit("nothing-yet", 60).count == 1
    counters.refund("nothing-yet")
    assert counters.hit("nothing-yet", 60).count == 1


def test_the_in_process_cache_counts_the_same_way(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [counters.hit("local", 60).count for _ in range(3)] == [1, 2, 3]
    counters.refund("local")
    assert counters.hit("local", 60).count == 3
    counters.forget("local")
    assert counters.hit("local", 60).retry_after == 60


def login(email, password, ip="192.0.2.1"):
    return APIClient().post(
        "/api/v1/auth/login", {"email": email, "password": password}, REMOTE_ADDR=ip
    )


@pytest.mark.django_db
def test_sign_in_keeps_its_limit_while_redis_is_down_and_recovers(
    redis_cache, redis_server, viewer, caplog
):
    """With Redis killed, the login throttle answered 500; with a cache that swallows the
    outage it would not throttle at all. It counts in the process instead, says so once,
    and counts in Redis again when Redis is back."""
    assert login(viewer.email, "wrong").status_code == 401
    redis_server.stop()
    caplog.set_level(logging.WARNING, logger="config.counters")

    for _ in range(5):
        assert login(viewer.email, "wrong").status_code == 401
    response = login(viewer.email, PERSONA_PASSWORD)
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    assert login("other@example.com", "wrong").status_code == 401
    warnings = [r.getMessage() for r in caplog.records if r.name == "config.counters"]
    assert len(warnings) == 1 and "counting in this process" in warnings[0], warnings

    redis_server.start()
    wait_until(
        lambda: (
            login("someone@example.com", "wrong", ip="192.0.2.2").status_code == 401
            and cache_module.cache_available()
            and strict_cache().get("probe", "answered") == "answered"
        ),
        15,
        message="Redis to answer again",
    )
    assert login(viewer.email, PERSONA_PASSWORD, ip="192.0.2.3").status_code == 200
    assert any("again" in r.getMessage() for r in caplog.records if r.name == "config.counters")


@pytest.mark.django_db
def test_request_rates_keep_limiting_while_redis_is_down(redis_cache, redis_server, api):
    redis_cache.THROTTLE_RATES = {**redis_cache.THROTTLE_RATES, "user": "3/min"}
    redis_server.stop()
    viewer = api["viewer"]
    statuses = [viewer.get("/api/v1/auth/me").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
