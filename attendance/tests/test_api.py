"""The attendance API: roles, manual events and voids in the envelope, lists without
N+1, the roll call, summaries, the dashboard and the exports."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import date, datetime, time, timedelta

import openpyxl
import pytest
from django.utils import timezone

from accounts.models import AuditLog
from accounts.roles import Role
from accounts.testing import ALL_OK, UNAUTHENTICATED, CrudEndpoint, check_role_matrix
from attendance.events import add_manual_event, add_manual_pair
from attendance.models import (
    AttendanceDay,
    AttendanceEvent,
    DepartmentSchedule,
    Holiday,
    PersonAttendanceState,
    PersonSchedule,
    WorkSchedule,
)
from attendance.sightings import record_sighting
from attendance.tests.conftest import (
    assign,
    make_camera,
    make_detection,
    make_person,
    make_schedule,
    utc,
)
from faces.models import Department

pytestmark = pytest.mark.django_db

T0 = utc(2026, 1, 5, 7)  # Monday 08:00 Berlin
_names = itertools.count()

READ_ONLY_403 = {"list": 200, "retrieve": 200, "create": 403, "update": 403, "delete": 403}


def _schedule() -> WorkSchedule:
    return make_schedule(name=f"Shift {next(_names)}")


def _holiday() -> Holiday:
    return Holiday.objects.create(date=date(2030, 1, 1) + timedelta(days=next(_names)), name="x")


def test_schedules_role_matrix(api):
    endpoint = CrudEndpoint(
        model=WorkSchedule,
        list_url="/api/v1/attendance/schedules",
        make=_schedule,
        create_payload=lambda: {"name": f"New {next(_names)}", "time_zone": "Europe/Berlin"},
        update_payload={"late_grace_minutes": 5},
    )
    expected = {
        Role.ADMIN: ALL_OK,
        Role.HR_MANAGER: ALL_OK,
        Role.OPERATOR: READ_ONLY_403,
        Role.VIEWER: READ_ONLY_403,
        "anonymous": UNAUTHENTICATED,
    }
    check_role_matrix(api, endpoint, expected)


def test_holidays_role_matrix(api):
    endpoint = CrudEndpoint(
        model=Holiday,
        list_url="/api/v1/attendance/holidays",
        make=_holiday,
        create_payload=lambda: {
            "date": (date(2040, 1, 1) + timedelta(days=next(_names))).isoformat(),
            "name": "Founders' day",
        },
        update_payload={"name": "Renamed"},
    )
    writer = {**ALL_OK, "update": 405}
    reader = {**READ_ONLY_403, "update": 403}
    expected = {
        Role.ADMIN: writer,
        Role.HR_MANAGER: writer,
        Role.OPERATOR: reader,
        Role.VIEWER: reader,
        "anonymous": UNAUTHENTICATED,
    }
    check_role_matrix(api, endpoint, expected)


@pytest.mark.parametrize(
    ("role", "read", "write", "export"),
    [
        ("admin", 200, True, 200),
        ("hr_manager", 200, True, 200),
        ("operator", 200, False, 403),
        ("viewer", 200, False, 403),
        ("anonymous", 401, False, 401),
    ],
)
def test_attendance_endpoints_role_matrix(api, role, read, write, export):
    person = make_person(f"R-{role}")
    (check_in,) = [add_manual_event(person, "check_in", T0, "paper", None)]
    client = api[role]
    for path in (
        "/api/v1/attendance/logs",
        f"/api/v1/attendance/logs/{check_in.pk}",
        f"/api/v1/attendance/events/{check_in.pk}",
        "/api/v1/attendance/days",
        "/api/v1/attendance/present",
        "/api/v1/attendance/present?format=csv",
        "/api/v1/attendance/summary?period=week",
        "/api/v1/attendance/analytics",
    ):
        response = client.get(path)
        assert response.status_code == read, path
    for path in ("/api/v1/attendance/export?format=csv", "/api/v1/attendance/export?format=xlsx"):
        assert client.get(path).status_code == export, path

    events_before = AttendanceEvent.objects.count()
    response = client.post(
        "/api/v1/attendance/events",
        {
            "person": person.pk,
            "kind": "check_out",
            "at": (T0 + timedelta(hours=8)).isoformat(),
            "reason": "left",
        },
        format="json",
    )
    assert response.status_code == (201 if write else read if read != 200 else 403)
    assert AttendanceEvent.objects.count() == events_before + (1 if write else 0)
    response = client.post(
        f"/api/v1/attendance/events/{check_in.pk}/void", {"reason": "wrong"}, format="json"
    )
    assert response.status_code == (200 if write else read if read != 200 else 403)
    check_in.refresh_from_db()
    assert (check_in.voided_at is not None) is write
    if not write:
        assert "error" in response.json()
    for method in ("post", "patch", "delete"):
        refused = getattr(client, method)("/api/v1/attendance/logs", {}, format="json")
        assert refused.status_code in (401, 403, 405)


# Manual events refused in the envelope, storing nothing.


def _post_event(client, payload):
    before = (AttendanceEvent.objects.count(), AuditLog.objects.count())
    response = client.post("/api/v1/attendance/events", payload, format="json")
    body = response.json()
    if response.status_code >= 400:
        assert set(body["error"]) == {"code", "message", "details"}
        assert (AttendanceEvent.objects.count(), AuditLog.objects.count()) == before
    return response


@pytest.fixture
def hr(api):
    return api[Role.HR_MANAGER]


@pytest.fixture
def person(db):
    return make_person("E1")


def test_manual_event_and_pair_are_created_with_the_trace(hr, hr_manager, person):
    response = _post_event(
        hr,
        {
            "person": person.pk,
            "check_in": T0.isoformat(),
            "check_out": (T0 + timedelta(hours=8)).isoformat(),
            "reason": "paper sheet",
        },
    )
    assert response.status_code == 201, response.content
    events = response.json()["events"]
    assert [e["kind"] for e in events] == ["check_in", "check_out"]
    assert events[0]["person"] == {"id": person.pk, "employee_code": "E1", "full_name": "Person E1"}
    assert (events[0]["source"], events[0]["camera"], events[0]["voided"]) == (
        "manual",
        None,
        False,
    )
    stored = AttendanceEvent.objects.get(pk=events[0]["id"])
    assert (stored.created_by, stored.reason) == (hr_manager, "paper sheet")
    assert (
        AttendanceDay.objects.get(person=person, work_date=date(2026, 1, 5)).worked_minutes == 480
    )


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"kind": "check_out", "at": T0.isoformat()}, 409, "check_out_without_check_in"),
        (
            {"check_in": T0.isoformat(), "check_out": (T0 - timedelta(hours=1)).isoformat()},
            422,
            "check_out_before_check_in",
        ),
        (
            {"kind": "check_in", "at": (timezone.now() + timedelta(hours=1)).isoformat()},
            422,
            "event_in_future",
        ),
        ({"kind": "check_in", "at": (T0 + timedelta(hours=2)).isoformat()}, 409, "event_overlaps"),
        ({"kind": "lunch", "at": T0.isoformat()}, 400, "validation_error"),
        ({"kind": "check_in", "at": "2026-01-05T08:00:00"}, 400, "validation_error"),
        # Well formed but impossible (found by the fuzzer: it was a 500).
        ({"kind": "check_in", "at": "2024-01-01T12:99:00Z"}, 400, "validation_error"),
        ({"check_in": T0.isoformat(), "check_out": "2024-01-01T12:99:00Z"}, 400, None),
        ({"kind": "check_in"}, 400, "validation_error"),
        ({"kind": "check_in", "at": T0.isoformat(), "check_in": T0.isoformat()}, 400, None),
        ({"kind": "check_in", "at": T0.isoformat(), "reason": ""}, 400, "validation_error"),
    ],
)
def test_manual_events_are_refused_in_the_envelope(hr, person, payload, status, code):
    if code == "event_overlaps":
        add_manual_pair(person, T0 - timedelta(hours=1), T0 + timedelta(hours=8), "x", None)
    payload = {"person": person.pk, "reason": "forgot", **payload}
    response = _post_event(hr, payload)
    assert response.status_code == status, response.content
    if code:
        assert response.json()["error"]["code"] == code


def test_a_naive_time_names_the_field(hr, person):
    response = _post_event(
        hr, {"person": person.pk, "kind": "check_in", "at": "2026-01-05T08:00:00", "reason": "x"}
    )
    assert "at" in response.json()["error"]["details"]


def test_an_unknown_person_is_refused(hr):
    response = _post_event(
        hr, {"person": 987654, "kind": "check_in", "at": T0.isoformat(), "reason": "x"}
    )
    assert response.status_code == 409
    assert "person" in response.json()["error"]["details"]


def test_void_keeps_the_original_and_refuses_twice(hr, hr_manager, person):
    check_in, check_out = add_manual_pair(person, T0, T0 + timedelta(hours=8), "paper", None)
    response = hr.post(
        f"/api/v1/attendance/events/{check_in.pk}/void", {"reason": "wrong person"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert [(e["id"], e["voided"]) for e in response.json()["events"]] == [
        (check_in.pk, True),
        (check_out.pk, True),
    ]
    check_in.refresh_from_db()
    assert (check_in.voided_by, check_in.void_reason) == (hr_manager, "wrong person")
    assert AttendanceEvent.objects.filter(person=person).count() == 2
    logs = hr.get(f"/api/v1/attendance/logs?person={person.pk}").json()["results"]
    assert {e["id"] for e in logs} == {check_in.pk, check_out.pk}
    assert all(e["voided"] and e["void_reason"] == "wrong person" for e in logs)
    assert hr.get(f"/api/v1/attendance/logs?person={person.pk}&voided=false").json()["count"] == 0
    again = hr.post(
        f"/api/v1/attendance/events/{check_in.pk}/void", {"reason": "again"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_voided"
    blank = hr.post(f"/api/v1/attendance/events/{check_out.pk}/void", {}, format="json")
    assert blank.status_code == 400


# Schedules.


def test_schedule_with_intervals_and_assignments(hr):
    department = Department.objects.create(name="Plant")
    worker = make_person("W1")
    response = hr.post(
        "/api/v1/attendance/schedules",
        {
            "name": "Office",
            "time_zone": "Europe/Berlin",
            "punch_mode": "first_last",
            "late_grace_minutes": 5,
            "intervals": [
                {"weekday": 0, "start": "08:00", "end": "12:00"},
                {"weekday": 0, "start": "13:00", "end": "17:00"},
                {"weekday": 4, "start": "22:00", "end": "06:00"},
            ],
            "departments": [department.pk],
            "people": [worker.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(i["weekday"], i["start"], i["end"]) for i in body["intervals"]] == [
        (0, "08:00:00", "12:00:00"),
        (0, "13:00:00", "17:00:00"),
        (4, "22:00:00", "06:00:00"),
    ]
    assert (body["departments"], body["people"]) == ([department.pk], [worker.pk])
    assert DepartmentSchedule.objects.get(department=department).schedule_id == body["id"]
    other = make_schedule(name="Other")
    moved = hr.patch(
        f"/api/v1/attendance/schedules/{other.pk}", {"people": [worker.pk]}, format="json"
    )
    assert moved.json()["people"] == [worker.pk]
    assert PersonSchedule.objects.get(person=worker).schedule_id == other.pk
    replaced = hr.patch(
        f"/api/v1/attendance/schedules/{body['id']}",
        {"intervals": [{"weekday": 1, "start": "09:00", "end": "17:00"}], "departments": []},
        format="json",
    )
    assert [i["weekday"] for i in replaced.json()["intervals"]] == [1]
    assert not DepartmentSchedule.objects.exists()


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"time_zone": "Mars/Olympus"}, 422),
        ({"time_zone": "UTC", "intervals": [{"weekday": 7, "start": "08:00", "end": "9:00"}]}, 400),
        ({"time_zone": "UTC", "punch_mode": "sometimes"}, 400),
    ],
)
def test_invalid_schedules_are_refused(hr, payload, status):
    response = hr.post("/api/v1/attendance/schedules", {"name": "Bad", **payload}, format="json")
    assert response.status_code == status, response.content
    assert not WorkSchedule.objects.exists()


def test_a_schedule_in_use_cannot_be_deleted(hr, person):
    schedule = _schedule()
    assign(person, schedule)
    response = hr.delete(f"/api/v1/attendance/schedules/{schedule.pk}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"


def test_a_holiday_date_is_taken_once(hr):
    Holiday.objects.create(date=date(2026, 12, 25), name="Christmas")
    response = hr.post(
        "/api/v1/attendance/holidays", {"date": "2026-12-25", "name": "Again"}, format="json"
    )
    assert response.status_code == 409


# Lists: filters, cursor, query counts.


def _people_with_days(count: int, department: Department | None = None) -> list:
    schedule = make_schedule(
        name=f"Bulk {next(_names)}", intervals=[(d, time(8), time(16)) for d in range(5)]
    )
    people = []
    for n in range(count):
        person = make_person(f"B{next(_names)}", department=department)
        assign(person, schedule)
        add_manual_pair(person, T0, T0 + timedelta(hours=8), "bulk", None)
        add_manual_event(person, "check_in", T0 + timedelta(days=1, minutes=n), "bulk", None)
        people.append(person)
    return people


def test_lists_have_no_n_plus_one(admin_api, django_assert_max_num_queries):
    department = Department.objects.create(name="Bulk")
    camera = make_camera("Hall", "entry")
    people = _people_with_days(15, department)
    for person in people[:5]:
        record_sighting(make_detection(person, camera, T0 + timedelta(days=1, hours=1)))
    for url in (
        "/api/v1/attendance/logs?page_size=200",
        "/api/v1/attendance/logs?cursor=&page_size=200",
        f"/api/v1/attendance/logs?department={department.pk}&source=manual",
        "/api/v1/attendance/days?page_size=200",
        f"/api/v1/attendance/days?department={department.pk}&from=2026-01-05&to=2026-01-06",
        "/api/v1/attendance/present?page_size=200",
    ):
        with django_assert_max_num_queries(6):
            response = admin_api.get(url)
        assert response.status_code == 200, (url, response.content)
        assert len(response.json()["results"]) >= 15, url
    with django_assert_max_num_queries(6):
        response = admin_api.get("/api/v1/attendance/present?format=csv")
        b"".join(response.streaming_content)
    for url in (
        "/api/v1/attendance/summary?period=month&date=2026-01-05",
        "/api/v1/attendance/analytics",
    ):
        with django_assert_max_num_queries(12):
            assert admin_api.get(url).status_code == 200


def test_logs_filter_and_cursor_through_history(admin_api, person):
    pairs = []
    for day in range(6):
        start = T0 + timedelta(days=day)
        pairs.append(add_manual_pair(person, start, start + timedelta(hours=8), "history", None))
    url = f"/api/v1/attendance/logs?person={person.pk}&cursor=&page_size=5"
    seen = []
    while url:
        page = admin_api.get(url).json()
        assert "count" not in page
        seen += [entry["id"] for entry in page["results"]]
        url = page["next"]
    assert len(seen) == 12 == len(set(seen))
    window = admin_api.get(
        f"/api/v1/attendance/logs?person={person.pk}&kind=check_in"
        f"&from={(T0 + timedelta(days=2)).isoformat().replace('+', '%2B')}"
    ).json()
    assert {entry["id"] for entry in window["results"]} == {pair[0].pk for pair in pairs[2:]}


def test_days_filter_by_status(admin_api, person):
    add_manual_pair(person, T0, T0 + timedelta(hours=8), "x", None)
    add_manual_event(person, "check_in", T0 + timedelta(days=1), "x", None)
    days = admin_api.get(f"/api/v1/attendance/days?person={person.pk}&status=incomplete").json()
    assert [d["work_date"] for d in days["results"]] == ["2026-01-06"]
    assert days["results"][0]["person"]["id"] == person.pk
    assert admin_api.get("/api/v1/attendance/days?status=lost").status_code == 400


# Roll call.


def test_roll_call_json_and_csv(admin_api):
    camera = make_camera("Gate", "entry")
    inside = make_person("IN")
    left = make_person("OUT")
    record_sighting(make_detection(inside, camera, timezone.now() - timedelta(minutes=30)))
    add_manual_pair(
        left, timezone.now() - timedelta(hours=3), timezone.now() - timedelta(hours=1), "x", None
    )
    rows = admin_api.get("/api/v1/attendance/present").json()["results"]
    assert [row["person"]["employee_code"] for row in rows] == ["IN"]
    assert rows[0]["camera"] == {"id": camera.pk, "name": "Gate"}
    assert rows[0]["since"] == rows[0]["last_seen_at"]
    response = admin_api.get("/api/v1/attendance/present?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["employee_code"], r["camera"]) for r in lines] == [("IN", "Gate")]
    assert lines[0]["since"] == rows[0]["since"]
    assert admin_api.get("/api/v1/attendance/present?format=pdf").status_code == 400
    assert PersonAttendanceState.objects.filter(is_in=True).count() == 1


# Summary and analytics on a small known dataset.


@pytest.fixture
def known_week(db):
    """Mon-Fri 08:00-16:00 Berlin. Ann: Monday on time (8 h), Tuesday 30 min late
    (7.5 h). Bob (other department): Monday 9 h (60 min overtime)."""
    schedule = make_schedule(intervals=[(d, time(8), time(16)) for d in range(5)])
    sales = Department.objects.create(name="Sales")
    ops = Department.objects.create(name="Ops")
    ann = make_person("ANN", department=sales)
    bob = make_person("BOB", department=ops)
    for person in (ann, bob):
        assign(person, schedule)
    add_manual_pair(ann, T0, T0 + timedelta(hours=8), "x", None)
    tuesday = T0 + timedelta(days=1, minutes=30)
    add_manual_pair(ann, tuesday, T0 + timedelta(days=1, hours=8), "x", None)
    add_manual_pair(bob, T0, T0 + timedelta(hours=9), "x", None)
    return ann, bob, sales, ops


def test_summary_per_person_and_department(admin_api, known_week):
    _ann, _bob, sales, ops = known_week
    body = admin_api.get("/api/v1/attendance/summary?period=week&date=2026-01-07").json()
    assert (body["period"], body["from"], body["to"]) == ("week", "2026-01-05", "2026-01-11")
    by_code = {row["person"]["employee_code"]: row for row in body["people"]}
    assert by_code["ANN"]["worked_minutes"] == 930
    assert by_code["ANN"]["late_minutes"] == 30
    assert by_code["ANN"]["days"]["present"] == 1
    assert by_code["ANN"]["days"]["late"] == 1
    assert by_code["ANN"]["department"] == {"id": sales.pk, "name": "Sales"}
    assert by_code["BOB"]["overtime_minutes"] == 60
    departments = {row["department"]["name"]: row for row in body["departments"]}
    assert departments["Ops"]["people"] == 1
    assert departments["Sales"]["worked_minutes"] == 930
    day = admin_api.get("/api/v1/attendance/summary?period=day&date=2026-01-06").json()
    assert [row["person"]["employee_code"] for row in day["people"]] == ["ANN"]
    month = admin_api.get(
        f"/api/v1/attendance/summary?period=month&date=2026-01-20&department={ops.pk}"
    ).json()
    assert (month["from"], month["to"]) == ("2026-01-01", "2026-01-31")
    assert [row["person"]["employee_code"] for row in month["people"]] == ["BOB"]
    assert admin_api.get("/api/v1/attendance/summary?period=year").status_code == 400


def test_analytics_today(admin_api, settings, known_week):
    settings.TIME_ZONE = "Europe/Berlin"
    ann, bob, _sales, _ops = known_week
    carl = make_person("CARL")
    assign(carl, WorkSchedule.objects.get())
    now = timezone.now()
    today_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    # Whatever today's weekday is, give the schedule working time today.
    make_interval_today = WorkSchedule.objects.get().intervals
    if not make_interval_today.filter(weekday=today_start.weekday()).exists():
        make_interval_today.create(weekday=today_start.weekday(), start=time(0), end=time(23, 59))
    first = max(today_start + timedelta(seconds=1), now - timedelta(hours=2))
    add_manual_event(ann, "check_in", first, "x", None)
    add_manual_event(bob, "check_in", first + timedelta(seconds=1), "x", None)
    add_manual_event(bob, "check_out", first + timedelta(seconds=2), "x", None)
    body = admin_api.get("/api/v1/attendance/analytics").json()
    assert body["date"] == today_start.date().isoformat()
    assert body["present"] == 1
    assert body["arrived"] == 2
    assert body["absent"] == 1  # Carl
    assert len(body["arrivals_by_hour"]) == 24
    assert body["arrivals_by_hour"][timezone.localtime(first).hour]["count"] >= 1
    assert sum(hour["count"] for hour in body["arrivals_by_hour"]) == 2
    assert len(body["trend"]) == 30
    assert body["trend"][-1]["date"] == body["date"]


# Exports.


def test_csv_and_xlsx_exports_have_the_same_rows(admin_api, known_week):
    url = "/api/v1/attendance/export?from=2026-01-05T00:00:00Z&to=2026-01-05T23:59:59Z"
    response = admin_api.get(url + "&format=csv")
    assert response.status_code == 200
    assert response.streaming
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:6] == ["id", "employee_code", "full_name", "department", "kind", "at"]
    assert len(rows) == 1 + 4  # Monday: Ann's pair and Bob's pair
    response = admin_api.get(url + "&format=xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    cells = [["" if value is None else str(value) for value in row] for row in sheet.values]
    assert cells == rows
    assert admin_api.get("/api/v1/attendance/export?format=pdf").status_code == 400


def test_summary_body_is_what_the_serializer_documents(admin_api, known_week):
    """The view renders ``reports.summary`` without its serializer (for speed); the JSON
    must stay what ``SummarySerializer`` documents."""
    from rest_framework.renderers import JSONRenderer

    from attendance import reports
    from attendance.api.serializers import SummarySerializer

    for period in ("day", "week", "month"):
        body = admin_api.get(f"/api/v1/attendance/summary?period={period}&date=2026-01-07").json()
        documented = SummarySerializer(reports.summary(period, date(2026, 1, 7))).data
        assert body == json.loads(JSONRenderer().render(documented))
        assert body["people"] or period == "day", period


# Filters return exactly the rows they should (a broken filter must fail here).


@pytest.fixture
def mixed_log(db):
    """Four days, two cameras, two departments, camera and manual events; returns the
    people, departments, cameras and the events' ids by name (oldest first):

    - ann (Sales): Mon 08:00 North camera in (e1), Mon 16:00 manual out (e2),
      Wed 08:00 manual in (e5), Wed 16:00 manual out (e6);
    - bob (Ops): Tue 08:00 South camera in (e3), Tue 17:00 manual out (e4),
      Thu 08:00 North camera in (e7), still in.
    """
    sales = Department.objects.create(name="Sales")
    ops = Department.objects.create(name="Ops")
    ann = make_person("ANN", department=sales)
    bob = make_person("BOB", department=ops)
    north = make_camera("North", "entry")
    south = make_camera("South", "entry")
    day = timedelta(days=1)
    record_sighting(make_detection(ann, north, T0))
    add_manual_event(ann, "check_out", T0 + timedelta(hours=8), "x", None)
    record_sighting(make_detection(bob, south, T0 + day))
    add_manual_event(bob, "check_out", T0 + day + timedelta(hours=9), "x", None)
    add_manual_pair(ann, T0 + 2 * day, T0 + 2 * day + timedelta(hours=8), "x", None)
    record_sighting(make_detection(bob, north, T0 + 3 * day))
    events = list(AttendanceEvent.objects.order_by("at", "id").values_list("pk", flat=True))
    assert len(events) == 7
    ids = {f"e{n}": pk for n, pk in enumerate(events, start=1)}
    camera_events = AttendanceEvent.objects.filter(source="camera")
    assert set(camera_events.values_list("pk", flat=True)) == {ids["e1"], ids["e3"], ids["e7"]}
    return {
        "ann": ann,
        "bob": bob,
        "sales": sales,
        "ops": ops,
        "north": north,
        "south": south,
        "ids": ids,
    }


def _iso(moment) -> str:
    return moment.isoformat().replace("+", "%2B")


def _log_names(client, query: str, ids: dict) -> set[str]:
    response = client.get(f"/api/v1/attendance/logs?page_size=100&{query}")
    assert response.status_code == 200, (query, response.content)
    names = {pk: name for name, pk in ids.items()}
    return {names[row["id"]] for row in response.json()["results"]}


def test_logs_filters_return_exactly_the_matching_events(admin_api, mixed_log):
    f = mixed_log
    tuesday = T0 + timedelta(days=1)
    expected = {
        "": {"e1", "e2", "e3", "e4", "e5", "e6", "e7"},
        f"camera={f['north'].pk}": {"e1", "e7"},
        f"camera={f['south'].pk}": {"e3"},
        f"department={f['sales'].pk}": {"e1", "e2", "e5", "e6"},
        f"department={f['ops'].pk}": {"e3", "e4", "e7"},
        "source=camera": {"e1", "e3", "e7"},
        "source=manual": {"e2", "e4", "e5", "e6"},
        f"from={_iso(tuesday)}": {"e3", "e4", "e5", "e6", "e7"},
        f"to={_iso(tuesday)}": {"e1", "e2", "e3"},  # inclusive
        f"to={_iso(tuesday - timedelta(seconds=1))}": {"e1", "e2"},
        f"from={_iso(tuesday + timedelta(hours=9))}&to={_iso(tuesday + timedelta(days=1))}": {
            "e4",
            "e5",
        },
        f"department={f['ops'].pk}&source=camera&camera={f['north'].pk}": {"e7"},
        f"department={f['sales'].pk}&camera={f['south'].pk}": set(),
    }
    for query, names in expected.items():
        assert _log_names(admin_api, query, f["ids"]) == names, query


def test_days_filters_return_exactly_the_matching_rows(admin_api, mixed_log):
    f = mixed_log
    codes = {f["ann"].pk: "ANN", f["bob"].pk: "BOB"}
    expected = {
        "": {
            ("ANN", "2026-01-05"),
            ("BOB", "2026-01-06"),
            ("ANN", "2026-01-07"),
            ("BOB", "2026-01-08"),
        },
        f"department={f['sales'].pk}": {("ANN", "2026-01-05"), ("ANN", "2026-01-07")},
        f"department={f['ops'].pk}": {("BOB", "2026-01-06"), ("BOB", "2026-01-08")},
        "from=2026-01-06&to=2026-01-07": {("BOB", "2026-01-06"), ("ANN", "2026-01-07")},
        "to=2026-01-06": {("ANN", "2026-01-05"), ("BOB", "2026-01-06")},
        "from=2026-01-07": {("ANN", "2026-01-07"), ("BOB", "2026-01-08")},
        f"department={f['ops'].pk}&from=2026-01-07": {("BOB", "2026-01-08")},
        f"department={f['sales'].pk}&from=2026-01-08": set(),
    }
    for query, rows in expected.items():
        response = admin_api.get(f"/api/v1/attendance/days?page_size=100&{query}")
        assert response.status_code == 200, (query, response.content)
        got = {(codes[d["person"]["id"]], d["work_date"]) for d in response.json()["results"]}
        assert got == rows, query


def test_analytics_counts_and_trend_on_known_days(admin_api, settings):
    """Every day 01:00-23:59 (grace 5 min) in a zone where it is now day time, so
    today's 01:00-03:00 events are in the past. Today Ann is on time and in, Bea was
    late and left, Cid is late and in, Dan is expected and absent, Eve has no schedule.
    Three days ago Ann was on time and Bea late; ten days ago Cid was late."""
    zone_name = "UTC" if 6 <= timezone.now().hour <= 20 else "Asia/Tokyo"
    settings.TIME_ZONE = zone_name
    today = timezone.localtime(timezone.now()).date()
    schedule = make_schedule(
        tz=zone_name,
        intervals=[(d, time(1), time(23, 59)) for d in range(7)],
        late_grace_minutes=5,
    )

    def at(days_ago: int, hour: int, minute: int = 0):
        moment = datetime.combine(today - timedelta(days=days_ago), time(hour, minute))
        return timezone.make_aware(moment)

    ann, bea, cid, dan = (make_person(code) for code in ("ANN", "BEA", "CID", "DAN"))
    make_person("EVE")
    for person in (ann, bea, cid, dan):
        assign(person, schedule)
    add_manual_pair(ann, at(3, 1), at(3, 23), "x", None)
    add_manual_event(ann, "check_in", at(0, 1), "x", None)
    add_manual_pair(bea, at(3, 2), at(3, 23), "x", None)
    add_manual_pair(bea, at(0, 2), at(0, 2, 30), "x", None)
    add_manual_pair(cid, at(10, 3), at(10, 23), "x", None)
    add_manual_event(cid, "check_in", at(0, 3), "x", None)

    body = admin_api.get("/api/v1/attendance/analytics").json()
    assert body["date"] == today.isoformat()
    counts = {key: body[key] for key in ("present", "arrived", "late", "absent")}
    assert counts == {"present": 2, "arrived": 3, "late": 2, "absent": 1}
    by_hour = {row["hour"]: row["count"] for row in body["arrivals_by_hour"] if row["count"]}
    assert by_hour == {1: 1, 2: 1, 3: 1}
    trend = {row.pop("date"): row for row in body["trend"]}
    assert len(trend) == 30
    zero = dict.fromkeys(("present", "late", "absent", "holiday", "incomplete", "off"), 0)
    expected = {
        (today - timedelta(days=10)).isoformat(): {**zero, "late": 1},
        (today - timedelta(days=3)).isoformat(): {**zero, "present": 1, "late": 1},
        today.isoformat(): {**zero, "late": 1, "incomplete": 2},
    }
    assert {day: row for day, row in trend.items() if row != zero} == expected
