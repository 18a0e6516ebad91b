"""The audit log never stores a secret, whatever it is given: in a URL, a query string or a
nested value, not only in a field whose name says "password"."""

import json

import pytest

from accounts import audit
from accounts.models import AuditAction
from accounts.secrets import MASK, is_secret_name, mask_text, mask_value

pytestmark = pytest.mark.django_db

SECRETS = ("hunter2", "s3cr3t-token", "k3y-value", "deep-pass", "pw-in-list", "sig-value")


def test_secrets_inside_values_are_masked_in_the_stored_row(viewer):
    changes = {
        "source_url": {
            "old": "rtsp://admin:hunter2@192.168.1.10:554/stream",
            "new": "http://192.168.1.10/snap.jpg?user=admin&password=hunter2&token=s3cr3t-token",
        },
        "settings": {
            "old": None,
            "new": {
                "api_key": "k3y-value",
                "nested": {"deeper": [{"password": "deep-pass"}, "http://u:pw-in-list@h/"]},
                "url": "https://cdn.example/x?X-Amz-Signature=sig-value&size=2",
            },
        },
    }
    row = audit.record(AuditAction.UPDATE, viewer, audit.AuditContext(), changes)
    row.refresh_from_db()
    stored = json.dumps(row.changes)
    for secret in SECRETS:
        assert secret not in stored
    source = row.changes["source_url"]
    assert source["old"] == f"rtsp://admin:{MASK}@192.168.1.10:554/stream"
    assert source["new"] == (
        f"http://192.168.1.10/snap.jpg?user=admin&password={MASK}&token={MASK}"
    )
    new = row.changes["settings"]["new"]
    assert new["api_key"] == MASK
    assert new["nested"]["deeper"] == [{"password": MASK}, f"http://u:{MASK}@h/"]
    assert new["url"] == f"https://cdn.example/x?X-Amz-Signature={MASK}&size=2"
    assert row.changes["settings"]["old"] is None


def test_the_object_repr_is_masked_too(viewer):
    viewer.email = "rtsp://a:hunter2@10.0.0.1/x"  # str(user) is the email; never saved
    row = audit.record(AuditAction.UPDATE, viewer, audit.AuditContext(), {})
    assert "hunter2" not in row.object_repr


def test_masking_keeps_what_is_not_secret():
    assert mask_text("rtsp://192.168.1.10/stream?channel=1") == (
        "rtsp://192.168.1.10/stream?channel=1"
    )
    assert mask_text("rtsp://viewer@10.0.0.1/x") == "rtsp://viewer@10.0.0.1/x"
    assert mask_text("password=x&user=y") == f"password={MASK}&user=y"
    assert mask_value({"model_key": "sface", "author": "Ann", "count": 3}) == {
        "model_key": "sface",
        "author": "Ann",
        "count": 3,
    }
    assert mask_value({"password": {"old": "", "new": None}}) == {
        "password": {"old": "", "new": None}
    }
    assert is_secret_name("camera_password") and is_secret_name("key")
    assert not is_secret_name("model_key") and not is_secret_name("author")
