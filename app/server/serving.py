"""Running the store's HTTP service: uvicorn, with the live streams ended first on stop."""

from __future__ import annotations

from types import FrameType

import uvicorn
from fastapi import FastAPI

from app.server.api import end_streams


class StoreServer(uvicorn.Server):
    """uvicorn's Server, ending the live streams as soon as it is asked to stop (Ctrl+C,
    SIGTERM, or `should_exit` through `stop_soon`): a stream never ends by itself, and would
    otherwise hold the shutdown for the whole graceful timeout, then be cancelled
    mid-write."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.fastapi_app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        end_streams(self.fastapi_app)
        super().handle_exit(sig, frame)

    def stop_soon(self) -> None:
        """Stop from another thread (the demo's)."""
        end_streams(self.fastapi_app)
        self.should_exit = True
