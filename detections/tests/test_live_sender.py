"""``live.broadcast`` through a channel layer other than the in-memory one: the sends go
out from this process's sender loop, in order, without holding up the caller."""

from __future__ import annotations

import logging

import pytest
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from detections import live

pytestmark = pytest.mark.skipif(
    isinstance(get_channel_layer(), InMemoryChannelLayer), reason="needs the Redis layer"
)


def test_events_arrive_in_order():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.LIVE_GROUP, channel)
    try:
        for index in range(5):
            live.broadcast("camera.status", {"id": index}, camera_id=index)
        assert live.wait_for_sends()

        async def receive_all() -> list[int]:
            return [(await layer.receive(channel))["data"]["id"] for _ in range(5)]

        received = async_to_sync(receive_all)()
    finally:
        async_to_sync(layer.group_discard)(live.LIVE_GROUP, channel)
    assert received == [0, 1, 2, 3, 4]


def test_an_outage_warns_once_and_later_sends_still_go(monkeypatch, caplog):
    sent = []

    async def failing(event_type, data, camera_id=None):
        if data["id"] < 3:
            raise ConnectionError("down")
        sent.append(data["id"])

    monkeypatch.setattr(live, "abroadcast", failing)
    with caplog.at_level(logging.WARNING, logger="detections.live"):
        for index in range(5):
            live.broadcast("camera.status", {"id": index}, camera_id=index)
        assert live.wait_for_sends()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # failing, then working again
    assert "failed" in warnings[0] and "work again" in warnings[1]
    assert sent == [3, 4]
