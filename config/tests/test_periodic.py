"""Periodic tasks are declared in code and written to django-celery-beat on migrate."""

import pytest
from django_celery_beat.models import PeriodicTask

from config.celery import app
from config.periodic import PERIODIC_JOBS, sync_periodic_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _discover_tasks():
    app.loader.import_default_modules()


def test_migrate_wrote_every_declared_job():
    for job in PERIODIC_JOBS:
        row = PeriodicTask.objects.get(name=job.beat_name)
        assert row.task == job.task
        assert row.interval.every == job.every_seconds
        assert row.expire_seconds == job.expires_seconds
        assert job.task in app.tasks, f"{job.task} is not a registered Celery task"


def test_sync_keeps_staff_choices_and_drops_removed_jobs():
    job = PERIODIC_JOBS[0]
    PeriodicTask.objects.filter(name=job.beat_name).update(enabled=False)
    PeriodicTask.objects.create(
        name="presence: retired job",
        task="gone.task",
        interval=PeriodicTask.objects.first().interval,
    )
    sync_periodic_tasks()
    assert PeriodicTask.objects.get(name=job.beat_name).enabled is False
    assert not PeriodicTask.objects.filter(name="presence: retired job").exists()


def test_flush_expired_tokens_task_runs():
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from accounts.models import User

    user = User.objects.create_user("expired@example.com", "a-long-password-1")
    now = timezone.now()
    week_ago, yesterday = now - timedelta(days=7), now - timedelta(days=1)
    expired = OutstandingToken.objects.create(
        user=user, jti="expired", token="x", created_at=week_ago, expires_at=yesterday
    )
    current = OutstandingToken.objects.create(
        user=user, jti="current", token="y", created_at=now, expires_at=now + timedelta(days=1)
    )

    app.tasks["accounts.tasks.flush_expired_tokens"].apply().get()

    assert not OutstandingToken.objects.filter(pk=expired.pk).exists()
    assert OutstandingToken.objects.filter(pk=current.pk).exists()
