"""Broadcasting live events to WebSocket clients: the one helper every sender uses.

Events go to one channel-layer group; each connected consumer filters them by the
client's camera subscription and re-checks the client's permission per event. Message
types are fixed by the frontend contract (api.md).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

LIVE_GROUP = "live"
EVENT_TYPES = frozenset(
    {"detection.created", "detection.updated", "attendance.created", "camera.status"}
)


def live_message(event_type: str, data: dict[str, Any], camera_id: int | None) -> dict:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown live event type {event_type!r}")
    return {"type": "live.event", "event": event_type, "data": data, "camera_id": camera_id}


async def abroadcast(event_type: str, data: dict[str, Any], camera_id: int | None = None) -> None:
    layer = get_channel_layer()
    await layer.group_send(LIVE_GROUP, live_message(event_type, data, camera_id))


def broadcast(event_type: str, data: dict[str, Any], camera_id: int | None = None) -> None:
    """Send an event to every live client; a channel-layer outage is logged, not raised,
    because a live view missing one event must not fail the work that caused it."""
    try:
        async_to_sync(abroadcast)(event_type, data, camera_id)
    except Exception as exc:  # noqa: BLE001
        logger.warning("Live broadcast of %s failed: %s", event_type, type(exc).__name__)
