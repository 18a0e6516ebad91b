"""The stream supervisor: reads every camera it holds and hands frames to the pipeline.

Any number of supervisors (``manage.py run_cameras`` processes, on any hosts, or threads
inside the embedded server) share the cameras through a lease in the database: a
supervisor takes a camera only with an atomic UPDATE that succeeds when nobody holds it
or the holder's lease has expired, and renews its leases every few seconds. So each camera
is read by exactly one supervisor, and a dead supervisor's cameras are taken over once its
leases run out (``LEASE_SECONDS``). Edits to a camera (``updated_at``) restart its worker;
disabling it stops the worker and releases the lease.

The cameras app sits below the pipeline, so it does not import it: the detections app
registers a *frame handler factory* here (``register_frame_handler``) in its ``apps.py``.
The handler says how many faces each frame showed, which is all the idle mode needs
(``CAMERA_IDLE_SECONDS``: key frames only while no face was seen for that long).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import Q
from django.utils import timezone

from cameras import metrics
from cameras.models import Camera, CameraStatus, DecoderState
from cameras.services import connect_guard
from cameras.signals import camera_status_changed
from cameras.snapshots import encode_snapshot, store_snapshot
from config.logs import bound_camera

if TYPE_CHECKING:
    import numpy as np

    from cameras.streams.status import Frame

logger = logging.getLogger(__name__)

LEASE_SECONDS = 20.0
POLL_SECONDS = 3.0
HEARTBEAT_SECONDS = 5.0
SNAPSHOT_SECONDS = 1.0
#: The decoder hands over at least this many frames a second, whatever the analysis rate,
#: so that snapshots stay about a second fresh and a live stream is never mistaken for a
#: stalled one.
MIN_DECODE_FPS = 1.0
#: A frame up to this fraction of the analysis interval early is analysed: the decoder
#: already thins frames to the analysis rate, and their arrival jitters around it.
SCHEDULE_SLACK = 0.5
#: Cameras taken in one round start this many seconds apart (plus up to as much again at
#: random), so a supervisor taking 100 cameras, or coming back after a switch reboot, opens
#: them over ten seconds instead of all at once.
START_SPACING_S = 0.1
#: Reconnect delays are drawn from [1 - RECONNECT_JITTER, 1] of their nominal value, so
#: cameras that lost their streams together do not retry together.
RECONNECT_JITTER = 0.5
#: A main-stream frame older than this (seconds) is not used for a snapshot: a camera's key
#: frames are one to a few seconds apart, more means the main stream is down.
MAIN_FRAME_MAX_AGE_S = 10.0
#: A main-stream frame is offered to the pipeline with a sub-stream frame decoded at most
#: this many seconds apart; the pipeline still looks for each face in it before using it.
DETAIL_MAX_SKEW_S = 0.5
#: The main stream is decoded in full from the first face and for this many seconds after
#: the last; in between, key frames alone keep the snapshots fresh.
DETAIL_LINGER_S = 15.0
#: The analysed frame rate is measured over this many seconds.
ANALYSED_FPS_WINDOW_S = 5.0


class FrameHandler(Protocol):
    """What the pipeline gives the supervisor for one camera."""

    def process(
        self, image: np.ndarray, captured_at: float, detail: np.ndarray | None = None
    ) -> int:
        """Analyse one frame (BGR) taken at ``captured_at`` (epoch seconds); return how
        many faces it showed (any face, before size, ROI or quality filters), which is
        what keeps a camera out of idle mode (``CAMERA_IDLE_SECONDS``).

        ``detail`` is the main stream's frame nearest in time (within
        ``DETAIL_MAX_SKEW_S``) of a camera that has one, for faces to be aligned, embedded
        and cropped from its full resolution."""
        ...

    def close(self) -> None:
        """Release what the handler holds when its camera's worker stops."""
        ...


HandlerFactory = Callable[[Camera], FrameHandler]
_handler_factory: HandlerFactory | None = None


def register_frame_handler(factory: HandlerFactory) -> None:
    """Called by the detections app, so the cameras app need not import the pipeline."""
    global _handler_factory
    _handler_factory = factory


def frame_handler_factory() -> HandlerFactory:
    """The registered factory; fails loudly when no pipeline registered one."""
    if _handler_factory is None:
        raise RuntimeError("No frame handler registered; is the detections app installed?")
    return _handler_factory


def start_delays(count: int, spacing: float, rng: random.Random) -> list[float]:
    """When each of ``count`` cameras taken together starts: ``spacing`` apart, each
    later by up to ``spacing`` at random (so supervisors starting together interleave
    rather than open the same instants)."""
    return [index * spacing + rng.random() * spacing for index in range(count)]


def _as_datetime(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else None


_READER_STATE_TO_STATUS = {
    "connecting": CameraStatus.OFFLINE,
    "online": CameraStatus.ONLINE,
    "offline": CameraStatus.OFFLINE,
    "error": CameraStatus.ERROR,
    "stopped": CameraStatus.OFFLINE,
}


def release_broken_connections() -> None:
    """Hand back this thread's database connections after a database error.

    A camera thread has no request cycle that would close its connection, so one broken
    by a database restart would otherwise be kept, and fail, forever (issue 7, "Faults").
    Closing it returns it to the pool, which discards it; the next query gets a sound one.
    """
    if any(conn.errors_occurred for conn in connections.all(initialized_only=True)):
        close_old_connections()


class CameraWorker:
    """One camera: a stream reader thread plus this analysis thread."""

    def __init__(
        self,
        camera: Camera,
        handler_factory: HandlerFactory,
        reader_options: dict[str, Any] | None = None,
        owner: str | None = None,
        start_delay: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        from cameras.streams.reader import StreamReader

        self.camera = camera
        self.owner = owner
        self.config_stamp = camera.updated_at
        self._handler_factory = handler_factory
        self._stop = threading.Event()
        self._label = str(camera.pk)
        target, main_target = camera.open_target(), camera.main_stream_target()
        options = {
            "decoder": settings.CAMERA_DECODER,
            "backoff_jitter": RECONNECT_JITTER,
            "rng": rng,
            **(reader_options or {}),
        }
        # With a main stream, ``source_url`` is a sub-stream chosen for analysis, so its
        # frames are scaled to the detection width in the decoder; a single stream keeps its
        # full resolution, which the pipeline's face crops and ``min_face_size`` rely on.
        self._reader = StreamReader(
            target,
            label=camera.masked_source_url,
            guard=connect_guard(camera.source_url),
            camera_id=camera.pk,
            on_reconnect=metrics.RECONNECTS.labels(self._label).inc,
            **{
                "max_fps": max(camera.analysis_fps, MIN_DECODE_FPS),
                "scale_width": camera.detection_width if main_target is not None else None,
                "start_delay": start_delay,
                **options,
            },
        )
        # The main stream feeds the snapshots and, while faces are about, the pipeline's
        # crops and embeddings: decoded in full at the analysis rate from the first face
        # until DETAIL_LINGER_S after the last, key frames alone (a fraction of a full
        # decode) otherwise. A reader that cannot switch (a file, OpenCV) decodes in full.
        self._main_reader = (
            StreamReader(
                main_target,
                label=camera.masked_main_stream_url,
                guard=connect_guard(camera.main_stream_url),
                **{
                    "max_fps": max(camera.analysis_fps, MIN_DECODE_FPS),
                    "start_delay": start_delay,
                    **options,
                },
            )
            if main_target is not None
            else None
        )
        if self._main_reader is not None and self._main_reader.can_skip_frames:
            self._main_reader.set_keyframes_only(True)
        self.main_stream_detail = False
        self.decoder = "opencv" if isinstance(target, int) else self._reader.decoder
        self._thread = threading.Thread(target=self._run, name=f"camera-{camera.pk}", daemon=True)
        self._last_status: str | None = None
        self._last_heartbeat = 0.0
        self.frames_processed = 0
        self._counted = False  # in the camera_workers gauge
        #: Frames the reader published that a newer one replaced before the analysis took
        #: them (gaps in ``Frame.seq``): the analysis is not keeping up.
        self.frames_dropped = 0
        self._analysed: deque[float] = deque()
        #: Idle mode (``CAMERA_IDLE_SECONDS``): no face for that long, key frames only.
        self.idle_seconds = settings.CAMERA_IDLE_SECONDS if self._reader.can_skip_frames else 0
        self.idle = False
        #: When the analysis last saw a face; the first analysed frame starts the clock,
        #: so a slow first open does not count as time without faces.
        self._last_face: float | None = None
        #: How often the camera went idle and woke up again, for tests and benchmarks.
        self.idle_switches = 0

    def start(self) -> None:
        """Start reading the stream and analysing its frames."""
        self._reader.start()
        if self._main_reader is not None:
            self._main_reader.start()
        self._thread.start()
        metrics.WORKERS.inc()
        self._counted = True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop both threads, waiting at most ``timeout`` for the analysis to finish."""
        self._stop.set()
        if self._counted:
            self._counted = False
            metrics.WORKERS.dec()
        self._reader.stop()
        if self._main_reader is not None:
            self._main_reader.stop()
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        """False once the analysis thread died, so the supervisor restarts the worker."""
        return self._thread.is_alive()

    def _run(self) -> None:
        with bound_camera(self.camera.pk):
            self._run_bound()

    def _run_bound(self) -> None:
        handler = None
        try:
            handler = self._handler_factory(self.camera)
            self._loop(handler)
        except Exception:
            logger.exception("Camera %s worker failed", self.camera.pk)
        finally:
            if handler is not None:
                try:
                    handler.close()
                except Exception:
                    logger.exception("Camera %s handler did not close cleanly", self.camera.pk)
            connections.close_all()  # this thread's own connections end with it

    def _loop(self, handler: FrameHandler) -> None:
        interval = 1.0 / max(self.camera.analysis_fps, 0.1)
        last_seq, next_analysis, next_snapshot = -1, 0.0, 0.0
        frames_read = metrics.FRAMES_READ.labels(self._label)
        frames_analysed = metrics.FRAMES_ANALYSED.labels(self._label)
        while not self._stop.is_set():
            release_broken_connections()
            try:
                frame = self._reader.latest(after_seq=last_seq, timeout=0.5)
                now = time.monotonic()
                self._heartbeat(now)
                if frame is None:
                    continue
                # Sequence numbers count every published frame, the ones skipped here too.
                frames_read.inc(frame.seq - last_seq)
                if last_seq >= 0 and frame.seq > last_seq + 1:
                    self.frames_dropped += frame.seq - last_seq - 1
                last_seq = frame.seq
                if now >= next_snapshot:
                    next_snapshot = now + SNAPSHOT_SECONDS
                    self._store_snapshot(self._snapshot_image(frame))
                if now < next_analysis - interval * SCHEDULE_SLACK:
                    continue
                # Keep the camera's rate: schedule from the slot, not from when a frame came;
                # after a stall, start afresh instead of catching up in a burst.
                due = next_analysis + interval
                next_analysis = due if due > now else now + interval
                faces = handler.process(frame.image, frame.captured_at, self._detail(frame))
                self._follow_faces(faces, time.monotonic())
                self.frames_processed += 1
                frames_analysed.inc()
                self._analysed.append(time.monotonic())
            finally:
                # Back to the pool after each round: the pool has DB_POOL_MAX connections
                # for the whole process, and a camera thread keeping one would take a
                # connection per camera (32 cameras exhausted a pool of 20).
                close_old_connections()

    def _follow_faces(self, faces: int, now: float) -> None:
        """Idle mode: key frames alone once no face was seen for ``idle_seconds``, every
        frame again from the first frame with a face.

        A face seen while idle is analysed on that key frame already (its detection is not
        lost, only later by up to a key-frame interval); full decoding then follows the
        person through the frame once the reopened decoder has a frame, and until then
        the key frames go on (``StreamReader.set_keyframes_only`` hands over).
        """
        if faces or self._last_face is None:
            self._last_face = now
        if faces:
            if self.idle:
                self._set_idle(False)
        elif self.idle_seconds and not self.idle and now - self._last_face >= self.idle_seconds:
            self._set_idle(True)
        self._follow_faces_on_main_stream(bool(faces), now)

    def _follow_faces_on_main_stream(self, face_seen: bool, now: float) -> None:
        """Full decoding of the main stream from a face until ``DETAIL_LINGER_S`` after
        the last; its first full frames follow the new decoder's first key frame, so the
        first moments of a visit are taken from the sub-stream."""
        reader = self._main_reader
        if reader is None or not reader.can_skip_frames:
            return
        want = face_seen or (
            self.main_stream_detail and now - (self._last_face or now) < DETAIL_LINGER_S
        )
        if want != self.main_stream_detail:
            self.main_stream_detail = want
            reader.set_keyframes_only(not want)
            logger.info(
                "Camera %s: main stream %s",
                self.camera.pk,
                "decoded in full" if want else "on key frames",
            )

    def _detail(self, frame: Frame) -> np.ndarray | None:
        """The main stream's newest frame when it was decoded within ``DETAIL_MAX_SKEW_S``
        of ``frame``, else None (no main stream, or it lags or is down)."""
        if self._main_reader is None:
            return None
        main = self._main_reader.latest()
        if main is None or abs(frame.captured_at - main.captured_at) > DETAIL_MAX_SKEW_S:
            return None
        return main.image

    def _set_idle(self, idle: bool) -> None:
        self.idle = idle
        self.idle_switches += 1
        self._reader.set_keyframes_only(idle)
        self._last_heartbeat = 0.0  # tell the operator at the next round, not in 5 s
        logger.info("Camera %s is %s", self.camera.pk, "idle" if idle else "awake")

    def _snapshot_image(self, frame: Frame) -> np.ndarray:
        """The main stream's newest frame when it has a recent one, else the analysed
        frame: a main stream that is down costs resolution, not the snapshot."""
        if self._main_reader is not None:
            main = self._main_reader.latest()
            if main is not None and frame.captured_at - main.captured_at < MAIN_FRAME_MAX_AGE_S:
                return main.image
        return frame.image

    def _store_snapshot(self, image: np.ndarray) -> None:
        try:
            store_snapshot(self.camera.pk, encode_snapshot(image))
        except Exception as exc:  # noqa: BLE001 - a cache hiccup must not stop the camera
            logger.warning("Snapshot of camera %s not stored: %s", self.camera.pk, exc)

    def analysed_fps(self, now: float) -> float | None:
        """Frames analysed per second over the last ``ANALYSED_FPS_WINDOW_S``."""
        while self._analysed and now - self._analysed[0] > ANALYSED_FPS_WINDOW_S:
            self._analysed.popleft()
        if len(self._analysed) < 2:
            return None
        span = self._analysed[-1] - self._analysed[0]
        return round((len(self._analysed) - 1) / span, 2) if span > 0 else None

    def _decoder_fields(self, now: float) -> dict[str, Any]:
        """The reader's own view, for an operator telling a slow camera from a slow server."""
        status = self._reader.status
        state = status.state.value
        if self.idle and state == DecoderState.ONLINE:
            state = DecoderState.IDLE
        fields = {
            "decoder": self.decoder,
            "decoder_state": state,
            "analysed_fps": self.analysed_fps(now),
            "dropped_frames": self.frames_dropped,
            "decoder_error": self.camera.redact(status.last_error or ""),
            "main_stream_state": "",
            "main_stream_error": "",
        }
        if self._main_reader is not None:
            main = self._main_reader.status
            fields["main_stream_state"] = main.state.value
            fields["main_stream_error"] = self.camera.redact(main.last_error or "")
        return fields

    def _heartbeat(self, now: float) -> None:
        status = self._reader.status
        mapped = _READER_STATE_TO_STATUS.get(str(status.state.value), CameraStatus.OFFLINE)
        changed = mapped != self._last_status
        if not changed and now - self._last_heartbeat < HEARTBEAT_SECONDS:
            return
        self._last_heartbeat = now
        fields = {
            **self._decoder_fields(now),
            "status": mapped,
            "last_frame_at": _as_datetime(status.last_frame_at),
            "fps": round(status.fps, 2) if status.fps else None,
            "last_error": self.camera.redact(status.last_error or "")
            if mapped != CameraStatus.ONLINE
            else "",
            "reconnects_last_hour": status.reconnects_last_hour,
            "width": status.width,
            "height": status.height,
            "heartbeat_at": timezone.now(),
        }
        # Only the lease holder writes: a worker whose lease was just lost (an edit saved
        # over it, a takeover) must not overwrite what the edit or the new holder wrote.
        mine = Camera.objects.filter(pk=self.camera.pk)
        if self.owner is not None:
            mine = mine.filter(lease_owner=self.owner)
        try:
            if not mine.update(**fields):
                return
        except Exception as exc:  # noqa: BLE001 - the database may blink; try next beat
            logger.warning("Heartbeat of camera %s failed: %s", self.camera.pk, exc)
            return
        if changed:
            self._last_status = mapped
            for name, value in fields.items():
                setattr(self.camera, name, value)
            camera_status_changed.send(Camera, camera=self.camera)
            logger.info("Camera %s is %s", self.camera.pk, mapped)


class Supervisor:
    """Holds camera leases and runs one worker per held camera."""

    def __init__(
        self,
        *,
        handler_factory: HandlerFactory | None = None,
        owner: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        max_cameras: int | None = None,
        reader_options: dict[str, Any] | None = None,
        start_spacing: float = START_SPACING_S,
        rng: random.Random | None = None,
    ) -> None:
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._handler_factory = handler_factory
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.max_cameras = max_cameras
        self.reader_options = reader_options or {}
        self.start_spacing = start_spacing
        self.rng = rng or random.Random()
        self.workers: dict[int, CameraWorker] = {}
        self._stop = threading.Event()

    # --- lifecycle ----------------------------------------------------------------------
    def run_forever(self) -> None:
        """Tick until stopped; one failed tick is logged and the next one tries again."""
        logger.info("Camera supervisor %s started", self.owner)
        try:
            while not self._stop.is_set():
                try:
                    self.tick()
                except Exception:
                    logger.exception("Supervisor %s tick failed", self.owner)
                finally:
                    close_old_connections()
                self._stop.wait(self.poll_seconds)
        finally:
            self.shutdown()
            connections.close_all()

    def stop(self) -> None:
        """Ask ``run_forever`` to return; safe from a signal handler."""
        self._stop.set()

    def shutdown(self) -> None:
        """Stop every worker and hand the cameras back at once (no lease wait)."""
        for camera_id in list(self.workers):
            self._stop_worker(camera_id)
        self._release(
            list(Camera.objects.filter(lease_owner=self.owner).values_list("pk", flat=True))
        )
        logger.info("Camera supervisor %s stopped", self.owner)

    # --- one round ----------------------------------------------------------------------
    def tick(self) -> None:
        """One round: keep our leases, follow edits, take free cameras, restart dead workers."""
        self._renew()
        self._follow_changes()
        self._acquire()
        for camera_id, worker in list(self.workers.items()):
            if not worker.is_alive():
                logger.warning("Camera %s worker died; restarting", camera_id)
                self._stop_worker(camera_id)

    def _lease_until(self) -> datetime:
        return timezone.now() + timedelta(seconds=self.lease_seconds)

    def _renew(self) -> None:
        held = list(self.workers)
        if not held:
            return
        Camera.objects.filter(pk__in=held, lease_owner=self.owner).update(
            lease_expires_at=self._lease_until()
        )
        still_mine = set(
            Camera.objects.filter(pk__in=held, lease_owner=self.owner).values_list("pk", flat=True)
        )
        for camera_id in set(held) - still_mine:
            logger.warning("Lost the lease on camera %s; stopping it", camera_id)
            self._stop_worker(camera_id)

    def _follow_changes(self) -> None:
        if not self.workers:
            return
        current = {
            row["pk"]: row
            for row in Camera.objects.filter(pk__in=list(self.workers)).values(
                "pk", "updated_at", "enabled"
            )
        }
        for camera_id, worker in list(self.workers.items()):
            row = current.get(camera_id)
            if row is None or not row["enabled"]:
                self._stop_worker(camera_id)
                self._release([camera_id], disabled=row is not None)
            elif row["updated_at"] != worker.config_stamp:
                logger.info("Camera %s changed; restarting its worker", camera_id)
                self._stop_worker(camera_id)
                self._start_worker(camera_id)

    def _acquire(self) -> None:
        room = None if self.max_cameras is None else self.max_cameras - len(self.workers)
        if room is not None and room <= 0:
            return
        now = timezone.now()
        free = Q(lease_owner="") | Q(lease_expires_at__lt=now) | Q(lease_owner=self.owner)
        candidates = list(
            Camera.objects.filter(enabled=True)
            .filter(free)
            .exclude(pk__in=list(self.workers))
            .order_by("lease_expires_at", "pk")
            .values_list("pk", flat=True)
        )
        taken = []
        for camera_id in candidates[:room] if room is not None else candidates:
            if (
                Camera.objects.filter(pk=camera_id, enabled=True)
                .filter(free)
                .update(lease_owner=self.owner, lease_expires_at=self._lease_until())
            ):
                taken.append(camera_id)
        # Staggered in the readers (not here), so the round ends at once and keeps leases.
        for camera_id, delay in zip(
            taken, start_delays(len(taken), self.start_spacing, self.rng), strict=True
        ):
            self._start_worker(camera_id, start_delay=delay)

    # --- workers ------------------------------------------------------------------------
    def _start_worker(self, camera_id: int, start_delay: float = 0.0) -> None:
        camera = Camera.objects.filter(pk=camera_id).first()
        if camera is None:
            return
        factory = self._handler_factory or frame_handler_factory()
        worker = CameraWorker(
            camera,
            factory,
            self.reader_options,
            owner=self.owner,
            start_delay=start_delay,
            rng=self.rng,
        )
        self.workers[camera_id] = worker
        worker.start()
        logger.info("Supervisor %s reads camera %s (%s)", self.owner, camera_id, camera.name)

    def _stop_worker(self, camera_id: int) -> None:
        worker = self.workers.pop(camera_id, None)
        if worker is not None:
            worker.stop()

    def _release(self, camera_ids: list[int], disabled: bool = False) -> None:
        if not camera_ids:
            return
        fields = {
            "lease_owner": "",
            "lease_expires_at": None,
            "decoder_state": DecoderState.STOPPED,
            "fps": None,
            "analysed_fps": None,
        }
        if disabled:
            fields["status"] = CameraStatus.DISABLED
        else:
            fields["status"] = CameraStatus.OFFLINE
        Camera.objects.filter(pk__in=camera_ids, lease_owner=self.owner).update(**fields)
        for camera in Camera.objects.filter(pk__in=camera_ids):
            camera_status_changed.send(Camera, camera=camera)
