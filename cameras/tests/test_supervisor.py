"""The stream supervisor against real sources: outages, bad sources, configuration changes,
leases shared by several supervisors (threads here, processes killed with SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from cameras.models import Camera, CameraStatus
from cameras.signals import camera_status_changed
from cameras.tasks import mark_stale_cameras_offline
from cameras.testing.servers import RtspServer, SilentTcpServer
from cameras.testing.supervisor import FAST_READER, CountingHandler, RunningSupervisor
from cameras.tests.conftest import TEST_ALLOWED_NETWORKS
from config.testing import child_database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _reset_counts():
    CountingHandler.frames = Counter()


#: Scenarios every decoder must pass: the test runs once per ``CAMERA_DECODER``.
both_decoders = pytest.mark.parametrize("decoder", ["opencv", "ffmpeg"])


@pytest.fixture
def decoder() -> str:
    """The ``CAMERA_DECODER`` of a test (the default one); ``both_decoders`` tests
    override it."""
    return "ffmpeg"


@pytest.fixture(autouse=True)
def _camera_decoder(settings, decoder):
    settings.CAMERA_DECODER = decoder


def Running(**options) -> RunningSupervisor:
    return RunningSupervisor(handler_factory=CountingHandler, **options)


def wait_for(predicate, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def status_of(camera) -> str:
    camera.refresh_from_db()
    return camera.status


def metric(name: str, camera_id: int | None = None) -> float:
    labels = {} if camera_id is None else {"camera": str(camera_id)}
    return REGISTRY.get_sample_value(f"presence_{name}", labels) or 0.0


@both_decoders
def test_rtsp_outage_goes_offline_and_recovers(require_rtsp, short_video):
    workers_before = metric("camera_workers")
    with RtspServer(short_video.path) as server:
        camera = Camera.objects.create(name="RTSP", source_url=server.url, analysis_fps=5)
        with Running() as supervisor:
            assert wait_for(lambda: status_of(camera) == CameraStatus.ONLINE, 15)
            assert wait_for(lambda: CountingHandler.frames[camera.pk] >= 3, 10)
            server.stop()
            assert wait_for(lambda: status_of(camera) == CameraStatus.OFFLINE, 15)
            assert supervisor.workers[camera.pk].is_alive()
            before = CountingHandler.frames[camera.pk]
            server.restart()
            assert wait_for(lambda: status_of(camera) == CameraStatus.ONLINE, 20)
            assert wait_for(lambda: CountingHandler.frames[camera.pk] > before + 2, 10)
            camera.refresh_from_db()
            assert camera.reconnects_last_hour >= 1 and camera.last_frame_at is not None

            def measured_fps():
                camera.refresh_from_db()
                return camera.fps

            assert wait_for(measured_fps, 10)
            assert metric("camera_workers") == workers_before + 1
    # What /metrics says of the camera (this process counts for itself in tests).
    assert metric("camera_workers") == workers_before
    assert metric("camera_reconnects_total", camera.pk) >= 1
    analysed = metric("camera_frames_analysed_total", camera.pk)
    assert analysed == CountingHandler.frames[camera.pk]
    assert metric("camera_frames_read_total", camera.pk) >= analysed


@both_decoders
def test_a_source_that_never_answers_ends_in_error():
    with SilentTcpServer() as silent:
        camera = Camera.objects.create(name="Silent", source_url=silent.url())
        started = time.monotonic()
        with Running():
            assert wait_for(lambda: status_of(camera) == CameraStatus.ERROR, 10)
        assert time.monotonic() - started < FAST_READER["open_timeout"] + 5
    camera.refresh_from_db()
    assert camera.last_error


@both_decoders
def test_a_corrupt_file_ends_in_error(tmp_path):
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(os.urandom(50_000))
    camera = Camera.objects.create(name="Corrupt", source_url=f"file://{corrupt}")
    with Running():
        assert wait_for(lambda: status_of(camera) == CameraStatus.ERROR, 10)
    camera.refresh_from_db()
    assert camera.last_error and str(tmp_path) not in camera.last_error.replace(str(corrupt), "")


@both_decoders
def test_credentials_never_reach_status_or_logs(require_rtsp, short_video, caplog):
    with RtspServer(short_video.path) as server:
        camera = Camera.objects.create(
            name="Secret",
            source_url=server.url.replace("/cam", "/wrong-mount"),
            username="operator",
            password="Hunter2-secret",
        )
        with Running():
            assert wait_for(lambda: status_of(camera) == CameraStatus.ERROR, 15)
    camera.refresh_from_db()
    assert "Hunter2" not in camera.last_error
    assert "Hunter2" not in caplog.text


def test_changes_are_picked_up_without_restart(short_video, settings):
    settings.CAMERA_FILE_ROOT = short_video.path.parent
    events = []
    camera_status_changed.connect(
        lambda sender, camera, **kw: events.append(camera.status), weak=False, dispatch_uid="t"
    )
    try:
        with Running() as supervisor:
            first = Camera.objects.create(name="One", source_url=f"file://{short_video.path}")
            assert wait_for(lambda: first.pk in supervisor.workers, 5)
            worker = supervisor.workers[first.pk]
            first.refresh_from_db()  # an edit loads the camera first, as the API does
            first.analysis_fps = 5
            first.save()
            assert wait_for(lambda: supervisor.workers.get(first.pk) not in (None, worker), 5)
            assert wait_for(lambda: CameraStatus.ONLINE in events, 10)
            first.refresh_from_db()
            first.enabled = False
            first.status = CameraStatus.DISABLED
            first.save()
            assert wait_for(lambda: first.pk not in supervisor.workers, 5)
            first.refresh_from_db()
            assert first.lease_owner == "" and first.status == CameraStatus.DISABLED
    finally:
        camera_status_changed.disconnect(dispatch_uid="t")
    assert CameraStatus.ONLINE in events


def test_two_supervisors_share_a_camera_and_one_takes_over(short_video):
    camera = Camera.objects.create(name="Shared", source_url=f"file://{short_video.path}")
    runs = [Running(lease_seconds=3), Running(lease_seconds=3)]
    with runs[0] as a, runs[1] as b:
        assert wait_for(lambda: camera.pk in a.workers or camera.pk in b.workers, 5)
        # Deliberate: let both run for a while, so a second reader of the camera would show.
        time.sleep(1.5)
        holders = [run for run in runs if camera.pk in run.supervisor.workers]
        assert len(holders) == 1, "the camera must be read by exactly one supervisor"
        holder = holders[0]
        other = runs[1] if holder is runs[0] else runs[0]
        camera.refresh_from_db()
        assert camera.lease_owner == holder.supervisor.owner
        # The holder dies without releasing anything: its lease must run out.
        holder.supervisor.shutdown = lambda: None
        holder.supervisor.stop()
        holder.thread.join(10)
        for worker in list(holder.supervisor.workers.values()):
            worker.stop()
        assert wait_for(lambda: camera.pk in other.supervisor.workers, 15)  # lease: 3 s
        camera.refresh_from_db()
        assert camera.lease_owner == other.supervisor.owner


def start_supervisor_process(lease: float) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": child_database_url(),
        "DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",
        "CAMERA_ALLOWED_NETWORKS": ",".join(TEST_ALLOWED_NETWORKS),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_cameras",
            "--lease-seconds",
            str(lease),
            "--poll-seconds",
            "0.5",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_supervisor_processes_sigkill_takeover_and_sigterm(short_video):
    camera = Camera.objects.create(name="Processes", source_url=f"file://{short_video.path}")
    connection.close()
    processes = [start_supervisor_process(lease=4), start_supervisor_process(lease=4)]
    try:

        def owner():
            camera.refresh_from_db()
            return camera.lease_owner

        first_owner = wait_for(owner, 40)
        assert first_owner
        pids = {p.pid: p for p in processes}
        holder = next(p for pid, p in pids.items() if f":{pid}:" in first_owner)
        survivor = next(p for p in processes if p is not holder)
        # Deliberate: let both processes run, so a lease bouncing between them would show.
        time.sleep(2)
        assert owner() == first_owner  # held by one, not bouncing between them
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        new_owner = wait_for(lambda: owner() not in ("", first_owner) and owner(), 4 + 10)
        assert new_owner and f":{survivor.pid}:" in new_owner
        assert wait_for(lambda: status_of(camera) == CameraStatus.ONLINE, 10)
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(20) == 0
        assert owner() == ""
        assert "stopping supervisor" in survivor.stdout.read()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(5)


def test_stale_heartbeats_mark_cameras_offline():
    from datetime import timedelta

    from django.utils import timezone

    fresh = Camera.objects.create(
        name="Fresh",
        source_url="rtsp://a/b",
        status=CameraStatus.ONLINE,
        heartbeat_at=timezone.now(),
    )
    stale = Camera.objects.create(
        name="Stale",
        source_url="rtsp://a/c",
        status=CameraStatus.ONLINE,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
        decoder_state="online",
        fps=2.0,
        analysed_fps=2.0,
    )
    seen = []
    camera_status_changed.connect(
        lambda sender, camera, **kw: seen.append(camera.pk), weak=False, dispatch_uid="s"
    )
    try:
        assert mark_stale_cameras_offline() == 1
    finally:
        camera_status_changed.disconnect(dispatch_uid="s")
    assert status_of(stale) == CameraStatus.OFFLINE and status_of(fresh) == CameraStatus.ONLINE
    assert seen == [stale.pk]
    stale.refresh_from_db()
    assert (stale.decoder_state, stale.fps, stale.analysed_fps) == ("", None, None)


class SlowHandler(CountingHandler):
    """A pipeline slower than the camera: frames are replaced before it takes them."""

    def process(self, image, captured_at, detail=None) -> None:
        super().process(image, captured_at)
        time.sleep(0.3)


def test_decoder_stats_are_persisted_and_shown_masked(require_rtsp, short_video, admin_user):
    from django.test import Client
    from rest_framework.test import APIClient

    password = "Stat5-s3cret"
    with RtspServer(short_video.path) as server:
        camera = Camera.objects.create(
            name="Stats",
            source_url=server.url,
            username="viewer",
            password=password,
            analysis_fps=5,
        )

        def fresh():
            camera.refresh_from_db()
            return camera

        with Running():
            assert wait_for(lambda: fresh().decoder_state == "online" and camera.fps, 20)
            assert wait_for(lambda: fresh().analysed_fps, 10)
            assert camera.decoder == "ffmpeg" and camera.status == CameraStatus.ONLINE
            assert 0 < camera.analysed_fps <= 10 and camera.dropped_frames >= 0
            assert camera.decoder_error == "" and camera.main_stream_state == ""
            server.stop()
            assert wait_for(lambda: fresh().decoder_state in ("offline", "error"), 15)
            server.restart()
            assert wait_for(lambda: fresh().decoder_state == "online", 20)
            assert wait_for(lambda: fresh().reconnects_last_hour >= 1, 10)
            # The error that caused the reconnect is kept after recovery, and masked.
            assert camera.decoder_error and camera.last_error == ""
            assert password not in camera.decoder_error
        camera.refresh_from_db()
        assert camera.decoder_state == "stopped" and camera.analysed_fps is None

    api = APIClient()
    api.force_authenticate(admin_user)
    body = api.get(f"/api/v1/cameras/{camera.pk}").json()
    for field in ("decoder", "decoder_state", "analysed_fps", "dropped_frames", "decoder_error"):
        assert field in body
    assert body["decoder_error"] and password not in str(body)
    patched = api.patch(
        f"/api/v1/cameras/{camera.pk}",
        {"dropped_frames": 999, "decoder_state": "online", "location": "Hall"},
        format="json",
    )
    assert patched.status_code == 200 and patched.json()["dropped_frames"] == camera.dropped_frames
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    assert "dropped frames" in page.lower() and password not in page
    listing = browser.get("/admin/cameras/camera/").content.decode()
    assert "analysed fps" in listing.lower()


def test_frames_the_analysis_had_no_time_for_are_counted_as_dropped(short_video, settings):
    settings.CAMERA_FILE_ROOT = short_video.path.parent
    camera = Camera.objects.create(
        name="Slow", source_url=f"file://{short_video.path}", analysis_fps=10
    )
    with RunningSupervisor(handler_factory=SlowHandler):

        def dropped() -> int:
            camera.refresh_from_db()
            return camera.dropped_frames

        assert wait_for(lambda: dropped() > 3, 15)
        camera.refresh_from_db()
        assert camera.analysed_fps is not None and camera.analysed_fps < 5


class FaceSwitchHandler:
    """Stands in for the pipeline: reports ``faces`` faces on every frame (the test sets
    it) and keeps the frame number drawn into each frame it was given."""

    faces = 0
    stamps: list[tuple[int, bool]] = []
    worker = None

    def __init__(self, camera) -> None:
        self.camera_id = camera.pk

    def process(self, image, captured_at, detail=None) -> int:
        from cameras.testing.video import read_stamp

        idle = FaceSwitchHandler.worker is not None and FaceSwitchHandler.worker.idle
        FaceSwitchHandler.stamps.append((read_stamp(image), idle))
        return FaceSwitchHandler.faces

    def close(self) -> None:
        pass


def analysed_in(seconds: float) -> list[tuple[int, bool]]:
    """The (frame number, idle) of the frames analysed during the next ``seconds``."""
    start = len(FaceSwitchHandler.stamps)
    time.sleep(seconds)
    return FaceSwitchHandler.stamps[start:]


def latest_are_key_frames(count: int) -> bool:
    """Whether the last ``count`` analysed frames were all key frames (0 and 10 of 20)."""
    latest = FaceSwitchHandler.stamps[-count:]
    return len(latest) == count and all(stamp % 10 == 0 for stamp, _ in latest)


def test_a_camera_with_no_face_decodes_key_frames_only_until_a_face_shows(
    require_rtsp, short_video, settings, admin_user
):
    """Idle mode: after ``CAMERA_IDLE_SECONDS`` without a face, only key frames (the clip
    has one a second, frames 0 and 10 of its 20) reach the analysis, the camera shows
    ``idle``; the first frame with a face brings every frame back, without a reconnect."""
    settings.CAMERA_IDLE_SECONDS = 1.5
    FaceSwitchHandler.faces, FaceSwitchHandler.stamps = 1, []
    with RtspServer(short_video.path) as server:
        camera = Camera.objects.create(name="Idle", source_url=server.url, analysis_fps=10)

        def fresh():
            camera.refresh_from_db()
            return camera

        with RunningSupervisor(handler_factory=FaceSwitchHandler) as supervisor:
            assert wait_for(lambda: camera.pk in supervisor.workers, 10)
            worker = FaceSwitchHandler.worker = supervisor.workers[camera.pk]
            assert wait_for(lambda: fresh().decoder_state == "online", 20)
            busy = analysed_in(3.0)
            assert len(busy) >= 12 and not any(idle for _, idle in busy)
            assert {stamp % 10 for stamp, _ in busy} - {0}, "a face keeps every frame"

            FaceSwitchHandler.faces = 0
            assert wait_for(lambda: fresh().decoder_state == "idle", 10)
            assert worker.idle and camera.status == CameraStatus.ONLINE
            # The full decoder hands over until the new one has a frame: wait for that.
            assert wait_for(lambda: latest_are_key_frames(3), 15)
            quiet = analysed_in(4.0)
            assert 2 <= len(quiet) <= 6, quiet  # about one a second
            assert all(stamp % 10 == 0 for stamp, _ in quiet), quiet  # key frames only
            assert_shown_idle(camera, admin_user)

            FaceSwitchHandler.faces = 1
            assert wait_for(lambda: fresh().decoder_state == "online", 10)
            assert not worker.idle and worker.idle_switches == 2
            assert wait_for(lambda: not latest_are_key_frames(3), 15)
            awake = analysed_in(3.0)
            assert len(awake) >= 12 and {stamp % 10 for stamp, _ in awake} - {0}
            # Switching modes reopens the decoder, which is not a reconnect.
            assert fresh().reconnects_last_hour == 0 and camera.decoder_error == ""
    FaceSwitchHandler.worker = None


def assert_shown_idle(camera, admin_user) -> None:
    """The operator sees why the camera decodes about one frame a second."""
    from django.test import Client
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(admin_user)
    assert api.get(f"/api/v1/cameras/{camera.pk}").json()["decoder_state"] == "idle"
    browser = Client()
    browser.force_login(admin_user)
    assert "Idle (key frames only)" in browser.get("/admin/cameras/camera/").content.decode()


def test_idle_mode_is_off_by_default(require_rtsp, short_video):
    FaceSwitchHandler.faces, FaceSwitchHandler.stamps = 0, []
    with RtspServer(short_video.path) as server:
        camera = Camera.objects.create(name="Awake", source_url=server.url, analysis_fps=10)
        with RunningSupervisor(handler_factory=FaceSwitchHandler) as supervisor:
            assert wait_for(lambda: camera.pk in supervisor.workers, 10)
            worker = supervisor.workers[camera.pk]
            assert worker.idle_seconds == 0
            assert wait_for(lambda: len(FaceSwitchHandler.stamps) >= 30, 20)
            assert not worker.idle and worker.idle_switches == 0
