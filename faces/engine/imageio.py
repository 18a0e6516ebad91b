"""Turn untrusted uploaded bytes into the BGR array the engines expect, safely.

Enrolment photos and probe images come from clients, so decoding is an attack surface:
a few kilobytes of PNG can declare 20000x20000 pixels and exhaust memory once decoded.
The size in bytes is checked before anything is parsed, the pixel count is read from the
header by Pillow before any pixel data is decoded, and only a short list of common photo
formats is accepted (Pillow's rarer plugins, EPS above all, which runs Ghostscript, are
needless risk). Phones store orientation in EXIF rather than in the pixels, so it is applied
here: a sideways face is one the detector does not find.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .base import ImageRejected

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000

#: Pillow format names that are accepted; "JPEG" also opens the MPO files many cameras write.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
#: What a damaged file is told, in plain words: Pillow's own reasons ("Truncated File
#: Read", "broken data stream") name its internals, not what the user can do about it.
CUT_SHORT = (
    "The image file is damaged or incomplete (it may have been cut short while uploading); "
    "save or export it again and send the new file."
)

_HIGH_DEPTH_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_ALPHA_MODES = {"RGBA", "LA", "PA", "La", "RGBa"}


def decode_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode an uploaded image into a contiguous HxWx3 uint8 BGR array.

    Raises ``ImageRejected`` with code ``image_too_large`` (more than ``max_bytes``),
    ``too_many_pixels`` (header declares more than ``max_pixels``), ``not_an_image``
    (unknown or unsupported format) or ``corrupt_image`` (truncated or undecodable data).

    Colour handling: transparent pixels are composited on white (cut-out ID photos keep a
    light background instead of a black one that merges with dark hair), grey and CMYK are
    converted to colour, and 16-bit or 32-bit samples are scaled down to 8 bits rather than
    clipped. Only the first frame of an animated or multi-page file is used. Pillow's own
    decompression-bomb guard still applies, so ``max_pixels`` above ~178 million has no effect.
    """
    size = len(data)
    if size == 0:
        raise ImageRejected(ImageRejected.NOT_AN_IMAGE, "The file is empty.")
    if size > max_bytes:
        raise ImageRejected(
            ImageRejected.IMAGE_TOO_LARGE,
            f"The file is {size} bytes; the limit is {max_bytes} bytes.",
        )
    image = _open_checked(data, max_pixels)
    try:
        image.load()
        return _to_bgr(_apply_orientation(image))
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise ImageRejected(ImageRejected.CORRUPT_IMAGE, CUT_SHORT) from exc
    finally:
        image.close()


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Parse only the header and refuse the image before its pixels are decoded.

    Pillow's own bomb *warning* is silenced: the size check below refuses such images
    anyway, and the warning would only add noise to the logs for every refused upload.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ImageRejected(ImageRejected.TOO_MANY_PIXELS, str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(
            ImageRejected.NOT_AN_IMAGE,
            f"The file is not an image in a supported format ({', '.join(ALLOWED_FORMATS)}).",
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(ImageRejected.CORRUPT_IMAGE, CUT_SHORT) from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise ImageRejected(ImageRejected.CORRUPT_IMAGE, "The image has no pixels.")
    if width * height > max_pixels:
        image.close()
        raise ImageRejected(
            ImageRejected.TOO_MANY_PIXELS,
            f"The image is {width}x{height} ({width * height} pixels); "
            f"the limit is {max_pixels} pixels.",
        )
    return image


def _apply_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a malformed EXIF block must not cost the photo
        return image


def _to_bgr(image: Image.Image) -> np.ndarray:
    if image.mode in _HIGH_DEPTH_MODES:
        grey = _to_uint8(np.asarray(image))
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(background, rgba).convert("RGB")
    elif image.mode == "RGB":
        rgb = image
    else:
        rgb = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])


def _to_uint8(samples: np.ndarray) -> np.ndarray:
    """Scale integer or float samples wider than 8 bits into 0..255.

    16-bit data (the usual case) is divided by 257 so that 65535 maps to 255; data that
    already fits in 0..255 is kept; anything else is scaled by its own maximum.
    """
    values = samples.astype(np.float64)
    peak = float(values.max()) if values.size else 0.0
    if peak <= 255:
        scaled = values
    elif peak <= 65535:
        scaled = values / 257.0
    else:
        scaled = values * (255.0 / peak)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def downscale_for_detection(image: np.ndarray, max_width: int) -> tuple[np.ndarray, float]:
    """Shrink ``image`` to at most ``max_width`` pixels wide for the detector.

    Returns ``(small, scale)`` where ``small`` is ``image`` resized by ``scale`` (``<= 1``);
    divide coordinates found on ``small`` by ``scale`` to get back to ``image``. An image that
    is already narrow enough is returned as is, not copied. Detection cost grows with the
    pixel count while faces of enrolment size are still found at 640 px, so detection runs
    small and embedding runs on the full-resolution pixels.
    """
    if max_width <= 0:
        raise ValueError(f"max_width must be positive, got {max_width}")
    height, width = image.shape[:2]
    if width <= max_width:
        return image, 1.0
    scale = max_width / width
    new_height = max(1, round(height * scale))
    small = cv2.resize(image, (max_width, new_height), interpolation=cv2.INTER_AREA)
    return small, scale
