"""Run bookkeeping: the lease that keeps two runs of one kind apart, and the job row.

``run_job`` takes the lease of its kind (``OdooRunLock``: a row, so it works the same in
the embedded run and in production; it expires after a killed worker), opens an
``OdooSyncJob`` and hands the caller a ``JobReport`` to count and report into. The row
is saved as the run goes, so the admin sees a long run progress, and closed at the end
as succeeded, or failed with the error, which is re-raised only if it is not Odoo's.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import OdooConnection, OdooRunLock, OdooSyncJob, SyncJobState
from integrations.odoo.faults import OdooError

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_REPORTED_ERRORS = 200


def acquire_lease(kind: str, lease: timedelta = LEASE) -> str | None:
    """A holder token when the lease of ``kind`` was free (or expired), else None."""
    token = secrets.token_hex(8)
    now = timezone.now()
    with contextlib.suppress(IntegrityError), transaction.atomic():
        OdooRunLock.objects.get_or_create(kind=kind)
    taken = (
        OdooRunLock.objects.filter(kind=kind)
        .filter(Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lt=now))
        .update(holder=token, expires_at=now + lease)
    )
    return token if taken else None


def renew_lease(kind: str, token: str, lease: timedelta = LEASE) -> bool:
    """Push the expiry of a held lease further; False when it was lost to expiry."""
    expires = timezone.now() + lease
    return bool(OdooRunLock.objects.filter(kind=kind, holder=token).update(expires_at=expires))


def release_lease(kind: str, token: str) -> None:
    """Free the lease if this holder still has it."""
    OdooRunLock.objects.filter(kind=kind, holder=token).update(holder="", expires_at=None)


class JobReport:
    """What a run counts and reports, saved on its ``OdooSyncJob`` row."""

    def __init__(self, job: OdooSyncJob, kind: str, token: str) -> None:
        self.job = job
        self.kind = kind
        self.token = token
        self.redact = OdooConnection.load().redact

    def count(self, name: str, by: int = 1) -> None:
        """Add ``by`` to the counter ``name``."""
        self.job.counts[name] = self.job.counts.get(name, 0) + by

    def error(self, code: str, message: str, **details: Any) -> None:
        """Report a problem that did not stop the run (a conflict, a rejected photo)."""
        self.count("errors")
        message = self.redact(message)
        if len(self.job.errors) < MAX_REPORTED_ERRORS:
            self.job.errors.append({"code": code, "message": message, **details})
        self.job.last_error = message

    def save(self) -> None:
        """Save the progress so far and keep the lease."""
        self.job.save(update_fields=["counts", "errors", "last_error", "high_water"])
        renew_lease(self.kind, self.token)


@contextlib.contextmanager
def run_job(kind: str) -> Iterator[JobReport | None]:
    """A job row and the lease of ``kind`` for the ``with`` block; None (and no row) when
    another run of that kind holds the lease."""
    token = acquire_lease(kind)
    if token is None:
        logger.info("Odoo %s: another run holds the lease; not starting", kind)
        yield None
        return
    job = OdooSyncJob.objects.create(kind=kind, started_at=timezone.now())
    report = JobReport(job, kind, token)
    try:
        yield report
    except OdooError as exc:
        job.state = SyncJobState.FAILED
        job.last_error = report.redact(f"{exc.code}: {exc.message}")
        logger.warning("Odoo %s job %s failed: %s", kind, job.pk, exc.code)
    except Exception as exc:
        job.state = SyncJobState.FAILED
        job.last_error = report.redact(f"{type(exc).__name__}: {exc}")
        raise
    else:
        job.state = SyncJobState.SUCCEEDED
    finally:
        job.finished_at = timezone.now()
        job.save()
        release_lease(kind, token)
