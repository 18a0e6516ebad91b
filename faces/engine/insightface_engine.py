"""Opt-in engine: SCRFD detection and ArcFace recognition from an insightface pack on disk.

ArcFace (buffalo_l and the like) separates look-alikes better than SFace, but insightface
says its packs are for non-commercial research only, so Presence never ships or fetches
them: an operator copies a pack into a folder and points ``FACE_MODEL_DIR`` at it. Each
``.onnx`` file there is loaded by path with ``insightface.model_zoo.get_model``, which routes
files by their input and output shapes; given a path (not a pack name) and no ``download``
flag it reads no manifest, checks no signature and touches no network. insightface is
imported only here, lazily, because it drags in scipy and scikit-image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .align import align_face
from .base import (
    DEFAULT_DETECT_WIDTH,
    DEFAULT_DETECTION_SCORE,
    DetectorRecognizerEngine,
    EngineConfigurationError,
    Face,
    RawDetections,
    session_options,
)

LICENCE_NOTE = "insightface model packs are licensed for non-commercial research only"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


class InsightFaceEngine(DetectorRecognizerEngine):
    """SCRFD + ArcFace loaded from ``model_dir``; never downloads anything.

    ``detect_width`` is the side of the square SCRFD input (multiple of 32), the
    counterpart of the SFace engine's detection width. Crops are aligned by
    ``faces.engine.align``, the same transform as insightface's ``norm_crop`` without the
    scikit-image deprecation warning that ``norm_crop`` logs on every call. Thread-safe:
    SCRFD keeps caches, so detection runs under a lock; the recognition session is shared.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        detect_width: int = DEFAULT_DETECT_WIDTH,
        detection_score: float = DEFAULT_DETECTION_SCORE,
        nms_threshold: float = 0.4,
        ort_threads: int = 1,
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:
        if not model_dir:
            raise EngineConfigurationError(
                "The 'insightface' face engine needs FACE_MODEL_DIR: a folder holding an "
                f"insightface pack such as buffalo_l ({LICENCE_NOTE}). Nothing is downloaded."
            )
        if detect_width < 32 or detect_width % 32:
            raise EngineConfigurationError(
                f"detect_width must be a multiple of 32 for SCRFD, got {detect_width}"
            )
        self._configure(
            detect_width=detect_width, detection_score=detection_score, ort_threads=ort_threads
        )
        folder = Path(model_dir).expanduser()
        if not folder.is_dir():
            raise EngineConfigurationError(
                f"insightface model directory {folder} does not exist. Copy an insightface "
                f"pack such as buffalo_l there ({LICENCE_NOTE}); nothing is downloaded."
            )
        files = sorted(folder.glob("*.onnx"))
        if not files:
            raise EngineConfigurationError(
                f"insightface model directory {folder} has no .onnx files."
            )

        routed = self._route(files, providers, ort_threads)
        detector_path, self._detector = self._pick(routed, "detection", folder)
        recognizer_path, self._recognizer = self._pick(routed, "recognition", folder)
        if not self._detector.use_kps:
            raise EngineConfigurationError(
                f"{detector_path} gives no facial landmarks; alignment needs a SCRFD model "
                "with keypoints (for example det_10g.onnx)."
            )

        self.model_dir = folder
        self.detector_file = detector_path
        self.recognizer_file = recognizer_path
        self._detector.prepare(
            0,
            det_thresh=self.detection_score,
            nms_thresh=nms_threshold,
            input_size=(self.detect_width, self.detect_width),
        )
        self.dim = int(self._recognizer.output_shape[-1])
        self._crop_size = int(self._recognizer.input_size[0])
        self._batched = not isinstance(self._recognizer.input_shape[0], int)
        self.model_key = f"insightface-{recognizer_path.stem}-{_file_sha256(recognizer_path)[:12]}"

    @staticmethod
    def _route(
        files: Sequence[Path], providers: Sequence[str], ort_threads: int
    ) -> dict[str, list[tuple[Path, object]]]:
        try:
            from insightface.model_zoo import get_model
        except ImportError as exc:
            raise EngineConfigurationError(
                f"The 'insightface' face engine needs the insightface package: {exc}"
            ) from exc
        routed: dict[str, list[tuple[Path, object]]] = {}
        for path in files:
            try:
                model = get_model(
                    str(path),
                    providers=list(providers),
                    sess_options=session_options(ort_threads),
                    static_shape_sessions=False,
                )
            except Exception as exc:
                raise EngineConfigurationError(f"Cannot load face model {path}: {exc}") from exc
            if model is not None:
                routed.setdefault(model.taskname, []).append((path, model))
        return routed

    @staticmethod
    def _pick(
        routed: dict[str, list[tuple[Path, object]]], task: str, folder: Path
    ) -> tuple[Path, object]:
        candidates = routed.get(task, [])
        if not candidates:
            raise EngineConfigurationError(
                f"insightface model directory {folder} has no {task} model "
                f"(found: {', '.join(sorted(routed)) or 'nothing usable'})."
            )
        if len(candidates) > 1:
            names = ", ".join(path.name for path, _ in candidates)
            raise EngineConfigurationError(
                f"insightface model directory {folder} has several {task} models ({names}); "
                "keep exactly one."
            )
        return candidates[0]

    def _run_detector(self, image_bgr: np.ndarray, max_width: int) -> RawDetections:
        with self._detector_lock:
            boxes, points = self._detector.detect(image_bgr, input_size=(max_width, max_width))
        return boxes[:, :4], points, boxes[:, 4]

    def _run_recognizer(self, image_bgr: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        crops = [align_face(image_bgr, face.landmarks, self._crop_size) for face in faces]
        if self._batched:
            return self._recognizer.get_feat(crops)
        return np.concatenate([self._recognizer.get_feat(crop) for crop in crops])
