"""The store's deployment examples (installer/server/): the systemd unit is valid, hardened
and runs a command the CLI takes; the reverse proxies pass the stream through unbuffered and
name the client as the store's --trusted-proxy expects."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.server.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "installer" / "server"
UNIT = DEPLOY / "bandeau-server.service"
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "RestrictSUIDSGID": "yes",
    "CapabilityBoundingSet": "",
    "UMask": "0077",
}


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(UNIT.read_text(encoding="utf-8"))
    return unit


def _serve_args() -> list[str]:
    command = shlex.split(_unit()["Service"]["ExecStart"])
    assert command[0].endswith("/bandeau-server")
    return command[1:]


def test_the_unit_is_hardened_and_owns_only_its_data_dir() -> None:
    service = _unit()["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == value, key
    assert service["User"] == service["Group"] == "bandeau"  # a user of its own
    data_dir = service["Environment"].split("=", 1)[1]
    assert service["ReadWritePaths"] == data_dir == f"/var/lib/{service['StateDirectory']}"
    assert service["StateDirectoryMode"] == "0700"
    assert service["KillSignal"] == "SIGTERM"  # every worker ends its streams, then exits


def test_the_unit_runs_a_command_the_cli_takes() -> None:
    args = build_parser().parse_args(_serve_args())
    assert args.command == "serve" and args.host == "127.0.0.1"  # behind the proxy only
    assert args.workers >= 2 and args.trusted_proxy == ["127.0.0.1"]
    pre = shlex.split(_unit()["Service"]["ExecStartPre"])
    assert build_parser().parse_args(pre[1:]).command == "migrate"


def test_the_proxies_stream_unbuffered_and_name_the_client() -> None:
    args = build_parser().parse_args(_serve_args())
    upstream = f"{args.trusted_proxy[0]}:{args.port}"
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert f"server {upstream};" in nginx
    stream = nginx.split("location = /v1/stream", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in stream and re.search(r"proxy_read_timeout \d+h;", stream)
    # The client's own address, overwritten: never $proxy_add_x_forwarded_for, which keeps
    # whatever address a client sent.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    assert "proxy_add_x_forwarded_for" not in nginx
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert f"reverse_proxy {upstream}" in caddy and "flush_interval -1" in caddy
    assert "header_up X-Forwarded-For {remote_host}" in caddy


def test_systemd_finds_nothing_wrong_with_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        message = "systemd-analyze is not installed"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: never skipped there
        pytest.skip(message)
    server = Path(sys.executable).with_name("bandeau-server")
    unit = tmp_path / "bandeau-server.service"
    unit.write_text(
        UNIT.read_text(encoding="utf-8").replace(
            "/opt/bandeau-server/bin/bandeau-server", str(server)
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Unknown" not in done.stderr and "ignoring" not in done.stderr, done.stderr
