"""Test support shared by every app: waiting for a state, and real Redis and PostgreSQL
servers that a test can stop and start again.

Tests that wait for something poll for it with a deadline (``wait_until``) instead of
sleeping a fixed time, which is either too short on a loaded machine or wasted on an idle
one. The servers reproduce the faults of the parts we depend on the way they happen in
production (issue 7, "Faults"): the process goes away, and comes back on the same port.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from config.loopback import LOOPBACK, free_port, stop_at_exit

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that.

    Raises ``AssertionError`` naming ``message`` when ``timeout`` seconds pass first, so a
    test fails with what it waited for rather than hanging or racing a fixed sleep.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def port_open(port: int, host: str = LOOPBACK) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def answers(port: int, path: str = "/api/v1/health/live", host: str = LOOPBACK) -> bool:
    """Whether an HTTP server on ``port`` answers ``path`` with 200 right now."""
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def child_pids(parent: int) -> set[int]:
    """The live (not zombie) processes whose parent is ``parent``, read from /proc."""
    found = set()
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            fields = Path(stat).read_text().rpartition(")")[2].split()
            if int(fields[1]) == parent and fields[0] != "Z":
                found.add(int(Path(stat).parent.name))
    return found


def connection_owner(server_port: int, client_port: int, candidates: set[int]) -> int | None:
    """Which of ``candidates`` holds the server end of the loopback TCP connection from
    ``client_port`` to ``server_port`` (from /proc/net/tcp and the processes' open
    files), or None: how a test sees which process answered, without the server saying."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        if (
            int(local.split(":")[1], 16) == server_port
            and int(remote.split(":")[1], 16) == client_port
            and state == "01"  # ESTABLISHED
        ):
            inode = fields[9]
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in candidates:
        for fd in glob.glob(f"/proc/{pid}/fd/*"):
            with contextlib.suppress(OSError):
                if os.readlink(fd) == target:
                    return pid
    return None


class RedisServer:
    """A throwaway ``redis-server`` on a free loopback port, without persistence.

    ``stop()`` kills it (an outage), ``start()`` brings it back on the same port, empty,
    as a restarted Redis without persistence comes back.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None
        stop_at_exit(self)

    def url(self, db: int = 0) -> str:
        return f"redis://{LOOPBACK}:{self.port}/{db}"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: apt-get install redis-server")
        command = [binary, "--port", str(self.port), "--bind", LOOPBACK]
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary and arguments
            [*command, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open(self.port), 15, message=f"redis-server on {self.port}")
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)
        self._process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def postgres_bin_dir() -> Path:
    """Debian's PostgreSQL server binaries (initdb, pg_ctl), newest version first."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql")
    return Path(found[0]).parent


class PostgresCluster:
    """A throwaway PostgreSQL cluster (``initdb``) on a free port, trust authentication.

    ``stop()`` is ``pg_ctl stop -m fast`` (every connection is cut), ``start()`` starts it
    again on the same port with its data. As root, the server runs as the ``postgres``
    user, which PostgreSQL requires.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bin = postgres_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="presence-pg-"))
        self.data = self.root / "data"
        self._as_postgres = os.geteuid() == 0
        stop_at_exit(self)

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@{LOOPBACK}:{self.port}/{name}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(  # noqa: S603 - fixed binaries and arguments
            command, check=True, capture_output=True, timeout=120
        )

    def init(self) -> PostgresCluster:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        return self

    def start(self) -> PostgresCluster:
        options = f"-p {self.port} -c listen_addresses={LOOPBACK} -k {self.root} -c fsync=off"
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "log"))  # fmt: skip
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.data))

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.init().start()

    def __exit__(self, *exc_info: object) -> None:
        self.destroy()


def child_database_url() -> str:
    """The database the tests run on (pytest-django's test database), as a DATABASE_URL
    for a server or supervisor started in a child process."""
    from django.db import connection

    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host, port = params.get("HOST") or "127.0.0.1", params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"
