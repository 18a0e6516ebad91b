"""Sign-in sessions: a user's own (``/auth/sessions``) and, for admins, anyone's
(``/users/{id}/sessions``). Listing, signing out one, and signing out everywhere."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import audit, sessions
from accounts.api.serializers import SessionSerializer
from accounts.api.viewsets import RoleScopedMixin
from accounts.models import User, UserSession
from accounts.roles import ADMIN_ONLY, ALL_ROLES, RoleRules
from config.api.schema import ErrorEnvelope

OWN_SESSIONS = RoleRules(read=ALL_ROLES, write=ALL_ROLES)
ANYONES_SESSIONS = RoleRules(read=ADMIN_ONLY, write=ADMIN_ONLY)

_NOT_FOUND = OpenApiResponse(
    ErrorEnvelope, description="No live session with this id belongs to the user"
)


class SessionViewSetBase(RoleScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The live sessions of one user (``session_owner``): list, sign out one, sign out all."""

    queryset = UserSession.objects.all()
    serializer_class = SessionSerializer
    filter_backends: list = []
    lookup_value_regex = "[0-9]+"

    def session_owner(self) -> User:
        """Whose sessions this view manages."""
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[UserSession]:
        """Live sessions only: a revoked or expired one cannot be signed out again."""
        if getattr(self, "swagger_fake_view", False):
            return UserSession.objects.none()
        return sessions.live_sessions(self.session_owner())

    def get_serializer_context(self) -> dict[str, Any]:
        """Tells the serializer which session the caller's own token belongs to."""
        context = super().get_serializer_context()
        auth = getattr(self.request, "auth", None)
        context["current_session_key"] = sessions.current_session_key(
            getattr(auth, "payload", None)
        )
        return context

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sign out one session: its tokens stop working at once."""
        session_id = int(self.kwargs[self.lookup_field])
        sessions.end(self.session_owner(), session_id, audit.AuditContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def revoke_all(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sign out everywhere: every session ends and every access token is refused."""
        sessions.end_all(self.session_owner(), audit.AuditContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class OwnSessionViewSet(SessionViewSetBase):
    """The caller's own sessions, whatever the role; another user's id is not found."""

    roles = OWN_SESSIONS

    def session_owner(self) -> User:
        """The signed-in user."""
        return self.request.user

    @extend_schema(summary="List my signed-in sessions")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The caller's live sessions, most recently used first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Sign out one of my sessions", responses={204: None, 404: _NOT_FOUND})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sign out one of the caller's sessions (404 for anyone else's)."""
        return super().destroy(request, *args, **kwargs)

    @extend_schema(
        summary="Sign out all my sessions",
        description="Every session of the caller ends, this one included; every access "
        "token issued so far is refused.",
        request=None,
        responses={204: None},
    )
    @action(detail=False, methods=["post"], url_path="revoke-all")
    def revoke_all(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sign the caller out everywhere."""
        return super().revoke_all(request, *args, **kwargs)


_USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH, description="The user's id")
_NO_USER = OpenApiResponse(ErrorEnvelope, description="No such user")


@extend_schema(tags=["users"], parameters=[_USER_ID])
class UserSessionViewSet(SessionViewSetBase):
    """Any user's sessions, for admins."""

    roles = ANYONES_SESSIONS

    def session_owner(self) -> User:
        """The user named in the path (404 if there is none)."""
        user_id = self.kwargs["user_id"]
        return get_object_or_404(User, pk=user_id)

    @extend_schema(
        summary="List a user's signed-in sessions",
        responses={200: SessionSerializer(many=True), 404: _NO_USER},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The user's live sessions, most recently used first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Sign out one of a user's sessions", responses={204: None, 404: _NOT_FOUND}
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sign out one session of the user."""
        return super().destroy(request, *args, **kwargs)

    @extend_schema(
        summary="Sign out all of a user's sessions",
        description="Every session of the user ends; every access token issued to them so "
        "far is refused.",
        request=None,
        responses={204: None, 404: _NO_USER},
    )
    @action(detail=False, methods=["post"], url_path="revoke-all")
    def revoke_all(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sign the user out everywhere."""
        return super().revoke_all(request, *args, **kwargs)
