"""One camera source read by one daemon thread, keeping only the newest frame.

Recognition is slower than a camera, so a queue of frames would only grow and make every
sighting later than the one before: the reader overwrites a single slot and the consumer
takes whatever is newest (``latest``), skipping what it had no time for. Cameras drop off
networks, freeze and come back, so the thread never gives up: a failed open is an ``ERROR``
retried with exponential back-off, a lost or silent stream is ``OFFLINE`` and reconnected,
and the state is reported through ``on_status`` for the supervisor's heartbeats.

How long anything can block: opens and reads go through FFmpeg with OpenCV's open and read
timeouts, which FFmpeg enforces with its interrupt callback (see ``capture``), so the thread
regains control at least every ``min(read_timeout, stall_timeout)`` and checks the watchdog
and the stop flag then. The watchdog is that check: no frame for ``stall_timeout`` means the
capture is released, the state goes ``OFFLINE`` and the source is reopened. Should a read
ever block past its timeout anyway (a driver that ignores it), ``status`` already reports
``OFFLINE`` once the last frame is ``stall_timeout`` old, and the owner can ``stop()`` the
reader and start a new one without waiting for the stuck call.

``stop()`` never waits longer than its own timeout: a thread still inside an open or a read
is left to finish it (it is a daemon, so it never holds up interpreter exit), then it
releases its capture itself and ends. The capture is never released from another thread,
because releasing it under a running read crashes FFmpeg.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from cameras.sources import mask_url

from .capture import capture_size, describe_open_failure, open_capture, plausible_fps

logger = logging.getLogger("cameras.streams")

#: Frames per second are measured over this many seconds of arrivals...
FPS_WINDOW_S = 5.0
#: ...not counting the first second of a connection: FFmpeg hands over the frames it buffered
#: while opening (seconds of RTSP) all at once, which would read as hundreds of fps.
FPS_SETTLE_S = 1.0
#: ``on_status`` is called at least this often while nothing changes (the heartbeat).
HEARTBEAT_S = 1.0
RECONNECT_WINDOW_S = 3600.0
#: Frame rate assumed for pacing a file that does not report a plausible one.
DEFAULT_FILE_FPS = 25.0


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` the reader uses (tests inject fakes)."""

    def isOpened(self) -> bool: ...
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def get(self, prop: int) -> float: ...
    def set(self, prop: int, value: float) -> bool: ...
    def release(self) -> None: ...


CaptureFactory = Callable[[str | int], Capture]


@dataclass(frozen=True)
class Frame:
    """One decoded image and where it stands in the stream."""

    image: np.ndarray
    """BGR uint8, as OpenCV decodes it; each frame owns its array."""
    seq: int
    """Increases by one per decoded frame for the reader's lifetime, across reconnects; a
    consumer sees gaps where it was too slow."""
    captured_at: float
    """``time.time()`` when the frame was decoded."""
    pass_index: int = 0
    """For a looping file, which pass over the file (0, 1, ...); always 0 for streams."""


class StreamState(enum.StrEnum):
    """Where a reader stands; the supervisor stores it as the camera's status."""

    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"
    """Was streaming, then the stream ended, failed or stalled; reconnecting."""
    ERROR = "error"
    """The source could not be opened or decoded; retrying with back-off."""
    STOPPED = "stopped"
    """``stop()`` was called, or a file played once has ended."""


@dataclass(frozen=True)
class StreamStatus:
    """A snapshot of a reader, safe to show: ``last_error`` is always masked."""

    state: StreamState
    last_frame_at: float | None = None
    fps: float = 0.0
    last_error: str | None = None
    reconnects_last_hour: int = 0
    width: int | None = None
    height: int | None = None


def backoff_delays(initial: float = 1.0, maximum: float = 30.0) -> Iterator[float]:
    """``initial``, doubling each time, capped at ``maximum``: 1, 2, 4, 8, 16, 30, 30, ..."""
    delay = initial
    while True:
        yield min(delay, maximum)
        delay = min(delay * 2, maximum)


class _Lost(Exception):
    """The current connection is over; ``state`` and ``error`` say how."""

    def __init__(
        self, state: StreamState, error: str | None, *, retry: bool = True, poll: bool = False
    ) -> None:
        super().__init__(error)
        self.state = state
        self.error = error
        self.retry = retry
        self.poll = poll


class StreamReader:
    """Reads one source in a daemon thread and keeps its newest frame and status.

    ``target`` is the real open target (credentials included, see
    ``cameras.sources.open_target``); it is never logged or reported. ``label`` (a masked
    URL or a camera name) is what logs and errors show. Files are paced at their own frame
    rate when ``realtime_files`` (so a 20 s file takes 20 s) and rewound at their end when
    ``loop_files`` (a new ``pass_index``, not a reconnect); a file played once ends in
    ``STOPPED``. An HTTP source that gives one image per connection is a snapshot URL: it
    is polled every ``snapshot_interval`` seconds and stays ``ONLINE`` (polls are not
    reconnects). ``capture_factory(target)`` replaces OpenCV and ``sleep(seconds)`` replaces
    the interruptible wait between retries, for tests.
    """

    def __init__(
        self,
        target: str | int,
        *,
        label: str,
        open_timeout: float = 10.0,
        read_timeout: float = 10.0,
        stall_timeout: float = 20.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        realtime_files: bool = True,
        loop_files: bool = True,
        on_status: Callable[[StreamStatus], None] | None = None,
        capture_factory: CaptureFactory | None = None,
        sleep: Callable[[float], Any] | None = None,
        snapshot_interval: float = 1.0,
    ) -> None:
        self._target = target
        self.label = mask_url(label)
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.stall_timeout = stall_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.realtime_files = realtime_files
        self.loop_files = loop_files
        self._on_status = on_status
        self._capture_factory = capture_factory
        self._sleep = sleep
        self.snapshot_interval = snapshot_interval
        self._is_http = isinstance(target, str) and target[:8].lower().startswith(
            ("http://", "https://")
        )
        self._is_file = isinstance(target, str) and "://" not in target

        self._stop = threading.Event()
        self._done = threading.Event()
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._seq = -1
        self._lock = threading.Lock()
        self._state = StreamState.STOPPED
        self._last_error: str | None = None
        self._last_frame_at: float | None = None
        self._arrivals: deque[float] = deque()
        self._reconnects: deque[float] = deque()
        self._size: tuple[int | None, int | None] = (None, None)
        self._last_notified = 0.0
        self._last_logged: tuple[StreamState, str | None] | None = None
        self._last_frame_mono: float | None = None
        self._session_had_frames = False
        self._session_started = 0.0
        self._thread: threading.Thread | None = None
        #: Every back-off delay chosen, newest last (observable for tests and debugging).
        self.retry_delays: deque[float] = deque(maxlen=100)

    # -- public API -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the reader thread; a reader runs once (make a new one to restart)."""
        if self._thread is not None:
            raise RuntimeError("this reader was already started")
        self._set_state(StreamState.CONNECTING)
        self._thread = threading.Thread(
            target=self._run, name=f"camera-reader {self.label}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the thread to end and wait up to ``timeout`` seconds; True if it has ended.

        A thread blocked in an open or a read ends when that call returns (within the
        open or read timeout), releasing its capture itself; the state is ``STOPPED``
        from now on either way, and ``latest`` waiters are woken.
        """
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._set_state(StreamState.STOPPED)
        return thread is None or not thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def latest(self, after_seq: int = -1, timeout: float | None = None) -> Frame | None:
        """The newest frame with ``seq > after_seq``, or None.

        With ``timeout`` (seconds) it waits that long for such a frame; with None it does
        not wait. It returns early with None when the reader is stopped or has ended.
        """
        with self._cond:
            if timeout is not None and timeout > 0:
                self._cond.wait_for(
                    lambda: (
                        (self._frame is not None and self._frame.seq > after_seq)
                        or self._stop.is_set()
                        or self._done.is_set()
                    ),
                    timeout,
                )
            frame = self._frame
        return frame if frame is not None and frame.seq > after_seq else None

    @property
    def status(self) -> StreamStatus:
        """A snapshot; ``OFFLINE`` as soon as an online stream has been silent too long, even
        while the thread is still inside a read."""
        now = time.monotonic()
        with self._lock:
            self._trim(now)
            state, error = self._state, self._last_error
            stalled = self._last_frame_mono is not None and (
                now - self._last_frame_mono > self.stall_timeout
            )
            if state is StreamState.ONLINE and stalled:
                state = StreamState.OFFLINE
                error = f"{self.label}: no frame for {self.stall_timeout:g} s (stream stalled)"
            return StreamStatus(
                state=state,
                last_frame_at=self._last_frame_at,
                fps=self._fps(),
                last_error=error,
                reconnects_last_hour=len(self._reconnects),
                width=self._size[0],
                height=self._size[1],
            )

    # -- status bookkeeping ------------------------------------------------------------------

    def _trim(self, now: float) -> None:
        while self._arrivals and now - self._arrivals[0] > FPS_WINDOW_S:
            self._arrivals.popleft()
        while self._reconnects and now - self._reconnects[0] > RECONNECT_WINDOW_S:
            self._reconnects.popleft()

    def _fps(self) -> float:
        if len(self._arrivals) < 2:
            return 0.0
        span = self._arrivals[-1] - self._arrivals[0]
        return round((len(self._arrivals) - 1) / span, 2) if span > 0 else 0.0

    def _set_state(self, state: StreamState, error: str | None = None) -> None:
        masked = mask_url(error) if error is not None else None
        with self._lock:
            if self._state is StreamState.STOPPED and self._stop.is_set():
                return
            changed = state is not self._state
            changed = changed or (masked is not None and masked != self._last_error)
            self._state = state
            if masked is not None:
                self._last_error = masked
            if state is not StreamState.ONLINE:
                self._arrivals.clear()
        if changed:
            self._log(state, masked)
            self._notify()

    def _log(self, state: StreamState, error: str | None) -> None:
        """Log a change once: a camera retrying the same failure all day logs it once."""
        if state is StreamState.CONNECTING:
            logger.debug("camera %s: connecting", self.label)
            return
        if self._last_logged == (state, error):
            return
        self._last_logged = (state, error)
        if state in (StreamState.ERROR, StreamState.OFFLINE):
            logger.warning("camera %s: %s: %s", self.label, state.value, error)
        else:
            logger.info("camera %s: %s", self.label, state.value)

    def _notify(self) -> None:
        self._last_notified = time.monotonic()
        if self._on_status is None:
            return
        try:
            self._on_status(self.status)
        except Exception as error:  # noqa: BLE001 - a broken callback must not kill the camera
            logger.error(
                "camera %s: on_status callback failed:\n%s", self.label, _masked_trace(error)
            )

    def _heartbeat(self) -> None:
        if time.monotonic() - self._last_notified >= HEARTBEAT_S:
            self._notify()

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped, with heartbeats; True if stop was requested."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._stop.wait(min(remaining, HEARTBEAT_S))
            self._heartbeat()
        return self._stop.is_set()

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        delays = backoff_delays(self.backoff_initial, self.backoff_max)
        reconnect = False
        try:
            while not self._stop.is_set():
                if reconnect:
                    with self._lock:
                        self._reconnects.append(time.monotonic())
                    self._set_state(StreamState.CONNECTING)
                reconnect = True
                try:
                    self._session()
                    return
                except _Lost as lost:
                    if self._stop.is_set():
                        return
                    if lost.poll:
                        reconnect = False
                        if self._wait(self.snapshot_interval):
                            return
                        continue
                    self._set_state(lost.state, lost.error)
                    if not lost.retry:
                        return
                except Exception as error:  # noqa: BLE001 - report, retry, never die
                    logger.error("camera %s: reader failed:\n%s", self.label, _masked_trace(error))
                    self._set_state(StreamState.ERROR, f"{self.label}: internal error: {error}")
                if self._session_had_frames:
                    delays = backoff_delays(self.backoff_initial, self.backoff_max)
                delay = next(delays)
                self.retry_delays.append(delay)
                if self._sleep is not None:
                    self._sleep(delay)
                elif self._wait(delay):
                    return
        finally:
            self._set_state(StreamState.STOPPED)
            self._done.set()
            with self._cond:
                self._cond.notify_all()

    def _open(self) -> Capture:
        started = time.monotonic()
        try:
            if self._capture_factory is not None:
                capture = self._capture_factory(self._target)
            else:
                capture = open_capture(
                    self._target,
                    open_timeout=self.open_timeout,
                    read_timeout=min(self.read_timeout, self.stall_timeout),
                )
        except Exception as error:  # noqa: BLE001 - any failure to open is an ERROR state
            raise _Lost(StreamState.ERROR, f"{self.label}: cannot open: {error}") from None
        if not capture.isOpened():
            with contextlib.suppress(Exception):
                capture.release()
            raise _Lost(
                StreamState.ERROR,
                describe_open_failure(
                    self._target,
                    label=self.label,
                    elapsed=time.monotonic() - started,
                    open_timeout=self.open_timeout,
                ),
            )
        return capture

    def _session(self) -> None:
        """Open the source and read it until stopped (returns) or lost (raises ``_Lost``)."""
        self._session_had_frames = False
        capture = self._open()
        try:
            self._read_loop(capture)
        finally:
            with contextlib.suppress(Exception):
                capture.release()

    def _read_loop(self, capture: Capture) -> None:
        size = capture_size(capture)
        with self._lock:
            self._size = size
        file_fps = plausible_fps(capture.get(cv2.CAP_PROP_FPS)) or DEFAULT_FILE_FPS
        pass_index = 0
        frames_this_pass = 0
        pace_start, paced = time.monotonic(), 0
        last_frame = time.monotonic()
        read_timeout = min(self.read_timeout, self.stall_timeout)
        while not self._stop.is_set():
            read_started = time.monotonic()
            ok, image = capture.read()
            now = time.monotonic()
            if self._stop.is_set():
                return
            if ok and image is not None:
                frames_this_pass += 1
                last_frame = now
                self._publish(image, pass_index, now)
                if self._is_file and self.realtime_files:
                    paced += 1
                    due = pace_start + paced / file_fps
                    if due < now - 1.0:
                        pace_start, paced = now, 0
                    elif due > now and self._stop.wait(due - now):
                        return
                continue
            if self._is_file:
                if frames_this_pass == 0 and pass_index == 0:
                    raise _Lost(
                        StreamState.ERROR,
                        f"{self.label}: no frame could be decoded "
                        "(corrupt file or unsupported format)",
                    )
                if frames_this_pass == 0:
                    raise _Lost(StreamState.OFFLINE, f"{self.label}: the file did not rewind")
                if not self.loop_files:
                    raise _Lost(StreamState.STOPPED, None, retry=False)
                if not capture.set(cv2.CAP_PROP_POS_FRAMES, 0):
                    raise _Lost(StreamState.OFFLINE, f"{self.label}: cannot rewind the file")
                pass_index += 1
                frames_this_pass = 0
                continue
            if now - last_frame >= self.stall_timeout:
                reason = f"no frame for {self.stall_timeout:g} s (stream stalled)"
            elif now - read_started >= read_timeout * 0.9:
                reason = f"no data for {read_timeout:g} s (stream stalled)"
            else:
                reason = "the stream ended or a read failed"
            if not self._session_had_frames:
                raise _Lost(StreamState.ERROR, f"{self.label}: opened, but {reason}")
            if self._is_http and frames_this_pass == 1 and now - read_started < read_timeout / 2:
                raise _Lost(StreamState.ONLINE, None, poll=True)
            raise _Lost(StreamState.OFFLINE, f"{self.label}: {reason}")

    def _publish(self, image: np.ndarray, pass_index: int, now: float) -> None:
        self._seq += 1
        frame = Frame(image=image, seq=self._seq, captured_at=time.time(), pass_index=pass_index)
        first = not self._session_had_frames
        self._session_had_frames = True
        with self._lock:
            if first and self._state is not StreamState.ONLINE:
                self._session_started = now  # not for snapshot polls, which stay online
            self._last_frame_at = frame.captured_at
            self._last_frame_mono = now
            if now - self._session_started >= FPS_SETTLE_S:
                self._arrivals.append(now)
            self._trim(now)
            if first:
                self._size = (image.shape[1], image.shape[0])
        with self._cond:
            self._frame = frame
            self._cond.notify_all()
        if first:
            self._set_state(StreamState.ONLINE)
        else:
            self._heartbeat()


def _masked_trace(error: BaseException) -> str:
    """A traceback for the log with any URL credentials masked (OpenCV and FFmpeg errors
    can quote the URL they were given)."""
    return mask_url("".join(traceback.format_exception(error)).rstrip())
