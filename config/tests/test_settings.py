"""Settings come from the environment and refuse unsafe combinations."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "REDIS_URL"}}
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps([s.DEBUG, s.CACHES['default']['BACKEND'], "
            "s.CHANNEL_LAYERS['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER, "
            "s.STORAGES['default']['BACKEND']]))",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_refuses_debug_off_with_development_key():
    result = load_settings(DEBUG="0")
    assert result.returncode != 0
    assert "development SECRET_KEY" in result.stderr


def test_debug_follows_the_secret_key_unless_given():
    bare = load_settings()
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout.startswith("[true,")
    production = load_settings(SECRET_KEY="a-real-production-secret-0123456789")
    assert production.returncode == 0, production.stderr
    assert production.stdout.startswith("[false,")


def test_embedded_defaults():
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '[true, "django.core.cache.backends.locmem.LocMemCache", '
        '"channels.layers.InMemoryChannelLayer", true, '
        '"django.core.files.storage.FileSystemStorage"]'
    )


def test_production_switches(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("a-real-production-secret-from-a-file\n")
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
    result = load_settings(DEBUG="maybe")
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


def test_seed_demo_without_faces_dev_uses_t1(tmp_path, db, demo_storage, monkeypatch):
    from django.core.management import call_command

    from cameras.models import Camera
    from faces.models import Person

    monkeypatch.setenv("PRESENCE_DEMO_FACES", str(tmp_path / "missing"))
    call_command("seed_demo")
    assert sorted(Person.objects.values_list("employee_code", flat=True)) == ["DEMO-A", "DEMO-B"]
    assert Camera.objects.count() == 1


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
