"""The stream reader and probe against real sources: files, RTSP and MJPEG on loopback, faults.

Timeouts are shortened here (2-3 s instead of the 10/20 s defaults) to keep the suite fast;
the behaviour under test is the same.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from cameras.sources import mask_url, with_credentials
from cameras.streams import (
    Frame,
    StreamReader,
    StreamState,
    StreamStatus,
    backoff_delays,
    probe_source,
)
from cameras.testing.servers import RtspServer, SilentTcpServer
from cameras.testing.video import read_stamp, write_corrupt_video

FAST = {"open_timeout": 3.0, "read_timeout": 3.0, "stall_timeout": 3.0}

#: Scenarios every decoder must pass: the test runs once per decoder (``readers`` uses it).
both_decoders = pytest.mark.parametrize("decoder", ["opencv", "ffmpeg"])


@pytest.fixture
def decoder() -> str:
    """The decoder ``readers`` makes readers with; ``both_decoders`` tests override it."""
    return "opencv"


@pytest.fixture
def readers(decoder):
    """Readers made through this are stopped after the test, passed or failed."""
    made: list[StreamReader] = []

    def make(target, **options) -> StreamReader:
        options.setdefault("label", mask_url(str(target)))
        options.setdefault("decoder", decoder)
        reader = StreamReader(target, **options)
        made.append(reader)
        reader.start()
        return reader

    yield make
    for reader in made:
        reader.stop(timeout=5)


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def wait_state(reader: StreamReader, state: StreamState, timeout: float) -> StreamStatus:
    assert wait_for(lambda: reader.status.state is state, timeout), reader.status
    return reader.status


def collect(reader: StreamReader, seconds: float, after_seq: int = -1) -> list[Frame]:
    frames, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = reader.latest(after_seq, timeout=0.5)
        if frame is not None:
            frames.append(frame)
            after_seq = frame.seq
    return frames


# -- files --------------------------------------------------------------------------------


@both_decoders
def test_file_is_read_at_its_own_pace_and_looped(readers, short_video):
    statuses: list[StreamStatus] = []

    def on_status(status: StreamStatus) -> None:
        statuses.append(status)
        raise RuntimeError("a broken callback must not stop the camera")

    reader = readers(str(short_video.path), label="door", on_status=on_status)
    started = time.monotonic()
    frames = collect(reader, 3.2)
    elapsed = time.monotonic() - started

    assert reader.is_alive()
    status = reader.status
    assert status.state is StreamState.ONLINE
    assert (status.width, status.height) == (320, 240)
    assert status.reconnects_last_hour == 0
    # Paced at the file's 10 fps, not read as fast as it decodes (hundreds per second);
    # the bounds are loose because the machines running this are shared and noisy.
    assert 5 <= status.fps <= 15
    assert 5 <= len(frames) / elapsed <= 15
    seqs = [frame.seq for frame in frames]
    assert seqs == sorted(set(seqs))
    # The 2 s file came round again: a second pass that starts at the file's first frame.
    second_pass = [frame for frame in frames if frame.pass_index == 1]
    assert second_pass and read_stamp(second_pass[0].image) <= 1
    assert all(read_stamp(f.image) == i for i, f in enumerate(frames[:15]) if f.pass_index == 0)
    assert {s.state for s in statuses} >= {StreamState.CONNECTING, StreamState.ONLINE}
    assert len([s for s in statuses if s.state is StreamState.ONLINE]) >= 2  # heartbeats


@both_decoders
def test_a_slow_consumer_gets_the_newest_frame_never_a_backlog(readers, short_video):
    reader = readers(str(short_video.path), label="door", realtime_files=False)
    seen: list[Frame] = []
    ages: list[float] = []
    after = -1
    for _ in range(8):
        frame = reader.latest(after, timeout=2)
        assert frame is not None
        ages.append(time.time() - frame.captured_at)
        seen.append(frame)
        after = frame.seq
        time.sleep(0.1)  # deliberate: read slower than the stream, so frames are skipped
    seqs = [frame.seq for frame in seen]
    assert seqs == sorted(set(seqs))
    assert max(b - a for a, b in itertools.pairwise(seqs)) > 1  # frames were skipped
    assert min(ages) < 0.5  # what it was handed was fresh, not queued
    assert reader.latest(after_seq=10**9) is None  # nothing newer: no wait without timeout


@both_decoders
def test_a_file_played_once_ends_stopped(readers, short_video):
    reader = readers(str(short_video.path), label="once", loop_files=False, realtime_files=False)
    assert wait_for(lambda: not reader.is_alive(), 10)
    assert reader.status.state is StreamState.STOPPED
    last = reader.latest()
    assert last is not None and last.seq == short_video.frames - 1 and last.pass_index == 0
    assert reader.latest(last.seq, timeout=5) is None


@both_decoders
def test_a_corrupt_file_is_an_error_with_a_clear_message(readers, tmp_path):
    corrupt = write_corrupt_video(tmp_path / "door.mp4")
    reader = readers(str(corrupt), label="door.mp4")
    status = wait_state(reader, StreamState.ERROR, 5)
    assert "corrupt" in status.last_error and "door.mp4" in status.last_error
    assert reader.is_alive()  # it keeps retrying: the file may be replaced


@both_decoders
def test_a_missing_file_is_an_error(readers, tmp_path):
    reader = readers(str(tmp_path / "later.mp4"), label="later.mp4")
    assert "file not found" in wait_state(reader, StreamState.ERROR, 5).last_error


# -- retries, stop, callbacks ---------------------------------------------------------------


class FakeCapture:
    """A capture that opens or not and yields ``frames`` images before failing."""

    def __init__(self, opened: bool, frames: int = 0) -> None:
        self.opened, self.frames = opened, frames

    def isOpened(self) -> bool:
        return self.opened

    def read(self):
        if self.frames <= 0:
            return False, None
        self.frames -= 1
        return True, np.zeros((24, 32, 3), np.uint8)

    def get(self, prop: int) -> float:
        return 0.0

    def set(self, prop: int, value: float) -> bool:
        return True

    def release(self) -> None:
        pass


def test_retries_back_off_exponentially_to_a_cap():
    assert [d for d, _ in zip(backoff_delays(1, 30), range(8), strict=False)] == [
        1,
        2,
        4,
        8,
        16,
        30,
        30,
        30,
    ]
    slept: list[float] = []
    reader = StreamReader(
        "rtsp://cam.invalid/x",
        label="cam",
        capture_factory=lambda target: FakeCapture(opened=False),
        sleep=lambda delay: (slept.append(delay), time.sleep(0.001)),
    )
    reader.start()
    try:
        assert wait_for(lambda: len(slept) >= 7, 5)
        assert slept[:7] == [1, 2, 4, 8, 16, 30, 30]
        status = reader.status
        assert status.state in (StreamState.ERROR, StreamState.CONNECTING)
        assert status.reconnects_last_hour >= 6
        assert "cam" in status.last_error
    finally:
        assert reader.stop(timeout=2)


def test_backoff_starts_over_after_frames_were_read():
    captures = iter(
        [FakeCapture(False), FakeCapture(False), FakeCapture(True, frames=3)]
        + [FakeCapture(False)] * 50
    )
    slept: list[float] = []
    reader = StreamReader(
        "rtsp://cam.invalid/x",
        label="cam",
        capture_factory=lambda target: next(captures),
        sleep=lambda delay: (slept.append(delay), time.sleep(0.001)),
    )
    reader.start()
    try:
        assert wait_for(lambda: len(slept) >= 5, 5)
        assert slept[:5] == [1, 2, 1, 2, 4]
        assert reader.latest().seq == 2
    finally:
        reader.stop(timeout=2)


@both_decoders
def test_stop_returns_promptly_and_wakes_waiters(readers, short_video):
    reader = readers(str(short_video.path), label="door")
    assert reader.latest(timeout=5) is not None
    woken: list[Frame | None] = []
    waiter = threading.Thread(target=lambda: woken.append(reader.latest(10**9, timeout=10)))
    waiter.start()
    # Deliberate: most likely the waiter is blocked by now; if not, stop() still makes
    # latest() answer None, so the assertions hold either way.
    time.sleep(0.2)
    started = time.monotonic()
    assert reader.stop(timeout=5)
    waiter.join(2)
    assert time.monotonic() - started < 1.0
    assert woken == [None]
    assert not reader.is_alive()
    assert reader.status.state is StreamState.STOPPED


@both_decoders
def test_stop_does_not_wait_for_a_blocked_open(readers):
    with SilentTcpServer() as silent:
        reader = readers(silent.url(), label="silent", **FAST)
        assert wait_for(lambda: silent.connections >= 1, 3)
        started = time.monotonic()
        assert reader.stop(timeout=0.3) is False  # still inside FFmpeg's open
        assert time.monotonic() - started < 1.5
        assert reader.status.state is StreamState.STOPPED
        assert wait_for(lambda: not reader.is_alive(), FAST["open_timeout"] + 2)
        assert reader.status.state is StreamState.STOPPED


def test_errors_and_logs_never_show_credentials(readers, caplog):
    secret = "s3cr3t-pa55"
    target = f"rtsp://admin:{secret}@cam.invalid/x?token=tok-{secret}"

    def explode(target: str):
        raise RuntimeError(f"could not open {target}")

    caplog.set_level(logging.DEBUG, logger="cameras")
    statuses: list[StreamStatus] = []
    reader = readers(
        target,
        label=target,  # even an unmasked label is masked
        capture_factory=explode,
        on_status=statuses.append,
        sleep=lambda delay: time.sleep(0.01),
    )
    status = wait_state(reader, StreamState.ERROR, 5)
    reader.stop()
    assert "admin:***@cam.invalid" in status.last_error
    assert secret not in repr(status)
    assert all(secret not in repr(s) for s in statuses)
    assert caplog.records
    assert secret not in caplog.text


# -- network sources ----------------------------------------------------------------------


@both_decoders
def test_a_silent_server_ends_in_error_within_the_open_timeout(readers):
    with SilentTcpServer() as silent:
        started = time.monotonic()
        reader = readers(silent.url(), label="silent", **FAST)
        status = wait_state(reader, StreamState.ERROR, FAST["open_timeout"] + 4)
        elapsed = time.monotonic() - started
    assert FAST["open_timeout"] - 0.5 <= elapsed <= FAST["open_timeout"] + 4
    assert "no answer within 3 s" in status.last_error
    assert reader.is_alive()


@both_decoders
def test_rtsp_camera_lost_and_back(readers, rtsp_server):
    reader = readers(
        rtsp_server.url, label="rtsp door", backoff_initial=0.5, backoff_max=1.0, **FAST
    )
    status = wait_state(reader, StreamState.ONLINE, 15)
    assert (status.width, status.height) == (320, 240)
    frames = collect(reader, 2.5)
    assert len(frames) >= 15
    assert 5 <= reader.status.fps <= 15
    assert reader.status.reconnects_last_hour == 0

    rtsp_server.stop()  # the camera loses power
    status = wait_state(reader, StreamState.OFFLINE, FAST["read_timeout"] + 2)
    assert "rtsp door" in status.last_error
    assert reader.is_alive()
    assert wait_for(lambda: reader.status.state is StreamState.ERROR, FAST["open_timeout"] + 4)

    rtsp_server.restart()  # and comes back on the same port
    wait_state(reader, StreamState.ONLINE, 20)
    resumed = collect(reader, 1.0, after_seq=frames[-1].seq)
    assert resumed and resumed[0].seq > frames[-1].seq
    assert reader.status.reconnects_last_hour >= 1


@both_decoders
def test_a_frozen_rtsp_camera_goes_offline_and_recovers(readers, rtsp_server):
    options = {"open_timeout": 2.0, "read_timeout": 2.0, "stall_timeout": 2.0}
    reader = readers(
        rtsp_server.url, label="frozen", backoff_initial=0.5, backoff_max=0.5, **options
    )
    wait_state(reader, StreamState.ONLINE, 15)
    assert reader.latest(timeout=2) is not None

    rtsp_server.freeze()  # connections stay open, nothing arrives: OpenCV's read never returns
    status = wait_state(reader, StreamState.OFFLINE, 8)  # frames in flight still arrive first
    assert time.time() - reader.latest().captured_at <= options["stall_timeout"] + 4
    assert "stalled" in status.last_error
    # The watchdog replaced the stuck thread: the new one reconnects, and a frozen server
    # accepts TCP connections but never answers them.
    wait_state(reader, StreamState.ERROR, 10)
    assert reader.status.reconnects_last_hour >= 1
    assert reader.is_alive()

    rtsp_server.thaw()
    wait_state(reader, StreamState.ONLINE, 20)
    before = reader.latest()
    assert reader.latest(before.seq, timeout=3) is not None


@both_decoders
def test_rtsp_with_credentials(readers, require_rtsp, short_video, caplog):
    password = "p@ss:w/rd?#%"
    caplog.set_level(logging.DEBUG, logger="cameras")
    with RtspServer(short_video.path, username="viewer", password=password) as server:
        good = with_credentials(server.url, "viewer", password)
        reader = readers(good, label=mask_url(good), **FAST)
        wait_state(reader, StreamState.ONLINE, 15)
        assert reader.latest(timeout=3) is not None

        bad = with_credentials(server.url, "viewer", "wrong-" + password)
        refused = readers(bad, label=bad, **FAST)
        status = wait_state(refused, StreamState.ERROR, 10)
        assert "viewer:***@" in status.last_error
        assert "credentials" in status.last_error
    for text in (caplog.text, repr(status), repr(reader.status)):
        assert password not in text and "p%40ss" not in text


@both_decoders
def test_mjpeg_over_http(readers, mjpeg_server):
    reader = readers(mjpeg_server.url, label="mjpeg", **FAST)
    status = wait_state(reader, StreamState.ONLINE, 5)
    assert (status.width, status.height) == (320, 240)
    frames = collect(reader, 2.0)
    assert len(frames) >= 15
    stamps = [read_stamp(frame.image) for frame in frames]
    assert stamps[:5] == sorted(stamps[:5])


@both_decoders
def test_a_snapshot_url_is_polled_and_stays_online(readers, mjpeg_server):
    reader = readers(mjpeg_server.snapshot_url, label="snapshot", snapshot_interval=0.3, **FAST)
    wait_state(reader, StreamState.ONLINE, 5)
    frames = collect(reader, 1.5)
    assert len(frames) >= 3
    assert reader.status.state is StreamState.ONLINE
    assert reader.status.reconnects_last_hour == 0


# -- probe --------------------------------------------------------------------------------


def test_probe_a_file(short_video):
    result = probe_source(str(short_video.path), label="door.mp4")
    assert result.ok and result.error is None
    assert (result.width, result.height, result.fps) == (320, 240, 10.0)
    assert result.elapsed < 5


def test_probe_an_rtsp_stream(rtsp_server):
    result = probe_source(rtsp_server.url, timeout=10, label="rtsp")
    assert result.ok, result.error
    assert (result.width, result.height) == (320, 240)
    assert result.fps == pytest.approx(10, abs=3)
    assert result.elapsed < 10


def test_probe_mjpeg_measures_the_real_rate(mjpeg_server):
    result = probe_source(mjpeg_server.url, timeout=5, label="mjpeg")
    assert result.ok, result.error
    assert result.fps == pytest.approx(10, abs=3)  # FFmpeg itself would say 25


def test_probe_gives_up_on_a_silent_server_within_the_timeout():
    with SilentTcpServer() as silent:
        url = silent.url("http", "/video.mjpg").replace("://", "://admin:hunter2@")
        started = time.monotonic()
        result = probe_source(url, timeout=3, label=mask_url(url))
        elapsed = time.monotonic() - started
    assert not result.ok
    assert elapsed <= 4.5  # the 3 s bound, plus scheduling on a busy machine
    assert "no answer" in result.error and "hunter2" not in result.error


def test_probe_reports_refused_connections_quickly(require_rtsp):
    from cameras.testing.servers import free_port

    result = probe_source(f"rtsp://127.0.0.1:{free_port()}/cam", timeout=5, label="gone")
    assert not result.ok and "connection refused" in result.error
    assert result.elapsed < 5


# -- the scene video the pipeline tests use -----------------------------------------------


def test_scene_video(scene_video):
    assert scene_video.size == (640, 360) and scene_video.frames == 200
    assert [(a.index, a.start_s, a.end_s) for a in scene_video.appearances] == [
        (0, 1.0, 7.0),
        (1, 7.0, 13.0),
        (2, 13.0, 19.0),
    ]
    result = probe_source(str(scene_video.path), label="scene")
    assert (result.width, result.height, result.fps) == (640, 360, 10.0)
    assert os.path.getsize(scene_video.path) > 100_000
