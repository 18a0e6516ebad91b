"""Reading uploaded images for the API: size limits, decoding, and clear 4xx errors."""

from __future__ import annotations

import cv2
import numpy as np
from django.conf import settings
from rest_framework import status

from config.api.errors import ApiError
from faces.engine import ImageRejected, decode_image

REJECTION_STATUS = {
    ImageRejected.IMAGE_TOO_LARGE: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    ImageRejected.TOO_MANY_PIXELS: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    ImageRejected.NOT_AN_IMAGE: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    ImageRejected.CORRUPT_IMAGE: status.HTTP_422_UNPROCESSABLE_ENTITY,
}


def read_upload(uploaded, field: str = "image") -> bytes:
    """The bytes of an uploaded file, reading no more than the limit allows."""
    if uploaded is None or isinstance(uploaded, str):
        raise ApiError(
            "Send the photo as a multipart file field.",
            code="validation_error",
            details={field: ["No file was submitted."]},
        )
    limit = settings.FACE_MAX_IMAGE_BYTES
    if uploaded.size is not None and uploaded.size > limit:
        raise ApiError(
            f"The image is {uploaded.size} bytes; the limit is {limit}.",
            code=ImageRejected.IMAGE_TOO_LARGE,
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            details={field: [f"At most {limit} bytes."]},
        )
    uploaded.seek(0)
    return uploaded.read(limit + 1)


def decode_or_reject(data: bytes, field: str = "image") -> np.ndarray:
    try:
        return decode_image(
            data,
            max_bytes=settings.FACE_MAX_IMAGE_BYTES,
            max_pixels=settings.FACE_MAX_IMAGE_PIXELS,
        )
    except ImageRejected as exc:
        raise ApiError(
            exc.message,
            code=exc.code,
            status_code=REJECTION_STATUS.get(exc.code, status.HTTP_422_UNPROCESSABLE_ENTITY),
            details={field: [exc.message]},
        ) from exc


def encode_jpeg(image_bgr: np.ndarray, quality: int = 92) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buffer.tobytes()
