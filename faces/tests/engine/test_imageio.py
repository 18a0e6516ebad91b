"""Decoding untrusted uploads: orientation, colour modes, and every way to refuse an upload.

Each refusal is checked by its machine-readable code, because the API hands that code to
clients; the decompression bomb is also timed, since refusing it late is as bad as not at all.
"""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from faces.engine import ImageRejected, decode_image, downscale_for_detection

RED_BGR = (0, 0, 255)
BLUE_BGR = (255, 0, 0)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def rejected(data: bytes, **limits) -> str:
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, **limits)
    return caught.value.code


def half_red_half_blue(width: int = 60, height: int = 40) -> Image.Image:
    """Red on the left half, blue on the right half (RGB)."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:, : width // 2] = (255, 0, 0)
    pixels[:, width // 2 :] = (0, 0, 255)
    return Image.fromarray(pixels, "RGB")


def test_rgb_jpeg_becomes_bgr_uint8():
    decoded = decode_image(encode(half_red_half_blue(), "JPEG", quality=95))

    assert decoded.shape == (40, 60, 3) and decoded.dtype == np.uint8
    assert decoded.flags["C_CONTIGUOUS"]
    assert np.allclose(decoded[20, 5], RED_BGR, atol=10)
    assert np.allclose(decoded[20, 55], BLUE_BGR, atol=10)


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored image must be turned 90 degrees clockwise for display
    data = encode(half_red_half_blue(), "JPEG", quality=95, exif=exif)

    decoded = decode_image(data)

    assert decoded.shape == (60, 40, 3)
    assert np.allclose(decoded[5, 20], RED_BGR, atol=10)  # the left half is now on top
    assert np.allclose(decoded[55, 20], BLUE_BGR, atol=10)


def test_grayscale_gets_three_channels():
    grey = Image.fromarray(np.full((10, 12), 200, dtype=np.uint8), "L")
    decoded = decode_image(encode(grey, "PNG"))
    assert decoded.shape == (10, 12, 3)
    assert (decoded == 200).all()


def test_cmyk_jpeg_is_converted():
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # pure red in ink
    decoded = decode_image(encode(cmyk, "JPEG", quality=95))
    assert decoded.shape == (16, 16, 3)
    assert np.allclose(decoded[8, 8], RED_BGR, atol=12)


def test_transparency_is_composited_on_white():
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[:, :4] = (255, 0, 0, 255)  # opaque red left, fully transparent right
    decoded = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert (decoded[:, :4] == RED_BGR).all()
    assert (decoded[:, 4:] == 255).all()


def test_grey_with_alpha_and_palette_transparency():
    la = Image.fromarray(np.dstack([np.full((4, 4), 0, np.uint8), np.zeros((4, 4), np.uint8)]))
    assert (decode_image(encode(la, "PNG")) == 255).all()

    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    assert (decode_image(encode(palette, "GIF", transparency=0)) == RED_BGR).all()
    assert (decode_image(encode(palette, "GIF")) == RED_BGR).all()


def test_sixteen_bit_is_scaled_not_clipped():
    samples = np.array([[0, 32896, 65535]], dtype=np.uint16)
    image = Image.fromarray(samples)
    assert image.mode.startswith("I;16")

    decoded = decode_image(encode(image, "PNG"))

    assert decoded.shape == (1, 3, 3)
    assert decoded[0, :, 0].tolist() == [0, 128, 255]


@pytest.mark.parametrize("data", [b"", b"hello, I am not a picture", b"\x89PNG\r\n\x1a\n"])
def test_not_an_image(data):
    assert rejected(data) in {ImageRejected.NOT_AN_IMAGE, ImageRejected.CORRUPT_IMAGE}
    if data[:4] != b"\x89PNG":
        assert rejected(data) == ImageRejected.NOT_AN_IMAGE


def test_formats_outside_the_allowed_list_are_refused():
    assert rejected(encode(half_red_half_blue(), "PPM")) == ImageRejected.NOT_AN_IMAGE


def test_truncated_jpeg_is_corrupt():
    noise = np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise, "RGB"), "JPEG", quality=90)
    assert rejected(data[: len(data) // 2]) == ImageRejected.CORRUPT_IMAGE


def test_too_many_bytes_is_refused_before_decoding():
    assert rejected(b"\xff" * 101, max_bytes=100) == ImageRejected.IMAGE_TOO_LARGE
    valid = encode(half_red_half_blue(), "PNG")
    assert rejected(valid, max_bytes=len(valid) - 1) == ImageRejected.IMAGE_TOO_LARGE


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header claims ``width`` x ``height`` RGB pixels."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * min(width, 1000)) * 10, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [7000, 20000])
def test_decompression_bomb_is_refused_fast(side):
    data = png_declaring(side, side)
    assert len(data) < 2000

    started = time.perf_counter()
    code = rejected(data)

    assert code == ImageRejected.TOO_MANY_PIXELS
    assert time.perf_counter() - started < 0.5


def test_pixel_limit_is_configurable():
    data = encode(half_red_half_blue(), "PNG")
    assert rejected(data, max_pixels=60 * 40 - 1) == ImageRejected.TOO_MANY_PIXELS
    assert decode_image(data, max_pixels=60 * 40).shape == (40, 60, 3)


def test_rejection_carries_code_and_message():
    error = ImageRejected(ImageRejected.NOT_AN_IMAGE, "nope")
    assert error.code == "not_an_image" and error.message == "nope" and str(error) == "nope"


def test_downscale_for_detection():
    image = np.zeros((886, 1280, 3), dtype=np.uint8)
    small, scale = downscale_for_detection(image, 640)
    assert small.shape == (443, 640, 3) and scale == 0.5

    same, scale = downscale_for_detection(image, 2000)
    assert same is image and scale == 1.0

    with pytest.raises(ValueError):
        downscale_for_detection(image, 0)
