"""django-celery-beat's periodic tasks in the back-office, under the role policy, and the
third-party pages Presence does not show.

Its admin actions (enable, disable, toggle, run) declare no ``allowed_permissions``, so
any user who could see the page could run them. Every admin action of Presence declares
one (``config/tests/test_admin_roles.py`` checks the whole registry); these need the
change permission on periodic tasks, which ``accounts.roles`` gives to admins only.

Hidden from everyone: celery-beat's clocked and solar schedules (Presence's periodic jobs
run on intervals, ``config.periodic``), and simplejwt's token blacklist, whose pages show
whole refresh tokens (a secret) and whose rows the sessions page replaces (sign out a
session or a user everywhere, ``accounts.admin``). ``accounts.roles`` already keeps all
three from HR managers and operators; no role needs them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import ClockedSchedule, PeriodicTask, SolarSchedule
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.admin_roles import RoleAdminMixin


def _needs_change(name: str) -> Callable[..., HttpResponse | None]:
    """The parent's action ``name``, declaring that it needs the change permission."""
    parent = getattr(PeriodicTaskAdmin, name)

    def action(
        self: PeriodicTaskAdmin, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        return parent(self, request, queryset)

    action.__name__ = name
    action.short_description = parent.short_description
    action.allowed_permissions = ("change",)
    return action


class GuardedPeriodicTaskAdmin(RoleAdminMixin, PeriodicTaskAdmin):
    """The stock admin with permissions on its actions."""

    enable_tasks = _needs_change("enable_tasks")
    disable_tasks = _needs_change("disable_tasks")
    toggle_tasks = _needs_change("toggle_tasks")
    run_tasks = _needs_change("run_tasks")


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, GuardedPeriodicTaskAdmin)
admin.site.unregister([ClockedSchedule, SolarSchedule, BlacklistedToken, OutstandingToken])
