"""Face-box arithmetic shared by the engine's users: one IoU and one box centre.

Boxes are ``(x, y, width, height)`` in pixels, as ``Face.bbox`` gives them. This lives in
the faces app, below detections in the layering, so the re-embedding job, the tracker and
the tests all measure overlap the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

Box = tuple[float, float, float, float]


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes; 0 when both are empty."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def box_centre(box: Sequence[float]) -> tuple[float, float]:
    """The centre of an ``(x, y, w, h)`` box."""
    return box[0] + box[2] / 2, box[1] + box[3] / 2
