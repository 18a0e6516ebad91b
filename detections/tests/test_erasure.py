"""Erasing a person also erases the unknown-face groups that were labelled as them."""

from __future__ import annotations

import numpy as np
import pytest

from accounts.models import AuditLog
from detections.models import Detection, UnknownFace
from detections.recording import record_event
from detections.testing import track_event
from faces.tests.conftest import make_person

pytestmark = pytest.mark.django_db(transaction=True)


def _stranger_group(camera, seed: int, visits: int = 2) -> UnknownFace:
    """An unknown-face group of ``visits`` detections of one random face."""
    rng = np.random.default_rng(seed)
    face = rng.normal(size=128).astype(np.float32)
    face /= np.linalg.norm(face)
    for _ in range(visits):
        noisy = face + rng.normal(scale=0.02, size=128).astype(np.float32)
        event = track_event("confirmed", embedding=noisy / np.linalg.norm(noisy))
        record_event(camera, event)
        record_event(camera, track_event("ended", track_id=event.track_id, embedding=noisy))
    return Detection.objects.get(track_id=event.track_id).unknown_face


def _files(detections) -> list:
    return [f.path for d in detections for f in (d.face_crop, d.frame) if f]


def test_erasure_removes_the_groups_labelled_as_the_person(api, camera, media_storage):
    erased, kept = make_person("E-1"), make_person("E-2")
    mine, theirs = _stranger_group(camera, seed=1), _stranger_group(camera, seed=2)
    unlabelled = _stranger_group(camera, seed=3)
    for group, person in ((mine, erased), (theirs, kept)):
        response = api["hr_manager"].post(
            f"/api/v1/detections/unknown-faces/{group.pk}/assign",
            {"person": person.pk},
            format="json",
        )
        assert response.status_code == 200
    # A member no one was given (labelled back to unknown) is still a crop of the group.
    straggler = Detection.objects.filter(unknown_face=mine).first()
    Detection.objects.filter(pk=straggler.pk).update(person=None, status="unknown")
    my_files = _files(Detection.objects.filter(unknown_face=mine))
    other_groups = {g.pk: bytes(g.centroid) for g in (theirs, unlabelled)}
    other_detections = list(Detection.objects.exclude(unknown_face=mine))
    other_files = _files(other_detections)
    assert len(my_files) == 4 and all(media_storage.joinpath(p).exists() for p in my_files)

    assert api["hr_manager"].post(f"/api/v1/people/{erased.pk}/erase").status_code == 204

    assert not UnknownFace.objects.filter(pk=mine.pk).exists()
    straggler.refresh_from_db()
    assert not straggler.face_crop and not straggler.frame and straggler.embedding is None
    assert not Detection.objects.filter(person=erased).exclude(face_crop="").exists()
    assert not any(media_storage.joinpath(p).exists() for p in my_files)
    # No one else's data is touched.
    assert {g.pk: bytes(g.centroid) for g in UnknownFace.objects.all()} == other_groups
    assert UnknownFace.objects.get(pk=theirs.pk).resolved_person == kept
    for before in other_detections:
        after = Detection.objects.get(pk=before.pk)
        assert (after.face_crop.name, after.frame.name, bytes(after.embedding)) == (
            before.face_crop.name,
            before.frame.name,
            bytes(before.embedding),
        )
    assert len(other_files) == 8 and all(media_storage.joinpath(p).exists() for p in other_files)
    removed = AuditLog.objects.get(action="erase", object_id=str(erased.pk)).changes["removed"]
    assert (removed["unknown_groups"], removed["detection_images"]) == (1, 2)
