"""``manage.py odoo_emulator``: an Odoo stand-in on loopback holding this installation's
People as employees, for demos of the Odoo integration without an Odoo server.

It prints the URL, database, login and a freshly generated API key; ``--configure``
writes them into the connection (enabled) and links the people, so the embedded run
(``make run``) syncs employees and pushes attendance to it. It then runs in the
foreground and prints what arrives in ``hr.attendance`` until Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from integrations import demo
from integrations.models import OdooProtocol
from integrations.odoo.emulator.server import OdooEmulator

WATCH_INTERVAL_S = 1.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _attendance_line(record: dict[str, Any]) -> str:
    employee = record["employee_id"]
    name = employee[1] if employee else "?"
    check_out = record["check_out"] or "open"
    return f"hr.attendance {record['id']}: {name}  in {record['check_in']}  out {check_out}"


class Command(BaseCommand):
    """Run the emulator with the People as employees until a signal or ``--duration``."""

    help = "Run an emulated Odoo HR on loopback with the People as employees (demo)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Where it listens, what it is called, and whether to point Presence at it."""
        parser.add_argument("--port", type=int, default=8069)
        parser.add_argument("--database", default="presence-demo")
        parser.add_argument("--login", default="admin")
        parser.add_argument("--odoo-version", default="17.0")
        parser.add_argument(
            "--configure",
            action="store_true",
            help="Write the URL, database, login and key into the connection and enable it.",
        )
        parser.add_argument(
            "--protocol", choices=[choice.value for choice in OdooProtocol], default="xmlrpc"
        )
        parser.add_argument(
            "--duration",
            type=float,
            default=None,
            help="Stop after this many seconds (default: run until Ctrl-C).",
        )

    def handle(
        self,
        *args: Any,
        port: int,
        database: str,
        login: str,
        odoo_version: str,
        configure: bool,
        protocol: str,
        duration: float | None,
        **options: Any,
    ) -> None:
        """Start, describe, optionally configure, then watch until stopped."""
        emulator = OdooEmulator(database=database, login=login, version=odoo_version, port=port)
        employees = demo.add_people(emulator)
        try:
            emulator.start()
        except OSError as exc:
            raise CommandError(f"Cannot listen on port {port}: {exc.strerror or exc}") from exc
        stop = threading.Event()

        def request_stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in STOP_SIGNALS}
        try:
            self._describe(emulator, len(employees))
            if configure:
                demo.configure(emulator, employees, protocol)
                self.stdout.write(
                    f"Connection configured ({protocol}, enabled); "
                    f"{len(employees)} people linked to their employees."
                )
            self._watch(emulator, stop, duration)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            emulator.stop()
            self.stdout.write("Emulator stopped.")

    def _describe(self, emulator: OdooEmulator, count: int) -> None:
        self.stdout.write(f"Odoo emulator {emulator.version_string} listening")
        self.stdout.write(f"  URL       {emulator.url}")
        self.stdout.write(f"  database  {emulator.database}")
        self.stdout.write(f"  login     {emulator.login}")
        self.stdout.write(f"  API key   {emulator.api_key}")
        self.stdout.write(f"  employees {count}")
        self.stdout.flush()

    def _watch(self, emulator: OdooEmulator, stop: threading.Event, duration: float | None) -> None:
        """Print each attendance as it is created, changed or removed, and each new
        employee read count, so the demo shows what Presence sent."""
        deadline = None if duration is None else time.monotonic() + duration
        seen: dict[int, str] = {}
        reads = 0
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            current = {r["id"]: _attendance_line(r) for r in emulator.records("hr.attendance")}
            for record_id, line in current.items():
                if seen.get(record_id) != line:
                    self.stdout.write(line)
            for record_id in seen.keys() - current.keys():
                self.stdout.write(f"hr.attendance {record_id}: removed")
            seen = current
            calls = list(emulator.calls)
            syncs = sum(1 for call in calls if call[1:] == ("hr.employee", "search_read"))
            if syncs > reads:
                self.stdout.write(f"hr.employee read by Presence ({syncs - reads} page(s))")
                reads = syncs
            self.stdout.flush()
            stop.wait(WATCH_INTERVAL_S)
