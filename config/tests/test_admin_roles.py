"""Every admin action of every model, as every role, through the real changelist.

The admin's counterpart of the API's role matrices: an action nobody described here, or
one that declares no ``allowed_permissions``, fails the first two tests.
"""

import datetime
import itertools
from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.test import Client, RequestFactory
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from accounts import audit, sessions
from accounts.admin_roles import RoleAdminMixin
from accounts.api.session_views import UserSessionViewSet
from accounts.models import AuditLog, User, UserSession
from accounts.roles import ADMIN_CAPABILITIES, AdminCapability, Role
from accounts.testing import AdminActionCase, admin_site_actions, check_admin_action_matrix
from attendance.api.views import EVENT_RULES
from attendance.events import add_manual_event
from attendance.models import (
    AttendanceDay,
    AttendanceEvent,
    Holiday,
    SightingDecision,
    WorkSchedule,
)
from cameras.api.views import CameraViewSet
from cameras.models import Camera
from detections.api.views import DETECTION_RULES, UnknownFaceViewSet
from detections.models import Detection, UnknownFace
from faces.api.views import PEOPLE_RULES
from faces.models import Department, FaceEmbedding, FaceSample, Person, ReembedJob
from integrations.api.views import OdooConnectionViewSet, OdooOutboxViewSet
from integrations.models import OdooConnection, OdooOutbox

pytestmark = pytest.mark.django_db

ADMIN = frozenset({Role.ADMIN})
PEOPLE_MANAGERS = frozenset({Role.ADMIN, Role.HR_MANAGER})
CAMERA_MANAGERS = frozenset({Role.ADMIN, Role.OPERATOR})
NOBODY = frozenset()

_n = itertools.count()


@pytest.fixture(autouse=True)
def media_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def browsers(personas) -> dict[str, Client]:
    clients = {}
    for role, user in personas.items():
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


def _gone(obj, _page) -> bool:
    return not type(obj)._default_manager.filter(pk=obj.pk).exists()


def _user() -> User:
    return User.objects.create_user(f"u{next(_n)}@example.com", "x" * 12)


def _session() -> UserSession:
    user = _user()
    sessions.start(user, RequestFactory().post("/api/v1/auth/login"))
    return user.sessions.get()


def _session_ended(obj, _page) -> bool:
    return UserSession.objects.get(pk=obj.pk).revoked_at is not None


def _user_with_session() -> User:
    return _session().user


def _signed_out_everywhere(obj, _page) -> bool:
    user = User.objects.get(pk=obj.pk)
    return user.token_version == 1 and not sessions.live_sessions(user).exists()


def _audit_row() -> AuditLog:
    return audit.record_create(_user(), audit.AuditContext())


def _periodic(enabled: bool = True) -> PeriodicTask:
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    return PeriodicTask.objects.create(
        name=f"task {next(_n)}", task=f"not.registered.{next(_n)}", interval=every, enabled=enabled
    )


def _enabled(obj) -> bool:
    return PeriodicTask.objects.get(pk=obj.pk).enabled


def _person(consent: bool = True) -> Person:
    number = next(_n)
    return Person.objects.create(
        employee_code=f"E{number}",
        full_name=f"Person {number}",
        consent_at=timezone.now() if consent else None,
    )


def _person_with_face() -> Person:
    person = _person()
    sample = FaceSample.objects.create(
        person=person,
        image=ContentFile(b"\xff\xd8 not really a jpeg", name="f.jpg"),
        bbox=[0, 0, 10, 10],
        landmarks=[[1, 1]] * 5,
        source="upload",
    )
    FaceEmbedding.objects.create(sample=sample, model_key="m", dim=4, vector=b"\0" * 16)
    return person


def _sample() -> FaceSample:
    return _person_with_face().faces.get()


def _camera() -> Camera:
    # A file that does not exist: the probe fails at once, without any network.
    return Camera.objects.create(name=f"Cam {next(_n)}", source_url="file:///nonexistent/x.mp4")


def _detection() -> Detection:
    now = timezone.now()
    return Detection.objects.create(
        camera_name="cam",
        status="unknown",
        score=0.1,
        track_id=f"t{next(_n)}",
        bbox=[0, 0, 10, 10],
        captured_at=now,
        last_seen_at=now,
        model_key="m",
    )


def _unknown() -> UnknownFace:
    return UnknownFace.objects.create(model_key="m", centroid=b"\0" * 16)


def _odoo_connection() -> OdooConnection:
    connection = OdooConnection.load()
    connection.base_url = "http://127.0.0.1:9"
    connection.database, connection.login, connection.api_key = "db", "admin", "a" * 40
    connection.save()
    return connection


def _parked_outbox_row() -> OdooOutbox:
    person = _person()
    at = timezone.now() - datetime.timedelta(hours=next(_n) + 1)
    event = AttendanceEvent.objects.create(person=person, kind="check_in", at=at, source="manual")
    return OdooOutbox.objects.create(
        event=event, person=person, kind="check_in", at=at, state="failed", outcome="conflict"
    )


def _outbox_state(row: OdooOutbox) -> str:
    return OdooOutbox.objects.get(pk=row.pk).state


def _attendance_event() -> AttendanceEvent:
    return add_manual_event(
        _person(), "check_in", timezone.now() - timedelta(hours=1), "paper", None
    )


def _attendance_day() -> AttendanceDay:
    return AttendanceDay.objects.create(
        person=_person(), work_date=timezone.localdate(), status="present"
    )


def _decision() -> SightingDecision:
    return SightingDecision.objects.create(
        person=_person(), at=timezone.now(), outcome="not_recognized"
    )


def _holiday() -> Holiday:
    return Holiday.objects.create(
        date=timezone.localdate() + timedelta(days=next(_n) + 1), name="x"
    )


CASES = [
    AdminActionCase(User, "delete_selected", ADMIN, _user, _gone),
    AdminActionCase(
        User,
        "sign_out_everywhere",
        ADMIN,
        _user_with_session,
        _signed_out_everywhere,
        tables=(UserSession, AuditLog),
    ),
    AdminActionCase(UserSession, "delete_selected", NOBODY, _session, _gone),
    AdminActionCase(UserSession, "sign_out", ADMIN, _session, _session_ended, tables=(AuditLog,)),
    AdminActionCase(AuditLog, "delete_selected", NOBODY, _audit_row, _gone),
    AdminActionCase(PeriodicTask, "delete_selected", ADMIN, _periodic, _gone),
    AdminActionCase(
        PeriodicTask, "enable_tasks", ADMIN, lambda: _periodic(False), lambda o, _: _enabled(o)
    ),
    AdminActionCase(PeriodicTask, "disable_tasks", ADMIN, _periodic, lambda o, _: not _enabled(o)),
    AdminActionCase(PeriodicTask, "toggle_tasks", ADMIN, _periodic, lambda o, _: not _enabled(o)),
    AdminActionCase(
        PeriodicTask,
        "run_tasks",
        ADMIN,
        _periodic,
        lambda o, page: f"{o.task}&quot; not found" in page,
    ),
    *(
        AdminActionCase(model, "delete_selected", ADMIN, make, _gone)
        for model, make in [
            (IntervalSchedule, lambda: IntervalSchedule.objects.create(every=next(_n) + 2)),
            (CrontabSchedule, lambda: CrontabSchedule.objects.create(minute=str(next(_n) % 60))),
        ]
    ),
    AdminActionCase(
        Department,
        "delete_selected",
        PEOPLE_MANAGERS,
        lambda: Department.objects.create(name=f"D{next(_n)}"),
        _gone,
    ),
    AdminActionCase(Person, "delete_selected", PEOPLE_MANAGERS, _person, _gone),
    AdminActionCase(
        Person,
        "record_consent",
        PEOPLE_MANAGERS,
        lambda: _person(consent=False),
        lambda o, _: Person.objects.get(pk=o.pk).consent_at is not None,
    ),
    AdminActionCase(
        Person,
        "erase_biometrics",
        PEOPLE_MANAGERS,
        _person_with_face,
        lambda o, _: not FaceSample.objects.filter(person=o).exists(),
        tables=(FaceSample, FaceEmbedding),
    ),
    AdminActionCase(
        FaceSample, "delete_selected", PEOPLE_MANAGERS, _sample, _gone, tables=(FaceEmbedding,)
    ),
    AdminActionCase(
        ReembedJob,
        "delete_selected",
        NOBODY,
        lambda: ReembedJob.objects.create(model_key="m"),
        _gone,
    ),
    AdminActionCase(Camera, "delete_selected", CAMERA_MANAGERS, _camera, _gone),
    AdminActionCase(
        Camera, "test_sources", CAMERA_MANAGERS, _camera, lambda o, page: f"{o.name}: " in page
    ),
    AdminActionCase(Detection, "delete_selected", CAMERA_MANAGERS, _detection, _gone),
    AdminActionCase(UnknownFace, "delete_selected", CAMERA_MANAGERS, _unknown, _gone),
    AdminActionCase(OdooConnection, "delete_selected", ADMIN, _odoo_connection, _gone),
    AdminActionCase(
        OdooConnection,
        "test_connection",
        ADMIN,
        _odoo_connection,
        lambda o, page: "(odoo_" in page,
    ),
    AdminActionCase(OdooOutbox, "delete_selected", NOBODY, _parked_outbox_row, _gone),
    AdminActionCase(
        OdooOutbox,
        "retry_rows",
        ADMIN,
        _parked_outbox_row,
        lambda o, _: _outbox_state(o) == "pending",
        tables=(AuditLog,),
    ),
    AdminActionCase(
        OdooOutbox,
        "skip_rows",
        ADMIN,
        _parked_outbox_row,
        lambda o, _: _outbox_state(o) == "skipped",
        tables=(AuditLog,),
    ),
    # The void action first asks for a reason: offered and run means the form is shown
    # (attendance/tests/test_admin.py posts the reason and checks the void).
    AdminActionCase(
        AttendanceEvent,
        "void_events",
        PEOPLE_MANAGERS,
        _attendance_event,
        lambda _o, page: 'name="reason"' in page,
    ),
    AdminActionCase(AttendanceEvent, "delete_selected", NOBODY, _attendance_event, _gone),
    AdminActionCase(AttendanceDay, "delete_selected", NOBODY, _attendance_day, _gone),
    AdminActionCase(SightingDecision, "delete_selected", NOBODY, _decision, _gone),
    AdminActionCase(
        WorkSchedule,
        "delete_selected",
        PEOPLE_MANAGERS,
        lambda: WorkSchedule.objects.create(name=f"S{next(_n)}", time_zone="UTC"),
        _gone,
    ),
    AdminActionCase(Holiday, "delete_selected", PEOPLE_MANAGERS, _holiday, _gone),
]


def test_every_admin_action_declares_its_permissions():
    missing = []
    for model, model_admin in admin.site._registry.items():
        if model_admin.actions is None:
            continue
        for func, name, _description in model_admin._get_base_actions():
            permissions = getattr(func, "allowed_permissions", None)
            if not permissions:
                missing.append(f"{model._meta.label} {name}: no allowed_permissions")
            for permission in permissions or ():
                if not hasattr(model_admin, f"has_{permission}_permission"):
                    missing.append(f"{model._meta.label} {name}: unknown {permission!r}")
    assert not missing, "\n".join(missing)


def test_the_matrix_covers_every_admin_action():
    described = {case.key for case in CASES}
    assert admin_site_actions(admin.site) == described


def test_every_model_admin_of_ours_answers_the_capabilities():
    ours = ("accounts", "faces", "cameras", "detections", "attendance", "integrations")
    plain = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ours and not isinstance(model_admin, RoleAdminMixin)
    ]
    assert not plain


def test_admin_action_role_matrix(browsers):
    check_admin_action_matrix(browsers, CASES)


def test_admin_capabilities_mirror_the_api_rules():
    """The admin allows what the API allows, for the same acts."""
    camera_rules = CameraViewSet.roles
    assert (
        ADMIN_CAPABILITIES[AdminCapability.TEST_ODOO_CONNECTION]
        == OdooConnectionViewSet.roles.actions["test"]
    )
    assert (
        ADMIN_CAPABILITIES[AdminCapability.MANAGE_ODOO_OUTBOX]
        == OdooOutboxViewSet.roles.actions["retry"]
        == OdooOutboxViewSet.roles.actions["skip"]
    )
    assert ADMIN_CAPABILITIES[AdminCapability.ERASE_BIOMETRICS] == PEOPLE_RULES.actions["erase"]
    assert ADMIN_CAPABILITIES[AdminCapability.RECORD_CONSENT] == PEOPLE_RULES.write
    assert (
        ADMIN_CAPABILITIES[AdminCapability.VIEW_ENROLMENT_PHOTOS]
        == PEOPLE_RULES.actions["faces"]
        == PEOPLE_RULES.actions["face_image"]
    )
    assert ADMIN_CAPABILITIES[AdminCapability.PROBE_CAMERA] == camera_rules.actions["test"]
    assert (
        ADMIN_CAPABILITIES[AdminCapability.REVOKE_SESSIONS]
        == UserSessionViewSet.roles.read
        == UserSessionViewSet.roles.write
    )
    assert (
        ADMIN_CAPABILITIES[AdminCapability.ASSIGN_DETECTIONS]
        == DETECTION_RULES.actions["assign"]
        == UnknownFaceViewSet.roles.actions["assign"]
    )
    assert ADMIN_CAPABILITIES[AdminCapability.VOID_ATTENDANCE] == EVENT_RULES.actions["void"]
    # ``POST /attendance/events`` is the viewset's create, under its write rule.
    assert ADMIN_CAPABILITIES[AdminCapability.ADD_ATTENDANCE_EVENT] == EVENT_RULES.write
