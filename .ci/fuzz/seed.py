"""Fixtures for the schemathesis run: a user per role and one object of each kind.

Run with `manage.py shell -c "exec(open('.ci/fuzz/seed.py').read())"`; it prints
``role token`` lines (an access token per role) for the script to pass as headers.
"""

from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.roles import Role
from cameras.models import Camera
from detections.models import Detection, DetectionStatus
from faces.models import Department, Person

PASSWORD = "fuzz-password-not-secret-0123"  # noqa: S105

# The fuzzer's own users get ids far from the small ones it tries on /users/{id}: a new
# password or "sign out everywhere" for its own user would end its token mid-run.
users = {}
for offset, role in enumerate(Role.values):
    users[role] = User.objects.create_user(
        f"{role}@fuzz.example", PASSWORD, full_name=role.title(), role=role, id=900_000 + offset
    )
department = Department.objects.create(name="Fuzzing")
person = Person.objects.create(
    employee_code="FUZZ-1", full_name="Fuzz Person", department=department
)
camera = Camera.objects.create(name="Fuzz door", source_url="rtsp://10.0.0.10/stream")
now = timezone.now()
Detection.objects.create(
    camera=camera,
    camera_name=camera.name,
    person=person,
    status=DetectionStatus.RECOGNIZED,
    score=0.9,
    track_id="fuzz-track",
    bbox=[1, 2, 3, 4],
    captured_at=now,
    last_seen_at=now,
    model_key="fuzz",
)
for role, user in users.items():
    print(role, RefreshToken.for_user(user).access_token)
