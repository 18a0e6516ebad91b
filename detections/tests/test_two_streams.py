"""A two-stream camera through the supervisor and the real pipeline: recognised on the
sub-stream, its face crops cut from the main stream.

The same generated scene is written twice, as the sub-stream (480x270) and as the main
stream (three times as large); one person of t1 walks slowly across, so the two file
readers, which start a moment apart, show the face a few pixels apart. The track's first
view comes before the main stream's first frame; its better views later are cut from
the main stream.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from cameras import supervisor as supervisor_module
from cameras.models import Camera
from cameras.synthetic_video import face_crops, make_test_video
from cameras.testing.servers import RtspServer
from cameras.testing.supervisor import RunningSupervisor
from detections import metrics
from detections.models import Detection
from detections.tests.test_camera_pipeline import enrol_video_people

pytestmark = pytest.mark.django_db(transaction=True)

SUB_SIZE, MAIN_SIZE = (480, 270), (1440, 810)
CROP_MARGIN = 0.25  # PipelineConfig.crop_margin


def scene(video_dir, name: str, size: tuple[int, int]):
    return make_test_video(
        video_dir / name,
        seconds=10,
        fps=10,
        size=size,
        people=face_crops()[:1],
        windows=[(0.5, 7.5)],
        seed=3,
    )


def crop_height(detection: Detection) -> int:
    with detection.face_crop.open("rb") as handle:
        image = cv2.imdecode(np.frombuffer(handle.read(), np.uint8), cv2.IMREAD_COLOR)
    return image.shape[0]


def cropped_from_main_stream(detection: Detection) -> bool:
    """Whether the crop has about three times the pixels its box (in the sub-stream's
    pixels) would give. Heights: a face entering from the side is cut off in width."""
    return crop_height(detection) > 2.5 * detection.bbox[3] * (1 + 2 * CROP_MARGIN)


def recognised(camera: Camera, person) -> list[Detection]:
    return list(
        Detection.objects.filter(camera=camera, person=person, status="recognized").exclude(
            face_crop=""
        )
    )


def from_main_stream(camera: Camera) -> float:
    return metrics.FACES_FROM_MAIN_STREAM.labels(str(camera.pk))._value.get()


@pytest.fixture(params=["file", "rtsp"])
def stream_urls(request, settings, video_dir):
    """The sub-stream's and the main stream's URLs: files, or real RTSP servers, where the
    main stream switches between key frames alone and full decoding."""
    sub, main = scene(video_dir, "sub.mp4", SUB_SIZE), scene(video_dir, "main.mp4", MAIN_SIZE)
    if request.param == "file":
        settings.CAMERA_FILE_ROOT = video_dir
        yield f"file://{sub.path}", f"file://{main.path}"
        return
    request.getfixturevalue("require_rtsp")
    request.getfixturevalue("allow_loopback_cameras")
    servers = [RtspServer(sub.path).start(), RtspServer(main.path).start()]
    try:
        yield servers[0].url, servers[1].url
    finally:
        for server in servers:
            server.stop()


def test_recognised_on_the_sub_stream_and_cropped_from_the_main_stream(
    stream_urls, media_storage, monkeypatch
):
    monkeypatch.setattr(supervisor_module, "DETAIL_LINGER_S", 1.0)
    person = enrol_video_people()[0]
    sub_url, main_url = stream_urls
    camera = Camera.objects.create(
        name="Door",
        source_url=sub_url,
        main_stream_url=main_url,
        detection_width=SUB_SIZE[0],
        min_face_size=40,
    )
    before = from_main_stream(camera)
    modes: list[bool] = []  # the main stream's decoding, full or not, as it changes
    with RunningSupervisor(poll_seconds=0.5) as supervisor:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            any(cropped_from_main_stream(d) for d in recognised(camera, person))
            and (sub_url.startswith("file:") or modes[:3] == [False, True, False])
        ):
            worker = supervisor.workers.get(camera.pk)
            if worker is not None and modes[-1:] != [worker.main_stream_detail]:
                modes.append(worker.main_stream_detail)
            time.sleep(0.2)
    assert any(cropped_from_main_stream(d) for d in recognised(camera, person)), [
        (crop_height(d), d.bbox) for d in recognised(camera, person)
    ]
    assert from_main_stream(camera) > before
    if sub_url.startswith("rtsp:"):
        # Key frames alone until the face, in full while it is there, key frames again
        # DETAIL_LINGER_S after it left (the clip has 3 s without anyone).
        assert modes[:3] == [False, True, False], modes
