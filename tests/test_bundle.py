"""The bundle an agent's PC gets: built by installer/build.py from the base dependencies only,
smoke-tested by its own `--self-test`, and `bandeau --self-test` itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import selftest
from tests.processes import BarProcess, child_env

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "installer"))
import layout  # noqa: E402


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/bandeau/, built exactly as documented, in a fresh environment of its own."""
    where = tmp_path_factory.mktemp("bundle")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "installer" / "build.py"),
            "--env",
            str(where / "env"),
            "--dist",
            str(where / "dist"),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**child_env(), "PIP_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "pip-cache")},
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "self-test passed (bundle): 6 checks" in done.stdout, done.stdout[-3000:]
    return Path(where / "dist" / layout.NAME)


@pytest.mark.slow
def test_the_bundle_holds_the_bar_and_nothing_of_the_store(bundle: Path) -> None:
    internal = bundle / layout.INTERNAL
    assert (bundle / layout.EXECUTABLE).is_file()
    for part in layout.SERVER_PARTS:
        assert not (internal / part).exists(), part
    assert (internal / "resources" / "translations" / "bandeau_fr.qm").is_file()
    assert not (internal / "resources" / "screenshots").exists()
    assert [p.name for p in (internal / "PySide6/Qt/translations").iterdir()] == ["qtbase_fr.qm"]
    # keyring's entry points travel with it (without them: "no keyring", silently).
    assert list(internal.glob("keyring-*.dist-info/entry_points.txt"))
    size = sum(p.lstat().st_size for p in bundle.rglob("*") if p.is_file())
    assert size < 400e6  # a sanity bound only (a forgotten exclusion doubles it)


@pytest.mark.slow
def test_the_bundles_demo_says_the_stores_parts_are_missing(bundle: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(bundle / layout.EXECUTABLE), "--data-dir", str(tmp_path), "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
        check=False,
    )
    assert done.returncode == 1
    assert "the embedded store needs the server's parts" in done.stderr


@pytest.mark.slow
def test_the_bundles_self_test_leaves_an_agents_journal_alone(bundle: Path, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    journal.write_bytes(b"not touched")
    done = subprocess.run(
        [str(bundle / layout.EXECUTABLE), "--self-test", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert journal.read_bytes() == b"not touched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.sqlite3"]


@pytest.mark.gui
def test_the_self_test_passes_from_source_and_says_each_check(
    qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    lines: list[str] = []
    assert selftest.run_self_test(str(tmp_path), out=lines.append) == selftest.EXIT_OK
    names = [line.split(":")[0].split()[-1] for line in lines[:-1]]
    assert names == ["journal", "resources", "bar", "translations", "keyring", "platforms"]
    assert all(line.startswith("ok") for line in lines[:-1]), lines
    assert lines[-1] == "self-test passed: 6 checks"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.gui
def test_a_frozen_app_without_keyrings_entry_points_fails_its_self_test(
    qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a bundle built without keyring's metadata looks like from inside."""
    import importlib.metadata

    monkeypatch.setenv("QT_QPA_PLATFORM", os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    real = importlib.metadata.entry_points

    def no_backends(**selection: str) -> object:
        if selection.get("group") == "keyring.backends":
            return []
        return real(**selection)

    monkeypatch.setattr(importlib.metadata, "entry_points", no_backends)
    lines: list[str] = []
    assert selftest.run_self_test(str(tmp_path), out=lines.append) == selftest.EXIT_FAILED
    keyring_line = next(line for line in lines if "keyring:" in line)
    assert keyring_line.startswith("FAIL") and "no entry point" in keyring_line
    assert lines[-1] == "self-test FAILED: keyring"


def installed_env(home: Path) -> dict[str, str]:
    """An agent's session in a temporary HOME: the bar's own default folders (no
    BANDEAU_DATA_DIR), under XDG folders that are the test's."""
    env = {k: v for k, v in child_env().items() if not k.startswith("BANDEAU_")}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        PATH=f"{home / '.local' / 'bin'}:{os.environ['PATH']}",
    )
    return env


def desktop_entry(path: Path) -> dict[str, str]:
    import configparser

    parser = configparser.RawConfigParser(strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


AGENT_UID = 65534  # nobody: the tests run as root, an agent never does


@pytest.fixture
def agent_account(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A folder for an unprivileged agent's files, and the command prefix that runs as them
    (as is, when the tests do not run as root)."""
    if os.geteuid() != 0:
        yield tmp_path, []
        return
    import shutil
    import tempfile

    # Outside pytest's own folders, which only root may enter.
    where = Path(tempfile.mkdtemp(prefix="bandeau-agent-", dir="/tmp"))
    where.chmod(0o755)
    try:
        yield (
            where,
            ["setpriv", f"--reuid={AGENT_UID}", f"--regid={AGENT_UID}", "--clear-groups", "--"],
        )
    finally:
        shutil.rmtree(where, ignore_errors=True)


def give_to_agent(where: Path) -> None:
    if os.geteuid() != 0:
        return
    for path in [where, *where.rglob("*")]:
        os.chown(path, AGENT_UID, AGENT_UID, follow_symlinks=False)


@pytest.mark.slow
def test_the_linux_tarball_installs_starts_at_login_and_uninstalls_keeping_the_journal(
    bundle: Path, agent_account: tuple[Path, list[str]]
) -> None:
    import shlex
    import tarfile

    (packed,) = bundle.parent.glob("bandeau-*-linux-*.tar.gz")
    agent, as_agent = agent_account
    with tarfile.open(packed) as tar:
        tar.extractall(agent / "unpacked", filter="data")
    (top,) = (agent / "unpacked").iterdir()
    home = agent / "home"
    (home / "run").mkdir(parents=True, mode=0o700)
    env = installed_env(home)
    env["XDG_RUNTIME_DIR"] = str(home / "run")
    give_to_agent(agent)

    def sh(*command: str | Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*as_agent, *(str(c) for c in command)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=home,
            check=False,
        )
        if ok:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    sh(top / "install.sh", "--server", "https://bandeau.example.fr", "--start-at-login")
    prefix = home / ".local" / "opt" / "bandeau"
    program = prefix / layout.EXECUTABLE
    assert program.is_file()
    assert (home / ".local" / "bin" / "bandeau").resolve() == program.resolve()
    menu = home / ".local/share/applications/app.bandeau.Bandeau.desktop"
    entry = desktop_entry(menu)
    assert shlex.split(entry["Exec"]) == [str(program)]
    assert entry["Icon"] == "app.bandeau.Bandeau" and entry["Type"] == "Application"
    assert (home / ".local/share/icons/hicolor/scalable/apps/app.bandeau.Bandeau.svg").is_file()
    # IT's choices, through the program: the store's address and the start at login.
    assert sh(program, "setting", "server.url").stdout.strip() == "https://bandeau.example.fr"
    autostart = home / ".config/autostart/app.bandeau.Bandeau.desktop"
    assert shlex.split(desktop_entry(autostart)["Exec"]) == [str(program)]
    assert sh(program, "autostart", "status").stdout.strip() == "on"
    for entry_file in (menu, autostart):  # as the desktop's own tools read them
        checked = subprocess.run(
            ["desktop-file-validate", str(entry_file)], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout

    # Started as the menu starts it; a click from the installed `bandeau` command.
    bar = BarProcess(None, env=env, cwd=home, program=[*as_agent, *shlex.split(entry["Exec"])])
    try:
        bar.wait_ready()
        assert sh("bandeau", "key", "pause").returncode == 0
    finally:
        assert bar.stop() == 0
    journal = home / ".local/share/bandeau/journal.sqlite3"
    assert journal.is_file()
    # The shift's start and the pause, recorded before any sign-in: on this PC only.
    assert sh(program, "journal", "unsent").stdout.strip() == "2"

    # An update (the same tarball again) replaces the program, keeps the rest.
    sh(top / "install.sh")
    assert sh(program, "autostart", "status").stdout.strip() == "on"
    # The journal holds an event the store has not: --remove-data refuses, loses nothing.
    refused = sh(prefix / "uninstall.sh", "--remove-data", ok=False)
    assert refused.returncode == 1 and "not yet sent" in refused.stderr
    assert program.is_file() and journal.is_file()

    sh(prefix / "uninstall.sh")
    for gone in (prefix, menu, autostart, home / ".local/bin/bandeau"):
        assert not gone.exists() and not gone.is_symlink(), gone
    assert not (home / ".local/share/icons/hicolor/scalable/apps/app.bandeau.Bandeau.svg").exists()
    assert journal.is_file()  # the agent's journal is theirs: kept
    assert (home / ".config/bandeau/bandeau.toml").is_file()


ISS = ROOT / "installer" / "windows" / "bandeau.iss"


def inno_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in ISS.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1]
            continue
        sections.setdefault(current, []).append(stripped)
    return sections


def inno_entries(lines: list[str]) -> list[dict[str, str]]:
    """`Name: "value"; Other: value` lines as dictionaries."""
    import re

    def unquoted(value: str) -> str:
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1].replace('""', '"')
        return value

    return [
        {m[0]: unquoted(m[1]) for m in re.findall(r'(\w+):\s*("(?:[^"]|"")*"|[^;]+)', line)}
        for line in lines
    ]


@pytest.mark.slow
def test_the_inno_setup_script_names_only_what_the_bundle_holds(bundle: Path) -> None:
    """The Windows installer cannot be compiled here: what it names is held to the bundle's
    layout (the Windows executable is the Linux one's name with .exe)."""
    import shlex
    import tomllib

    from app.cli import build_parser

    sections = inno_sections()
    defines = {
        name: value.strip('"')
        for name, value in (
            line.removeprefix("#define ").split(" ", 1)
            for line in sections[""]
            if line.startswith("#define")
        )
    }

    def expanded(text: str) -> str:
        for name, value in defines.items():
            if name != "Dist":  # kept: the bundle's folder, checked below
                text = text.replace("{#" + name + "}", value)
        return text

    sections = {name: [expanded(line) for line in lines] for name, lines in sections.items()}
    setup = dict(line.split("=", 1) for line in sections["Setup"])
    assert setup["PrivilegesRequired"] == "lowest"  # no administrator rights
    assert setup["AppId"] == layout.APP_ID
    assert setup["DefaultDirName"].startswith("{localappdata}")  # the user's own folder
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert setup["AppVersion"] == project["version"]
    assert (ISS.parent / setup["SetupIconFile"]).is_file()
    exe = layout.NAME + ".exe"
    for entry in inno_entries(sections["Files"]):
        source = entry["Source"]
        if source.startswith("{#Dist}"):
            inside = source.removeprefix("{#Dist}\\").replace("\\", "/").removesuffix("/*")
            on_linux = bundle / (layout.NAME if inside == exe else inside)
            assert on_linux.exists(), source
            if inside == layout.INTERNAL:
                assert "recursesubdirs" in entry["Flags"]
        else:
            assert (ISS.parent / source).is_file(), source
    # Every program it starts is the bundle's executable, with commands Bandeau has.
    parser = build_parser()
    for section in ("Run", "UninstallRun", "Icons"):
        for entry in inno_entries(sections[section]):
            assert entry["Filename"] == "{app}\\" + exe
            if "Parameters" in entry:
                words = shlex.split(entry["Parameters"])
                parser.parse_args(words)  # exits (fails the test) on an unknown command
    assert "{cm:StartAtLogin}" in " ".join(sections["Tasks"])
    # The Run value it removes at uninstall is the one the bar writes.
    from app import autostart

    (run_key,) = inno_entries(sections["Registry"])
    assert run_key["Subkey"] == autostart.RUN_KEY and run_key["ValueName"] == autostart.RUN_VALUE


@pytest.mark.slow
def test_the_frozen_app_keeps_a_secret_in_a_real_desktop_keyring(
    bundle: Path, tmp_path: Path
) -> None:
    """In a D-Bus session with GNOME's keyring unlocked (what an agent's Linux desktop has):
    the bundle picks Secret Service and a test secret goes there and back — its backends,
    secretstorage, jeepney and cryptography all made it into the bundle."""
    import shutil

    missing = [t for t in ("dbus-run-session", "gnome-keyring-daemon") if not shutil.which(t)]
    if missing:
        message = f"needs {', '.join(missing)} (apt-get install dbus-daemon gnome-keyring)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path / "home"
    home.mkdir()
    script = (
        # The daemon reads the login password on stdin and unlocks the login keyring; it
        # stays for the session, which ends with this script.
        'printf %s "not-a-real-password" | gnome-keyring-daemon --unlock --components=secrets'
        ' >/dev/null && exec "$0" --self-test --data-dir "$1"'
    )
    env = {**child_env(), "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    env.pop("XDG_RUNTIME_DIR", None)
    done = subprocess.run(
        [
            "dbus-run-session",
            "--",
            "sh",
            "-c",
            script,
            str(bundle / layout.EXECUTABLE),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if "keyring:" in x)
    assert "picks keyring.backends.SecretService.Keyring" in line, line
    assert "a test secret stored, read back and deleted" in line, line
