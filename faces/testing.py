"""Real test images from installed packages, their variants, and enrolment helpers.

The suite must pass from a clone alone, so every face comes from a package: insightface's
``t1.jpg`` (six people) and ``Tom_Hanks_54745.png``, and scikit-image's astronaut. Each
variant comes with a function mapping a point of the original into the variant, so tests
can tell which face in a variant is whom.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

PointMap = Callable[[float, float], tuple[float, float]]


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"{name} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _load(name: str) -> np.ndarray:
    image = cv2.imread(str(package_dir("insightface") / "data" / "images" / name))
    assert image is not None, name
    image.setflags(write=False)
    return image


def t1() -> np.ndarray:
    """1280x886, six people."""
    return _load("t1.jpg")


def hanks() -> np.ndarray:
    """112x112 portrait of someone not in t1."""
    return _load("Tom_Hanks_54745.png")


@cache
def astronaut() -> np.ndarray:
    from skimage import data

    image = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    image.setflags(write=False)
    return image


def scaled(image: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


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


def bbox_center(bbox) -> tuple[float, float]:
    x, y, bw, bh = bbox
    return x + bw / 2, y + bh / 2


def nearest(point: tuple[float, float], boxes: list) -> int:
    distances = [np.hypot(*(np.subtract(bbox_center(b), point))) for b in boxes]
    return int(np.argmin(distances))


def decompression_bomb_png(side: int = 30_000) -> bytes:
    """A small PNG whose header declares ``side`` x ``side`` pixels."""
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
