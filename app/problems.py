"""What a person must be told, as a stable code and its parameters.

The interface words each code in the person's language (app/ui/wording.py); str() of a
Problem is its English, for logs and the command line. The store's errors carry codes of
their own (`code`, `field`, `params` in its JSON), passed on as they are.
"""

from __future__ import annotations

from typing import Any


class Problem(Exception):
    """Something went wrong that a person should hear about."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params
