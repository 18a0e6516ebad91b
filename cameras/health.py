"""What the cameras app tells ``/health/ready`` (registered in ``apps.py``)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cameras.models import Camera


def camera_workers() -> dict[str, int]:
    """How many enabled cameras a supervisor reported on in the last minute.

    Informational: it never makes the web tier unready, since serving the API does not
    need the supervisors, and a load balancer must not drop the web for their sake.
    """
    enabled = Camera.objects.filter(enabled=True)
    recent = timezone.now() - timedelta(seconds=60)
    return {
        "enabled": enabled.count(),
        "reporting": enabled.filter(heartbeat_at__gte=recent).count(),
        "online": enabled.filter(status="online").count(),
    }
