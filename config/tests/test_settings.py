"""Settings come from the environment and refuse unsafe combinations."""

import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


STRONG_KEY = "a-real-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
SUMMARY = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.DEBUG, s.CACHES['default']['BACKEND'], "
    "s.CHANNEL_LAYERS['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER, "
    "s.STORAGES['default']['BACKEND']]))"
)
KEY_DIGEST = (
    "import django, hashlib; django.setup(); from django.conf import settings as s; "
    "print(hashlib.sha256(s.SECRET_KEY.encode()).hexdigest())"
)
SETTING_NAMES = {
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "DEBUG",
    "REDIS_URL",
    "PRESENCE_EMBEDDED",
    "SECURE_SSL_REDIRECT",
}


def _environment(env: dict) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    clean.update(env)
    return {**clean, "DJANGO_SETTINGS_MODULE": "config.settings"}


def load_settings(code: str = SUMMARY, **env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly ``env`` on top."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_environment(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("debug", [None, "0", "1"])
def test_refuses_to_start_without_a_secret_key(debug):
    env = {} if debug is None else {"DEBUG": debug}
    result = load_settings(**env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "make env" in result.stderr


@pytest.mark.parametrize(
    "key", ["short-key", "change-me-to-a-long-random-string-0123456789-abcdefghij", "a" * 80]
)
def test_refuses_a_weak_or_placeholder_key(key):
    result = load_settings(SECRET_KEY=key)
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_debug_is_off_unless_asked():
    production = load_settings(SECRET_KEY=STRONG_KEY)
    assert production.returncode == 0, production.stderr
    assert production.stdout.startswith("[false,")
    debug = load_settings(SECRET_KEY=STRONG_KEY, DEBUG="1")
    assert debug.stdout.startswith("[true,")


def test_embedded_run_makes_its_key_once_and_keeps_it(tmp_path):
    var = tmp_path / "var"
    env = {"PRESENCE_EMBEDDED": "1", "PRESENCE_VAR_DIR": str(var)}
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", KEY_DIGEST],
            cwd=ROOT,
            env=_environment(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    digests = {start.communicate(timeout=60)[0].strip() for start in starts}
    assert all(start.returncode == 0 for start in starts)
    later = load_settings(KEY_DIGEST, **env)
    assert digests == {later.stdout.strip()}, "every start must agree on one key"
    key_file = var / "secret-key"
    assert len(key_file.read_text().strip()) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert [path.name for path in var.iterdir()] == ["secret-key"]
    other = load_settings(KEY_DIGEST, PRESENCE_EMBEDDED="1", PRESENCE_VAR_DIR=str(tmp_path / "b"))
    assert other.stdout.strip() not in digests, "each installation gets its own random key"


def test_embedded_defaults(tmp_path):
    result = load_settings(DEBUG="1", PRESENCE_EMBEDDED="1", PRESENCE_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '[true, "django.core.cache.backends.locmem.LocMemCache", '
        '"channels.layers.InMemoryChannelLayer", true, '
        '"django.core.files.storage.FileSystemStorage"]'
    )


def test_deploy_checks_are_clean_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_environment({"SECRET_KEY": STRONG_KEY, "DEBUG": "0"}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_switches(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(STRONG_KEY + "-from-a-file\n")
    result = load_settings(
        DEBUG="0",
        SECRET_KEY_FILE=str(secret),
        REDIS_URL="redis://127.0.0.1:6379/3",
        S3_BUCKET="presence",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '[false, "config.cache.ResilientRedisCache", '
        '"channels_redis.core.RedisChannelLayer", false, "storages.backends.s3.S3Storage"]'
    )


def test_bad_boolean_is_a_clear_error():
    result = load_settings(DEBUG="maybe", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.fixture
def demo_storage(tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.CAMERA_FILE_ROOT = tmp_path / "videos"


def test_seed_demo_enrols_people_and_adds_a_camera_once(tmp_path, db, demo_storage, monkeypatch):
    from django.core.management import call_command

    from attendance.models import PersonSchedule, WorkSchedule
    from cameras.models import Camera
    from faces import testing
    from faces.models import FaceSample, Person

    enroll = tmp_path / "faces-dev" / "enroll" / "eileen_collins"
    enroll.mkdir(parents=True)
    probe = tmp_path / "faces-dev" / "probe"
    probe.mkdir()
    photo = testing.jpeg_bytes(testing.scaled(testing.astronaut(), 2))
    (enroll / "a.jpg").write_bytes(photo)
    for name in ("obama1.jpg", "johnsnow_test1.jpg", "alex_lacamoire1.jpg"):
        (probe / name).write_bytes(photo)
    monkeypatch.setenv("PRESENCE_DEMO_FACES", str(tmp_path / "faces-dev" / "enroll"))
    call_command("seed_demo")
    call_command("seed_demo")
    assert Person.objects.get().full_name == "Eileen Collins"
    assert FaceSample.objects.count() == 1
    camera = Camera.objects.get()
    video = tmp_path / "videos" / "demo-door.mp4"
    assert video.exists() and camera.source_url == f"file://{video.resolve()}"
    assert camera.direction == "entry"
    schedule = WorkSchedule.objects.get()
    assert sorted(schedule.intervals.values_list("weekday", "start", "end"))[:2] == [
        (0, time(8), time(12)),
        (0, time(13), time(17)),
    ]
    assert schedule.intervals.count() == 10
    assert PersonSchedule.objects.get().schedule == schedule


def test_seed_demo_without_faces_dev_uses_t1(tmp_path, db, demo_storage, monkeypatch):
    from django.core.management import call_command

    from cameras.models import Camera
    from faces.engine import decode_image, get_engine
    from faces.models import FaceSample, Person

    monkeypatch.setenv("PRESENCE_DEMO_FACES", str(tmp_path / "missing"))
    call_command("seed_demo")
    people = Person.objects.order_by("employee_code")
    assert [(p.employee_code, p.full_name) for p in people] == [
        ("DEMO-GREY", "Grey shirt (demo)"),
        ("DEMO-RED", "Red shirt (demo)"),
    ]
    assert Camera.objects.count() == 1
    engine = get_engine()
    for person in people:
        sample = FaceSample.objects.get(person=person)
        with sample.image.open("rb") as stored:
            photo = decode_image(stored.read())
        # The stored photo (the thumbnail's source) is this person alone, not the group.
        assert len(engine.detect(photo)) == 1
        assert photo.shape[0] * photo.shape[1] < 0.2 * (886 * 2) * (1280 * 2)
        assert sample.bbox[2] >= 100


def test_https_redirect_spares_only_the_healthchecks(client, settings):
    """Behind SECURE_SSL_REDIRECT, plain HTTP is sent to HTTPS, except container probes."""
    settings.SECURE_SSL_REDIRECT = True
    redirected = client.get("/api/v1/auth/me")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/api/v1/auth/me"
    assert client.get("/api/v1/health/live").status_code == 200
    assert client.get("/api/v1/auth/me", secure=True).status_code == 401


def test_tests_flush_a_redis_database_of_their_own():
    """The autouse cache flush must never empty the database REDIS_URL names."""
    from redis import Redis

    from config.testing import RedisServer

    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "from django.core.cache import cache; cache.set('test-key', 1); cache.clear(); "
        "print(s.CACHES['default']['LOCATION'], s.CHANNEL_LAYERS['default']['CONFIG']"
        "['hosts'][0]['address'], s.CELERY_BROKER_URL)"
    )
    with RedisServer() as server:
        developer = Redis.from_url(server.url(0))
        developer.set("developer-data", "kept")
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "REDIS_TEST_DB"}}
        env.update(REDIS_URL=server.url(0), PRESENCE_TESTING="1", REDIS_TEST_DB="9")
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [server.url(9)] * 3
        assert developer.get("developer-data") == b"kept"
        developer.close()


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_environment(env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_commands_that_only_read_the_code_need_no_key():
    """Writing migrations and collecting static files sign nothing: a bare checkout (and
    the Docker build) runs them without a key, each with a throwaway one."""
    result = _manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_commands_that_use_the_key_still_refuse_without_one():
    for command in (["migrate", "--check"], ["check"], ["runserver", "--noreload"]):
        result = _manage(*command)
        assert result.returncode != 0, command
        assert "SECRET_KEY is not set" in result.stderr, command
