"""Background work for the embedded run, inside the server process.

Production runs Celery beat and workers and ``run_cameras`` processes; ``make run`` has
none of them, so the server process runs a thread that calls the same periodic jobs
(``config.periodic``) on their intervals (tasks are eager there, so ``apply`` runs them
here and now), and a camera supervisor thread.
"""

from __future__ import annotations

import logging
import threading
import time

from config.periodic import PERIODIC_JOBS

logger = logging.getLogger(__name__)

_started = threading.Event()


def start_embedded_scheduler() -> None:
    """Start the scheduler thread once per process."""
    if _started.is_set():
        return
    _started.set()
    thread = threading.Thread(target=_run_forever, name="embedded-scheduler", daemon=True)
    thread.start()
    logger.info("Embedded scheduler started with %d job(s)", len(PERIODIC_JOBS))


def start_embedded_cameras() -> None:
    """The same supervisor as ``manage.py run_cameras``, as a thread of this process."""
    from cameras.supervisor import Supervisor

    supervisor = Supervisor()
    thread = threading.Thread(target=supervisor.run_forever, name="camera-supervisor", daemon=True)
    thread.start()
    logger.info("Embedded camera supervisor %s started", supervisor.owner)


def _run_forever() -> None:
    from config.celery import app

    app.loader.import_default_modules()
    next_run = {job.name: time.monotonic() + 30 for job in PERIODIC_JOBS}
    while True:
        now = time.monotonic()
        for job in PERIODIC_JOBS:
            if now < next_run[job.name]:
                continue
            next_run[job.name] = now + job.every_seconds
            try:
                app.tasks[job.task].apply()
            except Exception:
                logger.exception("Periodic job %r failed", job.name)
        time.sleep(1)
