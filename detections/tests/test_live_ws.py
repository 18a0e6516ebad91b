"""The live WebSocket: JWT in the query string, typed envelopes, camera subscriptions.

Runs on whatever channel layer the settings give: Redis in CI, in-memory otherwise.
"""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from config.asgi import application
from detections.live import abroadcast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = [(b"origin", b"http://localhost:5173")]


def connect(token: str | None) -> WebsocketCommunicator:
    path = "/ws/v1/live/" + (f"?token={token}" if token else "")
    return WebsocketCommunicator(application, path, headers=ORIGIN)


async def test_refused_without_token():
    communicator = connect(None)
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401


async def test_refused_with_expired_token(viewer):
    token = AccessToken.for_user(viewer)
    token.set_exp(lifetime=-timedelta(seconds=5))
    connected, code = await connect(str(token)).connect()
    assert not connected and code == 4401


async def test_refused_with_garbage_and_with_inactive_user(viewer):
    assert (await connect("not.a.token").connect())[0] is False
    token = str(AccessToken.for_user(viewer))
    viewer.is_active = False
    await database_sync_to_async(viewer.save)()
    assert (await connect(token).connect())[0] is False


async def test_accepted_with_valid_token_and_receives_events(viewer):
    communicator = connect(str(AccessToken.for_user(viewer)))
    connected, _ = await communicator.connect()
    assert connected
    await abroadcast("camera.status", {"id": 3, "status": "online"}, camera_id=3)
    message = await communicator.receive_json_from(timeout=5)
    assert message == {"type": "camera.status", "data": {"id": 3, "status": "online"}}
    await communicator.disconnect()


async def test_subscription_narrows_the_stream(operator):
    communicator = connect(str(AccessToken.for_user(operator)))
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "subscribe", "cameras": [2]})
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "subscribed",
        "data": {"cameras": [2]},
    }
    await abroadcast("detection.created", {"id": 1}, camera_id=1)
    await abroadcast("detection.created", {"id": 2}, camera_id=2)
    message = await communicator.receive_json_from(timeout=5)
    assert message == {"type": "detection.created", "data": {"id": 2}}
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_bad_client_messages_get_typed_errors(viewer):
    communicator = connect(str(AccessToken.for_user(viewer)))
    assert (await communicator.connect())[0]
    await communicator.send_to(text_data="{not json")
    assert (await communicator.receive_json_from(timeout=5))["data"]["code"] == "unknown_message"
    await communicator.send_json_to({"type": "subscribe", "cameras": "all"})
    reply = await communicator.receive_json_from(timeout=5)
    assert reply == {
        "type": "error",
        "data": {"code": "invalid_subscription", "message": "'cameras' must be a list of ids."},
    }
    await communicator.disconnect()


async def test_connection_closes_when_token_expires(viewer):
    token = AccessToken.for_user(viewer)
    token.set_exp(lifetime=timedelta(seconds=1))
    communicator = connect(str(token))
    assert (await communicator.connect())[0]
    await asyncio.sleep(1.2)  # deliberate: the token's one-second lifetime runs out
    await abroadcast("camera.status", {"id": 1}, camera_id=1)
    output = await communicator.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()
