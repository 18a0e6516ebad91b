"""``manage.py run_cameras``: one camera supervisor process (see ``cameras.supervisor``).

Run as many as needed, on any hosts: they share the cameras through database leases.
SIGTERM or SIGINT stops it cleanly: workers stop and the leases are released at once, so
another supervisor picks the cameras up without waiting for the leases to expire. On a
host of its own, ``--metrics-bind`` (``CAMERA_METRICS_BIND``) serves its ``/metrics``.
"""

from __future__ import annotations

import signal
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cameras.supervisor import LEASE_SECONDS, POLL_SECONDS, Supervisor
from config.metrics_server import serve_metrics


class Command(BaseCommand):
    """Run one supervisor until a signal stops it, releasing its leases on the way out."""

    help = "Read the cameras this process can lease and run recognition on them."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Capacity and timing, so a host can take fewer cameras or react faster."""
        parser.add_argument("--max-cameras", type=int, default=None)
        parser.add_argument("--lease-seconds", type=float, default=LEASE_SECONDS)
        parser.add_argument("--poll-seconds", type=float, default=POLL_SECONDS)
        parser.add_argument(
            "--metrics-bind",
            default=settings.CAMERA_METRICS_BIND,
            help="HOST:PORT to answer GET /metrics on (default CAMERA_METRICS_BIND; off)",
        )

    def handle(
        self,
        *args: Any,
        max_cameras: int | None,
        lease_seconds: float,
        poll_seconds: float,
        metrics_bind: str,
        **options: Any,
    ) -> None:
        """Stop cleanly on SIGTERM/SIGINT so the leases free at once, not on expiry."""
        try:
            listener = serve_metrics(metrics_bind) if metrics_bind else None
        except (ValueError, OSError) as exc:
            raise CommandError(f"--metrics-bind {metrics_bind!r}: {exc}") from exc
        supervisor = Supervisor(
            max_cameras=max_cameras, lease_seconds=lease_seconds, poll_seconds=poll_seconds
        )

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            self.stdout.write(f"Signal {signum}: stopping supervisor {supervisor.owner}")
            supervisor.stop()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.stdout.write(f"Supervisor {supervisor.owner} running")
        try:
            supervisor.run_forever()
        finally:
            if listener is not None:
                listener.shutdown()
