"""The live WebSocket: JWT in the query string, typed envelopes, camera subscriptions.

Runs on whatever channel layer the settings give: Redis in CI, in-memory otherwise.
"""

import asyncio
import logging
import re
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from config.asgi import application
from config.logs import ContextFilter
from detections.live import abroadcast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = [(b"origin", b"http://localhost:5173")]


def connect(
    token: str | None, headers: list[tuple[bytes, bytes]] | None = None
) -> WebsocketCommunicator:
    path = "/ws/v1/live/" + (f"?token={token}" if token else "")
    return WebsocketCommunicator(application, path, headers=ORIGIN if headers is None else headers)


async def refusal(communicator: WebsocketCommunicator) -> int:
    """The close code a refused client reads. A refusal is accepted and closed at once:
    a close during the handshake would reach the client as a bare HTTP 403."""
    connected, _ = await communicator.connect()
    assert connected, "refusals must be accepted first, or the close code is lost"
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    await communicator.wait()
    return output["code"]


def expired_token(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=5))
    return str(token)


async def test_refused_without_token():
    assert await refusal(connect(None)) == 4401


async def test_refused_with_expired_token(viewer):
    assert await refusal(connect(expired_token(viewer))) == 4401


async def test_refused_with_garbage_and_with_inactive_user(viewer):
    assert await refusal(connect("not.a.token")) == 4401
    token = str(AccessToken.for_user(viewer))
    viewer.is_active = False
    await database_sync_to_async(viewer.save)()
    assert await refusal(connect(token)) == 4401


async def test_without_origin_a_valid_token_connects(viewer):
    """A non-browser client sends no Origin: its token alone decides."""
    communicator = connect(str(AccessToken.for_user(viewer)), headers=[])
    connected, _ = await communicator.connect()
    assert connected
    await abroadcast("camera.status", {"id": 4, "status": "online"}, camera_id=4)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "camera.status"
    await communicator.disconnect()


async def test_without_origin_an_expired_token_reads_4401(viewer):
    assert await refusal(connect(expired_token(viewer), headers=[])) == 4401
    assert await refusal(connect(None, headers=[])) == 4401


@pytest.mark.parametrize(
    "origin", [b"https://evil.example", b"null", b"http://localhost:5173.evil.example"]
)
async def test_a_page_of_another_origin_reads_4403_even_with_a_valid_token(viewer, origin):
    headers = [(b"origin", origin), (b"host", b"localhost:8000")]
    assert await refusal(connect(str(AccessToken.for_user(viewer)), headers)) == 4403
    assert await refusal(connect(expired_token(viewer), headers)) == 4403


async def test_dns_rebinding_is_not_same_origin(viewer):
    """Origin and Host agree, but the host is not one of ALLOWED_HOSTS."""
    headers = [(b"origin", b"http://rebound.example:8000"), (b"host", b"rebound.example:8000")]
    assert await refusal(connect(str(AccessToken.for_user(viewer)), headers)) == 4403


@pytest.mark.parametrize(
    "headers",
    [
        [(b"origin", b"http://localhost:5173")],  # WS_ALLOWED_ORIGINS (the CORS origins)
        [(b"origin", b"http://localhost:8000"), (b"host", b"localhost:8000")],  # same origin
    ],
)
async def test_allowed_origins_with_a_valid_token_connect(viewer, headers):
    communicator = connect(str(AccessToken.for_user(viewer)), headers)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_allowed_origins_follow_the_setting(viewer, settings):
    settings.WS_ALLOWED_ORIGINS = ["https://kiosk.example"]
    token = str(AccessToken.for_user(viewer))
    communicator = connect(token, [(b"origin", b"https://kiosk.example")])
    assert (await communicator.connect())[0]
    await communicator.disconnect()
    assert await refusal(connect(token, [(b"origin", b"http://localhost:5173")])) == 4403


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


async def test_a_connection_logs_under_one_request_id_from_open_to_close(viewer, caplog):
    """Every record of a connection carries its id: the handshake's ``X-Request-ID`` when
    well-formed, a new one otherwise (a forged line break is not written to the log)."""
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.INFO)
    token = str(AccessToken.for_user(viewer))
    sent = [(b"x-request-id", b"desk-7.ws"), (b"x-request-id", b"id\nforged: line")]
    for header in sent:
        communicator = connect(token, [*ORIGIN, header])
        assert (await communicator.connect())[0]
        await communicator.disconnect()
    refused = connect(None, [*ORIGIN, (b"x-request-id", b"refused-1")])
    assert await refusal(refused) == 4401

    records = [r for r in caplog.records if "WebSocket" in r.getMessage()]
    ids = [(r.getMessage().split(" ")[2], r.request_id) for r in records]
    assert ids[:2] == [("opened", "desk-7.ws"), ("closed", "desk-7.ws")]
    (opened, forged_open), (closed, forged_close) = ids[2:4]
    assert (opened, closed) == ("opened", "closed") and forged_open == forged_close
    assert re.fullmatch(r"[0-9a-f]{32}", forged_open)
    assert ids[4][1] == "refused-1"
