"""Grouping unknown faces, so staff see "unknown #12, seen 7 times" and label them once.

When a track ends without a person, its best embedding joins the nearest open group of
the same model if the cosine similarity to the group's centroid reaches
``UNKNOWN_GROUP_THRESHOLD``; otherwise it starts a new group. The centroid is the
normalised running mean of its members. Groups live as long as unknown faces are kept.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from detections.models import Detection, UnknownFace


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def assign_to_group(detection: Detection) -> UnknownFace:
    """Put an unknown face in the nearest recent group, or start a new group for it."""
    vector = _unit(np.frombuffer(bytes(detection.embedding), dtype=np.float32))
    horizon = timezone.now() - timedelta(days=settings.UNKNOWN_RETENTION_DAYS)
    with transaction.atomic():
        groups = list(
            UnknownFace.objects.select_for_update()
            .filter(
                model_key=detection.model_key,
                resolved_person__isnull=True,
                last_seen__gte=horizon,
            )
            .only("id", "centroid", "seen_count")
        )
        best, best_score = None, -1.0
        for group in groups:
            score = float(group.centroid_array() @ vector)
            if score > best_score:
                best, best_score = group, score
        seen = detection.last_seen_at
        if best is None or best_score < settings.UNKNOWN_GROUP_THRESHOLD:
            group = UnknownFace.objects.create(
                model_key=detection.model_key,
                centroid=vector.astype(np.float32).tobytes(),
                seen_count=1,
                first_seen=detection.captured_at,
                last_seen=seen,
                last_camera_id=detection.camera_id,
            )
        else:
            group = best
            merged = _unit(group.centroid_array() * group.seen_count + vector)
            UnknownFace.objects.filter(pk=group.pk).update(
                centroid=merged.astype(np.float32).tobytes(),
                seen_count=group.seen_count + 1,
                last_seen=seen,
                last_camera_id=detection.camera_id,
            )
        Detection.objects.filter(pk=detection.pk).update(unknown_face=group)
        detection.unknown_face_id = group.pk
    return group
