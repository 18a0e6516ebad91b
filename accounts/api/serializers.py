"""Serializers for auth, users and audit rows."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from accounts.models import AuditLog, User, UserSession
from config.api.errors import RULE_CODE
from config.api.serializers import ApiModelSerializer, ApiSerializer


class UserSerializer(ApiModelSerializer):
    """The signed-in user as the frontend sees it."""

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role"]
        read_only_fields = fields


SELF_SERVICE_HINT = (
    "Change your own password with POST /api/v1/auth/password, which asks for the current one."
)


def _validate_new_password(password: str, user: User | None) -> str:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        # The validators' codes (password_too_short, ...) travel on: the API answers 422.
        raise serializers.ValidationError(get_error_detail(exc)) from exc
    return password


class ManagedUserSerializer(ApiModelSerializer):
    """A user as admins manage it. The password is write-only and required on create."""

    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}, trim_whitespace=False
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "role",
            "is_active",
            "password",
            "last_login",
            "date_joined",
        ]
        read_only_fields = ["id", "last_login", "date_joined"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Creating a user needs a password; a PATCH may leave it out. Saying so on the
        # field (not only in ``validate``) puts it in the schema of POST /users.
        self.fields["password"].required = self.instance is None and not self.partial

    def validate_email(self, value: str) -> str:
        """Emails are stored lower-case and must be unique whatever their case."""
        value = value.strip().lower()
        others = User.objects.filter(email__iexact=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError("A user with this email already exists.")
        return value

    def validate(self, attrs: dict) -> dict:
        """A new user needs a password, and any password set must pass the site's rules."""
        password = attrs.get("password")
        if self.instance is None and not password:
            raise serializers.ValidationError({"password": ["This field is required."]})
        request = self.context.get("request")
        if password and self.instance is not None and self.instance.pk == request.user.pk:
            # Without the current password as proof, a stolen access token could lock
            # the account's owner out for good.
            raise serializers.ValidationError(
                {"password": [serializers.ErrorDetail(SELF_SERVICE_HINT, code=RULE_CODE)]}
            )
        if password:
            candidate = self.instance or User(
                email=attrs.get("email", ""), full_name=attrs.get("full_name", "")
            )
            try:
                _validate_new_password(password, candidate)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"password": exc.detail}) from exc
        return attrs

    def create(self, validated_data: dict) -> User:
        """Create through the manager so the password is hashed and the email normalised."""
        password = validated_data.pop("password")
        return User.objects.create_user(password=password, **validated_data)

    def update(self, instance: User, validated_data: dict) -> User:
        """Apply the changes; a password given is hashed, an absent one is left as it was."""
        password = validated_data.pop("password", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        if password:
            instance.set_password(password)
        instance.save()
        return instance


class LoginSerializer(ApiSerializer):
    """The email and password to sign in with."""

    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenPairSerializer(ApiSerializer):
    """A short-lived access token for the API and the refresh token that renews it."""

    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginResponseSerializer(TokenPairSerializer):
    """The tokens of the new session and the user it signed in."""

    user = UserSerializer()


class RefreshTokenSerializer(ApiSerializer):
    """The session's current refresh token."""

    refresh = serializers.CharField()


class PasswordChangeSerializer(ApiSerializer):
    """The current password, as proof, and the new one, which must pass the password rules."""

    old_password = serializers.CharField(trim_whitespace=False)
    new_password = serializers.CharField(trim_whitespace=False)

    def validate_new_password(self, value: str) -> str:
        """Check the new password against the validators, which may compare it to the user."""
        return _validate_new_password(value, self.context["request"].user)


class ActorSerializer(ApiSerializer):
    """Who made a change: the user's id (null once the user is deleted) and email."""

    id = serializers.IntegerField(allow_null=True)
    email = serializers.CharField()


class AuditLogSerializer(ApiModelSerializer):
    """One audit row: when, who, what was done to which object, the changes, from where."""

    actor = serializers.SerializerMethodField()

    class Meta:
        model = AuditLog
        fields = [
            "id",
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "ip",
            "source",
        ]
        read_only_fields = fields

    @extend_schema_field(ActorSerializer(allow_null=True))
    def get_actor(self, row: AuditLog) -> dict | None:
        """Who made the change; null when the system did."""
        if row.actor_id is None and not row.actor_email:
            return None
        return {"id": row.actor_id, "email": row.actor_email}


class SessionSerializer(ApiModelSerializer):
    """A signed-in device as its owner (or an admin) sees it; never a token.

    ``device`` is the browser's user agent at sign-in; ``ip`` the address it was last
    used from; ``current`` whether the request itself was made with this session.
    """

    device = serializers.CharField(source="user_agent", read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = UserSession
        fields = ["id", "device", "ip", "created_at", "last_used_at", "current"]
        read_only_fields = fields

    def get_current(self, session: UserSession) -> bool:
        """Whether the caller's own token belongs to ``session``."""
        return session.key == self.context.get("current_session_key")
