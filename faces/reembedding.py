"""Re-embedding every sample when the face engine or its model changes.

Embeddings are stored per model key, so the new ones are written beside the old: processes
still running the old model keep matching against a complete gallery until they are
restarted on the new one, and a half-finished job loses nothing. Progress (done/total)
is saved as it goes, for the admin and the API.
"""

from __future__ import annotations

import logging

import numpy as np
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import audit
from faces.engine import Face, FaceEngine, decode_image, get_engine
from faces.engine.geometry import iou
from faces.enrolment import store_embedding
from faces.models import FaceSample, ReembedJob, ReembedStatus

logger = logging.getLogger(__name__)
PROGRESS_EVERY = 10
ACTIVE = (ReembedStatus.PENDING, ReembedStatus.RUNNING)


def samples_missing(model_key: str) -> QuerySet[FaceSample]:
    """Samples without an embedding for ``model_key``: what a re-embed job still has to do."""
    return FaceSample.objects.exclude(embeddings__model_key=model_key).order_by("id")


def start_reembed(context: audit.AuditContext, engine: FaceEngine | None = None) -> ReembedJob:
    """Create a job for the current model (or return the one already under way)."""
    from config import background
    from faces.tasks import reembed_samples

    engine = engine or get_engine()
    with transaction.atomic():
        active = (
            ReembedJob.objects.select_for_update()
            .filter(model_key=engine.model_key, status__in=ACTIVE)
            .first()
        )
        if active is not None:
            return active
        job = ReembedJob.objects.create(
            model_key=engine.model_key,
            total=samples_missing(engine.model_key).count(),
            requested_by=context.actor,
        )
        audit.record_create(job, context)
        transaction.on_commit(lambda: background.enqueue(reembed_samples, job.pk))
    return job


def locate_face(engine: FaceEngine, image: np.ndarray, sample: FaceSample) -> Face:
    """The new detector's face that overlaps the stored box most; the stored landmarks
    when the new detector does not find it (they still align the crop well)."""
    detected = engine.detect(image)
    best = max(detected, key=lambda f: iou(sample.bbox, f.bbox), default=None)
    if best is not None and iou(sample.bbox, best.bbox) >= 0.3:
        return best
    return Face(bbox=tuple(sample.bbox), landmarks=np.asarray(sample.landmarks), score=0.0)


def reembed_sample(engine: FaceEngine, sample: FaceSample) -> None:
    """Embed the stored photo's recorded face under ``engine``'s model."""
    with sample.image.open("rb") as stored:
        image = decode_image(stored.read())
    face = locate_face(engine, image, sample)
    store_embedding(sample, engine, engine.embed(image, face))


def run_reembed(job_id: int, engine: FaceEngine | None = None) -> ReembedJob:
    """Run a job to the end, saving progress; a finished or failed job is left as it is."""
    engine = engine or get_engine()
    job = ReembedJob.objects.get(pk=job_id)
    if job.status not in ACTIVE:
        return job
    if job.model_key != engine.model_key:
        job.status = ReembedStatus.FAILED
        job.error = f"This worker runs model {engine.model_key}, not {job.model_key}."
        job.finished_at = timezone.now()
        job.save()
        return job
    pending = samples_missing(engine.model_key)
    job.status, job.started_at = ReembedStatus.RUNNING, timezone.now()
    job.total, job.done, job.failed = job.done + pending.count(), job.done, job.failed
    job.save()
    for sample in pending.iterator(chunk_size=200):
        try:
            reembed_sample(engine, sample)
        except Exception as exc:  # noqa: BLE001 - one bad photo must not stop the job
            job.failed += 1
            logger.warning("Re-embedding sample %s failed: %s", sample.pk, exc)
        job.done += 1
        if job.done % PROGRESS_EVERY == 0:
            job.save(update_fields=["done", "failed"])
    job.status = ReembedStatus.DONE
    if job.failed:
        job.error = f"{job.failed} sample(s) could not be re-embedded; see the worker log."
    job.finished_at = timezone.now()
    job.save()
    return job
