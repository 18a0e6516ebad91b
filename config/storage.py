"""Where media (face photos, detection crops and frames) is stored: the storage settings.

One function builds the S3 (MinIO) backend's settings, so production (``S3_*`` in
``config.settings``) and the tests that run the same backend against an S3 server on
loopback (``config/tests/test_media_s3.py``) configure it the same way.
"""

from __future__ import annotations

from typing import Any


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str | None,
    access_key: str | None,
    secret_key: str | None,
    region: str | None,
    addressing_style: str = "path",
) -> dict[str, Any]:
    """django-storages' S3 backend for private media: no ACL (the bucket is private),
    signed URLs, and never overwriting an object under a name already taken."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "access_key": access_key,
            "secret_key": secret_key,
            "region_name": region,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "addressing_style": addressing_style,
            "signature_version": "s3v4",
        },
    }
