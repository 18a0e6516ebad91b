"""``manage.py serve``: the web server, as ``WEB_CONCURRENCY`` daphne processes on one
socket (config/launcher.py).

More than one process needs what the processes share to live in Redis: the cache (login
and throttle counters, the live list), the channel layer (a WebSocket client connected to
one process hears events sent from another) and Celery's broker. The embedded run keeps
them in memory and runs its scheduler in the server process, so it is refused more than
one worker rather than silently split.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config import launcher


def multi_process_problem() -> str | None:
    """Why this configuration cannot run more than one server process, or None."""
    if not settings.REDIS_URL:
        return "without REDIS_URL the cache and the channel layer live in one process's memory"
    if settings.EMBEDDED_SCHEDULER:
        return "EMBEDDED_SCHEDULER runs the periodic jobs in every server process"
    return None


class Command(BaseCommand):
    """Serve HTTP and WebSockets with several daphne processes."""

    help = "Serve the application with WEB_CONCURRENCY daphne processes on one socket."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--bind HOST:PORT`` and ``--workers N``."""
        parser.add_argument("--bind", default="0.0.0.0:8000", help="HOST:PORT (IPv4)")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="daphne processes (default: the WEB_CONCURRENCY setting)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Check the settings, open the socket and become the launcher (which runs
        until SIGTERM or SIGINT)."""
        workers = options["workers"] or settings.WEB_CONCURRENCY
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        if workers > 1 and (problem := multi_process_problem()):
            raise CommandError(f"Cannot serve with {workers} processes: {problem}.")
        try:
            host, port = launcher.parse_bind(options["bind"])
            listener = launcher.open_listener(host, port)
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        launcher.exec_launcher(listener, workers, str(settings.BASE_DIR))
