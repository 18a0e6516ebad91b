"""Validation, credential handling and masking of camera source URLs."""

from __future__ import annotations

import os

import pytest

from cameras.sources import (
    SourceError,
    is_file_source,
    mask_url,
    open_target,
    split_credentials,
    validate_source_url,
    with_credentials,
)


@pytest.fixture
def media(tmp_path):
    root = tmp_path / "media"
    (root / "videos").mkdir(parents=True)
    return root


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("rtsp://10.0.0.5:554/stream1", "rtsp://10.0.0.5:554/stream1"),
        ("RTSP://cam.local/live", "rtsp://cam.local/live"),
        ("rtsps://cam.local:322/live", "rtsps://cam.local:322/live"),
        ("http://cam.local/video.mjpg", "http://cam.local/video.mjpg"),
        ("https://cam.local/snapshot.jpg?ch=1", "https://cam.local/snapshot.jpg?ch=1"),
        ("rtsp://admin:p%40ss@cam.local/x", "rtsp://admin:p%40ss@cam.local/x"),
        ("http://[::1]:8080/video", "http://[::1]:8080/video"),
        ("  rtsp://cam.local/x  ", "rtsp://cam.local/x"),
        ("0", "0"),
        ("7", "7"),
        ("07", "7"),
        ("99", "99"),
    ],
)
def test_accepted_sources(media, raw, expected):
    assert validate_source_url(raw, file_root=media) == expected


def test_file_sources_are_normalised_to_real_file_urls(media):
    real_root = os.path.realpath(media)
    inside = f"{real_root}/videos/door.mp4"
    assert validate_source_url(str(media / "videos/door.mp4"), file_root=media) == (
        f"file://{inside}"
    )
    assert validate_source_url(f"file://{media}/videos/door.mp4", file_root=media) == (
        f"file://{inside}"
    )
    assert validate_source_url(f"FILE://{media}/videos/door.mp4", file_root=media) == (
        f"file://{inside}"
    )
    assert validate_source_url(f"{media}/videos/../videos/door.mp4", file_root=media) == (
        f"file://{inside}"
    )
    spaced = validate_source_url(f"{media}/videos/front door.mp4", file_root=media)
    assert spaced == f"file://{real_root}/videos/front%20door.mp4"
    assert open_target(spaced) == f"{real_root}/videos/front door.mp4"


@pytest.mark.parametrize(
    "raw",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "/etc/passwd",
        "{media}/../../etc/passwd",
        "file://{media}/../../etc/passwd",
        "file://{media}/%2e%2e/%2e%2e/etc/passwd",
        "{media}/../media-other/x.mp4",
        "{media}",
    ],
)
def test_files_outside_the_media_directory_are_refused(media, raw):
    with pytest.raises(SourceError, match="outside the allowed media directory"):
        validate_source_url(raw.format(media=media), file_root=media)


def test_a_symlink_inside_the_media_directory_pointing_outside_is_refused(media, tmp_path):
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"not for cameras")
    (media / "videos" / "link.mp4").symlink_to(secret)
    (media / "escape").symlink_to(tmp_path)
    for raw in (f"{media}/videos/link.mp4", f"file://{media}/escape/secret.mp4"):
        with pytest.raises(SourceError, match="outside the allowed media directory"):
            validate_source_url(raw, file_root=media)


def test_a_symlinked_media_directory_is_resolved(media, tmp_path):
    alias = tmp_path / "alias"
    alias.symlink_to(media)
    url = validate_source_url(f"{alias}/videos/a.mp4", file_root=alias)
    assert url == f"file://{os.path.realpath(media)}/videos/a.mp4"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ftp://cam.local/x.mp4", "scheme 'ftp' is not supported"),
        ("gopher://cam.local/", "scheme 'gopher' is not supported"),
        ("data:video/mp4;base64,AAAA", "scheme 'data' is not supported"),
        ("javascript:alert(1)", "scheme 'javascript' is not supported"),
        ("udp://239.0.0.1:1234", "scheme 'udp' is not supported"),
        ("file://evil.example/etc/passwd", "must not name a host"),
        ("file:relative.mp4", "file:///absolute/path"),
        ("file:///media/a.mp4?x=1", "query"),
        ("videos/door.mp4", "Relative paths"),
        ("./door.mp4", "Relative paths"),
        ("100", "0 to 99"),
        ("-1", "Relative paths"),
        ("rtsp://", "no host"),
        ("rtsp:/cam.local/x", "no host"),
        ("rtsp://cam.local:99999/x", "malformed"),
        ("rtsp://cam local/x", "spaces"),
        ("rtsp://cam.local/x\n", "control characters"),
        ("rtsp://cam.local/\x00x", "control characters"),
        ("rtsp://cam.local/x\tinjected", "control characters"),
        ("rtsp://user:12/secret@cam.local/x", "'@' after its host"),
        ("rtsp://ca$m.local/x", "host is not valid"),
        ("rtsp://cam.local/" + "x" * 2000, "longer than 2000"),
    ],
)
def test_refused_sources(media, raw, message):
    with pytest.raises(SourceError, match=message) as info:
        validate_source_url(raw, file_root=media)
    assert "secret" not in str(info.value)


def test_non_text_is_refused(media):
    with pytest.raises(SourceError):
        validate_source_url(None, file_root=media)  # type: ignore[arg-type]


def test_split_and_put_back_credentials():
    url, user, password = split_credentials("rtsp://admin:p%40ss%3Aw%2Frd@cam.local:554/x?ch=1")
    assert (url, user, password) == ("rtsp://cam.local:554/x?ch=1", "admin", "p@ss:w/rd")
    rebuilt = with_credentials(url, user, password)
    assert rebuilt == "rtsp://admin:p%40ss%3Aw%2Frd@cam.local:554/x?ch=1"
    assert split_credentials(rebuilt) == (url, user, password)
    assert split_credentials("rtsp://cam.local/x") == ("rtsp://cam.local/x", None, None)
    assert split_credentials("rtsp://token@cam.local/x") == ("rtsp://cam.local/x", "token", None)
    assert split_credentials("file:///media/a.mp4") == ("file:///media/a.mp4", None, None)
    assert split_credentials("3") == ("3", None, None)


def test_with_credentials_encodes_and_replaces():
    assert (
        with_credentials("rtsp://old:gone@cam/x", "ad@min", "a b/c:d@e?f#g%")
        == "rtsp://ad%40min:a%20b%2Fc%3Ad%40e%3Ff%23g%25@cam/x"
    )
    assert with_credentials("http://cam/x", "viewer", None) == "http://viewer@cam/x"
    assert with_credentials("http://cam/x", None, None) == "http://cam/x"
    assert with_credentials("file:///media/a.mp4", None, None) == "file:///media/a.mp4"
    with pytest.raises(SourceError):
        with_credentials("file:///media/a.mp4", "user", "pw")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://u:p%40ss@h/x", "rtsp://u:***@h/x"),
        ("rtsp://admin:secret@cam:554/s?ch=1", "rtsp://admin:***@cam:554/s?ch=1"),
        ("rtsp://u:p@ss@h/x", "rtsp://u:***@h/x"),
        ("rtsp://u:pa/ss@h/x", "rtsp://u:***@h/x"),
        ("rtsp://token@h/x", "rtsp://token@h/x"),
        ("rtsp://cam/x", "rtsp://cam/x"),
        ("http://cam/s.jpg?user=a&password=b&x=1", "http://cam/s.jpg?user=a&password=***&x=1"),
        ("http://cam/s?token=abc", "http://cam/s?token=***"),
        (
            "http://cam/s?api_key=1&X-Amz-Signature=2",
            "http://cam/s?api_key=***&X-Amz-Signature=***",
        ),
        ("http://cam/s?pwd=1&auth=2&secret=3", "http://cam/s?pwd=***&auth=***&secret=***"),
        ("http://cam/s?PASS=1", "http://cam/s?PASS=***"),
        (
            "camera rtsp://a:b@h/x failed, retrying rtsp://c:d@h/y",
            "camera rtsp://a:***@h/x failed, retrying rtsp://c:***@h/y",
        ),
        ("", ""),
        ("not a url at all", "not a url at all"),
        ("http://[::1", "http://[::1"),
        ("3", "3"),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked


def test_mask_url_never_raises():
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert mask_url(Broken()) == "<unprintable>"
    assert mask_url(None) == "None"
    assert mask_url(b"rtsp://u:p@h") == "b'rtsp://u:***@h'"


def test_open_target_and_file_detection():
    assert open_target("0") == 0
    assert open_target("12") == 12
    assert open_target("file:///media/a%20b.mp4") == "/media/a b.mp4"
    assert open_target("/media/a.mp4") == "/media/a.mp4"
    assert open_target("rtsp://u:p@cam/x") == "rtsp://u:p@cam/x"
    assert is_file_source("file:///media/a.mp4")
    assert is_file_source("FILE:///media/a.mp4")
    assert is_file_source("/media/a.mp4")
    assert not is_file_source("rtsp://cam/x")
    assert not is_file_source("0")
