"""Dock mode's geometry (pure), and Windows' application bar message sequence, with
SHAppBarMessage replaced (it cannot run here). X11 is tested for real in test_x11.py."""

from __future__ import annotations

import ctypes

import pytest

from app.domain.placement import Rect, dock_place, dock_strip, x11_strut
from app.ui import dock


def test_a_docked_bar_keeps_its_x_inside_its_screen() -> None:
    screen = Rect(1920, 0, 1280, 1024)
    assert dock_place("top", 2500, (440, 72), screen) == Rect(2500, 0, 440, 72)
    assert dock_place("bottom", 100, (440, 72), screen) == Rect(1920, 952, 440, 72)
    assert dock_place("bottom", 9000, (440, 72), screen) == Rect(2760, 952, 440, 72)


def test_the_strut_of_a_strip_on_a_smaller_second_screen_counts_from_the_roots_edges() -> None:
    # Two screens side by side: 1920x1080 and, to its right, 1280x1024 (its bottom is 56 px
    # above the root's). A strip at the bottom of the second reserves 56 + 72 from the root's
    # bottom edge, over the second screen's columns only.
    root = Rect(0, 0, 3200, 1080)
    second = Rect(1920, 0, 1280, 1024)
    strip = dock_strip("bottom", 72, second)
    assert strip == Rect(1920, 952, 1280, 72)
    assert x11_strut("bottom", strip, root) == [0, 0, 0, 128, 0, 0, 0, 0, 0, 0, 1920, 3199]
    top = dock_strip("top", 72, Rect(0, 0, 1920, 1080))
    assert x11_strut("top", top, root) == [0, 0, 72, 0, 0, 0, 0, 0, 0, 1919, 0, 0]


class FakeShell:
    """SHAppBarMessage's side, as Windows plays it: a task bar 40 px high at the bottom of a
    1920x1080 screen moves a bottom bar's proposed rectangle up."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, int, tuple[int, int, int, int]]] = []

    def __call__(self, message: int, data: dock.APPBARDATA) -> int:
        assert data.cbSize == ctypes.sizeof(dock.APPBARDATA)
        if message == dock.ABM_QUERYPOS and data.uEdge == dock.ABE_BOTTOM:
            data.rc.bottom = min(data.rc.bottom, 1080 - 40)
        rc = (data.rc.left, data.rc.top, data.rc.right, data.rc.bottom)
        self.calls.append((message, data.hWnd, data.uEdge, rc))
        return 1


def test_an_application_bar_registers_asks_then_takes_its_place_and_leaves_at_exit() -> None:
    shell = FakeShell()
    placed: list[Rect] = []
    topmost: list[bool] = []
    bar = dock.AppBar(0x1234, placed.append, topmost.append, shell=shell)
    granted = bar.dock("bottom", dock_strip("bottom", 72, Rect(0, 0, 1920, 1080)))
    assert [c[0] for c in shell.calls] == [dock.ABM_NEW, dock.ABM_QUERYPOS, dock.ABM_SETPOS]
    assert all(c[1] == 0x1234 for c in shell.calls)
    # Above the task bar, the bar's own height.
    assert shell.calls[-1][3] == (0, 1080 - 40 - 72, 1920, 1080 - 40)
    assert granted == placed[-1] == Rect(0, 968, 1920, 72)
    shell.calls.clear()

    # The task bar moved (or the resolution changed): ask again, take the new place.
    assert bar.on_message(dock.APPBAR_CALLBACK, dock.ABN_POSCHANGED, 0)
    assert [c[0] for c in shell.calls] == [dock.ABM_QUERYPOS, dock.ABM_SETPOS]
    # A full-screen application (a presentation): step aside, then back on top.
    assert bar.on_message(dock.APPBAR_CALLBACK, dock.ABN_FULLSCREENAPP, 1)
    assert bar.on_message(dock.APPBAR_CALLBACK, dock.ABN_FULLSCREENAPP, 0)
    assert topmost == [False, True]
    # Activation and moves are told to the shell, as the documentation asks.
    shell.calls.clear()
    assert not bar.on_message(dock.WM_ACTIVATE, 1, 0)
    assert not bar.on_message(dock.WM_WINDOWPOSCHANGED, 0, 0)
    assert [c[0] for c in shell.calls] == [dock.ABM_ACTIVATE, dock.ABM_WINDOWPOSCHANGED]
    shell.calls.clear()
    bar.dock("top", dock_strip("top", 72, Rect(0, 0, 1920, 1080)))  # no second ABM_NEW
    assert [c[0] for c in shell.calls] == [dock.ABM_QUERYPOS, dock.ABM_SETPOS]
    assert shell.calls[-1][2] == dock.ABE_TOP and shell.calls[-1][3] == (0, 0, 1920, 72)
    shell.calls.clear()
    bar.remove()
    bar.remove()  # once only
    assert [c[0] for c in shell.calls] == [dock.ABM_REMOVE]
    assert not bar.on_message(dock.APPBAR_CALLBACK, dock.ABN_POSCHANGED, 0)


def test_a_refused_registration_is_said() -> None:
    def refuse(message: int, data: dock.APPBARDATA) -> int:
        return 0

    bar = dock.AppBar(1, lambda r: None, lambda on: None, shell=refuse)
    with pytest.raises(dock.DockError, match="ABM_NEW"):
        bar.dock("top", Rect(0, 0, 1920, 72))
    assert not bar.registered
