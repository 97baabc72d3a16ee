"""Build Bandeau's one-folder bundle (dist/bandeau/), smoke-test it, and pack it.

    .venv/bin/pip install -e '.[bundle]'
    .venv/bin/python installer/build.py [--env DIR] [--dist DIR] [--no-tarball]

What an agent's PC gets is built from the base dependencies only: the bundle is analysed in
a virtual environment of its own (build/bundle-env, kept between builds) holding `pip install
.` and PyInstaller, never the development one, whose test and server extras would hide a
missing dependency. Then the built `bandeau --self-test` must pass with a temporary data
folder, no server part may be inside, and on Linux the tarball (bundle, per-user install
script, .desktop file, icon) is written beside it. Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import layout  # noqa: E402

LINUX_FILES = ("install.sh", "uninstall.sh")


def say(text: str) -> None:
    print(f"build: {text}", flush=True)


def bundle_requirements() -> list[str]:
    """The `bundle` extra: the build tools, pinned once in pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project["optional-dependencies"]["bundle"])


def env_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def make_env(env: Path) -> Path:
    """The build's own environment: the project with its base dependencies, and PyInstaller."""
    python = env_python(env)
    if not python.exists():
        say(f"a clean environment in {env}")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(env)], check=True)
    say("installing the project (base dependencies only) and PyInstaller into it")

    def pip(*args: str) -> None:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-input", *args], check=True)

    pip("--upgrade", "--force-reinstall", "--no-deps", str(ROOT))  # this source, every time
    pip(str(ROOT), *bundle_requirements())
    # Nothing else may be there: an extra left from an earlier build would hide a missing one.
    frozen = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    names = {line.split("==")[0].replace("_", "-") for line in frozen.splitlines()}
    slipped = names & {"fastapi", "uvicorn", "alembic", "psycopg", "pydantic", "orjson", "pytest"}
    if slipped:
        raise SystemExit(f"build: the bundle's environment holds {sorted(slipped)}: delete {env}")
    return python


def freeze(python: Path, dist: Path, work: Path) -> Path:
    say("PyInstaller: analysing and collecting (a minute or two)")
    started = time.monotonic()
    subprocess.run(
        [
            str(python),
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(HERE / "bandeau.spec"),
        ],
        check=True,
        cwd=work.parent,  # never the repository: `app` must come from the installed package
    )
    say(f"frozen in {time.monotonic() - started:.0f} s")
    return dist / layout.NAME


def check_layout(bundle: Path) -> list[str]:
    """What must and must not be inside, from layout.py."""
    problems = []
    internal = bundle / layout.INTERNAL
    if not (bundle / layout.EXECUTABLE).is_file():
        problems.append(f"no {layout.EXECUTABLE}")
    for source, dest in layout.DATA_FILES:
        if not (internal / dest / Path(source).name).is_file():
            problems.append(f"missing {dest}/{Path(source).name}")
    for part in layout.SERVER_PARTS:
        if (internal / part).exists():
            problems.append(f"a server part is inside: {part}")
    kept = list(internal.glob("PySide6/Qt/translations/*.qm"))
    if [p.name for p in kept] != ["qtbase_fr.qm"]:
        problems.append(f"Qt's catalogues: {[p.name for p in kept]} (want qtbase_fr.qm only)")
    return problems


def smoke_test(bundle: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bandeau-smoke-") as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "BANDEAU_"))}
        done = subprocess.run(
            [str(bundle / layout.EXECUTABLE), "--self-test", "--data-dir", data],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=data,
            check=False,
        )
    print(done.stdout + done.stderr, end="", flush=True)
    if done.returncode != 0 or "self-test passed (bundle)" not in done.stdout:
        raise SystemExit(f"build: the bundle's self-test failed (exit {done.returncode})")


def size_on_disk(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def tarball(bundle: Path, dist: Path) -> Path:
    """bandeau-<version>-linux-<arch>.tar.gz: bandeau-<version>/ with the bundle, the install
    and uninstall scripts, the .desktop file and the icon."""
    version = _version()
    top = f"{layout.NAME}-{version}"
    out = dist / f"{top}-linux-{platform.machine()}.tar.gz"
    linux = HERE / "linux"

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(out, "w:gz", compresslevel=9) as tar:
        tar.add(bundle, arcname=f"{top}/{layout.NAME}", filter=clean)
        for name in LINUX_FILES:
            tar.add(linux / name, arcname=f"{top}/{name}", filter=clean)
        tar.add(
            linux / f"{layout.APP_ID}.desktop",
            arcname=f"{top}/{layout.APP_ID}.desktop",
            filter=clean,
        )
        tar.add(
            ROOT / "resources" / "icons" / "bandeau.svg",
            arcname=f"{top}/{layout.APP_ID}.svg",
            filter=clean,
        )
    return out


def _version() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return str(project["version"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--env",
        type=Path,
        default=ROOT / "build" / "bundle-env",
        help="the build's own environment (default build/bundle-env)",
    )
    parser.add_argument(
        "--dist", type=Path, default=ROOT / "dist", help="where dist/bandeau/ goes (default dist)"
    )
    parser.add_argument("--no-tarball", action="store_true", help="skip the Linux tarball")
    args = parser.parse_args(argv)
    dist, env = args.dist.absolute(), args.env.absolute()
    work = ROOT / "build" / "pyinstaller"
    work.mkdir(parents=True, exist_ok=True)
    python = make_env(env)
    bundle = freeze(python, dist, work)
    problems = check_layout(bundle)
    if problems:
        for line in problems:
            say(f"layout: {line}")
        return 1
    say("smoke test: the bundle's own --self-test, with a temporary data folder")
    smoke_test(bundle)
    size = size_on_disk(bundle)
    say(f"{bundle}: {size / 1e6:.1f} MB on disk (target <= 150 MB)")
    if sys.platform.startswith("linux") and not args.no_tarball:
        packed = tarball(bundle, dist)
        say(f"{packed}: {packed.stat().st_size / 1e6:.1f} MB compressed (target <= 60 MB)")
    elif sys.platform == "win32":
        say("Windows: now compile installer/windows/bandeau.iss with Inno Setup (README)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
