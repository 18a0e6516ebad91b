"""The default engine on real photos: detection, embedding quality, integrity, threads.

These are the properties the rest of Presence relies on: every face in a group photo is
found in original-image coordinates, the same person stays close under ordinary photo
changes while different people stay apart (the check that SFace gets RGB 0-255 input), a
changed model file stops the engine, and concurrent callers get identical answers.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from faces.engine import EngineConfigurationError, Face
from faces.engine.geometry import iou
from faces.engine.sface import (
    DETECTOR_FILE,
    MODEL_KEY,
    RECOGNIZER_FILE,
    RECOGNIZER_SHA256,
    SFaceEngine,
)


def centres(faces: list[Face]) -> np.ndarray:
    return np.array([[f.bbox[0] + f.bbox[2] / 2, f.bbox[1] + f.bbox[3] / 2] for f in faces])


def match(reference: np.ndarray, found: np.ndarray) -> list[int]:
    """Index in ``found`` of the nearest centre to each ``reference`` centre."""
    return [int(np.argmin(((found - point) ** 2).sum(axis=1))) for point in reference]


@pytest.mark.parametrize("detect_width", [640, 1280])
def test_finds_all_six_faces_in_original_coordinates(t1, engine, detect_width):
    detector = engine if detect_width == 640 else SFaceEngine(detect_width=detect_width)
    faces = detector.detect(t1)

    assert len(faces) == 6
    scores = [f.score for f in faces]
    assert scores == sorted(scores, reverse=True)
    assert min(scores) >= 0.7
    height, width = t1.shape[:2]
    for face in faces:
        x, y, w, h = face.bbox
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height
        assert 80 < w < 160 and 100 < h < 180
        inside = (face.landmarks >= [x - 5, y - 5]) & (face.landmarks <= [x + w + 5, y + h + 5])
        assert inside.all()


def test_boxes_agree_across_detection_widths_and_image_scales(t1, engine):
    at_1280 = SFaceEngine(detect_width=1280).detect(t1)
    at_640 = engine.detect(t1)
    doubled = cv2.resize(t1, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    on_doubled = engine.detect(doubled)

    for faces in (at_640, on_doubled):
        assert len(faces) == 6
    for face, other in zip(
        at_1280, [at_640[i] for i in match(centres(at_1280), centres(at_640))], strict=True
    ):
        assert iou(face.bbox, other.bbox) > 0.8
    for face, other in zip(
        at_640,
        [on_doubled[i] for i in match(centres(at_640) * 2, centres(on_doubled))],
        strict=True,
    ):
        assert np.allclose(np.array(other.bbox) / 2, face.bbox, atol=3)
        assert np.allclose(other.landmarks / 2, face.landmarks, atol=3)


def test_no_face_gives_empty_list(engine):
    assert engine.detect(np.full((480, 640, 3), 127, dtype=np.uint8)) == []


def test_refuses_anything_but_bgr_uint8(engine, t1):
    with pytest.raises(ValueError):
        engine.detect(cv2.cvtColor(t1, cv2.COLOR_BGR2GRAY))
    with pytest.raises(ValueError):
        engine.detect(t1.astype(np.float32))


def test_embeddings_are_unit_float32_and_batching_changes_nothing(t1, engine):
    faces = engine.detect(t1)
    batch = engine.embed_many(t1, faces)
    single = np.stack([engine.embed(t1, face) for face in faces])

    assert engine.dim == 128
    assert batch.shape == (6, engine.dim) and batch.dtype == np.float32
    assert single[0].shape == (engine.dim,) and single.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    assert np.allclose(batch, single, atol=1e-5)
    assert engine.embed_many(t1, []).shape == (0, engine.dim)


def test_model_key_names_the_recognition_model():
    assert MODEL_KEY.startswith("sface-2021dec-int8-")
    assert RECOGNIZER_SHA256[:12] in MODEL_KEY


def _rotation(image: np.ndarray, degrees: float) -> tuple[np.ndarray, Callable]:
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    rotated = cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    inverse = cv2.invertAffineTransform(matrix)
    return rotated, lambda points: points @ inverse[:, :2].T + inverse[:, 2]


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    _ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


VARIANTS: dict[str, Callable[[np.ndarray], tuple[np.ndarray, Callable]]] = {
    "flip": lambda im: (im[:, ::-1].copy(), lambda p: np.c_[im.shape[1] - p[:, 0], p[:, 1]]),
    "half": lambda im: (
        cv2.resize(im, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
        lambda p: p * 2,
    ),
    "double": lambda im: (
        cv2.resize(im, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
        lambda p: p / 2,
    ),
    "brighter": lambda im: (cv2.convertScaleAbs(im, alpha=1.0, beta=40), lambda p: p),
    "darker": lambda im: (cv2.convertScaleAbs(im, alpha=0.6, beta=0), lambda p: p),
    "jpeg_q30": lambda im: (_jpeg(im, 30), lambda p: p),
    "rotate_8": lambda im: _rotation(im, 8),
    "rotate_-8": lambda im: _rotation(im, -8),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_face_is_closest_to_itself_under_photo_changes(t1, engine, variant):
    faces = engine.detect(t1)
    reference = engine.embed_many(t1, faces)
    changed, to_original = VARIANTS[variant](t1)

    found = engine.detect(changed)
    assert len(found) == 6
    order = match(centres(faces), to_original(centres(found)))
    similarity = reference @ engine.embed_many(changed, [found[i] for i in order]).T

    genuine = np.diag(similarity)
    assert (similarity.argmax(axis=1) == np.arange(6)).all(), similarity.round(2)
    assert genuine.min() > 0.5 and np.median(genuine) > 0.8, genuine.round(2)


def test_different_people_score_low(t1, hanks, astronaut, engine):
    group = engine.embed_many(t1, engine.detect(t1))
    cross = group @ group.T
    others = [engine.embed(image, engine.detect(image)[0]) for image in (hanks, astronaut)]

    # Six different people in one photo: with the wrong input scaling these reach 0.97.
    assert cross[~np.eye(6, dtype=bool)].max() < 0.45
    assert np.mean(cross[~np.eye(6, dtype=bool)]) < 0.25
    for other in others:
        assert (group @ other).max() < 0.3
    assert float(others[0] @ others[1]) < 0.3


@pytest.mark.parametrize("name", ["hanks", "astronaut"])
def test_same_person_flipped_or_rescaled_scores_high(request, engine, name):
    image = request.getfixturevalue(name)
    original = engine.embed(image, engine.detect(image)[0])
    for changed in (
        image[:, ::-1].copy(),
        cv2.resize(image, None, fx=1.7, fy=1.7, interpolation=cv2.INTER_CUBIC),
    ):
        assert float(original @ engine.embed(changed, engine.detect(changed)[0])) > 0.6


def _copy_models(source: Path, target: Path) -> None:
    for name in (DETECTOR_FILE, RECOGNIZER_FILE):
        shutil.copyfile(source / name, target / name)


def test_loads_verified_models_from_another_folder(tmp_path, sface_model_dir, t1):
    _copy_models(sface_model_dir, tmp_path)
    assert len(SFaceEngine(model_dir=tmp_path).detect(t1)) == 6


def test_tampered_model_is_refused(tmp_path, sface_model_dir):
    _copy_models(sface_model_dir, tmp_path)
    model = tmp_path / RECOGNIZER_FILE
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))

    with pytest.raises(EngineConfigurationError, match="SHA-256"):
        SFaceEngine(model_dir=tmp_path)


def test_missing_model_is_refused(tmp_path, sface_model_dir):
    shutil.copyfile(sface_model_dir / DETECTOR_FILE, tmp_path / DETECTOR_FILE)
    with pytest.raises(EngineConfigurationError, match=re.escape(RECOGNIZER_FILE)):
        SFaceEngine(model_dir=tmp_path)


def test_bad_options_are_refused():
    with pytest.raises(EngineConfigurationError):
        SFaceEngine(detection_score=1.5)
    with pytest.raises(EngineConfigurationError):
        SFaceEngine(detect_width=0)


def test_concurrent_callers_get_identical_results(t1, engine):
    # Alternating image sizes makes each call resize the shared YuNet detector.
    images = [t1, cv2.resize(t1, (640, 443), interpolation=cv2.INTER_AREA)]
    expected = []
    for image in images:
        faces = engine.detect(image)
        expected.append(([f.bbox for f in faces], engine.embed_many(image, faces)))
    results: list[list] = [[] for _ in range(4)]
    errors: list[Exception] = []

    def worker(slot: int) -> None:
        try:
            for round_ in range(6):
                image = images[(slot + round_) % 2]
                faces = engine.detect(image)
                results[slot].append(
                    ((slot + round_) % 2, [f.bbox for f in faces], engine.embed_many(image, faces))
                )
        except Exception as exc:  # noqa: BLE001 - reported to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    for slot_results in results:
        assert len(slot_results) == 6
        for which, boxes, vectors in slot_results:
            assert boxes == expected[which][0]
            assert np.allclose(vectors, expected[which][1], atol=1e-5)
