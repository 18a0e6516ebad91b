"""Detections through the API: history, the live feed, images, labelling, groups, roles."""

import dataclasses
import time

import numpy as np
import pytest

from accounts.models import AuditLog
from detections import live_cache
from detections.clustering import assign_to_group
from detections.models import Detection, DetectionStatus, UnknownFace
from detections.recording import record_event
from detections.tasks import purge_old_detections
from detections.testing import track_event
from faces import testing as face_images
from faces.models import FaceSample
from faces.tests.conftest import make_person, stored_files

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_track_is_one_detection(camera):
    confirmed = track_event("confirmed", status="uncertain", score=0.45)
    created = record_event(camera, confirmed)
    person = make_person("P-1")
    later = track_event(
        "updated",
        track_id=confirmed.track_id,
        status="recognized",
        person_id=person.pk,
        score=0.7,
    )
    record_event(camera, later)
    record_event(
        camera,
        track_event(
            "ended",
            track_id=confirmed.track_id,
            status="recognized",
            person_id=person.pk,
            score=0.7,
        ),
    )
    detection = Detection.objects.get()
    assert detection.pk == created.pk
    assert (detection.status, detection.person_id, detection.score) == (
        "recognized",
        person.pk,
        0.7,
    )
    assert detection.face_crop and detection.frame


def test_list_filters_and_cursor(api, camera, other_camera):
    person = make_person("P-2")
    for i in range(5):
        record_event(camera, track_event(status="unknown", at=time.time() - 100 + i))
    record_event(other_camera, track_event(status="recognized", person_id=person.pk, score=0.8))
    client = api["viewer"]
    everything = client.get("/api/v1/detections").json()
    assert everything["count"] == 6
    assert everything["results"][0]["person"]["id"] == person.pk  # newest first
    assert client.get(f"/api/v1/detections?camera={camera.pk}").json()["count"] == 5
    assert client.get("/api/v1/detections?status=recognized").json()["count"] == 1
    assert client.get(f"/api/v1/detections?person={person.pk}").json()["count"] == 1
    first = client.get("/api/v1/detections?cursor=&page_size=4").json()
    assert len(first["results"]) == 4 and first["next"]
    second = client.get(first["next"]).json()
    ids = [d["id"] for d in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 6
    bad = client.get("/api/v1/detections?status=famous")
    assert bad.status_code == 400


def test_contract_shape(api, camera):
    record_event(camera, track_event())
    detection = api["viewer"].get("/api/v1/detections").json()["results"][0]
    assert set(detection) >= {
        "id",
        "camera",
        "person",
        "status",
        "score",
        "captured_at",
        "bbox",
        "snapshot_url",
    }
    assert detection["camera"] == {"id": camera.pk, "name": camera.name}
    assert detection["snapshot_url"] == f"/api/v1/detections/{detection['id']}/snapshot"


def test_live_comes_from_the_cache(api, camera, other_camera, django_assert_max_num_queries):
    record_event(camera, track_event(at=time.time() - 120))
    recent = record_event(other_camera, track_event())
    client = api["viewer"]
    with django_assert_max_num_queries(2):  # the token's user, and the camera ids
        body = client.get("/api/v1/detections/live").json()
    assert [d["id"] for d in body["results"]] == [recent.pk]
    assert "server_time" in body
    wide = client.get("/api/v1/detections/live?seconds=600").json()
    assert len(wide["results"]) == 2
    only = client.get(f"/api/v1/detections/live?seconds=600&camera={camera.pk}").json()
    assert len(only["results"]) == 1
    assert client.get("/api/v1/detections/live?seconds=0").status_code == 400
    Detection.objects.all().delete()  # the table is not consulted
    assert len(client.get("/api/v1/detections/live?seconds=600").json()["results"]) == 2


def test_images_need_a_token(api, camera):
    detection = record_event(camera, track_event())
    url = f"/api/v1/detections/{detection.pk}/snapshot"
    response = api["viewer"].get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert api["anonymous"].get(url).status_code == 401
    assert api["viewer"].get(f"/api/v1/detections/{detection.pk}/face").status_code == 200


def test_assign_and_enrol(api, camera):
    person = make_person("P-3")
    big_face = np.ascontiguousarray(
        face_images.scaled(face_images.astronaut(), 2.0)[0:500, 250:750]
    )
    event = track_event()
    event = dataclasses.replace(event, face_crop=big_face)
    detection = record_event(camera, event)
    for role in ("viewer",):
        response = api[role].post(
            f"/api/v1/detections/{detection.pk}/assign", {"person": person.pk}, format="json"
        )
        assert response.status_code == 403
    response = api["operator"].post(
        f"/api/v1/detections/{detection.pk}/assign",
        {"person": person.pk, "enroll": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["person"]["id"] == person.pk
    assert response.json()["status"] == "recognized"
    assert FaceSample.objects.filter(person=person, source="detection").count() == 1
    assert AuditLog.objects.filter(object_type="detections.detection", action="update").exists()
    missing = api["operator"].post(
        f"/api/v1/detections/{detection.pk}/assign", {"person": 99999}, format="json"
    )
    assert missing.status_code == 409  # the referenced person does not exist


def small_face_event():
    """A crop whose face (36x46 px) is below even the camera-crop gate (60 px)."""
    crop = face_images.scaled(np.ascontiguousarray(face_images.astronaut()[0:200, 150:350]), 0.4)
    return dataclasses.replace(track_event(), face_crop=np.ascontiguousarray(crop))


def test_assign_refused_enrolment_changes_nothing(api, camera):
    person = make_person("P-4")
    detection = record_event(camera, small_face_event())
    response = api["hr_manager"].post(
        f"/api/v1/detections/{detection.pk}/assign",
        {"person": person.pk, "enroll": True},
        format="json",
    )
    assert response.status_code == 422
    detection.refresh_from_db()
    assert detection.person_id is None


def test_unknown_faces_are_grouped_and_labelled_together(api, camera, other_camera):
    rng = np.random.default_rng(7)
    stranger = rng.normal(size=128).astype(np.float32)
    stranger /= np.linalg.norm(stranger)
    someone_else = rng.normal(size=128).astype(np.float32)
    someone_else /= np.linalg.norm(someone_else)
    for cam in (camera, camera, other_camera):
        noisy = stranger + rng.normal(scale=0.02, size=128).astype(np.float32)
        event = track_event("confirmed", embedding=noisy / np.linalg.norm(noisy))
        record_event(cam, event)
        record_event(cam, track_event("ended", track_id=event.track_id, embedding=event.embedding))
    other = track_event("confirmed", embedding=someone_else)
    record_event(camera, other)
    record_event(camera, track_event("ended", track_id=other.track_id, embedding=someone_else))

    groups = api["viewer"].get("/api/v1/detections/unknown-faces").json()
    assert groups["count"] == 2
    biggest = max(groups["results"], key=lambda g: g["seen_count"])
    assert biggest["seen_count"] == 3
    assert biggest["label"] == f"unknown #{biggest['id']}"
    assert biggest["last_camera"]["name"] == other_camera.name

    person = make_person("P-5")
    response = api["hr_manager"].post(
        f"/api/v1/detections/unknown-faces/{biggest['id']}/assign",
        {"person": person.pk},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["labelled"] == 3
    assert Detection.objects.filter(person=person).count() == 3
    assert UnknownFace.objects.get(pk=biggest["id"]).resolved_person == person


def grouped(camera, events) -> UnknownFace:
    """One unknown-face group holding the detections of ``events``."""
    group = UnknownFace.objects.create(model_key="test-model", centroid=b"", seen_count=0)
    for event in events:
        detection = record_event(camera, event)
        Detection.objects.filter(pk=detection.pk).update(unknown_face=group)
    return group


def camera_crop(shift: int, blur: float):
    """The astronaut's 90x114 px face as a camera crops it, with the quality the pipeline
    would have measured (``blur`` decides its rank)."""
    crop = np.ascontiguousarray(face_images.astronaut()[shift : 200 + shift, 150:350])
    return dataclasses.replace(
        track_event(),
        face_crop=crop,
        quality={"face_width": 90.0, "face_height": 114.0, "blur": blur},
    )


def test_naming_a_group_enrols_its_best_camera_crops(api, camera, settings):
    settings.UNKNOWN_ENROL_MAX_CROPS = 3
    tiny_but_sharpest = dataclasses.replace(
        small_face_event(), quality={"face_width": 200.0, "face_height": 200.0, "blur": 900.0}
    )
    events = [tiny_but_sharpest, *(camera_crop(shift, 100.0 + shift) for shift in range(0, 8, 2))]
    group = grouped(camera, events)
    person = make_person("P-7")
    response = api["operator"].post(
        f"/api/v1/detections/unknown-faces/{group.pk}/assign",
        {"person": person.pk, "enroll": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["labelled"], response.json()["enrolled"]) == (5, 3)
    samples = FaceSample.objects.filter(person=person, source="detection")
    assert samples.count() == 3  # the tiny crop was refused and the weakest was not needed
    assert all(sample.quality["face_width"] < 100 for sample in samples)  # below the photo gate


def test_naming_a_group_whose_crops_all_fail_labels_nothing(api, camera):
    group = grouped(camera, [small_face_event(), small_face_event()])
    person = make_person("P-8")
    response = api["hr_manager"].post(
        f"/api/v1/detections/unknown-faces/{group.pk}/assign",
        {"person": person.pk, "enroll": True},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "face_too_small"
    assert not Detection.objects.filter(person=person).exists()
    group.refresh_from_db()
    assert group.resolved_person is None
    assert not FaceSample.objects.filter(person=person).exists()


def test_erasure_removes_detection_images(api, camera, media_storage):
    person = make_person("P-6")
    detection = record_event(
        camera, track_event(status="recognized", person_id=person.pk, score=0.8)
    )
    assert len(stored_files(media_storage)) == 2
    assert api["hr_manager"].post(f"/api/v1/people/{person.pk}/erase").status_code == 204
    detection.refresh_from_db()
    assert not detection.face_crop and not detection.frame and detection.embedding is None
    assert stored_files(media_storage) == []


def test_retention(camera, settings, media_storage):
    person = make_person("P-7")
    now = time.time()
    old_known = record_event(
        camera,
        track_event(status="recognized", person_id=person.pk, score=0.9, at=now - 40 * 86400),
    )
    old_unknown = record_event(camera, track_event(at=now - 8 * 86400))
    kept_known = record_event(
        camera, track_event(status="recognized", person_id=person.pk, score=0.9, at=now - 8 * 86400)
    )
    fresh_unknown = record_event(camera, track_event(at=now))
    assign_to_group(old_unknown)
    UnknownFace.objects.update(last_seen=old_unknown.last_seen_at)
    purged = purge_old_detections()
    assert purged == {"detections": 1, "unknown": 1, "unknown_groups": 1}
    assert set(Detection.objects.values_list("pk", flat=True)) == {kept_known.pk, fresh_unknown.pk}
    assert not Detection.objects.filter(pk=old_known.pk).exists()
    assert len(stored_files(media_storage)) == 4


def test_detection_recognized_signal_fires_once(camera):
    from detections.signals import detection_recognized

    received = []

    def receiver(sender, detection, **kwargs):
        received.append(detection.pk)

    detection_recognized.connect(receiver)
    try:
        person = make_person("P-8")
        event = track_event(status="uncertain", score=0.45)
        record_event(camera, event)
        assert received == []
        for kind in ("updated", "ended"):
            record_event(
                camera,
                track_event(
                    kind,
                    track_id=event.track_id,
                    status="recognized",
                    person_id=person.pk,
                    score=0.8,
                ),
            )
    finally:
        detection_recognized.disconnect(receiver)
    assert received == [Detection.objects.get().pk]
    assert Detection.objects.get().status == DetectionStatus.RECOGNIZED


def test_live_cache_drops_old_entries(camera):
    record_event(camera, track_event(at=time.time() - live_cache.WINDOW_SECONDS - 60))
    assert live_cache.recent([camera.pk], live_cache.WINDOW_SECONDS) == []


@pytest.mark.parametrize(
    "role,read,assign,write",
    [
        ("admin", 200, 200, 405),
        ("hr_manager", 200, 200, 405),
        ("operator", 200, 200, 405),
        ("viewer", 200, 403, 403),
        ("anonymous", 401, 401, 401),
    ],
)
def test_detections_role_matrix(api, camera, role, read, assign, write):
    person = make_person(f"R-{role}")
    detection = record_event(camera, track_event())
    client = api[role]
    assert client.get("/api/v1/detections").status_code == read
    assert client.get(f"/api/v1/detections/{detection.pk}").status_code == read
    assert client.get("/api/v1/detections/live").status_code == read
    assert client.get("/api/v1/detections/unknown-faces").status_code == read
    response = client.post(
        f"/api/v1/detections/{detection.pk}/assign", {"person": person.pk}, format="json"
    )
    assert response.status_code == assign
    detection.refresh_from_db()
    assert (detection.person_id == person.pk) is (assign == 200)
    assert client.post("/api/v1/detections", {}, format="json").status_code == write
    assert client.delete(f"/api/v1/detections/{detection.pk}").status_code == write
    assert Detection.objects.filter(pk=detection.pk).exists()


def test_a_garbage_page_is_a_400_in_cursor_mode_too(admin_api):
    """``page`` is unused with ``cursor``, but still not accepted as anything (fuzzing)."""
    response = admin_api.get("/api/v1/detections?cursor=&page=null")
    assert response.status_code == 400
    assert admin_api.get("/api/v1/detections?cursor=&page=2").status_code == 200
