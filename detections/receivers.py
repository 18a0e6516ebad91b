"""Reactions of the detections app to other apps' signals and to its own deletions."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete

from cameras.signals import camera_status_changed
from detections import live
from detections.models import Detection
from faces.signals import delete_stored_file, person_erased


def _delete_images(detection: Detection) -> None:
    for field in (detection.face_crop, detection.frame):
        if field and field.name:
            storage, name = field.storage, field.name
            transaction.on_commit(lambda s=storage, n=name: delete_stored_file(s, n))


def on_detection_deleted(sender, instance: Detection, **_kwargs) -> None:
    _delete_images(instance)


def on_person_erased(sender, person, **_kwargs) -> dict[str, int]:
    """A person's erasure removes the face images and embeddings of their detections;
    the rows stay, without biometrics, as the record of when they were seen."""
    detections = list(Detection.objects.filter(person=person))
    for detection in detections:
        _delete_images(detection)
    Detection.objects.filter(person=person).update(face_crop="", frame="", embedding=None)
    return {"detection_images": len(detections)}


def on_camera_status(sender, camera, **_kwargs) -> None:
    live.broadcast(
        "camera.status",
        {
            "id": camera.pk,
            "name": camera.name,
            "status": camera.status,
            "last_frame_at": camera.last_frame_at.isoformat() if camera.last_frame_at else None,
            "fps": camera.fps,
            "last_error": camera.redact(camera.last_error),
        },
        camera_id=camera.pk,
    )


def connect() -> None:
    post_delete.connect(on_detection_deleted, sender=Detection, dispatch_uid="det-images")
    person_erased.connect(on_person_erased, dispatch_uid="det-person-erased")
    camera_status_changed.connect(on_camera_status, dispatch_uid="det-camera-status")
