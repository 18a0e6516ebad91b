"""End to end: a generated door-camera video, as a file and as a real RTSP stream, read by
the supervisor, recognised by the pipeline, recorded, cached and pushed on the WebSocket;
on an ``entry`` camera each enrolled person is checked in once, the stranger never.

The scene (``cameras.testing.video``): two people of t1 cross the frame one after the
other, then a stranger (the astronaut). Both t1 people are enrolled from t1.jpg itself.
"""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.audit import AuditContext
from attendance.models import AttendanceEvent
from cameras.models import Camera
from cameras.synthetic_video import T1_FACES
from cameras.testing.servers import RtspServer
from cameras.testing.supervisor import RunningSupervisor
from config.asgi import application
from detections.models import Detection
from faces import testing
from faces.engine import get_engine
from faces.enrolment import enrol
from faces.models import Person

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = [(b"origin", b"http://localhost:5173")]


def enrol_video_people() -> list[Person]:
    """Enrol T1_FACES[0] and [1] from t1 at twice the size (their faces are small)."""
    image = testing.scaled(testing.t1(), 2.0)
    faces = get_engine().detect(image)
    people = []
    for number, t1_face in enumerate(T1_FACES):
        cx, cy = t1_face.center
        index = testing.nearest((cx * 2, cy * 2), [f.bbox for f in faces])
        person = Person.objects.create(
            employee_code=f"VID-{number}",
            full_name=f"Video person {number}",
            consent_at=timezone.now(),
        )
        enrol(person, image, context=AuditContext(), face_index=index)
        people.append(person)
    return people


@pytest.fixture
def people(db, media_storage):
    return enrol_video_people()


@pytest.fixture
def camera_root(settings, scene_video):
    settings.CAMERA_FILE_ROOT = scene_video.path.parent
    return scene_video.path.parent


async def collect(communicator, seconds: float) -> list[dict]:
    """Every message for ``seconds``. (A receive timeout would cancel the consumer, so
    wait with ``receive_nothing`` and read only what has arrived.)"""
    messages, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not await communicator.receive_nothing(timeout=0.3):
            messages.append(await communicator.receive_json_from())
    return messages


async def watch_one_pass(source_url: str, viewer, seconds: float, direction: str = "both"):
    camera = await database_sync_to_async(Camera.objects.create)(
        name="Door", source_url=source_url, direction=direction
    )
    communicator = WebsocketCommunicator(
        application, f"/ws/v1/live/?token={AccessToken.for_user(viewer)}", headers=ORIGIN
    )
    assert (await communicator.connect())[0]
    with RunningSupervisor(poll_seconds=0.5):
        messages = await collect(communicator, seconds)
    messages += await collect(communicator, 1.0)  # the events of the final flush
    await communicator.disconnect()
    return camera, messages


def assert_one_detection_per_person(camera, people, messages):
    detections = list(Detection.objects.filter(camera=camera).select_related("person"))
    recognised = [d for d in detections if d.status == "recognized"]
    assert sorted(d.person_id for d in recognised) == sorted(p.pk for p in people), [
        (
            d.status,
            d.person_id,
            round(d.score, 3),
            f"{d.captured_at:%S.%f}",
            f"{d.last_seen_at:%S.%f}",
        )
        for d in detections
    ]
    strangers = [d for d in detections if d.person_id is None]
    assert strangers, "the stranger was not detected"
    assert all(d.person_id in {p.pk for p in people} for d in detections if d.person_id)
    created = [m for m in messages if m["type"] == "detection.created"]
    assert {m["data"]["id"] for m in created} == {d.pk for d in detections}
    named = {
        m["data"]["person"]["id"]
        for m in messages
        if m["type"].startswith("detection.") and m["data"]["person"]
    }
    assert named == {p.pk for p in people}
    assert any(m["type"] == "camera.status" and m["data"]["status"] == "online" for m in messages)


def one_pass(video) -> float:
    """Long enough to see every appearance once; the file loops, so not much longer."""
    last_exit = max(appearance.end_s for appearance in video.appearances)
    return min(last_exit + 0.5, video.seconds - 0.5)


def assert_one_check_in_per_person(camera, people, messages):
    """An entry camera checks each enrolled person in once, the stranger never, and
    every check-in reaches the WebSocket as ``attendance.created``."""
    events = list(AttendanceEvent.objects.filter(camera=camera))
    assert sorted((e.person_id, e.kind, e.source) for e in events) == sorted(
        (p.pk, "check_in", "camera") for p in people
    )
    announced = [m["data"] for m in messages if m["type"] == "attendance.created"]
    assert sorted(m["id"] for m in announced) == sorted(e.pk for e in events)
    assert all(m["camera"] == {"id": camera.pk, "name": "Door"} for m in announced)


async def test_file_source(people, viewer, scene_video, camera_root, api):
    camera, messages = await watch_one_pass(
        f"file://{scene_video.path}", viewer, one_pass(scene_video), direction="entry"
    )
    await database_sync_to_async(assert_one_detection_per_person)(camera, people, messages)
    await database_sync_to_async(assert_one_check_in_per_person)(camera, people, messages)
    live = await database_sync_to_async(api["viewer"].get)("/api/v1/detections/live?seconds=60")
    assert {d["id"] for d in live.json()["results"]} == set(
        await database_sync_to_async(lambda: set(Detection.objects.values_list("id", flat=True)))()
    )


async def test_rtsp_stream(people, viewer, scene_video, require_rtsp):
    with RtspServer(scene_video.path) as server:
        camera, messages = await watch_one_pass(server.url, viewer, one_pass(scene_video) + 1)
    await database_sync_to_async(assert_one_detection_per_person)(camera, people, messages)
