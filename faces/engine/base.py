"""Engine-neutral face types, the engine interface and its errors.

The rest of Presence (enrolment, the recognition pipeline, the gallery) must not know which
detector or recogniser runs: an operator switches engines with one setting. Everything above
this package therefore speaks only ``Face``, ``FaceEngine`` and these exceptions, and stores
``FaceEngine.model_key`` next to every embedding so that vectors from two different models
are never compared with each other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Landmark order shared by YuNet and insightface (the subject's right eye is on the
#: image's left in a frontal photo).
LANDMARK_NAMES = ("right_eye", "left_eye", "nose", "right_mouth", "left_mouth")


class FaceEngineError(Exception):
    """Base class for every error raised by the face engine."""


class EngineConfigurationError(FaceEngineError):
    """The engine cannot start: a missing or altered model file, a bad setting.

    Raised at start-up with a message that names the file or setting to fix, so that a
    misconfigured deployment fails loudly instead of producing wrong matches.
    """


class ImageRejected(FaceEngineError):
    """An uploaded image was refused before any face work was done.

    ``code`` is machine-readable so the API can return it unchanged to clients; ``message``
    is for people.
    """

    NOT_AN_IMAGE = "not_an_image"
    CORRUPT_IMAGE = "corrupt_image"
    IMAGE_TOO_LARGE = "image_too_large"
    TOO_MANY_PIXELS = "too_many_pixels"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"ImageRejected({self.code!r}, {self.message!r})"


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face, in the coordinates of the image that was passed to ``detect``.

    Equality is identity (``eq=False``): the landmarks are an array, and two detections are
    never "the same" just because their numbers agree.
    """

    bbox: tuple[float, float, float, float]
    """``(x, y, width, height)`` in pixels of the original image."""
    landmarks: np.ndarray
    """``(5, 2)`` float32, in ``LANDMARK_NAMES`` order, pixels of the original image."""
    score: float

    def __post_init__(self) -> None:
        points = np.array(self.landmarks, dtype=np.float32).reshape(5, 2)
        points.setflags(write=False)
        object.__setattr__(self, "landmarks", points)
        object.__setattr__(self, "bbox", tuple(float(v) for v in self.bbox))
        object.__setattr__(self, "score", float(self.score))

    @property
    def width(self) -> float:
        return self.bbox[2]

    @property
    def height(self) -> float:
        return self.bbox[3]

    @property
    def area(self) -> float:
        return self.bbox[2] * self.bbox[3]

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form, for API responses and detection records."""
        return {
            "bbox": [round(v, 2) for v in self.bbox],
            "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in self.landmarks],
            "score": round(self.score, 4),
        }


class FaceEngine(ABC):
    """A face detector plus a face recogniser that produces comparable embeddings.

    Implementations must be safe to call from several threads at once: camera readers and
    API requests share one process-wide engine (see ``faces.engine.get_engine``).
    """

    model_key: str
    """Identifies the embedding space; it changes whenever the recognition model changes."""
    dim: int
    """Length of every embedding."""

    @abstractmethod
    def detect(self, image_bgr: np.ndarray, max_width: int | None = None) -> list[Face]:
        """Find faces in a BGR uint8 image, best score first.

        Detection runs on a copy at most ``max_width`` (default: the engine's
        ``detect_width``) pixels wide, so each camera can trade range for speed; boxes
        and landmarks are always in the given image's coordinates.
        """

    @abstractmethod
    def embed(self, image_bgr: np.ndarray, face: Face) -> np.ndarray:
        """Return the L2-normalised float32 embedding (shape ``(dim,)``) of one face."""

    def embed_many(self, image_bgr: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """Embed several faces of one image; returns ``(len(faces), dim)`` float32."""
        if not faces:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.stack([self.embed(image_bgr, face) for face in faces])


def check_image(image_bgr: np.ndarray) -> None:
    """Refuse anything but an HxWx3 uint8 array, which is what every engine expects."""
    if (
        not isinstance(image_bgr, np.ndarray)
        or image_bgr.dtype != np.uint8
        or image_bgr.ndim != 3
        or image_bgr.shape[2] != 3
        or image_bgr.shape[0] == 0
        or image_bgr.shape[1] == 0
    ):
        shape = getattr(image_bgr, "shape", None)
        dtype = getattr(image_bgr, "dtype", type(image_bgr).__name__)
        raise ValueError(f"expected a non-empty HxWx3 uint8 BGR image, got {shape} {dtype}")


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit length (float32); an all-zero row stays zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
