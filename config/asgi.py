"""ASGI entry point, served by daphne: HTTP to Django, WebSockets to Channels.

In the embedded run the same process also runs the periodic jobs and the camera
supervisor (``config.embedded``).
"""

import os

from django.core.asgi import get_asgi_application

from config.http_status import register_status_phrases
from config.server import answer_overlong_lines, stop_twisted_form_parsing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
stop_twisted_form_parsing()
answer_overlong_lines()
django_asgi_app = get_asgi_application()
# "429 Too Many Requests", not "429 Unknown Status", in daphne's status lines.
register_status_phrases()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from accounts.ws_auth import JWTAuthMiddleware  # noqa: E402
from config.middleware import WebSocketRequestIdMiddleware  # noqa: E402
from detections.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin and token are both checked by JWTAuthMiddleware (accounts.ws_auth), which
        # refuses with readable close codes: 4401 bad token, 4403 origin not allowed; every
        # record a connection logs carries its request id.
        "websocket": WebSocketRequestIdMiddleware(
            JWTAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)

if os.environ.get("PRESENCE_SERVER") == "1":
    from config import embedded

    if settings.EMBEDDED_SCHEDULER:
        embedded.start_embedded_scheduler()
    if settings.EMBEDDED_CAMERAS:
        embedded.start_embedded_cameras()
