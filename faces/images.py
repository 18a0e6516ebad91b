"""Reading uploaded images: size limits, decoding, and refusals that say what is wrong.

The refusals are ``faces.exceptions.ImageError`` subclasses; the API answers them with a
4xx in the envelope and the admin shows their message.
"""

from __future__ import annotations

import cv2
import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from faces.engine import ImageRejected, decode_image
from faces.exceptions import (
    CorruptImage,
    ImageError,
    ImageMissing,
    ImageTooLarge,
    UnsupportedImage,
)

REJECTIONS: dict[str, type[ImageError]] = {
    ImageRejected.IMAGE_TOO_LARGE: ImageTooLarge,
    ImageRejected.TOO_MANY_PIXELS: ImageTooLarge,
    ImageRejected.NOT_AN_IMAGE: UnsupportedImage,
    ImageRejected.CORRUPT_IMAGE: CorruptImage,
}


def read_upload(uploaded: UploadedFile | str | None, field: str = "image") -> bytes:
    """The bytes of an uploaded file, reading no more than the limit allows."""
    if uploaded is None or isinstance(uploaded, str):
        raise ImageMissing(
            "Send the photo as a multipart file field.",
            details={field: ["No file was submitted."]},
        )
    limit = settings.FACE_MAX_IMAGE_BYTES
    if uploaded.size is not None and uploaded.size > limit:
        raise ImageTooLarge(
            f"The image is {uploaded.size} bytes; the limit is {limit}.",
            details={field: [f"At most {limit} bytes."]},
        )
    uploaded.seek(0)
    return uploaded.read(limit + 1)


def decode_or_reject(data: bytes, field: str = "image") -> np.ndarray:
    """Decode an uploaded photo within the configured limits, or raise an ``ImageError``."""
    try:
        return decode_image(
            data,
            max_bytes=settings.FACE_MAX_IMAGE_BYTES,
            max_pixels=settings.FACE_MAX_IMAGE_PIXELS,
        )
    except ImageRejected as exc:
        error = REJECTIONS.get(exc.code, CorruptImage)
        raise error(exc.message, code=exc.code, details={field: [exc.message]}) from exc


def encode_jpeg(image_bgr: np.ndarray, quality: int = 92) -> bytes:
    """JPEG bytes for storing a photo or crop; a failed encoding is a bug, not bad input."""
    ok, buffer = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buffer.tobytes()
