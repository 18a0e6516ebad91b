"""Encryption at rest for credentials (camera passwords, the Odoo API key).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256). Keys come from
``FIELD_ENCRYPTION_KEYS`` (comma-separated Fernet keys, newest first, so keys can be
rotated: old values still decrypt and are re-encrypted with the first key on save); when
unset, one key is derived from ``SECRET_KEY``, which keeps the embedded run working
without setup. The database alone never reveals a secret.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

PREFIX = "enc1:"


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        digest = hashlib.sha256(f"presence-field-encryption:{secret_key}".encode()).digest()
        keys = (base64.urlsafe_b64encode(digest).decode(),)
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes each)."
        ) from exc


def fernet() -> MultiFernet:
    """The cipher for the configured keys; the first encrypts, all of them decrypt."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    """Encrypt for storage, prefixed so encrypted values are recognisable."""
    return PREFIX + fernet().encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    """Decrypt a stored value; ``ValueError`` when it is not ours or the key changed."""
    if not stored.startswith(PREFIX):
        raise ValueError("value is not encrypted by Presence")
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: the encryption key changed") from exc


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees plain text.

    Name such fields so the audit log masks them (``password``, ``secret``, ``api_key``).
    """

    def from_db_value(
        self, value: str | None, expression: object, connection: BaseDatabaseWrapper
    ) -> str | None:
        """Decrypt on the way out of the database; empty stays empty."""
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        """Encrypt on the way into the database; empty stays empty."""
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
