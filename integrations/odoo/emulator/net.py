"""Loopback helpers the emulator needs, kept here so a shipped command can run it.

``config.testing`` has the same helpers for tests; production code may not import test
support (``config/tests/test_domain_layers.py``), and the emulator ships with the
``odoo_emulator`` demo command.
"""

from __future__ import annotations

import atexit
import contextlib
import socket
import weakref
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
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]
