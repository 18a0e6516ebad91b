"""Decide who a track is from several embeddings, not from its best-looking frame.

Per-frame matching named a stranger as an enrolled person in 64 of 748 frames of a real
video, with scores up to 0.55 (face-engine.md). A track's verdict is therefore a weighted
*mean* over all of its observations, so one lucky frame among several poor ones cannot carry
it; the best person must also lead the second by the margin, be the top-1 match in a
majority of the observations, and be top-1 at least ``min_votes`` times.

Weights follow Frigate: larger, more confident and sharper views count more.
``weight = min(area, area_cap) / area_cap * det_score * blur_factor`` where Frigate caps the
area at 4000 px²; our faces are at least 60 px wide (3600 px²) and door cameras see them at
60 to 300 px, so the cap is 150x150 px: a face that large is as good as it gets, and the
smallest accepted face weighs about a sixth of it. ``blur_factor`` rises linearly from 0.5 at
the blur floor to 1 at ``blur_sharp``, so a blurred view counts at most half.

Every observation scores every person: one that is not among its top-k candidates gets
that observation's lowest candidate score, an upper bound of its true score. Leaving it out
instead would let a person seen once at 0.55 average 0.55, and counting it as 0 would widen
the best person's margin over a look-alike that merely fell out of the top k.
"""

from __future__ import annotations

from dataclasses import dataclass

from faces.gallery import Match, MatchStatus, Thresholds

from .config import PipelineConfig


def blur_factor(blur: float, floor: float, sharp: float) -> float:
    """0.5 at or below ``floor``, 1.0 at or above ``sharp``, linear between."""
    if sharp <= floor:
        return 1.0 if blur >= sharp else 0.5
    return 0.5 + 0.5 * min(max((blur - floor) / (sharp - floor), 0.0), 1.0)


def observation_weight(
    area: float,
    det_score: float,
    blur: float,
    *,
    area_cap: float = 150.0 * 150.0,
    blur_floor: float = 25.0,
    blur_sharp: float = 150.0,
) -> float:
    """How much one view of a face counts in its track's vote (0..1)."""
    size = min(max(area, 0.0), area_cap) / area_cap
    confidence = min(max(det_score, 0.0), 1.0)
    return size * confidence * blur_factor(blur, blur_floor, blur_sharp)


@dataclass(frozen=True)
class VoteResult:
    """A track's verdict. ``person_id`` is set only when RECOGNIZED; ``candidate_person_id``
    only when UNCERTAIN (the UI may show "maybe"); an UNKNOWN face names nobody."""

    status: str
    person_id: int | None
    candidate_person_id: int | None
    score: float
    """Weighted mean score of the best person."""
    margin: float
    """Lead of the best person's weighted mean over the second's."""
    votes: int
    """Observations in which the best person was the top-1 match."""
    observations: int


@dataclass(frozen=True)
class _Observation:
    weight: float
    scores: dict[int, float]
    floor: float
    top: int | None


class TrackVote:
    """The accumulated matches of one track; ``result()`` is the verdict so far."""

    def __init__(
        self,
        thresholds: Thresholds,
        *,
        min_votes: int = 2,
        area_cap: float = 150.0 * 150.0,
        blur_floor: float = 25.0,
        blur_sharp: float = 150.0,
    ) -> None:
        self.thresholds = thresholds
        self.min_votes = min_votes
        self.area_cap = area_cap
        self.blur_floor = blur_floor
        self.blur_sharp = blur_sharp
        self._observations: list[_Observation] = []

    @classmethod
    def for_config(cls, config: PipelineConfig) -> TrackVote:
        """A vote with the pipeline's thresholds and vote settings."""
        return cls(
            config.thresholds,
            min_votes=config.min_votes,
            area_cap=config.vote_area_cap,
            blur_floor=config.min_blur,
            blur_sharp=config.sharp_blur,
        )

    def __len__(self) -> int:
        return len(self._observations)

    def weight(self, area: float, det_score: float, blur: float) -> float:
        """The weight a view with these measures would get in this vote."""
        return observation_weight(
            area,
            det_score,
            blur,
            area_cap=self.area_cap,
            blur_floor=self.blur_floor,
            blur_sharp=self.blur_sharp,
        )

    def add(self, match: Match, *, area: float, det_score: float, blur: float) -> float:
        """Record one embedding's match; returns the weight it was given."""
        weight = self.weight(area, det_score, blur)
        self.add_weighted(match, weight)
        return weight

    def add_weighted(self, match: Match, weight: float) -> None:
        """Record one embedding's match with a weight computed by the caller."""
        scores = {candidate.person_id: candidate.score for candidate in match.candidates}
        floor = min(scores.values()) if scores else 0.0
        top = match.candidates[0].person_id if match.candidates else None
        self._observations.append(_Observation(max(weight, 0.0), scores, floor, top))

    def result(self) -> VoteResult:
        """The track's identity so far: observations weighted, people assigned jointly per frame."""
        observations = self._observations
        persons = {person for observation in observations for person in observation.scores}
        if not persons:
            return VoteResult(MatchStatus.UNKNOWN, None, None, 0.0, 0.0, 0, len(observations))
        weights = [observation.weight for observation in observations]
        if sum(weights) <= 0:
            weights = [1.0] * len(observations)
        total = sum(weights)
        means = {
            person: sum(
                weight * observation.scores.get(person, observation.floor)
                for weight, observation in zip(weights, observations, strict=True)
            )
            / total
            for person in persons
        }
        ranked = sorted(means, key=lambda person: (-means[person], person))
        best = ranked[0]
        score = means[best]
        second = means[ranked[1]] if len(ranked) > 1 else 0.0
        margin = score - max(second, 0.0)
        votes = sum(1 for observation in observations if observation.top == best)
        status = self._status(score, margin, votes, len(observations))
        return VoteResult(
            status=status,
            person_id=best if status == MatchStatus.RECOGNIZED else None,
            candidate_person_id=best if status == MatchStatus.UNCERTAIN else None,
            score=score,
            margin=margin,
            votes=votes,
            observations=len(observations),
        )

    def _status(self, score: float, margin: float, votes: int, count: int) -> str:
        thresholds = self.thresholds
        if (
            score >= thresholds.match
            and margin >= thresholds.margin
            and votes >= self.min_votes
            and 2 * votes > count
        ):
            return MatchStatus.RECOGNIZED
        if score < thresholds.unknown:
            return MatchStatus.UNKNOWN
        return MatchStatus.UNCERTAIN
