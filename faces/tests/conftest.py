"""Fixtures for the faces app: isolated media storage and six enrolled people from t1."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from faces import testing
from faces.gallery import _galleries
from faces.models import Person


@pytest.fixture(autouse=True)
def media_storage(settings, tmp_path):
    """Every test writes photos into its own folder, so it can check what is left."""
    root = tmp_path / "media"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    settings.FACE_GALLERY_CHECK_SECONDS = 0
    _galleries.clear()
    yield root
    _galleries.clear()


def stored_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def make_person(code: str, *, consent: bool = True, **fields) -> Person:
    return Person.objects.create(
        employee_code=code,
        full_name=fields.pop("full_name", f"Person {code}"),
        consent_at=timezone.now() if consent else None,
        **fields,
    )


@dataclass
class EnrolledFace:
    person: Person
    center: tuple[float, float]
    """Face centre in the coordinates of the original t1.jpg."""


T1_ENROL_SCALE = 2.0


@pytest.fixture
def enrolled_t1(api, settings) -> list[EnrolledFace]:
    """The six people of t1, each enrolled through the API from t1 scaled 2x.

    One t1 face is turned ~39 degrees, past the default frontal gate; the gate is widened
    here because these tests are about recognition, not enrolment quality.
    """
    settings.FACE_MAX_YAW = 45
    photo = testing.jpeg_bytes(testing.scaled(testing.t1(), T1_ENROL_SCALE), 95)
    enrolled = []
    for index in range(6):
        person = make_person(f"T1-{index}", full_name=f"T1 person {index}")
        response = api["hr_manager"].post(
            f"/api/v1/people/{person.pk}/faces",
            {"image": upload(photo), "face_index": index},
            format="multipart",
        )
        assert response.status_code == 201, response.json()
        cx, cy = testing.box_centre(response.json()["bbox"])
        enrolled.append(EnrolledFace(person, (cx / T1_ENROL_SCALE, cy / T1_ENROL_SCALE)))
    return enrolled
