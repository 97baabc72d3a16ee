"""The token in the keyring: saved, read, deleted; no keyring, a slow one, an unsafe one."""

from __future__ import annotations

import threading

import keyring
import keyring.backend
import pytest

from app.credentials import NoKeyring, delete_token, entry_name, load_token, save_token
from tests.conftest import MemoryKeyring

SERVER = "https://bandeau.example:8750/"


def test_round_trip_in_the_keyring() -> None:
    save_token(SERVER, "marie", "tok-123")
    backend = keyring.get_keyring()
    assert isinstance(backend, MemoryKeyring)
    assert backend.secrets == {("bandeau", "https://bandeau.example:8750|marie"): "tok-123"}
    assert load_token(SERVER, "marie") == "tok-123"
    assert load_token(SERVER, "paul") is None
    delete_token(SERVER, "marie")
    delete_token(SERVER, "marie")  # twice is fine
    assert load_token(SERVER, "marie") is None
    assert entry_name(SERVER, "marie") == "https://bandeau.example:8750|marie"


def test_no_keyring_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(NoKeyring, match="no safe keyring"):
        save_token(SERVER, "marie", "tok")
    with pytest.raises(NoKeyring):
        load_token(SERVER, "marie")


class PlaintextLike(MemoryKeyring):
    """Stands for keyrings.alt (not installed here): a backend from that package."""


def test_a_plaintext_backend_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PlaintextLike, "__module__", "keyrings.alt.file")
    keyring.set_keyring(PlaintextLike())
    with pytest.raises(NoKeyring, match=r"keyrings\.alt"):
        save_token(SERVER, "marie", "tok")


class LockedKeyring(MemoryKeyring):
    """A keyring that never answers (a locked GNOME keyring waiting for a prompt)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None


def test_a_keyring_that_never_answers_times_out() -> None:
    locked = LockedKeyring()
    keyring.set_keyring(locked)
    try:
        with pytest.raises(NoKeyring, match="did not answer"):
            load_token(SERVER, "marie", timeout_s=0.2)
    finally:
        locked.release.set()  # let the helper thread end


class BrokenKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError(f"cannot store {password}")


def test_a_keyring_error_never_shows_the_secret() -> None:
    keyring.set_keyring(BrokenKeyring())
    with pytest.raises(NoKeyring) as caught:
        save_token(SERVER, "marie", "super-secret-token")
    assert "super-secret-token" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert not caught.value.part_missing  # the keyring said no: the session's state


class HalfInstalledKeyring(MemoryKeyring):
    """A backend whose own helper module did not make it into a bundle."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise ModuleNotFoundError("No module named 'jeepney'")


def test_a_backend_missing_a_module_is_told_apart_from_a_refusal() -> None:
    keyring.set_keyring(HalfInstalledKeyring())
    with pytest.raises(NoKeyring, match="ModuleNotFoundError") as caught:
        save_token(SERVER, "marie", "super-secret-token")
    assert caught.value.part_missing
