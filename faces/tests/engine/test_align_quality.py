"""Alignment against insightface's reference, and the quality measures on synthetic input.

Alignment must match ``norm_crop`` because both recognisers were trained on its crops; the
quality measures are checked for the direction of their response (blurrier is lower, a
turned head reads larger), which is what enrolment thresholds depend on.
"""

from __future__ import annotations

import json
import warnings

import cv2
import numpy as np
import pytest

from faces.engine import Face, FaceEngineError
from faces.engine.align import ARCFACE_TEMPLATE, align_face, similarity_transform
from faces.engine.quality import (
    QualityReport,
    assess_quality,
    inter_eye_distance,
    laplacian_variance,
    yaw_degrees,
)


def mirrored(landmarks: np.ndarray, width: float) -> np.ndarray:
    """Landmarks of the horizontally flipped image, relabelled so right stays right."""
    flipped = np.c_[width - landmarks[:, 0], landmarks[:, 1]]
    return flipped[[1, 0, 2, 4, 3]]


def test_alignment_matches_insightface_norm_crop(t1, engine):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from insightface.utils import face_align

        for face in engine.detect(t1):
            reference = face_align.norm_crop(t1, face.landmarks)
            ours = align_face(t1, face.landmarks)
            assert ours.shape == reference.shape == (112, 112, 3)
            difference = np.abs(ours.astype(int) - reference.astype(int))
            assert difference.mean() < 0.5 and np.percentile(difference, 99) <= 3


def test_similarity_transform_recovers_a_known_pose():
    angle = np.deg2rad(20)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = (ARCFACE_TEMPLATE - 56) @ rotation.T * 2.5 + [300, 200]

    matrix = similarity_transform(landmarks)
    mapped = landmarks @ matrix[:, :2].T + matrix[:, 2]

    assert np.allclose(mapped, ARCFACE_TEMPLATE, atol=1e-3)
    assert np.allclose(similarity_transform(landmarks, 224)[:, 2] / 2, matrix[:, 2], atol=1e-2)


def test_degenerate_landmarks_cannot_be_aligned():
    with pytest.raises(FaceEngineError):
        similarity_transform(np.full((5, 2), 10.0))


def test_inter_eye_distance():
    assert inter_eye_distance(ARCFACE_TEMPLATE) == pytest.approx(35.24, abs=0.01)


def test_blur_measure_drops_with_blur_and_ignores_crop_size():
    texture = np.random.default_rng(7).integers(0, 255, (112, 112, 3), dtype=np.uint8)
    sharp = laplacian_variance(texture)
    slightly = laplacian_variance(cv2.GaussianBlur(texture, (0, 0), 1.0))
    heavily = laplacian_variance(cv2.GaussianBlur(texture, (0, 0), 3.0))
    assert sharp > slightly > heavily > 0

    bigger = cv2.resize(texture, (448, 448), interpolation=cv2.INTER_NEAREST)
    assert laplacian_variance(bigger) == pytest.approx(sharp, rel=0.01)


def test_blur_measure_on_a_real_face(t1, engine):
    face = engine.detect(t1)[0]
    crop = align_face(t1, face.landmarks)
    assert laplacian_variance(crop) > 3 * laplacian_variance(cv2.GaussianBlur(crop, (0, 0), 2))


def test_frontal_yaw_is_near_zero_and_stays_so_when_flipped():
    assert abs(yaw_degrees(ARCFACE_TEMPLATE)) < 2
    assert abs(yaw_degrees(mirrored(ARCFACE_TEMPLATE, 112))) < 2


def test_shifted_nose_reads_as_turned_head():
    turned_left = ARCFACE_TEMPLATE.copy()
    turned_left[2, 0] += 10
    turned_right = ARCFACE_TEMPLATE.copy()
    turned_right[2, 0] -= 10
    far = ARCFACE_TEMPLATE.copy()
    far[2, 0] += 20

    assert yaw_degrees(turned_left) > 20
    assert yaw_degrees(turned_right) < -20
    assert yaw_degrees(far) > yaw_degrees(turned_left)
    assert yaw_degrees(mirrored(turned_left, 112)) == pytest.approx(-yaw_degrees(turned_left))


def test_yaw_ignores_head_roll():
    angle = np.deg2rad(25)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    turned = ARCFACE_TEMPLATE.copy()
    turned[2, 0] += 10
    assert yaw_degrees(turned @ rotation.T) == pytest.approx(yaw_degrees(turned), abs=0.01)


def test_real_frontal_face_yaw_is_small_and_mirrors(hanks, engine):
    face = engine.detect(hanks)[0]
    flipped = engine.detect(hanks[:, ::-1].copy())[0]
    assert abs(yaw_degrees(face.landmarks)) < 15
    assert abs(yaw_degrees(flipped.landmarks)) < 15


def test_quality_report(t1, engine):
    face = engine.detect(t1)[0]
    report = assess_quality(t1, face)

    assert isinstance(report, QualityReport)
    assert report.face_width == face.width and report.det_score == face.score
    assert report.inter_eye_px > 20 and report.blur > 0 and -90 <= report.yaw_deg <= 90
    data = report.as_dict()
    assert set(data) == {
        "face_width",
        "face_height",
        "inter_eye_px",
        "det_score",
        "blur",
        "yaw_deg",
    }
    assert json.loads(json.dumps(data)) == data


def test_face_is_immutable_and_serialisable():
    face = Face(bbox=(1, 2, 3, 4), landmarks=ARCFACE_TEMPLATE, score=0.9)
    assert face.landmarks.dtype == np.float32 and face.area == 12
    with pytest.raises(ValueError):
        face.landmarks[0, 0] = 0
    assert json.loads(json.dumps(face.as_dict()))["bbox"] == [1, 2, 3, 4]
