"""The bar on two screens (RandR monitors on one X screen): it floats on the right one,
docks there, then that screen is removed. Prints one JSON line per step (the bar's
geometry, its strut, the root's work area, the screens), each once it has settled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "xcb"

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from app.config import load_settings
from app.ui.bar import Bar
from tests.children.xwait import prop, wait_for

app = QApplication(sys.argv[:1])
place = Path(sys.argv[1])
bar = Bar(None, load_settings(None, environ={}), place_file=place)
bar.place()
bar.show()


def report(step: str) -> None:
    g = bar.geometry()
    print(
        json.dumps(
            {
                "step": step,
                "bar": [g.x(), g.y(), g.width(), g.height()],
                "strut": prop("-id", str(int(bar.winId())), "_NET_WM_STRUT_PARTIAL"),
                "workarea": prop("-root", "_NET_WORKAREA")[:4],
                "screens": [s.name() for s in QGuiApplication.screens()],
            }
        ),
        flush=True,
    )


wait_for(bar, lambda: bar.geometry().x() >= 1920)
report("floating")
bar.apply_settings({"bar.dock": "bottom"})
wait_for(bar, lambda: prop("-root", "_NET_WORKAREA")[3:4] == [1080 - bar.height()])
report("docked")
subprocess.run(["xrandr", "--delmonitor", "R"], check=True)
wait_for(
    bar,
    lambda: (
        len(QGuiApplication.screens()) == 1
        and bar.geometry().x() < 1920
        and prop("-root", "_NET_WORKAREA")[2:3] == [1920]
    ),
)
report("screen removed")
bar.stop()
