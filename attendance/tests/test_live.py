"""``attendance.created`` reaches live WebSocket clients once the event commits."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken

from attendance.events import add_manual_event
from attendance.sightings import record_sighting
from attendance.tests.conftest import make_camera, make_detection, make_person, utc
from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

T0 = utc(2026, 1, 5, 7)


async def _connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application,
        f"/ws/v1/live/?token={AccessToken.for_user(user)}",
        headers=[(b"origin", b"http://localhost:5173")],
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_a_viewer_sees_a_camera_check_in(viewer):
    communicator = await _connect(viewer)

    @database_sync_to_async
    def sighting() -> tuple[int, int, int]:
        person = make_person("LIVE")
        camera = make_camera("Entry", "entry")
        decision = record_sighting(make_detection(person, camera, T0))
        return decision.event_id, person.pk, camera.pk

    event_id, person_id, camera_id = await sighting()
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "attendance.created"
    assert message["data"] == {
        "id": event_id,
        "person": {"id": person_id, "employee_code": "LIVE", "full_name": "Person LIVE"},
        "kind": "check_in",
        "at": "2026-01-05T07:00:00Z",
        "source": "camera",
        "camera": {"id": camera_id, "name": "Entry"},
        "voided": False,
        "reason": "",
        "voided_at": None,
        "void_reason": "",
        "detection": message["data"]["detection"],
    }
    await communicator.disconnect()


async def test_a_rolled_back_event_is_never_announced(viewer):
    communicator = await _connect(viewer)

    @database_sync_to_async
    def rolled_back_then_committed() -> int:
        person = make_person("RB")
        try:
            with transaction.atomic():
                add_manual_event(person, "check_in", T0, "typo", None)
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        return add_manual_event(person, "check_in", T0.replace(hour=8), "real", None).pk

    committed = await rolled_back_then_committed()
    message = await communicator.receive_json_from(timeout=5)
    assert (message["type"], message["data"]["id"], message["data"]["source"]) == (
        "attendance.created",
        committed,
        "manual",
    )
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()
