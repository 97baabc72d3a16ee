"""Dock mode: the bar sits at the top or bottom edge of its screen and keeps that strip, so
that maximised windows (the softphone, the CRM) stop at it instead of going under it.

- X11: the bar's window is a dock (`_NET_WM_WINDOW_TYPE_DOCK`) with a partial strut
  (`_NET_WM_STRUT_PARTIAL`); the window manager takes the strip out of the work area.
  Through libX11 with ctypes, on a connection of the dock's own (Qt's is not reachable from
  Python); the window type is set before the window is mapped, as window managers read it
  only then.
- Windows: an application desktop toolbar (`SHAppBarMessage`: ABM_NEW, ABM_QUERYPOS,
  ABM_SETPOS, ABM_REMOVE, and the ABN_* notifications). It cannot run here: the tests replace
  the shell call and check the message sequence.
- Wayland gives ordinary clients no strut: dock mode needs XWayland (QT_QPA_PLATFORM=xcb).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRect
from PySide6.QtGui import QGuiApplication, QScreen

from app.domain.placement import DOCK_EDGES, Rect, dock_place, dock_strip, x11_strut

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)


class DockError(Exception):
    """The strip could not be reserved (said on the bar; the bar still works, undocked)."""


def _rect(r: QRect) -> Rect:
    return Rect(r.x(), r.y(), r.width(), r.height())


# -- X11 -------------------------------------------------------------------------------------

XA_ATOM, XA_CARDINAL = 4, 6
PROP_MODE_REPLACE = 0


class X11Strut:
    """Sets and clears a window's dock type and struts on an X connection of its own."""

    def __init__(self) -> None:
        try:
            # Already loaded by Qt's xcb plugin (and inside the bundle): dlopen finds it.
            self._x = ctypes.CDLL("libX11.so.6")
        except OSError as exc:
            raise DockError(f"libX11 is missing: {exc}") from exc
        x = self._x
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XInternAtom.restype = ctypes.c_ulong
        x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        x.XChangeProperty.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
            ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
        ]  # fmt: skip
        x.XDeleteProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
        x.XGetWindowProperty.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long,
            ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_void_p),
        ]  # fmt: skip
        x.XFree.argtypes = [ctypes.c_void_p]
        self._own_type: list[int] | None = None
        x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self._display = x.XOpenDisplay(None)
        if not self._display:
            raise DockError("cannot open the X display")

    def _atom(self, name: str) -> int:
        return int(self._x.XInternAtom(self._display, name.encode(), 0))

    def _set(self, window: int, name: str, kind: int, values: list[int]) -> None:
        data = (ctypes.c_long * len(values))(*values)  # format 32 is an array of C longs
        self._x.XChangeProperty(
            self._display, window, self._atom(name), kind, 32, PROP_MODE_REPLACE,
            ctypes.cast(data, ctypes.c_void_p), len(values),
        )  # fmt: skip

    def _get(self, window: int, name: str) -> list[int]:
        kind, fmt = ctypes.c_ulong(), ctypes.c_int()
        count, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
        self._x.XGetWindowProperty(
            self._display, window, self._atom(name), 0, 64, 0, 0,
            ctypes.byref(kind), ctypes.byref(fmt), ctypes.byref(count), ctypes.byref(after),
            ctypes.byref(data),
        )  # fmt: skip
        if not data.value:
            return []
        try:
            if fmt.value != 32:
                return []
            values = ctypes.cast(data, ctypes.POINTER(ctypes.c_long))
            return [int(values[i]) for i in range(count.value)]
        finally:
            self._x.XFree(data)

    def make_dock(self, window: int) -> None:
        """Before the window is mapped: window managers read the type at map time. The
        type Qt gave it is kept, to be given back when it floats again."""
        dock = self._atom("_NET_WM_WINDOW_TYPE_DOCK")
        current = self._get(window, "_NET_WM_WINDOW_TYPE")
        if current != [dock]:
            self._own_type = current
        self._set(window, "_NET_WM_WINDOW_TYPE", XA_ATOM, [dock])
        self._x.XSync(self._display, 0)

    def float_again(self, window: int) -> None:
        """Before the window is mapped again: the type it had before it was a dock."""
        if self._own_type:
            self._set(window, "_NET_WM_WINDOW_TYPE", XA_ATOM, self._own_type)
        else:
            self._x.XDeleteProperty(self._display, window, self._atom("_NET_WM_WINDOW_TYPE"))
        self._x.XSync(self._display, 0)

    def reserve(self, window: int, strut: list[int]) -> None:
        self._set(window, "_NET_WM_STRUT_PARTIAL", XA_CARDINAL, strut)
        self._set(window, "_NET_WM_STRUT", XA_CARDINAL, strut[:4])  # for older managers
        self._x.XSync(self._display, 0)

    def release(self, window: int) -> None:
        for name in ("_NET_WM_STRUT_PARTIAL", "_NET_WM_STRUT"):
            self._x.XDeleteProperty(self._display, window, self._atom(name))
        self._x.XSync(self._display, 0)

    def close(self) -> None:
        if self._display:
            self._x.XCloseDisplay(self._display)
            self._display = None


# -- Windows ---------------------------------------------------------------------------------

ABM_NEW, ABM_REMOVE, ABM_QUERYPOS, ABM_SETPOS = 0, 1, 2, 3
ABM_ACTIVATE, ABM_WINDOWPOSCHANGED = 6, 9
ABN_STATECHANGE, ABN_POSCHANGED, ABN_FULLSCREENAPP = 0, 1, 2
ABE_TOP, ABE_BOTTOM = 1, 3
WM_APP = 0x8000
WM_ACTIVATE, WM_WINDOWPOSCHANGED = 0x0006, 0x0047
APPBAR_CALLBACK = WM_APP + 0x42


class RECT(ctypes.Structure):
    _fields_ = [
        ("left", ctypes.c_long),
        ("top", ctypes.c_long),
        ("right", ctypes.c_long),
        ("bottom", ctypes.c_long),
    ]


class APPBARDATA(ctypes.Structure):
    _fields_ = [
        ("cbSize", ctypes.c_uint32),
        ("hWnd", ctypes.c_void_p),
        ("uCallbackMessage", ctypes.c_uint),
        ("uEdge", ctypes.c_uint),
        ("rc", RECT),
        ("lParam", ctypes.c_ssize_t),
    ]


ShellCall = Callable[[int, APPBARDATA], int]


def _shell_call() -> ShellCall:
    shell32 = ctypes.windll.shell32  # type: ignore[attr-defined,unused-ignore]
    shell32.SHAppBarMessage.restype = ctypes.c_size_t
    shell32.SHAppBarMessage.argtypes = [ctypes.c_uint32, ctypes.POINTER(APPBARDATA)]
    return lambda message, data: int(shell32.SHAppBarMessage(message, ctypes.byref(data)))


class AppBar:
    """A Windows application desktop toolbar for one window. `shell` replaces
    SHAppBarMessage (tests); `place(rect)` moves the window into the strip granted;
    `set_topmost(bool)` steps aside while another application is full screen."""

    def __init__(
        self,
        hwnd: int,
        place: Callable[[Rect], None],
        set_topmost: Callable[[bool], None],
        shell: ShellCall | None = None,
    ) -> None:
        self.hwnd = hwnd
        self._place = place
        self._set_topmost = set_topmost
        self._shell = shell or _shell_call()
        self.registered = False
        self._edge = "top"
        self._strip = Rect(0, 0, 0, 0)

    def _data(self) -> APPBARDATA:
        data = APPBARDATA()
        data.cbSize = ctypes.sizeof(APPBARDATA)
        data.hWnd = self.hwnd
        return data

    def dock(self, edge: str, strip: Rect) -> Rect:
        """Register (once) and take the strip; the strip Windows granted."""
        if not self.registered:
            data = self._data()
            data.uCallbackMessage = APPBAR_CALLBACK
            if not self._shell(ABM_NEW, data):
                raise DockError("Windows refused the application bar (ABM_NEW)")
            self.registered = True
        self._edge, self._strip = edge, strip
        return self._position()

    def _position(self) -> Rect:
        strip = self._strip
        data = self._data()
        data.uEdge = ABE_TOP if self._edge == "top" else ABE_BOTTOM
        data.rc.left, data.rc.right = strip.x, strip.x + strip.width
        data.rc.top, data.rc.bottom = strip.y, strip.y + strip.height
        # Windows moves the proposed rectangle off other bars (the task bar), then the bar
        # takes its own height from the edge it was granted.
        self._shell(ABM_QUERYPOS, data)
        if self._edge == "top":
            data.rc.bottom = data.rc.top + strip.height
        else:
            data.rc.top = data.rc.bottom - strip.height
        self._shell(ABM_SETPOS, data)
        granted = Rect(
            int(data.rc.left),
            int(data.rc.top),
            int(data.rc.right - data.rc.left),
            int(data.rc.bottom - data.rc.top),
        )
        self._place(granted)
        return granted

    def on_message(self, message: int, wparam: int, lparam: int) -> bool:
        """A window message of the bar's; True if it was the application bar's."""
        if not self.registered:
            return False
        if message == APPBAR_CALLBACK:
            if wparam == ABN_POSCHANGED:
                self._position()
            elif wparam == ABN_FULLSCREENAPP:
                self._set_topmost(not lparam)
            elif wparam == ABN_STATECHANGE:
                self._position()
            return True
        if message == WM_ACTIVATE:
            self._shell(ABM_ACTIVATE, self._data())
        elif message == WM_WINDOWPOSCHANGED:
            self._shell(ABM_WINDOWPOSCHANGED, self._data())
        return False

    def remove(self) -> None:
        if self.registered:
            self._shell(ABM_REMOVE, self._data())
            self.registered = False


class MSG(ctypes.Structure):
    _fields_ = [
        ("hwnd", ctypes.c_void_p),
        ("message", ctypes.c_uint),
        ("wParam", ctypes.c_size_t),
        ("lParam", ctypes.c_ssize_t),
    ]


# -- the bar's dock ----------------------------------------------------------------------------


class Docker(QObject):
    """Keeps one top-level widget docked at `edge` ("off", "top", "bottom") of its screen.

    `on_problem(text)` is told when the strip cannot be reserved (the bar stays where it
    is, and works). On a platform with no strut (offscreen, Wayland) the bar still goes to
    the edge; `reserved` says whether the strip is kept.
    """

    def __init__(
        self,
        widget: QWidget,
        on_problem: Callable[[str], None] = lambda text: None,
    ) -> None:
        super().__init__(widget)
        self.widget = widget
        self.edge = "off"
        self.reserved = False
        self.strip: Rect | None = None
        self.position: Rect | None = None  # where the docked widget sits
        self._on_problem = on_problem
        self._x11: X11Strut | None = None
        self._appbar: AppBar | None = None
        self._screen: QScreen | None = None
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            # Bound methods of this QObject: disconnected when it goes with its widget.
            app.screenRemoved.connect(self._screen_removed)
            app.screenAdded.connect(self._screen_added)

    @property
    def docked(self) -> bool:
        return self.edge in DOCK_EDGES

    @staticmethod
    def platform() -> str:
        app = QGuiApplication.instance()
        return QGuiApplication.platformName() if isinstance(app, QGuiApplication) else ""

    def set_edge(self, edge: str) -> None:
        """Dock at `edge`, or undock ("off"). Between floating and docked the caller hides
        the widget meanwhile: window managers read a window's type only when it is mapped."""
        edge = edge if edge in DOCK_EDGES else "off"
        was_docked = self.docked
        self.edge = edge
        if was_docked and not self.docked:
            self._release()
            if self._x11 is not None:
                self._x11.float_again(self._window())
        elif self.docked and not was_docked:
            self.before_show()
        self.redock()

    def before_show(self) -> None:
        """Called before the widget is first shown: a dock's window type goes on now."""
        if self.docked and self.platform() == "xcb":
            self._make_x11_dock()

    def redock(self) -> None:
        """Put the widget at its edge of the screen it is on and reserve the strip (again:
        after a move to another screen, a screen change, a new setting)."""
        if not self.docked:
            return
        screen = self._current_screen()
        if screen is None:
            return
        self._watch(screen)
        full = _rect(screen.geometry())
        size = (self.widget.width(), self.widget.height())
        place = dock_place(self.edge, self.widget.x(), size, full)
        strip = dock_strip(self.edge, size[1], full)
        self.strip = strip
        self.position = place
        self.widget.move(place.x, place.y)
        try:
            self.reserved = self._reserve(strip)
        except DockError as exc:
            self.reserved = False
            log.warning("dock: %s", exc)
            self._on_problem(str(exc))

    def _current_screen(self) -> QScreen | None:
        # Where the widget is (its own screen() can lag behind a move, or a hidden window).
        screen: QScreen | None = QGuiApplication.screenAt(self.widget.geometry().center())
        screen = screen or self.widget.screen()
        screens = QGuiApplication.screens()
        if screen is None or screen not in screens:
            screen = QGuiApplication.primaryScreen() or (screens[0] if screens else None)
        return screen

    def _watch(self, screen: QScreen) -> None:
        if screen is self._screen:
            return
        if self._screen is not None:
            with contextlib.suppress(RuntimeError, TypeError):  # that screen is gone
                self._screen.geometryChanged.disconnect(self._geometry_changed)
        self._screen = screen
        screen.geometryChanged.connect(self._geometry_changed)

    def _geometry_changed(self, _geometry: QRect) -> None:
        self.redock()

    def _screen_added(self, _screen: QScreen) -> None:
        self.redock()

    def _screen_removed(self, screen: QScreen) -> None:
        if screen is self._screen:
            self._screen = None
            self.redock()  # on a screen that remains

    def _window(self) -> int:
        return int(self.widget.winId())

    def _x11_strut(self) -> X11Strut:
        if self._x11 is None:
            self._x11 = X11Strut()
        return self._x11

    def _make_x11_dock(self) -> None:
        try:
            self._x11_strut().make_dock(self._window())
        except DockError as exc:
            self._on_problem(str(exc))

    def _reserve(self, strip: Rect) -> bool:
        platform = self.platform()
        if platform == "xcb":
            root = _rect(QGuiApplication.primaryScreen().virtualGeometry())
            self._x11_strut().reserve(self._window(), x11_strut(self.edge, strip, root))
            return True
        if platform == "windows":
            if self._appbar is None:
                self._appbar = AppBar(self._window(), self._place_granted, self._set_topmost)
            self._appbar.dock(self.edge, strip)
            return True
        return False  # offscreen, Wayland: at the edge, nothing reserved

    def _place_granted(self, granted: Rect) -> None:
        size = (self.widget.width(), self.widget.height())
        place = dock_place(self.edge, self.widget.x(), size, granted)
        self.position = place
        self.widget.move(place.x, place.y)

    def _set_topmost(self, on_top: bool) -> None:
        if on_top:
            self.widget.raise_()
        else:
            self.widget.lower()

    def on_native_message(self, message: Any) -> bool:
        """A Windows MSG* the widget received (nativeEvent)."""
        if self._appbar is None:
            return False
        msg = MSG.from_address(int(message))
        return self._appbar.on_message(msg.message, msg.wParam, msg.lParam)

    def _release(self) -> None:
        self.reserved = False
        self.strip = self.position = None
        if self._x11 is not None:
            self._x11.release(self._window())
        if self._appbar is not None:
            self._appbar.remove()
            self._appbar = None

    def stop(self) -> None:
        """Give the strip back (at exit: a bar that quits leaves no hole in the screen)."""
        self._release()
        if self._x11 is not None:
            self._x11.close()
            self._x11 = None
