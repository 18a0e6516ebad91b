"""Broadcasting live events to WebSocket clients: the one helper every sender uses.

Events go to one channel-layer group; each connected consumer filters them by the
client's camera subscription and re-checks the client's permission per event. Message
types are fixed by the frontend contract (api.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

LIVE_GROUP = "live"
EVENT_TYPES = frozenset(
    {"detection.created", "detection.updated", "attendance.created", "camera.status"}
)


def live_message(event_type: str, data: dict[str, Any], camera_id: int | None) -> dict:
    """The channel-layer message for an event; unknown types are a bug and raise."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown live event type {event_type!r}")
    return {"type": "live.event", "event": event_type, "data": data, "camera_id": camera_id}


async def abroadcast(event_type: str, data: dict[str, Any], camera_id: int | None = None) -> None:
    """Send an event to every live WebSocket, from async code."""
    layer = get_channel_layer()
    await layer.group_send(LIVE_GROUP, live_message(event_type, data, camera_id))


_server_loop: asyncio.AbstractEventLoop | None = None


def remember_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called by the consumer: the loop that serves WebSockets in this process.

    The in-memory layer (embedded run) keeps its queues in that loop and is not
    thread-safe, so events from camera threads must be handed to that loop rather than
    sent from a loop of their own.
    """
    global _server_loop
    _server_loop = loop


def broadcast(event_type: str, data: dict[str, Any], camera_id: int | None = None) -> None:
    """Send an event to every live client; a channel-layer outage is logged, not raised,
    because a live view missing one event must not fail the work that caused it."""
    try:
        if isinstance(get_channel_layer(), InMemoryChannelLayer):
            loop = _server_loop
            if loop is None or loop.is_closed():
                return  # no client has connected to this process: nobody to tell
            asyncio.run_coroutine_threadsafe(abroadcast(event_type, data, camera_id), loop)
            return
        async_to_sync(abroadcast)(event_type, data, camera_id)
    except Exception as exc:  # noqa: BLE001
        _broadcast_failed(event_type, exc)
    else:
        _broadcast_succeeded()


_failing_since: float | None = None


def _broadcast_failed(event_type: str, exc: Exception) -> None:
    """Warn once per outage of the channel layer, not once per event."""
    global _failing_since
    if _failing_since is None:
        _failing_since = time.monotonic()
        logger.warning(
            "Live broadcast of %s failed: %s; live clients miss events until the channel "
            "layer answers again",
            event_type,
            type(exc).__name__,
        )
    else:
        logger.debug("Live broadcast of %s failed: %s", event_type, type(exc).__name__)


def _broadcast_succeeded() -> None:
    global _failing_since
    if _failing_since is not None:
        logger.warning("Live broadcasts work again after %.0f s", time.monotonic() - _failing_since)
        _failing_since = None
