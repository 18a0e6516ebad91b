"""Face crops of a two-stream camera, cut from its main stream (``pipeline.detail``).

On the real engine: t1 at half size stands for the sub-stream and t1 at twice its size for
the main stream (people 1..6 are enrolled from t1 at 2x, as in the other pipeline tests).
A main frame that shows the scene at another moment (the people moved, or gone) must never
be cut where the sub-stream's boxes say.
"""

from __future__ import annotations

import numpy as np

from detections.pipeline import FrameProcessor, PipelineConfig
from detections.pipeline.detail import locate
from detections.tests.pipeline_fixtures import THRESHOLDS, real_engine, t1_gallery
from faces.engine.geometry import iou
from faces.testing import scaled, t1

SUB = scaled(t1(), 0.5)
MAIN = scaled(t1(), 2.0)


def by_x(faces):
    return sorted(faces, key=lambda face: face.bbox[0])


def test_each_face_is_found_again_in_the_main_frame():
    engine = real_engine()
    faces = by_x(engine.detect(SUB))
    direct = by_x(engine.detect(MAIN))
    assert len(faces) == len(direct) == 6

    located = [locate(engine, face, SUB.shape, MAIN) for face in faces]

    assert all(face is not None for face in located)
    assert all(iou(a.bbox, b.bbox) > 0.7 for a, b in zip(located, direct, strict=True))


def test_a_main_frame_of_another_moment_is_not_cut_where_the_sub_stream_says():
    engine = real_engine()
    faces = engine.detect(SUB)
    widest = int(max(face.width for face in faces) * 4)  # in MAIN's pixels
    # Everyone moved by 0.7 of a face: their boxes overlap the expected ones by under 0.2.
    moved = np.roll(MAIN, shift=round(widest * 0.7), axis=1)
    gone = np.full_like(MAIN, 128)

    for main in (moved, gone):
        assert [locate(engine, face, SUB.shape, main) for face in faces] == [None] * len(faces)


def test_the_processor_cuts_crops_from_the_main_stream_and_still_recognises():
    gallery, _faces = t1_gallery()
    config = PipelineConfig(thresholds=THRESHOLDS, confirm_hits=2, min_votes=2, min_face_px=32)
    with_main = FrameProcessor(real_engine(), gallery, config)
    sub_only = FrameProcessor(real_engine(), gallery, config)
    events_main, events_sub, located = [], [], 0
    for step in range(4):
        events_main += with_main.process(SUB, step * 0.5, MAIN)
        events_sub += sub_only.process(SUB, step * 0.5)
        located += with_main.last_timings.located
        assert sub_only.last_timings.located == 0
    events_main += with_main.flush(3.0)
    events_sub += sub_only.flush(3.0)

    final_main = list({e.track_id: e for e in events_main}.values())
    final_sub = list({e.track_id: e for e in events_sub}.values())
    assert located >= 6
    # The same verdicts, boxes in the analysed stream's pixels, crops four times as wide.
    assert sorted((e.status, e.person_id) for e in final_main) == sorted(
        (e.status, e.person_id) for e in final_sub
    )
    assert sorted(e.person_id for e in final_main) == [1, 2, 3, 4, 5, 6]
    assert [e.bbox for e in by_track(final_main)] == [e.bbox for e in by_track(final_sub)]
    crop_main = np.median([e.face_crop.shape[1] for e in final_main])
    crop_sub = np.median([e.face_crop.shape[1] for e in final_sub])
    assert 3.5 * crop_sub < crop_main < 4.5 * crop_sub


def by_track(events):
    return sorted(events, key=lambda event: event.bbox[0])


def test_a_track_seen_before_the_main_stream_had_a_frame_takes_a_sharper_view_later():
    gallery, _faces = t1_gallery()
    config = PipelineConfig(thresholds=THRESHOLDS, confirm_hits=2, min_votes=2, min_face_px=32)
    processor = FrameProcessor(real_engine(), gallery, config)
    events = []
    for step in range(3):  # the main stream decodes key frames alone: none close enough
        events += processor.process(SUB, step * 0.5)
    confirmed = [e for e in events if e.kind == "confirmed"]
    assert len(confirmed) == 6 and not any(e.crop_from_main_stream for e in confirmed)
    for step in range(3, 5):  # now decoded in full
        events += processor.process(SUB, step * 0.5, MAIN)
    ended = processor.flush(3.0)

    assert len(ended) == 6 and all(e.crop_from_main_stream for e in ended)
    assert sorted(e.person_id for e in ended) == [1, 2, 3, 4, 5, 6]
    before = {e.track_id: e.face_crop.shape[0] for e in confirmed}
    assert all(3.5 * before[e.track_id] < e.face_crop.shape[0] for e in ended)
