"""Building track events and detections for tests without running the camera pipeline."""

from __future__ import annotations

import itertools
import time

import numpy as np

from detections.pipeline import TrackEvent
from faces import testing

_tracks = itertools.count(1)


def track_event(
    kind: str = "confirmed",
    *,
    track_id: str | None = None,
    status: str = "unknown",
    person_id: int | None = None,
    score: float = 0.2,
    at: float | None = None,
    embedding: np.ndarray | None = None,
    model_key: str = "test-model",
    crop_from_main_stream: bool = False,
    crop_size: int = 200,
) -> TrackEvent:
    at = time.time() if at is None else at
    face = np.ascontiguousarray(testing.astronaut()[0:crop_size, 150 : 150 + crop_size])
    frame = np.ascontiguousarray(testing.astronaut()[::2, ::2])
    if embedding is None:
        rng = np.random.default_rng(next(_tracks))
        embedding = rng.normal(size=128).astype(np.float32)
        embedding /= np.linalg.norm(embedding)
    return TrackEvent(
        kind=kind,
        track_id=track_id or f"track-{next(_tracks)}",
        status=status,
        person_id=person_id,
        candidate_person_id=None,
        score=score,
        margin=0.1,
        votes=2,
        observations=2,
        bbox=(150.0, 40.0, 180.0, 200.0),
        quality={"blur": 200.0, "det_score": 0.9},
        captured_at=at,
        observed_at=at,
        first_seen=at - 1,
        last_seen=at,
        face_crop=face,
        frame=frame,
        frame_scale=0.5,
        embedding=embedding,
        model_key=model_key,
        crop_from_main_stream=crop_from_main_stream,
    )
