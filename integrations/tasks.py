"""Celery tasks of the integrations app (declared as periodic jobs in ``config.periodic``).

Each returns the job row's id, or None when the connection is disabled or another run of
the same kind holds the lease.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="integrations.tasks.pull_employees")
def pull_employees() -> int | None:
    """Sync employees from Odoo (every 15 minutes, and on ``POST /integrations/odoo/sync``)."""
    from integrations.sync import pull_employees as pull

    job = pull()
    return job.pk if job is not None else None


@shared_task(name="integrations.tasks.push_attendance")
def push_attendance() -> int | None:
    """Drain the outbox to Odoo (every minute, and after each new event)."""
    from integrations.sync import push_attendance as push

    job = push()
    return job.pk if job is not None else None
