"""Drop detections that cannot be recognised reliably before they cost an embedding.

Small and blurred faces give embeddings that land near everybody (strangers get named), and
faces outside the camera's region of interest (a corridor behind a glass door, a poster) are
not visits. Checks run cheapest first; the blur measure is taken on the aligned crop the
recogniser sees, through ``faces.engine.quality``, and its report travels on with the face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from faces.engine import Face, FaceEngineError
from faces.engine.quality import QualityReport, assess_quality

from .config import PipelineConfig, Point


class RejectReason:
    """Why a face was dropped: counted per camera so an operator can tune size, blur or
    the region of interest."""

    OUTSIDE_ROI = "outside_roi"
    TOO_SMALL = "too_small"
    BLURRY = "blurry"
    BAD_LANDMARKS = "bad_landmarks"


@dataclass(frozen=True, eq=False)
class AcceptedFace:
    """A face that passed every check, with the quality measured on the way."""

    face: Face
    quality: QualityReport


@dataclass(frozen=True, eq=False)
class RejectedFace:
    """A face that failed a check; ``value`` is what was measured (None for the ROI)."""

    face: Face
    reason: str
    value: float | None = None


def point_in_polygon(x: float, y: float, polygon: Sequence[Point]) -> bool:
    """Even-odd ray casting; a point exactly on an edge may fall either way."""
    inside = False
    count = len(polygon)
    for i in range(count):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % count]
        if (y1 > y) != (y2 > y):
            crossing = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < crossing:
                inside = not inside
    return inside


def in_roi(face: Face, roi: Sequence[Point] | None, frame_size: tuple[int, int]) -> bool:
    """Whether the centre of the face box lies in ``roi`` (relative coordinates)."""
    if roi is None:
        return True
    width, height = frame_size
    x, y, w, h = face.bbox
    return point_in_polygon((x + w / 2) / width, (y + h / 2) / height, roi)


def filter_faces(
    faces: Sequence[Face],
    image: np.ndarray,
    config: PipelineConfig,
    frame_size: tuple[int, int] | None = None,
) -> tuple[list[AcceptedFace], list[RejectedFace]]:
    """Split ``faces`` into accepted (in input order) and rejected with the first failed check.

    ``frame_size`` is ``(width, height)`` of the image the boxes refer to; it defaults to
    ``image``'s own size.
    """
    if frame_size is None:
        frame_size = (image.shape[1], image.shape[0])
    kept: list[AcceptedFace] = []
    rejected: list[RejectedFace] = []
    for face in faces:
        if not in_roi(face, config.roi, frame_size):
            rejected.append(RejectedFace(face, RejectReason.OUTSIDE_ROI))
            continue
        size = min(face.width, face.height)
        if size < config.min_face_px:
            rejected.append(RejectedFace(face, RejectReason.TOO_SMALL, size))
            continue
        try:
            quality = assess_quality(image, face)
        except FaceEngineError:
            rejected.append(RejectedFace(face, RejectReason.BAD_LANDMARKS))
            continue
        if quality.blur < config.min_blur:
            rejected.append(RejectedFace(face, RejectReason.BLURRY, quality.blur))
            continue
        kept.append(AcceptedFace(face, quality))
    return kept, rejected
