"""Talking to the store for the desktop app: the panel's Export and chart, the agent's
"my month", corrections. Blocking (network): never on the UI thread."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx

from app.account import network_reason
from app.problems import Problem

TIMEOUT_S = 60.0


class ExportFailed(Problem):
    """A call to the store, or writing its answer, did not work. `unreachable`: the store
    did not answer (network, or busy): trying later may work.

    Codes (and params): unreachable (address, reason), busy (address, status),
    not_understood (address), cannot_write (path, reason), or the store's own code with its
    params, plus status, field and error (its English)."""

    def __init__(self, code: str, message: str, *, unreachable: bool = False, **params: Any):
        super().__init__(code, message, **params)
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
    except (ValueError, KeyError, TypeError):
        raise ExportFailed(
            "not_understood", f"the answer of {server} is not understood", address=server
        ) from None
    return list(rows)


def save_csv(server: str, token: str, path: Path, **kwargs: Any) -> Path:
    """Fetch the CSV and write it to `path` (whole or not at all)."""
    return _write_whole(path, fetch_report(server, token, fmt="csv", **kwargs))


def save_my_data(server: str, token: str, path: Path) -> Path:
    """Everything the store holds about the signed-in person (`GET /v1/me/data`), as JSON,
    written to `path` whole or not at all (the right of access). Only its owner may read
    it: it holds their day, their notes and what was said of their time."""
    content = _call("GET", server, "/v1/me/data", token).content
    return _write_whole(path, content, private=True)


def change_password(server: str, token: str, current: str, new: str) -> dict[str, Any]:
    """Change the signed-in person's password; ExportFailed with the store's reason
    (wrong_password, weak_password with min, locked…)."""
    body = {"current": current, "new": new}
    return dict(_call("POST", server, "/v1/me/password", token, json=body).json())


def _write_whole(path: Path, content: bytes, *, private: bool = False) -> Path:
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(content)
        if private:
            partial.chmod(0o600)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise ExportFailed(
            "cannot_write", f"cannot write {path}: {reason}", path=str(path), reason=reason
        ) from None
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
        reason, english = network_reason(exc)
        raise ExportFailed(
            "unreachable",
            f"cannot reach {server} ({english})",
            unreachable=True,
            address=server,
            reason=reason,
        ) from None
    if reply.status_code == 429 or reply.status_code >= 500:
        raise ExportFailed(
            "busy",
            f"{server} is busy ({reply.status_code})",
            unreachable=True,
            address=server,
            status=reply.status_code,
        )
    if reply.status_code != 200:
        raise refusal(reply)
    return reply


def refusal(reply: httpx.Response) -> ExportFailed:
    """The store's refusal as it gave it: its code, field and params (worded by the
    interface), its English for logs."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    given_params = body.get("params")
    params: dict[str, Any] = given_params if isinstance(given_params, dict) else {}
    error = str(body.get("error") or reply.status_code)
    given = {str(k): v for k, v in params.items()}
    return ExportFailed(
        str(body.get("code") or "refused"),
        f"the server refused: {error}",
        **(given | {"status": reply.status_code, "field": body.get("field"), "error": error}),
    )
