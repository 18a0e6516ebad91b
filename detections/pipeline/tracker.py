"""Link the faces of one camera across frames, so that a visit is one track, not N sightings.

Cameras sample at about 2 fps: between two frames a walking face can move more than its own
width, so boxes often do not overlap and plain IoU tracking (SORT) would break a walk into
many tracks. Each pair of (track, face) is therefore gated by IoU *or* by the distance of
the centres in face sizes, measured from where the track's last velocity puts it now and
from where it was last seen (a person who stops). Faces are assigned to tracks jointly with
the Hungarian algorithm, so two crossing faces do not both take the nearest track. When the
caller has embeddings, cosine similarity joins the cost and vetoes a link between clearly
different people; embeddings are optional because they cost ~25 ms per face.

Track ids are uuid4 hex strings, not per-camera counters: a camera moves between supervisor
processes when a lease expires, and counters restarting at 1 would collide with the tracks
already stored. ``Track.number`` is a per-tracker counter for logs and tests.
"""

from __future__ import annotations

import math
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from faces.engine import Face
from faces.engine.geometry import Box, box_centre, iou

from .config import PipelineConfig

#: Observations kept per track: enough for velocity and for drawing a short trail.
HISTORY_LENGTH = 32

_GATED = 1e6


def box_side(box: Box) -> float:
    """Size of a box as one length: the square root of its area."""
    return math.sqrt(max(box[2] * box[3], 1e-6))


@dataclass(eq=False)
class Track:
    """One face followed across frames of one camera; owned and mutated by its ``Tracker``."""

    id: str
    number: int
    first_seen: float
    last_seen: float
    hits: int = 1
    history: deque[tuple[float, Box]] = field(default_factory=lambda: deque(maxlen=HISTORY_LENGTH))
    confirmed: bool = False
    ended: bool = False
    ended_at: float | None = None
    appearance: np.ndarray | None = None
    """Running mean of the embeddings seen for this track (unit length), if any."""

    @property
    def bbox(self) -> Box:
        """The box of the latest observation."""
        return self.history[-1][1]

    def velocity(self) -> tuple[float, float]:
        """Centre velocity in pixels per second from the last two observations."""
        if len(self.history) < 2:
            return 0.0, 0.0
        (t0, b0), (t1, b1) = self.history[-2], self.history[-1]
        if t1 <= t0:
            return 0.0, 0.0
        (x0, y0), (x1, y1) = box_centre(b0), box_centre(b1)
        return (x1 - x0) / (t1 - t0), (y1 - y0) / (t1 - t0)

    def predicted_box(self, timestamp: float, max_extrapolation_s: float = 1.0) -> Box:
        """The last box moved by the last velocity, extrapolated at most ``max_extrapolation_s``."""
        dt = min(max(timestamp - self.last_seen, 0.0), max_extrapolation_s)
        vx, vy = self.velocity()
        x, y, w, h = self.bbox
        return x + vx * dt, y + vy * dt, w, h

    def remember_embedding(self, embedding: np.ndarray, keep: float = 0.5) -> None:
        """Blend an embedding of this track's face into its appearance."""
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if self.appearance is not None and self.appearance.shape == vector.shape:
            vector = keep * self.appearance + (1.0 - keep) * vector
        norm = float(np.linalg.norm(vector))
        if norm > 0:
            self.appearance = (vector / norm).astype(np.float32)

    def _observe(self, face: Face, timestamp: float) -> None:
        self.history.append((timestamp, face.bbox))
        self.last_seen = timestamp
        self.hits += 1


class TrackerUpdate(NamedTuple):
    """What one frame did: each face with its track, tracks confirmed now, tracks ended now."""

    pairs: list[tuple[Track, Face]]
    confirmed: list[Track]
    ended: list[Track]


class Tracker:
    """Multi-face tracker for one camera. Not thread-safe: one camera thread drives it."""

    def __init__(
        self,
        *,
        confirm_hits: int = 2,
        max_missed_seconds: float = 3.0,
        tentative_max_missed_seconds: float = 1.0,
        iou_min: float = 0.1,
        max_distance: float = 2.5,
        max_size_ratio: float = 2.0,
        min_appearance: float = 0.3,
        appearance_weight: float = 0.5,
        neutral_appearance: float = 0.5,
        max_extrapolation_s: float = 1.0,
        ambiguity_margin: float = 0.25,
        reacquire_seconds: float = 1.0,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        self.confirm_hits = confirm_hits
        self.max_missed_seconds = max_missed_seconds
        self.tentative_max_missed_seconds = tentative_max_missed_seconds
        self.iou_min = iou_min
        self.max_distance = max_distance
        self.max_size_ratio = max_size_ratio
        self.min_appearance = min_appearance
        self.appearance_weight = appearance_weight
        self.neutral_appearance = neutral_appearance
        self.max_extrapolation_s = max_extrapolation_s
        self.ambiguity_margin = ambiguity_margin
        self.reacquire_seconds = reacquire_seconds
        self._id_factory = id_factory or (lambda: uuid.uuid4().hex)
        self._next_number = 1
        self.tracks: list[Track] = []
        """The live tracks, oldest first."""

    @classmethod
    def from_config(cls, config: PipelineConfig) -> Tracker:
        """A tracker with the pipeline's track timings."""
        return cls(
            confirm_hits=config.confirm_hits,
            max_missed_seconds=config.max_missed_seconds,
            tentative_max_missed_seconds=config.tentative_max_missed_seconds,
            iou_min=config.track_iou_min,
            max_distance=config.track_max_distance,
            max_size_ratio=config.track_max_size_ratio,
            min_appearance=config.track_min_appearance,
            ambiguity_margin=config.track_ambiguity_margin,
            reacquire_seconds=config.track_reacquire_seconds,
        )

    def update(
        self,
        faces: Sequence[Face],
        timestamp: float,
        embeddings: Sequence[np.ndarray | None] | None = None,
    ) -> TrackerUpdate:
        """Link this frame's faces to tracks, start tracks for the rest, end stale ones.

        ``embeddings``, when given, is aligned with ``faces``; any entry may be ``None``.
        A face linked to a track also refreshes the track's appearance with its embedding.
        """
        if embeddings is not None and len(embeddings) != len(faces):
            raise ValueError("embeddings must be aligned with faces")
        vectors = list(embeddings) if embeddings is not None else [None] * len(faces)
        ended = self.expire(timestamp)
        costs, allowed = self._costs(faces, vectors, timestamp)
        linked: list[tuple[Track, int]] = []
        confirmed: list[Track] = []
        if costs.size:
            rows, cols = linear_sum_assignment(costs)
            for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
                if not allowed[row, col]:
                    continue
                track = self.tracks[row]
                track._observe(faces[col], timestamp)
                if not track.confirmed and track.hits >= self.confirm_hits:
                    track.confirmed = True
                    confirmed.append(track)
                linked.append((track, col))
        taken = {col for _track, col in linked}
        for col, face in enumerate(faces):
            if col not in taken:
                track = self._start(face, timestamp)
                if track.confirmed:
                    confirmed.append(track)
                linked.append((track, col))
        for track, col in linked:
            vector = vectors[col]
            if vector is not None:
                track.remember_embedding(vector)
        return TrackerUpdate([(track, faces[col]) for track, col in linked], confirmed, ended)

    def wants_appearance(self, faces: Sequence[Face], timestamp: float) -> bool:
        """Whether embeddings would help link this frame's faces, because among the tracks
        that have an appearance:

        - motion cannot tell apart two tracks a face could join (or two faces a track could
          take): their motion costs are within ``ambiguity_margin``; or
        - a face would re-acquire a track unseen for more than ``reacquire_seconds``: at a
          door the next person often steps into the spot the last one just left.
        """
        candidates = [track for track in self.tracks if track.appearance is not None]
        if not candidates or not faces:
            return False
        costs = np.full((len(candidates), len(faces)), np.inf)
        for row, track in enumerate(candidates):
            for col, face in enumerate(faces):
                allowed, cost = self._motion(track, face, timestamp)
                if allowed:
                    if timestamp - track.last_seen > self.reacquire_seconds:
                        return True
                    costs[row, col] = cost
        for lines in (costs, costs.T):
            if lines.shape[1] < 2:
                continue
            two_best = np.sort(lines, axis=1)[:, :2]
            close = two_best[:, 1] - two_best[:, 0] < self.ambiguity_margin
            if (np.isfinite(two_best[:, 1]) & close).any():
                return True
        return False

    def expire(self, timestamp: float) -> list[Track]:
        """End the tracks unseen for too long at ``timestamp``; returns them."""
        ended = []
        for track in self.tracks:
            limit = (
                self.max_missed_seconds if track.confirmed else self.tentative_max_missed_seconds
            )
            if timestamp - track.last_seen > limit:
                ended.append(track)
        return self._end(ended, timestamp)

    def end_all(self, timestamp: float) -> list[Track]:
        """End every live track (the camera stopped); returns them."""
        return self._end(list(self.tracks), timestamp)

    def _end(self, tracks: list[Track], timestamp: float) -> list[Track]:
        for track in tracks:
            track.ended = True
            track.ended_at = timestamp
        gone = {id(track) for track in tracks}
        self.tracks = [track for track in self.tracks if id(track) not in gone]
        return tracks

    def _start(self, face: Face, timestamp: float) -> Track:
        track = Track(
            id=self._id_factory(),
            number=self._next_number,
            first_seen=timestamp,
            last_seen=timestamp,
            confirmed=self.confirm_hits <= 1,
        )
        track.history.append((timestamp, face.bbox))
        self._next_number += 1
        self.tracks.append(track)
        return track

    def _motion(self, track: Track, face: Face, timestamp: float) -> tuple[bool, float]:
        """Whether motion allows linking ``face`` to ``track``, and the motion cost in 0..1."""
        last = track.bbox
        predicted = track.predicted_box(timestamp, self.max_extrapolation_s)
        ratio = box_side(last) / box_side(face.bbox)
        if max(ratio, 1.0 / ratio) > self.max_size_ratio:
            return False, 1.0
        scale = (box_side(last) + box_side(face.bbox)) / 2
        centre = box_centre(face.bbox)
        predicted_iou = iou(predicted, face.bbox)
        predicted_distance = math.dist(box_centre(predicted), centre) / scale
        last_distance = math.dist(box_centre(last), centre) / scale
        allowed = (
            max(predicted_iou, iou(last, face.bbox)) >= self.iou_min
            or min(predicted_distance, last_distance) <= self.max_distance
        )
        cost = min(1.0 - predicted_iou, predicted_distance / self.max_distance, 1.0)
        return allowed, cost

    def _costs(
        self, faces: Sequence[Face], vectors: list[np.ndarray | None], timestamp: float
    ) -> tuple[np.ndarray, np.ndarray]:
        costs = np.full((len(self.tracks), len(faces)), _GATED)
        allowed = np.zeros(costs.shape, dtype=bool)
        weight = self.appearance_weight
        for row, track in enumerate(self.tracks):
            for col, face in enumerate(faces):
                ok, motion = self._motion(track, face, timestamp)
                if not ok:
                    continue
                similarity = self.neutral_appearance
                vector = vectors[col]
                if track.appearance is not None and vector is not None:
                    similarity = float(np.dot(track.appearance, np.asarray(vector).reshape(-1)))
                    if similarity < self.min_appearance:
                        continue
                appearance_cost = 1.0 - min(max(similarity, 0.0), 1.0)
                costs[row, col] = (1.0 - weight) * motion + weight * appearance_cost
                allowed[row, col] = True
        return costs, allowed
