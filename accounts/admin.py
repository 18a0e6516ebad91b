"""Back-office pages for users and the audit log, and the site's branding."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction

from accounts import audit, sessions
from accounts.admin_audit import AuditedModelAdmin, ReadOnlyModelAdmin, admin_context
from accounts.models import AuditLog, User

admin.site.site_header = "Presence back-office"
admin.site.site_title = "Presence"
admin.site.index_title = "Cameras, people, attendance and Odoo"

# Roles replace groups and per-user permissions (accounts.roles), so groups stay hidden.
admin.site.unregister(Group)


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role", "is_active")


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    list_display = ("email", "full_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "role", "is_active")}),
        ("Activity", {"fields": ("last_login", "date_joined")}),
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

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.get(pk=id)
            with transaction.atomic():
                sessions.end_all(user)
                audit.record_secret_change(user, "password", admin_context(request))
        return response


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyModelAdmin):
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
