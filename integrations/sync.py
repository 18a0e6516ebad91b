"""The two runs, as tasks, the API and the admin start them: pull employees, push the
outbox. Each is a job row under its kind's lease (``integrations.jobs``) and does
nothing while the connection is disabled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from accounts import audit
from config.errors import Conflict
from integrations.jobs import run_job
from integrations.models import (
    OdooConnection,
    OdooOutbox,
    OdooSyncJob,
    OutboxState,
    SyncJobKind,
    SyncJobState,
)
from integrations.odoo.employees import EmployeeSync
from integrations.odoo.outbox import OutboxPusher, due_heads
from integrations.services import client_for


class OutboxRowNotParked(Conflict):
    """Only a parked (failed) row can be retried or skipped: the others are in hand."""

    code = "outbox_row_not_parked"


def previous_high_water() -> datetime | None:
    """Where the last successful pull stopped (None: the first run reads everything)."""
    return (
        OdooSyncJob.objects.filter(kind=SyncJobKind.PULL_EMPLOYEES, state=SyncJobState.SUCCEEDED)
        .exclude(high_water__isnull=True)
        .order_by("-started_at", "-id")
        .values_list("high_water", flat=True)
        .first()
    )


def pull_employees() -> OdooSyncJob | None:
    """One employee sync; the job row, or None when disabled or already running."""
    connection = OdooConnection.load()
    if not connection.enabled:
        return None
    since = previous_high_water()
    with run_job(SyncJobKind.PULL_EMPLOYEES) as report:
        if report is None:
            return None
        report.job.high_water = since
        EmployeeSync(client_for(connection), report).run(since)
    return report.job


def push_attendance(clock: Callable[[], datetime] = timezone.now) -> OdooSyncJob | None:
    """One outbox drain; the job row, or None when disabled, idle or already running."""
    connection = OdooConnection.load()
    if not connection.enabled or not due_heads(clock(), limit=1):
        return None
    with run_job(SyncJobKind.PUSH_ATTENDANCE) as report:
        if report is None:
            return None
        OutboxPusher(client_for(connection), report, clock=clock).drain()
    return report.job


def _parked(row: OdooOutbox) -> None:
    if row.state != OutboxState.FAILED:
        raise OutboxRowNotParked(
            f"Outbox row {row.pk} is {row.state}: only a failed row can be retried or skipped.",
            details={"state": row.state},
        )


def retry_outbox_row(row: OdooOutbox, context: audit.AuditContext) -> OdooOutbox:
    """Put a parked row back in the queue now, with a fresh 24 hours of retries."""
    _parked(row)
    before = audit.snapshot(row)
    row.state = OutboxState.PENDING
    row.outcome = "retry_requested"
    row.next_attempt_at = None
    row.first_attempt_at = None
    row.save()
    audit.record_update(row, before, context)
    return row


def skip_outbox_row(row: OdooOutbox, context: audit.AuditContext) -> OdooOutbox:
    """Give up on a parked row, so the person's later rows go on."""
    _parked(row)
    before = audit.snapshot(row)
    row.state = OutboxState.SKIPPED
    row.outcome = "skipped_by_admin"
    row.next_attempt_at = None
    row.save()
    audit.record_update(row, before, context)
    return row
