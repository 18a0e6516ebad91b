"""Enrol real faces through the API and identify them in altered photos."""

import cv2
import numpy as np
import pytest
from django.conf import settings

from faces import testing
from faces.tests.conftest import make_person, upload

pytestmark = pytest.mark.django_db


def identify(client, image: np.ndarray):
    response = client.post(
        "/api/v1/faces/identify",
        {"image": upload(testing.jpeg_bytes(image, 95))},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    return response.json()["faces"]


@pytest.mark.parametrize("variant", list(testing.variants(testing.t1())))
def test_t1_variants_are_all_recognised(api, enrolled_t1, variant):
    image, to_variant = testing.variants(testing.t1())[variant]
    faces = identify(api["viewer"], image)
    assert len(faces) == 6
    boxes = [face["bbox"] for face in faces]
    for enrolled in enrolled_t1:
        face = faces[testing.nearest(to_variant(*enrolled.center), boxes)]
        assert face["status"] == "recognized", (variant, enrolled.person, face)
        assert face["person"]["id"] == enrolled.person.pk
        assert face["candidates"][0]["person"]["id"] == enrolled.person.pk
        impostors = [c["score"] for c in face["candidates"][1:]]
        assert max(impostors) < settings.FACE_UNKNOWN_THRESHOLD, (variant, impostors)
    assert len({face["person"]["id"] for face in faces}) == 6


@pytest.mark.parametrize("stranger", ["hanks", "astronaut"])
def test_a_face_never_enrolled_is_unknown(api, enrolled_t1, stranger):
    image = testing.scaled(getattr(testing, stranger)(), 2.0)
    faces = identify(api["operator"], image)
    assert len(faces) == 1
    assert faces[0]["status"] == "unknown"
    assert faces[0]["person"] is None
    assert faces[0]["score"] < settings.FACE_UNKNOWN_THRESHOLD


def test_response_shape_follows_the_contract(api, enrolled_t1):
    face = identify(api["viewer"], testing.t1())[0]
    assert set(face) >= {"bbox", "quality", "status", "person", "score", "candidates"}
    assert set(face["person"]) == {"id", "employee_code", "full_name"}
    assert len(face["bbox"]) == 4
    assert set(face["quality"]) >= {"blur", "yaw_deg", "inter_eye_px", "det_score"}


def _crop(image, center, half=110):
    x, y = (int(v) for v in center)
    return image[max(0, y - half) : y + half, max(0, x - half) : x + half]


def test_two_faces_in_one_picture_are_two_people(api, enrolled_t1):
    first, second = enrolled_t1[1], enrolled_t1[5]
    pair = np.hstack([_crop(testing.t1(), first.center), _crop(testing.t1(), second.center)])
    faces = identify(api["viewer"], testing.scaled(pair, 1.5))
    assert sorted(f["person"]["id"] for f in faces) == sorted([first.person.pk, second.person.pk])


def test_the_same_person_twice_is_not_given_twice(api, enrolled_t1):
    crop = _crop(testing.t1(), enrolled_t1[1].center)
    twice = np.hstack([crop, cv2.flip(crop, 1)])
    faces = identify(api["viewer"], testing.scaled(twice, 1.5))
    assert len(faces) == 2
    named = [f["person"]["id"] for f in faces if f["person"] is not None]
    assert named == [enrolled_t1[1].person.pk]
    assert sorted(f["status"] for f in faces)[0] == "recognized"


def test_identify_with_an_empty_gallery(api):
    faces = identify(api["viewer"], testing.t1())
    assert len(faces) == 6
    assert all(f["status"] == "unknown" and f["candidates"] == [] for f in faces)


def test_verify(api, enrolled_t1):
    image, to_variant = testing.variants(testing.t1())["flip"]
    target = enrolled_t1[2]
    crop = _crop(image, to_variant(*target.center))
    response = api["viewer"].post(
        "/api/v1/faces/verify",
        {
            "image": upload(testing.jpeg_bytes(testing.scaled(crop, 1.5))),
            "person": target.person.pk,
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["match"] is True
    other = api["viewer"].post(
        "/api/v1/faces/verify",
        {
            "image": upload(testing.jpeg_bytes(testing.scaled(crop, 1.5))),
            "person": enrolled_t1[0].person.pk,
        },
        format="multipart",
    )
    assert other.json()["match"] is False
    assert other.json()["score"] < settings.FACE_UNKNOWN_THRESHOLD


def test_verify_unknown_person_and_not_enrolled(api, enrolled_t1):
    photo = upload(testing.jpeg_bytes(testing.t1()))
    response = api["viewer"].post(
        "/api/v1/faces/verify", {"image": photo, "person": 999999}, format="multipart"
    )
    assert response.status_code == 409  # the referenced person does not exist
    assert "person" in response.json()["error"]["details"]
    bare = make_person("NOFACE")
    response = api["viewer"].post(
        "/api/v1/faces/verify",
        {"image": upload(testing.jpeg_bytes(testing.t1())), "person": bare.pk},
        format="multipart",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_enrolled"
