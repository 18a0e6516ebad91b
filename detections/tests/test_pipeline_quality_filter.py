"""Quality filter tests: face size, blur on a real photo, region of interest."""

from __future__ import annotations

import cv2
import pytest

from detections.pipeline import PipelineConfig, RejectReason, filter_faces
from detections.pipeline.quality_filter import point_in_polygon
from detections.tests.pipeline_fixtures import make_face, t1_gallery, textured_background
from faces.testing import t1

BACKGROUND = textured_background(640, 480)


def test_small_faces_are_rejected_by_their_shorter_side() -> None:
    config = PipelineConfig(min_face_px=60)
    big, small = make_face(200, 200, size=80), make_face(450, 200, size=50)
    kept, rejected = filter_faces([big, small], BACKGROUND, config)
    assert [item.face for item in kept] == [big]
    assert kept[0].quality.face_width == 80
    assert [(item.face, item.reason) for item in rejected] == [(small, RejectReason.TOO_SMALL)]
    assert rejected[0].value == 50


def test_blurred_photo_is_rejected_and_sharp_one_kept() -> None:
    _gallery, faces = t1_gallery()  # the six faces of t1 at 1x, ~95-120 px wide
    config = PipelineConfig(min_blur=25)
    kept, rejected = filter_faces(faces, t1(), config)
    assert len(kept) == 6 and rejected == []
    assert min(item.quality.blur for item in kept) > 100

    blurred = cv2.GaussianBlur(t1(), (0, 0), 3)
    kept, rejected = filter_faces(faces, blurred, config)
    assert kept == []
    assert {item.reason for item in rejected} == {RejectReason.BLURRY}
    assert max(item.value for item in rejected) < 25


def test_roi_polygon_in_relative_coordinates() -> None:
    # A triangle covering the left half's lower part of a 640x480 frame.
    config = PipelineConfig(roi=[(0.0, 1.0), (0.5, 0.2), (0.5, 1.0)])
    assert config.roi == ((0.0, 1.0), (0.5, 0.2), (0.5, 1.0))
    inside = make_face(280, 360, size=80)  # centre at (0.44, 0.75)
    outside_right = make_face(480, 360, size=80)
    outside_corner = make_face(60, 150, size=80)  # (0.09, 0.31): above the hypotenuse
    kept, rejected = filter_faces([inside, outside_right, outside_corner], BACKGROUND, config)
    assert [item.face for item in kept] == [inside]
    assert [item.reason for item in rejected] == [RejectReason.OUTSIDE_ROI] * 2


def test_roi_uses_the_given_frame_size() -> None:
    config = PipelineConfig(roi=[(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)])
    face = make_face(400, 240, size=80)
    assert filter_faces([face], BACKGROUND, config)[0]
    assert not filter_faces([face], BACKGROUND, config, frame_size=(1280, 480))[0]


def test_point_in_polygon_concave() -> None:
    u_shape = [(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)]
    assert point_in_polygon(0.5, 2.0, u_shape)
    assert not point_in_polygon(1.5, 2.0, u_shape)
    assert point_in_polygon(1.5, 0.5, u_shape)


def test_invalid_roi_is_refused() -> None:
    with pytest.raises(ValueError):
        PipelineConfig(roi=[(0, 0), (1, 1)])
    with pytest.raises(ValueError):
        PipelineConfig(roi=[(0, 0), (2, 0), (0, 1)])
