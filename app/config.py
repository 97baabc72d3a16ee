"""Settings, described once: defaults, the user's bandeau.toml, environment, command line.

Every setting is declared in SETTINGS with its type, default and help. From that one list come
validation, the environment variable names and the commented copy of the defaults that the
first run writes. Settings never hold secrets.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "bandeau"
CONFIG_FILE = "bandeau.toml"
ENV_PREFIX = "BANDEAU_"
_TRUE = {"true", "1", "yes", "on", "oui", "vrai"}
_FALSE = {"false", "0", "no", "off", "non", "faux"}


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: `name` is "section.key"; `kind` is one of str, int, bool, list."""

    name: str
    kind: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.replace(".", "_").upper()

    def expected(self) -> str:
        """The expected form, for error messages."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is int:
            return f"a whole number from {self.minimum} to {self.maximum}"
        if self.kind is list:
            return 'a list of one or more texts, like ["A", "B"]'
        return "a text in quotes"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "agent.name",
        str,
        "",
        "Who the events are recorded for while no server is configured. "
        "Empty: your login name on this computer.",
    ),
    Setting(
        "server.url",
        str,
        "",
        "The central store's address (https://…), proposed when you sign in from the bar. "
        "Empty: type it in the sign-in window.",
    ),
    Setting(
        "activity.list",
        list,
        ["Général"],
        "The activities (client campaigns) you can pick on the bar. Once the bar is signed in "
        "to a central store, the store's list replaces this one.",
    ),
    Setting(
        "activity.default",
        str,
        "",
        "The activity of a new shift. Empty: the one used last, else the first of the list.",
    ),
    Setting(
        "ui.language",
        str,
        "auto",
        "Language of the bar: auto (follows the system; French unless the system is English), "
        "fr or en.",
        choices=("auto", "fr", "en"),
    ),
    Setting(
        "ui.always_on_top",
        bool,
        True,
        "Keep the bar above other windows. (Wayland cannot: run with QT_QPA_PLATFORM=xcb.)",
    ),
    Setting("ui.show_totals", bool, True, "Show today's total under each key."),
    Setting(
        "bar.dock",
        str,
        "off",
        "Dock the bar at the top or bottom edge of its screen and keep that strip for it, so "
        "that maximised windows (the softphone, the CRM) stop at it: off, top or bottom. "
        "Works on X11 and Windows; under Wayland, through XWayland (see the README).",
        choices=("off", "top", "bottom"),
    ),
    Setting(
        "startup.at_login",
        bool,
        False,
        "Start Bandeau when you log in (an XDG autostart entry on Linux, the Run key of your "
        "Windows account); the bar keeps the entry in step with this setting.",
    ),
    Setting(
        "shift.resume_minutes",
        int,
        10,
        "After a crash or a restart, the bar picks the open shift up again if it was running "
        "less than this many minutes ago; otherwise it starts a new shift.",
        minimum=0,
        maximum=24 * 60,
    ),
    Setting(
        "journal.busy_timeout_ms",
        int,
        2000,
        "How long a write waits for a journal locked by another program before it gives up "
        "and tells you (milliseconds).",
        minimum=10,
        maximum=60_000,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


class SettingError(ValueError):
    """A value that does not fit its setting."""


def convert(setting: Setting, raw: Any, *, from_text: bool = False) -> Any:
    """Check (and, from text, parse) a value; raise SettingError if it does not fit."""
    value = raw
    if from_text and isinstance(raw, str):
        value = _parse_text(setting, raw)
    if setting.kind is bool:
        if not isinstance(value, bool):
            raise SettingError(f"expected {setting.expected()}")
    elif setting.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingError(f"expected {setting.expected()}")
        lo, hi = setting.minimum, setting.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise SettingError(f"expected {setting.expected()}")
    elif setting.kind is list:
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise SettingError(f"expected {setting.expected()}, with no empty text")
        value = [v.strip() for v in value]
    elif not isinstance(value, str):
        raise SettingError(f"expected {setting.expected()}")
    if setting.choices and value not in setting.choices:
        raise SettingError(f"expected {setting.expected()}")
    return value


def _parse_text(setting: Setting, text: str) -> Any:
    text = text.strip()
    if setting.kind is bool:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SettingError(f"expected {setting.expected()}")
    if setting.kind is int:
        try:
            return int(text)
        except ValueError:
            raise SettingError(f"expected {setting.expected()}") from None
    if setting.kind is list:
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


class SettingProblem(str):
    """One bad value, as an English line (it is a str) that also carries a `code` and its
    `params`, for the interface to word in its language.

    Codes: unknown_setting (origin, name), invalid_value (origin, name, value, default,
    kind, choices, minimum, maximum), bad_override (item), unreadable (path, reason),
    not_toml (path, reason), not_a_section (path, section).
    """

    code: str
    params: dict[str, Any]

    def __new__(cls, english: str, code: str, **params: Any) -> SettingProblem:
        problem = super().__new__(cls, english)
        problem.code = code
        problem.params = params
        return problem


@dataclass(slots=True)
class Settings:
    """The settings in force, and what was wrong with the ones given.

    Attributes:
        values: every setting's value (defaults where nothing valid was given).
        problems: one readable line per bad value; the default was kept for each.
        origin: where each non-default value came from (file, environment, command line).
    """

    values: dict[str, Any] = field(default_factory=lambda: {s.name: s.default for s in SETTINGS})
    problems: list[SettingProblem] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def text(self, name: str) -> str:
        return str(self.values[name])

    def number(self, name: str) -> int:
        return int(self.values[name])

    def flag(self, name: str) -> bool:
        return bool(self.values[name])

    def texts(self, name: str) -> list[str]:
        return list(self.values[name])

    @property
    def local_agent(self) -> str:
        """Who events are recorded for while no server is signed in to."""
        import getpass  # noqa: PLC0415

        return self.text("agent.name") or getpass.getuser()

    def _set(self, name: str, raw: Any, origin: str, *, from_text: bool) -> None:
        setting = BY_NAME.get(name)
        if setting is None:
            self.problems.append(
                SettingProblem(
                    f"{origin}: unknown setting {name!r} (ignored)",
                    "unknown_setting",
                    origin=origin,
                    name=name,
                )
            )
            return
        try:
            self.values[name] = convert(setting, raw, from_text=from_text)
            self.origin[name] = origin
        except SettingError as exc:
            self.problems.append(
                SettingProblem(
                    f"{origin}: {name} = {raw!r} is not valid: {exc}; "
                    f"using the default {setting.default!r}",
                    "invalid_value",
                    origin=origin,
                    name=name,
                    value=repr(raw),
                    default=repr(setting.default),
                    kind=setting.kind.__name__,
                    choices=setting.choices,
                    minimum=setting.minimum,
                    maximum=setting.maximum,
                )
            )


def load_settings(
    config_file: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Sequence[str] = (),
) -> Settings:
    """Defaults, then the file, then BANDEAU_* variables, then `--set name=value` overrides.

    Never raises for bad input: each bad value is reported in `problems` and its default kept.
    """
    settings = Settings()
    if config_file is not None and config_file.exists():
        _load_file(settings, config_file)
    env = os.environ if environ is None else environ
    for setting in SETTINGS:
        if setting.env_var in env:
            settings._set(setting.name, env[setting.env_var], setting.env_var, from_text=True)
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep:
            settings.problems.append(
                SettingProblem(
                    f"--set {item!r}: expected name=value (ignored)", "bad_override", item=item
                )
            )
            continue
        settings._set(name.strip(), value, "--set", from_text=True)
    return settings


def _load_file(settings: Settings, path: Path) -> None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        unreadable = not isinstance(exc, tomllib.TOMLDecodeError)
        what = "cannot be read" if unreadable else "not valid TOML"
        settings.problems.append(
            SettingProblem(
                f"{path}: {what} ({exc}); using the defaults",
                "unreadable" if unreadable else "not_toml",
                path=str(path),
                reason=str(exc),
            )
        )
        return
    for section, table in data.items():
        if not isinstance(table, dict):
            settings.problems.append(
                SettingProblem(
                    f"{path}: {section!r} should be a [section] of settings (ignored)",
                    "not_a_section",
                    path=str(path),
                    section=section,
                )
            )
            continue
        for key, raw in table.items():
            settings._set(f"{section}.{key}", raw, str(path), from_text=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def defaults_toml() -> str:
    """The commented copy of the defaults that the first run writes."""
    lines = [
        "# Bandeau settings.",
        "# Every setting is shown with its default value, commented out. To change one,",
        "# remove the '#' in front of it and edit the value. Each can also be set with an",
        "# environment variable (named below) or `bandeau --set section.key=value`.",
        "# No password or token is ever kept here.",
    ]
    section = None
    for setting in SETTINGS:
        sec, key = setting.name.split(".", 1)
        if sec != section:
            lines += ["", f"[{sec}]"]
            section = sec
        lines.append("")
        lines += [f"# {chunk}" for chunk in _wrap(setting.help, 90)]
        lines.append(f"# ({setting.env_var}; {setting.expected()})")
        lines.append(f"# {key} = {_toml_value(setting.default)}")
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


def write_defaults_if_missing(path: Path) -> bool:
    """Write the commented defaults on first run; return True if the file was written."""
    if path.exists():
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(defaults_toml(), encoding="utf-8")
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Places:
    """Where this instance keeps its data and reads its settings."""

    data_dir: Path
    config_file: Path

    @property
    def journal_file(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "bandeau.log"


def resolve_places(
    data_dir: str | None = None,
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Places:
    """The data dir: --data-dir, else BANDEAU_DATA_DIR, else the user's local app data.

    The settings file: --config, else BANDEAU_CONFIG, else bandeau.toml inside an explicitly
    given data dir (so instances side by side stay apart), else the user's config dir.
    The journal is kept in *local* app data: WAL does not work on network drives.
    """
    env = os.environ if environ is None else environ
    explicit = data_dir or env.get("BANDEAU_DATA_DIR")
    if explicit:
        data = Path(explicit).expanduser().absolute()
    else:
        data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))
    cfg = config_file or env.get("BANDEAU_CONFIG")
    if cfg:
        config = Path(cfg).expanduser().absolute()
    elif explicit:
        config = data / CONFIG_FILE
    else:
        config = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / CONFIG_FILE
    return Places(data_dir=data, config_file=config)


def set_in_file(path: Path, name: str, value: Any) -> None:
    """Set one setting in bandeau.toml, keeping the file's comments and other lines.

    The line `key = ...` (or its commented default `# key = ...`) in the setting's section is
    replaced; a missing section or line is added. The file is replaced atomically.
    """
    setting = BY_NAME[name]
    value = convert(setting, value)
    section, key = name.split(".", 1)
    write_defaults_if_missing(path)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    new_line = f"{key} = {_toml_value(value)}"
    current = None
    section_end = None
    target = None
    commented = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if current == section:
                section_end = i
            current = stripped[1:-1].strip()
            continue
        if current != section:
            continue
        bare = stripped.lstrip("#").strip()
        if bare.split("=", 1)[0].strip() == key and "=" in bare:
            if stripped.startswith("#"):
                commented = i
            else:
                target = i
    if current == section and section_end is None:
        section_end = len(lines)
    if target is not None:
        lines[target] = new_line
    elif commented is not None:
        lines.insert(commented + 1, new_line)
    elif section_end is not None:
        lines.insert(section_end, new_line)
    else:
        lines += ["", f"[{section}]", new_line]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
