"""Labelling detections by hand: one detection or a whole group of unknown faces.

Optionally the face crop is enrolled for the person (through the normal enrolment, so its
quality gates and consent rule apply); if enrolment is refused, nothing is labelled.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts import audit
from detections import live_cache
from detections.models import Detection, DetectionStatus, UnknownFace
from detections.payloads import detection_payload
from faces.engine import decode_image
from faces.enrolment import enrol
from faces.models import Person, SampleSource


def _enrol_crop(detection: Detection, person: Person, context: audit.AuditContext) -> None:
    with detection.face_crop.open("rb") as stored:
        image = decode_image(stored.read())
    enrol(person, image, context=context, source=SampleSource.DETECTION, face_index=None)


def _label(detection: Detection, person: Person, context: audit.AuditContext) -> None:
    before = audit.snapshot(detection)
    detection.person = person
    detection.status = DetectionStatus.RECOGNIZED
    detection.assigned_by = context.actor
    detection.assigned_at = timezone.now()
    detection.save()
    audit.record_update(detection, before, context)


def assign_detection(
    detection: Detection, person: Person, *, enroll: bool, context: audit.AuditContext
) -> Detection:
    """Label a detection as ``person`` (audited), optionally enrolling its crop as a sample."""
    with transaction.atomic():
        _label(detection, person, context)
        if enroll and detection.face_crop:
            _enrol_crop(detection, person, context)
    if detection.camera_id:
        live_cache.remember(detection.camera_id, detection_payload(detection))
    return detection


def assign_group(
    group: UnknownFace, person: Person, *, enroll: bool, context: audit.AuditContext
) -> int:
    """Label every detection of the group; enrol its largest face crop if asked."""
    with transaction.atomic():
        members = list(group.detections.select_for_update().order_by("-captured_at"))
        for detection in members:
            _label(detection, person, context)
        before = audit.snapshot(group)
        group.resolved_person = person
        group.save(update_fields=["resolved_person"])
        audit.record_update(group, before, context)
        with_crops = [d for d in members if d.face_crop]
        if enroll and with_crops:
            largest = max(with_crops, key=lambda d: d.bbox[2] * d.bbox[3])
            _enrol_crop(largest, person, context)
    return len(members)
