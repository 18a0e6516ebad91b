"""Loopback servers started by this process: a port to listen on, and a stop at exit.

The tests start real servers (RTSP cameras, daphne, PostgreSQL, Redis, the Odoo
emulator), and so does the shipped ``odoo_emulator`` demo command; production code may not
import test support (``config/tests/test_domain_layers.py``), so these two helpers live
here and ``config.testing`` re-exports them.
"""

from __future__ import annotations

import atexit
import contextlib
import random
import socket
import threading
import weakref
from pathlib import Path
from typing import Protocol

LOOPBACK = "127.0.0.1"


class Stoppable(Protocol):
    """Anything with a ``stop()``: a server left running must not outlive the process."""

    def stop(self) -> None:
        """Stop serving."""


_live: weakref.WeakSet[Stoppable] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.stop()


def stop_at_exit(server: Stoppable) -> None:
    """Stop ``server`` when the interpreter exits, if a test or a command left it running."""
    _live.add(server)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on and that this process has not handed out.

    ``bind(0)`` would pick from the kernel's ephemeral range, where every outgoing
    connection (to PostgreSQL, Redis, each RTSP server) also takes its local port: a port
    picked that way and listened on a moment later can already be a client's, and two
    picks in one run can be the same port. CI lost a 32-camera run to that. Ports come
    from just below the ephemeral range instead, each at most once per process.
    """
    low = _ephemeral_range_start()
    candidates = range(max(1024, low - 16384), low)
    with _ports_lock:
        for _ in range(500):
            port = random.choice(candidates)
            if port not in _handed_out and _bindable(port):
                _handed_out.add(port)
                return port
    raise RuntimeError(f"no free port between {candidates.start} and {candidates.stop - 1}")


_handed_out: set[int] = set()
_ports_lock = threading.Lock()


def _ephemeral_range_start() -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        first = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
        if first > 2048:
            return first
    return 32768


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True
