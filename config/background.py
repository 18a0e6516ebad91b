"""Starting long jobs without holding up the request that asked for them.

With a broker (production) a task goes to the Celery workers. In the embedded run Celery
is eager, which would run an hour-long job inside the HTTP request, so it runs in a
daemon thread of the server process instead.

A daemon thread dies with its process, and a short-lived process (``manage.py shell``, a
management command that records attendance) would kill a job half-way: an Odoo push
killed so holds its lease for ten minutes. So at exit the process waits for its running
jobs, up to ``EXIT_WAIT_SECONDS`` in all; a server stopped with Ctrl-C waits no longer.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections

if TYPE_CHECKING:
    from celery import Task

logger = logging.getLogger(__name__)

EXIT_WAIT_SECONDS = 30.0

_running: set[threading.Thread] = set()
_running_lock = threading.Lock()


def enqueue(task: Task, *args: Any, countdown: float = 0) -> None:
    """Run ``task`` off the request, ``countdown`` seconds from now: on a worker, or in a
    thread when Celery is eager."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        if countdown:
            task.apply_async(args=args, countdown=countdown)
        else:
            task.delay(*args)
        return

    def run() -> None:
        try:
            time.sleep(countdown)
            task.apply(args=args)
        except Exception:
            logger.exception("Background task %s failed", task.name)
        finally:
            connections.close_all()
            with _running_lock:
                _running.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=f"task-{task.name}", daemon=True)
    with _running_lock:
        _running.add(thread)
    thread.start()


@atexit.register
def wait_for_running(timeout: float = EXIT_WAIT_SECONDS) -> bool:
    """Wait up to ``timeout`` seconds in all for the jobs started here; True when none is
    left running (registered to run at exit, so a short command finishes what it began)."""
    deadline = time.monotonic() + timeout
    with _running_lock:
        threads = list(_running)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with _running_lock:
        left = [thread.name for thread in _running if thread.is_alive()]
    if left:
        logger.warning("Exiting with background jobs still running: %s", ", ".join(left))
    return not left
