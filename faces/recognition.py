"""Identify every face in an image against the gallery, assigning people jointly.

Two faces in one picture are never the same person: the assignment maximises the total
similarity over faces and people at once (the Hungarian algorithm), instead of letting
each face take its own best match. A face's margin is then measured against the best
person still free for it, so a look-alike taken by another face does not sink it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from faces.engine import Face, FaceEngine
from faces.engine.quality import QualityReport, assess_quality
from faces.gallery import Candidate, GalleryIndex, MatchStatus, Thresholds, top_candidates


@dataclass(frozen=True)
class IdentifiedFace:
    """One face of an image with its quality and who it is, as the API and pipeline report it."""

    face: Face
    quality: QualityReport
    status: str
    person_id: int | None
    score: float
    margin: float
    candidates: list[Candidate] = field(default_factory=list)


def assign_jointly(scores: np.ndarray) -> dict[int, int]:
    """Face row -> person column, each person used at most once, total score maximal."""
    if scores.size == 0:
        return {}
    rows, cols = linear_sum_assignment(scores, maximize=True)
    return dict(zip(rows.tolist(), cols.tolist(), strict=True))


def judge(
    scores: np.ndarray, assignment: dict[int, int], face_row: int, thresholds: Thresholds
) -> tuple[int | None, float, float, str]:
    """Column, score, margin and status of one face under a joint assignment."""
    column = assignment.get(face_row)
    if column is None:
        return None, 0.0, 0.0, MatchStatus.UNKNOWN
    row = scores[face_row]
    taken = {c for r, c in assignment.items() if r != face_row}
    free = np.ones(row.shape, dtype=bool)
    free[list(taken | {column})] = False
    runner_up = float(row[free].max()) if free.any() else 0.0
    score = float(row[column])
    margin = score - max(runner_up, 0.0)
    return column, score, margin, thresholds.classify(score, margin)


def identify_faces(
    engine: FaceEngine,
    image_bgr: np.ndarray,
    index: GalleryIndex,
    thresholds: Thresholds,
    *,
    k: int = 5,
    faces: list[Face] | None = None,
) -> list[IdentifiedFace]:
    """Detect (unless ``faces`` are given), embed and match every face, people assigned jointly."""
    faces = engine.detect(image_bgr) if faces is None else faces
    if not faces:
        return []
    embeddings = engine.embed_many(image_bgr, faces)
    scores = index.person_scores(embeddings)
    assignment = assign_jointly(scores)
    results = []
    for i, face in enumerate(faces):
        column, score, margin, status = judge(scores, assignment, i, thresholds)
        person_id = None
        if column is not None and status != MatchStatus.UNKNOWN:
            person_id = int(index.persons[column])
        results.append(
            IdentifiedFace(
                face=face,
                quality=assess_quality(image_bgr, face),
                status=status,
                person_id=person_id,
                score=score,
                margin=margin,
                candidates=top_candidates(index.persons, scores[i], k),
            )
        )
    return results
