"""The recognition pipeline of one camera: detect, filter, track, embed, vote, emit events.

Pure logic with no models, database or settings, so that it can be benchmarked and tested
on its own and driven by whichever process holds the camera. The layer above turns
``TrackEvent``\\ s into detection rows, snapshots and broadcasts.
"""

from .config import DEFAULT_THRESHOLDS, PipelineConfig
from .processor import EventKind, FrameProcessor, FrameTimings, Matcher, TrackEvent
from .quality_filter import AcceptedFace, RejectedFace, RejectReason, filter_faces
from .tracker import Track, Tracker, TrackerUpdate
from .voting import TrackVote, VoteResult, observation_weight

__all__ = [
    "DEFAULT_THRESHOLDS",
    "AcceptedFace",
    "EventKind",
    "FrameProcessor",
    "FrameTimings",
    "Matcher",
    "PipelineConfig",
    "RejectReason",
    "RejectedFace",
    "Track",
    "TrackEvent",
    "TrackVote",
    "Tracker",
    "TrackerUpdate",
    "VoteResult",
    "filter_faces",
    "observation_weight",
]
