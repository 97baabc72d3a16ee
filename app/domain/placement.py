"""Where the bar goes: its saved place if a screen still shows it, else a safe default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# How much of the bar must be on a screen for the saved place to count as visible:
# enough of the grip and a key to grab it again.
MIN_VISIBLE_PX = 48
MARGIN_PX = 12


@dataclass(frozen=True, slots=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    def intersection_area(self, other: Rect) -> int:
        w = min(self.x + self.width, other.x + other.width) - max(self.x, other.x)
        h = min(self.y + self.height, other.y + other.height) - max(self.y, other.y)
        return w * h if w > 0 and h > 0 else 0


def place_bar(
    saved: tuple[int, int] | None, size: tuple[int, int], screens: Sequence[Rect]
) -> tuple[int, int]:
    """The top-left corner for the bar.

    `screens` are the available geometries (without task bars), the primary one first.
    The saved place is kept when the bar would be visible enough on one screen, then
    nudged fully inside that screen; otherwise the bar goes to the primary screen's
    bottom-right corner, above the task bar, where softphones rarely sit.
    """
    width, height = size
    if not screens:
        return saved if saved is not None else (0, 0)
    if saved is not None:
        bar = Rect(saved[0], saved[1], width, height)
        best = max(screens, key=bar.intersection_area)
        if bar.intersection_area(best) >= MIN_VISIBLE_PX * min(height, MIN_VISIBLE_PX):
            return _clamp(saved, size, best)
    primary = screens[0]
    return _clamp(
        (
            primary.x + primary.width - width - MARGIN_PX,
            primary.y + primary.height - height - MARGIN_PX,
        ),
        size,
        primary,
    )


def _clamp(pos: tuple[int, int], size: tuple[int, int], screen: Rect) -> tuple[int, int]:
    x = min(max(pos[0], screen.x), screen.x + max(screen.width - size[0], 0))
    y = min(max(pos[1], screen.y), screen.y + max(screen.height - size[1], 0))
    return x, y


def beside(bar: Rect, size: tuple[int, int], screen: Rect, gap: int = 6) -> tuple[int, int]:
    """Where a dialog of `size` goes so that it does not cover the bar: below it if the
    screen has room, else above it if there is room there, else on the roomier side, kept
    on the screen; aligned with the bar's left edge."""
    width, height = size
    x = min(max(bar.x, screen.x), screen.x + max(screen.width - width, 0))
    below, above = bar.y + bar.height + gap, bar.y - gap - height
    bottom = screen.y + screen.height
    if below + height <= bottom:
        return x, below
    if above >= screen.y:
        return x, above
    roomier_below = bottom - below > bar.y - screen.y
    y = below if roomier_below else above
    return x, min(max(y, screen.y), max(bottom - height, screen.y))


DOCK_EDGES = ("top", "bottom")


def dock_place(edge: str, x: int, size: tuple[int, int], screen: Rect) -> Rect:
    """Where a docked bar sits: against the top or bottom edge of its screen's *full*
    geometry (it is the one reserving the strip), across from where it was (its x, kept
    inside the screen)."""
    width, height = size
    left = min(max(x, screen.x), screen.x + max(screen.width - width, 0))
    top = screen.y if edge == "top" else screen.y + screen.height - height
    return Rect(left, top, width, height)


def dock_strip(edge: str, height: int, screen: Rect) -> Rect:
    """The strip of the screen a docked bar keeps: its whole width, the bar's height."""
    top = screen.y if edge == "top" else screen.y + screen.height - height
    return Rect(screen.x, top, screen.width, height)


def x11_strut(edge: str, strip: Rect, root: Rect) -> list[int]:
    """_NET_WM_STRUT_PARTIAL for a strip (EWMH): left, right, top, bottom, then the start and
    end of each edge's span. Distances are from the root window's edges (all screens
    together), so a strip on a lower or a smaller screen reserves from where it is."""
    strut = [0] * 12
    first_x, last_x = strip.x, strip.x + strip.width - 1
    if edge == "top":
        strut[2] = strip.y + strip.height - root.y
        strut[8], strut[9] = first_x, last_x
    else:
        strut[3] = root.y + root.height - strip.y
        strut[10], strut[11] = first_x, last_x
    return strut
