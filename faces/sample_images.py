"""Real face images shipped inside installed packages, for the demo and the tests.

No photo of a real employee can ship with the code, yet the demo (``manage.py seed_demo``)
and the test suite need real faces. insightface's ``t1.jpg`` (six people) and
``Tom_Hanks_54745.png`` and scikit-image's astronaut are installed with the requirements,
so they are always there. Images are returned read-only and cached: callers copy before
drawing on them.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from faces.engine.geometry import box_centre


def package_dir(name: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {name} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _load(name: str) -> np.ndarray:
    path = package_dir("insightface") / "data" / "images" / name
    image = cv2.imread(str(path))
    if image is None:
        raise RuntimeError(f"cannot read {path}")
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
    """scikit-image's 512x512 astronaut, as BGR: a stranger to every gallery."""
    from skimage import data

    image = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    image.setflags(write=False)
    return image


def scaled(image: np.ndarray, factor: float) -> np.ndarray:
    """``image`` resized by ``factor`` (bicubic)."""
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def nearest(point: tuple[float, float], boxes: list) -> int:
    """Index of the box whose centre is nearest to ``point``: which detected face is whom."""
    distances = [np.hypot(*(np.subtract(box_centre(b), point))) for b in boxes]
    return int(np.argmin(distances))
