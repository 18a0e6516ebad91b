"""The roles and what each may do: the one place that decides.

The API asks ``RolePermission`` (``accounts.permissions``), which reads each view's
``roles``; the admin asks ``User.has_perm``, which reads ``ADMIN_SITE_ACCESS`` below, for
view/add/change/delete, and ``User.has_capability``, which reads ``ADMIN_CAPABILITIES``,
for everything else an admin page or action offers. Nothing else in the code base tests a
role.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models


class Role(models.TextChoices):
    """The four roles; what each may do is decided in this module only."""

    ADMIN = "admin", "Admin"
    HR_MANAGER = "hr_manager", "HR manager"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"


ALL_ROLES: frozenset[str] = frozenset(Role.values)
ADMIN_ONLY: frozenset[str] = frozenset({Role.ADMIN})
PEOPLE_MANAGERS: frozenset[str] = frozenset({Role.ADMIN, Role.HR_MANAGER})
CAMERA_MANAGERS: frozenset[str] = frozenset({Role.ADMIN, Role.OPERATOR})
STAFF: frozenset[str] = frozenset({Role.ADMIN, Role.HR_MANAGER, Role.OPERATOR})


@dataclass(frozen=True)
class RoleRules:
    """Who may call a view: ``read`` for safe methods, ``write`` for the rest, and
    ``actions`` for named viewset actions that differ from both."""

    read: frozenset[str] = ALL_ROLES
    write: frozenset[str] = ADMIN_ONLY
    actions: dict[str, frozenset[str]] = field(default_factory=dict)

    def allowed(self, *, action: str | None, safe_method: bool) -> frozenset[str]:
        """The roles allowed: the action's own rule if it has one, else read or write."""
        if action and action in self.actions:
            return self.actions[action]
        return self.read if safe_method else self.write


@dataclass(frozen=True)
class AdminSiteAccess:
    """The apps a staff role may change in the admin, and those it may only view."""

    change: frozenset[str]
    view: frozenset[str]


# The admin role may do everything; viewers have no back-office access.
ADMIN_SITE_ACCESS: dict[str, AdminSiteAccess] = {
    Role.HR_MANAGER: AdminSiteAccess(
        change=frozenset({"faces", "attendance"}),
        view=frozenset({"cameras", "detections", "integrations"}),
    ),
    Role.OPERATOR: AdminSiteAccess(
        change=frozenset({"cameras", "detections"}),
        view=frozenset({"faces"}),
    ),
}


def admin_site_allows(role: str, app_label: str, action: str) -> bool:
    """Whether ``role`` may perform ``action`` (view/add/change/delete) on ``app_label``."""
    if role == Role.ADMIN:
        return True
    access = ADMIN_SITE_ACCESS.get(role)
    if access is None:
        return False
    if app_label in access.change:
        return True
    return action == "view" and app_label in access.view


class AdminCapability(models.TextChoices):
    """What an admin page offers beyond view/add/change/delete. Each admin action names
    one of these (or a plain permission) in ``allowed_permissions``; the admin mixin
    ``accounts.admin_roles.RoleAdminMixin`` answers ``has_<capability>_permission``."""

    RECORD_CONSENT = "record_consent", "Record biometric consent"
    ERASE_BIOMETRICS = "erase_biometrics", "Erase a person's biometric data"
    PROBE_CAMERA = "probe_camera", "Test a camera's source"
    VIEW_ENROLMENT_PHOTOS = "view_enrolment_photos", "See enrolment photos"
    ASSIGN_DETECTIONS = "assign_detections", "Label detections and unknown faces"
    REVOKE_SESSIONS = "revoke_sessions", "Sign users out of their sessions"
    TEST_ODOO_CONNECTION = "test_odoo_connection", "Test the Odoo connection"
    MANAGE_ODOO_OUTBOX = "manage_odoo_outbox", "Retry or skip parked Odoo outbox rows"
    VOID_ATTENDANCE = "void_attendance", "Void attendance events"
    ADD_ATTENDANCE_EVENT = "add_attendance_event", "Add manual attendance events"


# Each capability mirrors the API's rule for the same act, so that the back-office allows
# exactly what the API allows: consent is a person edit, erasure ``POST /people/{id}/erase``,
# probing ``POST /cameras/{id}/test``, photos ``GET /people/{id}/faces``, labelling
# ``POST /detections/{id}/assign``, signing users out ``/users/{id}/sessions``, the Odoo
# test ``POST /integrations/odoo/test``, the outbox's ``POST .../outbox/{id}/retry`` and
# ``/skip``, voiding ``POST /attendance/events/{id}/void``, adding a manual event
# ``POST /attendance/events`` (tested in
# ``config/tests/test_admin_roles.py``).
ADMIN_CAPABILITIES: dict[str, frozenset[str]] = {
    AdminCapability.RECORD_CONSENT: PEOPLE_MANAGERS,
    AdminCapability.ERASE_BIOMETRICS: PEOPLE_MANAGERS,
    AdminCapability.PROBE_CAMERA: CAMERA_MANAGERS,
    AdminCapability.VIEW_ENROLMENT_PHOTOS: PEOPLE_MANAGERS,
    AdminCapability.ASSIGN_DETECTIONS: STAFF,
    AdminCapability.REVOKE_SESSIONS: ADMIN_ONLY,
    AdminCapability.TEST_ODOO_CONNECTION: ADMIN_ONLY,
    AdminCapability.MANAGE_ODOO_OUTBOX: ADMIN_ONLY,
    AdminCapability.VOID_ATTENDANCE: PEOPLE_MANAGERS,
    AdminCapability.ADD_ATTENDANCE_EVENT: PEOPLE_MANAGERS,
}


def admin_capability_allows(role: str, capability: str) -> bool:
    """Whether ``role`` has ``capability``; an unknown capability is refused to everyone."""
    return role in ADMIN_CAPABILITIES.get(capability, frozenset())


@dataclass(frozen=True)
class RoleSummary:
    """What a role may do in the back-office, in words, for the page a refusal shows."""

    role: str
    change: tuple[str, ...]
    view_only: tuple[str, ...]
    capabilities: tuple[str, ...]


def role_summary(role: str, app_names: dict[str, str]) -> RoleSummary:
    """The apps ``role`` may change and those it may only view (named through
    ``app_names``, label to verbose name), and its capabilities' descriptions."""
    if role == Role.ADMIN:
        change, view_only = ("every page",), ()
    else:
        access = ADMIN_SITE_ACCESS.get(role, AdminSiteAccess(frozenset(), frozenset()))
        change = tuple(sorted(app_names.get(app, app) for app in access.change))
        view_only = tuple(sorted(app_names.get(app, app) for app in access.view - access.change))
    return RoleSummary(
        role=str(dict(Role.choices).get(role, role)),
        change=change,
        view_only=view_only,
        capabilities=tuple(
            str(AdminCapability(capability).label)
            for capability, roles in ADMIN_CAPABILITIES.items()
            if role in roles
        ),
    )
