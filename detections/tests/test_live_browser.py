"""The live page in a real browser: Debian's chromium driven by Playwright, against daphne.

A throwaway Redis carries the channel layer between this process, where the recording
helper writes detections as the camera pipeline does, and the daphne serving the page, so
a detection travels the way it does in production: database, channel layer, WebSocket,
the page's script. Screenshots go to ``test-results/`` (kept by CI when a run fails).
The browser's console must stay free of errors, except while the server is down on
purpose (the reconnect test).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connections
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from accounts.roles import Role
from cameras.models import Camera, CameraStatus
from cameras.signals import camera_status_changed
from cameras.snapshots import encode_snapshot, store_snapshot
from config.testing import (
    LOOPBACK,
    RedisServer,
    child_database_url,
    free_port,
    port_open,
    wait_until,
)
from conftest import PERSONA_PASSWORD, make_user
from detections import recording
from detections.models import UnknownFace
from detections.testing import track_event
from faces.models import Person
from faces.sample_images import astronaut

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WAIT_MS = 20_000
BLOB_URL = re.compile(r"^blob:")
NO_DATA_YET = "\N{EN DASH}"  # what a count shows until the API answered
NO_SWAGGER = ["--ignore", "drf_spectacular_sidecar"]  # the page needs none of its files


class Daphne:
    """``daphne`` serving the project on a fixed free port; ``stop()`` and ``start()``
    again are a server restart as the page sees it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "daphne", "-b", LOOPBACK, "-p", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "config.asgi:application"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_until(
            lambda: port_open(self.port) or self.process.poll() is not None,
            60,
            message="daphne to listen",
        )
        assert self.process.poll() is None, self.log.read_text()[-3000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:  # open WebSockets hold up its shutdown
                self.process.kill()
                self.process.wait(10)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def shared_media(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def media_storage(settings, shared_media) -> Path:
    """The media folder daphne reads is the one this process writes (overrides the
    per-test folder of ``faces.tests.conftest``)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(shared_media)},
        },
    }
    return shared_media


@pytest.fixture(autouse=True)
def shared_redis(settings, redis_server) -> None:
    """This process broadcasts on the Redis daphne listens to, and caches (the live
    detections, camera snapshots) where daphne reads."""
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": redis_server.url(0),
            "KEY_PREFIX": "presence",
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_server.url(0)], "prefix": "presence"},
        }
    }


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, redis_server, shared_media, tmp_path_factory):
    """daphne on the test database, its static files collected as in production."""
    static_root = tmp_path_factory.mktemp("static")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    with django_db_blocker.unblock():
        env.update(
            DATABASE_URL=child_database_url(),
            REDIS_URL=redis_server.url(0),
            REDIS_TEST_DB="0",
            MEDIA_ROOT=str(shared_media),
            STATIC_ROOT=str(static_root),
            SECURE_SSL_REDIRECT="0",
            DEBUG="0",
        )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", *NO_SWAGGER],
        cwd=ROOT,
        env=env,
        check=True,
    )
    daphne = Daphne(env, tmp_path_factory.mktemp("daphne") / "daphne.log")
    daphne.start()
    yield daphne
    daphne.stop()


@pytest.fixture
def browser():
    """Per test: Playwright's loop must be gone before the database is flushed, which
    Django would refuse to do from what looks like an async context."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: make system-packages-test"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class Console:
    """What the page wrote to its console and the errors it threw."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.muted = False
        page.on("console", self._message)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not self.muted:
            self.errors.append(f"{message.text} ({message.location.get('url')})")


@pytest.fixture
def page(browser, request) -> Iterator[tuple[Page, Console]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    console = Console(page)
    yield page, console
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=RESULTS / f"{request.node.name}-end.png", full_page=True)
    context.close()


def in_thread(work: Callable[..., Any], *args: Any) -> Any:
    """Run ORM work off this thread: Playwright's sync API keeps an event loop here,
    which Django's async-safety check would take for an async context."""

    def work_and_close() -> Any:
        try:
            return work(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work_and_close).result()


def sign_in(page: Page, server: Daphne, email: str) -> None:
    page.goto(f"{server.url}/admin/login/?next=/live/")
    page.fill("#id_username", email)
    page.fill("#id_password", PERSONA_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{server.url}/live/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)


def shot(page: Page, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=RESULTS / f"live-{name}.png", full_page=True)


def setup_desk() -> tuple[Camera, Person]:
    desk = make_user(Role.OPERATOR, "desk@example.com")
    # Hashed as daphne checks it: the suite's own fast hasher is not in its settings.
    hasher = PBKDF2PasswordHasher()
    desk.password = hasher.encode(PERSONA_PASSWORD, hasher.salt())
    desk.save(update_fields=["password"])
    camera = Camera.objects.create(
        name="Front door", source_url="rtsp://cam.local/stream", status=CameraStatus.OFFLINE
    )
    person = Person.objects.create(employee_code="E-7", full_name="Ada Lovelace")
    return camera, person


def camera_sends_frames(camera: Camera) -> None:
    """What the camera supervisor does for a running camera: its status, the rates it
    reads frames at and analyses them at (two different numbers), and the newest frame
    in the cache."""
    Camera.objects.filter(pk=camera.pk).update(
        status=CameraStatus.ONLINE, last_frame_at=timezone.now(), fps=12.0, analysed_fps=2.5
    )
    store_snapshot(camera.pk, encode_snapshot(astronaut()))


def camera_goes_offline(camera: Camera) -> None:
    """What the supervisor does when it lets a camera go: no rates, and a status message."""
    Camera.objects.filter(pk=camera.pk).update(
        status=CameraStatus.OFFLINE, fps=None, analysed_fps=None
    )
    camera_status_changed.send(Camera, camera=Camera.objects.get(pk=camera.pk))


def test_detections_appear_live_and_an_unknown_face_is_labelled(server, page):
    page, console = page
    camera, person = in_thread(setup_desk)
    in_thread(camera_sends_frames, camera)
    sign_in(page, server, "desk@example.com")
    tile = page.locator(f'#cameras [data-camera-id="{camera.pk}"]')
    expect(tile).to_contain_text("Front door")
    expect(tile).to_contain_text("online")
    meta = tile.locator(".meta")
    expect(meta).to_contain_text("2.5 fps analysed · 12.0 fps read")
    expect(tile.locator("img")).to_have_attribute("src", BLOB_URL, timeout=WAIT_MS)
    expect(tile.locator("img")).to_be_visible()
    expect(page.locator("#count-absent")).not_to_have_text(NO_DATA_YET, timeout=WAIT_MS)
    shot(page, "1-signed-in")

    known = in_thread(
        recording.record_event,
        camera,
        track_event(status="recognized", person_id=person.pk, score=0.71),
    )
    item = page.locator(f'#feed li[data-detection-id="{known.pk}"]')
    expect(item).to_contain_text("Ada Lovelace", timeout=WAIT_MS)
    expect(item).to_contain_text("0.71")
    expect(item).to_contain_text("Front door")
    expect(item.locator("img.face")).to_have_attribute("src", BLOB_URL, timeout=WAIT_MS)

    unknown_event = track_event(status="unknown")
    unknown = in_thread(recording.record_event, camera, unknown_event)
    expect(page.locator(f'#feed li[data-detection-id="{unknown.pk}"]')).to_contain_text(
        "unknown", timeout=WAIT_MS
    )
    first = page.locator("#feed li").first
    expect(first).to_have_attribute("data-detection-id", str(unknown.pk))  # newest first
    shot(page, "2-feed")

    # The track ends unrecognised: its face joins a group, which the page offers to label.
    ended = track_event("ended", track_id=unknown_event.track_id, embedding=unknown_event.embedding)
    in_thread(recording.record_event, camera, ended)
    group = in_thread(lambda: UnknownFace.objects.get())
    row = page.locator(f'#unknown li[data-group-id="{group.pk}"]')
    expect(row).to_contain_text(f"unknown #{group.pk}", timeout=WAIT_MS)
    row.locator("select").select_option(str(person.pk))
    shot(page, "3-unknown-group")
    row.get_by_role("button", name="This is…").click()
    expect(row).to_have_count(0, timeout=WAIT_MS)
    group = in_thread(lambda: UnknownFace.objects.select_related("resolved_person").get())
    assert group.resolved_person == person
    shot(page, "4-labelled")

    in_thread(camera_goes_offline, camera)
    expect(tile.locator(".status")).to_have_text("offline", timeout=WAIT_MS)
    no_rate = "\u2013"  # the page's dash for a rate not known
    expect(meta).to_contain_text(f"{no_rate} fps analysed · {no_rate} fps read")
    expect(tile.locator("img")).to_be_hidden()
    shot(page, "5-camera-offline")

    assert console.errors == []


def test_the_page_reconnects_after_a_server_restart(server, page):
    page, console = page
    in_thread(setup_desk)
    sign_in(page, server, "desk@example.com")

    console.muted = True  # refused connections while the server is down are expected
    server.stop()
    badge = page.locator("#connection")
    expect(badge).to_have_attribute("data-state", "reconnecting", timeout=WAIT_MS)
    expect(badge).to_contain_text("Reconnecting in")
    expect(page.locator("#notice")).to_be_visible(timeout=WAIT_MS)
    shot(page, "6-reconnecting")
    server.start()
    expect(badge).to_have_attribute("data-state", "live", timeout=60_000)
    console.muted = False
    expect(page.locator("#notice")).to_be_hidden(timeout=WAIT_MS)  # the outage's notice
    shot(page, "7-reconnected")

    camera = in_thread(Camera.objects.get)
    detection = in_thread(recording.record_event, camera, track_event(status="unknown"))
    expect(page.locator(f'#feed li[data-detection-id="{detection.pk}"]')).to_be_visible(
        timeout=WAIT_MS
    )
    assert console.errors == []
