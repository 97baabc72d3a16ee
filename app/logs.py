"""Logging: a rotating file in the data dir, and warnings on stderr. Never a secret."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_BYTES = 1_000_000
LOG_BACKUPS = 3


def setup_logging(log_file: Path | None, *, verbose: bool = False) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    err = logging.StreamHandler()
    err.setLevel(logging.DEBUG if verbose else logging.WARNING)
    err.setFormatter(logging.Formatter("bandeau: %(levelname)s: %(message)s"))
    root.addHandler(err)
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                log_file, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
        except OSError as exc:
            logging.getLogger(__name__).warning("no log file (%s): %s", log_file, exc)
            return
        handler.setFormatter(fmt)
        root.addHandler(handler)
