"""Real test images from installed packages, their variants, and enrolment helpers.

The suite must pass from a clone alone, so every face comes from a package
(``faces.sample_images``, which the demo uses too, re-exported here). Each variant comes
with a function mapping a point of the original into the variant, so tests can tell which
face in a variant is whom.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from faces.engine.geometry import box_centre
from faces.sample_images import astronaut, hanks, nearest, package_dir, scaled, t1

__all__ = [
    "astronaut",
    "box_centre",
    "decompression_bomb_png",
    "hanks",
    "jpeg_bytes",
    "nearest",
    "package_dir",
    "png_bytes",
    "scaled",
    "t1",
    "variants",
]

PointMap = Callable[[float, float], tuple[float, float]]


def jpeg_bytes(image: np.ndarray, quality: int = 92) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buffer.tobytes()


def png_bytes(image: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".png", image)
    assert ok
    return buffer.tobytes()


def variants(image: np.ndarray) -> dict[str, tuple[np.ndarray, PointMap]]:
    """Flip, scale, brightness, JPEG quality and a small rotation, with point maps."""
    h, w = image.shape[:2]
    center = (w / 2, h / 2)
    rotation = cv2.getRotationMatrix2D(center, 6, 1.0)

    def rotate(x: float, y: float) -> tuple[float, float]:
        px, py = rotation @ np.array([x, y, 1.0])
        return float(px), float(py)

    jpeg_low = cv2.imdecode(np.frombuffer(jpeg_bytes(image, 35), np.uint8), cv2.IMREAD_COLOR)
    identity: PointMap = lambda x, y: (x, y)  # noqa: E731
    return {
        "flip": (cv2.flip(image, 1), lambda x, y: (w - 1 - x, y)),
        "scale_0.75": (scaled(image, 0.75), lambda x, y: (x * 0.75, y * 0.75)),
        "scale_1.5": (scaled(image, 1.5), lambda x, y: (x * 1.5, y * 1.5)),
        "brighter": (cv2.convertScaleAbs(image, alpha=1.0, beta=45), identity),
        "darker": (cv2.convertScaleAbs(image, alpha=0.6, beta=0), identity),
        "jpeg_35": (jpeg_low, identity),
        "rotate_6": (
            cv2.warpAffine(image, rotation, (w, h), borderMode=cv2.BORDER_REFLECT),
            rotate,
        ),
    }


def decompression_bomb_png(side: int = 30_000) -> bytes:
    """A small PNG whose header declares ``side`` x ``side`` pixels."""
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
