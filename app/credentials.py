"""The device token, kept in the OS keyring (service "bandeau", one entry per server + login).

Never in a file, a log, the journal or a traceback. Keyring calls run on a helper thread with a
timeout, because a locked keyring can block forever. A backend that would store secrets in
plaintext (keyrings.alt) counts as no keyring at all.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import keyring
import keyring.errors

log = logging.getLogger(__name__)

SERVICE = "bandeau"
TIMEOUT_S = 5.0
# Windows Credential Manager caps a secret at 2,560 bytes; a token is ~43.
MAX_SECRET_BYTES = 2560
_UNSAFE_BACKENDS = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")

T = TypeVar("T")


class NoKeyring(Exception):
    """No safe keyring here (none installed, locked, or too slow to answer).

    Attributes:
        part_missing: the backend could not load a module it needs (an installation that
            lost part of itself, a bundle above all) rather than the keyring saying no.
    """

    def __init__(self, message: str, *, part_missing: bool = False) -> None:
        super().__init__(message)
        self.part_missing = part_missing


def entry_name(server_url: str, login: str) -> str:
    return f"{server_url.rstrip('/')}|{login}"


def backend_problem() -> str | None:
    backend = keyring.get_keyring()
    module = type(backend).__module__
    if module.startswith(_UNSAFE_BACKENDS):
        return f"no safe keyring backend ({module})"
    return None


def _with_timeout(call: Callable[[], T], timeout_s: float) -> T:
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed back to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, name="keyring", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        # The thread is left to finish on its own: a keyring call cannot be cancelled.
        raise NoKeyring(f"the keyring did not answer within {timeout_s:g} s (locked?)")
    if "error" in box:
        error = box["error"]
        if isinstance(error, keyring.errors.KeyringError):
            raise NoKeyring(f"the keyring refused: {type(error).__name__}") from None
        raise NoKeyring(
            f"the keyring failed: {type(error).__name__}",
            part_missing=isinstance(error, ImportError),
        ) from None
    return box["value"]  # type: ignore[return-value]


def save_token(server_url: str, login: str, token: str, *, timeout_s: float = TIMEOUT_S) -> None:
    problem = backend_problem()
    if problem:
        raise NoKeyring(problem)
    if len(token.encode("utf-8")) > MAX_SECRET_BYTES:
        raise NoKeyring("the token is too long for the keyring")
    _with_timeout(
        lambda: keyring.set_password(SERVICE, entry_name(server_url, login), token), timeout_s
    )


def load_token(server_url: str, login: str, *, timeout_s: float = TIMEOUT_S) -> str | None:
    problem = backend_problem()
    if problem:
        raise NoKeyring(problem)
    value = _with_timeout(
        lambda: keyring.get_password(SERVICE, entry_name(server_url, login)), timeout_s
    )
    return value if isinstance(value, str) else None


def delete_token(server_url: str, login: str, *, timeout_s: float = TIMEOUT_S) -> None:
    if backend_problem():
        return

    def delete() -> None:
        with contextlib.suppress(keyring.errors.PasswordDeleteError):  # already gone
            keyring.delete_password(SERVICE, entry_name(server_url, login))

    _with_timeout(delete, timeout_s)
