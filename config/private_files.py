"""Serving face photos, crops and frames: only through views that check permission.

Nothing biometric has a public URL. Every such image is streamed by a view that has
already checked the caller, with headers that keep browsers and proxies from storing it.
"""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse


def private_jpeg(source: FieldFile | bytes) -> HttpResponse:
    """A JPEG response from a stored file (streamed) or from bytes (the live cache)."""
    if isinstance(source, bytes | bytearray):
        response = HttpResponse(source, content_type="image/jpeg")
    else:
        response = FileResponse(source.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
