"""Many cameras must not stampede: starts are staggered, reconnects back off with jitter.

A hundred cameras behind one switch all lose their streams when it reboots; without jitter
they would all reconnect at the same instants, every time, and a supervisor taking them
all would open them at once. The random source and the sleep are injected, so nothing
here waits long.
"""

from __future__ import annotations

import random
import statistics
import threading
import time

import pytest

from cameras.models import Camera
from cameras.streams import StreamReader, backoff_delays
from cameras.supervisor import RECONNECT_JITTER, Supervisor, start_delays


def first(iterator, count: int) -> list[float]:
    return [next(iterator) for _ in range(count)]


def test_jittered_delays_stay_below_the_nominal_ones_and_differ_between_cameras():
    nominal = first(backoff_delays(1, 30), 8)
    cameras = [first(backoff_delays(1, 30, 0.5, random.Random(seed)), 8) for seed in range(100)]
    for delays in cameras:
        assert all(n / 2 <= d <= n for d, n in zip(delays, nominal, strict=True))
    # The first retry of 100 cameras is spread over half a second, not one instant.
    first_retries = [delays[0] for delays in cameras]
    assert max(first_retries) - min(first_retries) > 0.4
    assert statistics.pstdev(first_retries) > 0.1
    # Seeded, it is reproducible; without jitter it is the plain doubling.
    assert first(backoff_delays(1, 30, 0.5, random.Random(3)), 5) == first(
        backoff_delays(1, 30, 0.5, random.Random(3)), 5
    )
    assert first(backoff_delays(1, 30, 0.0, random.Random(3)), 6) == [1, 2, 4, 8, 16, 30]
    with pytest.raises(ValueError):
        next(backoff_delays(1, 30, 1.5))


def test_starts_are_spaced_and_jittered():
    delays = start_delays(100, 0.1, random.Random(1))
    for index, delay in enumerate(delays):
        assert index * 0.1 <= delay < (index + 1) * 0.1
    assert delays == sorted(delays) and delays[-1] < 10.0
    offsets = [delay - index * 0.1 for index, delay in enumerate(delays)]
    assert len({round(offset, 6) for offset in offsets}) == 100  # not one fixed offset
    assert start_delays(0, 0.1, random.Random(1)) == []


class NeverOpens:
    def isOpened(self) -> bool:
        return False

    def release(self) -> None:
        pass


def test_a_reader_waits_its_start_delay_then_backs_off_with_jitter():
    slept: list[float] = []
    opened_after: list[int] = []

    def factory(target):
        opened_after.append(len(slept))
        return NeverOpens()

    reader = StreamReader(
        "rtsp://cam.invalid/x",
        label="cam",
        capture_factory=factory,
        sleep=lambda delay: (slept.append(delay), time.sleep(0.001)),
        start_delay=2.5,
        backoff_jitter=0.5,
        rng=random.Random(9),
    )
    reader.start()
    try:
        deadline = time.monotonic() + 5
        while len(slept) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        assert reader.stop(timeout=2)
    assert slept[0] == 2.5 and opened_after[0] == 1  # the first open came after the delay
    expected = first(backoff_delays(1, 30, 0.5, random.Random(9)), 5)
    assert slept[1:6] == expected and slept[1:6] != [1, 2, 4, 8, 16]


@pytest.mark.django_db(transaction=True)
def test_the_supervisor_staggers_the_cameras_it_takes_and_jitters_their_retries(settings, tmp_path):
    settings.CAMERA_FILE_ROOT = tmp_path
    for index in range(6):
        Camera.objects.create(name=f"cam {index}", source_url=f"file://{tmp_path}/{index}.mp4")

    class Handler:
        def __init__(self, camera) -> None:
            pass

        def process(self, image, captured_at, detail=None) -> None:
            pass

        def close(self) -> None:
            pass

    supervisor = Supervisor(handler_factory=Handler, start_spacing=0.05, rng=random.Random(4))
    threads_before = set(threading.enumerate())
    try:
        supervisor.tick()
        readers = [worker._reader for worker in supervisor.workers.values()]
        assert len(readers) == 6
        assert [reader.start_delay for reader in readers] == start_delays(6, 0.05, random.Random(4))
        assert all(reader.backoff_jitter == RECONNECT_JITTER for reader in readers)
    finally:
        supervisor.shutdown()
    left = [t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    ours = [name for name in left if name.startswith(("camera-", "ffmpeg"))]
    assert [name for name in ours if name != "camera-watchdog"] == []  # it ends by itself
