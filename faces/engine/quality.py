"""Cheap measures of how usable a detected face is for recognition.

Enrolment refuses poor samples and the pipeline weights its vote by sample quality
(small, blurred or turned-away faces give unreliable embeddings). These are pure functions
of the landmarks and pixels, so callers can apply their own thresholds and tests can feed
synthetic input.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .align import align_face
from .base import Face

#: Side of the square grey crop the blur measure is taken on.
BLUR_CROP_SIZE = 112

#: Assumed depth of the nose tip in front of the eyes, as a fraction of the eye distance.
_NOSE_DEPTH = 0.5


def inter_eye_distance(landmarks: np.ndarray) -> float:
    """Distance in pixels between the two eye landmarks."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    return float(np.linalg.norm(points[1] - points[0]))


def laplacian_variance(crop_bgr: np.ndarray, size: int = BLUR_CROP_SIZE) -> float:
    """Sharpness of a face crop: variance of its Laplacian; lower is blurrier.

    The crop is first converted to grey and resized to ``size`` x ``size`` (112, the aligned
    crop the recogniser sees), because the raw measure depends on resolution. A small face
    upsampled to that size reads as blurry, which is right: it carries little detail.
    """
    grey = crop_bgr if crop_bgr.ndim == 2 else cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    if grey.shape[:2] != (size, size):
        shrinking = grey.shape[0] * grey.shape[1] > size * size
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        grey = cv2.resize(grey, (size, size), interpolation=interpolation)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def yaw_degrees(landmarks: np.ndarray) -> float:
    """Rough head yaw from the five landmarks, in degrees; 0 is frontal.

    The nose tip's offset from the eye midpoint is projected onto the eye axis (so head
    roll does not count) and divided by the eye distance. Modelling the nose tip as standing
    half an eye distance in front of the eyes, that ratio is ``0.5 * tan(yaw)``. The result is
    monotonic and good to perhaps 10 degrees up to about 45; beyond that landmarks themselves
    become unreliable. Positive means the nose points towards the subject's left eye (the
    image's right in a frontal photo).
    """
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    axis = points[1] - points[0]
    eye_distance = float(np.linalg.norm(axis))
    if eye_distance < 1e-6:
        return 90.0
    midpoint = (points[0] + points[1]) / 2.0
    offset = float(np.dot(points[2] - midpoint, axis / eye_distance)) / eye_distance
    return math.degrees(math.atan(offset / _NOSE_DEPTH))


@dataclass(frozen=True)
class QualityReport:
    """The quality measures of one face, stored with each enrolment sample."""

    face_width: float
    face_height: float
    inter_eye_px: float
    det_score: float
    blur: float
    yaw_deg: float

    def as_dict(self) -> dict[str, float]:
        """Rounded, JSON-friendly form for API refusals and stored samples."""
        return {key: round(float(value), 3) for key, value in asdict(self).items()}


def assess_quality(image_bgr: np.ndarray, face: Face) -> QualityReport:
    """Measure one detected face; blur is taken on the aligned crop the recogniser sees."""
    crop = align_face(image_bgr, face.landmarks, BLUR_CROP_SIZE)
    return QualityReport(
        face_width=face.width,
        face_height=face.height,
        inter_eye_px=inter_eye_distance(face.landmarks),
        det_score=face.score,
        blur=laplacian_variance(crop),
        yaw_deg=yaw_degrees(face.landmarks),
    )
