"""The whole pipeline on the real engine: faces walking across and standing in a scene.

People 1..6 are enrolled from t1 at twice its size; the probes are cut from t1's brighter
variant at 1x and pasted onto a textured background, so enrolment and probe differ in
scale, brightness and surroundings. The stranger is scikit-image's astronaut.
"""

from __future__ import annotations

from detections.pipeline import EventKind, FrameProcessor, PipelineConfig
from detections.tests.pipeline_fixtures import (
    THRESHOLDS,
    paste,
    real_engine,
    stranger_patch,
    t1_gallery,
    t1_person_patch,
    textured_background,
)
from faces.gallery import MatchStatus

BACKGROUND = textured_background(1280, 720)
STEP = 0.5  # 2 fps


def make_processor() -> FrameProcessor:
    gallery, _faces = t1_gallery()
    return FrameProcessor(real_engine(), gallery, PipelineConfig(thresholds=THRESHOLDS))


def test_walkers_are_one_detection_each_and_the_stranger_is_never_named() -> None:
    processor = make_processor()
    person, stranger = t1_person_patch(3), stranger_patch()
    events = []
    # Person 3 walks left to right, 150 px (more than a face width) per frame.
    for i in range(8):
        frame = paste(BACKGROUND, person, 20 + 150 * i, 200)
        events += [(1, event) for event in processor.process(frame, i * STEP)]
        if i == 0:
            assert processor.last_timings.faces == 1
    # 4.5 s later the stranger walks right to left.
    for i in range(6):
        frame = paste(BACKGROUND, stranger, 1060 - 150 * i, 260)
        events += [(2, event) for event in processor.process(frame, 8.0 + i * STEP)]
    events += [(2, event) for event in processor.flush(12.0)]

    confirmed = [(who, event) for who, event in events if event.kind == EventKind.CONFIRMED]
    assert [who for who, _event in confirmed] == [1, 2]
    by_who = {who: [event for w, event in events if w == who] for who in (1, 2)}
    walker_track = confirmed[0][1].track_id
    assert {event.track_id for event in by_who[1]} == {walker_track}

    walker_final = [event for event in events if event[1].track_id == walker_track][-1][1]
    assert walker_final.kind == EventKind.ENDED
    assert walker_final.status == MatchStatus.RECOGNIZED and walker_final.person_id == 3
    assert walker_final.votes >= 2 and walker_final.score >= THRESHOLDS.match
    assert walker_final.last_seen == 3.5

    stranger_events = [event for event in events if event[1].track_id != walker_track]
    assert stranger_events and all(e.person_id is None for _w, e in stranger_events)
    assert stranger_events[-1][1].kind == EventKind.ENDED
    assert stranger_events[-1][1].status == MatchStatus.UNKNOWN
    assert stranger_events[-1][1].embedding.shape == (real_engine().dim,)


def test_person_standing_for_thirty_seconds_is_one_detection() -> None:
    processor = make_processor()
    person = t1_person_patch(5)
    events = []
    embedded = 0
    for i in range(60):
        frame = paste(BACKGROUND, person, 500 + (i % 3), 150 + (i % 2))
        events += processor.process(frame, i * STEP)
        embedded += processor.last_timings.embedded
    events += processor.flush(30.0)

    assert [event.kind for event in events].count(EventKind.CONFIRMED) == 1
    assert [event.kind for event in events].count(EventKind.UPDATED) <= 1
    assert [event.kind for event in events].count(EventKind.ENDED) == 1
    assert len({event.track_id for event in events}) == 1
    assert events[-1].status == MatchStatus.RECOGNIZED and events[-1].person_id == 5
    assert embedded <= PipelineConfig().max_embeds_per_track
    timings = processor.last_timings
    assert 0 < timings.detect_ms <= timings.total_ms


def test_next_person_stepping_into_the_same_spot_is_not_merged() -> None:
    processor = make_processor()
    first, second = t1_person_patch(3), t1_person_patch(5)
    events = []
    for i in range(3):
        events += processor.process(paste(BACKGROUND, first, 500, 150), i * STEP)
    for i in range(3):  # 1.5 s after person 3 was last seen, within max_missed_seconds
        events += processor.process(paste(BACKGROUND, second, 510, 160), 2.5 + i * STEP)
    events += processor.flush(10.0)
    confirmed = [event for event in events if event.kind == EventKind.CONFIRMED]
    assert [event.person_id for event in confirmed] == [3, 5]
    ended = [event for event in events if event.kind == EventKind.ENDED]
    assert sorted(event.person_id for event in ended) == [3, 5]
