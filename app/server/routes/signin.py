"""Signing in and out."""

from __future__ import annotations

import functools
import logging

import anyio
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from app.server import auth
from app.server.deps import Clock, CurrentPerson, Reader, Store, StoreWriter, Token
from app.server.errors import ApiError, locked
from app.server.routes.common import client_address, make_router
from app.server.routes.people import describe
from app.server.schemas import SignedIn, SignedOut, SignInRequest

log = logging.getLogger("bandeau.server")
router = make_router("sign-in")


@router.post("/v1/signin")
async def signin(
    body: SignInRequest, request: Request, reader: Reader, writer: StoreWriter, clock: Clock
) -> SignedIn:
    """A token for a login and password. The same answer, in the same time, for an unknown
    login and a wrong password; failures lock that login from that address only."""
    try:
        # Off the event loop: the password check takes tens of milliseconds, and every
        # other request (a click's batch) would wait behind it. And on threads of their
        # own count (app.state.sign_ins): a log-in wave waits there, not on the threads
        # that the heartbeats' and batches' token checks need. It reads on the reader and
        # writes with the store's writer, in the clicks' commits (auth.sign_in).
        signed = await anyio.to_thread.run_sync(
            functools.partial(
                auth.sign_in,
                reader,
                login=body.login,
                password=body.password,
                device_id=body.device_id.lower() if body.device_id else None,
                now_ms=clock(),
                address=client_address(request),
                writer=writer,
            ),
            limiter=request.app.state.sign_ins,
        )
    except auth.SignInRefused as exc:
        log.info("sign-in refused for %r: %s", body.login[:64], exc)
        if exc.locked_for_s:
            raise locked(exc.locked_for_s) from None
        raise ApiError(401, "wrong login or password", code="wrong_credentials") from None
    me = await run_in_threadpool(describe, reader, signed.person)
    return SignedIn(token=signed.token, **me)


@router.post("/v1/signout")
async def signout(engine: Store, person: CurrentPerson, token: Token, clock: Clock) -> SignedOut:
    del person  # the dependency checked the token
    return SignedOut(revoked=await run_in_threadpool(auth.revoke, engine, token, now_ms=clock()))
