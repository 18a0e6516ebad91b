"""Settings for Presence, read from environment variables.

One module serves both ways of running (see architecture.md): with nothing set it is the
embedded system (SQLite, in-memory channel layer and cache, eager Celery, local media);
``DATABASE_URL``, ``REDIS_URL`` and ``S3_*`` switch each part to its production engine.
The README lists every variable.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_str
from config.logs import logging_config
from config.periodic import beat_schedule
from config.secret_key import resolve_secret_key
from config.storage import s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PRESENCE_VAR_DIR", str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------------------
# No default key (config.secret_key): production gives one, and only the embedded run
# (`make run` sets PRESENCE_EMBEDDED=1) makes its own under var/. DEBUG is off unless asked.
EMBEDDED = env_bool("PRESENCE_EMBEDDED", False)
SECRET_KEY = resolve_secret_key(
    env_str("SECRET_KEY"), embedded=EMBEDDED, var_dir=VAR_DIR, argv=sys.argv
)
DEBUG = env_bool("DEBUG", False)
# Fernet keys for credentials at rest, newest first; derived from SECRET_KEY when empty.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# How many reverse proxies in front of us append to X-Forwarded-For (0: trust none).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS: on by default outside DEBUG, so `manage.py check --deploy` is clean. Production
# serves TLS at a proxy; SECURE_SSL_REDIRECT=0 is for a trial over plain HTTP, and then
# cookies are not marked secure either (a browser would not send them back).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Container healthchecks and Prometheus (inside the compose network) speak plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/", r"^metrics$"]
SESSION_COOKIE_SECURE = SECURE_SSL_REDIRECT
CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "config.apps.PresenceConfig",
    "accounts",
    "faces",
    "cameras",
    "detections",
    "attendance",
    "integrations",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "config.metrics_http.RequestMetricsMiddleware",
    "config.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.ApiUtcMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A refusal in the admin is a page saying what the role may do, logged in one line.
    "accounts.admin_forbidden.AdminForbiddenMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite cannot create its folder
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'presence.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every request runs in a thread of its own, so per-thread persistent
    # connections are never reused: each request would open one and leave it open
    # (BENCHMARKS.md, api_live). A process-wide pool serves them all instead.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # conn_health_checks (above) makes Django give the pool check=check_connection: each
    # connection is checked as it leaves the pool, so those that a database restart broke
    # are replaced instead of handed out (issue 7, "Faults").
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN", 2),
        "max_size": env_int("DB_POOL_MAX", 20),
        "timeout": env_float("DB_POOL_TIMEOUT", 10.0),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded run writes from camera threads and requests at once: WAL and a busy
    # timeout keep SQLite from answering "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so tests can start real supervisor processes on the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-presence.sqlite3")}

# --- Redis: cache, channel layer, Celery ------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# The test suite empties the cache around every test: under pytest (PRESENCE_TESTING, set
# in pyproject.toml) Redis is used in a database of its own, REDIS_TEST_DB, so that the
# data of a developer's REDIS_URL database is never flushed.
if REDIS_URL and env_bool("PRESENCE_TESTING", False):
    REDIS_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{env_int('REDIS_TEST_DB', 15)}"))
REDIS_TIMEOUT_SECONDS = env_float("REDIS_TIMEOUT_SECONDS", 2.0)
# After Redis failed to answer, the cache skips it for this long (a miss, a dropped
# write) instead of making each request wait for a connection (config/cache.py).
CACHE_BREAKER_SECONDS = env_float("CACHE_BREAKER_SECONDS", 2.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "presence",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults to a 5 s socket timeout, the same as channels-redis's
                # blocking pop, so idle reads would time out: reads get longer than that,
                # while an unreachable Redis still fails within the connect timeout.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                        "socket_timeout": 15,
                    }
                ],
                "prefix": "presence",
                "capacity": 500,
                "expiry": 30,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3600)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = beat_schedule()
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING (LOG_FORMAT, request/camera ids, secret masking), not
# handlers of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# In the embedded run nothing else runs beat: the server process runs periodic jobs itself.
EMBEDDED_SCHEDULER = env_bool("EMBEDDED_SCHEDULER", not REDIS_URL)
# ... and the camera supervisor runs as threads of the server process.
EMBEDDED_CAMERAS = env_bool("EMBEDDED_CAMERAS", not REDIS_URL)
# daphne processes started by `manage.py serve` (config/launcher.py): one per core when
# Redis shares the cache, channel layer and counters between them; the embedded run keeps
# its in-memory layers and its scheduler in one process.
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", len(os.sched_getaffinity(0)) if REDIS_URL else 1)

# --- Storage ----------------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATIC_URL = "/static/"
S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    DEFAULT_STORAGE = s3_storage(
        bucket=S3_BUCKET,
        endpoint_url=env_str("S3_ENDPOINT_URL") or None,
        access_key=env_str("S3_ACCESS_KEY_ID") or None,
        secret_key=env_str("S3_SECRET_ACCESS_KEY") or None,
        region=env_str("S3_REGION") or None,
        addressing_style=env_str("S3_ADDRESSING_STYLE", "path"),
    )
else:
    DEFAULT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# File sources (tests, the demo) must lie under this folder, so a camera URL can never
# be used to read other files of the server.
CAMERA_FILE_ROOT = Path(env_str("CAMERA_FILE_ROOT", str(MEDIA_ROOT / "videos")))

# How camera streams are decoded: "ffmpeg" (the default: one ffmpeg process per camera;
# opens in parallel, decoding outside the server, frames thinned to the analysis rate in
# the decoder, a stuck source is a process that is killed) or "opencv" (cv2.VideoCapture
# in the reader's thread; opens are serialised under OpenCV's lock, every frame is
# converted). A device index (a local webcam) is always read through OpenCV.
CAMERA_DECODER = env_str("CAMERA_DECODER", "ffmpeg").strip().lower()
if CAMERA_DECODER not in ("opencv", "ffmpeg"):
    raise ImproperlyConfigured(
        f'CAMERA_DECODER must be "opencv" or "ffmpeg", not {CAMERA_DECODER!r}'
    )

# Idle mode: a camera whose analysis found no face for this many seconds decodes key frames
# alone (about one a second, a fraction of a full decode) until a frame shows a face again.
# It saves CPU on cameras that watch empty corridors most of the day, at the price of
# noticing someone up to a key-frame interval (plus a reopen) later. 0 turns it off; it
# needs CAMERA_DECODER=ffmpeg and a stream (not a file).
CAMERA_IDLE_SECONDS = env_float("CAMERA_IDLE_SECONDS", 0.0)
if CAMERA_IDLE_SECONDS < 0:
    raise ImproperlyConfigured("CAMERA_IDLE_SECONDS must be 0 (off) or a number of seconds")

# The whole list of networks (CIDRs) a camera may be in. A camera URL whose host is, or
# resolves to, an address outside them is refused when saved and again before each
# connection, so a camera cannot be pointed at the server's own services (loopback,
# cloud metadata at 169.254.169.254). Cameras live on private LANs: list loopback
# (127.0.0.0/8) only for tests or a camera on the server itself.
CAMERA_ALLOWED_NETWORKS = env_list(
    "CAMERA_ALLOWED_NETWORKS", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
)

# Odoo is usually on the internet or a LAN, so its base URL is checked against a
# block-list, not an allow-list: these networks (link-local, where cloud metadata
# answers; unspecified; multicast) are refused when the URL is saved and before each
# connection, and so is loopback unless ODOO_ALLOW_LOOPBACK (tests, and the embedded
# demo run, whose Odoo emulator listens on loopback).
ODOO_BLOCKED_NETWORKS = env_list(
    "ODOO_BLOCKED_NETWORKS",
    ["169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "::/128", "224.0.0.0/4", "ff00::/8"],
)
ODOO_ALLOW_LOOPBACK = env_bool("ODOO_ALLOW_LOOPBACK", EMBEDDED)

# The camera pipeline: frames of a track before it counts, embeddings before a track can
# be recognised, and the sharpness a face needs to be considered at all.
PIPELINE_CONFIRM_HITS = env_int("PIPELINE_CONFIRM_HITS", 2)
PIPELINE_MIN_VOTES = env_int("PIPELINE_MIN_VOTES", 2)
PIPELINE_MIN_BLUR = env_float("PIPELINE_MIN_BLUR", 25)

# Detections and unknown faces are purged after these many days.
DETECTION_RETENTION_DAYS = env_int("DETECTION_RETENTION_DAYS", 30)
UNKNOWN_RETENTION_DAYS = env_int("UNKNOWN_RETENTION_DAYS", 7)
# Cosine similarity for an unknown face to join an existing unknown group.
UNKNOWN_GROUP_THRESHOLD = env_float("UNKNOWN_GROUP_THRESHOLD", 0.45)
# Reads of face photos, crops and frames by one user within this many seconds share one
# audit row (accounts.audit_reads).
AUDIT_READ_BATCH_SECONDS = env_int("AUDIT_READ_BATCH_SECONDS", 60)
# Attendance: after a sighting that made a check-in or check-out, further sightings of
# the same person on any camera make no event for this many seconds.
ATTENDANCE_COOLDOWN_SECONDS = env_int("ATTENDANCE_COOLDOWN_SECONDS", 120)
# Recognised sightings are decided in batches per process (attendance.batcher): at most
# this many, at most this long after the first one queued; 0 seconds decides each at once.
ATTENDANCE_BATCH_SIZE = env_int("ATTENDANCE_BATCH_SIZE", 200)
ATTENDANCE_BATCH_SECONDS = env_float("ATTENDANCE_BATCH_SECONDS", 0.2)

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Passwords --------------------------------------------------------------------------
# bcrypt, as the specification requires (SHA-256 first, so passwords over bcrypt's 72
# bytes still count in full). Django's PBKDF2 hashers follow so that hashes made before
# are still checked, and are rehashed with bcrypt at the user's next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- API --------------------------------------------------------------------------------
# Bodies above this are answered 413 before any view reads them. Face photos are capped
# separately (10 MB) by the image decoder; this leaves room for the multipart framing.
API_MAX_REQUEST_BYTES = env_int("API_MAX_REQUEST_BYTES", 12 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SessionJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.RolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON everywhere (api.md); the endpoints that take a photo declare MultiPartParser
    # themselves. A form cannot say null, and the fuzzer found its text coerced.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "config.api.filters.ApiFilterBackend",
        "config.api.filters.StrictSearchFilter",
        "config.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.PresenceAutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.envelope_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rates: THROTTLE_RATES below (accounts.api.throttles).
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.api.throttles.UserRateThrottle",
        "accounts.api.throttles.ScopedRateThrottle",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# Password guesses allowed per window (accounts.throttling), for the API's and the
# admin's sign-in alike: per account, and, well above that, per client address.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 60)
# Request rates ("number/period", period s, min, h or day; empty: no limit), per user or,
# signed out, per address (accounts.api.throttles): "user" for every request, the others
# on top of it for the endpoints that cost the most.
THROTTLE_RATES = {
    "user": env_str("THROTTLE_USER_RATE", "600/min"),
    "identify": env_str("THROTTLE_IDENTIFY_RATE", "60/min"),
    "verify": env_str("THROTTLE_VERIFY_RATE", "60/min"),
    "camera_test": env_str("THROTTLE_CAMERA_TEST_RATE", "10/min"),
    "odoo_test": env_str("THROTTLE_ODOO_TEST_RATE", "10/min"),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Presence API",
    "DESCRIPTION": "Face-recognition attendance: people, cameras, detections, attendance "
    "and the Odoo HR integration. Every error body is "
    '`{"error": {"code", "message", "details"}}`.',
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "accounts.models.Role.choices",
        "AttendanceKindEnum": "attendance.models.EventKind.choices",
        "OutboxKindEnum": "integrations.models.OutboxKind.choices",
        "SyncJobKindEnum": "integrations.models.SyncJobKind.choices",
        "DecoderStateEnum": "cameras.models.DecoderState.choices",
    },
    # Swagger UI and ReDoc from the pinned package, served as static files: the docs work
    # on a network without internet and never load code from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.document_input_rules",
    ],
}

CORS_ALLOWED_ORIGINS = env_list(
    "CORS_ALLOWED_ORIGINS", ["http://localhost:3000", "http://localhost:5173"]
)
CORS_URLS_REGEX = r"^/(api|ws)/.*$"
# Browser pages that may open the WebSocket, besides the server's own origin; a browser
# connection from any other origin is closed with code 4403. Clients that send no Origin
# (not browsers) are not origin-checked: their token decides (accounts.ws_auth).
WS_ALLOWED_ORIGINS = env_list("WS_ALLOWED_ORIGINS", CORS_ALLOWED_ORIGINS)

# --- Faces ------------------------------------------------------------------------------
# The engine (faces.engine) reads FACE_ENGINE, FACE_MODEL_DIR, FACE_ORT_THREADS,
# FACE_DETECT_WIDTH and FACE_DETECTION_SCORE from here.
FACE_ENGINE = env_str("FACE_ENGINE", "sface")
FACE_MODEL_DIR = env_str("FACE_MODEL_DIR") or None
FACE_ORT_THREADS = env_int("FACE_ORT_THREADS", 1)
FACE_DETECT_WIDTH = env_int("FACE_DETECT_WIDTH", 640)
FACE_DETECTION_SCORE = env_float("FACE_DETECTION_SCORE", 0.7)
# Cosine similarity: act at or above MATCH (with MIN_MARGIN over the second person), call
# a face unknown below UNKNOWN, uncertain in between. Measured in BENCHMARKS.md.
FACE_MATCH_THRESHOLD = env_float("FACE_MATCH_THRESHOLD", 0.50)
FACE_UNKNOWN_THRESHOLD = env_float("FACE_UNKNOWN_THRESHOLD", 0.40)
FACE_MIN_MARGIN = env_float("FACE_MIN_MARGIN", 0.08)
FACE_GALLERY_CHECK_SECONDS = env_float("FACE_GALLERY_CHECK_SECONDS", 1.0)
# Enrolment quality gates.
FACE_MIN_EYE_DISTANCE = env_float("FACE_MIN_EYE_DISTANCE", 40)
FACE_MIN_BOX = env_float("FACE_MIN_BOX", 100)
FACE_MIN_BLUR = env_float("FACE_MIN_BLUR", 40)
FACE_MAX_YAW = env_float("FACE_MAX_YAW", 35)
# The gates for a camera's face crop enrolled by naming a detection or an unknown-face group
# ("who is this?"). A camera sees faces smaller than a portrait photo: the pipeline keeps
# faces from 60 px (a camera's default min_face_size), and the door video's crops measure
# 91x109 px with eyes 46 px apart, so the photo gate (100 px) refused every one. Eye
# distance keeps the photo gate's ratio to the box (0.4); sharpness and yaw are measured on
# the aligned 112 px crop whatever the face's size, so they keep the photo gates.
FACE_CROP_MIN_EYE_DISTANCE = env_float("FACE_CROP_MIN_EYE_DISTANCE", 24)
FACE_CROP_MIN_BOX = env_float("FACE_CROP_MIN_BOX", 60)
# Naming an unknown-face group enrols at most this many of its best crops.
UNKNOWN_ENROL_MAX_CROPS = env_int("UNKNOWN_ENROL_MAX_CROPS", 3)
FACE_MAX_IMAGE_BYTES = env_int("FACE_MAX_IMAGE_BYTES", 10 * 1024 * 1024)
FACE_MAX_IMAGE_PIXELS = env_int("FACE_MAX_IMAGE_PIXELS", 40_000_000)

# --- Metrics ----------------------------------------------------------------------------
# GET /metrics (Prometheus text format, config.metrics_http). Readers need the bearer
# token when METRICS_TOKEN (or METRICS_TOKEN_FILE) is set, and an address in
# METRICS_ALLOWED_NETWORKS when that is non-empty; with neither, /metrics answers 403.
# PROMETHEUS_MULTIPROC_DIR (read by prometheus-client itself) makes web, workers and
# camera supervisors write to one folder that every scrape sums (README, "Production").
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
# HOST:PORT on which ``run_cameras`` answers GET /metrics itself (config.metrics_server), for
# a camera host without a web service of its own; empty (the default): no listener.
CAMERA_METRICS_BIND = env_str("CAMERA_METRICS_BIND")

# --- Logging ----------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# "plain" (a line for people) or "json" (one JSON object a line, for a log collector). Both
# carry the request id and camera id, and mask secrets in every record (config.logs).
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
try:
    LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc
