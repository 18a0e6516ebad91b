"""Choosing and sharing the engine: settings parsing, the factory and the process singleton.

A typo in ``FACE_ENGINE`` or a non-number in a numeric setting must stop start-up with a
message naming the setting, and every thread of a process must share one engine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import faces.engine as engine_module
from faces.engine import (
    EngineConfigurationError,
    EngineSettings,
    FaceEngine,
    build_engine,
    get_engine,
    read_settings,
    reset_engine,
)
from faces.engine.sface import SFaceEngine


def test_defaults():
    settings = EngineSettings.from_mapping({})
    assert settings == EngineSettings(
        name="sface", model_dir=None, ort_threads=1, detect_width=640, detection_score=0.7
    )


def test_values_are_parsed_from_strings_and_blanks_ignored():
    settings = EngineSettings.from_mapping(
        {
            "FACE_ENGINE": " InsightFace ",
            "FACE_MODEL_DIR": "/models/buffalo_l",
            "FACE_ORT_THREADS": "2",
            "FACE_DETECT_WIDTH": "",
            "FACE_DETECTION_SCORE": 0.6,
        }
    )
    assert settings.name == "insightface"
    assert settings.model_dir == "/models/buffalo_l"
    assert settings.ort_threads == 2 and settings.detect_width == 640
    assert settings.detection_score == 0.6


@pytest.mark.parametrize(
    ("key", "value"), [("FACE_ORT_THREADS", "two"), ("FACE_DETECTION_SCORE", "high")]
)
def test_bad_numbers_name_the_setting(key, value):
    with pytest.raises(EngineConfigurationError, match=key):
        EngineSettings.from_mapping({key: value})


def test_unknown_engine_is_refused():
    with pytest.raises(EngineConfigurationError, match="FACE_ENGINE"):
        build_engine("dlib")
    with pytest.raises(EngineConfigurationError):
        EngineSettings(name="facenet").build()


def test_build_engine_passes_options():
    engine = build_engine("sface", detect_width=320, detection_score=0.8)
    assert isinstance(engine, SFaceEngine)
    assert engine.detect_width == 320 and engine.detection_score == 0.8


def test_environment_is_read_outside_django():
    """Django is configured in the test process, so this runs in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(FACE_DETECT_WIDTH="480", FACE_ENGINE="sface")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from faces.engine import read_settings as r; print(r().detect_width)",
        ],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "480"


def test_get_engine_builds_once_for_all_threads(monkeypatch):
    built = []
    gate = threading.Barrier(8)

    class Settings(EngineSettings):
        def build(self) -> FaceEngine:
            engine = SFaceEngine()
            built.append(engine)
            return engine

    monkeypatch.setattr(engine_module, "read_settings", lambda: Settings())
    reset_engine()
    seen = []

    def worker() -> None:
        gate.wait()
        seen.append(get_engine())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert len(built) == 1
        assert all(engine is built[0] for engine in seen) and len(seen) == 8
        assert get_engine() is built[0]
        reset_engine()
        assert get_engine() is not built[0]
    finally:
        reset_engine()


def test_django_settings_are_read_when_configured():
    from django.test import override_settings

    with override_settings(FACE_DETECT_WIDTH=480, FACE_ENGINE="sface"):
        assert read_settings().detect_width == 480


def test_default_engine_does_not_import_insightface():
    code = (
        "import sys\n"
        "import faces.engine as fe\n"
        "assert 'onnxruntime' not in sys.modules, 'package import loaded onnxruntime'\n"
        "fe.build_engine('sface')\n"
        "assert 'insightface' not in sys.modules, 'sface engine imported insightface'\n"
    )
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
