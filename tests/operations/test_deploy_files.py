"""The example production files in deploy/ stay consistent with the code: the commands they run exist,
the variables they set are read, the proxies forward what settings trust, the units are hardened."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
from django.core.management import get_commands

from alliance import settings as production_settings
from alliance.core.management.commands.serve import gunicorn_argv

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("alliance-web.service", "alliance-worker.service", "alliance-scheduler.service")
CODE = "\n".join(p.read_text() for p in (ROOT / "alliance").rglob("*.py"))


def _unit(name: str) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            entries.setdefault(key.strip(), []).append(value.strip())
    return entries


def _env_file() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / "alliance.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def _read_by_the_code(name: str) -> bool:
    base = name.removesuffix("_FILE")
    return f'"{name}"' in CODE or (name.endswith("_FILE") and f'secret_from_env("{base}")' in CODE)


@pytest.mark.parametrize("name", UNITS)
def test_units_run_commands_that_exist(name: str) -> None:
    commands = set(get_commands())
    for line in _unit(name)["ExecStart"] + _unit(name).get("ExecStartPre", []):
        argv = line.split()
        if argv[0].endswith("/alliance"):
            assert argv[1] in commands, line
        else:
            assert argv[1:3] == ["-m", "gunicorn"], line
            config = argv[argv.index("-c") + 1]
            assert config == "/opt/alliance/deploy/gunicorn.conf.py"


@pytest.mark.parametrize("name", UNITS)
def test_units_are_hardened_and_get_secrets_as_credentials(name: str) -> None:
    unit = _unit(name)
    assert unit["NoNewPrivileges"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
    data_dir = _env_file()["ALLIANCE_DATA_DIR"]
    assert unit["ReadWritePaths"] == [data_dir]
    assert unit["UMask"] == ["0077"]
    credentials = {c.split(":")[0] for c in unit["LoadCredential"]}
    file_vars = {e.split("=")[0]: e.split("=")[1] for e in unit["Environment"] if "_FILE=" in e}
    # Every credential is handed to settings through NAME_FILE=%d/<credential>, which settings read.
    assert {v.removeprefix("%d/") for v in file_vars.values()} == credentials
    for variable in file_vars:
        assert _read_by_the_code(variable), variable
    assert unit["EnvironmentFile"] == ["/etc/alliance/alliance.env"]


def test_every_variable_the_examples_set_is_read_by_the_code() -> None:
    for variable in _env_file():
        assert _read_by_the_code(variable), (
            f"{variable} is set in deploy/alliance.env but never read"
        )


def test_the_example_environment_passes_the_configuration_checks() -> None:
    env = _env_file()
    assert env["ALLIANCE_SITE_URL"].startswith("https://")
    assert env["ALLIANCE_BEHIND_PROXY"] == "1"
    assert "*" not in env["ALLOWED_HOSTS"]
    assert env["CSRF_TRUSTED_ORIGINS"] == env["ALLIANCE_SITE_URL"]
    assert "ALLIANCE_HTTPS" not in env and "ALLIANCE_DEBUG" not in env  # secure defaults
    assert env["ALLIANCE_SITE_URL"].removeprefix("https://") in env["ALLOWED_HOSTS"].split(",")


def test_the_proxies_forward_the_header_settings_trust_behind_a_proxy() -> None:
    # settings: SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") with ALLIANCE_BEHIND_PROXY.
    source = Path(production_settings.__file__).read_text()
    assert '("HTTP_X_FORWARDED_PROTO", "https")' in source
    assert 'env_bool("ALLIANCE_BEHIND_PROXY"' in source
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    assert "proxy_set_header Host $host;" in nginx
    assert "access_log off;" in nginx  # it would hold check-in tokens
    assert "return 301 https://" in nginx
    # Caddy sets X-Forwarded-Proto on its own; it must point at gunicorn's bind and ask /health.
    caddy = (DEPLOY / "Caddyfile").read_text()
    gunicorn = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert f"reverse_proxy {gunicorn['bind']}" in caddy
    assert f"server {gunicorn['bind']};" in nginx
    assert "health_uri /health" in caddy


def test_gunicorn_config_matches_serve_and_keeps_tokens_out_of_its_log() -> None:
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["wsgi_app"] == production_settings.WSGI_APPLICATION.replace(
        ".application", ":application"
    )
    assert config["accesslog"] is None
    assert config["bind"].startswith("127.0.0.1:")  # only the proxy reaches it
    assert "127.0.0.1" in config["forwarded_allow_ips"]
    assert config["control_socket_disable"] is True
    # One listening socket per worker, as `alliance serve` runs it (tests/operations/test_web_workers.py).
    assert config["reuse_port"] is True
    assert "--reuse-port" in gunicorn_argv("127.0.0.1:8000", 2)


def test_deployment_doc_covers_every_variable_and_file() -> None:
    doc = (ROOT / "docs" / "deployment.md").read_text()
    for variable in _env_file():
        assert f"`{variable}`" in doc, variable
    for name in (*UNITS, "Caddyfile", "nginx.conf", "gunicorn.conf.py", "alliance.env"):
        assert name in doc, name
    for command in ("alliance check", "alliance backup", "alliance serve"):
        assert command in doc
    # Every variable the doc's table names is one the code reads.
    for variable in re.findall(r"^\| `([A-Z_]+)`", doc, flags=re.MULTILINE):
        assert _read_by_the_code(variable), variable
