"""Turn one camera's frames into a few track events: confirmed, updated, ended.

A person standing at the door for a minute is about 120 frames but one visit. Each frame
goes through detection, the quality filter and the tracker; only tracks that still need
evidence are embedded (a few of their best views, batched per frame), and the verdict comes
from the track's vote, never from one frame. Events are emitted when a track is confirmed,
when its verdict (status or person) changes afterwards, and when it ends, so the layer that
stores detections writes one row per visit and updates it rarely.

Each event carries the best view the track has had: its box, quality, a face crop, a
downscaled frame and its embedding (for grouping unknown faces later).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from faces.engine import Face, FaceEngine, FaceEngineError
from faces.engine.quality import QualityReport
from faces.gallery import Match, MatchStatus

from .config import PipelineConfig
from .detail import locate
from .quality_filter import AcceptedFace, RejectedFace, filter_faces
from .tracker import Box, Track, Tracker
from .voting import TrackVote, VoteResult

#: An already-recognised track embeds again only for a view this much better than its best.
BETTER_VIEW = 1.1
#: An unsettled track embeds any view at least this good relative to its best.
USABLE_VIEW = 0.5
#: A track whose best view was cut from the analysed stream takes a view at least this
#: good relative to it, when that view can be cut from the main stream.
SHARPER_VIEW = 0.8
#: How many frames with a main-stream frame a track tries that on before it gives up (the
#: main stream may show another field of view).
SHARPER_VIEW_TRIES = 5


class Matcher(Protocol):
    """What the processor needs of ``faces.gallery.Gallery``."""

    def match_many(self, embeddings: np.ndarray, k: int = 5) -> list[Match]:
        """The gallery's matches for a batch of embeddings, one per row."""
        ...


class EventKind:
    """The three moments of a track the detection layer acts on; plain strings so that
    they serialise as they are."""

    CONFIRMED = "confirmed"
    UPDATED = "updated"
    ENDED = "ended"


@dataclass(frozen=True, eq=False)
class TrackEvent:
    """Something the detection layer must record about one track.

    Box, quality, crop, frame and embedding all describe the track's best view so far,
    captured at ``observed_at``; ``captured_at`` is the time of the frame (or of the
    ``flush``) that produced the event. ``bbox`` is in full-resolution pixels; multiply by
    ``frame_scale`` to draw it on ``frame``.
    """

    kind: str
    track_id: str
    status: str
    person_id: int | None
    candidate_person_id: int | None
    score: float
    margin: float
    votes: int
    observations: int
    bbox: Box
    quality: dict[str, float]
    captured_at: float
    observed_at: float
    first_seen: float
    last_seen: float
    face_crop: np.ndarray
    frame: np.ndarray
    frame_scale: float
    embedding: np.ndarray | None
    model_key: str
    #: Whether ``face_crop`` was cut from the camera's main stream.
    crop_from_main_stream: bool = False


@dataclass(frozen=True)
class FrameTimings:
    """Wall time of each step of the latest ``process`` call, in milliseconds."""

    detect_ms: float = 0.0
    filter_ms: float = 0.0
    track_ms: float = 0.0
    embed_ms: float = 0.0
    match_ms: float = 0.0
    total_ms: float = 0.0
    faces: int = 0
    kept: int = 0
    embedded: int = 0
    #: Face crops cut from the main stream's frame (``detail_image``), not the analysed one.
    located: int = 0


@dataclass(eq=False)
class _View:
    face: Face
    quality: QualityReport
    weight: float
    observed_at: float
    face_crop: np.ndarray
    frame: np.ndarray
    frame_scale: float
    embedding: np.ndarray | None
    crop_from_main_stream: bool


@dataclass(eq=False)
class _TrackState:
    vote: TrackVote
    embeds: int = 0
    sharper_view_tries: int = 0
    last_embed_at: float = float("-inf")
    best: _View | None = None
    emitted: tuple[str, int | None] | None = None
    result: VoteResult | None = None


@dataclass(eq=False)
class _Due:
    track: Track
    accepted: AcceptedFace
    weight: float


def crop_with_margin(image: np.ndarray, bbox: Box, margin: float) -> np.ndarray:
    """A copy of the box grown by ``margin`` of its size on each side, clipped to the image."""
    height, width = image.shape[:2]
    x, y, w, h = bbox
    x0 = max(round(x - margin * w), 0)
    y0 = max(round(y - margin * h), 0)
    x1 = min(round(x + w + margin * w), width)
    y1 = min(round(y + h + margin * h), height)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 0, 3), dtype=image.dtype)
    return image[y0:y1, x0:x1].copy()


def downscale_frame(image: np.ndarray, max_width: int) -> tuple[np.ndarray, float]:
    """A copy at most ``max_width`` wide, and the scale applied."""
    width = image.shape[1]
    if width <= max_width:
        return image.copy(), 1.0
    scale = max_width / width
    height = max(1, round(image.shape[0] * scale))
    return cv2.resize(image, (max_width, height), interpolation=cv2.INTER_AREA), scale


class FrameProcessor:
    """The pipeline of one camera. Not thread-safe: the camera's own thread calls it.

    ``gallery`` is a ``faces.gallery.Gallery`` (or anything with its ``match_many``); its
    own thresholds are not used, the track vote applies ``config.thresholds``. Timestamps
    are seconds, as from ``time.time()``; ``clock`` supplies them when the caller does not.
    """

    def __init__(
        self,
        engine: FaceEngine,
        gallery: Matcher,
        config: PipelineConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.gallery = gallery
        self.config = config
        self.clock = clock
        self.tracker = Tracker.from_config(config)
        self._detail: np.ndarray | None = None
        self._located = 0
        self.last_timings = FrameTimings()
        self.last_rejected: list[RejectedFace] = []
        self._states: dict[str, _TrackState] = {}

    def process(
        self,
        frame_image: np.ndarray,
        captured_at: float | None = None,
        detail_image: np.ndarray | None = None,
    ) -> list[TrackEvent]:
        """Run one frame through the pipeline; returns the events it caused, often none.

        ``detail_image`` is the camera's main-stream frame nearest in time, when it has
        one: the face crops of this frame's new best views are cut from it where the face
        is found there (``detail.locate``); everything else uses ``frame_image``.
        """
        timestamp = self.clock() if captured_at is None else float(captured_at)
        self._detail, self._located = detail_image, 0
        started = time.perf_counter()
        faces = self.engine.detect(frame_image)
        detected = time.perf_counter()
        accepted, self.last_rejected = filter_faces(faces, frame_image, self.config)
        filtered = time.perf_counter()

        embeddings: dict[Face, np.ndarray] = {}
        embed_s = 0.0
        kept_faces = [item.face for item in accepted]
        if self.config.appearance_on_ambiguity and self.tracker.wants_appearance(
            kept_faces, timestamp
        ):
            embed_s += self._embed_into(embeddings, frame_image, kept_faces)
        track_started = time.perf_counter()
        update = self.tracker.update(
            kept_faces, timestamp, [embeddings.get(face) for face in kept_faces]
        )
        track_s = time.perf_counter() - track_started

        events = self._ended_events(update.ended, timestamp)
        by_face = {item.face: item for item in accepted}
        embed_more_s, match_s = self._embed_and_vote(
            update.pairs, by_face, embeddings, frame_image, timestamp
        )
        embed_s += embed_more_s
        for track, face in update.pairs:
            state = self._state(track)
            if state.best is None:  # no embedding yet: keep a view for the event anyway
                state.best = self._view(frame_image, by_face[face], -1.0, timestamp, None)
            elif detail_image is not None:
                self._try_sharper_view(state, by_face[face], frame_image, timestamp)
        events += self._verdict_events(update.pairs, update.confirmed, timestamp)

        total = time.perf_counter() - started
        self.last_timings = FrameTimings(
            detect_ms=(detected - started) * 1000,
            filter_ms=(filtered - detected) * 1000,
            track_ms=track_s * 1000,
            embed_ms=embed_s * 1000,
            match_ms=match_s * 1000,
            total_ms=total * 1000,
            faces=len(faces),
            kept=len(accepted),
            embedded=len(embeddings),
            located=self._located,
        )
        self._detail = None  # a full-resolution frame is not kept between frames
        return events

    def expire(self, now: float | None = None) -> list[TrackEvent]:
        """End tracks unseen for too long without waiting for the next frame."""
        now = self.clock() if now is None else float(now)
        return self._ended_events(self.tracker.expire(now), now)

    def flush(self, now: float | None = None) -> list[TrackEvent]:
        """End every track (the camera stopped); returns their final events."""
        now = self.clock() if now is None else float(now)
        return self._ended_events(self.tracker.end_all(now), now)

    def _embed_and_vote(
        self,
        pairs: list[tuple[Track, Face]],
        by_face: dict[Face, AcceptedFace],
        embeddings: dict[Face, np.ndarray],
        image: np.ndarray,
        timestamp: float,
    ) -> tuple[float, float]:
        """Embed (one batch) and match (one call) the faces of the tracks due a vote;
        returns the seconds spent embedding and matching."""
        due = []
        for track, face in pairs:
            accepted = by_face[face]
            weight = self._state(track).vote.weight(*_measures(accepted))
            item = _Due(track, accepted, weight)
            if self._is_due(item, timestamp):
                due.append(item)
        missing = [item.accepted.face for item in due if item.accepted.face not in embeddings]
        embed_s = self._embed_into(embeddings, image, missing)
        for item in due:
            # Faces embedded before linking already fed the tracker's appearance.
            vector = embeddings.get(item.accepted.face)
            if vector is not None and item.accepted.face in missing:
                item.track.remember_embedding(vector)
        return embed_s, self._vote(due, embeddings, image, timestamp)

    def _state(self, track: Track) -> _TrackState:
        state = self._states.get(track.id)
        if state is None:
            state = self._states[track.id] = _TrackState(TrackVote.for_config(self.config))
        return state

    def _is_due(self, item: _Due, timestamp: float) -> bool:
        """Embed a track's face now? Only for tracks that are or are about to be confirmed,
        within the per-track budget and interval, and only for views worth it: any usable
        view until the track is recognised, then only clearly better ones."""
        config, track = self.config, item.track
        state = self._state(track)
        if state.embeds >= config.max_embeds_per_track:
            return False
        if timestamp - state.last_embed_at < config.embed_min_interval_s:
            return False
        if not track.confirmed and track.hits < config.confirm_hits - 1:
            return False
        if state.embeds < config.min_votes or state.best is None:
            return True
        recognized = state.result is not None and state.result.status == MatchStatus.RECOGNIZED
        factor = BETTER_VIEW if recognized else USABLE_VIEW
        return item.weight > state.best.weight * factor

    def _embed_into(
        self, embeddings: dict[Face, np.ndarray], image: np.ndarray, faces: Sequence[Face]
    ) -> float:
        """Embed ``faces`` in one batch into ``embeddings``; returns the seconds spent."""
        if not faces:
            return 0.0
        started = time.perf_counter()
        try:
            vectors: list[np.ndarray | None] = list(self.engine.embed_many(image, faces))
        except FaceEngineError:
            vectors = []
            for face in faces:
                try:
                    vectors.append(self.engine.embed(image, face))
                except FaceEngineError:
                    vectors.append(None)
        for face, vector in zip(faces, vectors, strict=True):
            if vector is not None:
                embeddings[face] = np.asarray(vector, dtype=np.float32)
        return time.perf_counter() - started

    def _vote(
        self,
        due: list[_Due],
        embeddings: dict[Face, np.ndarray],
        image: np.ndarray,
        timestamp: float,
    ) -> float:
        """Match the due tracks' embeddings in one call and add them to the votes."""
        ready = [item for item in due if item.accepted.face in embeddings]
        if not ready:
            return 0.0
        started = time.perf_counter()
        matrix = np.stack([embeddings[item.accepted.face] for item in ready])
        matches = self.gallery.match_many(matrix, self.config.k)
        elapsed = time.perf_counter() - started
        for item, match in zip(ready, matches, strict=True):
            state = self._state(item.track)
            state.vote.add_weighted(match, item.weight)
            state.embeds += 1
            state.last_embed_at = timestamp
            state.result = state.vote.result()
            if state.best is None or item.weight > state.best.weight:
                vector = embeddings[item.accepted.face]
                state.best = self._view(image, item.accepted, item.weight, timestamp, vector)
        return elapsed

    def _view(
        self,
        image: np.ndarray,
        accepted: AcceptedFace,
        weight: float,
        timestamp: float,
        embedding: np.ndarray | None,
    ) -> _View:
        frame, scale = downscale_frame(image, self.config.frame_max_width)
        face_crop, from_main_stream = self._face_crop(image, accepted.face)
        return _View(
            face=accepted.face,
            quality=accepted.quality,
            weight=weight,
            observed_at=timestamp,
            face_crop=face_crop,
            frame=frame,
            frame_scale=scale,
            embedding=embedding,
            crop_from_main_stream=from_main_stream,
        )

    def _try_sharper_view(
        self, state: _TrackState, accepted: AcceptedFace, image: np.ndarray, timestamp: float
    ) -> None:
        """Replace a best view cut from the analysed stream by this one, nearly as good,
        when it can be cut from the main stream. A track's first views usually come before
        the main stream has a frame to offer (it decodes key frames alone until a face is
        seen); the best view's embedding is kept, as this view may not have one."""
        best = state.best
        # A view made from this very frame has already been looked for in its main frame.
        if best is None or best.crop_from_main_stream or best.observed_at == timestamp:
            return
        if state.sharper_view_tries >= SHARPER_VIEW_TRIES:
            return
        weight = state.vote.weight(*_measures(accepted))
        if weight < SHARPER_VIEW * best.weight:
            return
        state.sharper_view_tries += 1
        view = self._view(image, accepted, max(weight, best.weight), timestamp, best.embedding)
        if view.crop_from_main_stream:
            state.best = view

    def _face_crop(self, image: np.ndarray, face: Face) -> tuple[np.ndarray, bool]:
        """The face with its margin, from the main stream's frame when it is found there;
        and whether it was."""
        if self._detail is not None:
            found = locate(self.engine, face, image.shape, self._detail)
            if found is not None:
                self._located += 1
                return crop_with_margin(self._detail, found.bbox, self.config.crop_margin), True
        return crop_with_margin(image, face.bbox, self.config.crop_margin), False

    def _verdict_events(
        self, pairs: list[tuple[Track, Face]], confirmed: list[Track], timestamp: float
    ) -> list[TrackEvent]:
        """``confirmed`` for tracks confirmed now, ``updated`` when a verdict changed."""
        newly = {track.id for track in confirmed}
        events: list[TrackEvent] = []
        for track, _face in pairs:
            if not track.confirmed:
                continue
            state = self._state(track)
            verdict = self._verdict(state)
            key = (verdict.status, verdict.person_id)
            if track.id in newly or state.emitted is None:
                kind = EventKind.CONFIRMED
            elif key != state.emitted:
                kind = EventKind.UPDATED
            else:
                continue
            state.emitted = key
            events.append(self._event(kind, track, state, verdict, timestamp))
        return events

    def _ended_events(self, tracks: list[Track], timestamp: float) -> list[TrackEvent]:
        """Forget ended tracks; those that were reported as confirmed get an ``ended``."""
        events = []
        for track in tracks:
            state = self._states.pop(track.id, None)
            if state is not None and state.emitted is not None:
                verdict = self._verdict(state)
                events.append(self._event(EventKind.ENDED, track, state, verdict, timestamp))
        return events

    def _verdict(self, state: _TrackState) -> VoteResult:
        return state.result if state.result is not None else state.vote.result()

    def _event(
        self, kind: str, track: Track, state: _TrackState, verdict: VoteResult, timestamp: float
    ) -> TrackEvent:
        best = state.best
        assert best is not None  # every linked face leaves a view behind
        quality = best.quality.as_dict()
        quality["weight"] = round(max(best.weight, 0.0), 4)
        return TrackEvent(
            kind=kind,
            track_id=track.id,
            status=verdict.status,
            person_id=verdict.person_id,
            candidate_person_id=verdict.candidate_person_id,
            score=verdict.score,
            margin=verdict.margin,
            votes=verdict.votes,
            observations=verdict.observations,
            bbox=best.face.bbox,
            quality=quality,
            captured_at=timestamp,
            observed_at=best.observed_at,
            first_seen=track.first_seen,
            last_seen=track.last_seen,
            face_crop=best.face_crop,
            frame=best.frame,
            frame_scale=best.frame_scale,
            embedding=best.embedding,
            model_key=self.engine.model_key,
            crop_from_main_stream=best.crop_from_main_stream,
        )


def _measures(accepted: AcceptedFace) -> tuple[float, float, float]:
    return accepted.face.area, accepted.face.score, accepted.quality.blur
