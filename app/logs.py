"""Logging: a rotating file in the data dir, and warnings on stderr. Never a secret."""

from __future__ import annotations

import logging
import os
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
            handler = CappedFileHandler(log_file)
        except OSError as exc:
            logging.getLogger(__name__).warning("no log file (%s): %s", log_file, exc)
            return
        handler.setFormatter(fmt)
        root.addHandler(handler)


class CappedFileHandler(logging.FileHandler):
    """A log file kept under LOG_BYTES, with LOG_BACKUPS older ones (.1 the newest): what
    logging.handlers' RotatingFileHandler does, without importing that module (sockets,
    pickle, queues) before the bar is painted."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8")
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is not None and self.stream.tell() >= LOG_BYTES:
                self._roll()
        except OSError:
            self.handleError(record)
        super().emit(record)

    def _roll(self) -> None:
        self.close()
        for n in range(LOG_BACKUPS, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            newer = self.path.with_name(f"{self.path.name}.{n - 1}") if n > 1 else self.path
            if newer.exists():
                os.replace(newer, older)
        self.stream = self._open()
