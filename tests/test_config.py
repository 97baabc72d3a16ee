"""Settings: defaults described once, the file, the environment, the command line."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from app.config import (
    SETTINGS,
    defaults_toml,
    load_settings,
    resolve_places,
    set_in_file,
    write_defaults_if_missing,
)


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "missing.toml", environ={})
    assert settings.problems == []
    assert settings.text("ui.language") == "auto"
    assert settings.texts("activity.list") == ["Général"]
    assert settings.number("shift.resume_minutes") == 10


def test_first_run_writes_commented_defaults(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "bandeau.toml"
    assert write_defaults_if_missing(path)
    assert not write_defaults_if_missing(path)  # never overwrites the user's file
    text = path.read_text(encoding="utf-8")
    # Everything is commented out: the file changes nothing until the user edits it.
    assert all(table == {} for table in tomllib.loads(text).values())
    for setting in SETTINGS:
        assert setting.env_var in text
    # Uncommented, every line gives back its default.
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and "=" in line and "(" not in line else line
        for line in text.splitlines()
    )
    settings = load_settings(None, environ={})
    reparsed = tomllib.loads(uncommented)
    for setting in SETTINGS:
        section, key = setting.name.split(".")
        assert reparsed[section][key] == settings[setting.name]


def test_file_values_are_used(tmp_path: Path) -> None:
    path = tmp_path / "bandeau.toml"
    path.write_text(
        '[ui]\nlanguage = "en"\nshow_totals = false\n'
        '[activity]\nlist = ["Assurance Auto", "Banque Pro"]\n',
        encoding="utf-8",
    )
    settings = load_settings(path, environ={})
    assert settings.problems == []
    assert settings.text("ui.language") == "en"
    assert settings.flag("ui.show_totals") is False
    assert settings.texts("activity.list") == ["Assurance Auto", "Banque Pro"]


def test_bad_values_name_the_key_and_the_expected_form(tmp_path: Path) -> None:
    path = tmp_path / "bandeau.toml"
    path.write_text(
        '[ui]\nlanguage = "de"\nalways_on_top = "yes please"\n'
        "[shift]\nresume_minutes = -3\n"
        "[activity]\nlist = []\n"
        "[bogus]\nthing = 1\n",
        encoding="utf-8",
    )
    settings = load_settings(path, environ={})
    text = "\n".join(settings.problems)
    assert "ui.language = 'de' is not valid: expected one of 'auto', 'fr', 'en'" in text
    assert "ui.always_on_top" in text and "true or false" in text
    assert "shift.resume_minutes = -3" in text and "whole number from 0 to 1440" in text
    assert "activity.list" in text
    assert "unknown setting 'bogus.thing'" in text
    # Each bad value falls back to its default; the rest still apply.
    assert settings.text("ui.language") == "auto"
    assert settings.flag("ui.always_on_top") is True
    assert settings.number("shift.resume_minutes") == 10
    assert settings.texts("activity.list") == ["Général"]


def test_broken_toml_falls_back_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "bandeau.toml"
    path.write_text("[ui\nlanguage = en\n", encoding="utf-8")
    settings = load_settings(path, environ={})
    assert len(settings.problems) == 1
    assert "not valid TOML" in settings.problems[0]
    assert "line 1" in settings.problems[0]
    assert settings.text("ui.language") == "auto"


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "bandeau.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    settings = load_settings(path, environ={})
    assert "cannot be read" in settings.problems[0]


def test_environment_then_command_line_override(tmp_path: Path) -> None:
    path = tmp_path / "bandeau.toml"
    path.write_text('[ui]\nlanguage = "fr"\n', encoding="utf-8")
    env = {
        "BANDEAU_UI_LANGUAGE": "en",
        "BANDEAU_ACTIVITY_LIST": "A, B ,C",
        "BANDEAU_UI_SHOW_TOTALS": "non",
    }
    settings = load_settings(path, environ=env)
    assert settings.text("ui.language") == "en"
    assert settings.texts("activity.list") == ["A", "B", "C"]
    assert settings.flag("ui.show_totals") is False
    settings = load_settings(path, environ=env, overrides=["ui.language=fr", "nonsense"])
    assert settings.text("ui.language") == "fr"
    assert settings.origin["ui.language"] == "--set"
    assert any("expected name=value" in p for p in settings.problems)


def test_bad_environment_value(tmp_path: Path) -> None:
    settings = load_settings(None, environ={"BANDEAU_SHIFT_RESUME_MINUTES": "ten"})
    assert "BANDEAU_SHIFT_RESUME_MINUTES" in settings.problems[0]
    assert settings.number("shift.resume_minutes") == 10


def test_set_in_file_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "bandeau.toml"
    write_defaults_if_missing(path)
    set_in_file(path, "ui.language", "en")
    set_in_file(path, "ui.show_totals", False)
    set_in_file(path, "ui.language", "fr")  # a second time: replaced, not duplicated
    text = path.read_text(encoding="utf-8")
    assert text.count('\nlanguage = "fr"') == 1
    assert '# language = "auto"' in text  # the documented default stays
    settings = load_settings(path, environ={})
    assert settings.problems == []
    assert settings.text("ui.language") == "fr"
    assert settings.flag("ui.show_totals") is False


def test_set_in_file_adds_a_missing_section(tmp_path: Path) -> None:
    path = tmp_path / "bandeau.toml"
    path.write_text('[agent]\nname = "marie"\n', encoding="utf-8")
    set_in_file(path, "ui.always_on_top", False)
    settings = load_settings(path, environ={})
    assert settings.text("agent.name") == "marie"
    assert settings.flag("ui.always_on_top") is False


def test_set_in_file_refuses_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected one of"):
        set_in_file(tmp_path / "bandeau.toml", "ui.language", "klingon")


def test_places(tmp_path: Path) -> None:
    explicit = resolve_places(str(tmp_path / "d"), None, environ={})
    assert explicit.data_dir == tmp_path / "d"
    assert explicit.config_file == tmp_path / "d" / "bandeau.toml"
    from_env = resolve_places(
        None,
        None,
        environ={
            "BANDEAU_DATA_DIR": str(tmp_path / "e"),
            "BANDEAU_CONFIG": str(tmp_path / "c.toml"),
        },
    )
    assert from_env.data_dir == tmp_path / "e"
    assert from_env.config_file == tmp_path / "c.toml"
    default = resolve_places(None, None, environ={})
    # The autouse fixture points XDG dirs at a temp home: never the real user dirs.
    assert str(default.data_dir).startswith(str(Path.home()))


def test_defaults_text_mentions_no_secret() -> None:
    text = defaults_toml().lower()
    assert "password =" not in text and "token =" not in text


def test_the_log_file_is_capped_and_keeps_three_older_ones(tmp_path: Path) -> None:
    import logging

    from app import logs

    log_file = tmp_path / "bandeau.log"
    logs.setup_logging(log_file)
    try:
        line = "x" * 1000
        for _ in range(5 * logs.LOG_BYTES // 1000):
            logging.getLogger("test").info(line)
    finally:
        for handler in list(logging.getLogger().handlers):
            handler.close()
            logging.getLogger().removeHandler(handler)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["bandeau.log", "bandeau.log.1", "bandeau.log.2", "bandeau.log.3"]
    assert all(p.stat().st_size <= logs.LOG_BYTES + 2000 for p in tmp_path.iterdir())
