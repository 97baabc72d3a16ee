"""The one module that knows where `resources/` is: source checkout, installed wheel or bundle."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_dir() -> Path:
    """The resources folder.

    - a PyInstaller bundle carries it as `resources/` next to the frozen modules;
    - an installed wheel carries it inside the package as `app/_resources/` (pyproject maps it);
    - a source checkout (and an editable install) has it at the top of the repository.
    """
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen:
        candidates.append(Path(frozen) / "resources")
    package = Path(__file__).resolve().parent
    candidates += [package / "_resources", package.parent / "resources"]
    for candidate in candidates:
        if (candidate / "icons").is_dir():
            return candidate
    raise FileNotFoundError(
        "Bandeau's resources are missing (looked in: "
        + ", ".join(str(c) for c in candidates)
        + "); reinstall Bandeau"
    )


def resource(*parts: str) -> Path:
    """A file under resources/, e.g. resource("icons", "pause.svg")."""
    return resources_dir().joinpath(*parts)


def read_text(*parts: str) -> str:
    return resource(*parts).read_text(encoding="utf-8")
