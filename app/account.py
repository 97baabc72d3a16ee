"""The bar's account: which server and login it is signed in to, and signing in or out.

The server URL and login are not secrets: they live in the journal's state table. The token
is a secret: it lives in the keyring (app.credentials) or, with no keyring, only in the
running bar's memory.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.domain.events import DEFAULT_KEY_LOOKS, Key, is_colour
from app.problems import Problem

if TYPE_CHECKING:
    import httpx

    from app.journal import Journal

ACCOUNT_STATE = "account"
PROFILE_STATE = "server_profile"
TIMEOUT_S = 15.0


class SignInFailed(Problem):
    """Signing in did not work. Codes (and params): bad_address (address), unreachable
    (address, reason: a key of NETWORK_REASONS), wrong_credentials, locked (seconds),
    refused (address, status), not_understood (address), no_activity (login)."""


@dataclass(frozen=True, slots=True)
class KeyLook:
    """A key's label and colour as the plateau sets them."""

    label: str
    colour: str


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


def profile_key_styles(me: dict[str, Any] | None, activity: str | None) -> dict[str, KeyLook]:
    """The labels and colours the plateau of `activity` gives its keys (the first plateau's
    when the activity is in none); what the profile says badly is left at the default, and
    keys it does not describe are left out."""
    plateaux = [p for p in (me or {}).get("plateaux", []) if isinstance(p, dict)]
    chosen = next((p for p in plateaux if activity in p.get("activities", [])), None)
    if chosen is None and plateaux:
        chosen = plateaux[0]
    keys = chosen.get("keys") if chosen else None
    looks: dict[str, KeyLook] = {}
    for key, look in (keys or {}).items() if isinstance(keys, dict) else ():
        if not isinstance(look, dict) or key not in {k.value for k in Key}:
            continue
        label, colour = DEFAULT_KEY_LOOKS[Key(key)]
        given_label, given_colour = look.get("label"), look.get("colour")
        if isinstance(given_label, str) and given_label.strip():
            label = given_label.strip()
        if isinstance(given_colour, str) and is_colour(given_colour):
            colour = given_colour.lower()
        looks[key] = KeyLook(label, colour)
    return looks


def load_profile(journal: Journal) -> dict[str, Any] | None:
    raw = journal.get_state(PROFILE_STATE)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def normalise_server(address: str) -> str:
    """The store's URL from what a person typed: https:// when no scheme is given
    (`bandeau.site.fr`, `10.0.0.5:8750`); no trailing slash."""
    import httpx  # noqa: PLC0415 - only signing in needs it

    text = address.strip().rstrip("/")
    url = text if "://" in text else f"https://{text}"
    try:
        parsed = httpx.URL(url)
        port = parsed.port  # a port that is not a number fails here
    except (httpx.InvalidURL, ValueError):
        parsed, port = None, None
    del port
    if (
        parsed is None
        or parsed.scheme not in ("http", "https")
        or not parsed.host
        or text.endswith(":")
        or any(c.isspace() for c in text)
    ):
        raise SignInFailed(
            "bad_address",
            f"not a server address: {text!r} (e.g. https://bandeau.example.fr)",
            address=text,
        )
    return url


def sign_in(server: str, login: str, password: str, device_id: str) -> tuple[str, dict[str, Any]]:
    """The token and the server's description of the person (plateaux, activities, keys)."""
    import httpx  # noqa: PLC0415

    try:
        reply = httpx.post(
            f"{server}/v1/signin",
            timeout=TIMEOUT_S,
            json={"login": login, "password": password, "device_id": device_id},
        )
    except httpx.HTTPError as exc:
        reason, english = network_reason(exc)
        raise SignInFailed(
            "unreachable", f"cannot reach {server} ({english})", address=server, reason=reason
        ) from None
    if reply.status_code == 401:
        raise SignInFailed("wrong_credentials", "wrong login or password")
    if reply.status_code == 429:
        seconds = _retry_after_s(reply.headers.get("Retry-After"))
        raise SignInFailed(
            "locked", f"too many failed attempts: try again in {seconds} s", seconds=seconds
        )
    if reply.status_code != 200:
        raise SignInFailed(
            "refused",
            f"{server} refused ({reply.status_code})",
            address=server,
            status=reply.status_code,
        )
    try:
        data = reply.json()
        token = str(data.pop("token"))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SignInFailed(
            "not_understood", f"the answer of {server} is not understood", address=server
        ) from None
    return token, data


def _retry_after_s(header: str | None) -> int:
    """Retry-After in seconds (a date or garbage counts as five minutes)."""
    try:
        return max(1, int(header or ""))
    except ValueError:
        return 300


NETWORK_REASONS = {
    "timeout": "no answer in time",
    "tls": "the secure connection failed: is it http:// rather than https://?",
    "name": "no computer has that name",
    "connect": "nothing answers at that address",
    "other": "the connection failed",
}


def network_reason(exc: httpx.HTTPError) -> tuple[str, str]:
    """Why a call did not get through: a code (a key of NETWORK_REASONS, for the interface
    to word) and its English."""
    import httpx  # noqa: PLC0415

    text = str(exc).lower()
    if isinstance(exc, httpx.TimeoutException):
        code = "timeout"
    elif "ssl" in text or "certificate" in text or "tls" in text:
        code = "tls"
    elif isinstance(exc, httpx.ConnectError) and (
        "name or service" in text or "name resolution" in text or "nodename" in text
    ):
        code = "name"
    elif isinstance(exc, httpx.ConnectError):
        code = "connect"
    else:
        code = "other"
    return code, NETWORK_REASONS[code]


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A sign-in that worked. `keyring_problem` is None when the token is in the keyring;
    otherwise it says why not, and the token can only live in a running bar's memory."""

    account: Account
    token: str = field(repr=False)  # never in a log or a traceback
    profile: dict[str, Any] = field(repr=False)
    activities: list[str]
    keyring_problem: str | None


def sign_in_and_keep(server: str, login: str, password: str, device_id: str) -> SignedIn:
    """Sign in and put the token in the keyring if there is one. Blocks (network,
    keyring): never on the UI thread."""
    from app.credentials import NoKeyring, save_token  # noqa: PLC0415 - loads keyring

    server = normalise_server(server)
    token, me = sign_in(server, login, password, device_id)
    person = me.get("person")
    login = str(person.get("login", login)) if isinstance(person, dict) else login
    activities = profile_activities(me)
    if not activities:
        sign_out(server, token)
        raise SignInFailed(
            "no_activity",
            f"{login} has no activity on the server yet: ask an admin to add the plateau's "
            "activities",
            login=login,
        )
    try:
        save_token(server, login, token)
    except NoKeyring as exc:
        problem: str | None = str(exc)
    else:
        problem = None
    return SignedIn(Account(server, login), token, me, activities, problem)


def sign_out(server: str, token: str) -> bool:
    """Revoke the token on the server (best effort: False if it could not be reached)."""
    import httpx  # noqa: PLC0415

    try:
        reply = httpx.post(
            f"{server}/v1/signout", timeout=TIMEOUT_S, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.HTTPError:
        return False
    return reply.status_code in (200, 401)


def forget_sign_in(account: Account, token: str | None) -> bool:
    """Remove the token from the keyring and revoke it on the server. Blocks (keyring,
    network). False if the server could not be reached to revoke it."""
    from app.credentials import NoKeyring, delete_token  # noqa: PLC0415

    with contextlib.suppress(NoKeyring):  # no keyring: it was only ever in memory
        delete_token(account.server, account.login)
    return token is None or sign_out(account.server, token)


def remember_sign_in(journal: Journal, done: SignedIn, *, send_local: bool) -> int:
    """The journal's half of a sign-in, the same for the bar and `bandeau signin` (when no
    bar runs): the events recorded here before sign-in are claimed if the person chose to
    send them, and the account and what the server said of the person are kept for offline
    starts. How many events were claimed. Raises JournalError."""
    claimed = journal.claim_local(done.account.login) if send_local else 0
    save_profile(journal, done.profile)
    save_account(journal, done.account)
    return claimed
