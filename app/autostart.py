"""Start the bar at login: an XDG autostart entry on Linux, the HKCU Run key on Windows.

The setting `startup.at_login` says what the agent (or IT, in bandeau.toml) wants; the bar
makes the entry follow it at each start and when the settings dialog saves it. Per user, no
administrator rights. No Qt here.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

APP_ID = "app.bandeau.Bandeau"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Bandeau"


class AutostartError(Exception):
    """The entry could not be written or removed (said to the agent as is)."""


def launch_command() -> list[str]:
    """How this Bandeau is started: the bundle's executable, the installed `bandeau`
    script, or this Python with `-m app`."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).absolute())]
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if program is not None and program.stem == "bandeau" and program.exists():
        return [str(program.absolute())]
    found = shutil.which("bandeau")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "app"]


def xdg_entry(environ: dict[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/autostart/app.bandeau.Bandeau.desktop."""
    env = os.environ if environ is None else environ
    config = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(config) / "autostart" / f"{APP_ID}.desktop"


def _desktop_exec(command: list[str]) -> str:
    # The Desktop Entry spec's quoting: arguments with spaces in double quotes, and `%`
    # doubled (shlex's single quotes are not the spec's).
    def one(arg: str) -> str:
        arg = arg.replace("%", "%%")
        if any(c in arg for c in ' \t"\\`$'):
            return '"' + "".join("\\" + c if c in '"\\`$' else c for c in arg) + '"'
        return arg

    return " ".join(one(a) for a in command)


def xdg_text(command: list[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Bandeau\n"
        "Comment=Barre de statut de l'agent / agent's status bar\n"
        f"Exec={_desktop_exec(command)}\n"
        f"Icon={APP_ID}\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
        "X-GNOME-Autostart-Delay=2\n"
    )


def is_enabled(*, environ: dict[str, str] | None = None, registry: Any = None) -> bool:
    if sys.platform == "win32" or registry is not None:
        return _run_value(registry) is not None
    entry = xdg_entry(environ)
    if not entry.is_file():
        return False
    # An entry the desktop's own tool switched off counts as off.
    text = entry.read_text(encoding="utf-8", errors="replace")
    return "Hidden=true" not in text and "X-GNOME-Autostart-enabled=false" not in text


def set_enabled(
    wanted: bool,
    *,
    command: list[str] | None = None,
    environ: dict[str, str] | None = None,
    registry: Any = None,
) -> bool:
    """Make the entry follow `wanted`; True if something changed. `registry` replaces
    Windows' winreg in tests (it cannot run here)."""
    command = command or launch_command()
    try:
        if sys.platform == "win32" or registry is not None:
            return _set_run_value(wanted, command, registry)
        return _set_xdg(wanted, command, environ)
    except OSError as exc:
        raise AutostartError(f"cannot change the start at login: {exc}") from exc


def _set_xdg(wanted: bool, command: list[str], environ: dict[str, str] | None) -> bool:
    entry = xdg_entry(environ)
    if not wanted:
        if entry.exists():
            entry.unlink()
            log.info("start at login off (%s removed)", entry)
            return True
        return False
    text = xdg_text(command)
    if entry.is_file() and entry.read_text(encoding="utf-8", errors="replace") == text:
        return False
    entry.parent.mkdir(parents=True, exist_ok=True)
    partial = entry.with_suffix(".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(entry)
    log.info("start at login on (%s: %s)", entry, shlex.join(command))
    return True


def _winreg(registry: Any) -> Any:
    if registry is not None:
        return registry
    import winreg  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

    return winreg


def _run_value(registry: Any) -> str | None:
    reg = _winreg(registry)
    try:
        with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_READ) as key:
            value, _kind = reg.QueryValueEx(key, RUN_VALUE)
    except FileNotFoundError:
        return None
    return str(value)


def windows_command_line(command: list[str]) -> str:
    """The Run value: each part in double quotes (paths under C:\\Users\\… have spaces)."""
    return " ".join(f'"{part}"' for part in command)


def _set_run_value(wanted: bool, command: list[str], registry: Any) -> bool:
    reg = _winreg(registry)
    current = _run_value(reg)
    line = windows_command_line(command)
    if wanted and current == line:
        return False
    if not wanted and current is None:
        return False
    with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
        if wanted:
            reg.SetValueEx(key, RUN_VALUE, 0, reg.REG_SZ, line)
        else:
            reg.DeleteValue(key, RUN_VALUE)
    return True
