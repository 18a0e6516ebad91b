"""Several daphne processes behind one listening socket (``manage.py serve``).

One daphne process runs Python on one core at a time (one GIL): under 50 users its
requests queued for seconds while the other cores idled (BENCHMARKS.md, "Attendance API
and export"). The launcher opens the socket once, then starts ``workers`` daphne
children that inherit it and serve it with ``daphne --fd`` (the way daphne documents
for supervisord's ``fcgi-program``); the kernel hands each new connection to one of
them. The launcher itself serves nothing: it forwards SIGTERM and SIGINT to the
children for a clean stop (docker stop, Ctrl-C), and starts a new child in place of one
that died, waiting longer between starts while a child keeps dying at once.

This module imports no Django: ``manage.py serve`` checks the settings and opens the
socket, then replaces itself with ``python -m config.launcher`` (same process id), so
the supervising process does not keep Django and the apps in memory (about 200 MB);
the children load the application themselves.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

logger = logging.getLogger("config.launcher")  # also when run as __main__

ASGI_APPLICATION = "config.asgi:application"
BACKLOG = 1024
STOP_GRACE_SECONDS = 8.0
# A child that dies sooner than this after its start is crashing, not serving: the next
# start waits, twice as long each time up to MAX_RESTART_DELAY_SECONDS.
MIN_UPTIME_SECONDS = 5.0
MAX_RESTART_DELAY_SECONDS = 30.0
POLL_SECONDS = 0.2


def parse_bind(value: str) -> tuple[str, int]:
    """``host:port`` (IPv4 or a host name) as a pair; ValueError when malformed."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--bind wants HOST:PORT with a port from 1 to 65535, not {value!r}")
    if ":" in host or host.startswith("["):
        # daphne's --fd adopts the socket as IPv4 (Twisted's "fd:" endpoint default).
        raise ValueError(f"--bind takes an IPv4 address or host name, not {host!r}")
    return host, int(port)


def open_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` that child processes can inherit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@dataclass
class _Slot:
    """One worker's place: its current process and when it may be started again."""

    number: int
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    next_start_at: float = 0.0
    delay: float = 1.0


@dataclass
class Launcher:
    """Starts ``workers`` daphne children on ``listener`` and keeps them running."""

    listener: socket.socket
    workers: int
    application: str = ASGI_APPLICATION
    python: str = sys.executable
    stop_grace_seconds: float = STOP_GRACE_SECONDS
    _slots: list[_Slot] = field(init=False, default_factory=list)
    _stopping: threading.Event = field(init=False, default_factory=threading.Event)
    _stop_signal: int = field(init=False, default=signal.SIGTERM)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("At least one worker is needed")
        self._slots = [_Slot(number) for number in range(1, self.workers + 1)]

    def child_command(self) -> list[str]:
        """How each child is started: daphne on the inherited socket, no other option
        (no ``--proxy-headers``: see config/tests/test_daphne.py)."""
        fd = self.listener.fileno()
        return [self.python, "-m", "daphne", "--fd", str(fd), self.application]

    def pids(self) -> list[int]:
        """The running children's process ids, by worker number."""
        return [
            slot.process.pid
            for slot in self._slots
            if slot.process is not None and slot.process.poll() is None
        ]

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        """Ask the supervision loop to stop the children with ``signum`` and return."""
        self._stop_signal = signum
        self._stopping.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop every child (main thread only)."""

        def handle(signum: int, _frame: FrameType | None) -> None:
            logger.info(
                "Received %s: stopping %d worker(s)", signal.strsignal(signum), self.workers
            )
            self.request_stop(signum)

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def run(self) -> int:
        """Start the children and restart any that dies until asked to stop; then stop
        them all. Returns the exit status for the launcher's own process."""
        logger.info(
            "Serving %s on %s with %d daphne worker(s)",
            self.application,
            "{}:{}".format(*self.listener.getsockname()),
            self.workers,
        )
        try:
            while not self._stopping.is_set():
                self._tend(time.monotonic())
                self._stopping.wait(POLL_SECONDS)
        finally:
            self._stop_all()
        return 0

    def _tend(self, now: float) -> None:
        for slot in self._slots:
            process = slot.process
            if process is not None and process.poll() is not None:
                uptime = now - slot.started_at
                if uptime < MIN_UPTIME_SECONDS:
                    slot.next_start_at = now + slot.delay
                    slot.delay = min(slot.delay * 2, MAX_RESTART_DELAY_SECONDS)
                else:
                    slot.delay = 1.0
                logger.warning(
                    "Worker %d (pid %d) exited with status %s after %.0f s; starting another",
                    slot.number,
                    process.pid,
                    process.returncode,
                    uptime,
                )
                slot.process = None
            if slot.process is None and now >= slot.next_start_at and not self._stopping.is_set():
                self._start(slot, now)

    def _start(self, slot: _Slot, now: float) -> None:
        # A session of its own: a terminal's Ctrl-C reaches the launcher only, which
        # forwards it once, instead of every child receiving it twice.
        slot.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            self.child_command(),
            pass_fds=(self.listener.fileno(),),
            start_new_session=True,
        )
        slot.started_at = now
        logger.info("Worker %d started (pid %d)", slot.number, slot.process.pid)

    def _stop_all(self) -> None:
        running = [s.process for s in self._slots if s.process and s.process.poll() is None]
        for process in running:
            process.send_signal(self._stop_signal)
        deadline = time.monotonic() + self.stop_grace_seconds
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("Worker pid %d did not stop in time: killed", process.pid)
                process.kill()
                process.wait()
        self.listener.close()


def exec_launcher(listener: socket.socket, workers: int, project_dir: str) -> None:
    """Replace this process with ``python -m config.launcher`` on ``listener`` (never
    returns). ``project_dir`` goes first on ``PYTHONPATH`` so that the launcher and its
    daphne children import this project wherever the command was started from."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [project_dir, env.get("PYTHONPATH")]))
    fd = str(listener.fileno())
    command = ["-m", "config.launcher", "--fd", fd, "--workers", str(workers)]
    os.execve(sys.executable, [sys.executable, *command], env)  # noqa: S606


def main(argv: list[str] | None = None) -> int:
    """Supervise ``--workers`` daphne children on the listening socket ``--fd``."""
    parser = argparse.ArgumentParser(description="daphne workers on an inherited socket")
    parser.add_argument("--fd", type=int, required=True, help="a listening TCP socket")
    parser.add_argument("--workers", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    launcher = Launcher(socket.socket(fileno=args.fd), args.workers)
    launcher.install_signal_handlers()
    return launcher.run()


if __name__ == "__main__":
    sys.exit(main())
