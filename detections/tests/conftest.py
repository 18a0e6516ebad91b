"""Fixtures for detections tests: isolated media, a camera, recorded detections."""

from __future__ import annotations

import pytest

from cameras.models import Camera
from faces.tests.conftest import enrolled_t1, media_storage  # noqa: F401 - shared fixtures


@pytest.fixture
def camera(db) -> Camera:
    return Camera.objects.create(name="Front door", source_url="rtsp://cam.local/stream")


@pytest.fixture
def other_camera(db) -> Camera:
    return Camera.objects.create(name="Back door", source_url="rtsp://cam2.local/stream")


from cameras.tests.conftest import (  # noqa: E402,F401 - generated videos, loopback cameras
    allow_loopback_cameras,
    require_rtsp,
    scene_video,
    video_dir,
)
