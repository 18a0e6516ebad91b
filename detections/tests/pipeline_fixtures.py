"""Helpers for the pipeline tests: synthetic faces, fakes of the engine and gallery, and
real-image scenes built from faces.testing.

The tracker and voting tests run on synthetic ``Face`` objects (no model), the processor's
event rules on a fake engine whose detections and embeddings are scripted, and one
end-to-end test on the real engine with faces pasted onto a textured background, so that
only the last pays for inference.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import cv2
import numpy as np

from faces.engine import Face, FaceEngine, build_engine
from faces.gallery import Gallery, GalleryIndex, Match, Thresholds, match_from_scores
from faces.testing import astronaut, scaled, t1, variants

THRESHOLDS = Thresholds(match=0.50, unknown=0.40, margin=0.08)


def make_face(cx: float, cy: float, size: float = 100.0, score: float = 0.9) -> Face:
    """A face box of width ``size`` (height 1.25x) centred on ``(cx, cy)``, with landmarks
    where a frontal face has them."""
    w, h = size, size * 1.25
    x, y = cx - w / 2, cy - h / 2
    rel = [(0.32, 0.40), (0.68, 0.40), (0.50, 0.58), (0.36, 0.76), (0.64, 0.76)]
    landmarks = [(x + rx * w, y + ry * h) for rx, ry in rel]
    return Face(bbox=(x, y, w, h), landmarks=np.array(landmarks), score=score)


def textured_background(width: int, height: int, seed: int = 7) -> np.ndarray:
    """Smooth coloured blobs plus fine noise: sharp everywhere, with no face in it."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 215, size=(height // 24 + 1, width // 24 + 1, 3), dtype=np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    noise = rng.integers(-20, 21, size=image.shape)
    return np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)


class FakeEngine(FaceEngine):
    """Returns scripted faces frame by frame and a scripted embedding for each face."""

    model_key = "fake-model"
    dim = 8

    def __init__(self) -> None:
        self.frames: list[list[tuple[Face, np.ndarray]]] = []
        self._vectors: dict[Face, np.ndarray] = {}
        self.embedded = 0

    def script(self, faces: Sequence[tuple[Face, np.ndarray]]) -> None:
        """Queue the detections of the next ``detect`` call."""
        self.frames.append(list(faces))

    def detect(self, image_bgr: np.ndarray, max_width: int | None = None) -> list[Face]:
        faces = self.frames.pop(0)
        self._vectors.update(faces)
        return [face for face, _vector in faces]

    def embed(self, image_bgr: np.ndarray, face: Face) -> np.ndarray:
        self.embedded += 1
        return self._vectors[face]


class IndexGallery:
    """``Gallery.match_many`` over a fixed index, without Django's cache."""

    def __init__(self, person_ids: Sequence[int], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        self.index = GalleryIndex(np.asarray(person_ids), vectors, vectors.shape[1])

    def match_many(self, embeddings: np.ndarray, k: int = 5) -> list[Match]:
        scores = self.index.person_scores(embeddings)
        return [match_from_scores(self.index.persons, row, k, THRESHOLDS) for row in scores]


def unit(vector: Sequence[float]) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    return array / np.linalg.norm(array)


def probe(person: int, score: float, dim: int = 8, noise_axis: int = 7) -> np.ndarray:
    """A unit vector scoring ``score`` against person ``person`` of a gallery whose person
    ``n`` is basis vector ``n - 1`` (``IndexGallery([1, 2, ...], np.eye(n, dim))``)."""
    vector = np.zeros(dim, dtype=np.float32)
    vector[person - 1] = score
    vector[noise_axis] = np.sqrt(max(1.0 - score**2, 0.0))
    return vector


@cache
def real_engine() -> FaceEngine:
    return build_engine("sface")


@cache
def t1_gallery() -> tuple[Gallery, list[Face]]:
    """The six t1 faces enrolled from t1 scaled 2x as people 1..6 (left to right), and
    their faces in t1 at 1x in the same order."""
    engine = real_engine()
    big = scaled(t1(), 2.0)
    faces = sorted(engine.detect(big), key=lambda face: face.bbox[0])
    vectors = engine.embed_many(big, faces)
    person_ids = np.arange(1, len(faces) + 1, dtype=np.int64)
    gallery = Gallery(
        engine.model_key,
        engine.dim,
        loader=lambda _key: (person_ids, vectors),
        check_seconds=1e9,
        thresholds=THRESHOLDS,
    )
    small = sorted(engine.detect(t1()), key=lambda face: face.bbox[0])
    return gallery, small


def head_patch(image: np.ndarray, face: Face, margin: float = 0.6) -> np.ndarray:
    """The face with generous context around it, as the detector wants to see a head."""
    x, y, w, h = face.bbox
    x0, y0 = max(int(x - margin * w), 0), max(int(y - margin * h), 0)
    x1 = min(int(x + w + margin * w), image.shape[1])
    y1 = min(int(y + h + margin * h), image.shape[0])
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def t1_person_patch(person: int) -> np.ndarray:
    """Person ``person`` (1..6) cut from the brighter variant of t1."""
    _gallery, faces = t1_gallery()
    image, _point_map = variants(t1())["brighter"]
    return head_patch(image, faces[person - 1])


def stranger_patch() -> np.ndarray:
    image = astronaut()
    face = real_engine().detect(image)[0]
    return head_patch(image, face)


def paste(background: np.ndarray, patch: np.ndarray, x: int, y: int) -> np.ndarray:
    """A copy of ``background`` with ``patch`` at ``(x, y)``, clipped to the frame."""
    frame = background.copy()
    h = min(patch.shape[0], frame.shape[0] - y)
    w = min(patch.shape[1], frame.shape[1] - x)
    frame[y : y + h, x : x + w] = patch[:h, :w]
    return frame
