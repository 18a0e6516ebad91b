"""End to end: "who is this?" teaches the system. The door video's stranger becomes an
unknown-face group; naming the group with ``enroll`` enrols its camera crops (which are
smaller than enrolment photos, so they pass the camera-crop gate, not the photo gate),
and the next pass of the same video names the stranger."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.audit import AuditContext
from detections.assignment import assign_group
from detections.models import Detection, DetectionStatus
from detections.tests.test_camera_pipeline import enrol_video_people, one_pass, watch_one_pass
from faces.models import FaceSample, Person, SampleSource

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def people(db, media_storage):
    return enrol_video_people()


@pytest.fixture
def camera_root(settings, scene_video):
    settings.CAMERA_FILE_ROOT = scene_video.path.parent
    return scene_video.path.parent


def name_the_stranger(camera) -> Person:
    stranger = Detection.objects.get(camera=camera, person__isnull=True)
    assert stranger.status == DetectionStatus.UNKNOWN
    assert stranger.unknown_face_id is not None, "the stranger's track joined no group"
    person = Person.objects.create(
        employee_code="AST-1", full_name="The astronaut", consent_at=timezone.now()
    )
    result = assign_group(stranger.unknown_face, person, enroll=True, context=AuditContext())
    assert (result.labelled, result.enrolled) == (1, 1)
    samples = FaceSample.objects.filter(person=person)
    assert samples.count() == 1
    assert samples.get().source == SampleSource.DETECTION
    camera.name = "Door, first pass"  # the next pass watches the same video as a new camera
    camera.save(update_fields=["name"])
    return person


def names_on(camera) -> list[tuple[str, int | None]]:
    return sorted((d.status, d.person_id) for d in Detection.objects.filter(camera=camera))


async def test_a_named_group_is_recognised_on_the_next_pass(
    people, viewer, scene_video, camera_root
):
    source = f"file://{scene_video.path}"
    first, _ = await watch_one_pass(source, viewer, one_pass(scene_video))
    astronaut = await database_sync_to_async(name_the_stranger)(first)

    second, _ = await watch_one_pass(source, viewer, one_pass(scene_video))
    seen = await database_sync_to_async(names_on)(second)
    expected = sorted(("recognized", p.pk) for p in [*people, astronaut])
    assert seen == expected
