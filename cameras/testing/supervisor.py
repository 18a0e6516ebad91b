"""A stream supervisor running in a thread, as ``run_cameras`` or the embedded server runs
it, for tests and benchmarks; stopping it waits for a clean shutdown."""

from __future__ import annotations

import threading
from collections import Counter

from cameras.supervisor import Supervisor

#: Reader timeouts short enough that outages show within seconds in tests.
FAST_READER = {"open_timeout": 3.0, "read_timeout": 3.0, "stall_timeout": 3.0, "backoff_max": 1.0}


class RunningSupervisor:
    def __init__(self, **options) -> None:
        options.setdefault("reader_options", FAST_READER)
        options.setdefault("poll_seconds", 0.3)
        self.supervisor = Supervisor(**options)
        self.thread = threading.Thread(target=self.supervisor.run_forever, daemon=True)

    def __enter__(self) -> Supervisor:
        self.thread.start()
        return self.supervisor

    def __exit__(self, *exc_info) -> None:
        self.supervisor.stop()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the supervisor did not stop"


class CountingHandler:
    """Stands in for the pipeline: counts the frames each camera is given (reset
    ``CountingHandler.frames`` before a test)."""

    frames: Counter = Counter()

    def __init__(self, camera) -> None:
        self.camera_id = camera.pk

    def process(self, image, captured_at, detail=None) -> None:
        CountingHandler.frames[self.camera_id] += 1

    def close(self) -> None:
        pass
