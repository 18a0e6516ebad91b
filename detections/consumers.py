"""The live WebSocket: ``/ws/v1/live/``.

The connection is authenticated by ``accounts.ws_auth.JWTAuthMiddleware`` before it gets
here. Server messages are ``{"type": T, "data": {...}}``; a client may send
``{"type": "subscribe", "cameras": [ids]}`` to narrow the stream (an empty list or
``null`` means all cameras).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts import ws_auth
from accounts.roles import ALL_ROLES
from accounts.ws_auth import CLOSE_UNAUTHENTICATED
from detections.live import LIVE_GROUP, remember_server_loop

# Which roles may receive each event type; the one place this consumer decides.
EVENT_ROLES: dict[str, frozenset[str]] = {
    "detection.created": ALL_ROLES,
    "detection.updated": ALL_ROLES,
    "attendance.created": ALL_ROLES,
    "camera.status": ALL_ROLES,
}
USER_RECHECK_SECONDS = 30

logger = logging.getLogger(__name__)


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """The live WebSocket: detections and camera status, filtered by role and camera."""

    async def connect(self) -> None:
        """Accept the user the auth middleware vetted and join the live group."""
        remember_server_loop(asyncio.get_running_loop())
        self.user = self.scope["user"]
        self.cameras: set[int] | None = None
        self.user_checked_at = time.monotonic()
        await self.channel_layer.group_add(LIVE_GROUP, self.channel_name)
        await self.accept()
        logger.info("Live WebSocket opened by user %s (%s)", self.user.pk, self.user.role)

    async def disconnect(self, code: int) -> None:
        """Leave the live group so no more events are sent to a closed socket."""
        await self.channel_layer.group_discard(LIVE_GROUP, self.channel_name)
        logger.info("Live WebSocket closed (code %s)", code)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Handle ``subscribe`` (choose cameras); anything else gets an error message."""
        if not isinstance(content, dict) or content.get("type") != "subscribe":
            await self._send_error("unknown_message", "Only 'subscribe' messages are accepted.")
            return
        cameras = content.get("cameras")
        if cameras in (None, []):
            self.cameras = None
        elif isinstance(cameras, list) and all(
            isinstance(c, int) and not isinstance(c, bool) for c in cameras
        ):
            self.cameras = set(cameras)
        else:
            await self._send_error("invalid_subscription", "'cameras' must be a list of ids.")
            return
        await self.send_json(
            {"type": "subscribed", "data": {"cameras": sorted(self.cameras or [])}}
        )

    async def decode_json(self, text_data: str) -> Any:
        """Invalid JSON becomes None, answered with an error instead of closing the socket."""
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def live_event(self, message: dict) -> None:
        """Forward a broadcast event, if the user may still see it and subscribed to its camera."""
        if not await self._still_allowed():
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if (
            message["event"] not in EVENT_ROLES
            or self.user.role not in EVENT_ROLES[message["event"]]
        ):
            return
        camera_id = message.get("camera_id")
        if self.cameras is not None and camera_id is not None and camera_id not in self.cameras:
            return
        await self.send_json({"type": message["event"], "data": message["data"]})

    async def _still_allowed(self) -> bool:
        """The token may expire, be revoked, or its user be deactivated while the socket
        stays open."""
        expires_at = self.scope.get("token_expires_at")
        if expires_at is not None and time.time() >= expires_at:
            return False
        if time.monotonic() - self.user_checked_at > USER_RECHECK_SECONDS:
            self.user = await ws_auth.recheck(self.scope)
            self.user_checked_at = time.monotonic()
        return self.user is not None

    async def _send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "data": {"code": code, "message": message}})
