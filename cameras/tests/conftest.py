"""Fixtures for camera tests: generated videos (encoded once per session) and loopback cameras.

Videos are made at test time from package-shipped faces (see ``cameras.testing.video``).
``scene_video`` is the full door-camera scene the recognition pipeline's tests use: 20 s,
640x360, t1 faces ``T1_FACES[0]`` (1-7 s) and ``T1_FACES[1]`` (7-13 s), then the astronaut
as a stranger (13-19 s). ``short_video`` is a 2 s, 320x240 clip of the background only, for
the stream layer's own tests, which need frames, not faces.

A missing ffmpeg or GStreamer RTSP server fails the tests that need it, with the packages
to install: CI installs them, so a skip would only hide a broken setup.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cameras.addresses import DEFAULT_ALLOWED_NETWORKS
from cameras.synthetic_video import VideoInfo, face_crops, ffmpeg_path, make_test_video
from cameras.testing.servers import MjpegServer, RtspServer, rtsp_unavailable_reason

#: The test servers listen on loopback, which production refuses (``CAMERA_ALLOWED_NETWORKS``).
TEST_ALLOWED_NETWORKS = [*DEFAULT_ALLOWED_NETWORKS, "127.0.0.0/8"]


@pytest.fixture(autouse=True)
def allow_loopback_cameras(settings) -> list[str]:
    """Cameras on loopback are allowed in these tests, as a developer's own camera
    servers would need; tests of the address rule set their own list."""
    settings.CAMERA_ALLOWED_NETWORKS = TEST_ALLOWED_NETWORKS
    return TEST_ALLOWED_NETWORKS


def _require_ffmpeg() -> None:
    if ffmpeg_path() is None:
        pytest.fail("ffmpeg is not installed: apt-get install ffmpeg (see .ci/system-packages)")


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def short_video(video_dir) -> VideoInfo:
    """2 s at 10 fps, 320x240, background and frame stamps only."""
    _require_ffmpeg()
    return make_test_video(video_dir / "short.mp4", seconds=2, fps=10, size=(320, 240))


@pytest.fixture(scope="session")
def scene_video(video_dir) -> VideoInfo:
    """20 s at 10 fps, 640x360: two enrolled people of t1, then a stranger."""
    _require_ffmpeg()
    return make_test_video(video_dir / "scene.mp4", people=face_crops())


@pytest.fixture(scope="session")
def require_rtsp() -> None:
    reason = rtsp_unavailable_reason()
    if reason is not None:
        pytest.fail(f"RTSP test server unavailable: {reason} (see .ci/system-packages)")


@pytest.fixture
def rtsp_server(require_rtsp, short_video) -> Iterator[RtspServer]:
    """The short clip served over RTSP on loopback, looped; killed after the test."""
    with RtspServer(short_video.path) as server:
        yield server


@pytest.fixture
def mjpeg_server(short_video) -> Iterator[MjpegServer]:
    with MjpegServer(short_video.path, fps=10) as server:
        yield server
