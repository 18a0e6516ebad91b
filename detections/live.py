"""Broadcasting live events to WebSocket clients: the one helper every sender uses.

Events go to one channel-layer group; each connected consumer filters them by the
client's camera subscription and re-checks the client's permission per event. Message
types are fixed by the frontend contract (api.md).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import time
from typing import Any

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
    because a live view missing one event must not fail the work that caused it.

    The send is handed to a loop: the server's with the in-memory layer, else this
    process's sender loop (``_sender_loop``), so the caller does not wait for Redis and
    the layer's connections are reused instead of opened per event."""
    try:
        if isinstance(get_channel_layer(), InMemoryChannelLayer):
            loop = _server_loop
            if loop is None or loop.is_closed():
                return  # no client has connected to this process: nobody to tell
            asyncio.run_coroutine_threadsafe(abroadcast(event_type, data, camera_id), loop)
            return
        _send_in_background(event_type, data, camera_id)
    except Exception as exc:  # noqa: BLE001
        _broadcast_failed(event_type, exc)


MAX_PENDING_SENDS = 1000

Send = tuple[str, dict[str, Any], int | None]


class _Sender:
    """A loop in a thread of its own that sends queued events one at a time, in order,
    over connections it keeps."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue[Send] = asyncio.Queue()
        self.ready = threading.Event()
        threading.Thread(target=self._run, name="live-sender", daemon=True).start()
        self.ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.create_task(self._drain())
        self.ready.set()
        self.loop.run_forever()

    async def _drain(self) -> None:
        """Send what is queued, in order; each failure is noted, none stops the loop."""
        while True:
            event_type, data, camera_id = await self.queue.get()
            try:
                await abroadcast(event_type, data, camera_id)
            except Exception as exc:  # noqa: BLE001
                _broadcast_failed(event_type, exc)
            else:
                _broadcast_succeeded()
            finally:
                self.queue.task_done()

    def put(self, item: Send) -> None:
        """Queue one send from any thread."""
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def join(self, timeout: float) -> None:
        """Wait until everything queued so far was sent (or failed)."""
        asyncio.run_coroutine_threadsafe(self.queue.join(), self.loop).result(timeout)


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def _sender_here() -> _Sender:
    """This process's sender, started on first use (and again in a forked child, where
    the parent's thread does not run)."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender.pid != os.getpid():
            _sender = _Sender()
        return _sender


def _send_in_background(event_type: str, data: dict[str, Any], camera_id: int | None) -> None:
    """Queue the send; past ``MAX_PENDING_SENDS`` unsent events (a hung layer) the event
    is dropped as a failure rather than piled up."""
    sender = _sender_here()
    if sender.queue.qsize() >= MAX_PENDING_SENDS:
        _broadcast_failed(event_type, TimeoutError("too many sends pending"))
        return
    sender.put((event_type, data, camera_id))


def wait_for_sends(timeout: float = 5.0) -> bool:
    """Wait for the queued sends (at exit, and for tests); True when all went out."""
    sender = _sender
    if sender is None or sender.pid != os.getpid():
        return True
    try:
        sender.join(timeout)
    except TimeoutError:
        return False
    return True


atexit.register(wait_for_sends)


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
