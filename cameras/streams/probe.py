"""Probe a camera source once: can it be opened, and what resolution and frame rate does it give?

``POST /cameras/{id}/test`` answers an administrator who is waiting on a form, so the probe
is bounded by a hard deadline whatever OpenCV does: the work runs in a daemon thread and
the caller stops waiting at the deadline. An abandoned probe thread finishes its open or
read (FFmpeg's own timeouts bound those too) and releases its capture itself.

The frame rate of a stream is measured, not just read from its header (cameras often
announce one rate and send another): from the arrival times of frames that had to wait for
the camera (the burst FFmpeg buffered while opening arrives at once and tells nothing),
else from the presentation timestamps (RTSP has real ones; FFmpeg invents 25 fps ones for
MJPEG over HTTP, hence arrivals first), else the announced rate. A file's rate is the one
its container records.
"""

from __future__ import annotations

import contextlib
import itertools
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2

from cameras.sources import mask_url

from .capture import capture_size, describe_open_failure, open_capture, plausible_fps

#: How long and how many frames a probe samples to measure the frame rate.
SAMPLE_SECONDS = 2.0
SAMPLE_FRAMES = 20
#: A read that returns faster than this came from FFmpeg's buffer, not from the camera.
BUFFERED_READ_S = 0.005


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of ``probe_source``; ``error`` is masked and meant for people."""

    ok: bool
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    error: str | None = None
    elapsed: float = 0.0


def probe_source(
    target: str | int,
    *,
    timeout: float = 10.0,
    label: str,
    guard: Callable[[], None] | None = None,
) -> ProbeResult:
    """Open ``target`` and sample a few frames; never takes longer than ``timeout`` seconds.

    ``target`` is the real open target (credentials included); ``label`` is what errors
    show, and errors are masked again besides. ``guard`` runs right before the open (inside
    the deadline); a ``ValueError`` it raises (``SourceError``, the address policy) refuses
    the probe with its message, and nothing is opened.
    """
    label = mask_url(label)
    started = time.monotonic()
    deadline = started + timeout
    outcome: list[ProbeResult] = []
    done = threading.Event()

    def work() -> None:
        try:
            if guard is not None:
                guard()
            outcome.append(_probe(target, label=label, started=started, deadline=deadline))
        except ValueError as error:
            outcome.append(ProbeResult(ok=False, error=mask_url(f"{label}: {error}")))
        except Exception as error:  # noqa: BLE001 - the probe reports, it does not raise
            outcome.append(ProbeResult(ok=False, error=mask_url(f"{label}: {error}")))
        finally:
            done.set()

    threading.Thread(target=work, name=f"camera-probe {label}", daemon=True).start()
    finished = done.wait(timeout)
    elapsed = round(time.monotonic() - started, 3)
    if not finished or not outcome:
        return ProbeResult(
            ok=False, error=f"{label}: no answer within {timeout:g} s", elapsed=elapsed
        )
    result = outcome[0]
    return ProbeResult(
        ok=result.ok,
        width=result.width,
        height=result.height,
        fps=result.fps,
        error=mask_url(result.error) if result.error else None,
        elapsed=elapsed,
    )


def _probe(target: str | int, *, label: str, started: float, deadline: float) -> ProbeResult:
    # Leave a little of the budget to the caller, so an open that uses all of its timeout
    # still ends before the caller gives up and the reason is the specific one.
    open_timeout = max(0.5, (deadline - started) * 0.9)
    capture = open_capture(target, open_timeout=open_timeout, read_timeout=open_timeout)
    try:
        if not capture.isOpened():
            return ProbeResult(
                ok=False,
                error=describe_open_failure(
                    target,
                    label=label,
                    elapsed=time.monotonic() - started,
                    open_timeout=open_timeout,
                ),
            )
        width, height = capture_size(capture)
        announced = plausible_fps(capture.get(cv2.CAP_PROP_FPS))
        is_file = isinstance(target, str) and "://" not in target
        timestamps: list[float] = []
        arrivals: list[tuple[float, float]] = []
        sample_end = min(deadline - 0.2, time.monotonic() + SAMPLE_SECONDS)
        ended = False
        while len(timestamps) < SAMPLE_FRAMES and time.monotonic() < sample_end:
            before = time.monotonic()
            ok, image = capture.read()
            after = time.monotonic()
            if not ok or image is None:
                ended = True
                break
            if width is None:
                width, height = image.shape[1], image.shape[0]
            timestamps.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
            arrivals.append((after, after - before))
        if not timestamps:
            return ProbeResult(ok=False, error=f"{label}: opened, but no frame could be decoded")
        if is_file:
            fps = announced or _rate(timestamps)
        elif ended and len(timestamps) == 1:
            fps = None  # a snapshot URL: one image per request, no frame rate of its own
        else:
            fps = _arrival_rate(arrivals) or _rate(timestamps) or announced
        return ProbeResult(ok=True, width=width, height=height, fps=round(fps, 2) if fps else None)
    finally:
        with contextlib.suppress(Exception):
            capture.release()


def _rate(timestamps: list[float]) -> float | None:
    """Frames per second from presentation timestamps, if they increase steadily."""
    steps = [b - a for a, b in itertools.pairwise(timestamps)]
    if len(steps) < 2 or any(step <= 0 for step in steps):
        return None
    return plausible_fps(1.0 / statistics.median(steps))


def _arrival_rate(arrivals: list[tuple[float, float]]) -> float | None:
    """Frames per second delivered once the camera had to be waited for.

    The burst FFmpeg buffered while opening is skipped (it arrives at once); after it the
    rate is the frames over the time they took, not the median gap between two frames: a
    busy machine reads in bursts, and the gaps inside a burst say nothing of the camera.
    """
    first_live = next(
        (index for index, (_, waited) in enumerate(arrivals) if waited > BUFFERED_READ_S), None
    )
    if first_live is None or len(arrivals) - first_live < 4:
        return None
    span = arrivals[-1][0] - arrivals[first_live][0]
    if span <= 0:
        return None
    return plausible_fps((len(arrivals) - 1 - first_live) / span)
