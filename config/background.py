"""Starting long jobs without holding up the request that asked for them.

With a broker (production) a task goes to the Celery workers. In the embedded run Celery
is eager, which would run an hour-long job inside the HTTP request, so it runs in a
daemon thread of the server process instead.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections

if TYPE_CHECKING:
    from celery import Task

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any) -> None:
    """Run ``task`` off the request: on a worker, or in a thread when Celery is eager."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.delay(*args)
        return

    def run() -> None:
        try:
            task.apply(args=args)
        except Exception:
            logger.exception("Background task %s failed", task.name)
        finally:
            connections.close_all()

    threading.Thread(target=run, name=f"task-{task.name}", daemon=True).start()
