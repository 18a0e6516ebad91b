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

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import envelope

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
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


def camera_workers() -> dict:
    """How many enabled cameras a supervisor reported on in the last minute.

    Informational: it never makes the web tier unready, since serving the API does not
    need the supervisors, and a load balancer must not drop the web for their sake.
    """
    from datetime import timedelta

    from django.utils import timezone

    from cameras.models import Camera

    enabled = Camera.objects.filter(enabled=True)
    recent = timezone.now() - timedelta(seconds=60)
    return {
        "enabled": enabled.count(),
        "reporting": enabled.filter(heartbeat_at__gte=recent).count(),
        "online": enabled.filter(status="online").count(),
    }


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "storage": check_storage,
}


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

    @extend_schema(responses={200: HealthReport}, tags=["health"])
    def get(self, request):
        return Response({"status": "ok"})


class ReadyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: HealthReport, 503: HealthReport}, tags=["health"])
    def get(self, request):
        checks = run_checks()
        failed = {name: [r["error"]] for name, r in checks.items() if not r["ok"]}
        workers = camera_workers() if checks["database"]["ok"] else None
        if not failed:
            return Response({"status": "ok", "checks": checks, "camera_workers": workers})
        body = {"status": "unavailable", "checks": checks, "camera_workers": workers}
        body.update(
            envelope(
                "dependency_unavailable",
                "Not ready: " + ", ".join(sorted(failed)) + " unavailable.",
                failed,
            )
        )
        return Response(body, status=503)
