"""`make run` from a fresh copy of the repository: what a first-time user does.

The README promises that `make run` on a fresh machine sets everything up (its own
virtualenv, migrations, an admin, the demo camera and people) and starts the system on
the embedded defaults. This test does exactly that in a temporary folder holding the
checkout's files (tracked and untracked-but-not-ignored, no ``.venv``, no ``var/``), with
an environment stripped of this suite's database, Redis and secret settings, and waits
for the system to be ready, for a demo detection and for a demo check-in, then stops it
the way a user does (Ctrl-C) and checks nothing is left running.

It takes a minute or two (the virtualenv comes from pip's cache), so it is marked slow;
CI runs it with the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from config.testing import LOOPBACK, free_port, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "smoke@presence.local"
ADMIN_PASSWORD = "smoke-test-password-4d7e1a"
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "XDG_CACHE_HOME")

pytestmark = pytest.mark.slow


def _checkout_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    )
    return [name for name in listing.stdout.decode().split("\0") if name]


def _copy_checkout(target: Path) -> None:
    for name in _checkout_files():
        source = REPO_ROOT / name
        if not source.is_file():  # deleted in the working tree but not yet in git
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)


def _clean_environment(port: int) -> dict[str, str]:
    """What a user's shell has: no DATABASE_URL, REDIS_URL, SECRET_KEY or test settings,
    only the path, locale and pip's own configuration (the machine's package index)."""
    environment = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    environment.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})
    python = shutil.which("python3") or sys.executable
    environment.update(
        {
            "PYTHON": python,
            "HOST": LOOPBACK,
            "PORT": str(port),
            "PRESENCE_ADMIN_EMAIL": ADMIN_EMAIL,
            "PRESENCE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
    )
    return environment


def _get(url: str, token: str | None = None) -> tuple[int, dict | list | None]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback URL built here
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


def _login(base: str) -> str:
    body = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback URL built here
        f"{base}/api/v1/auth/login",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())["access"]


def _results(payload: dict | list | None) -> list[dict]:
    if isinstance(payload, dict):
        return payload.get("results", [])
    return payload or []


def _stop(process: subprocess.Popen[bytes]) -> int:
    """Ctrl-C to the whole process group, as a terminal sends it."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        raise


def _processes_of(checkout: Path) -> list[int]:
    """Processes still working in ``checkout`` (by their directory or command line),
    wherever they are: the server's workers run in sessions of their own."""
    found = []
    marker = str(checkout)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd.startswith(marker) or marker in command:
            found.append(int(entry.name))
    return found


def test_make_run_from_a_fresh_copy_serves_the_demo(tmp_path):
    if shutil.which("make") is None:
        pytest.fail("make is not installed: apt-get install make")
    checkout = tmp_path / "presence"
    _copy_checkout(checkout)
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    log_path = tmp_path / "make-run.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=checkout,
            env=_clean_environment(port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: _get(f"{base}/api/v1/health/ready")[0] == 200 or process.poll() is not None,
            600,
            interval=1,
            message="make run to answer /api/v1/health/ready",
        )
        assert process.poll() is None, log_path.read_text()[-4000:]
        token = _login(base)
        named = wait_until(
            lambda: [
                item
                for item in _results(_get(f"{base}/api/v1/detections/live?seconds=600", token)[1])
                if item.get("person")
            ],
            180,
            interval=2,
            message="a named demo detection on /detections/live",
        )
        assert named[0]["camera"]
        check_ins = wait_until(
            lambda: [
                item
                for item in _results(_get(f"{base}/api/v1/attendance/logs", token)[1])
                if item.get("kind") == "check_in"
            ],
            180,
            interval=2,
            message="a demo check-in on /attendance/logs",
        )
        assert check_ins[0]["source"] == "camera"
    finally:
        if process.poll() is None:
            _stop(process)
        deadline = time.monotonic() + 15
        while _processes_of(checkout) and time.monotonic() < deadline:
            time.sleep(0.2)
        leftover = _processes_of(checkout)
        for pid in leftover:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert not leftover, "make run left processes behind after Ctrl-C"
