"""Idle mode end to end (``CAMERA_IDLE_SECONDS``): a real RTSP camera watching an empty
doorway goes idle (key frames only), and a person walking past is still recognised, late by
at most about a key-frame interval plus the decoder's reopen.

The video: 14 s at 10 fps with a key frame a second (frames 0, 10, 20, ...), an empty
doorway until 7 s (frame 70), then ``T1_FACES[0]`` crossing from 7 to 13 s. The stamps drawn
into the frames say which frame of the video each analysed frame was, so the lateness is
counted in the stream's own time, not in this (shared, busy) machine's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from cameras.models import Camera
from cameras.synthetic_video import VideoInfo, face_crops, make_test_video
from cameras.testing.servers import RtspServer
from cameras.testing.supervisor import RunningSupervisor
from cameras.testing.video import read_stamp
from detections.camera_handler import DetectionHandler
from detections.models import Detection
from detections.tests.test_camera_pipeline import enrol_video_people

pytestmark = pytest.mark.django_db(transaction=True)

FPS = 10
ENTERS_AT_FRAME = 70
#: After a switch, the old decoder hands over until the new one has a frame (a probe and a
#: key frame, 2 to 3 s here).
HANDOVER_FRAMES = 3 * FPS


@pytest.fixture(scope="module")
def doorway_video(video_dir) -> VideoInfo:
    return make_test_video(
        video_dir / "doorway.mp4",
        seconds=14,
        fps=FPS,
        people=face_crops()[:1],
        windows=[(ENTERS_AT_FRAME / FPS, 13.0)],
    )


@dataclass
class Analysed:
    stamp: int
    faces: int
    idle: bool
    recognised: bool


class RecordingHandler(DetectionHandler):
    """The real pipeline, noting for each frame its stamp, its faces, whether the camera
    was idle and whether the person's recognised detection exists after it."""

    frames: list[Analysed] = []
    workers: dict = {}

    def process(self, image, captured_at, detail=None) -> int:
        faces = super().process(image, captured_at)
        worker = RecordingHandler.workers.get(self.camera.pk)
        recognised = Detection.objects.filter(camera=self.camera, status="recognized").exists()
        RecordingHandler.frames.append(
            Analysed(read_stamp(image), faces, bool(worker and worker.idle), recognised)
        )
        return faces


def first_pass(frames: list[Analysed]) -> list[Analysed]:
    """The frames up to the video's first loop (its stamps start again from 0)."""
    for index in range(1, len(frames)):
        if frames[index].stamp < frames[index - 1].stamp - FPS:
            return frames[:index]
    return frames


def test_a_person_walking_past_an_idle_camera_is_recognised(
    require_rtsp, doorway_video, media_storage, settings
):
    settings.CAMERA_IDLE_SECONDS = 1.0
    people = enrol_video_people()
    RecordingHandler.frames, RecordingHandler.workers = [], {}
    with RtspServer(doorway_video.path) as server:
        camera = Camera.objects.create(name="Doorway", source_url=server.url, analysis_fps=FPS)
        with RunningSupervisor(handler_factory=RecordingHandler) as supervisor:
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and not any(
                frame.recognised for frame in RecordingHandler.frames
            ):
                RecordingHandler.workers.update(supervisor.workers)
                time.sleep(0.1)
    frames = first_pass(RecordingHandler.frames)
    summary = [(f.stamp, f.faces, f.idle, f.recognised) for f in frames]
    before = [f for f in frames if f.stamp < ENTERS_AT_FRAME]
    idle = [f for f in before if f.idle]
    assert idle, f"the camera never went idle before the person came: {summary}"
    settled = [f for f in idle if f.stamp >= idle[0].stamp + HANDOVER_FRAMES]
    assert settled, f"the handover never ended: {summary}"
    assert all(f.stamp % FPS == 0 for f in settled), f"idle, yet not key frames only: {summary}"
    woke = next(f for f in frames if f.faces)
    assert woke.idle and woke.stamp % FPS == 0, f"woken by a key frame: {summary}"
    # The key-frame decoder hands over while the full one reopens: the next key frame is
    # analysed (without the handover, nothing came for two key-frame intervals).
    after = frames[frames.index(woke) + 1]
    assert after.stamp <= woke.stamp + FPS + FPS // 2, f"a gap after waking: {summary}"
    recognised = next(f for f in frames if f.recognised)
    # Late by at most a key-frame interval (the key frame after the face shows) plus the
    # decoder's reopen and the track's confirmation: 4 s of the stream's own time.
    assert recognised.stamp - ENTERS_AT_FRAME <= 4 * FPS, summary
    detection = Detection.objects.get(camera=camera, status="recognized")
    assert detection.person_id == people[0].pk
