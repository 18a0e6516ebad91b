"""The router every app uses: no trailing slashes, as the frontend contract writes paths."""

from rest_framework.routers import SimpleRouter


class ApiRouter(SimpleRouter):
    """``SimpleRouter`` without trailing slashes, so no app can forget the setting."""

    def __init__(self) -> None:
        super().__init__(trailing_slash=False)
