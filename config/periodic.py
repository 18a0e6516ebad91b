"""Periodic jobs, declared once in code.

Production runs them with Celery beat on django-celery-beat's DatabaseScheduler; the rows
it reads are written from this list on every ``migrate`` (see ``sync_periodic_tasks``),
so staff can pause or re-time a job in the admin while the code stays the source of
truth for what exists. The embedded run has no beat: ``config.embedded`` runs the same
list in a thread of the server process.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

MANAGED_PREFIX = "presence: "


@dataclass(frozen=True)
class PeriodicJob:
    """One job: a Celery task run every ``every_seconds``; ``expires`` drops stale runs."""

    name: str
    task: str
    every_seconds: int
    expires_seconds: int
    description: str = ""

    @property
    def beat_name(self) -> str:
        """The beat entry's name, prefixed so the sync knows which entries it manages."""
        return f"{MANAGED_PREFIX}{self.name}"


PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        name="flush expired tokens",
        task="accounts.tasks.flush_expired_tokens",
        every_seconds=24 * 3600,
        expires_seconds=3600,
        description="Delete expired refresh tokens from the blacklist tables.",
    ),
    PeriodicJob(
        name="re-embed faces for the current model",
        task="faces.tasks.ensure_embeddings_current",
        every_seconds=600,
        expires_seconds=300,
        description="Start re-embedding when samples lack an embedding for the current model.",
    ),
    PeriodicJob(
        name="mark stale cameras offline",
        task="cameras.tasks.mark_stale_cameras_offline",
        every_seconds=15,
        expires_seconds=15,
        description="Cameras whose supervisor stopped reporting are marked offline.",
    ),
    PeriodicJob(
        name="purge old detections",
        task="detections.tasks.purge_old_detections",
        every_seconds=3600,
        expires_seconds=1800,
        description="Delete detections and their images past the retention periods.",
    ),
    PeriodicJob(
        name="auto-close open attendances",
        task="attendance.tasks.auto_close_open_attendances",
        every_seconds=600,
        expires_seconds=300,
        description="Close attendances open longer than their schedule's maximum shift.",
    ),
    PeriodicJob(
        name="decide pending sightings",
        task="attendance.tasks.decide_pending_sightings",
        every_seconds=60,
        expires_seconds=55,
        description="Decide recognised detections a stopped process left without a decision.",
    ),
    PeriodicJob(
        name="close yesterday's attendance days",
        task="attendance.tasks.close_yesterday",
        every_seconds=3600,
        expires_seconds=1800,
        description="Recompute each person's previous local date and write absences.",
    ),
    PeriodicJob(
        name="pull employees from Odoo",
        task="integrations.tasks.pull_employees",
        every_seconds=15 * 60,
        expires_seconds=10 * 60,
        description="Sync Odoo employees changed since the last run into People.",
    ),
    PeriodicJob(
        name="push attendance to Odoo",
        task="integrations.tasks.push_attendance",
        every_seconds=60,
        expires_seconds=55,
        description="Drain the Odoo outbox: push due attendance rows in order per person.",
    ),
)


def beat_schedule() -> dict[str, dict]:
    """The jobs in Celery's ``beat_schedule`` shape (used by ``celery beat`` fallbacks)."""
    return {
        job.beat_name: {
            "task": job.task,
            "schedule": float(job.every_seconds),
            "options": {"expires": job.expires_seconds},
        }
        for job in PERIODIC_JOBS
    }


def sync_periodic_tasks(**_kwargs: Any) -> None:
    """Write ``PERIODIC_JOBS`` into django-celery-beat's tables.

    Jobs keep an ``enabled`` flag set by staff; jobs that were removed from the code are
    deleted. Connected to ``post_migrate``.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    declared = set()
    for job in PERIODIC_JOBS:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=job.every_seconds, period=IntervalSchedule.SECONDS
        )
        declared.add(job.beat_name)
        PeriodicTask.objects.update_or_create(
            name=job.beat_name,
            defaults={
                "task": job.task,
                "interval": interval,
                "crontab": None,
                "expire_seconds": job.expires_seconds,
                "description": job.description,
                "kwargs": json.dumps({}),
            },
        )
    stale = PeriodicTask.objects.filter(name__startswith=MANAGED_PREFIX).exclude(name__in=declared)
    removed, _ = stale.delete()
    if removed:
        logger.info("Removed %d periodic task(s) no longer declared in code", removed)
