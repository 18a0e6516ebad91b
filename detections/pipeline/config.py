"""Every knob of the recognition pipeline, in one immutable value passed in by the caller.

The pipeline is pure logic: it reads no settings, so one camera can run with its own region
of interest and thresholds, and tests can build any configuration they need. The camera
supervisor builds a ``PipelineConfig`` from the Django settings and the camera's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from faces.gallery import Thresholds

#: Mirrors the defaults of FACE_MATCH_THRESHOLD, FACE_UNKNOWN_THRESHOLD and FACE_MIN_MARGIN;
#: production passes ``Thresholds.from_settings()``.
DEFAULT_THRESHOLDS = Thresholds(match=0.50, unknown=0.40, margin=0.08)

Point = tuple[float, float]


def _as_polygon(points: Sequence[Sequence[float]] | None) -> tuple[Point, ...] | None:
    if points is None:
        return None
    polygon = tuple((float(x), float(y)) for x, y in points)
    if len(polygon) < 3:
        raise ValueError(f"roi needs at least 3 points, got {len(polygon)}")
    if any(not (0.0 <= v <= 1.0) for point in polygon for v in point):
        raise ValueError("roi points are relative coordinates and must lie within 0..1")
    return polygon


@dataclass(frozen=True)
class PipelineConfig:
    """Per-camera settings of detection filtering, tracking, embedding and voting.

    Why these defaults: cameras sample at about 2 fps, so two hits (0.5 s) are enough to tell a
    face from a one-frame false detection, and 3 s without a sighting ends a visit. A few
    embeddings of the best views are worth more than one of every frame; ``min_votes`` of
    them must agree before anyone is named (one frame is not enough, see face-engine.md).
    """

    # Quality filter.
    min_face_px: float = 60.0
    """Smallest accepted ``min(width, height)`` of a face box, in full-resolution pixels."""
    min_blur: float = 25.0
    """Smallest accepted variance of the Laplacian on the aligned 112x112 crop."""
    roi: tuple[Point, ...] | None = None
    """Polygon in relative (0..1) coordinates; a face counts when its box centre is inside.
    ``None`` is the whole frame. A list of pairs is accepted and stored as a tuple."""

    # Tracker.
    confirm_hits: int = 2
    max_missed_seconds: float = 3.0
    tentative_max_missed_seconds: float = 1.0
    """An unconfirmed track dies sooner: it is most likely a one-frame false detection."""
    track_iou_min: float = 0.1
    track_max_distance: float = 2.5
    """Gate on centre distance, in face sizes (sqrt of box area), from the predicted or last
    position: a walking face at 2 fps may move more than its own width between frames."""
    track_max_size_ratio: float = 2.0
    track_min_appearance: float = 0.3
    """Cosine below which an embedding vetoes linking a face to a track."""
    appearance_on_ambiguity: bool = True
    """Embed faces before linking them when motion alone is ambiguous (see below)."""
    track_ambiguity_margin: float = 0.25
    """Motion costs (0..1) closer than this cannot tell two candidates apart."""
    track_reacquire_seconds: float = 1.0
    """A track unseen this long is re-acquired only after its appearance is checked."""

    # Embedding and voting.
    max_embeds_per_track: int = 6
    embed_min_interval_s: float = 0.4
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    min_votes: int = 2
    k: int = 5
    vote_area_cap: float = 150.0 * 150.0
    """Faces larger than this (px²) weigh no more in the vote (Frigate caps at 4000 px²)."""
    sharp_blur: float = 150.0
    """Blur measure at and above which a view counts fully; at ``min_blur`` it counts half."""

    # What an event carries.
    crop_margin: float = 0.25
    frame_max_width: int = 640

    def __post_init__(self) -> None:
        object.__setattr__(self, "roi", _as_polygon(self.roi))
        if self.confirm_hits < 1:
            raise ValueError("confirm_hits must be at least 1")
        if self.min_votes < 1:
            raise ValueError("min_votes must be at least 1")
        if self.max_embeds_per_track < 1:
            raise ValueError("max_embeds_per_track must be at least 1")
        if self.max_missed_seconds <= 0 or self.tentative_max_missed_seconds <= 0:
            raise ValueError("missed-time limits must be positive")
        if self.thresholds.unknown > self.thresholds.match:
            raise ValueError("thresholds.unknown must not exceed thresholds.match")
        if self.sharp_blur <= self.min_blur:
            raise ValueError("sharp_blur must be greater than min_blur")
        if self.frame_max_width < 32:
            raise ValueError("frame_max_width must be at least 32")
