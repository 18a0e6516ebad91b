"""The pipeline as the camera supervisor sees it: one handler per camera.

Registered with ``cameras.supervisor.register_frame_handler`` in this app's ``apps.py``,
so the cameras app never imports the pipeline. Each handler runs a ``FrameProcessor`` on
the frames it is given and records the resulting track events (``detections.recording``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from django.conf import settings

from cameras.models import Camera
from detections import metrics
from detections.pipeline import FrameProcessor, PipelineConfig
from detections.recording import record_event
from faces.engine import Face, FaceEngine, get_engine
from faces.gallery import Thresholds
from faces.services import current_gallery


class CameraEngine:
    """The process-wide engine, detecting at this camera's own resolution."""

    def __init__(self, engine: FaceEngine, detect_width: int) -> None:
        self._engine = engine
        self._detect_width = detect_width
        self.model_key = engine.model_key
        self.dim = engine.dim

    def detect(self, image: np.ndarray, max_width: int | None = None) -> list[Face]:
        """Detect at the camera's width unless the caller asks for another."""
        return self._engine.detect(image, max_width=max_width or self._detect_width)

    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        """The shared engine's embedding; the camera changes nothing here."""
        return self._engine.embed(image, face)

    def embed_many(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """The shared engine's batch embedding."""
        return self._engine.embed_many(image, faces)


def pipeline_config(camera: Camera) -> PipelineConfig:
    """The pipeline settings: this camera's face size, ROI and rate, the global thresholds."""
    roi = tuple(tuple(point) for point in camera.roi) if camera.roi else None
    return PipelineConfig(
        min_face_px=float(camera.min_face_size),
        roi=roi,
        thresholds=Thresholds.from_settings(),
        min_blur=settings.PIPELINE_MIN_BLUR,
        confirm_hits=settings.PIPELINE_CONFIRM_HITS,
        min_votes=settings.PIPELINE_MIN_VOTES,
    )


class DetectionHandler:
    """Runs one camera's frames through the pipeline and records the track events."""

    def __init__(self, camera: Camera) -> None:
        engine = get_engine()
        self.camera = camera
        label = str(camera.pk)
        self._faces = metrics.FACES_DETECTED.labels(label)
        self._embeddings = metrics.EMBEDDINGS_COMPUTED.labels(label)
        self._from_main_stream = metrics.FACES_FROM_MAIN_STREAM.labels(label)
        self.processor = FrameProcessor(
            CameraEngine(engine, camera.detection_width),
            current_gallery(engine),
            pipeline_config(camera),
        )

    def process(
        self, image: np.ndarray, captured_at: float, detail: np.ndarray | None = None
    ) -> int:
        """Track the frame's faces and record what the tracks' events say; return how many
        faces were detected (the supervisor's idle mode wakes on any). ``detail`` is the
        main stream's frame nearest in time, for a camera that has one."""
        events = self.processor.process(image, captured_at, detail)
        timings = self.processor.last_timings
        self._faces.inc(timings.faces)
        self._embeddings.inc(timings.embedded)
        self._from_main_stream.inc(timings.located)
        for event in events:
            detection = record_event(self.camera, event)
            if detection is not None and event.kind == "confirmed":
                # captured_at is when the reader decoded the frame (wall clock).
                metrics.RECOGNITION_LATENCY.observe(max(0.0, time.time() - captured_at))
        return timings.faces

    def close(self) -> None:
        """Finish the open tracks, so no one seen last goes unrecorded."""
        for event in self.processor.flush(time.time()):
            record_event(self.camera, event)
