"""Talking to the store for the desktop app: the panel's Export and chart, the agent's
"my month", corrections. Blocking (network): never on the UI thread."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx

TIMEOUT_S = 60.0


class ExportFailed(Exception):
    """The report could not be had or written; the message says why, for a person.
    `unreachable`: the store did not answer (network, or busy) — trying later may work."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


def fetch_report(
    server: str,
    token: str,
    *,
    first: date,
    last: date,
    by: str = "agent",
    fmt: str = "json",
    plateau: str | None = None,
    french: bool = True,
    lang: str = "en",
) -> bytes:
    """The report as the store sends it. `french`: a CSV for Excel with French settings
    (`;`, decimal commas); `lang`: the CSV's headers ("fr" or "en")."""
    params: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "by": by,
        "format": fmt,
    }
    if plateau:
        params["plateau"] = plateau
    if fmt == "csv":
        params["lang"] = lang
        if french:
            params |= {"separator": ";", "decimal_comma": "true"}
    return _call("GET", server, "/v1/report", token, params=params).content


def report_rows(server: str, token: str, **kwargs: Any) -> list[dict[str, Any]]:
    body = fetch_report(server, token, fmt="json", **kwargs)
    try:
        rows = httpx.Response(200, content=body).json()["rows"]
    except (ValueError, KeyError):
        raise ExportFailed("the server's answer is not understood") from None
    return list(rows)


def save_csv(server: str, token: str, path: Path, **kwargs: Any) -> Path:
    """Fetch the CSV and write it to `path` (whole or not at all)."""
    content = fetch_report(server, token, fmt="csv", **kwargs)
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(content)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExportFailed(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def post_correction(server: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send a correction (see app.server.corrections); the stored row, or ExportFailed with
    the server's reason."""
    return dict(_call("POST", server, "/v1/corrections", token, json=body).json())


def _call(method: str, server: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
    """One authenticated call; ExportFailed with the server's own reason when refused."""
    try:
        reply = httpx.request(
            method,
            f"{server.rstrip('/')}{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_S,
            **kwargs,
        )
    except httpx.HTTPError as exc:
        raise ExportFailed(
            f"cannot reach {server}: {type(exc).__name__}", unreachable=True
        ) from None
    if reply.status_code == 429 or reply.status_code >= 500:
        raise ExportFailed(f"the server is busy ({reply.status_code})", unreachable=True)
    if reply.status_code != 200:
        try:
            why = reply.json().get("error", reply.status_code)
        except ValueError:
            why = reply.status_code
        raise ExportFailed(f"the server refused: {why}")
    return reply
