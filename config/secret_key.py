"""Where SECRET_KEY comes from, failing closed.

SECRET_KEY signs JWTs and sessions and derives the key that encrypts camera and Odoo
credentials, so a public default would let anyone forge an admin token. There is none:
production gives the key (``SECRET_KEY`` or ``SECRET_KEY_FILE``), and only the embedded
run (``make run``, which sets ``PRESENCE_EMBEDDED=1``) may make one itself. It does so
once, at random, and keeps it under ``var/`` beside the initial admin password, so
restarts keep tokens and encrypted credentials valid. Any other start without a key is
refused with a message that says what to do, except the commands that only read the
code (``KEYLESS_COMMANDS``: writing migrations, collecting static files, the OpenAPI
schema): they sign and encrypt nothing, so they get a throwaway random key that no other
process ever sees.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Django's own check (security.W009) calls shorter keys weak.
MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
KEY_FILE_NAME = "secret-key"
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "django-insecure")
KEYLESS_COMMANDS = frozenset({"makemigrations", "collectstatic", "spectacular"})

MISSING_MESSAGE = (
    "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE) to a random string of at "
    "least {min_length} characters, for example the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`; `make env` writes one "
    "into .env for docker compose. Only the embedded run (`make run`, PRESENCE_EMBEDDED=1) "
    "makes and keeps a key of its own under var/."
)


def resolve_secret_key(
    given: str, *, embedded: bool, var_dir: Path, argv: list[str] | None = None
) -> str:
    """The key to use: the one given, the embedded run's own, or a throwaway one for a
    keyless command (``argv`` is the process's); never a default."""
    if given:
        check_strength(given)
        return given
    if embedded:
        return embedded_secret_key(var_dir)
    if keyless_command(argv or []):
        return secrets.token_urlsafe(64)
    raise ImproperlyConfigured(MISSING_MESSAGE.format(min_length=MIN_LENGTH))


def keyless_command(argv: list[str]) -> bool:
    """Whether ``argv`` runs ``manage.py`` (or ``django-admin``) with a keyless command."""
    if len(argv) < 2 or Path(argv[0]).name not in ("manage.py", "django-admin"):
        return False
    return argv[1] in KEYLESS_COMMANDS


def check_strength(key: str) -> None:
    """Refuse a key that is short, repetitive or an example's placeholder."""
    lowered = key.lower()
    if (
        len(key) < MIN_LENGTH
        or len(set(key)) < MIN_UNIQUE_CHARACTERS
        or any(marker in lowered for marker in _PLACEHOLDER_MARKERS)
    ):
        raise ImproperlyConfigured(
            f"SECRET_KEY is too weak: use a random string of at least {MIN_LENGTH} "
            "characters, not an example's placeholder. "
            + MISSING_MESSAGE.format(min_length=MIN_LENGTH).split(". ", 1)[1]
        )


def embedded_secret_key(var_dir: Path) -> str:
    """Read the embedded run's key from ``var_dir``, creating it (mode 0600) the first time.

    The key is written to a temporary file and linked into place, which fails if the file
    exists: two processes starting at once agree on one key and never read a half-written
    one.
    """
    path = var_dir / KEY_FILE_NAME
    var_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor, temporary = tempfile.mkstemp(dir=var_dir, prefix=".secret-key-")
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(64))
            os.chmod(temporary, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it and start again.")
    return key
