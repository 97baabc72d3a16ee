"""Start at login: the XDG autostart entry (for real, in the test's HOME) and Windows' Run
key (winreg replaced by a fake: it cannot run here), and the commands IT scripts use."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from app import autostart
from app.config import load_settings, resolve_places
from tests.processes import run


def test_the_xdg_entry_follows_the_setting_and_quotes_its_path(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}
    program = [str(tmp_path / "My Apps" / "bandeau"), "--data-dir", "/tmp/100%"]
    assert not autostart.is_enabled(environ=env)
    assert autostart.set_enabled(True, command=program, environ=env)
    assert not autostart.set_enabled(True, command=program, environ=env)  # nothing to change
    entry = tmp_path / "config" / "autostart" / "app.bandeau.Bandeau.desktop"
    assert autostart.is_enabled(environ=env)
    text = entry.read_text(encoding="utf-8")
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert shlex.split(exec_line.removeprefix("Exec=").replace("%%", "%")) == program
    # Switched off by the desktop's own tool: off, and the bar's "on" writes it on again.
    entry.write_text(text.replace("enabled=true", "enabled=false"), encoding="utf-8")
    assert not autostart.is_enabled(environ=env)
    assert autostart.set_enabled(True, command=program, environ=env)
    assert autostart.set_enabled(False, command=program, environ=env)
    assert not entry.exists()
    assert not autostart.set_enabled(False, command=program, environ=env)


def test_an_entry_that_cannot_be_written_is_said(tmp_path: Path) -> None:
    blocker = tmp_path / "config"
    blocker.write_text("a file where the folder should be")
    env = {"XDG_CONFIG_HOME": str(blocker), "HOME": str(tmp_path)}
    with pytest.raises(autostart.AutostartError, match="cannot change the start at login"):
        autostart.set_enabled(True, command=["bandeau"], environ=env)


class FakeWinreg:
    """winreg's calls, recorded (Windows' registry cannot be reached here)."""

    HKEY_CURRENT_USER, KEY_READ, KEY_SET_VALUE, REG_SZ = "HKCU", 1, 2, 1

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}
        self.calls: list[tuple[Any, ...]] = []

    class _Key:
        def __init__(self, path: str) -> None:
            self.path = path

        def __enter__(self) -> FakeWinreg._Key:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def OpenKey(self, root: str, path: str, reserved: int, access: int) -> _Key:
        self.calls.append(("OpenKey", root, path, access))
        return self._Key(path)

    def CreateKeyEx(self, root: str, path: str, reserved: int, access: int) -> _Key:
        self.calls.append(("CreateKeyEx", root, path, access))
        return self._Key(path)

    def QueryValueEx(self, key: _Key, name: str) -> tuple[str, int]:
        if (key.path, name) not in self.values:
            raise FileNotFoundError(name)
        return self.values[(key.path, name)], self.REG_SZ

    def SetValueEx(self, key: _Key, name: str, reserved: int, kind: int, value: str) -> None:
        self.calls.append(("SetValueEx", name, value))
        self.values[(key.path, name)] = value

    def DeleteValue(self, key: _Key, name: str) -> None:
        self.calls.append(("DeleteValue", name))
        del self.values[(key.path, name)]


def test_windows_start_at_login_is_the_users_run_value() -> None:
    reg = FakeWinreg()
    exe = r"C:\Users\Marie Dupont\AppData\Local\Programs\Bandeau\bandeau.exe"
    assert not autostart.is_enabled(registry=reg)
    assert autostart.set_enabled(True, command=[exe], registry=reg)
    assert reg.values[(autostart.RUN_KEY, "Bandeau")] == f'"{exe}"'
    assert ("CreateKeyEx", "HKCU", autostart.RUN_KEY, reg.KEY_SET_VALUE) in reg.calls
    assert autostart.is_enabled(registry=reg)
    assert not autostart.set_enabled(True, command=[exe], registry=reg)
    assert autostart.set_enabled(False, command=[exe], registry=reg)
    assert reg.calls[-1] == ("DeleteValue", "Bandeau")
    assert not autostart.is_enabled(registry=reg)


@pytest.mark.slow
def test_it_scripts_set_the_server_and_the_start_at_login(isolated: Path) -> None:
    assert run("setting", "server.url", "https://bandeau.example.fr").returncode == 0
    shown = run("setting", "server.url")
    assert shown.stdout.strip() == "https://bandeau.example.fr"
    bad = run("setting", "bar.dock", "left")
    assert bad.returncode == 2 and "one of 'off', 'top', 'bottom'" in bad.stderr
    unknown = run("setting", "server.adress", "x")
    assert unknown.returncode == 2 and "unknown setting 'server.adress'" in unknown.stderr
    assert run("autostart", "on").returncode == 0
    assert run("autostart", "status").stdout.strip() == "on"
    places = resolve_places()
    assert load_settings(places.config_file).flag("startup.at_login") is True
    assert (isolated / "config" / "autostart" / "app.bandeau.Bandeau.desktop").is_file()
    assert run("autostart", "off").returncode == 0
    assert run("autostart", "status").stdout.strip() == "off"
    assert run("journal", "unsent").stdout.strip() == "0"  # no journal yet: nothing waits
