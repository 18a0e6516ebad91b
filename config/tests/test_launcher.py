"""``manage.py serve``: daphne children on one socket, restarted when they die, stopped
together (config/launcher.py).

Which child answered a request is read from the operating system (the process that holds
the server end of the connection), so the server exposes nothing about itself.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from config.launcher import Launcher, parse_bind
from config.testing import (
    LOOPBACK,
    answers,
    child_pids,
    connection_owner,
    free_port,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path):
    """``manage.py serve --workers 2`` on a free port, with the test's Redis."""
    if not settings.REDIS_URL:
        pytest.fail("these tests need REDIS_URL: two processes share their state in Redis")
    port = free_port()
    env = dict(
        os.environ,
        REDIS_URL=settings.REDIS_URL,
        EMBEDDED_SCHEDULER="0",
        EMBEDDED_CAMERAS="0",
        SECURE_SSL_REDIRECT="0",
        DEBUG="0",
    )
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--workers", "2", "--bind", f"{LOOPBACK}:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: len(child_pids(process.pid)) == 2, 30, message="two workers")
        wait_until(lambda: answers(port), 60, message="the workers to answer")
        yield process, port, log
    finally:
        children = child_pids(process.pid)
        if process.poll() is None:
            process.terminate()
            process.wait(20)
        for pid in children:  # left only if the launcher itself failed to stop them
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return (
        int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
        / 1024
    )


def answering_pid(port: int, workers: set[int]) -> int | None:
    """The worker that answered one request on a fresh connection."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        conn.request("GET", "/api/v1/health/live")
        response = conn.getresponse()
        response.read()
        assert response.status == 200
        # HTTP/1.1 keep-alive: the server still holds its end of the connection here.
        return connection_owner(port, conn.sock.getsockname()[1], workers)
    finally:
        conn.close()


def answering_pids(port: int, workers: set[int], attempts: int = 300) -> set[int]:
    """The workers seen answering, until all of ``workers`` were or attempts run out."""
    seen: set[int] = set()
    for _ in range(attempts):
        pid = answering_pid(port, workers)
        assert pid is not None, "no worker holds the connection"
        seen.add(pid)
        if seen == workers:
            break
    return seen


def test_two_workers_answer_on_one_socket_and_a_dead_one_is_replaced(served):
    process, port, log = served
    workers = child_pids(process.pid)
    assert len(workers) == 2
    assert answering_pids(port, workers) == workers
    # The supervisor let go of Django once the socket was open: it is small.
    assert b"config.launcher" in Path(f"/proc/{process.pid}/cmdline").read_bytes()
    assert rss_mb(process.pid) < 80 < min(rss_mb(pid) for pid in workers)

    killed = min(workers)
    os.kill(killed, signal.SIGKILL)

    def replaced_set() -> set[int] | None:
        pids = child_pids(process.pid)
        return pids if len(pids) == 2 and killed not in pids else None

    replaced = wait_until(replaced_set, 30, message="a new worker in place of the killed one")
    assert replaced - workers, replaced
    # The new worker loads the application, then answers on the same socket.
    wait_until(
        lambda: answering_pid(port, replaced) in replaced - workers,
        60,
        interval=0.1,
        message="the new worker to answer",
    )
    assert "exited with status -9" in log.read_text()


def test_sigterm_stops_every_worker(served):
    process, port, _log = served
    workers = child_pids(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived the launcher"
    assert not answers(port)


def test_the_embedded_run_is_refused_more_than_one_process():
    with (
        override_settings(REDIS_URL="", EMBEDDED_SCHEDULER=False),
        pytest.raises(CommandError, match="without REDIS_URL"),
    ):
        call_command("serve", "--workers", "2", "--bind", f"{LOOPBACK}:{free_port()}")
    with (
        override_settings(REDIS_URL="redis://127.0.0.1:6379/0", EMBEDDED_SCHEDULER=True),
        pytest.raises(CommandError, match="EMBEDDED_SCHEDULER"),
    ):
        call_command("serve", "--workers", "3", "--bind", f"{LOOPBACK}:{free_port()}")


@pytest.mark.parametrize("bind", ["8000", "127.0.0.1", "127.0.0.1:0", "[::1]:8000", "h:99999"])
def test_a_malformed_bind_is_refused(bind):
    with pytest.raises(ValueError, match="--bind"):
        parse_bind(bind)
    with pytest.raises(CommandError):
        call_command("serve", "--workers", "1", "--bind", bind)


def test_a_bind_is_host_and_port():
    assert parse_bind("0.0.0.0:8000") == ("0.0.0.0", 8000)  # noqa: S104
    assert parse_bind("localhost:8080") == ("localhost", 8080)


def test_a_worker_that_keeps_dying_is_restarted_less_and_less_often():
    """A child that cannot even load the application dies at once: each new start waits
    twice as long as the one before, instead of spinning."""
    with socket.socket() as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen()
        launcher = Launcher(listener, workers=1, application="no_such_module:application")
        (slot,) = launcher._slots
        now = 0.0
        launcher._tend(now)
        waits = []
        for _ in range(3):
            assert slot.process.wait(60) != 0  # daphne cannot import the application
            now += 1.0
            launcher._tend(now)
            assert slot.process is None
            waits.append(slot.next_start_at - now)
            now = slot.next_start_at
            launcher._tend(now)
            assert slot.process is not None
        launcher.request_stop()
        launcher._stop_all()
    assert waits == [1.0, 2.0, 4.0]
