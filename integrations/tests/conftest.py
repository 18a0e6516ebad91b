import pytest

from integrations.odoo.client import OdooClient
from integrations.odoo.emulator.server import OdooEmulator
from integrations.odoo.transports import OdooCredentials

PROTOCOLS = ["xmlrpc", "jsonrpc", "json2"]


@pytest.fixture
def emulator(request):
    """Odoo 17.0 unless parametrized indirectly with a version ("19.0")."""
    version = getattr(request, "param", "17.0")
    server = OdooEmulator(stall_seconds=3.0, version=version).start()
    yield server
    server.stop()


@pytest.fixture(params=PROTOCOLS)
def protocol(request):
    return request.param


@pytest.fixture
def make_client(emulator):
    def make(protocol, *, api_key=None, database=None, timeout=1.0, **kwargs):
        credentials = OdooCredentials(
            base_url=emulator.url,
            database=database or emulator.database,
            login=emulator.login,
            api_key=emulator.api_key if api_key is None else api_key,
            timeout_seconds=timeout,
        )
        return OdooClient(credentials, protocol, **kwargs)

    return make


@pytest.fixture(autouse=True)
def _forget_login_failures():
    """The client counts access denials per URL; a reused port must start clean."""
    from integrations.odoo import client

    client._failures.clear()
    yield
    client._failures.clear()


@pytest.fixture
def connection(db, emulator, settings):
    """The stored connection, enabled, pointed at the emulator (XML-RPC unless changed)."""
    from integrations.models import OdooConnection

    settings.ODOO_ALLOW_LOOPBACK = True
    row = OdooConnection.load()
    row.base_url = emulator.url
    row.database = emulator.database
    row.login = emulator.login
    row.api_key = emulator.api_key
    row.protocol = "xmlrpc"
    row.timeout_seconds = 2.0
    row.enabled = True
    row.save()
    return row
