"""The bar on the X display, docked and undocked at run time as the settings dialog does:
prints one JSON line per step with the root's work area and the bar's geometry, once the
window manager has acted (or after 10 s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

os.environ["QT_QPA_PLATFORM"] = "xcb"

from PySide6.QtWidgets import QApplication

from app.config import load_settings
from app.ui.bar import Bar


def workarea() -> list[int]:
    out = subprocess.run(
        ["xprop", "-root", "_NET_WORKAREA"], capture_output=True, text=True, check=False
    ).stdout
    return [int(v) for v in out.split("=", 1)[1].split(",")[:4]] if "=" in out else []


app = QApplication(sys.argv[:1])
bar = Bar(None, load_settings(None, environ={}))
bar.place()
bar.show()
for edge in ("top", "bottom", "off"):
    bar.apply_settings({"bar.dock": edge})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        app.processEvents()
        area = workarea()
        full = area[3] == bar.screen().geometry().height()
        if (
            (edge == "top" and area[1] == bar.height())
            or (edge == "bottom" and area[1] == 0 and not full)
            or (edge == "off" and full)
        ):
            break
        time.sleep(0.02)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    g = bar.geometry()
    screen = bar.screen().geometry()
    print(
        json.dumps(
            {
                "step": edge,
                "workarea": workarea(),
                "bar": [g.x(), g.y(), g.width(), g.height()],
                "screen": [screen.width(), screen.height()],
            }
        ),
        flush=True,
    )
bar.stop()
