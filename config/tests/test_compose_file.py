"""docker-compose.yml: valid with the secrets ``make env`` writes, refusing to start
without any one of them, and publishing no port but the web server's.

A default secret would ship the same password to every install; a published MinIO,
PostgreSQL or Redis port would put the data stores on the host's network, bypassing the
app's authentication. ``docker compose config`` resolves the file exactly as ``up`` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("SECRET_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "CAMERA_ALLOWED_NETWORKS")
PUBLISHING_SERVICES = {"web"}


def compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    """``docker-compose config`` on the repository's file, with only ``env_file``'s values:
    the secrets are removed from the environment so that the caller's shell cannot fill in
    what the file lacks."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed: .ci/system-packages installs it")
    environment = {key: value for key, value in os.environ.items() if key not in SECRETS}
    return subprocess.run(
        [binary, "--env-file", str(env_file), "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def env_file(tmp_path_factory) -> Path:
    """The ``.env`` that ``make env`` writes, with random secrets."""
    target = tmp_path_factory.mktemp("compose") / "env"
    subprocess.run(
        ["bash", str(ROOT / ".ci" / "make-env"), str(target)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="module")
def resolved(env_file) -> dict:
    result = compose_config(env_file)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_the_file_is_valid_with_the_generated_secrets(resolved, env_file):
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    web = resolved["services"]["web"]["environment"]
    assert web["SECRET_KEY"] == values["SECRET_KEY"]
    assert web["CAMERA_ALLOWED_NETWORKS"] == values["CAMERA_ALLOWED_NETWORKS"]
    assert values["POSTGRES_PASSWORD"] in web["DATABASE_URL"]
    assert web["S3_SECRET_ACCESS_KEY"] == values["MINIO_ROOT_PASSWORD"]


@pytest.mark.parametrize("secret", SECRETS)
def test_the_file_refuses_to_start_without_each_secret(secret, env_file, tmp_path):
    without = tmp_path / "env"
    lines = env_file.read_text().splitlines()
    without.write_text("".join(f"{line}\n" for line in lines if not line.startswith(f"{secret}=")))
    result = compose_config(without)
    assert result.returncode != 0, f"docker-compose.yml is valid without {secret}"
    assert "make env" in result.stderr, result.stderr


def test_only_web_publishes_a_port(resolved):
    published = {
        name: spec["ports"] for name, spec in resolved["services"].items() if spec.get("ports")
    }
    assert set(published) == PUBLISHING_SERVICES, published
    targets = {int(port["target"]) for port in published["web"]}
    assert targets == {8000}
    for name in ("postgres", "redis", "minio", "minio-bucket"):
        assert "ports" not in resolved["services"][name], name


def test_no_service_publishes_the_data_stores_ports(resolved):
    """Belt and braces on the port numbers themselves: MinIO's API (9000) and console
    (9001), PostgreSQL (5432) and Redis (6379), whichever service would publish them."""
    for name, spec in resolved["services"].items():
        for port in spec.get("ports", []):
            assert int(port["target"]) not in {9000, 9001, 5432, 6379}, (name, port)
            assert int(port.get("published", 0)) not in {9000, 9001, 5432, 6379}, (name, port)
