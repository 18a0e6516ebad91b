"""The WebSocket refuses revoked tokens with 4401, at connect and on an open socket."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import RequestFactory

from accounts import audit, services, sessions
from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def sign_in(user) -> str:
    request = RequestFactory().post("/api/v1/auth/login", HTTP_USER_AGENT="kiosk")
    return str(sessions.start(user, request).access_token)


def connect(token: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/v1/live/?token={token}", headers=[])


async def close_code(communicator: WebsocketCommunicator) -> int:
    connected, _ = await communicator.connect()
    assert connected, "refusals are accepted first, or the close code is lost"
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    await communicator.wait()
    return output["code"]


async def test_revoke_all_refuses_old_access_tokens_with_4401(viewer):
    token = await sign_in(viewer)
    communicator = connect(token)
    assert (await communicator.connect())[0]
    await communicator.disconnect()

    await database_sync_to_async(sessions.end_all)(viewer, audit.AuditContext())
    assert await close_code(connect(token)) == 4401
    fresh = connect(await sign_in(viewer))
    assert (await fresh.connect())[0]
    await fresh.disconnect()


async def test_password_change_refuses_old_access_tokens_with_4401(viewer):
    token = await sign_in(viewer)
    await database_sync_to_async(services.change_password)(
        viewer, "brand-new-secret-42", audit.AuditContext()
    )
    assert await close_code(connect(token)) == 4401


async def test_a_signed_out_session_is_refused_with_4401(viewer):
    token = await sign_in(viewer)
    other = await sign_in(viewer)
    session = await database_sync_to_async(
        lambda: sessions.live_sessions(viewer).order_by("id").first()
    )()
    await database_sync_to_async(sessions.end)(viewer, session.pk, audit.AuditContext())
    assert await close_code(connect(token)) == 4401
    communicator = connect(other)
    assert (await communicator.connect())[0]
    await communicator.disconnect()


async def test_an_open_socket_closes_once_its_tokens_are_revoked(viewer, monkeypatch):
    from detections import consumers
    from detections.live import abroadcast

    monkeypatch.setattr(consumers, "USER_RECHECK_SECONDS", -1)
    communicator = connect(await sign_in(viewer))
    assert (await communicator.connect())[0]
    await abroadcast("camera.status", {"id": 1}, camera_id=1)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "camera.status"

    await database_sync_to_async(sessions.end_all)(viewer, audit.AuditContext())
    await abroadcast("camera.status", {"id": 1}, camera_id=1)
    output = await communicator.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()
