"""WebSocket routes."""

from django.urls import path

from detections.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/v1/live/", LiveConsumer.as_asgi()),
]
