"""Redis going away and coming back (issue 7, "Faults"), against a real ``redis-server``.

Redis holds only the cache and the channel layer, so while it is down the API answers
from the database, detections are still recorded, and ``/health/ready`` says 503 naming
Redis; when it returns on the same port everything works again without a restart.
"""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.test import Client
from rest_framework.test import APIClient

from cameras.models import Camera
from config import cache as cache_module
from config.testing import wait_until
from conftest import PERSONA_PASSWORD
from detections.models import Detection
from detections.recording import record_event
from detections.testing import track_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_settings(redis_cache, redis_server):
    """The cache (``redis_cache``) and the channel layer on the throwaway Redis."""
    redis_cache.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": redis_server.url(), "socket_connect_timeout": 0.5}],
                "capacity": 100,
                "expiry": 10,
            },
        }
    }
    return redis_cache


@pytest.fixture
def camera(db) -> Camera:
    return Camera.objects.create(name="Gate", source_url="rtsp://10.0.0.5/stream")


def ready(client) -> bool:
    return client.get("/api/v1/health/ready").status_code == 200


def live_ids(client) -> set[int]:
    response = client.get("/api/v1/detections/live?seconds=60")
    assert response.status_code == 200, response.content
    return {entry["id"] for entry in response.json()["results"]}


def test_the_api_serves_reads_and_records_detections_while_redis_is_down(
    redis_settings, redis_server, api, camera, caplog
):
    viewer, anonymous = api["viewer"], api["anonymous"]
    assert ready(anonymous)
    before = record_event(camera, track_event())
    assert live_ids(viewer) == {before.pk}

    redis_server.stop()
    caplog.set_level(logging.WARNING, logger="config.cache")

    assert viewer.get("/api/v1/cameras").status_code == 200
    assert viewer.get("/api/v1/cameras").json()["results"][0]["name"] == "Gate"
    during = record_event(camera, track_event())
    assert during is not None
    assert Detection.objects.filter(pk=during.pk).exists()
    assert live_ids(viewer) == {before.pk, during.pk}  # from the database

    response = anonymous.get("/api/v1/health/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["channel_layer"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert set(body["error"]["details"]) == {"cache", "channel_layer"}
    assert "cache (Redis)" in body["error"]["message"]
    assert "channel_layer (Redis)" in body["error"]["message"]
    outage_warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(outage_warnings) == 1, [r.getMessage() for r in caplog.records]

    redis_server.start()

    wait_until(lambda: ready(anonymous), 15, message="/health/ready to answer 200 again")
    assert viewer.get("/api/v1/cameras").status_code == 200
    after = record_event(camera, track_event())
    # Redis came back empty: the detection recorded during the outage is still listed.
    assert live_ids(viewer) == {before.pk, during.pk, after.pk}
    assert caches["default"].get(f"detections:live:{camera.pk}")[0]["id"] == after.pk


def test_the_cache_skips_a_redis_that_just_failed(redis_settings, redis_server):
    cache = caches["default"]
    cache.set("k", "v")
    redis_server.stop()

    assert cache.get("k", "missing") == "missing"
    assert cache.breaker.is_open
    assert cache.add("k", "v") is False
    assert cache.set("k", "v") is None
    with pytest.raises(ValueError):
        cache.incr("k")
    with pytest.raises(cache_module.UNAVAILABLE_ERRORS):
        cache_module.strict_cache().get("k")

    redis_server.start()

    wait_until(lambda: cache.add("k", "back"), 10, message="the cache to write again")
    assert cache.get("k") == "back"
    assert cache_module.cache_available()


def test_the_gallery_does_not_reload_every_check_while_redis_is_down(redis_settings, redis_server):
    """Without the version stamp, a reload per check would read the whole gallery from the
    database every second in every process; it reloads now and then instead, and follows
    the stamp again once Redis is back."""
    import numpy as np

    from faces import gallery as gallery_module

    loads: list[float] = []

    def loader(model_key: str):
        loads.append(model_key)
        return [1], np.ones((1, 4), dtype=np.float32)

    gallery = gallery_module.Gallery(model_key="m", dim=4, loader=loader, check_seconds=0)
    gallery.index()
    gallery.index()
    assert len(loads) == 1, "an unchanged version must not reload"
    redis_server.stop()
    for _ in range(5):
        gallery.index()
    assert len(loads) == 1, "an outage must not reload on every check"
    redis_server.start()
    wait_until(lambda: gallery_module.current_version() is not None, timeout=10)
    gallery.index()
    gallery_module.bump_version()
    gallery.index()
    assert len(loads) >= 2, "a new version after the outage reloads"


def test_a_correct_sign_in_still_works_while_redis_is_down(
    redis_settings, redis_server, viewer, admin_user
):
    """Redis holds only counters for sign-in: without it, the right password must still
    get tokens (API) and a session (admin), not a 401, 429 or 500."""
    redis_server.stop()

    response = APIClient().post(
        "/api/v1/auth/login",
        {"email": viewer.email, "password": PERSONA_PASSWORD},
        REMOTE_ADDR="192.0.2.10",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["access"] and body["refresh"]
    assert body["user"]["email"] == viewer.email
    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert signed_in.get("/api/v1/auth/me").json()["email"] == viewer.email

    browser = Client()
    response = browser.post(
        "/admin/login/?next=/admin/",
        {"username": admin_user.email, "password": PERSONA_PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="192.0.2.11",
    )
    assert response.status_code == 302, response.content
    assert response["Location"] == "/admin/"
    assert browser.session.get("_auth_user_id") == str(admin_user.pk)
    assert browser.get("/admin/").status_code == 200
