"""Loading and routing an insightface pack, with tiny stand-in models built in the test.

Real packs cannot be shipped (non-commercial licence) or fetched (no network), so these
tests build ONNX files shaped like SCRFD (dynamic input, nine outputs with keypoints) and
ArcFace (112x112 input, 512 outputs), and check that the engine finds, routes and uses them,
never reaches for the network, and explains clearly what is missing.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from faces.engine import EngineConfigurationError, Face, build_engine
from faces.engine.align import ARCFACE_TEMPLATE
from faces.engine.insightface_engine import InsightFaceEngine

OPSET = [helper.make_opsetid("", 17)]


def _save(model: onnx.ModelProto, path: Path) -> Path:
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def scrfd_like(path: Path) -> Path:
    """Input 1x3x?x?, outputs like SCRFD 10g with keypoints: 3 scores, 3 boxes, 3 kps."""
    image = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "?", "?"])
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["mean"], keepdims=1, name="mean"),
        helper.make_node("Reshape", ["mean", "one_by_one"], ["seed"], name="seed"),
    ]
    initializers = [numpy_helper.from_array(np.array([1, 1], np.int64), "one_by_one")]
    outputs = []
    for group, width in (("score", 1), ("bbox", 4), ("kps", 10)):
        for stride in (8, 16, 32):
            name = f"{group}_{stride}"
            shape_name = f"{name}_shape"
            initializers.append(numpy_helper.from_array(np.array([1, width], np.int64), shape_name))
            nodes.append(helper.make_node("Expand", ["seed", shape_name], [name], name=name))
            outputs.append(
                helper.make_tensor_value_info(name, TensorProto.FLOAT, [f"n{stride}", width])
            )
    graph = helper.make_graph(nodes, "scrfd_like", [image], outputs, initializers)
    return _save(helper.make_model(graph, opset_imports=OPSET), path)


def arcface_like(path: Path, batch: int | str = 1) -> Path:
    """Input Nx3x112x112, output Nx512: a colour average times a fixed random matrix."""
    image = helper.make_tensor_value_info("data", TensorProto.FLOAT, [batch, 3, 112, 112])
    feature = helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [batch, 512])
    weights = np.random.default_rng(0).standard_normal((3, 512)).astype(np.float32)
    nodes = [
        helper.make_node("GlobalAveragePool", ["data"], ["pooled"], name="pool"),
        helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "weights"], ["fc1"], name="fc"),
    ]
    graph = helper.make_graph(
        nodes, "arcface_like", [image], [feature], [numpy_helper.from_array(weights, "weights")]
    )
    return _save(helper.make_model(graph, opset_imports=OPSET), path)


def unroutable(path: Path) -> Path:
    """A model that insightface's router does not recognise (50x50 input)."""
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 50, 50])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 50, 50])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "other", [image], [out])
    return _save(helper.make_model(graph, opset_imports=OPSET), path)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the face engine tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    scrfd_like(tmp_path / "det_fake.onnx")
    arcface_like(tmp_path / "w600k_fake.onnx")
    unroutable(tmp_path / "zz_other.onnx")
    return tmp_path


def face_at(x: float, y: float, scale: float = 1.0) -> Face:
    landmarks = ARCFACE_TEMPLATE * scale + [x, y]
    return Face(bbox=(x, y, 112 * scale, 112 * scale), landmarks=landmarks, score=0.9)


def test_loads_and_routes_a_pack_without_network(pack, no_network):
    engine = InsightFaceEngine(pack)

    assert engine.detector_file.name == "det_fake.onnx"
    assert engine.recognizer_file.name == "w600k_fake.onnx"
    assert engine._detector.taskname == "detection" and engine._detector.use_kps
    assert engine._recognizer.taskname == "recognition"
    assert engine.dim == 512
    assert engine.model_key.startswith("insightface-w600k_fake-")
    assert len(engine.model_key.rsplit("-", 1)[1]) == 12


@pytest.mark.parametrize("batch", [1, "N"])
def test_embeddings_from_the_routed_recogniser(tmp_path, batch):
    scrfd_like(tmp_path / "det.onnx")
    arcface_like(tmp_path / "rec.onnx", batch=batch)
    engine = build_engine("insightface", model_dir=tmp_path, ort_threads=1)
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (400, 400, 3), dtype=np.uint8)
    faces = [face_at(10, 10), face_at(200, 150, 1.5), face_at(50, 250)]

    vectors = engine.embed_many(image, faces)

    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[1], engine.embed(image, faces[1]), atol=1e-5)


def test_missing_directory_is_named(tmp_path):
    missing = tmp_path / "buffalo_l"
    with pytest.raises(EngineConfigurationError, match=re.escape(str(missing))):
        InsightFaceEngine(missing)


def test_no_directory_configured():
    with pytest.raises(EngineConfigurationError, match="FACE_MODEL_DIR"):
        build_engine("insightface", model_dir=None)


def test_directory_without_models(tmp_path):
    with pytest.raises(EngineConfigurationError, match=r"no \.onnx"):
        InsightFaceEngine(tmp_path)


def test_directory_without_recognition_model(tmp_path):
    scrfd_like(tmp_path / "det_10g.onnx")
    with pytest.raises(EngineConfigurationError, match="no recognition model"):
        InsightFaceEngine(tmp_path)


def test_directory_without_detection_model(tmp_path):
    arcface_like(tmp_path / "w600k_r50.onnx")
    with pytest.raises(EngineConfigurationError, match="no detection model"):
        InsightFaceEngine(tmp_path)


def test_two_recognition_models_are_ambiguous(pack):
    arcface_like(pack / "glint_fake.onnx")
    with pytest.raises(EngineConfigurationError, match="several recognition models"):
        InsightFaceEngine(pack)


def test_unreadable_model_is_named(pack):
    (pack / "broken.onnx").write_bytes(b"not a model")
    with pytest.raises(EngineConfigurationError, match=r"broken\.onnx"):
        InsightFaceEngine(pack)


def test_detection_size_must_suit_scrfd(pack):
    with pytest.raises(EngineConfigurationError, match="multiple of 32"):
        InsightFaceEngine(pack, detect_width=500)


def test_detection_runs_through_scrfd(pack):
    engine = InsightFaceEngine(pack, detect_width=320)
    assert engine.detect(np.full((240, 320, 3), 127, dtype=np.uint8)) == []
