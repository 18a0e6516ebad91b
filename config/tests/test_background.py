"""Background jobs of the embedded run: a short-lived process finishes what it started."""

import subprocess
import sys
import textwrap
import threading

from django.conf import settings as django_settings

from config import background

#: The real one: the suite's autouse ``enqueued`` fixture replaces the module attribute.
real_enqueue = background.enqueue


class BlockingTask:
    name = "tests.blocking"

    def __init__(self):
        self.release = threading.Event()

    def apply(self, args=()):
        self.release.wait(10)


def test_wait_for_running_waits_for_started_jobs(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    task = BlockingTask()
    real_enqueue(task)
    assert background.wait_for_running(timeout=0.05) is False
    task.release.set()
    assert background.wait_for_running(timeout=5) is True


def test_a_process_that_exits_lets_its_job_finish(tmp_path):
    done = tmp_path / "done"
    script = textwrap.dedent(
        f"""
        import time
        import django
        django.setup()
        from django.conf import settings
        settings.CELERY_TASK_ALWAYS_EAGER = True
        from config import background

        class Slow:
            name = "tests.slow"
            def apply(self, args=()):
                time.sleep(0.5)
                open({str(done)!r}, "w").write("done")

        background.enqueue(Slow())
        """
    )
    subprocess.run(
        [sys.executable, "-c", script], check=True, timeout=60, cwd=django_settings.BASE_DIR
    )
    assert done.read_text() == "done"


def test_a_countdown_delays_the_job_in_the_embedded_run(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    ran = threading.Event()

    class Quick:
        name = "tests.quick"

        def apply(self, args=()):
            ran.set()

    real_enqueue(Quick(), countdown=0.3)
    assert not ran.wait(0.1)
    assert ran.wait(5)
    assert background.wait_for_running(timeout=5) is True
