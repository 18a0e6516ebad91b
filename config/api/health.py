"""Liveness and readiness probes.

``live`` says the process answers. ``ready`` says whether each dependency the system needs
to do its work answers: database, cache, channel layer and media storage. A dependency
that is down makes it 503 so a load balancer or compose healthcheck takes the instance out.
Failures report the exception class only: messages can carry connection URLs and secrets.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import envelope
from config.cache import strict_cache

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    # The cache tolerates an outage of its server; the probe must see it.
    cache = strict_cache()
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was written")
    cache.delete(key)


async def _round_trip_channel_layer() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("health.")
    await layer.send(channel, {"type": "health.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "health.ping":
        raise RuntimeError("channel layer returned another message")


def check_channel_layer() -> None:
    async def bounded() -> None:
        await asyncio.wait_for(_round_trip_channel_layer(), CHECK_TIMEOUT_SECONDS)

    async_to_sync(bounded)()


def check_storage() -> None:
    default_storage.exists(".presence-health")


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "storage": check_storage,
}
# Informational reports by name, each shown under its own key of the readiness answer.
HEALTH_REPORTS: dict[str, Callable[[], dict]] = {}


def register_health_check(name: str, check: Callable[[], Any], *, critical: bool) -> None:
    """Let an app add to ``/health/ready`` without the kernel importing the app.

    A critical check raises when its dependency is unusable and makes the answer 503.
    A non-critical one returns a report (a dict) shown under ``name``: it never makes the
    instance unready. Reports read the database, so they are skipped (null) when it is down.
    Apps register from their ``AppConfig.ready()``.
    """
    if critical:
        READINESS_CHECKS[name] = check
    else:
        HEALTH_REPORTS[name] = check


def run_reports(database_ok: bool) -> dict[str, dict | None]:
    reports: dict[str, dict | None] = {}
    for name, report in HEALTH_REPORTS.items():
        try:
            reports[name] = report() if database_ok else None
        except Exception as exc:  # noqa: BLE001 - a report must not break the probe
            logger.warning("Health report %s failed: %s", name, type(exc).__name__)
            reports[name] = None
    return reports


def run_checks() -> dict[str, dict]:
    results = {}
    for name, check in READINESS_CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            logger.warning("Readiness check %s failed: %s", name, type(exc).__name__)
            results[name] = {"ok": False, "error": type(exc).__name__}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return results


def _service(name: str) -> str | None:
    """The server behind a built-in check, so an operator reads "Redis", not a backend."""
    if name == "database":
        return {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(connection.vendor)
    backend = {
        "cache": settings.CACHES["default"]["BACKEND"],
        "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    }.get(name, "")
    return "Redis" if "redis" in backend.lower() else None


def _named(name: str) -> str:
    service = _service(name)
    return f"{name} ({service})" if service else name


CheckResult = inline_serializer(
    name="HealthCheck",
    fields={
        "ok": serializers.BooleanField(),
        "ms": serializers.FloatField(),
        "error": serializers.CharField(required=False),
    },
)
HealthReport = inline_serializer(
    name="HealthReport",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": serializers.DictField(child=CheckResult, required=False),
        "camera_workers": inline_serializer(
            name="CameraWorkers",
            fields={
                "enabled": serializers.IntegerField(),
                "reporting": serializers.IntegerField(),
                "online": serializers.IntegerField(),
            },
            required=False,
            allow_null=True,
        ),
    },
)


class LiveView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Liveness: the process answers", responses={200: HealthReport}, tags=["health"]
    )
    def get(self, request):
        return Response({"status": "ok"})


class ReadyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Readiness: every dependency answers",
        responses={200: HealthReport, 503: HealthReport},
        tags=["health"],
    )
    def get(self, request):
        checks = run_checks()
        failed = {name: [r["error"]] for name, r in checks.items() if not r["ok"]}
        reports = run_reports(database_ok=checks["database"]["ok"])
        if not failed:
            return Response({"status": "ok", "checks": checks, **reports})
        body = {"status": "unavailable", "checks": checks, **reports}
        body.update(
            envelope(
                "dependency_unavailable",
                "Not ready: " + ", ".join(map(_named, sorted(failed))) + " unavailable.",
                failed,
            )
        )
        return Response(body, status=503)
