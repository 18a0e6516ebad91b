"""The Celery application (shaped like paperless-ngx's ``paperless/celery.py``).

Configuration comes from Django settings under the ``CELERY_`` prefix; tasks are found
in every installed app's ``tasks.py``. Failed tasks are counted for ``/metrics`` here,
where every task passes.
"""

import os

from celery import Celery, Task, signals

from config import metrics_multiprocess
from config.metrics import counter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("presence")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

TASK_FAILURES = counter(
    "celery_task_failures",
    "Celery tasks that raised, by task name (retries that later succeed count too).",
    ["task"],
)


@signals.task_failure.connect(dispatch_uid="presence.metrics.task_failure")
def count_task_failure(sender: Task | None = None, **kwargs: object) -> None:
    """Count a failed task under its registered name (a bounded set)."""
    TASK_FAILURES.labels(getattr(sender, "name", None) or "unknown").inc()


@signals.worker_process_shutdown.connect(dispatch_uid="presence.metrics.process_shutdown")
def retire_process_metrics(**kwargs: object) -> None:
    """A worker child that exits takes its live gauges with it (multiprocess mode)."""
    metrics_multiprocess.mark_this_process_dead()
