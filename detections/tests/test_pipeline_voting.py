"""Track vote tests: strangers stay unnamed, people are named after enough agreeing views."""

from __future__ import annotations

import pytest

from detections.pipeline.voting import TrackVote, blur_factor, observation_weight
from detections.tests.pipeline_fixtures import THRESHOLDS
from faces.gallery import Candidate, Match, MatchStatus


def match(*scores: tuple[int, float]) -> Match:
    """A gallery match from ``(person_id, score)`` pairs, best first."""
    candidates = [Candidate(person, score) for person, score in scores]
    candidates.sort(key=lambda candidate: -candidate.score)
    margin = candidates[0].score - max(candidates[1].score, 0.0) if len(candidates) > 1 else 0.0
    return Match(candidates, margin, THRESHOLDS.classify(candidates[0].score, margin))


def good_view(vote: TrackVote, m: Match) -> float:
    return vote.add(m, area=160 * 200, det_score=0.92, blur=300)


def test_weight_caps_area_and_halves_for_blur() -> None:
    assert observation_weight(300 * 300, 1.0, 500) == pytest.approx(1.0)
    assert observation_weight(75 * 150, 1.0, 500) == pytest.approx(0.5)
    assert observation_weight(150 * 150, 0.8, 25) == pytest.approx(0.4)
    assert blur_factor(10, 25, 150) == 0.5
    assert blur_factor(87.5, 25, 150) == pytest.approx(0.75)
    assert blur_factor(1000, 25, 150) == 1.0


def test_stranger_with_one_lucky_frame_is_never_recognized() -> None:
    # face-engine.md: a stranger matched an enrolled person at up to 0.55 in single frames.
    vote = TrackVote(THRESHOLDS, min_votes=2)
    frames = [
        match((3, 0.24), (1, 0.20), (5, 0.12)),
        match((3, 0.55), (1, 0.21), (5, 0.10)),
        match((1, 0.28), (3, 0.22), (5, 0.15)),
        match((3, 0.30), (5, 0.20), (1, 0.18)),
        match((5, 0.26), (3, 0.25), (1, 0.19)),
        match((3, 0.21), (1, 0.20), (5, 0.17)),
    ]
    statuses = []
    for m in frames:
        good_view(vote, m)
        statuses.append(vote.result().status)
    assert MatchStatus.RECOGNIZED not in statuses
    final = vote.result()
    assert final.status == MatchStatus.UNKNOWN
    assert final.person_id is None and final.candidate_person_id is None
    assert final.score < 0.35


def test_lucky_frame_first_is_not_enough_on_its_own() -> None:
    vote = TrackVote(THRESHOLDS, min_votes=2)
    good_view(vote, match((3, 0.55), (1, 0.21)))
    assert vote.result().status != MatchStatus.RECOGNIZED
    good_view(vote, match((3, 0.25), (1, 0.22)))
    assert vote.result().status != MatchStatus.RECOGNIZED
    good_view(vote, match((3, 0.22), (1, 0.21)))
    assert vote.result().status == MatchStatus.UNKNOWN


def test_lucky_frame_that_is_large_and_sharp_does_not_outvote_small_ones() -> None:
    vote = TrackVote(THRESHOLDS, min_votes=2)
    vote.add(match((3, 0.55), (1, 0.2)), area=300 * 300, det_score=0.99, blur=900)
    for _ in range(4):
        vote.add(match((1, 0.27), (3, 0.25)), area=65 * 80, det_score=0.75, blur=40)
    assert vote.result().status != MatchStatus.RECOGNIZED


def test_absent_person_counts_at_the_observations_lowest_score() -> None:
    # Person 9 appears once at 0.55 and then falls out of the top k: it must not keep 0.55.
    vote = TrackVote(THRESHOLDS, min_votes=1)
    good_view(vote, match((9, 0.55), (1, 0.30), (2, 0.25), (3, 0.2), (4, 0.15)))
    for _ in range(3):
        good_view(vote, match((1, 0.30), (2, 0.25), (3, 0.2), (4, 0.15), (5, 0.1)))
    result = vote.result()
    assert result.score == pytest.approx(0.30)
    assert result.votes == 3
    assert result.status == MatchStatus.UNKNOWN


def test_genuine_person_recognized_after_min_votes() -> None:
    vote = TrackVote(THRESHOLDS, min_votes=2)
    good_view(vote, match((4, 0.71), (2, 0.30)))
    first = vote.result()
    assert first.status == MatchStatus.UNCERTAIN
    assert first.person_id is None and first.candidate_person_id == 4
    good_view(vote, match((4, 0.68), (2, 0.28)))
    second = vote.result()
    assert second.status == MatchStatus.RECOGNIZED
    assert second.person_id == 4 and second.candidate_person_id is None
    assert second.votes == 2 and second.observations == 2
    assert second.margin == pytest.approx(0.405, abs=0.01)


def test_look_alikes_without_margin_stay_uncertain() -> None:
    vote = TrackVote(THRESHOLDS, min_votes=2)
    for _ in range(5):
        good_view(vote, match((7, 0.62), (8, 0.58), (2, 0.2)))
    result = vote.result()
    assert result.status == MatchStatus.UNCERTAIN
    assert result.candidate_person_id == 7
    assert result.margin == pytest.approx(0.04, abs=1e-6)


def test_top1_must_win_a_majority_of_observations() -> None:
    # Person 1 has the higher mean thanks to two strong views, but is top-1 in only 2 of 5.
    vote = TrackVote(THRESHOLDS, min_votes=2)
    good_view(vote, match((1, 0.95), (2, 0.30)))
    good_view(vote, match((1, 0.95), (2, 0.30)))
    for _ in range(3):
        good_view(vote, match((2, 0.45), (1, 0.40)))
    result = vote.result()
    assert result.score >= THRESHOLDS.match and result.margin >= THRESHOLDS.margin
    assert result.votes == 2
    assert result.status == MatchStatus.UNCERTAIN


def test_uncertain_then_recognized_as_better_views_arrive() -> None:
    vote = TrackVote(THRESHOLDS, min_votes=2)
    vote.add(match((2, 0.47), (6, 0.35)), area=70 * 85, det_score=0.75, blur=30)
    vote.add(match((2, 0.49), (6, 0.40)), area=70 * 85, det_score=0.78, blur=35)
    assert vote.result().status == MatchStatus.UNCERTAIN
    good_view(vote, match((2, 0.80), (6, 0.30)))
    good_view(vote, match((2, 0.78), (6, 0.31)))
    result = vote.result()
    assert result.status == MatchStatus.RECOGNIZED and result.person_id == 2


def test_empty_vote_and_empty_gallery_are_unknown() -> None:
    vote = TrackVote(THRESHOLDS)
    assert vote.result().status == MatchStatus.UNKNOWN
    vote.add_weighted(Match([], 0.0, MatchStatus.UNKNOWN), 1.0)
    result = vote.result()
    assert result.status == MatchStatus.UNKNOWN and result.observations == 1
