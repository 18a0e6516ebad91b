"""Liveness and readiness, including a dependency that is down."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_live_needs_no_token():
    response = APIClient().get("/api/v1/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_each_dependency():
    response = APIClient().get("/api/v1/health/ready")
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert set(checks) == {"database", "cache", "channel_layer", "storage"}
    assert all(check["ok"] for check in checks.values())
    assert response.json()["camera_workers"] == {"enabled": 0, "reporting": 0, "online": 0}


def test_ready_is_503_when_redis_is_unreachable():
    caches = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": UNREACHABLE_REDIS, "socket_connect_timeout": 0.5}]},
        }
    }
    with override_settings(CACHES=caches, CHANNEL_LAYERS=layers):
        response = APIClient().get("/api/v1/health/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["channel_layer"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert body["error"]["code"] == "dependency_unavailable"
    assert set(body["error"]["details"]) == {"cache", "channel_layer"}
    assert "127.0.0.1:1" not in response.content.decode()


def test_ready_is_503_when_the_database_check_fails(monkeypatch):
    from config.api import health

    def down():
        raise ConnectionError("db://user:hunter2@host")

    monkeypatch.setitem(health.READINESS_CHECKS, "database", down)
    response = APIClient().get("/api/v1/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "error": "ConnectionError",
        "ms": response.json()["checks"]["database"]["ms"],
    }
    assert "hunter2" not in response.content.decode()
