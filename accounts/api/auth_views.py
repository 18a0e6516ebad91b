"""Sign-in, token refresh, sign-out, the current user and password change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ErrorDetail, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView

from accounts import audit, services, sessions
from accounts.api.serializers import (
    LoginResponseSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshTokenSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.net import client_ip
from accounts.roles import ALL_ROLES, RoleRules
from accounts.throttling import begin_login_attempt
from config.api.errors import RULE_CODE, ApiError
from config.api.schema import error_responses

SIGNED_IN = RoleRules(read=ALL_ROLES, write=ALL_ROLES)


class LoginView(APIView):
    """Email and password in, JWT pair out."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Sign in with email and password",
        request=LoginSerializer,
        responses={200: LoginResponseSerializer, **error_responses(401, 429)},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        """Sign in: a token pair and the user. Each password check is a counted attempt
        (``accounts.throttling``), refused with 429 over the account's or address's limit."""
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        attempt = begin_login_attempt(email, client_ip(request))
        user = authenticate(request, username=email, password=serializer.validated_data["password"])
        if user is None:
            attempt.failed()
            raise ApiError(
                "Email or password is wrong.", code="invalid_credentials", status_code=401
            )
        attempt.succeeded()
        refresh = sessions.start(user, request)
        update_last_login(None, user)
        return Response(
            {
                "access": str(refresh.access_token),
                "refresh": str(refresh),
                "user": UserSerializer(user).data,
            }
        )


class RefreshView(TokenRefreshView):
    """Rotation: the answer carries a new refresh token and the old one is blacklisted.

    Only the current refresh token of a live session is exchanged, and the session
    follows the new one (``accounts.sessions.rotate``).
    """

    @extend_schema(
        summary="Trade a refresh token for a new token pair",
        request=RefreshTokenSerializer,
        responses={200: TokenPairSerializer, **error_responses(401)},
        tags=["auth"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new access and refresh token for the session the refresh token belongs to."""
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            access, refresh = sessions.rotate(serializer.validated_data["refresh"], request)
        except sessions.TokenRefused as exc:
            raise InvalidToken(exc.message) from exc
        return Response({"access": access, "refresh": refresh})


def _already_blacklisted(raw: str) -> bool:
    """True if ``raw`` is a genuine (correctly signed) refresh token already revoked."""
    from rest_framework_simplejwt.state import token_backend

    try:
        payload = token_backend.decode(raw, verify=True)
    except (TokenError, TokenBackendError):
        return False
    jti = payload.get(jwt_settings.JTI_CLAIM)
    return bool(jti) and BlacklistedToken.objects.filter(token__jti=jti).exists()


class LogoutView(APIView):
    """Sign out the session a refresh token belongs to (``accounts.sessions.sign_out``)."""

    roles = SIGNED_IN

    @extend_schema(
        summary="Sign out: revoke a refresh token and end its session",
        request=RefreshTokenSerializer,
        responses={204: None, **error_responses(401)},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        """Blacklist the refresh token and end its session, access tokens included."""
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data["refresh"]
        try:
            token = RefreshToken(raw)
        except TokenError as exc:
            if _already_blacklisted(raw):
                return Response(status=status.HTTP_204_NO_CONTENT)
            raise ApiError(
                "The refresh token is invalid or expired.",
                code="token_not_valid",
                status_code=status.HTTP_401_UNAUTHORIZED,
                details={"refresh": [str(exc)]},
            ) from exc
        if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(request.user.pk):
            raise PermissionDenied("This refresh token belongs to another user.")
        sessions.sign_out(token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The user the request's access token belongs to."""

    roles = SIGNED_IN

    @extend_schema(summary="The signed-in user", responses={200: UserSerializer}, tags=["auth"])
    def get(self, request: Request) -> Response:
        """Who you are signed in as, with your role, which decides what you may do."""
        return Response(UserSerializer(request.user).data)


class PasswordChangeView(APIView):
    """Changing the password signs the user out everywhere, this session included: every
    refresh token is revoked and every access token issued so far is refused."""

    roles = SIGNED_IN

    @extend_schema(
        summary="Change the signed-in user's password",
        request=PasswordChangeSerializer,
        responses={204: None, **error_responses(429)},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        """Change the caller's password; the current one is checked as a counted attempt."""
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = request.user
        attempt = begin_login_attempt(user.email, client_ip(request))
        if not user.check_password(serializer.validated_data["old_password"]):
            attempt.failed()
            raise ValidationError(
                {"old_password": [ErrorDetail("The current password is wrong.", code=RULE_CODE)]}
            )
        attempt.succeeded()
        services.change_password(
            user,
            serializer.validated_data["new_password"],
            audit.AuditContext.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
