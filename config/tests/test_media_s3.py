"""Media on S3, over HTTP: the production storage backend against an S3 server on loopback.

No MinIO binary can be had here, so moto's S3 server (``moto[server]``) runs in a thread on
a free port and the storage settings point at it the way ``S3_*`` do in production
(``config.storage.s3_storage``). Enrolment photos, detection crops and frames are written
there, served to staff through the private image views, and deleted from the bucket by
face deletion, erasure, a better crop at the end of a visit and retention; the bucket is
listed to check.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import boto3
import pytest
from django.utils import timezone

from cameras.models import Camera
from config.loopback import LOOPBACK, free_port
from config.storage import s3_storage
from detections.models import Detection
from detections.recording import record_event
from detections.tasks import purge_old_detections
from detections.testing import track_event
from faces import testing
from faces.gallery import _galleries
from faces.models import FaceSample
from faces.tests.conftest import make_person, upload

pytestmark = pytest.mark.django_db(transaction=True)

CREDENTIALS = {"aws_access_key_id": "presence-test", "aws_secret_access_key": "presence-test"}
REGION = "us-east-1"


@dataclass
class Bucket:
    client: object
    name: str

    def keys(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(settings, s3_endpoint) -> Bucket:
    """A fresh private bucket, and the default storage writing to it."""
    name = f"presence-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS)
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket=name,
            endpoint_url=s3_endpoint,
            access_key=CREDENTIALS["aws_access_key_id"],
            secret_key=CREDENTIALS["aws_secret_access_key"],
            region=REGION,
        ),
    }
    settings.FACE_GALLERY_CHECK_SECONDS = 0
    _galleries.clear()
    return Bucket(client, name)


def photo() -> bytes:
    """The astronaut at twice the size: one sharp, frontal face."""
    return testing.jpeg_bytes(testing.scaled(testing.astronaut(), 2.0))


def test_enrolment_photos_are_written_served_and_deleted_on_s3(api, bucket):
    person = make_person("S3-1")
    hr = api["hr_manager"]
    response = hr.post(
        f"/api/v1/people/{person.pk}/faces", {"image": upload(photo())}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    sample = FaceSample.objects.get(pk=response.json()["id"])
    assert bucket.keys() == {sample.image.name}

    image = hr.get(f"/api/v1/people/{person.pk}/faces/{sample.pk}/image")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content if image.streaming else [image.content]) == (
        bucket.read(sample.image.name)
    )

    assert hr.delete(f"/api/v1/people/{person.pk}/faces/{sample.pk}").status_code == 204
    assert bucket.keys() == set()


def images_of(detection: Detection) -> set[str]:
    detection.refresh_from_db()
    return {name for name in (detection.face_crop.name, detection.frame.name) if name}


def test_detection_images_live_on_s3_until_erasure_or_retention_removes_them(api, bucket):
    camera = Camera.objects.create(name="Door", source_url="rtsp://10.0.0.5/live")
    person = make_person("S3-2")
    seen = track_event(status="recognized", person_id=person.pk, crop_size=80)
    detection = record_event(camera, seen)
    first = images_of(detection)
    assert len(first) == 2 and bucket.keys() == first

    face = api["viewer"].get(f"/api/v1/detections/{detection.pk}/face")
    assert face.status_code == 200
    body = b"".join(face.streaming_content) if face.streaming else face.content
    assert body == bucket.read(detection.face_crop.name)

    # The end of the visit brings the main stream's crop: the confirmed one's objects go.
    ended = track_event(
        "ended",
        track_id=seen.track_id,
        status="recognized",
        person_id=person.pk,
        crop_size=160,
        crop_from_main_stream=True,
    )
    record_event(camera, ended)
    replaced = images_of(detection)
    assert len(replaced) == 2 and not replaced & first and bucket.keys() == replaced

    old = record_event(camera, track_event(at=(timezone.now() - timedelta(days=400)).timestamp()))
    Detection.objects.filter(pk=old.pk).update(captured_at=timezone.now() - timedelta(days=400))
    assert bucket.keys() == replaced | images_of(old)

    assert api["hr_manager"].post(f"/api/v1/people/{person.pk}/erase").status_code == 204
    assert bucket.keys() == images_of(old)  # the erased person's crop and frame are gone
    purge_old_detections()
    assert bucket.keys() == set()
