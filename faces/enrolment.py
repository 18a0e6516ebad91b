"""Enrolling a face sample: detect, choose the face, gate on quality, embed, store.

The photo is stored as the decoded, upright JPEG (EXIF orientation applied), so the stored
bounding box and landmarks refer to the stored pixels and re-embedding later needs no
orientation handling. Either everything is stored (file, sample, embedding, audit row) or
nothing: a failed transaction removes the file it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from accounts import audit
from faces.engine import Face, FaceEngine, get_engine
from faces.engine.quality import QualityReport, assess_quality
from faces.exceptions import ConsentRequired, EnrolmentRejected
from faces.images import encode_jpeg
from faces.models import FaceEmbedding, FaceSample, Person, SampleSource
from faces.signals import delete_stored_file


@dataclass(frozen=True)
class QualityGates:
    """The minimum quality an enrolment photo must have, so the gallery stays reliable."""

    min_eye_distance: float
    min_box: float
    min_blur: float
    max_yaw: float

    @classmethod
    def from_settings(cls) -> QualityGates:
        """The gates as configured (``FACE_MIN_*``, ``FACE_MAX_YAW``)."""
        return cls(
            min_eye_distance=settings.FACE_MIN_EYE_DISTANCE,
            min_box=settings.FACE_MIN_BOX,
            min_blur=settings.FACE_MIN_BLUR,
            max_yaw=settings.FACE_MAX_YAW,
        )

    @classmethod
    def for_camera_crops(cls) -> QualityGates:
        """The gates for a camera's face crop (``FACE_CROP_MIN_*``): smaller faces than a
        photo, as sharp and as frontal."""
        return cls(
            min_eye_distance=settings.FACE_CROP_MIN_EYE_DISTANCE,
            min_box=settings.FACE_CROP_MIN_BOX,
            min_blur=settings.FACE_MIN_BLUR,
            max_yaw=settings.FACE_MAX_YAW,
        )

    def check(self, report: QualityReport) -> None:
        """Raise ``LowQuality`` naming the first gate the face fails."""
        quality = {"quality": report.as_dict()}
        if (
            report.inter_eye_px < self.min_eye_distance
            or min(report.face_width, report.face_height) < self.min_box
        ):
            raise EnrolmentRejected(
                f"The face is too small: eyes {report.inter_eye_px:.0f} px apart and box "
                f"{report.face_width:.0f}x{report.face_height:.0f} px; at least "
                f"{self.min_eye_distance:.0f} px and {self.min_box:.0f} px are needed.",
                code="face_too_small",
                details=quality,
            )
        if report.blur < self.min_blur:
            raise EnrolmentRejected(
                f"The face is too blurry (sharpness {report.blur:.0f}, at least "
                f"{self.min_blur:.0f} needed).",
                code="too_blurry",
                details=quality,
            )
        if abs(report.yaw_deg) > self.max_yaw:
            raise EnrolmentRejected(
                f"The face is turned {abs(report.yaw_deg):.0f} degrees away; at most "
                f"{self.max_yaw:.0f} is allowed. Use a frontal photo.",
                code="not_frontal",
                details=quality,
            )


def choose_face(faces: list[Face], face_index: int | None, *, largest: bool = False) -> Face:
    """The face to enrol: the one asked for, or the only one; ambiguity is refused unless
    ``largest`` (a camera's face crop, where the face it was cut around fills the crop and
    a neighbour shows only in part)."""
    if not faces:
        raise EnrolmentRejected("No face was found in the photo.", code="no_face")
    if largest and face_index is None:
        return max(faces, key=lambda face: face.width * face.height)
    if face_index is not None:
        if not 0 <= face_index < len(faces):
            raise EnrolmentRejected(
                f"face_index {face_index} is out of range; the photo has {len(faces)} face(s).",
                code="face_index_out_of_range",
                details={"face_index": [f"Between 0 and {len(faces) - 1}."]},
            )
        return faces[face_index]
    if len(faces) > 1:
        raise EnrolmentRejected(
            f"The photo has {len(faces)} faces; choose one with face_index.",
            code="multiple_faces",
            details={"faces": [face.as_dict() for face in faces]},
        )
    return faces[0]


def require_consent(person: Person) -> None:
    """Refuse to process biometrics of a person who has not consented (GDPR art. 9)."""
    if not person.has_consent:
        raise ConsentRequired(
            "Record the person's consent to biometric processing before enrolling faces."
        )


def store_embedding(sample: FaceSample, engine: FaceEngine, vector: np.ndarray) -> FaceEmbedding:
    """Save the sample's embedding for this engine's model, replacing an older one."""
    return FaceEmbedding.objects.update_or_create(
        sample=sample,
        model_key=engine.model_key,
        defaults={"dim": engine.dim, "vector": np.asarray(vector, np.float32).tobytes()},
    )[0]


def check_photo(
    image_bgr: np.ndarray,
    *,
    face_index: int | None = None,
    engine: FaceEngine | None = None,
    gates: QualityGates | None = None,
    largest: bool = False,
) -> tuple[Face, QualityReport]:
    """The face ``enrol`` would take from the photo and its quality, or the refusal
    ``enrol`` would raise: a form can refuse a photo before it saves anything."""
    engine = engine or get_engine()
    face = choose_face(engine.detect(image_bgr), face_index, largest=largest)
    report = assess_quality(image_bgr, face)
    (gates or QualityGates.from_settings()).check(report)
    return face, report


def enrol(
    person: Person,
    image_bgr: np.ndarray,
    *,
    context: audit.AuditContext,
    face_index: int | None = None,
    source: str = SampleSource.UPLOAD,
    engine: FaceEngine | None = None,
    gates: QualityGates | None = None,
    largest: bool = False,
) -> FaceSample:
    """Enrol one face of ``image_bgr`` for ``person``; raises ``FacesError`` subclasses.
    ``largest`` enrols the largest face when ``face_index`` is not given (see
    ``choose_face``)."""
    require_consent(person)
    engine = engine or get_engine()
    face, report = check_photo(
        image_bgr, face_index=face_index, engine=engine, gates=gates, largest=largest
    )
    vector = engine.embed(image_bgr, face)

    sample = FaceSample(
        person=person,
        bbox=[round(v, 2) for v in face.bbox],
        landmarks=[[round(float(x), 2), round(float(y), 2)] for x, y in face.landmarks],
        quality=report.as_dict(),
        source=source,
        created_by=context.actor,
    )
    sample.image.save("face.jpg", ContentFile(encode_jpeg(image_bgr)), save=False)
    try:
        with transaction.atomic():
            sample.save()
            store_embedding(sample, engine, vector)
            audit.record_create(sample, context)
    except BaseException:
        delete_stored_file(sample.image.storage, sample.image.name)
        raise
    return sample
