"""The bar on the X display, docked and undocked at run time as the settings dialog does:
prints one JSON line per step with the root's work area and the bar's geometry, once the
window manager has acted on both (or after 10 s, then the test says what it saw)."""

from __future__ import annotations

import json
import os
import sys

os.environ["QT_QPA_PLATFORM"] = "xcb"

from PySide6.QtWidgets import QApplication

from app.config import load_settings
from app.ui.bar import Bar
from tests.children.xwait import prop, wait_for


def workarea() -> list[int]:
    return prop("-root", "_NET_WORKAREA")[:4]


app = QApplication(sys.argv[:1])
bar = Bar(None, load_settings(None, environ={}))
bar.place()
bar.show()
for edge in ("top", "bottom", "off"):
    bar.apply_settings({"bar.dock": edge})

    def acted(edge: str = edge) -> bool:
        # Both halves of the change: the work area (the window manager read the strut) and
        # the bar's own place (it may map it a moment later, on a busy machine).
        area, y = workarea(), bar.geometry().y()
        height = bar.screen().geometry().height()
        full = area[3] == height
        return (
            (edge == "top" and area[1] == bar.height() and y == 0)
            or (edge == "bottom" and area[1] == 0 and not full and y == height - bar.height())
            or (edge == "off" and full and y < height - bar.height())
        )

    wait_for(bar, acted)
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
