"""The emulator against odoo-api.md: rules, exact messages and fault shapes, on the wire."""

import json
import xmlrpc.client

import pytest
import requests

from integrations.odoo.emulator.models import Fault, parse_datetime

NAME = "Ann Lee"


def xml_object(emulator, model, method, args, kwargs=None, key=None):
    proxy = xmlrpc.client.ServerProxy(f"{emulator.url}/xmlrpc/2/object", allow_none=True)
    return proxy.execute_kw(
        emulator.database, 2, key or emulator.api_key, model, method, args, kwargs or {}
    )


def attendance(emulator, employee, check_in, check_out=False):
    vals = {"employee_id": employee, "check_in": check_in}
    if check_out:
        vals["check_out"] = check_out
    return xml_object(emulator, "hr.attendance", "create", [vals])


def fault_of(call):
    with pytest.raises(xmlrpc.client.Fault) as info:
        call()
    return info.value


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-15T08:00:00",
        "2024-01-15 08:00:00Z",
        "2024-01-15 08:00:00+01:00",
        "2024-01-15 08:00:00.123456",
    ],
)
def test_non_naive_datetimes_are_value_errors(text):
    with pytest.raises(Fault) as info:
        parse_datetime(text)
    assert info.value.kind == "value"


def test_naive_datetime_parses():
    assert parse_datetime("2024-01-15 08:00:00").hour == 8


def test_version_and_authenticate_over_xmlrpc(emulator):
    common = xmlrpc.client.ServerProxy(f"{emulator.url}/xmlrpc/2/common")
    assert common.version()["protocol_version"] == 1
    assert common.authenticate(emulator.database, "admin", emulator.api_key, {}) == 2
    assert common.authenticate(emulator.database, "admin", "0" * 40, {}) is False


def test_api_key_is_40_hex(emulator):
    assert len(emulator.api_key) == 40
    int(emulator.api_key, 16)


def test_rule_already_checked_in_with_exact_message(emulator):
    employee = emulator.add_employee(NAME)
    attendance(emulator, employee, "2024-01-15 08:00:00", "2024-01-15 17:00:00")
    fault = fault_of(lambda: attendance(emulator, employee, "2024-01-15 12:00:00"))
    assert fault.faultCode == 2
    assert fault.faultString == (
        f"Cannot create new attendance record for {NAME}, the employee was already checked "
        "in on 01/15/2024 12:00:00"
    )


def test_equal_boundary_is_allowed(emulator):
    employee = emulator.add_employee(NAME)
    attendance(emulator, employee, "2024-01-15 08:00:00", "2024-01-15 12:00:00")
    assert attendance(emulator, employee, "2024-01-15 12:00:00", "2024-01-15 17:00:00")


def test_rule_hasnt_checked_out_since(emulator):
    employee = emulator.add_employee(NAME)
    attendance(emulator, employee, "2024-01-15 08:00:00")
    fault = fault_of(lambda: attendance(emulator, employee, "2024-01-16 08:00:00"))
    assert fault.faultString == (
        f"Cannot create new attendance record for {NAME}, the employee hasn't checked out "
        "since 01/15/2024 08:00:00"
    )


def test_rule_next_attendance_inside_the_new_one(emulator):
    employee = emulator.add_employee(NAME)
    attendance(emulator, employee, "2024-01-15 12:00:00", "2024-01-15 13:00:00")
    fault = fault_of(
        lambda: attendance(emulator, employee, "2024-01-15 08:00:00", "2024-01-15 17:00:00")
    )
    assert fault.faultString.endswith("was already checked in on 01/15/2024 12:00:00")


def test_rule_check_out_before_check_in(emulator):
    employee = emulator.add_employee(NAME)
    fault = fault_of(
        lambda: attendance(emulator, employee, "2024-01-15 17:00:00", "2024-01-15 08:00:00")
    )
    assert fault.faultString == '"Check Out" time cannot be earlier than "Check In" time.'


def test_batch_create_is_all_or_nothing(emulator):
    employee = emulator.add_employee(NAME)
    batch = [
        {"employee_id": employee, "check_in": "2024-01-15 08:00:00"},
        {"employee_id": employee, "check_in": "2024-01-16 08:00:00"},
    ]
    fault_of(lambda: xml_object(emulator, "hr.attendance", "create", [batch]))
    assert emulator.records("hr.attendance") == []


def test_bad_datetime_is_fault_1_over_xmlrpc_and_value_error_over_jsonrpc(emulator):
    employee = emulator.add_employee(NAME)
    fault = fault_of(lambda: attendance(emulator, employee, "2024-01-15T08:00:00"))
    assert fault.faultCode == 1
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": [
                emulator.database,
                2,
                emulator.api_key,
                "hr.attendance",
                "create",
                [{"employee_id": employee, "check_in": "2024-01-15 08:00:00Z"}],
                {},
            ],
        },
    }
    answer = requests.post(f"{emulator.url}/jsonrpc", json=body, timeout=5).json()
    assert answer["error"]["data"]["name"] == "builtins.ValueError"


def test_private_method_and_unknown_model(emulator):
    assert fault_of(
        lambda: xml_object(emulator, "hr.attendance", "_attendance_action_change", [[1]])
    ).faultString == (
        "Private methods (such as hr.attendance._attendance_action_change) "
        "cannot be called remotely."
    )
    fault = fault_of(lambda: xml_object(emulator, "x.model", "search_read", [[]]))
    assert (fault.faultCode, fault.faultString) == (2, "Object x.model doesn't exist")


def test_wrong_key_is_access_denied_fault_3(emulator):
    fault = fault_of(lambda: xml_object(emulator, "hr.employee", "search_read", [[]], key="1" * 40))
    assert fault.faultCode == 3


def test_json2_errors_are_http_statuses(emulator):
    url = f"{emulator.url}/json/2/hr.employee/search_read"
    assert (
        requests.post(
            url, json={"domain": []}, timeout=5, headers={"Authorization": "bearer x"}
        ).status_code
        == 401
    )
    ok = requests.post(
        url,
        json={"domain": [], "fields": ["name"]},
        timeout=5,
        headers={"Authorization": f"bearer {emulator.api_key}"},
    )
    assert ok.status_code == 200 and ok.json() == []
    missing = requests.post(
        f"{emulator.url}/json/2/no.model/search_read",
        json={},
        timeout=5,
        headers={"Authorization": f"bearer {emulator.api_key}"},
    )
    assert missing.status_code == 404


def test_active_test_and_domains(emulator):
    emulator.add_employee("Active", barcode="A1")
    emulator.add_employee("Archived", barcode="B2", active=False)
    names = lambda rows: sorted(row["name"] for row in rows)  # noqa: E731
    assert names(
        xml_object(emulator, "hr.employee", "search_read", [[]], {"fields": ["name"]})
    ) == ["Active"]
    everyone = xml_object(
        emulator,
        "hr.employee",
        "search_read",
        [[]],
        {"fields": ["name"], "context": {"active_test": False}},
    )
    assert names(everyone) == ["Active", "Archived"]
    either = xml_object(
        emulator,
        "hr.employee",
        "search_read",
        [["|", ("barcode", "=", "A1"), ("barcode", "=", "B2")]],
        {"fields": ["name"], "context": {"active_test": False}},
    )
    assert names(either) == ["Active", "Archived"]
    assert (
        xml_object(emulator, "hr.employee", "search_count", [[("barcode", "in", ["A1", "Z"])]]) == 1
    )


def test_write_date_moves_on_write(emulator):
    employee = emulator.add_employee(NAME)
    before = emulator.records("hr.employee")[0]["write_date"]
    emulator.clock_offset = emulator.clock_offset.__class__(hours=1)
    emulator.write_raw("hr.employee", employee, {"job_title": "Chef"})
    after = emulator.records("hr.employee")[0]["write_date"]
    assert after > before
    found = xml_object(
        emulator,
        "hr.employee",
        "search_read",
        [[("write_date", ">", before)]],
        {"fields": ["name", "job_title"]},
    )
    assert [row["job_title"] for row in found] == ["Chef"]


def test_many2one_and_empty_values(emulator):
    emulator.add_employee(NAME, department="R&D")
    row = xml_object(
        emulator,
        "hr.employee",
        "search_read",
        [[]],
        {"fields": ["department_id", "barcode", "image_1920"]},
    )[0]
    assert row["department_id"][1] == "R&D"
    assert row["barcode"] is False and row["image_1920"] is False


def test_lockout_after_five_failures(emulator):
    common = xmlrpc.client.ServerProxy(f"{emulator.url}/xmlrpc/2/common")
    for _ in range(5):
        assert common.authenticate(emulator.database, "admin", "bad", {}) is False
    assert common.authenticate(emulator.database, "admin", emulator.api_key, {}) is False
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {
            "service": "common",
            "method": "authenticate",
            "args": [emulator.database, "admin", emulator.api_key, {}],
        },
    }
    assert requests.post(f"{emulator.url}/jsonrpc", json=body, timeout=5).json()["result"] is False


def test_revoked_key(emulator):
    emulator.revoke_key()
    common = xmlrpc.client.ServerProxy(f"{emulator.url}/xmlrpc/2/common")
    assert common.authenticate(emulator.database, "admin", emulator.api_key, {}) is False


def test_injected_http_errors_and_refusal(emulator):
    emulator.inject("http_502")
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {"service": "common", "method": "version", "args": []},
    }
    response = requests.post(f"{emulator.url}/jsonrpc", data=json.dumps(body), timeout=5)
    assert response.status_code == 502
    emulator.down()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{emulator.url}/web/version", timeout=2)
    emulator.up()
    assert requests.get(f"{emulator.url}/web/version", timeout=2).status_code == 200


def test_hr_version_does_not_exist_before_19(emulator):
    fault = fault_of(lambda: xml_object(emulator, "hr.version", "search_read", [[]]))
    assert (fault.faultCode, fault.faultString) == (2, "Object hr.version doesn't exist")
    emulator.add_employee(NAME)
    fault = fault_of(lambda: xml_object(emulator, "hr.employee", "read", [[1], ["version_id"]]))
    assert "Invalid field 'version_id'" in fault.faultString


@pytest.mark.parametrize("emulator", ["19.0"], indirect=True)
def test_from_19_department_and_job_are_written_on_the_current_hr_version(emulator):
    employee = emulator.add_employee(NAME, department="R&D", job_title="Chemist")
    (before,) = emulator.records("hr.employee")
    (version,) = emulator.records("hr.version")
    assert before["version_id"][0] == version["id"]
    assert version["employee_id"][0] == employee and version["department_id"][1] == "R&D"
    emulator.clock_offset = emulator.clock_offset.__class__(hours=1)
    ops = emulator.department("Ops")
    assert xml_object(emulator, "hr.employee", "write", [[employee], {"department_id": ops}])
    emulator.write_raw("hr.employee", employee, {"job_title": "Lead"})
    (after,) = xml_object(
        emulator, "hr.employee", "read", [[employee], ["department_id", "job_title", "write_date"]]
    )
    assert after["department_id"] == [ops, "Ops"] and after["job_title"] == "Lead"
    assert after["write_date"] == before["write_date"]  # only the version was written
    (moved,) = emulator.records("hr.version")
    assert moved["write_date"] > version["write_date"]
    assert moved["department_id"] == [ops, "Ops"] and moved["job_title"] == "Lead"
    found = xml_object(
        emulator,
        "hr.version",
        "search_read",
        [[("write_date", ">", version["write_date"])]],
        {"fields": ["employee_id"]},
    )
    assert [row["employee_id"][0] for row in found] == [employee]
    emulator.write_raw("hr.employee", employee, {"name": "Ann Other"})
    (renamed,) = emulator.records("hr.employee")
    assert renamed["write_date"] > before["write_date"]  # its own fields still move it
