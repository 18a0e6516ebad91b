"""Reactions of the detections app to other apps' signals and to its own deletions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete

from cameras.signals import camera_status_changed
from detections import live
from detections.models import Detection, UnknownFace
from faces.signals import delete_stored_file, person_erased

if TYPE_CHECKING:
    from cameras.models import Camera
    from faces.models import Person


def _delete_images(detection: Detection) -> None:
    for field in (detection.face_crop, detection.frame):
        if field and field.name:
            storage, name = field.storage, field.name
            transaction.on_commit(lambda s=storage, n=name: delete_stored_file(s, n))


def on_detection_deleted(sender: type[Detection], instance: Detection, **_kwargs: object) -> None:
    """Remove a deleted detection's crop and frame from storage once the delete commits."""
    _delete_images(instance)


def _strip_biometrics(detections: QuerySet[Detection]) -> int:
    """Remove the images and embeddings of ``detections`` (files once the erasure
    commits); the rows stay as the record of when someone was seen."""
    stripped = list(detections.only("id", "face_crop", "frame"))
    for detection in stripped:
        _delete_images(detection)
    Detection.objects.filter(pk__in=[d.pk for d in stripped]).update(
        face_crop="", frame="", embedding=None
    )
    return len(stripped)


def on_person_erased(sender: type[Person], person: Person, **_kwargs: object) -> dict[str, int]:
    """A person's erasure removes the face images and embeddings of their detections, and
    the unknown-face groups labelled as them: a group's centroid is a face template, and
    its members that no one else was given are crops of that person's face."""
    groups = UnknownFace.objects.filter(resolved_person=person)
    group_ids = list(groups.values_list("pk", flat=True))
    images = _strip_biometrics(
        Detection.objects.filter(
            Q(person=person) | Q(unknown_face__in=group_ids, person__isnull=True)
        )
    )
    UnknownFace.objects.filter(pk__in=group_ids).delete()
    return {"detection_images": images, "unknown_groups": len(group_ids)}


def on_camera_status(sender: type[Camera], camera: Camera, **_kwargs: object) -> None:
    """Tell the live clients a camera's status changed."""
    live.broadcast(
        "camera.status",
        {
            "id": camera.pk,
            "name": camera.name,
            "status": camera.status,
            "last_frame_at": camera.last_frame_at.isoformat() if camera.last_frame_at else None,
            "fps": camera.fps,
            "analysed_fps": camera.analysed_fps,
            "last_error": camera.redact(camera.last_error),
        },
        camera_id=camera.pk,
    )


def connect() -> None:
    """Connect the receivers; called from ``apps.py`` so the connections are made once."""
    post_delete.connect(on_detection_deleted, sender=Detection, dispatch_uid="det-images")
    person_erased.connect(on_person_erased, dispatch_uid="det-person-erased")
    camera_status_changed.connect(on_camera_status, dispatch_uid="det-camera-status")
