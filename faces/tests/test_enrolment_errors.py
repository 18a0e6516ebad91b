"""Every bad enrolment answers 4xx in the envelope, never 500, and stores nothing."""

import cv2
import numpy as np
import pytest

from faces import testing
from faces.models import FaceEmbedding, FaceSample
from faces.tests.conftest import make_person, stored_files, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db):
    return make_person("E-1")


def post_face(client, person, data, **extra):
    return client.post(
        f"/api/v1/people/{person.pk}/faces", {"image": upload(data), **extra}, format="multipart"
    )


def assert_refused(response, status, code, media_storage):
    assert response.status_code == status, response.content[:500]
    assert response.json()["error"]["code"] == code
    assert FaceSample.objects.count() == 0
    assert FaceEmbedding.objects.count() == 0
    assert stored_files(media_storage) == []


def good_photo() -> bytes:
    """The astronaut at twice the size: one sharp, frontal face of about 180 px."""
    return testing.jpeg_bytes(testing.scaled(testing.astronaut(), 2.0))


def blank(width=400, height=400):
    return np.full((height, width, 3), 200, np.uint8)


CASES = {
    "not an image": (lambda: b"%PDF-1.4 definitely not a photo", 415, "not_an_image"),
    "truncated jpeg": (
        lambda: testing.jpeg_bytes(testing.scaled(testing.astronaut(), 1.0))[:3000],
        422,
        "corrupt_image",
    ),
    "decompression bomb": (lambda: testing.decompression_bomb_png(10_000), 413, "too_many_pixels"),
    "no face": (lambda: testing.jpeg_bytes(blank()), 422, "no_face"),
    "several faces": (
        lambda: testing.jpeg_bytes(testing.scaled(testing.t1(), 2)),
        422,
        "multiple_faces",
    ),
    "face too small": (lambda: testing.png_bytes(testing.hanks()), 422, "face_too_small"),
    "too blurry": (
        lambda: testing.jpeg_bytes(
            cv2.GaussianBlur(testing.scaled(testing.astronaut(), 2.0), (0, 0), 8)
        ),
        422,
        "too_blurry",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_photo_is_refused(api, person, media_storage, case):
    make_data, status, code = CASES[case]
    assert_refused(post_face(api["hr_manager"], person, make_data()), status, code, media_storage)


def test_turned_face_is_refused(api, person, media_storage):
    photo = testing.jpeg_bytes(testing.scaled(testing.t1(), 2), 95)
    responses = [post_face(api["hr_manager"], person, photo, face_index=i) for i in range(6)]
    refused = [r for r in responses if r.status_code == 422]
    assert [r.json()["error"]["code"] for r in refused] == ["not_frontal"]
    assert FaceSample.objects.count() == 5


def test_face_index_out_of_range(api, person, media_storage):
    photo = testing.jpeg_bytes(testing.scaled(testing.astronaut(), 1.0))
    response = post_face(api["hr_manager"], person, photo, face_index=3)
    assert_refused(response, 422, "face_index_out_of_range", media_storage)


def test_oversized_file(api, person, media_storage, settings):
    settings.FACE_MAX_IMAGE_BYTES = 50_000
    photo = testing.jpeg_bytes(testing.scaled(testing.astronaut(), 2.0), 100)
    assert len(photo) > 50_000
    assert_refused(
        post_face(api["hr_manager"], person, photo), 413, "image_too_large", media_storage
    )


def test_body_over_request_limit(api, person, media_storage, settings):
    settings.API_MAX_REQUEST_BYTES = 10_000
    photo = testing.jpeg_bytes(testing.astronaut())
    response = post_face(api["hr_manager"], person, photo)
    assert_refused(response, 413, "request_too_large", media_storage)


def test_without_consent(api, media_storage):
    person = make_person("E-2", consent=False)
    photo = testing.jpeg_bytes(testing.astronaut())
    assert_refused(
        post_face(api["hr_manager"], person, photo), 409, "consent_required", media_storage
    )


def test_wrong_types(api, person, media_storage):
    client = api["hr_manager"]
    as_json = client.post(f"/api/v1/people/{person.pk}/faces", {"image": "abc"}, format="json")
    assert_refused(as_json, 415, "unsupported_media_type", media_storage)
    missing = client.post(f"/api/v1/people/{person.pk}/faces", {}, format="multipart")
    assert_refused(missing, 400, "validation_error", media_storage)
    photo = testing.jpeg_bytes(testing.astronaut())
    bad_index = post_face(client, person, photo, face_index="first")
    assert_refused(bad_index, 400, "validation_error", media_storage)
    assert "face_index" in bad_index.json()["error"]["details"]


def test_unknown_person(api, media_storage):
    photo = testing.jpeg_bytes(testing.astronaut())
    response = api["hr_manager"].post(
        "/api/v1/people/999999/faces", {"image": upload(photo)}, format="multipart"
    )
    assert_refused(response, 404, "not_found", media_storage)


def test_identify_bad_input(api, media_storage):
    client = api["viewer"]
    response = client.post(
        "/api/v1/faces/identify", {"image": upload(b"plain text, not a photo")}, format="multipart"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "not_an_image"
    truncated = testing.jpeg_bytes(testing.astronaut())[:2000]
    response = client.post(
        "/api/v1/faces/identify", {"image": upload(truncated)}, format="multipart"
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "corrupt_image"
    response = client.post("/api/v1/faces/identify", {"k": "x"}, format="multipart")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"image", "k"}


def test_storage_failure_leaves_nothing(api, person, media_storage, monkeypatch):
    from faces import enrolment

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(enrolment.audit, "record_create", broken)
    client = api["hr_manager"]
    client.raise_request_exception = False
    response = post_face(client, person, good_photo())
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert FaceSample.objects.count() == 0
    assert stored_files(media_storage) == []


def test_good_photo_is_enrolled_with_a_quality_report(api, person, media_storage):
    response = post_face(api["hr_manager"], person, good_photo())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body["quality"]) == {
        "face_width",
        "face_height",
        "inter_eye_px",
        "det_score",
        "blur",
        "yaw_deg",
    }
    assert body["model_keys"] == [FaceEmbedding.objects.get().model_key]
    assert len(stored_files(media_storage)) == 1
    image = api["hr_manager"].get(body["image_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert api["viewer"].get(body["image_url"]).status_code == 403
