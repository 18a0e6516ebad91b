"""Periodic housekeeping for accounts."""

from celery import shared_task
from django.core.management import call_command

from accounts import sessions


@shared_task(name="accounts.tasks.flush_expired_tokens")
def flush_expired_tokens() -> None:
    """Expired refresh tokens can no longer be used; their blacklist rows, and the
    sessions they belonged to, only take space."""
    call_command("flushexpiredtokens")
    sessions.purge_expired()
