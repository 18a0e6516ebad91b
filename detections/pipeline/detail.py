"""Face crops of a two-stream camera cut from its main stream.

A camera with two streams is analysed on its sub-stream (a few hundred pixels wide, cheap
to decode and to search), and the face crop a person looks at (the live page, the admin,
"who is this?") and that "who is this?" enrols is cut from the main stream: a face 40
pixels wide in the sub-stream is 120 in a 1080p main stream. The two streams are not
frame-synchronous (each has its own encoder, packets and decoder latency), so a box found
in one cannot simply be scaled and cut from the other: the person may have moved. The face
is looked for again in the main frame, around where the scaled box says, and cut from it
only when found there; otherwise the crop comes from the sub-stream as before.

Embeddings stay on the analysed stream, with the landmarks the detector found there
(``benchmarks/two_streams.py``, in BENCHMARKS.md): the sub-stream's landmarks scaled onto
main-stream pixels gain at most 0.02 of similarity to the enrolment when both frames are of
one moment and fall to 0.46-0.65 when the person moved 15-30 % of a face width between
them; landmarks searched again in the main frame differ by several pixels from the first
search and give 0.85-0.90 where the sub-stream's own give 0.98-0.996 (faces of 50 pixels
and more in the sub-stream).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from faces.engine import Face
from faces.engine.geometry import iou

#: The region searched in the main frame: the scaled box grown by this much of its size on
#: each side, which covers a person moving during the streams' skew.
SEARCH_MARGIN = 0.6
#: A face found in the region must overlap the scaled box at least this much to be the same
#: face; below it the main frame shows the scene at another moment.
MIN_IOU = 0.35
#: The smallest width a region is searched at, whatever the scale: below it the detector
#: sees no face at all.
MIN_SEARCH_WIDTH = 64


class Detector(Protocol):
    """What locating needs of the engine."""

    def detect(self, image: np.ndarray, max_width: int | None = None) -> list[Face]:
        """Faces in ``image``, in its coordinates."""
        ...


def scale_face(face: Face, sx: float, sy: float) -> Face:
    """``face`` in the coordinates of an image ``sx`` times wider and ``sy`` times taller."""
    x, y, w, h = face.bbox
    return Face(
        bbox=(x * sx, y * sy, w * sx, h * sy),
        landmarks=face.landmarks * np.array([sx, sy], dtype=np.float32),
        score=face.score,
    )


def shift_face(face: Face, dx: float, dy: float) -> Face:
    """``face`` moved by ``(dx, dy)`` pixels: from a region's coordinates to its image's."""
    x, y, w, h = face.bbox
    return Face(
        bbox=(x + dx, y + dy, w, h),
        landmarks=face.landmarks + np.array([dx, dy], dtype=np.float32),
        score=face.score,
    )


def find_in(
    detector: Detector, image: np.ndarray, expected: Face, scale: float = 1.0
) -> Face | None:
    """The face of ``image`` at ``expected`` (a face found in a stream ``scale`` times
    smaller, scaled up), or None when no face there overlaps it by ``MIN_IOU``.

    The region is searched at the resolution the face was found at: the box it gives is
    as good as the first search's, and a search costs what a sub-stream face costs.
    """
    height, width = image.shape[:2]
    x, y, w, h = expected.bbox
    x0, y0 = max(int(x - SEARCH_MARGIN * w), 0), max(int(y - SEARCH_MARGIN * h), 0)
    x1 = min(int(x + w + SEARCH_MARGIN * w) + 1, width)
    y1 = min(int(y + h + SEARCH_MARGIN * h) + 1, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    region = np.ascontiguousarray(image[y0:y1, x0:x1])
    width_as_found = max(round((x1 - x0) / scale), MIN_SEARCH_WIDTH)
    found = [shift_face(face, x0, y0) for face in detector.detect(region, width_as_found)]
    best = max(found, key=lambda face: iou(face.bbox, expected.bbox), default=None)
    if best is None or iou(best.bbox, expected.bbox) < MIN_IOU:
        return None
    return best


def locate(
    detector: Detector, face: Face, shape: tuple[int, ...], detail: np.ndarray
) -> Face | None:
    """``face``, found in an image of ``shape``, in the coordinates of ``detail`` (the same
    scene, larger) when it is there, else None."""
    sx, sy = detail.shape[1] / shape[1], detail.shape[0] / shape[0]
    return find_in(detector, detail, scale_face(face, sx, sy), max(sx, sy))
