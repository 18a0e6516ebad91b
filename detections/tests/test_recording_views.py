"""Which view a detection keeps: the one it was confirmed with, or at the end of the visit
a two-stream camera's crop from the main stream, never brought back after an erasure."""

from __future__ import annotations

import pytest

from detections.models import Detection
from detections.receivers import on_person_erased
from detections.recording import record_event
from detections.testing import track_event
from faces.engine.imageio import decode_image
from faces.tests.conftest import make_person

pytestmark = pytest.mark.django_db(transaction=True)


def crop_width(detection: Detection) -> int:
    with detection.face_crop.open("rb") as handle:
        return decode_image(handle.read()).shape[1]


def test_the_end_of_a_visit_keeps_the_main_streams_crop_and_removes_the_old_files(
    camera, media_storage
):
    confirmed = track_event(crop_size=60)
    detection = record_event(camera, confirmed)
    old_files = [detection.face_crop.name, detection.frame.name]
    assert crop_width(detection) == 60

    record_event(camera, track_event("updated", track_id=confirmed.track_id, crop_size=100))
    detection.refresh_from_db()
    assert crop_width(detection) == 60  # an update with a sub-stream crop changes nothing
    record_event(
        camera,
        track_event(
            "ended", track_id=confirmed.track_id, crop_size=180, crop_from_main_stream=True
        ),
    )

    detection.refresh_from_db()
    assert crop_width(detection) == 180
    storage = detection.face_crop.storage
    assert not any(storage.exists(name) for name in old_files)
    assert storage.exists(detection.face_crop.name) and storage.exists(detection.frame.name)


def test_an_erased_detection_gets_no_crop_back_at_the_end_of_its_visit(camera, media_storage):
    person = make_person("E-1")
    confirmed = track_event(status="recognized", person_id=person.pk)
    record_event(camera, confirmed)
    on_person_erased(type(person), person=person)

    record_event(
        camera,
        track_event(
            "ended",
            track_id=confirmed.track_id,
            status="recognized",
            person_id=person.pk,
            crop_from_main_stream=True,
        ),
    )

    detection = Detection.objects.get(track_id=confirmed.track_id)
    assert not detection.face_crop and not detection.frame
