"""Event rules of the frame processor, on a scripted engine: one visit, few events."""

from __future__ import annotations

import numpy as np
import pytest

from detections.pipeline import EventKind, FrameProcessor, PipelineConfig
from detections.pipeline.processor import crop_with_margin, downscale_frame
from detections.tests.pipeline_fixtures import (
    FakeEngine,
    IndexGallery,
    make_face,
    probe,
    textured_background,
)
from faces.gallery import MatchStatus

FRAME = textured_background(1280, 720)
STEP = 0.5


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def processor(engine: FakeEngine) -> FrameProcessor:
    gallery = IndexGallery([1, 2, 3, 4], np.eye(4, 8, dtype=np.float32))
    return FrameProcessor(engine, gallery, PipelineConfig(), clock=lambda: 1000.0)


def feed(processor: FrameProcessor, engine: FakeEngine, frames, start: float = 0.0):
    events = []
    for i, faces in enumerate(frames):
        engine.script(faces)
        events += processor.process(FRAME, start + i * STEP)
    return events


def kinds(events) -> list[str]:
    return [event.kind for event in events]


def test_person_standing_still_is_one_confirmed_and_one_ended(processor, engine) -> None:
    frames = [[(make_face(640, 360, 140), probe(1, 0.8))] for _ in range(40)]
    events = feed(processor, engine, frames)
    assert kinds(events) == [EventKind.CONFIRMED]
    assert events[0].status == MatchStatus.RECOGNIZED and events[0].person_id == 1
    assert engine.embedded == 2  # min_votes views, then nothing better to look at
    ended = processor.flush(100.0)
    assert kinds(ended) == [EventKind.ENDED]
    assert ended[0].track_id == events[0].track_id
    assert ended[0].person_id == 1 and ended[0].captured_at == 100.0
    assert ended[0].first_seen == 0.0 and ended[0].last_seen == 19.5
    assert processor.flush(101.0) == []


def test_one_frame_false_detection_emits_nothing(processor, engine) -> None:
    events = feed(processor, engine, [[(make_face(300, 300), probe(2, 0.9))], [], [], []])
    assert events == []
    assert processor.flush() == []


def test_uncertain_then_recognized_emits_one_update(processor, engine) -> None:
    blurry_lookalike = [(make_face(640, 360, 90, score=0.75), probe(3, 0.45))]
    clear = [(make_face(640, 360, 160), probe(3, 0.9))]
    events = feed(processor, engine, [blurry_lookalike] * 2 + [clear] * 10)
    assert kinds(events) == [EventKind.CONFIRMED, EventKind.UPDATED]
    confirmed, updated = events
    assert confirmed.status == MatchStatus.UNCERTAIN
    assert confirmed.person_id is None and confirmed.candidate_person_id == 3
    assert updated.status == MatchStatus.RECOGNIZED and updated.person_id == 3
    assert updated.bbox == clear[0][0].bbox  # the better view replaced the first one
    assert updated.observed_at > confirmed.observed_at


def test_stranger_is_unknown_and_embedding_budget_is_kept(processor, engine) -> None:
    stranger = np.zeros(8, dtype=np.float32)
    stranger[6] = 1.0
    frames = [[(make_face(500 + 5 * i, 360, 120), stranger)] for i in range(30)]
    events = feed(processor, engine, frames)
    assert kinds(events) == [EventKind.CONFIRMED]
    assert events[0].status == MatchStatus.UNKNOWN
    assert events[0].person_id is None and events[0].candidate_person_id is None
    assert engine.embedded == PipelineConfig().max_embeds_per_track
    assert events[0].embedding is not None and events[0].embedding.dtype == np.float32


def test_two_people_two_tracks_and_gap_ends_the_first(processor, engine) -> None:
    a = [(make_face(300, 360, 120), probe(1, 0.85))]
    b = [(make_face(900, 360, 120), probe(2, 0.85))]
    events = feed(processor, engine, [a + b] * 4)
    confirmed = [event for event in events if event.kind == EventKind.CONFIRMED]
    assert sorted(event.person_id for event in confirmed) == [1, 2]
    assert len({event.track_id for event in confirmed}) == 2
    # Person 2 stays, person 1 is gone for more than max_missed_seconds.
    later = feed(processor, engine, [b] * 8, start=2.0)
    ended = [event for event in later if event.kind == EventKind.ENDED]
    assert [event.person_id for event in ended] == [1]
    assert EventKind.CONFIRMED not in kinds(later)


def test_event_payload(processor, engine) -> None:
    frames = [[(make_face(640, 360, 140), probe(4, 0.9))] for _ in range(2)]
    (event,) = feed(processor, engine, frames)
    assert event.model_key == "fake-model"
    assert event.frame.shape == (360, 640, 3) and event.frame_scale == 0.5
    assert event.face_crop.shape[:2] == (262, 210)  # 140x175 box, 25 % margin each side
    assert set(event.quality) >= {"face_width", "det_score", "blur", "yaw_deg", "weight"}
    assert event.votes == 2 and event.observations == 2
    assert event.captured_at == 0.5 and event.observed_at in (0.0, 0.5)
    timings = processor.last_timings
    assert timings.faces == 1 and timings.kept == 1 and timings.embedded == 1
    assert timings.total_ms >= timings.detect_ms + timings.embed_ms + timings.match_ms


def test_frame_is_copied_not_referenced(processor, engine) -> None:
    frame = FRAME.copy()
    for i in range(2):
        engine.script([(make_face(640, 360, 140), probe(1, 0.9))])
        events = processor.process(frame, i * STEP)
    frame[:] = 0
    assert events[0].face_crop.any() and events[0].frame.any()


def test_crop_and_downscale_helpers() -> None:
    image = np.arange(100 * 200 * 3, dtype=np.uint8).reshape(100, 200, 3)
    assert crop_with_margin(image, (-20.0, 90.0, 40.0, 40.0), 0.25).shape == (20, 30, 3)
    small, scale = downscale_frame(image, 100)
    assert small.shape == (50, 100, 3) and scale == 0.5
    same, scale = downscale_frame(image, 640)
    assert same.shape == image.shape and scale == 1.0 and same is not image


def test_next_person_in_the_same_spot_gets_their_own_detection(processor, engine) -> None:
    spot = (640, 360, 140)
    first = feed(processor, engine, [[(make_face(*spot), probe(1, 0.85))]] * 4)
    # Person 1 walks off; 1.5 s later person 2 stands where they stood.
    second = feed(
        processor, engine, [[(make_face(*spot), probe(2, 0.85, noise_axis=6))]] * 4, start=3.0
    )
    ended = processor.flush(10.0)
    confirmed = [event for event in first + second if event.kind == EventKind.CONFIRMED]
    assert [event.person_id for event in confirmed] == [1, 2]
    assert EventKind.UPDATED not in kinds(first + second)
    assert sorted(event.person_id for event in ended) == [1, 2]
