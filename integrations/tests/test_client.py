"""OdooClient against the emulator through each transport: calls, faults, timeouts."""

import datetime as dt
import logging

import pytest

from integrations.odoo.datetimes import from_odoo_datetime, to_odoo_datetime
from integrations.odoo.faults import (
    OdooAccessDenied,
    OdooConnectionRefused,
    OdooHttpError,
    OdooServerError,
    OdooTimeout,
    OdooTooManyLoginFailures,
    OdooTransportError,
    OdooUserError,
)

CHECK_IN = dt.datetime(2024, 1, 15, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def test_to_odoo_datetime_is_naive_utc():
    assert to_odoo_datetime(CHECK_IN) == "2024-01-15 08:00:00"
    assert (
        to_odoo_datetime(dt.datetime(2024, 1, 15, 8, 0, 0, 999, tzinfo=dt.UTC))
        == "2024-01-15 08:00:00"
    )
    with pytest.raises(ValueError):
        to_odoo_datetime(dt.datetime(2024, 1, 15, 8))
    assert from_odoo_datetime("2024-01-15 08:00:00") == dt.datetime(2024, 1, 15, 8, tzinfo=dt.UTC)
    assert from_odoo_datetime(False) is None


def test_version_and_authenticate(make_client, protocol):
    """Every protocol gives the version under ``common.version()``'s names (JSON-2 reads
    ``/web/version``, which names them ``version`` and ``version_info``)."""
    client = make_client(protocol)
    version = client.version()
    assert version["server_version"] == "17.0"
    assert version["server_version_info"][:2] == [17, 0]
    assert client.authenticate() == 2


def test_search_read_create_write(emulator, make_client, protocol):
    employee = emulator.add_employee("Ann Lee", barcode="A1", department="R&D")
    client = make_client(protocol)
    rows = client.search_read(
        "hr.employee",
        [("write_date", ">", dt.datetime(2000, 1, 1, tzinfo=dt.UTC))],
        ["name", "barcode", "department_id"],
        order="write_date asc, id asc",
        limit=10,
        context={"active_test": False},
    )
    assert rows == [
        {"id": employee, "name": "Ann Lee", "barcode": "A1", "department_id": [1, "R&D"]}
    ]
    [attendance] = client.create("hr.attendance", [{"employee_id": employee, "check_in": CHECK_IN}])
    assert client.write(
        "hr.attendance", [attendance], {"check_out": CHECK_IN + dt.timedelta(hours=8)}
    )
    stored = client.read("hr.attendance", [attendance], ["check_in", "check_out", "employee_id"])[0]
    assert stored["check_in"] == "2024-01-15 08:00:00"
    assert stored["check_out"] == "2024-01-15 16:00:00"
    assert stored["employee_id"] == [employee, "Ann Lee"]
    assert client.search_count("hr.attendance", [("employee_id", "=", employee)]) == 1


def test_batch_create_returns_ids_in_order(emulator, make_client, protocol):
    employee = emulator.add_employee("Ann Lee")
    client = make_client(protocol)
    days = [CHECK_IN + dt.timedelta(days=n) for n in range(3)]
    ids = client.create(
        "hr.attendance",
        [
            {"employee_id": employee, "check_in": d, "check_out": d + dt.timedelta(hours=1)}
            for d in days
        ],
    )
    assert len(ids) == 3 and ids == sorted(ids)


def test_validation_fault_is_typed_not_read_from_text(emulator, make_client, protocol):
    employee = emulator.add_employee("Ann Lee")
    client = make_client(protocol)
    client.create("hr.attendance", [{"employee_id": employee, "check_in": CHECK_IN}])
    with pytest.raises(OdooUserError) as info:
        client.create(
            "hr.attendance",
            [{"employee_id": employee, "check_in": CHECK_IN + dt.timedelta(days=1)}],
        )
    assert "hasn't checked out since" in info.value.message


def test_bad_key_is_access_denied(make_client, protocol):
    client = make_client(protocol, api_key="0" * 40)
    with pytest.raises(OdooAccessDenied):
        client.authenticate()


def test_revoked_key_is_access_denied_on_next_call(emulator, make_client, protocol):
    employee = emulator.add_employee("Ann Lee")
    client = make_client(protocol)
    client.authenticate()
    emulator.revoke_key()
    with pytest.raises(OdooAccessDenied):
        client.search_read("hr.employee", [("id", "=", employee)], ["name"])


def test_too_many_login_failures(make_client, protocol):
    bad = make_client(protocol, api_key="0" * 40)
    for _ in range(5):
        with pytest.raises(OdooAccessDenied) as info:
            bad.authenticate()
        assert not isinstance(info.value, OdooTooManyLoginFailures)
    with pytest.raises(OdooTooManyLoginFailures):
        bad.authenticate()


def test_stall_times_out_and_reads_are_retried(emulator, make_client, protocol):
    emulator.inject("stall")
    client = make_client(protocol, timeout=0.5)
    assert client.version()["server_version"] == "17.0"  # the retry got through


def test_stalled_write_is_not_retried(emulator, make_client, protocol):
    employee = emulator.add_employee("Ann Lee")
    client = make_client(protocol, timeout=0.5)
    client.authenticate()
    emulator.inject("stall", times=2)
    with pytest.raises(OdooTimeout):
        client.create("hr.attendance", [{"employee_id": employee, "check_in": CHECK_IN}])
    calls = [call for call in emulator.calls if call[2] == "create"]
    assert len(calls) <= 1


def test_connection_refused(emulator, make_client, protocol):
    client = make_client(protocol)
    emulator.down()
    with pytest.raises(OdooConnectionRefused):
        client.version()


@pytest.mark.parametrize(
    ("fault", "error"), [("http_500", OdooTransportError), ("http_502", OdooHttpError)]
)
def test_http_5xx(emulator, make_client, protocol, fault, error):
    client = make_client(protocol, read_retries=0)
    emulator.inject(fault)
    with pytest.raises((error, OdooServerError)) as info:
        client.version()
    assert info.value.details.get("status") == int(fault[-3:])


def test_lost_create_answer_is_a_transport_error_and_the_create_happened_once(
    emulator, make_client, protocol
):
    employee = emulator.add_employee("Ann Lee")
    client = make_client(protocol)
    client.authenticate()
    emulator.inject("lose_answer")
    with pytest.raises(OdooTransportError):
        client.create("hr.attendance", [{"employee_id": employee, "check_in": CHECK_IN}])
    found = client.search_read(
        "hr.attendance", [("employee_id", "=", employee), ("check_in", "=", CHECK_IN)], ["id"]
    )
    assert len(found) == 1
    assert len(emulator.records("hr.attendance")) == 1


def test_api_key_never_logged(emulator, make_client, protocol, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(protocol, timeout=0.5)
    emulator.inject("stall")
    client.version()
    with pytest.raises(OdooAccessDenied):
        make_client(protocol, api_key="f" * 40).authenticate()
    assert emulator.api_key not in caplog.text
    assert emulator.api_key not in repr(client) and emulator.api_key not in repr(client.credentials)
