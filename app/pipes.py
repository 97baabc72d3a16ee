"""Commands whose output is piped into another program that may stop reading early
(`bandeau status | head`): that is no error, and no traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def tolerate_closed_stdout(main: Callable[[], int]) -> int:
    """Run `main`; if whoever reads standard output went away, stop quietly with 0."""
    try:
        code = main()
        sys.stdout.flush()  # inside the try: the last buffered lines can hit the pipe too
    except BrokenPipeError:
        # Python would report the failed flush again at exit: point stdout at nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0
    return code
