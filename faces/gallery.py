"""The 1:N gallery: every active person's embeddings in one matrix, searched per person.

Each process keeps the matrix in memory, for one model key. A version stamp in the cache
changes on every sample or person change (``bump_version``, sent on commit by
``faces.signals``); the gallery reads it at most once per ``FACE_GALLERY_CHECK_SECONDS``
and reloads when it differs, so every process (web, worker, camera supervisors) sees an
enrolment within seconds without polling the database.

Results are per person, not per photo: a person's score is their best sample's cosine
similarity, and the margin is how far the best person is ahead of the second.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.cache import cache

from config.cache import UNAVAILABLE_ERRORS, strict_cache

VERSION_KEY = "faces:gallery-version"
# While the cache is down, other processes' changes are picked up this often.
OUTAGE_RELOAD_SECONDS = 30.0


class MatchStatus:
    """The three outcomes of a match, as the API and the detections store them."""

    RECOGNIZED = "recognized"
    UNCERTAIN = "uncertain"
    UNKNOWN = "unknown"


def bump_version() -> str:
    """Tell every process's gallery to reload."""
    token = uuid.uuid4().hex
    cache.set(VERSION_KEY, token, timeout=None)
    return token


def current_version() -> str | None:
    """The gallery's version stamp, or None while the cache cannot be reached."""
    shared = strict_cache()
    try:
        token = shared.get(VERSION_KEY)
        if token is None:  # cache flushed or evicted: start a new epoch everyone will see
            token = uuid.uuid4().hex
            if not shared.add(VERSION_KEY, token, timeout=None):
                token = shared.get(VERSION_KEY) or token
    except UNAVAILABLE_ERRORS:
        return None
    return token


@dataclass(frozen=True)
class Thresholds:
    """``match``: act on it; ``unknown``: below it nobody; between them: uncertain.
    ``margin``: the best person must lead the second by this much to be recognised."""

    match: float
    unknown: float
    margin: float

    @classmethod
    def from_settings(cls) -> Thresholds:
        """The thresholds as configured (``FACE_*_THRESHOLD``, ``FACE_MIN_MARGIN``)."""
        return cls(
            match=settings.FACE_MATCH_THRESHOLD,
            unknown=settings.FACE_UNKNOWN_THRESHOLD,
            margin=settings.FACE_MIN_MARGIN,
        )

    def classify(self, score: float, margin: float) -> str:
        """Recognized only when both the score and the margin over the runner-up are high enough."""
        if score >= self.match and margin >= self.margin:
            return MatchStatus.RECOGNIZED
        if score < self.unknown:
            return MatchStatus.UNKNOWN
        return MatchStatus.UNCERTAIN


@dataclass(frozen=True)
class Candidate:
    """One person a face may be, with the best similarity to their samples."""

    person_id: int
    score: float


@dataclass(frozen=True)
class Match:
    """The top candidates for one face, best first, and the verdict."""

    candidates: list[Candidate]
    margin: float
    status: str

    @property
    def best(self) -> Candidate | None:
        """The most similar person, or None for an empty gallery."""
        return self.candidates[0] if self.candidates else None


class GalleryIndex:
    """An immutable snapshot: rows sorted by person so per-person maxima are one reduceat.

    The vectors are kept transposed, ``(dim, N)`` and C-contiguous: the search is bound by
    memory bandwidth, and ``query @ vectors_t`` streams that layout about 1.8x faster than
    ``query @ vectors.T`` at 100k embeddings (BENCHMARKS.md, "Gallery search").
    """

    TRANSPOSE_CHUNK = 1024

    def __init__(self, person_ids: np.ndarray, vectors: np.ndarray, dim: int) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
        order = np.argsort(person_ids, kind="stable")
        self.vectors_t = np.empty((dim, len(order)), dtype=np.float32)
        for start in range(0, len(order), self.TRANSPOSE_CHUNK):
            rows = order[start : start + self.TRANSPOSE_CHUNK]
            self.vectors_t[:, start : start + len(rows)] = vectors[rows].T
        sorted_ids = np.asarray(person_ids)[order]
        self.persons, self.starts = np.unique(sorted_ids, return_index=True)
        self.dim = dim

    def __len__(self) -> int:
        return self.vectors_t.shape[1]

    @property
    def person_count(self) -> int:
        """How many people the snapshot holds (people without embeddings are not in it)."""
        return len(self.persons)

    def person_scores(self, embeddings: np.ndarray) -> np.ndarray:
        """``(queries, persons)`` best cosine similarity of each query to each person."""
        queries = np.asarray(embeddings, dtype=np.float32).reshape(-1, self.dim)
        if not len(self):
            return np.empty((len(queries), 0), dtype=np.float32)
        scores = queries @ self.vectors_t
        return np.maximum.reduceat(scores, self.starts, axis=1)


Loader = Callable[[str], tuple[np.ndarray, np.ndarray]]


def load_from_database(model_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Person ids and vectors of every active person's embeddings under ``model_key``."""
    from faces.models import FaceEmbedding

    rows = FaceEmbedding.objects.filter(
        model_key=model_key, sample__person__active=True
    ).values_list("sample__person_id", "vector")
    person_ids, blobs = [], []
    for person_id, vector in rows.iterator(chunk_size=5000):
        person_ids.append(person_id)
        blobs.append(bytes(vector))
    vectors = np.frombuffer(b"".join(blobs), dtype=np.float32)
    return np.asarray(person_ids, dtype=np.int64), vectors


class Gallery:
    """Thread-safe; ``match`` and ``person_scores`` always see a complete snapshot."""

    def __init__(
        self,
        model_key: str,
        dim: int,
        *,
        loader: Loader = load_from_database,
        check_seconds: float | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.model_key = model_key
        self.dim = dim
        self._loader = loader
        self._check_seconds = (
            settings.FACE_GALLERY_CHECK_SECONDS if check_seconds is None else check_seconds
        )
        self._thresholds = thresholds
        self._lock = threading.Lock()
        self._index: GalleryIndex | None = None
        self._version: str | None = None
        self._checked_at = 0.0
        self._loaded_at = 0.0

    @property
    def thresholds(self) -> Thresholds:
        """The fixed thresholds given, else the settings as they are now."""
        return self._thresholds or Thresholds.from_settings()

    def index(self) -> GalleryIndex:
        """The current snapshot, reloaded first if another process changed the gallery."""
        now = time.monotonic()
        if self._index is not None and now - self._checked_at < self._check_seconds:
            return self._index
        with self._lock:
            if self._index is not None and now - self._checked_at < self._check_seconds:
                return self._index
            version = current_version()
            if self._must_reload(version, now):
                person_ids, vectors = self._loader(self.model_key)
                self._index = GalleryIndex(person_ids, vectors, self.dim)
                self._version = version
                self._loaded_at = now
            self._checked_at = time.monotonic()
            return self._index

    def _must_reload(self, version: str | None, now: float) -> bool:
        """Reload on a new version; without one (cache down), only now and then, since
        another process's changes cannot be seen and a reload on every check would read
        the whole gallery from the database each second."""
        if self._index is None:
            return True
        if version is None:
            return now - self._loaded_at >= OUTAGE_RELOAD_SECONDS
        return version != self._version

    def invalidate(self) -> None:
        """Drop the snapshot so the next match reloads it from the database."""
        with self._lock:
            self._index = None

    def match_many(self, embeddings: np.ndarray, k: int = 5) -> list[Match]:
        """Match a batch against one snapshot: one matrix product for all the faces."""
        index = self.index()
        scores = index.person_scores(embeddings)
        return [self._match_row(index, row, k) for row in scores]

    def match(self, embedding: np.ndarray, k: int = 5) -> Match:
        """Match one embedding (a batch of one)."""
        return self.match_many(np.asarray(embedding).reshape(1, -1), k)[0]

    def _match_row(self, index: GalleryIndex, row: np.ndarray, k: int) -> Match:
        return match_from_scores(index.persons, row, k, self.thresholds)


def top_candidates(persons: np.ndarray, row: np.ndarray, k: int) -> list[Candidate]:
    """The ``k`` best people of one row of per-person scores, best first."""
    if row.size == 0 or k <= 0:
        return []
    take = min(k, row.size)
    top = np.argpartition(-row, take - 1)[:take]
    top = top[np.argsort(-row[top])]
    return [Candidate(int(persons[i]), float(row[i])) for i in top]


def match_from_scores(
    persons: np.ndarray, row: np.ndarray, k: int, thresholds: Thresholds
) -> Match:
    """Top-``k`` people from one row of per-person scores, with margin and verdict."""
    candidates = top_candidates(persons, row, max(k, 2))
    if not candidates:
        return Match(candidates=[], margin=0.0, status=MatchStatus.UNKNOWN)
    best = candidates[0].score
    second = candidates[1].score if len(candidates) > 1 else 0.0
    margin = best - max(second, 0.0)
    return Match(candidates=candidates[:k], margin=margin, status=thresholds.classify(best, margin))


_galleries: dict[str, Gallery] = {}
_galleries_lock = threading.Lock()


def get_gallery(model_key: str, dim: int) -> Gallery:
    """The process-wide gallery for a model."""
    with _galleries_lock:
        gallery = _galleries.get(model_key)
        if gallery is None:
            gallery = _galleries[model_key] = Gallery(model_key, dim)
        return gallery
