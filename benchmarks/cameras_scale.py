"""Cameras at scale: N real RTSP cameras through the real supervisor, FFmpeg against OpenCV.

One command (``python benchmarks/cameras_scale.py``). For each decoder, frame size and
camera count: N GStreamer RTSP servers on loopback (each a camera sending the synthetic
door video, H.264 at 15 fps, a key frame a second), the real supervisor with the real
pipeline (face engine, tracker, detections written to SQLite, live messages) analysing
each camera at 2 fps; with ``--sub-stream`` also cameras that analyse a 640x360
sub-stream and read the large stream as their main stream (key frames, for snapshots).
Measured per row:

- *online s*: from the supervisor's start until every camera is ``online``;
- *read fps*: frames the readers hand over a second (FFmpeg thins to the analysis rate in
  the decoder, OpenCV hands over all 15), mean over cameras;
- *analysed fps*: frames the pipeline analysed a second, min and mean over cameras;
- *dropped*: frames replaced before the analysis took them, over the window;
- *CPU cores*: CPU time of this process (readers, pipeline, everything) plus its ffmpeg
  children, over the window's wall time; the RTSP servers (the cameras) are not counted;
- *latency*: from the moment the reader took the frame that confirmed a track to its
  ``detection.created`` message arriving from the channel layer, p50 and p95;
- *load avg*: the machine's one-minute load at the window's end (other work included).

With ``--idle-seconds S`` also the idle mode (``CAMERA_IDLE_SECONDS``), against full
decoding, on a sparse doorway (a clip with an empty doorway for ``SPARSE_GAP_S`` before each
of its three people): *CPU cores per camera* over the window, *idle* (cameras idle at the
window's end), and per person crossing the frame (an *appearance*, counted when the window
saw it whole) how late the track was first seen and confirmed after the person entered,
in the stream's own time (the frame numbers drawn into the frames), and how many were
missed (no confirmed track).

Embedded settings (SQLite, in-memory channel layer), like ``benchmarks/pipeline.py``,
whose helpers this reuses. The machines are shared: compare rows of one run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.pipeline import _LiveListener, enrol_people, percentile, setup_django  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

    from cameras.models import Camera
    from detections.models import Detection
    from detections.pipeline import TrackEvent

ONLINE_TIMEOUT_S = 60.0
#: The sparse doorway: each person walks for this long after this long of empty doorway.
SPARSE_GAP_S = 8.0
SPARSE_WALK_S = 6.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return 0.0


def process_and_decoders_cpu() -> float:
    """CPU seconds of this process plus its live ffmpeg children."""
    from cameras.testing.processes import ffmpeg_children

    return cpu_seconds() + sum(cpu_seconds(pid) for pid in ffmpeg_children())


def door_video(workdir: Path, size: tuple[int, int], seconds: float) -> Path:
    """The synthetic door video at ``size``, 15 fps, two enrolled people and a stranger."""
    from cameras.synthetic_video import face_crops, make_test_video

    path = workdir / "videos" / f"door-{size[0]}x{size[1]}.mp4"
    make_test_video(path, seconds=seconds, fps=15, size=size, people=face_crops())
    return path


def sparse_door_video(
    workdir: Path, size: tuple[int, int], *, empty: bool = False
) -> tuple[Path, list[tuple[float, float]]]:
    """The door video with an empty doorway before each person, and each one's window;
    with ``empty``, as long but nobody ever comes (what idle mode saves at best)."""
    from cameras.synthetic_video import face_crops, make_test_video

    people = face_crops()
    step = SPARSE_GAP_S + SPARSE_WALK_S
    seconds = len(people) * step
    if empty:
        path = workdir / "videos" / f"empty-{size[0]}x{size[1]}.mp4"
        make_test_video(path, seconds=seconds, fps=15, size=size)
        return path, []
    windows = [(i * step + SPARSE_GAP_S, (i + 1) * step) for i in range(len(people))]
    path = workdir / "videos" / f"sparse-{size[0]}x{size[1]}.mp4"
    make_test_video(path, seconds=seconds, fps=15, size=size, people=people, windows=windows)
    return path, windows


class StampLog:
    """Which frame of the clip (its drawn stamp) each analysed frame was, per camera, so
    that lateness is counted in the stream's time rather than this busy machine's."""

    def __init__(self) -> None:
        self.frames: dict[int, list[tuple[float, int]]] = {}
        self.events: list[tuple[int, str, float, float]] = []
        self._lock = threading.Lock()

    def frame(self, camera_id: int, captured_at: float, stamp: int) -> None:
        """Note an analysed frame."""
        with self._lock:
            self.frames.setdefault(camera_id, []).append((captured_at, stamp))

    def event(self, camera_id: int, track_id: str, first_seen: float, captured_at: float) -> None:
        """Note a confirmed track."""
        with self._lock:
            self.events.append((camera_id, track_id, first_seen, captured_at))


def lateness(
    log: StampLog, windows: list[tuple[float, float]], fps: float, since: float
) -> tuple[list[float], list[float], int]:
    """(first seen s, confirmed s, missed) over the appearances seen whole after ``since``.

    Each camera's frames analysed from ``since`` on are split into passes over the looping
    clip (the stamp falls back); an appearance counts when its pass has analysed frames
    before it entered and after it left; its track is the confirmed event whose frame lies
    in its window.
    """
    seen, confirmed, missed = [], [], 0
    for camera_id, all_frames in log.frames.items():
        stamp_of = dict(all_frames)
        frames = [(t, stamp) for t, stamp in all_frames if t >= since]
        passes: list[list[tuple[float, int]]] = [[]]
        for captured_at, stamp in frames:
            if passes[-1] and stamp < passes[-1][-1][1]:
                passes.append([])
            passes[-1].append((captured_at, stamp))
        events = [e for e in log.events if e[0] == camera_id]
        for one_pass in passes:
            times = [t for t, _ in one_pass]
            stamps = [s for _, s in one_pass]
            for start, end in windows:
                entered, left = round(start * fps), round(end * fps)
                if min(stamps) >= entered or max(stamps) < left:
                    continue
                tracks = [
                    e
                    for e in events
                    if min(times) <= e[3] <= max(times)
                    and entered <= stamp_of.get(e[3], -1) <= left
                ]
                if not tracks:
                    missed += 1
                    continue
                first = min(tracks, key=lambda e: e[3])
                seen.append((stamp_of.get(first[2], entered) - entered) / fps)
                confirmed.append((stamp_of[first[3]] - entered) / fps)
    return seen, confirmed, missed


def idle_run(
    video: Path,
    windows: list[tuple[float, float]],
    count: int,
    seconds: float,
    idle_seconds: float,
) -> dict[str, Any]:
    """``count`` ffmpeg cameras of the sparse doorway for ``seconds``, idle mode on
    (``idle_seconds``) or off (0): CPU per camera, lateness and missed appearances."""
    from django.conf import settings

    from cameras.models import Camera, CameraStatus
    from cameras.supervisor import Supervisor
    from cameras.testing.servers import RtspServer
    from cameras.testing.video import read_stamp
    from detections import camera_handler

    settings.CAMERA_DECODER = "ffmpeg"
    settings.CAMERA_IDLE_SECONDS = idle_seconds
    servers = [RtspServer(video) for _ in range(count)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(RtspServer.start, servers))
    Camera.objects.all().delete()
    ids = [
        Camera.objects.create(name=f"idle {i}", source_url=server.url, analysis_fps=2).pk
        for i, server in enumerate(servers)
    ]
    log = StampLog()
    original_process, original_record = (
        camera_handler.DetectionHandler.process,
        camera_handler.record_event,
    )

    def stamped_process(handler: Any, image: Any, captured_at: float) -> int:
        log.frame(handler.camera.pk, captured_at, read_stamp(image))
        return original_process(handler, image, captured_at)

    def noted_record(camera: Camera, event: TrackEvent) -> Detection | None:
        if event.kind == "confirmed":
            log.event(camera.pk, str(event.track_id), event.first_seen, event.captured_at)
        return original_record(camera, event)

    camera_handler.DetectionHandler.process = stamped_process  # type: ignore[method-assign]
    camera_handler.record_event = noted_record
    supervisor = Supervisor(poll_seconds=0.5)
    thread = threading.Thread(target=supervisor.run_forever, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + ONLINE_TIMEOUT_S
        while time.monotonic() < deadline:
            if Camera.objects.filter(pk__in=ids, status=CameraStatus.ONLINE).count() == count:
                break
            time.sleep(0.2)
        time.sleep(max(2.0, idle_seconds + 3.0))  # past the first switch to idle
        workers = dict(supervisor.workers)
        since = time.time()
        # Each switch ends an ffmpeg process: count the ended ones too.
        cpu_before = process_and_decoders_cpu() + _reaped_children_cpu()
        window_start = time.monotonic()
        time.sleep(seconds)
        cpu_after = process_and_decoders_cpu() + _reaped_children_cpu()
        elapsed = time.monotonic() - window_start
        idle_now = sum(worker.idle for worker in workers.values())
        switches = sum(worker.idle_switches for worker in workers.values())
        load = os.getloadavg()[0]
    finally:
        supervisor.stop()
        thread.join(60)
        camera_handler.DetectionHandler.process = original_process  # type: ignore[method-assign]
        camera_handler.record_event = original_record
        for server in servers:
            server.stop()
    seen, confirmed, missed = lateness(log, windows, 15.0, since)
    return {
        "mode": f"idle after {idle_seconds:g} s" if idle_seconds else "full decoding",
        "cameras": count,
        "cores": (cpu_after - cpu_before) / elapsed / count,
        "idle": idle_now,
        "switches": switches,
        "seen": seen,
        "confirmed": confirmed,
        "missed": missed,
        "load": load,
    }


def print_idle_row(scene: str, row: dict[str, Any]) -> None:
    """One Markdown row of the idle-mode table."""

    def spread(values: list[float]) -> str:
        if not values:
            return "-"
        return f"{statistics.mean(values):.1f} / {max(values):.1f}"

    print(
        f"| {scene} | {row['mode']} | {row['cameras']} | {row['cores']:.3f} | {row['idle']} "
        f"| {row['switches']} | {len(row['confirmed']) + row['missed']} "
        f"| {spread(row['seen'])} | {spread(row['confirmed'])} | {row['missed']} "
        f"| {row['load']:.1f} |",
        flush=True,
    )


def run(
    decoder: str,
    video: Path,
    count: int,
    seconds: float,
    size: tuple[int, int],
    sub_video: Path | None = None,
) -> dict[str, Any]:
    """One row: ``count`` cameras of ``video`` read by ``decoder`` for ``seconds``. With
    ``sub_video``, each camera analyses that (its sub-stream) and ``video`` is its main
    stream, read for snapshots only."""
    from django.conf import settings

    from cameras.models import Camera, CameraStatus
    from cameras.supervisor import Supervisor
    from cameras.testing.servers import RtspServer
    from detections import camera_handler

    settings.CAMERA_DECODER = decoder
    mains = [RtspServer(video) for _ in range(count)]
    subs = [RtspServer(sub_video) for _ in range(count)] if sub_video else []
    servers = mains + subs
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(RtspServer.start, servers))
    Camera.objects.all().delete()
    ids = [
        Camera.objects.create(
            name=f"scale {i}",
            source_url=subs[i].url if subs else main.url,
            main_stream_url=main.url if subs else "",
            analysis_fps=2,
        ).pk
        for i, main in enumerate(mains)
    ]
    read_at: dict[str, float] = {}
    latencies: list[float] = []
    original = camera_handler.record_event

    def timed_record(camera: Camera, event: TrackEvent) -> Detection | None:
        if event.kind == "confirmed":
            read_at[str(event.track_id)] = event.captured_at
        return original(camera, event)

    camera_handler.record_event = timed_record
    listener = _LiveListener(read_at, latencies)
    listener.start()
    supervisor = Supervisor(poll_seconds=0.5)
    thread = threading.Thread(target=supervisor.run_forever, daemon=True)
    started = time.monotonic()
    thread.start()
    online_s = None
    try:
        while time.monotonic() - started < ONLINE_TIMEOUT_S:
            online = Camera.objects.filter(pk__in=ids, status=CameraStatus.ONLINE).count()
            if online == count:
                online_s = time.monotonic() - started
                break
            time.sleep(0.2)
        time.sleep(2)  # past the first second of each connection (buffered frames)
        workers = dict(supervisor.workers)
        before = {pk: (w.frames_processed, w.frames_dropped) for pk, w in workers.items()}
        cpu_before, window_start = process_and_decoders_cpu(), time.monotonic()
        time.sleep(seconds)
        cpu_after, elapsed = process_and_decoders_cpu(), time.monotonic() - window_start
        read_fps = [w._reader.status.fps for w in workers.values()]
        analysed = [(w.frames_processed - before[pk][0]) / elapsed for pk, w in workers.items()]
        dropped = sum(w.frames_dropped - before[pk][1] for pk, w in workers.items())
        online_now = Camera.objects.filter(pk__in=ids, status=CameraStatus.ONLINE).count()
        load = os.getloadavg()[0]
    finally:
        supervisor.stop()
        thread.join(60)
        camera_handler.record_event = original
        listener.stop()
        for server in servers:
            server.stop()
    return {
        "decoder": f"{decoder} + 640x360 sub-stream" if sub_video else decoder,
        "size": f"{size[0]}x{size[1]}",
        "cameras": count,
        "online": online_now,
        "online_s": online_s,
        "read_fps": statistics.mean(read_fps) if read_fps else 0.0,
        "min_analysed": min(analysed) if analysed else 0.0,
        "mean_analysed": statistics.mean(analysed) if analysed else 0.0,
        "dropped": dropped,
        "cores": (cpu_after - cpu_before) / elapsed,
        "latencies": latencies,
        "load": load,
    }


def decode_costs(video: Path, seconds: float) -> list[tuple[str, float, int]]:
    """CPU seconds per second of ``video`` for each way of reading it, read as fast as it
    decodes (no pacing, no pipeline): CPU time per unit of work barely changes with the
    machine's load, unlike the live rows above. ``(how, cores per camera, frames)``."""
    import cv2

    from cameras.streams.ffmpeg import FfmpegCapture

    def drain(capture: Any) -> int:
        frames = 0
        while capture.read()[0]:
            frames += 1
        capture.release()
        return frames

    def opencv() -> int:
        return drain(cv2.VideoCapture(str(video), cv2.CAP_FFMPEG))

    def ffmpeg(**options: Any) -> Callable[[], int]:
        return lambda: drain(FfmpegCapture(str(video), open_timeout=10, read_timeout=10, **options))

    ways = [
        ("OpenCV, every frame", opencv),
        ("ffmpeg, every frame", ffmpeg()),
        ("ffmpeg, 2 fps kept", ffmpeg(fps=2)),
        ("ffmpeg, 2 fps kept, scaled to 640 wide", ffmpeg(fps=2, scale_width=640)),
        ("ffmpeg, key frames only (main stream for snapshots)", ffmpeg(keyframes_only=True)),
    ]
    costs = []
    for how, read in ways:
        before = process_and_decoders_cpu() + _reaped_children_cpu()
        frames = read()
        used = process_and_decoders_cpu() + _reaped_children_cpu() - before
        costs.append((how, used / seconds, frames))
    return costs


def _reaped_children_cpu() -> float:
    """CPU seconds of this process's children that have ended (ffmpeg runs that finished)."""
    times = os.times()
    return times.children_user + times.children_system


def print_row(row: dict[str, Any]) -> None:
    """One Markdown table row."""
    latencies = row["latencies"]
    p50 = f"{percentile(latencies, 0.5):.0f}" if latencies else "-"
    p95 = f"{percentile(latencies, 0.95):.0f}" if latencies else "-"
    online_s = f"{row['online_s']:.1f}" if row["online_s"] is not None else "> 60"
    print(
        f"| {row['decoder']} | {row['size']} | {row['cameras']} | {row['online']} "
        f"| {online_s} | {row['read_fps']:.1f} | {row['min_analysed']:.2f} "
        f"| {row['mean_analysed']:.2f} | {row['dropped']} | {row['cores']:.2f} "
        f"| {len(latencies)} | {p50} | {p95} | {row['load']:.1f} |",
        flush=True,
    )


def idle_table(args: argparse.Namespace, workdir: Path) -> None:
    """Idle mode against full decoding, per frame size and camera count."""
    print(
        f"### Idle mode ({args.seconds:.0f} s window, 15 fps cameras, a key frame a second, "
        f"2 fps analysed, {SPARSE_GAP_S:g} s of empty doorway before each person)\n"
    )
    print(
        "| doorway | mode | cameras | CPU cores per camera | idle at end | switches | appearances "
        "| first seen s, mean / max | confirmed s, mean / max | missed | load avg |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size_text in args.sizes.split(","):
        width, height = (int(v) for v in size_text.lower().split("x"))
        for empty in (True, False):
            video, windows = sparse_door_video(workdir, (width, height), empty=empty)
            scene = f"{size_text}, {'empty' if empty else 'three people'}"
            for count in [int(c) for c in args.cameras.split(",") if c]:
                for idle_seconds in (0.0, args.idle_seconds):
                    row = idle_run(video, windows, count, args.seconds, idle_seconds)
                    print_idle_row(scene, row)
    print()


def main(argv: list[str] | None = None) -> int:
    """Run every decoder, size and camera count, and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", default="4,8", help="camera counts to try")
    parser.add_argument("--sizes", default="1280x720,1920x1080", help="frame sizes")
    parser.add_argument("--decoders", default="ffmpeg,opencv", help="decoders to compare")
    parser.add_argument("--seconds", type=float, default=20, help="window per row")
    parser.add_argument("--video-seconds", type=float, default=20, help="length of the clip")
    parser.add_argument(
        "--sub-stream",
        action="store_true",
        help="also: ffmpeg cameras analysing a 640x360 sub-stream, each size as main stream",
    )
    parser.add_argument(
        "--decode-costs", action="store_true", help="also: decoding alone, per way of reading"
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=0.0,
        help="also: idle mode after this many seconds without a face, against full decoding",
    )
    parser.add_argument(
        "--idle-only", action="store_true", help="only the idle-mode table (with --idle-seconds)"
    )
    args = parser.parse_args(argv)
    decode_rows: list[tuple[str, list[tuple[str, float, int]]]] = []

    workdir = Path(tempfile.mkdtemp(prefix="presence-scale-"))
    os.environ["CAMERA_ALLOWED_NETWORKS"] = "127.0.0.0/8"  # the cameras are on loopback
    setup_django(workdir)
    from cameras.testing.servers import rtsp_unavailable_reason

    reason = rtsp_unavailable_reason()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    enrol_people()
    if args.idle_seconds:
        idle_table(args, workdir)
        if args.idle_only:
            return 0
    print(f"### Cameras at scale ({args.seconds:.0f} s window, 15 fps cameras, 2 fps analysed)\n")
    print(
        "| decoder | size | cameras | online | online s | read fps | min analysed fps "
        "| mean analysed fps | dropped | CPU cores | messages | p50 ms | p95 ms | load avg |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size_text in args.sizes.split(","):
        width, height = (int(v) for v in size_text.lower().split("x"))
        video = door_video(workdir, (width, height), args.video_seconds)
        if args.decode_costs:
            decode_rows.append((size_text, decode_costs(video, args.video_seconds)))
        sub = door_video(workdir, (640, 360), args.video_seconds) if args.sub_stream else None
        for count in [int(c) for c in args.cameras.split(",") if c]:
            for decoder in args.decoders.split(","):
                print_row(run(decoder, video, count, args.seconds, (width, height)))
            if sub is not None:
                print_row(run("ffmpeg", video, count, args.seconds, (width, height), sub))
    for size_text, costs in decode_rows:
        print(f"\n### Decoding alone, {size_text} at 15 fps (CPU cores per camera)\n")
        print("| how | cores per camera | frames handed over (of the clip) |")
        print("|---|---:|---:|")
        for how, cores, frames in costs:
            print(f"| {how} | {cores:.3f} | {frames} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
