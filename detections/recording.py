"""Turning the pipeline's track events into Detection rows, images, cache and broadcasts.

One track is one Detection: ``confirmed`` creates it, ``updated`` and ``ended`` change it
only when the verdict or its confidence moved. The face crop and a downscaled frame go to
storage; the serialized detection goes to the live cache and out on the WebSocket; the
first ``recognized`` verdict of a detection fires ``detection_recognized`` on commit.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from django.core.files.base import ContentFile
from django.db import transaction

from cameras.models import Camera
from detections import live, live_cache, metrics
from detections.clustering import assign_to_group
from detections.models import Detection, DetectionStatus
from detections.payloads import detection_payload
from detections.signals import detection_recognized
from faces.images import encode_jpeg

if TYPE_CHECKING:
    from detections.pipeline.processor import TrackEvent

logger = logging.getLogger(__name__)


def _aware(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _publish(detection: Detection, event_type: str) -> None:
    data = detection_payload(detection)
    live_cache.remember(detection.camera_id, data)
    live.broadcast(event_type, data, camera_id=detection.camera_id)


def _announce_if_recognized(detection: Detection, was_recognized: bool) -> None:
    if detection.status == DetectionStatus.RECOGNIZED and not was_recognized:
        transaction.on_commit(lambda: detection_recognized.send(Detection, detection=detection))


def _person_id(event: TrackEvent) -> int | None:
    return event.person_id if event.status == DetectionStatus.RECOGNIZED else None


def create_detection(camera: Camera, event: TrackEvent) -> Detection:
    """Write the detection of a newly confirmed track, with its crop and frame, and publish it."""
    detection = Detection(
        camera=camera,
        camera_name=camera.name,
        person_id=_person_id(event),
        status=event.status,
        score=float(event.score),
        margin=float(event.margin),
        votes=int(event.votes),
        track_id=str(event.track_id),
        captured_at=_aware(event.first_seen),
        last_seen_at=_aware(event.last_seen),
        model_key=event.model_key,
        embedding=_embedding_bytes(event),
    )
    _save_view(detection, event)
    with transaction.atomic():
        detection.save()
        _announce_if_recognized(detection, was_recognized=False)
    metrics.DETECTIONS.labels(detection.status).inc()
    _publish(detection, "detection.created")
    return detection


def _save_view(detection: Detection, event: TrackEvent) -> None:
    """Store the event's best view (box, quality, face crop, frame) on the detection."""
    detection.bbox = [round(float(v), 1) for v in event.bbox]
    detection.quality = event.quality or {}
    if event.face_crop is not None:
        detection.face_crop.save("face.jpg", ContentFile(encode_jpeg(event.face_crop)), save=False)
    if event.frame is not None:
        detection.frame.save("frame.jpg", ContentFile(encode_jpeg(event.frame, 80)), save=False)


def _delete_files_on_commit(detection: Detection, names: list[str]) -> None:
    """Delete replaced images once the row that pointed at them points at the new ones."""
    storage = detection.face_crop.storage

    def delete() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete)


def _embedding_bytes(event: TrackEvent) -> bytes | None:
    if event.embedding is None:
        return None
    return np.asarray(event.embedding, dtype=np.float32).tobytes()


def update_detection(camera: Camera, event: TrackEvent) -> Detection | None:
    """Bring a track's detection up to date; a person's manual assignment is never overwritten."""
    detection = (
        Detection.objects.select_related("person")
        .filter(camera=camera, track_id=str(event.track_id))
        .first()
    )
    if detection is None:
        return None
    was_recognized = detection.status == DetectionStatus.RECOGNIZED
    verdict_changed = detection.status != event.status or detection.person_id != _person_id(event)
    detection.last_seen_at = max(detection.last_seen_at, _aware(event.last_seen))
    if verdict_changed and detection.assigned_at is None:
        detection.status = event.status
        detection.person_id = _person_id(event)
        detection.score = float(event.score)
        detection.margin = float(event.margin)
        detection.votes = int(event.votes)
        if event.embedding is not None:
            detection.embedding = _embedding_bytes(event)
    # A two-stream camera's first views are cut from the sub-stream (its main stream decodes
    # key frames alone until a face is seen); the visit keeps the main stream's crop. A
    # detection without a crop had its person's biometrics erased: it stays without.
    replaced: list[str] = []
    if event.kind == "ended" and event.crop_from_main_stream and detection.face_crop:
        replaced = [image.name for image in (detection.face_crop, detection.frame) if image]
        _save_view(detection, event)
    with transaction.atomic():
        detection.save()
        _delete_files_on_commit(detection, replaced)
        _announce_if_recognized(detection, was_recognized)
    if event.kind == "ended" and detection.person_id is None and detection.embedding:
        assign_to_group(detection)
    if verdict_changed or event.kind == "ended":
        _publish(detection, "detection.updated")
    return detection


def record_event(camera: Camera, event: TrackEvent) -> Detection | None:
    """Persist one track event; failures are logged so a camera never stops over one."""
    try:
        if event.kind == "confirmed":
            return create_detection(camera, event)
        return update_detection(camera, event)
    except Exception:
        logger.exception("Could not record a %s event of camera %s", event.kind, camera.pk)
        return None
