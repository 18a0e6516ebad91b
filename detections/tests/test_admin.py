"""The detections back-office: labelling as the API allows it, and audited face crops."""

import re
import threading

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from accounts.models import AuditLog
from accounts.roles import Role
from detections.models import Detection, DetectionStatus, UnknownFace
from faces import testing
from faces.tests.conftest import make_person

pytestmark = pytest.mark.django_db

JPEG = testing.jpeg_bytes(testing.astronaut()[0:64, 0:64])


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_detection(camera, number: int, *, crop: bool = True, **fields) -> Detection:
    now = timezone.now()
    detection = Detection(
        camera=camera,
        camera_name=camera.name if camera else "gone",
        status=fields.pop("status", DetectionStatus.UNKNOWN),
        score=0.2,
        track_id=f"track-{number}",
        bbox=[0, 0, 64, 64],
        captured_at=now,
        last_seen_at=now,
        model_key="m",
        **fields,
    )
    if crop:
        detection.face_crop.save(f"face-{number}.jpg", ContentFile(JPEG), save=False)
    detection.save()
    return detection


def reads(**filters):
    return AuditLog.objects.filter(action="read", **filters)


@pytest.mark.parametrize("role", [Role.HR_MANAGER, Role.OPERATOR])
def test_staff_label_a_detection_as_the_api_allows(request, role, camera):
    user = request.getfixturevalue(role)
    detection = make_detection(camera, 1)
    person = make_person("LBL-1")
    url = f"/admin/detections/detection/{detection.pk}/change/"
    page = browser(user).get(url)
    assert page.status_code == 200
    assert b'name="_save"' in page.content  # a Save button, and...
    assert b'name="person"' in page.content
    assert b'name="score"' not in page.content  # ...only the label to change

    response = browser(user).post(url, {"person": person.pk, "score": "0.99"})
    assert response.status_code == 302, response.content[:2000]
    detection.refresh_from_db()
    assert detection.person == person and detection.status == DetectionStatus.RECOGNIZED
    assert detection.assigned_by == user and detection.score == 0.2
    row = AuditLog.objects.get(object_type="detections.detection", action="update")
    assert row.actor == user and row.changes["person_id"]["new"] == person.pk


def test_hr_label_an_unknown_group_but_not_delete_it(hr_manager, camera):
    group = UnknownFace.objects.create(model_key="m", centroid=b"\0" * 16)
    member = make_detection(camera, 2, unknown_face=group)
    person = make_person("LBL-2")
    client = browser(hr_manager)
    url = f"/admin/detections/unknownface/{group.pk}/change/"
    assert b'name="_save"' in client.get(url).content
    assert client.post(url, {"resolved_person": person.pk}).status_code == 302
    member.refresh_from_db()
    group.refresh_from_db()
    assert member.person == person and group.resolved_person == person
    assert client.get(f"/admin/detections/unknownface/{group.pk}/delete/").status_code == 403


def test_who_is_this_teaches_by_default(hr_manager, camera):
    """The group form offers to enrol the group's faces, ticked; a camera-sized face
    (90x114 px, below the photo gate) is enrolled and the page says so."""
    from faces.models import FaceSample

    group = UnknownFace.objects.create(model_key="m", centroid=b"\0" * 16)
    member = make_detection(camera, 4, unknown_face=group)
    crop = testing.jpeg_bytes(testing.astronaut()[0:200, 150:350])
    member.face_crop.save("face-camera.jpg", ContentFile(crop))
    person = make_person("LBL-4")
    client = browser(hr_manager)
    url = f"/admin/detections/unknownface/{group.pk}/change/"
    form = client.get(url).content.decode()
    assert re.search(r'<input type="checkbox" name="enrol_face"[^>]*checked', form)
    assert "Recognise this face from now on" in form
    response = client.post(url, {"resolved_person": person.pk, "enrol_face": "on"}, follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert f"Labelled 1 detection(s) as {person}, enrolled 1 face(s)." in said
    assert FaceSample.objects.get(person=person).source == "detection"


def test_a_labelled_detection_cannot_be_unlabelled(operator, camera):
    person = make_person("LBL-3")
    detection = make_detection(camera, 3, person=person, status=DetectionStatus.RECOGNIZED)
    url = f"/admin/detections/detection/{detection.pk}/change/"
    response = browser(operator).post(url, {"person": ""})
    assert response.status_code == 200 and b"cannot be unlabelled" in response.content
    detection.refresh_from_db()
    assert detection.person == person


def test_a_page_of_fifty_thumbnails_is_one_audit_row(hr_manager, camera):
    detections = [make_detection(camera, n) for n in range(50)]
    client = browser(hr_manager)
    page = client.get("/admin/detections/detection/?all=", REMOTE_ADDR="192.0.2.50")
    assert page.status_code == 200
    thumbnails = re.findall(r'src="(/admin/detections/detection/\d+/face/)"', page.text)
    assert len(thumbnails) == 50
    for url in thumbnails:
        response = client.get(url, REMOTE_ADDR="192.0.2.50")
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]
        b"".join(response.streaming_content)

    row = reads().get()
    assert row.actor == hr_manager and row.actor_email == hr_manager.email
    assert row.ip == "192.0.2.50" and row.source == "admin"
    assert row.object_type == "detections.detection"
    assert sorted(row.changes["ids"]) == sorted(d.pk for d in detections)
    assert row.changes["count"] == 50 and row.changes["image"] == "face"


def test_reads_by_another_user_or_of_another_kind_are_separate_rows(
    hr_manager, operator, camera, settings
):
    detection = make_detection(camera, 4)
    for user in (hr_manager, operator):
        response = browser(user).get(f"/admin/detections/detection/{detection.pk}/face/")
        assert response.status_code == 200
    assert reads().count() == 2
    settings.AUDIT_READ_BATCH_SECONDS = 0  # every batch is already closed
    browser(operator).get(f"/admin/detections/detection/{detection.pk}/face/")
    assert reads(actor=operator).count() == 2


def test_a_read_through_the_api_names_the_actor_and_address(api, viewer, camera):
    detection = make_detection(camera, 5)
    detection.frame.save("frame-5.jpg", ContentFile(JPEG))
    for image in ("face", "snapshot"):
        response = api[Role.VIEWER].get(
            f"/api/v1/detections/{detection.pk}/{image}", REMOTE_ADDR="198.51.100.7"
        )
        assert response.status_code == 200
    rows = {row.changes["image"]: row for row in reads()}
    assert set(rows) == {"face", "frame"}
    for row in rows.values():
        assert row.actor == viewer and row.ip == "198.51.100.7" and row.source == "api"
        assert row.changes["ids"] == [detection.pk] and row.object_id == str(detection.pk)


def test_an_image_that_is_refused_or_missing_is_not_recorded(api, camera):
    detection = make_detection(camera, 6, crop=False)
    assert api[Role.VIEWER].get(f"/api/v1/detections/{detection.pk}/face").status_code == 404
    assert api["anonymous"].get(f"/api/v1/detections/{detection.pk}/face").status_code == 401
    assert not reads().exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_reads_from_several_connections_share_one_row(hr_manager, camera):
    """Browsers fetch thumbnails in parallel, each request on its own connection (here a
    thread each): the batch must still be one row."""
    detections = [make_detection(camera, 100 + n) for n in range(12)]
    barrier = threading.Barrier(len(detections))
    errors = []

    def fetch(detection: Detection) -> None:
        from django.db import connections

        try:
            client = browser(hr_manager)
            barrier.wait(timeout=30)
            response = client.get(f"/admin/detections/detection/{detection.pk}/face/")
            b"".join(response.streaming_content)
            assert response.status_code == 200
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fetch, args=(d,)) for d in detections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    row = reads().get()
    assert sorted(row.changes["ids"]) == sorted(d.pk for d in detections)
