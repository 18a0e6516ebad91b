"""Labelling detections by hand: one detection or a whole group of unknown faces.

With ``enroll`` the face crops become samples of the person, so that the pipeline
recognises them from then on ("who is this?" teaches the system). Crops go through the
normal enrolment (consent rule, detector, embedding, audit) with the gates measured for
camera crops (``QualityGates.for_camera_crops``): a camera sees smaller faces than a
portrait photo, and the photo gate refused them all. A group enrols its best few crops
(``UNKNOWN_ENROL_MAX_CROPS``), each of a different sighting; if none passes, nothing is
labelled and the refusal says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import audit
from detections import live_cache
from detections.models import Detection, DetectionStatus, UnknownFace
from detections.payloads import detection_payload
from faces.engine import decode_image
from faces.enrolment import QualityGates, enrol
from faces.exceptions import FacesError
from faces.models import Person, SampleSource

#: Blur and size at which a crop counts as good as any (the pipeline's ``sharp_blur`` and
#: ``vote_area_cap``): beyond them a crop ranks no higher.
_SHARP_ENOUGH = 150.0
_LARGE_ENOUGH = 150.0


@dataclass(frozen=True)
class GroupAssignment:
    """What naming a group did: detections labelled, and face crops enrolled."""

    labelled: int
    enrolled: int


def _enrol_crop(detection: Detection, person: Person, context: audit.AuditContext) -> None:
    with detection.face_crop.open("rb") as stored:
        image = decode_image(stored.read())
    enrol(
        person,
        image,
        context=context,
        source=SampleSource.DETECTION,
        gates=QualityGates.for_camera_crops(),
        largest=True,
    )


def crop_rank(detection: Detection) -> float:
    """How good a detection's crop looks by the quality the pipeline measured: face size
    times sharpness, each capped where more no longer helps recognition."""
    quality = detection.quality or {}
    size = min(quality.get("face_width", 0.0), quality.get("face_height", 0.0))
    return min(size, _LARGE_ENOUGH) * min(quality.get("blur", 0.0), _SHARP_ENOUGH)


def _enrol_best_crops(members: list[Detection], person: Person, context: audit.AuditContext) -> int:
    """Enrol up to ``UNKNOWN_ENROL_MAX_CROPS`` crops, best first, each in its own savepoint
    so a refused one leaves nothing; raises the best crop's refusal if none passes."""
    limit = settings.UNKNOWN_ENROL_MAX_CROPS
    candidates = sorted((d for d in members if d.face_crop), key=crop_rank, reverse=True)
    enrolled, first_refusal = 0, None
    for detection in candidates:
        if enrolled >= limit:
            break
        try:
            with transaction.atomic():
                _enrol_crop(detection, person, context)
        except FacesError as exc:
            first_refusal = first_refusal or exc
            continue
        enrolled += 1
    if candidates and not enrolled and first_refusal is not None:
        raise first_refusal
    return enrolled


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
) -> GroupAssignment:
    """Label every detection of the group and resolve it; with ``enroll``, enrol its best
    crops (see the module)."""
    with transaction.atomic():
        members = list(group.detections.select_for_update().order_by("-captured_at"))
        for detection in members:
            _label(detection, person, context)
        before = audit.snapshot(group)
        group.resolved_person = person
        group.save(update_fields=["resolved_person"])
        audit.record_update(group, before, context)
        enrolled = _enrol_best_crops(members, person, context) if enroll else 0
    return GroupAssignment(labelled=len(members), enrolled=enrolled)
