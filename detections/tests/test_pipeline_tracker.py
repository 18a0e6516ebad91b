"""Tracker tests on synthetic faces: 2 fps motion, crossings, exits, gaps, appearance."""

from __future__ import annotations

import numpy as np

from detections.pipeline.tracker import Tracker, iou
from detections.tests.pipeline_fixtures import make_face, unit

STEP = 0.5  # seconds between frames at 2 fps


def run(tracker: Tracker, frames, start: float = 0.0):
    """Feed frames of faces; returns, per frame, the track number of each face in order."""
    numbers = []
    for i, faces in enumerate(frames):
        update = tracker.update(faces, start + i * STEP)
        by_face = {face: track.number for track, face in update.pairs}
        numbers.append([by_face[face] for face in faces])
    return numbers


def test_iou_of_disjoint_and_identical_boxes() -> None:
    assert iou((0, 0, 10, 10), (20, 0, 10, 10)) == 0.0
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0


def test_fast_walk_without_overlap_stays_one_track() -> None:
    # 1.6 face widths per frame: consecutive boxes never overlap.
    tracker = Tracker()
    frames = [[make_face(100 + 160 * i, 300, size=100)] for i in range(8)]
    numbers = run(tracker, frames)
    assert {n for frame in numbers for n in frame} == {1}
    assert tracker.tracks[0].hits == 8
    assert tracker.tracks[0].confirmed


def test_accelerating_walk_is_followed_through_prediction() -> None:
    # 2.2 then 3.5 face widths per frame: beyond the static gate, within the predicted one.
    tracker = Tracker()
    xs = [100, 320, 540, 890, 1240]
    numbers = run(tracker, [[make_face(x, 300, size=100)] for x in xs])
    assert {n for frame in numbers for n in frame} == {1}


def test_confirmation_after_confirm_hits() -> None:
    tracker = Tracker(confirm_hits=2)
    first = tracker.update([make_face(100, 100)], 0.0)
    assert first.confirmed == [] and not first.pairs[0][0].confirmed
    second = tracker.update([make_face(110, 100)], 0.5)
    assert [track.number for track in second.confirmed] == [1]
    third = tracker.update([make_face(120, 100)], 1.0)
    assert third.confirmed == []


def test_two_crossing_faces_keep_their_tracks() -> None:
    # A walks right, B walks left on nearly the same line; they pass each other mid-frame.
    tracker = Tracker()
    frames = [
        [make_face(200 + 120 * i, 300, size=100), make_face(1000 - 120 * i, 330, size=110)]
        for i in range(8)
    ]
    numbers = run(tracker, frames)
    assert all(frame == [1, 2] for frame in numbers), numbers


def test_crossing_resolved_by_appearance_when_motion_cannot() -> None:
    # Two overlapping faces stand still, then swap places between two frames: motion alone
    # would keep the tracks in place, the embeddings say they swapped.
    tracker = Tracker()
    a, b = unit([1, 0, 0, 0]), unit([0, 1, 0, 0])
    left, right = (300, 300), (340, 310)
    for i in range(3):
        tracker.update([make_face(*left), make_face(*right)], i * STEP, embeddings=[a, b])
    faces = [make_face(*left), make_face(*right)]
    assert tracker.wants_appearance(faces, 1.5)
    update = tracker.update(faces, 1.5, embeddings=[b, a])
    by_face = {face: track.number for track, face in update.pairs}
    assert [by_face[face] for face in faces] == [2, 1]


def test_separated_faces_do_not_need_appearance() -> None:
    tracker = Tracker()
    a, b = unit([1, 0, 0, 0]), unit([0, 1, 0, 0])
    for i in range(2):
        faces = [make_face(300, 300), make_face(480, 300)]
        tracker.update(faces, i * STEP, embeddings=[a, b])
    assert not tracker.wants_appearance([make_face(305, 300), make_face(475, 300)], 1.0)


def test_appearance_vetoes_a_different_person_in_the_same_place() -> None:
    tracker = Tracker()
    tracker.update([make_face(300, 300)], 0.0, embeddings=[unit([1, 0, 0, 0])])
    update = tracker.update([make_face(305, 300)], 0.5, embeddings=[unit([0, 0, 1, 0])])
    assert update.pairs[0][0].number == 2


def test_someone_stepping_into_the_spot_of_the_last_person_is_checked() -> None:
    tracker = Tracker()
    a, b = unit([1, 0, 0, 0]), unit([0, 0, 1, 0])
    tracker.update([make_face(500, 300)], 0.0, embeddings=[a])
    tracker.update([make_face(505, 300)], 0.5, embeddings=[a])
    newcomer = make_face(520, 305)
    assert not tracker.wants_appearance([newcomer], 1.0)
    assert tracker.wants_appearance([newcomer], 2.5)
    update = tracker.update([newcomer], 2.5, embeddings=[b])
    assert update.pairs[0][0].number == 2


def test_face_leaving_and_another_entering() -> None:
    tracker = Tracker(max_missed_seconds=3.0)
    numbers = run(tracker, [[make_face(900 + 150 * i, 300)] for i in range(3)])
    assert numbers == [[1], [1], [1]]
    # The first face left on the right; a new one enters on the left half a second later.
    entering = tracker.update([make_face(80, 320)], 1.5)
    assert entering.pairs[0][0].number == 2
    assert entering.ended == []
    assert tracker.update([make_face(180, 320)], 2.0).pairs[0][0].number == 2
    later = tracker.update([make_face(230, 320)], 4.5)
    assert later.pairs[0][0].number == 2
    assert [track.number for track in later.ended] == [1]
    assert later.ended[0].ended and later.ended[0].ended_at == 4.5


def test_gap_shorter_than_max_missed_keeps_the_track() -> None:
    tracker = Tracker(max_missed_seconds=3.0)
    tracker.update([make_face(400, 300)], 0.0)
    tracker.update([make_face(405, 300)], 0.5)
    update = tracker.update([make_face(410, 300)], 3.0)
    assert update.ended == []
    assert update.pairs[0][0].number == 1
    assert update.pairs[0][0].hits == 3


def test_gap_longer_than_max_missed_starts_a_new_track() -> None:
    tracker = Tracker(max_missed_seconds=3.0)
    tracker.update([make_face(400, 300)], 0.0)
    tracker.update([make_face(405, 300)], 0.5)
    update = tracker.update([make_face(410, 300)], 4.0)
    assert [track.number for track in update.ended] == [1]
    assert update.pairs[0][0].number == 2
    assert not update.pairs[0][0].confirmed


def test_unconfirmed_track_dies_sooner() -> None:
    tracker = Tracker(tentative_max_missed_seconds=1.0)
    tracker.update([make_face(400, 300)], 0.0)
    update = tracker.update([], 1.5)
    assert [track.number for track in update.ended] == [1]
    assert not update.ended[0].confirmed
    assert tracker.tracks == []


def test_size_jump_is_not_the_same_face() -> None:
    tracker = Tracker()
    tracker.update([make_face(400, 300, size=80)], 0.0)
    update = tracker.update([make_face(400, 300, size=240)], 0.5)
    assert update.pairs[0][0].number == 2


def test_end_all_and_expire() -> None:
    tracker = Tracker()
    tracker.update([make_face(100, 100), make_face(600, 100)], 0.0)
    assert tracker.expire(0.5) == []
    ended = tracker.end_all(1.0)
    assert sorted(track.number for track in ended) == [1, 2]
    assert tracker.tracks == []


def test_embeddings_must_be_aligned() -> None:
    tracker = Tracker()
    try:
        tracker.update([make_face(100, 100)], 0.0, embeddings=[])
    except ValueError:
        return
    raise AssertionError("misaligned embeddings were accepted")


def test_track_ids_are_unique_strings() -> None:
    tracker = Tracker()
    update = tracker.update([make_face(100, 100), make_face(600, 100)], 0.0)
    ids = [track.id for track, _face in update.pairs]
    assert all(isinstance(value, str) and len(value) == 32 for value in ids)
    assert len(set(ids)) == 2
    assert np.allclose(update.pairs[0][0].velocity(), (0.0, 0.0))
