"""Recognition entry points shared by the API, commands and the camera pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faces.engine import FaceEngine, get_engine
from faces.exceptions import NotEnrolled
from faces.gallery import Gallery, get_gallery
from faces.models import FaceEmbedding, Person
from faces.recognition import IdentifiedFace, identify_faces


def current_gallery(engine: FaceEngine | None = None) -> Gallery:
    """The gallery of the engine's model, the one the current embeddings belong to."""
    engine = engine or get_engine()
    return get_gallery(engine.model_key, engine.dim)


def identify(image_bgr: np.ndarray, k: int = 5) -> list[IdentifiedFace]:
    """1:N identification of every face in the image with the configured engine."""
    engine = get_engine()
    gallery = current_gallery(engine)
    return identify_faces(engine, image_bgr, gallery.index(), gallery.thresholds, k=k)


@dataclass(frozen=True)
class Verification:
    """The outcome of a 1:1 check, with the threshold it was judged against."""

    score: float
    match: bool
    threshold: float
    face_count: int
    bbox: list[float]


def verify(image_bgr: np.ndarray, person: Person, face_index: int | None = None) -> Verification:
    """1:1 check of the largest (or chosen) face against the person's own samples."""
    from faces.enrolment import choose_face

    engine = get_engine()
    vectors = [
        e.as_array()
        for e in FaceEmbedding.objects.filter(sample__person=person, model_key=engine.model_key)
    ]
    if not vectors:
        raise NotEnrolled(f"{person.full_name} has no enrolled face for the current model.")
    faces = engine.detect(image_bgr)
    if face_index is None and len(faces) > 1:
        face_index = max(range(len(faces)), key=lambda i: faces[i].area)
    face = choose_face(faces, face_index)
    embedding = engine.embed(image_bgr, face)
    score = float(np.max(np.stack(vectors) @ embedding))
    gallery = current_gallery(engine)
    return Verification(
        score=score,
        match=score >= gallery.thresholds.match,
        threshold=gallery.thresholds.match,
        face_count=len(faces),
        bbox=[round(v, 2) for v in face.bbox],
    )
