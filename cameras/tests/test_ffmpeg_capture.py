"""The ffmpeg decoder (one process per camera): what only it promises, beyond the scenarios
of ``test_streams`` and ``test_supervisor`` that run over both decoders.

A silent source costs a killed process, never a stuck thread; nothing is left behind
(processes and threads are counted); FFmpeg's own stderr is masked; frames are scaled in
the decoder; and cameras open in parallel, which OpenCV's FFmpeg backend cannot do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from cameras.sources import mask_url, with_credentials
from cameras.streams import StreamReader, StreamState
from cameras.streams.ffmpeg import FfmpegCapture, SecretMasker, ffmpeg_command
from cameras.testing.processes import ffmpeg_children
from cameras.testing.servers import RtspServer, SilentTcpServer, free_port

FAST = {"open_timeout": 3.0, "read_timeout": 3.0, "stall_timeout": 3.0}


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def decoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ffmpeg-stderr")]


@pytest.fixture
def readers() -> Iterator[Callable[..., StreamReader]]:
    made: list[StreamReader] = []

    def make(target: str, **options) -> StreamReader:
        options.setdefault("label", mask_url(target))
        reader = StreamReader(target, decoder="ffmpeg", **options)
        made.append(reader)
        reader.start()
        return reader

    yield make
    for reader in made:
        reader.stop(timeout=5)


# -- the command line -----------------------------------------------------------------------


def test_the_command_asks_for_tcp_timeouts_and_raw_bgr():
    rtsp = ffmpeg_command("rtsp://cam/x", io_timeout=2.5)
    assert rtsp[rtsp.index("-rtsp_transport") + 1] == "tcp"
    assert rtsp[rtsp.index("-timeout") + 1] == "2500000"
    assert rtsp.index("-timeout") < rtsp.index("-i")  # an input option, not an output one
    assert rtsp[-5:] == ["-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]
    assert "-nostdin" in rtsp and "-re" not in rtsp and "-vf" not in rtsp

    http = ffmpeg_command("http://cam/video.mjpg", io_timeout=3, scale_width=640)
    assert http[http.index("-rw_timeout") + 1] == "3000000"
    assert http[http.index("-vf") + 1] == "scale='min(640,iw)':-2"

    file = ffmpeg_command("/videos/door.mp4", io_timeout=3)
    assert "-timeout" not in file and "-rw_timeout" not in file and "-rtsp_transport" not in file
    assert file[file.index("-fps_mode") + 1] == "vfr"  # never a repeated frame


def test_the_command_thins_frames_before_scaling():
    stream = ffmpeg_command("rtsp://cam/x", io_timeout=3, fps=2, scale_width=640)
    chain = stream[stream.index("-vf") + 1]
    # A stream is thinned by dropping only (a slow camera is not padded with copies)...
    assert chain.startswith("select='") and "0.45" in chain
    assert chain.index("select") < chain.index("scale")  # fewer frames to scale
    # ...a file at an exact rate, which the reader paces it by.
    file = ffmpeg_command("/videos/door.mp4", io_timeout=3, fps=2)
    assert file[file.index("-vf") + 1] == "fps=2"
    keyframes = ffmpeg_command("rtsp://cam/x", io_timeout=3, keyframes_only=True)
    assert keyframes[keyframes.index("-skip_frame") + 1] == "nokey"
    assert keyframes.index("-skip_frame") < keyframes.index("-i")  # a decoder option


def test_secrets_are_masked_in_every_spelling():
    target = "rtsp://admin:p%40ss%3Aword@cam/x?token=tok%2Fen&channel=1"
    mask = SecretMasker(target)
    for leak in (target, "p@ss:word", "p%40ss%3Aword", "tok/en", "tok%2Fen", "x p@ss:word y"):
        masked = mask(f"[rtsp @ 0x1] {leak}: 401 Unauthorized")
        assert "p@ss" not in masked and "p%40ss" not in masked
        assert "tok/en" not in masked and "tok%2Fen" not in masked
    assert "channel=1" in mask(target) and "admin" in mask(target)


# -- scaling and files -------------------------------------------------------------------------


def test_frames_are_scaled_in_the_decoder(short_video):
    capture = FfmpegCapture(str(short_video.path), open_timeout=5, read_timeout=5, scale_width=160)
    try:
        assert capture.isOpened()
        ok, image = capture.read()
        assert ok and image.shape == (120, 160, 3)
        assert capture.set(1, 0)  # CAP_PROP_POS_FRAMES: a rewind starts a fresh decoder
        assert capture.read()[1].shape == (120, 160, 3)
    finally:
        capture.release()
    upscaled = FfmpegCapture(
        str(short_video.path), open_timeout=5, read_timeout=5, scale_width=4000
    )
    try:
        assert upscaled.read()[1].shape == (240, 320, 3)  # never scaled up
    finally:
        upscaled.release()
    assert ffmpeg_children() == []


def test_a_file_is_thinned_to_the_asked_rate_in_the_decoder(short_video):
    capture = FfmpegCapture(str(short_video.path), open_timeout=5, read_timeout=5, fps=2)
    try:
        assert capture.isOpened() and capture.get(5) == 2.0  # CAP_PROP_FPS: paced at 2
        frames = 0
        while capture.read()[0]:
            frames += 1
        assert frames == 4  # 2 s at 10 fps, 2 kept a second
    finally:
        capture.release()


def test_a_stream_is_thinned_in_the_decoder(readers, rtsp_server):
    reader = readers(rtsp_server.url, max_fps=2, **FAST)
    assert wait_for(lambda: reader.status.state is StreamState.ONLINE, 15)
    seen, seq, deadline = 0, -1, time.monotonic() + 3
    while time.monotonic() < deadline:
        frame = reader.latest(seq, timeout=0.5)
        if frame is not None:
            seen, seq = seen + 1, frame.seq
    assert 2 <= seen <= 10, seen  # the server sends 10 a second: 30 unthinned


def test_the_reader_reports_the_scaled_size(readers, short_video):
    reader = readers(str(short_video.path), scale_width=160)
    assert wait_for(lambda: reader.status.state is StreamState.ONLINE, 5)
    status = reader.status
    assert (status.width, status.height) == (160, 120)
    assert reader.latest(timeout=3).image.shape == (120, 160, 3)


# -- faults: processes are killed and reaped, threads end ------------------------------------


def test_a_silent_source_costs_killed_processes_and_leaves_nothing_behind(readers):
    threads_before = {t.ident for t in threading.enumerate()}
    with SilentTcpServer() as silent:
        reader = readers(silent.url(), backoff_initial=0.2, backoff_max=0.2, **FAST)
        assert wait_for(lambda: len(ffmpeg_children()) == 1, 3)
        first = ffmpeg_children()
        assert wait_for(lambda: reader.status.state is StreamState.ERROR, FAST["open_timeout"] + 3)
        assert "no answer within 3 s" in reader.status.last_error
        # The decoder that hung was killed and a fresh one connects: never more than one.
        assert wait_for(lambda: silent.connections >= 2, FAST["open_timeout"] + 3)
        assert wait_for(lambda: ffmpeg_children() not in ([], first), 3)
        assert len(ffmpeg_children()) == 1
        assert reader.stop(timeout=FAST["open_timeout"] + 3)
    assert wait_for(lambda: ffmpeg_children() == [], 3), ffmpeg_children()
    assert wait_for(lambda: not decoder_threads(), 3), decoder_threads()
    left = [t for t in threading.enumerate() if t.ident not in threads_before and t.is_alive()]
    assert [t.name for t in left if t.name != "camera-watchdog"] == []


def test_a_frozen_rtsp_camera_is_a_killed_process_not_an_abandoned_thread(readers, rtsp_server):
    options = {"open_timeout": 3.0, "read_timeout": 2.0, "stall_timeout": 2.0}
    reader = readers(rtsp_server.url, backoff_initial=0.5, backoff_max=0.5, **options)
    assert wait_for(lambda: reader.status.state is StreamState.ONLINE, 15)
    rtsp_server.freeze()
    assert wait_for(lambda: reader.status.state is StreamState.OFFLINE, 8)
    assert wait_for(lambda: reader.status.state is StreamState.ERROR, 10)
    # The read returned by itself (select's timeout): the watchdog abandoned no thread.
    assert [t for t in threading.enumerate() if t.name.startswith("camera-reader")] == [
        reader._thread
    ]
    assert len(ffmpeg_children()) <= 1
    rtsp_server.thaw()
    assert wait_for(lambda: reader.status.state is StreamState.ONLINE, 20)
    assert reader.stop(timeout=5)
    assert wait_for(lambda: ffmpeg_children() == [], 3)


# -- credentials ------------------------------------------------------------------------------


def test_ffmpeg_messages_never_show_credentials(readers, caplog, require_rtsp):
    password = "p@ss:w/rd?#%-s3cr3t"
    caplog.set_level(logging.DEBUG, logger="cameras")
    target = with_credentials(f"rtsp://127.0.0.1:{free_port()}/cam", "viewer", password)
    target += "?token=tok-s3cr3t"
    reader = readers(target, label=target, **FAST)
    assert wait_for(lambda: reader.status.state is StreamState.ERROR, 5)
    status = reader.status
    assert "connection refused" in status.last_error
    assert "ffmpeg:" in status.last_error  # FFmpeg's own words, masked
    assert "viewer:***@" in caplog.text  # FFmpeg quoted the URL, and it was masked
    for text in (caplog.text, repr(status)):
        assert "s3cr3t" not in text and "p@ss" not in text and "p%40ss" not in text


# -- many cameras at once ------------------------------------------------------------------------


def test_eight_rtsp_cameras_open_in_parallel(readers, require_rtsp, short_video):
    servers = [RtspServer(short_video.path) for _ in range(8)]
    try:
        for server in servers:
            server.start()
        started = time.monotonic()
        cameras = [readers(server.url, open_timeout=10, read_timeout=10) for server in servers]
        assert wait_for(
            lambda: all(reader.latest() is not None for reader in cameras), 10, interval=0.1
        ), [reader.status for reader in cameras]
        assert time.monotonic() - started < 10
        assert len(ffmpeg_children()) == 8
    finally:
        for server in servers:
            server.stop()


def test_a_missing_ffmpeg_binary_is_reported_at_start(settings, monkeypatch, tmp_path):
    from cameras.apps import check_decoder

    settings.CAMERA_DECODER = "ffmpeg"
    assert check_decoder() == []  # installed here (CI installs it)
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without ffmpeg
    assert [w.id for w in check_decoder()] == ["cameras.W001"]
    settings.CAMERA_DECODER = "opencv"
    assert check_decoder() == []
