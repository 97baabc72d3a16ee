"""The bar's account: which server and login it is signed in to, and signing in or out.

The server URL and login are not secrets: they live in the journal's state table. The token
is a secret: it lives in the keyring (app.credentials) or, with no keyring, only in the
running bar's memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from app.journal import Journal

ACCOUNT_STATE = "account"
PROFILE_STATE = "server_profile"
TIMEOUT_S = 15.0


class SignInFailed(Exception):
    """Signing in did not work; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class Account:
    server: str
    login: str


def load_account(journal: Journal) -> Account | None:
    raw = journal.get_state(ACCOUNT_STATE)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return Account(str(data["server"]), str(data["login"]))
    except (ValueError, KeyError, TypeError):
        return None


def save_account(journal: Journal, account: Account) -> None:
    journal.set_state(ACCOUNT_STATE, json.dumps({"server": account.server, "login": account.login}))


def clear_account(journal: Journal) -> None:
    journal.set_state(ACCOUNT_STATE, "")


def save_profile(journal: Journal, me: dict[str, Any]) -> None:
    """Keep what the server said of the person (plateaux, activities, keys) for offline
    starts."""
    journal.set_state(PROFILE_STATE, json.dumps(me))


def profile_activities(me: dict[str, Any] | None) -> list[str]:
    """The activities of all the person's plateaux, in order, without repeats."""
    names: list[str] = []
    for plateau in (me or {}).get("plateaux", []):
        for name in plateau.get("activities", []) if isinstance(plateau, dict) else []:
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names


def load_profile(journal: Journal) -> dict[str, Any] | None:
    raw = journal.get_state(PROFILE_STATE)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def normalise_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SignInFailed(f"the server address must start with https:// (or http://): {url!r}")
    return url


def sign_in(server: str, login: str, password: str, device_id: str) -> tuple[str, dict[str, Any]]:
    """The token and the server's description of the person (plateaux, activities, keys)."""
    try:
        reply = httpx.post(
            f"{server}/v1/signin",
            timeout=TIMEOUT_S,
            json={"login": login, "password": password, "device_id": device_id},
        )
    except httpx.HTTPError as exc:
        raise SignInFailed(f"cannot reach {server}: {type(exc).__name__}") from None
    if reply.status_code == 401:
        raise SignInFailed("wrong login or password")
    if reply.status_code == 429:
        raise SignInFailed(
            f"too many failed attempts: try again in {reply.headers.get('Retry-After', '300')} s"
        )
    if reply.status_code != 200:
        raise SignInFailed(f"the server refused ({reply.status_code})")
    try:
        data = reply.json()
        token = str(data.pop("token"))
    except (ValueError, KeyError, TypeError):
        raise SignInFailed("the server's answer is not understood") from None
    return token, data


def sign_out(server: str, token: str) -> bool:
    """Revoke the token on the server (best effort: False if it could not be reached)."""
    try:
        reply = httpx.post(
            f"{server}/v1/signout", timeout=TIMEOUT_S, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.HTTPError:
        return False
    return reply.status_code in (200, 401)
