"""Engine-neutral face types, the engine interface and its errors.

The rest of Presence (enrolment, the recognition pipeline, the gallery) must not know which
detector or recogniser runs: an operator switches engines with one setting. Everything above
this package therefore speaks only ``Face``, ``FaceEngine`` and these exceptions, and stores
``FaceEngine.model_key`` next to every embedding so that vectors from two different models
are never compared with each other.

``DetectorRecognizerEngine`` holds what the shipped engines share (settings checks, the
detector lock, boxes clipped to the image, batched and normalised embeddings, onnxruntime
options), so each engine module keeps only what is specific to its models.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnxruntime as ort

#: Landmark order shared by YuNet and insightface (the subject's right eye is on the
#: image's left in a frontal photo).
LANDMARK_NAMES = ("right_eye", "left_eye", "nose", "right_mouth", "left_mouth")

DEFAULT_DETECT_WIDTH = 640
DEFAULT_DETECTION_SCORE = 0.7


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
        """Box width in pixels of the analysed image."""
        return self.bbox[2]

    @property
    def height(self) -> float:
        """Box height in pixels of the analysed image."""
        return self.bbox[3]

    @property
    def area(self) -> float:
        """Box area, by which the largest face is chosen."""
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


def session_options(threads: int) -> ort.SessionOptions:
    """onnxruntime options shared by the engines; ``threads=0`` lets onnxruntime choose."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Spinning worker threads burn a core while idle; cameras and requests share the CPU.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def faces_within(
    shape: tuple[int, ...],
    corners: Iterable[Sequence[float]],
    landmarks: Iterable[np.ndarray],
    scores: Iterable[float],
) -> list[Face]:
    """Faces from ``(x0, y0, x1, y1)`` corners, clipped to an image of ``shape``, best
    score first; a box left empty by the clipping is dropped."""
    height, width = shape[:2]
    faces = []
    for (x0, y0, x1, y1), points, score in zip(corners, landmarks, scores, strict=True):
        x0, y0 = max(0.0, float(x0)), max(0.0, float(y0))
        x1, y1 = min(float(width), float(x1)), min(float(height), float(y1))
        if x1 <= x0 or y1 <= y0:
            continue
        faces.append(Face(bbox=(x0, y0, x1 - x0, y1 - y0), landmarks=points, score=score))
    faces.sort(key=lambda face: face.score, reverse=True)
    return faces


RawDetections = tuple[Sequence[Sequence[float]], Sequence[np.ndarray], Sequence[float]]


class DetectorRecognizerEngine(FaceEngine):
    """An engine made of a detector model and a recognition model, as both shipped ones are.

    Subclasses call ``_configure`` from their constructor and implement ``_run_detector``
    (raw corners, landmarks and scores) and ``_run_recognizer`` (raw features); this class
    checks the input, clips and sorts the faces, batches and L2-normalises the embeddings.
    Detectors keep state between calls, so ``_run_detector`` holds ``_detector_lock``
    around the model call; recognition sessions are safe to share between threads.
    """

    detect_width: int
    detection_score: float

    def _configure(self, *, detect_width: int, detection_score: float, ort_threads: int) -> None:
        """Check and keep the settings every engine takes; raise on a bad one at start-up."""
        if detect_width < 32:
            raise EngineConfigurationError(f"detect_width must be at least 32, got {detect_width}")
        if not 0.0 < detection_score < 1.0:
            raise EngineConfigurationError(
                f"detection_score must be between 0 and 1, got {detection_score}"
            )
        if ort_threads < 0:
            raise EngineConfigurationError(f"ort_threads must be 0 or more, got {ort_threads}")
        self.detect_width = int(detect_width)
        self.detection_score = float(detection_score)
        self._detector_lock = threading.Lock()

    @abstractmethod
    def _run_detector(self, image_bgr: np.ndarray, max_width: int) -> RawDetections:
        """``(corners, landmarks, scores)`` of the faces in ``image_bgr``, in its pixels:
        ``(x0, y0, x1, y1)`` per face, ``(5, 2)`` landmarks per face, one score per face."""

    @abstractmethod
    def _run_recognizer(self, image_bgr: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """Raw (not yet normalised) features of ``faces``, one row per face."""

    def detect(self, image_bgr: np.ndarray, max_width: int | None = None) -> list[Face]:
        """Validate the image, run the detector, and keep the faces inside the frame."""
        check_image(image_bgr)
        corners, landmarks, scores = self._run_detector(image_bgr, max_width or self.detect_width)
        return faces_within(image_bgr.shape, corners, landmarks, scores)

    def embed(self, image_bgr: np.ndarray, face: Face) -> np.ndarray:
        """One face's normalised embedding, through the batch path."""
        return self.embed_many(image_bgr, [face])[0]

    def embed_many(self, image_bgr: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """Normalised embeddings of ``faces``, one row each, in one recognizer call."""
        check_image(image_bgr)
        if not faces:
            return np.empty((0, self.dim), dtype=np.float32)
        features = np.asarray(self._run_recognizer(image_bgr, faces))
        return l2_normalise(features.reshape(len(faces), -1))
