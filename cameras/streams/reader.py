"""One camera source read by one daemon thread, keeping only the newest frame.

Recognition is slower than a camera, so a queue of frames would only grow and make every
sighting later than the one before: the reader overwrites a single slot and the consumer
takes whatever is newest (``latest``), skipping what it had no time for. Cameras drop off
networks, freeze and come back, so the reader never gives up: a failed open is an ``ERROR``
retried with exponential back-off, a lost or silent stream is ``OFFLINE`` and reconnected,
and the state is reported through ``on_status`` for the supervisor's heartbeats.

How long anything can block. Opens go through FFmpeg with OpenCV's open timeout, which
holds (checked against a server that accepts and never answers). Reads have OpenCV's read
timeout, which holds for a closed connection and for HTTP, but not for an RTSP camera that
hangs with its connection open: OpenCV 5.0 retries the interrupted read and never returns.
So the watchdog does not rely on the reader thread. The process-wide ``watchdog`` thread
checks every reader a few times a second; a reader with no frame for ``stall_timeout`` (or
an open running well past ``open_timeout``) has its thread abandoned, goes ``OFFLINE`` and
reconnects in a fresh thread. The abandoned thread keeps its capture until its call returns,
then releases it and ends without touching the reader. A capture is never released from
another thread: releasing it under a running read crashes FFmpeg. At most
``MAX_ABANDONED`` such threads per reader are left waiting; beyond that the reader waits
for one to end before it abandons another.

``stop()`` never waits longer than its own timeout either: a thread still inside an open or
a read is left to finish it the same way (threads are daemons, so none holds up exit).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import random
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
from config.logs import bound_camera

from .capture import capture_size, describe_open_failure, open_capture, plausible_fps
from .ffmpeg import FfmpegCapture
from .status import Frame, StreamState, StreamStatus, backoff_delays
from .watchdog import WATCHDOG

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
#: An open still running this long after its own timeout is taken as stuck.
OPEN_GRACE_S = 5.0
MAX_ABANDONED = 3


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` the reader uses (tests inject fakes)."""

    def isOpened(self) -> bool: ...
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def get(self, prop: int) -> float: ...
    def set(self, prop: int, value: float) -> bool: ...
    def release(self) -> None: ...


CaptureFactory = Callable[[str | int], Capture]

#: The decoders a reader can use (``settings.CAMERA_DECODER`` picks one for the supervisor).
DECODERS = ("opencv", "ffmpeg")

__all__ = ["Frame", "StreamReader", "StreamState", "StreamStatus", "backoff_delays"]


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


class _Phase(enum.Enum):
    WAITING = "waiting"
    OPENING = "opening"
    READING = "reading"


@dataclass
class _Session:
    """One thread's connection: frames are only published while ``gen`` is current."""

    gen: int
    had_frames: bool = False


class StreamReader:
    """Reads one source in a daemon thread and keeps its newest frame and status.

    ``target`` is the real open target (credentials included, see
    ``cameras.sources.open_target``); it is never logged or reported. ``on_status`` is
    called from the reader's thread on every state change and about once a second besides
    (a heartbeat); an exception it raises is logged and ignored. ``label`` (a masked
    URL or a camera name; it is masked again anyway) is what logs and errors show. Files
    are paced at their own frame rate when ``realtime_files`` (so a 20 s file takes 20 s)
    and rewound at their end when ``loop_files`` (a new ``pass_index``, not a reconnect); a
    file played once ends in ``STOPPED``. An HTTP source that gives one image per
    connection is a snapshot URL: it is polled every ``snapshot_interval`` seconds and
    stays ``ONLINE`` (polls are not reconnects). ``guard()`` runs right before every open
    (reconnects included); a ``ValueError`` it raises (``SourceError``: the address is not
    allowed, or no longer resolves to an allowed one) is an ``ERROR`` with its message, and
    nothing is opened until a later retry passes it. ``decoder`` is ``"opencv"`` (a
    ``cv2.VideoCapture``) or ``"ffmpeg"`` (an ``ffmpeg`` process, see ``ffmpeg``; a device
    index still goes through OpenCV), and ``scale_width`` has the ffmpeg decoder scale
    frames down to that width, ``max_fps`` hand over at most that many frames a second (the
    rest are decoded but never converted; OpenCV hands over every frame) and
    ``keyframes_only`` decode key frames alone (``set_keyframes_only`` switches a running
    reader, for a camera's idle mode). The first open waits ``start_delay``
    seconds (the supervisor staggers its cameras' starts), and ``backoff_jitter`` (0 to 1)
    draws each retry delay at random below its nominal value with ``rng`` (see
    ``backoff_delays``). ``camera_id`` tags the log records of the reader's threads and
    ``on_reconnect()`` is called at each reconnect (the camera's metrics); the supervisor
    gives both. ``capture_factory(target)`` replaces both decoders and
    ``sleep(seconds)`` replaces the interruptible wait between retries, for tests.
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
        guard: Callable[[], None] | None = None,
        decoder: str = "opencv",
        scale_width: int | None = None,
        camera_id: int | None = None,
        on_reconnect: Callable[[], None] | None = None,
        max_fps: float | None = None,
        keyframes_only: bool = False,
        start_delay: float = 0.0,
        backoff_jitter: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r} (one of {', '.join(DECODERS)})")
        self._target = target
        self.camera_id = camera_id
        self._on_reconnect = on_reconnect
        self.decoder = decoder
        self.scale_width = scale_width
        self.max_fps = max_fps
        self.keyframes_only = keyframes_only
        self._guard = guard
        self.label = mask_url(label)
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.stall_timeout = stall_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.realtime_files = realtime_files
        self.loop_files = loop_files
        self.snapshot_interval = snapshot_interval
        self._on_status = on_status
        self._capture_factory = capture_factory
        self._sleep = sleep
        self._is_file = isinstance(target, str) and "://" not in target
        self._is_http = isinstance(target, str) and target[:8].lower().startswith(
            ("http://", "https://")
        )

        self._stop = threading.Event()
        self._done = threading.Event()
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._seq = -1
        self._lock = threading.Lock()
        self._state = StreamState.STOPPED
        self._last_error: str | None = None
        self._last_frame_at: float | None = None
        self._last_frame_mono: float | None = None
        self._online_since = 0.0
        self._arrivals: deque[float] = deque()
        self._reconnects: deque[float] = deque()
        self._size: tuple[int | None, int | None] = (None, None)
        self._last_notified = 0.0
        self._last_logged: tuple[StreamState, str | None] | None = None
        self.start_delay = start_delay
        self.backoff_jitter = backoff_jitter
        self._rng = rng or random.Random()
        self._delays = self._new_delays()
        self._gen = 0
        self._phase = (_Phase.WAITING, 0.0)
        self._thread: threading.Thread | None = None
        self._abandoned: list[threading.Thread] = []
        #: (generation, until): a connection replaced by a mode switch, still publishing
        #: until its successor's first frame (see ``set_keyframes_only``).
        self._handover: tuple[int, float] | None = None
        #: Every back-off delay chosen, newest last (observable for tests and debugging).
        self.retry_delays: deque[float] = deque(maxlen=100)

    # -- public API -----------------------------------------------------------------------

    def start(self) -> None:
        """Start reading; a reader runs once (make a new one to start again)."""
        if self._thread is not None:
            raise RuntimeError("this reader was already started")
        self._set_state(StreamState.CONNECTING)
        self._spawn(None, first=True)
        WATCHDOG.add(self)

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the thread to end and wait up to ``timeout`` seconds; True if it has ended.

        A thread blocked in an open or a read ends when that call returns, releasing its
        capture itself; the state is ``STOPPED`` from now on either way, ``on_status`` hears
        so one last time (from the calling thread), and ``latest`` waiters are woken.
        """
        self._stop.set()
        WATCHDOG.discard(self)
        with self._cond:
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            self._state = StreamState.STOPPED
            self._arrivals.clear()
        self._log(StreamState.STOPPED, None)
        self._notify()
        return thread is None or not thread.is_alive()

    @property
    def can_skip_frames(self) -> bool:
        """Whether ``set_keyframes_only`` saves anything: only the ffmpeg decoder skips
        frames, and a file would start again from its beginning at each switch."""
        return (
            self.decoder == "ffmpeg"
            and isinstance(self._target, str)
            and not self._is_file
            and self._capture_factory is None
        )

    def set_keyframes_only(self, keyframes_only: bool) -> None:
        """Switch a running reader between full decoding and key frames alone.

        The decoder cannot change its mode while it runs, so a connection that is open (or
        opening) is replaced by a fresh one in the new mode, in a new thread. The old
        connection hands over: it keeps publishing its frames until the new one publishes
        its first (or ``open_timeout`` plus a grace has passed), then ends after its current
        read. The new decoder must probe the stream and wait for a key frame, about two
        seconds of a camera with a key frame a second, which would otherwise be two seconds
        with no frame to analyse, just after a face was seen. The switch is not a
        reconnect: no back-off, not counted, the state stays ``ONLINE`` and frame numbers
        go on. A reader between connections just opens its next one in the new mode.
        """
        with self._lock:
            if keyframes_only == self.keyframes_only:
                return
            self.keyframes_only = keyframes_only
            running = self._thread is not None and not (self._stop.is_set() or self._done.is_set())
            connected = self._phase[0] in (_Phase.OPENING, _Phase.READING)
            if running and connected:
                # The rate is measured afresh in the new mode (and not from the burst of
                # frames FFmpeg buffered while opening).
                self._online_since = time.monotonic()
                self._arrivals.clear()
                if self._phase[0] is _Phase.READING:
                    deadline = time.monotonic() + self.open_timeout + OPEN_GRACE_S
                    self._handover = (self._gen, deadline)
        if running and connected:
            logger.info(
                "camera %s: decoding %s",
                self.label,
                "key frames only" if keyframes_only else "every frame",
            )
            self._spawn(None)

    def is_alive(self) -> bool:
        """Whether the reader's current thread is running."""
        thread = self._thread
        return thread is not None and thread.is_alive()

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
        """A snapshot; ``OFFLINE`` as soon as an online stream has been silent too long,
        even before the watchdog has replaced a stuck thread."""
        now = time.monotonic()
        with self._lock:
            self._trim(now)
            state, error = self._state, self._last_error
            last = self._last_frame_mono
            silent = last is not None and now - max(last, self._online_since) > self.stall_timeout
            if state is StreamState.ONLINE and silent:
                state = StreamState.OFFLINE
                error = self._stall_message()
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

    def _new_delays(self) -> Iterator[float]:
        return backoff_delays(
            self.backoff_initial, self.backoff_max, self.backoff_jitter, self._rng
        )

    def _stall_message(self) -> str:
        return f"{self.label}: no frame for {self.stall_timeout:g} s (stream stalled)"

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

    def _set_state(
        self, state: StreamState, error: str | None = None, gen: int | None = None
    ) -> None:
        """Record a state (ignored from an abandoned thread or after ``stop()``)."""
        masked = mask_url(error) if error is not None else None
        with self._lock:
            if self._stop.is_set() or (gen is not None and gen != self._gen):
                return
            changed = state is not self._state
            changed = changed or (masked is not None and masked != self._last_error)
            if state is StreamState.ONLINE and self._state is not StreamState.ONLINE:
                self._online_since = time.monotonic()
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

    def _enter(self, gen: int, phase: _Phase) -> bool:
        """Record what the thread of ``gen`` is doing; False if it has been abandoned."""
        with self._lock:
            if gen != self._gen:
                return False
            self._phase = (phase, time.monotonic())
            return not self._stop.is_set()

    # -- the watchdog ------------------------------------------------------------------------

    def _watch(self, now: float) -> None:
        """Called by the watchdog thread: replace a thread stuck in an open or a read."""
        with self._lock:
            if self._stop.is_set() or self._done.is_set() or self._thread is None:
                return
            phase, since = self._phase
            if phase is _Phase.READING:
                idle = now - max(since, self._last_frame_mono or since)
                stuck = idle > self.stall_timeout
                loss = _Lost(StreamState.OFFLINE, self._stall_message())
            elif phase is _Phase.OPENING:
                stuck = now - since > self.open_timeout + OPEN_GRACE_S
                loss = _Lost(
                    StreamState.ERROR,
                    f"{self.label}: no answer within {self.open_timeout:g} s (the open hung)",
                )
            else:
                return
            if not stuck:
                return
            self._abandoned = [thread for thread in self._abandoned if thread.is_alive()]
            if len(self._abandoned) >= MAX_ABANDONED:
                return
            self._abandoned.append(self._thread)
        logger.warning("camera %s: abandoning a stuck capture thread (%s)", self.label, phase.value)
        self._spawn(loss)

    # -- the thread ------------------------------------------------------------------------

    def _spawn(self, loss: _Lost | None, *, first: bool = False) -> None:
        """Run a fresh connection in a new thread: the first one (after ``start_delay``),
        one after a ``loss`` (after its back-off), or a mode switch (at once)."""
        with self._lock:
            self._gen += 1
            self._phase = (_Phase.WAITING, time.monotonic())
            thread = threading.Thread(
                target=self._thread_main,
                args=(self._gen, loss, first),
                name=f"camera-reader {self.label}",
                daemon=True,
            )
            self._thread = thread
        thread.start()

    def _thread_main(self, gen: int, loss: _Lost | None, first: bool) -> None:
        with bound_camera(self.camera_id):
            self._run(gen, loss, first)

    def _run(self, gen: int, loss: _Lost | None, first: bool) -> None:
        try:
            if first and self.start_delay > 0 and self._delay_start():
                return
            if loss is not None and not self._after_loss(gen, loss):
                return
            while self._enter(gen, _Phase.OPENING):
                session = _Session(gen)
                try:
                    self._session(session)
                    return
                except _Lost as lost:
                    if lost.poll:
                        if self._wait(self.snapshot_interval):
                            return
                        continue
                    if not lost.retry:
                        self._set_state(lost.state, lost.error, gen)
                        return
                    if not self._after_loss(gen, lost):
                        return
                except Exception as error:  # noqa: BLE001 - report, retry, never die
                    logger.error("camera %s: reader failed:\n%s", self.label, _masked_trace(error))
                    internal = _Lost(StreamState.ERROR, f"{self.label}: internal error: {error}")
                    if not self._after_loss(gen, internal):
                        return
        finally:
            with self._lock:
                owner = gen == self._gen
            if owner:
                self._set_state(StreamState.STOPPED, gen=gen)
                self._done.set()
                with self._cond:
                    self._cond.notify_all()

    def _delay_start(self) -> bool:
        """Wait out ``start_delay`` before the first open; True if stopped meanwhile."""
        if self._sleep is not None:
            self._sleep(self.start_delay)
            return self._stop.is_set()
        return self._wait(self.start_delay)

    def _after_loss(self, gen: int, lost: _Lost) -> bool:
        """Report ``lost``, wait out the back-off, count the reconnect; False to end."""
        self._set_state(lost.state, lost.error, gen)
        if not self._enter(gen, _Phase.WAITING):
            return False
        delay = next(self._delays)
        self.retry_delays.append(delay)
        if self._sleep is not None:
            self._sleep(delay)
        elif self._wait(delay):
            return False
        with self._lock:
            if gen != self._gen or self._stop.is_set():
                return False
            self._reconnects.append(time.monotonic())
        if self._on_reconnect is not None:
            self._on_reconnect()
        self._set_state(StreamState.CONNECTING, gen=gen)
        return True

    def _open(self) -> Capture:
        if self._guard is not None:
            try:
                self._guard()
            except ValueError as error:
                raise _Lost(StreamState.ERROR, f"{self.label}: {error}") from None
        started = time.monotonic()
        try:
            capture = self._new_capture()
        except Exception as error:  # noqa: BLE001 - any failure to open is an ERROR state
            raise _Lost(StreamState.ERROR, f"{self.label}: cannot open: {error}") from None
        if not capture.isOpened():
            with contextlib.suppress(Exception):
                capture.release()
            if self._capture_factory is not None:
                raise _Lost(StreamState.ERROR, f"{self.label}: cannot open")
            reason = describe_open_failure(
                self._target,
                label=self.label,
                elapsed=time.monotonic() - started,
                open_timeout=self.open_timeout,
            )
            detail = getattr(capture, "error", None)
            raise _Lost(StreamState.ERROR, f"{reason} (ffmpeg: {detail})" if detail else reason)
        return capture

    def _new_capture(self) -> Capture:
        """A capture of the target from the test factory, an ffmpeg process or OpenCV."""
        read_timeout = min(self.read_timeout, self.stall_timeout)
        if self._capture_factory is not None:
            return self._capture_factory(self._target)
        if self.decoder == "ffmpeg" and isinstance(self._target, str):
            return FfmpegCapture(
                self._target,
                open_timeout=self.open_timeout,
                read_timeout=read_timeout,
                scale_width=self.scale_width,
                fps=self.max_fps,
                keyframes_only=self.keyframes_only,
                label=self.label,
            )
        return open_capture(self._target, open_timeout=self.open_timeout, read_timeout=read_timeout)

    def _session(self, session: _Session) -> None:
        """Open the source and read it until stopped or abandoned (returns) or lost (raises)."""
        capture = self._open()
        try:
            if self._enter(session.gen, _Phase.READING):
                self._read_loop(session, capture)
        finally:
            with contextlib.suppress(Exception):
                capture.release()

    def _read_loop(self, session: _Session, capture: Capture) -> None:
        size = capture_size(capture)
        with self._lock:
            if session.gen == self._gen:
                self._size = size
        file_fps = plausible_fps(capture.get(cv2.CAP_PROP_FPS)) or DEFAULT_FILE_FPS
        read_timeout = min(self.read_timeout, self.stall_timeout)
        pass_index = frames_this_pass = 0
        pace_start, paced = time.monotonic(), 0
        last_frame = time.monotonic()
        while True:
            read_started = time.monotonic()
            ok, image = capture.read()
            now = time.monotonic()
            if self._stop.is_set() or not self._publish(session, ok, image, pass_index, now):
                return
            if ok and image is not None:
                frames_this_pass += 1
                last_frame = now
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
            if not session.had_frames:
                raise _Lost(StreamState.ERROR, f"{self.label}: opened, but {reason}")
            if self._is_http and frames_this_pass == 1 and now - read_started < read_timeout / 2:
                raise _Lost(StreamState.ONLINE, None, poll=True)
            raise _Lost(StreamState.OFFLINE, f"{self.label}: {reason}")

    def _hands_over(self, gen: int, now: float) -> bool:
        """Whether ``gen`` is a connection replaced by a mode switch and still due to
        publish (its successor has no frame yet). Called under ``_lock``."""
        handover = self._handover
        return handover is not None and handover[0] == gen and now < handover[1]

    def _publish(
        self, session: _Session, ok: bool, image: np.ndarray | None, pass_index: int, now: float
    ) -> bool:
        """Make a decoded frame the newest; False if this thread has been abandoned."""
        first = False
        with self._lock:
            if session.gen != self._gen and not self._hands_over(session.gen, now):
                return False
            if not ok or image is None:
                return True
            if session.gen == self._gen:
                self._handover = None  # the successor publishes: the old connection ends
            first = not session.had_frames
            session.had_frames = True
            self._seq += 1
            frame = Frame(
                image=image, seq=self._seq, captured_at=time.time(), pass_index=pass_index
            )
            self._last_frame_at = frame.captured_at
            self._last_frame_mono = now
            if self._state is StreamState.ONLINE and now - self._online_since >= FPS_SETTLE_S:
                self._arrivals.append(now)
            self._trim(now)
            if first:
                self._size = (image.shape[1], image.shape[0])
                self._delays = self._new_delays()
        with self._cond:
            self._frame = frame
            self._cond.notify_all()
        if first:
            self._set_state(StreamState.ONLINE, gen=session.gen)
        else:
            self._heartbeat()
        return True


def _masked_trace(error: BaseException) -> str:
    """A traceback for the log with any URL credentials masked (OpenCV and FFmpeg errors
    can quote the URL they were given)."""
    return mask_url("".join(traceback.format_exception(error)).rstrip())
