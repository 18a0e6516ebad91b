"""Prometheus multiprocess mode for processes in several containers sharing one folder.

With ``PROMETHEUS_MULTIPROC_DIR`` set, every process (daphne, each Celery worker child,
beat, each camera supervisor) writes its metrics to files of its own in that folder, and
``/metrics`` sums them (``prometheus_client.multiprocess``). The library names the files
by process id, which is not unique when the folder is a volume shared by containers (each
has its own pid 1), so files are named ``<host>-<pid>`` here.

Which processes are alive is told by locks: each process holds an exclusive ``flock`` on
``<host>-<pid>.lock`` for as long as it runs (the kernel drops it when the process dies,
however it dies, and ``flock`` works across containers on one host). Whenever a process
starts (``prepare``) and whenever ``/metrics`` is scraped (``mark_dead_processes``), the
lock files nobody holds are processes that have ended: their live gauges are removed (they
would report a worker that no longer exists), while their counters stay, so totals never
go backwards. Files of an ended process that hold nothing but zeros go too: every
short-lived command (a healthcheck's ``celery inspect ping``, a ``manage.py`` run) would
otherwise leave files that each scrape reads for ever. When a process starts and finds no
other process alive, the process group is starting afresh and the folder is emptied.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import multiprocess, values
from prometheus_client.mmap_dict import MmapedDict

ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"
_MUTEX_NAME = "presence-metrics.mutex"
_LOCK_SUFFIX = ".lock"
# A file name is "<type>_<identifier>.db"; the library splits it on "_".
_HOST = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "host"

_state: dict[str, object] = {"pid": None, "fd": None, "path": None}


def multiprocess_dir() -> Path | None:
    """The shared folder, when multiprocess mode is on (read from the environment, as the
    library does: it must be set before the first metric exists)."""
    value = os.environ.get(ENV_VAR)
    return Path(value) if value else None


def process_identifier() -> str:
    """This process's name in the folder; registers it (takes its lock) on first use in a
    process, including in a child forked from a process that had registered."""
    pid = os.getpid()
    if _state["pid"] != pid:
        _register(pid)
    return f"{_HOST}-{pid}"


@contextlib.contextmanager
def _folder_mutex(path: Path) -> Iterator[None]:
    """Serialises start-up clean-ups and registrations between processes."""
    fd = os.open(path / _MUTEX_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _register(pid: int) -> None:
    path = _state["path"]
    if not isinstance(path, Path):
        raise RuntimeError("config.metrics_multiprocess.prepare() was not called")
    inherited = _state["fd"]
    if isinstance(inherited, int):
        # A forked child: the parent's lock stays with the parent (it holds it open too).
        with contextlib.suppress(OSError):
            os.close(inherited)
    with _folder_mutex(path):
        fd = os.open(path / f"{_HOST}-{pid}{_LOCK_SUFFIX}", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _state.update(pid=pid, fd=fd)


def _dead_identifiers(path: Path) -> tuple[list[str], int]:
    """Identifiers whose lock nobody holds (their lock files are removed), and how many
    processes are alive. Call under the folder mutex."""
    dead, alive = [], 0
    for lock_file in path.glob(f"*{_LOCK_SUFFIX}"):
        try:
            fd = os.open(lock_file, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            alive += 1
        else:
            dead.append(lock_file.name.removesuffix(_LOCK_SUFFIX))
            lock_file.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return dead, alive


def _retire(path: Path, identifier: str) -> None:
    """An ended process: drop its live gauges, and its other files if they count nothing."""
    multiprocess.mark_process_dead(identifier, str(path))
    for data_file in path.glob(f"*_{identifier}.db"):
        try:
            counted = any(
                value for _key, value, _ts, _pos in MmapedDict.read_all_values_from_file(data_file)
            )
        except (OSError, ValueError):
            continue
        if not counted:
            data_file.unlink(missing_ok=True)


def mark_dead_processes(path: Path) -> list[str]:
    """Retire the processes that have ended (see the module); returns their identifiers."""
    with _folder_mutex(path):
        dead, _alive = _dead_identifiers(path)
        for identifier in dead:
            _retire(path, identifier)
    return dead


def prepare(path: Path) -> None:
    """Make ``path`` ready for this process: empty it if no other process is alive (a
    fresh start of the group), mark ended processes dead otherwise, then register this
    process and have the library name its files after it. Runs before any metric exists."""
    path.mkdir(parents=True, exist_ok=True)
    with _folder_mutex(path):
        dead, alive = _dead_identifiers(path)
        if alive == 0:
            for stale in path.glob("*.db"):
                stale.unlink(missing_ok=True)
        else:
            for identifier in dead:
                _retire(path, identifier)
    _state.update(path=path, pid=None, fd=None)
    values.ValueClass = values.MultiProcessValue(process_identifier)


def mark_this_process_dead() -> None:
    """At a clean exit (a Celery child retiring): drop this process's live gauges now
    rather than at the next scrape."""
    path = _state["path"]
    if isinstance(path, Path) and _state["pid"] == os.getpid():
        multiprocess.mark_process_dead(f"{_HOST}-{os.getpid()}", str(path))
