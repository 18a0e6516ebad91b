"""Push requests coalesce: one run a second however many events commit in it."""

from __future__ import annotations

from django.core.cache import cache

from config import background
from integrations import receivers


def test_requests_within_a_second_schedule_one_run_a_second_on(monkeypatch):
    runs: list[tuple[str, float]] = []
    monkeypatch.setattr(
        background,
        "enqueue",
        lambda task, *args, countdown=0: runs.append((task.name, countdown)),
    )
    for _ in range(5):
        receivers.request_push()
    assert runs == [("integrations.tasks.push_attendance", receivers.PUSH_COALESCE_SECONDS)]
    cache.delete(receivers.PUSH_REQUESTED_KEY)  # the second is over
    receivers.request_push()
    assert len(runs) == 2


def test_a_cache_that_does_not_answer_never_holds_a_push_back(monkeypatch, enqueued):
    class Down:
        def add(self, *_args, **_kwargs):
            raise receivers.UNAVAILABLE_ERRORS[0]("down")

    monkeypatch.setattr(receivers, "strict_cache", Down)
    receivers.request_push()
    receivers.request_push()
    assert enqueued == [("integrations.tasks.push_attendance",)] * 2
