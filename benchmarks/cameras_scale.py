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
