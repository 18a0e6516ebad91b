"""The summary is served from the cache only while nothing it was built from changed
(attendance.summary_cache): every change below shows in the next answer."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from attendance import reports, summary_cache
from attendance.events import add_manual_pair, void_event
from attendance.models import AttendanceDay, AttendanceEvent
from attendance.tests.conftest import assign, make_person, make_schedule, utc
from faces.models import Department

T0 = utc(2026, 1, 5, 7)  # Monday 08:00 Berlin
URL = "/api/v1/attendance/summary?period=week&date=2026-01-07"
WEEK = ("week", date(2026, 1, 7))


@pytest.fixture
def office(db):
    """Ann (Sales) worked Monday 8 h; Bob (Ops) Monday 9 h."""
    schedule = make_schedule(intervals=[(d, time(8), time(16)) for d in range(5)])
    sales = Department.objects.create(name="Sales")
    ops = Department.objects.create(name="Ops")
    ann = make_person("ANN", department=sales)
    bob = make_person("BOB", department=ops)
    for person in (ann, bob):
        assign(person, schedule)
    add_manual_pair(ann, T0, T0 + timedelta(hours=8), "x", None)
    add_manual_pair(bob, T0, T0 + timedelta(hours=9), "x", None)
    return ann, bob, sales, ops


def fresh(period: str = "week", anchor: date = date(2026, 1, 7), **scope) -> dict:
    """The summary computed now, without the cache, as the API renders it."""
    data = reports.summary(period, anchor, reports.SummaryFilter(**scope))
    return json.loads(JSONRenderer().render(data))


def summary_from_api(api, url: str = URL) -> tuple[dict, list[str]]:
    """The API's answer and the SQL it ran."""
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200
    return response.json(), [query["sql"] for query in captured.captured_queries]


def grouped(queries: list[str]) -> bool:
    return any("GROUP BY" in sql for sql in queries)


def by_code(body: dict) -> dict:
    return {row["person"]["employee_code"]: row for row in body["people"]}


def test_a_repeated_summary_is_served_from_the_cache(admin_api, office):
    first, queries = summary_from_api(admin_api)
    assert grouped(queries)
    again, queries = summary_from_api(admin_api)
    assert again == first == fresh()
    assert not grouped(queries), queries


def test_new_and_voided_events_show_at_once(admin_api, office):
    ann, _bob, _sales, _ops = office
    summary_from_api(admin_api)
    tuesday = T0 + timedelta(days=1)
    add_manual_pair(ann, tuesday, tuesday + timedelta(hours=4), "x", None)
    body, queries = summary_from_api(admin_api)
    assert grouped(queries)
    assert by_code(body)["ANN"]["worked_minutes"] == 480 + 240
    assert body == fresh()
    check_in = AttendanceEvent.objects.get(person=ann, at=tuesday)
    void_event(check_in, "wrong day", None)
    body, _ = summary_from_api(admin_api)
    assert by_code(body)["ANN"]["worked_minutes"] == 480
    assert body == fresh()


def test_a_day_removed_outside_the_rules_shows_at_once(admin_api, office):
    _ann, bob, _sales, _ops = office
    summary_from_api(admin_api)
    AttendanceDay.objects.filter(person=bob).delete()
    body, _ = summary_from_api(admin_api)
    assert "BOB" not in by_code(body)
    assert body == fresh()


def test_renamed_people_and_departments_show_at_once(admin_api, office):
    ann, _bob, sales, ops = office
    summary_from_api(admin_api)
    ann.full_name = "Ann Renamed"
    ann.save()
    body, _ = summary_from_api(admin_api)
    assert by_code(body)["ANN"]["person"]["full_name"] == "Ann Renamed"
    sales.name = "Sales and Marketing"
    sales.save()
    body, _ = summary_from_api(admin_api)
    assert by_code(body)["ANN"]["department"]["name"] == "Sales and Marketing"
    ann.department = ops
    ann.save()
    body, _ = summary_from_api(admin_api)
    assert by_code(body)["ANN"]["department"]["name"] == "Ops"
    assert body == fresh()


def test_each_filter_and_period_has_its_own_entry(admin_api, office):
    _ann, _bob, sales, _ops = office
    summary_from_api(admin_api)
    body, _ = summary_from_api(admin_api, f"{URL}&department={sales.pk}")
    assert list(by_code(body)) == ["ANN"]
    assert body == fresh(department_id=sales.pk)
    body, _ = summary_from_api(admin_api, "/api/v1/attendance/summary?period=day&date=2026-01-06")
    assert body == fresh("day", date(2026, 1, 6)) and body["people"] == []


def test_a_change_made_while_a_summary_is_built_is_not_hidden(office):
    """The fingerprint is read before the summary: an entry built across a change is
    stored under the older fingerprint, so the next reader computes again."""
    ann, _bob, _sales, _ops = office
    scope = reports.SummaryFilter()

    def build_during_a_change() -> bytes:
        body = JSONRenderer().render(reports.summary(*WEEK, scope))
        tuesday = T0 + timedelta(days=1)
        add_manual_pair(ann, tuesday, tuesday + timedelta(hours=2), "x", None)
        return body

    def build() -> bytes:
        return JSONRenderer().render(reports.summary(*WEEK, scope))

    def unexpected() -> bytes:
        raise AssertionError("served from the cache, not built")

    before = summary_cache.summary_body(*WEEK, scope, build_during_a_change)
    assert by_code(json.loads(before))["ANN"]["worked_minutes"] == 480
    after = summary_cache.summary_body(*WEEK, scope, build)
    assert by_code(json.loads(after))["ANN"]["worked_minutes"] == 480 + 120
    assert summary_cache.summary_body(*WEEK, scope, unexpected) == after
