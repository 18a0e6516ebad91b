"""Back-office pages for users, their sessions and the audit log, and the site's branding."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from accounts import audit, sessions
from accounts.admin_audit import AuditedModelAdmin, ReadOnlyModelAdmin, admin_context
from accounts.admin_login import ThrottledAdminLoginForm
from accounts.models import AuditLog, User, UserSession
from accounts.roles import AdminCapability

admin.site.site_header = "Presence back-office"
admin.site.site_title = "Presence"
admin.site.index_title = "Cameras, people, attendance and Odoo"
# "View site" goes to the front door (config.home): the live page, or back here.
admin.site.site_url = "/"
# Password guesses at /admin/login/ count with the API's (accounts.admin_login).
admin.site.login_form = ThrottledAdminLoginForm

# Roles replace groups and per-user permissions (accounts.roles), so groups stay hidden.
admin.site.unregister(Group)


class UserCreateForm(AdminUserCreationForm):
    """The add-user page asks for email, name and role; there is no username."""

    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class UserEditForm(UserChangeForm):
    """The edit page shows only the fields a Presence user has (no groups or permissions)."""

    class Meta:
        model = User
        fields = ("email", "full_name", "role", "is_active")


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    """Users by email and role, with their live sessions and a sign-out-everywhere action."""

    actions = ("sign_out_everywhere",)

    form = UserEditForm
    add_form = UserCreateForm
    list_display = ("email", "full_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined", "live_sessions")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "role", "is_active")}),
        ("Activity", {"fields": ("last_login", "date_joined", "live_sessions")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    @admin.display(description="Live sessions")
    def live_sessions(self, user: User) -> str:
        """The user's live sessions, read-only, with a link to the sessions list, where
        the "sign out" action ends them."""
        if user.pk is None:
            return "-"
        rows = format_html_join(
            "",
            "<li>{} &middot; {} &middot; since {} &middot; last used {}</li>",
            (
                (
                    session.user_agent or "unknown device",
                    session.ip or "unknown address",
                    date_format(localtime(session.created_at), "DATETIME_FORMAT"),
                    date_format(localtime(session.last_used_at), "DATETIME_FORMAT"),
                )
                for session in sessions.live_sessions(user)
            ),
        )
        url = reverse("admin:accounts_usersession_changelist") + f"?user__id__exact={user.pk}"
        return format_html(
            '<ul>{}</ul><a href="{}">All sessions of this user</a>',
            rows or format_html("<li>{}</li>", "none"),
            url,
        )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Django's password form; a password set here signs the user out everywhere.
        One's own password is changed on the page that asks for the current one."""
        if str(id) == str(request.user.pk):
            messages.info(request, "Change your own password here: it asks for the current one.")
            return redirect("admin:password_change")
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.get(pk=id)
            with transaction.atomic():
                sessions.end_all(user)
                audit.record_secret_change(user, "password", admin_context(request))
        return response

    @admin.action(
        description="Sign out everywhere (end every session and token)",
        permissions=[AdminCapability.REVOKE_SESSIONS],
    )
    def sign_out_everywhere(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """``POST /users/{id}/sessions/revoke-all`` for each selected user."""
        context = admin_context(request)
        for user in queryset:
            sessions.end_all(user, context)
        self.message_user(request, f"Signed out {queryset.count()} user(s) everywhere.")


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyModelAdmin):
    """Every sign-in session, live or ended; the "sign out" action ends live ones, as
    ``DELETE /users/{id}/sessions/{session_id}`` does."""

    list_display = ("user", "user_agent", "ip", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__email", "ip", "user_agent")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = (
        "user",
        "user_agent",
        "ip",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    actions = ("sign_out",)

    @admin.action(
        description="Sign out the selected sessions", permissions=[AdminCapability.REVOKE_SESSIONS]
    )
    def sign_out(self, request: HttpRequest, queryset: QuerySet[UserSession]) -> None:
        """End each selected live session (its tokens stop working at once)."""
        context = admin_context(request)
        ended = 0
        for session in queryset.select_related("user"):
            try:
                sessions.end(session.user, session.pk, context)
            except sessions.SessionNotFound:
                continue
            ended += 1
        self.message_user(request, f"Signed out {ended} session(s).")


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyModelAdmin):
    """The audit log, browsable by admins and never editable."""

    list_display = (
        "at",
        "actor_email",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "source",
        "ip",
    )
    list_filter = ("action", "source", "object_type")
    search_fields = ("actor_email", "object_type", "object_id", "object_repr")
    date_hierarchy = "at"
    list_select_related = ()
    fields = (
        "at",
        "actor",
        "actor_email",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
        "ip",
        "source",
    )
