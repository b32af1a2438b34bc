"""A live ASGI server (uvicorn, in a thread of the test process) and WebSocket client helpers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator

import uvicorn
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import free_port


@contextlib.contextmanager
def asgi_served() -> Iterator[str]:
    """Serve jbtestsuite.asgi on 127.0.0.1 from a thread; yield its ws:// base URL."""
    from jbtestsuite.asgi import application

    port = free_port()
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="asgi-server")
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the ASGI server did not start")
        threading.Event().wait(0.02)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def token_for(user, **lifetime) -> str:
    token = AccessToken.for_user(user)
    if lifetime:
        import datetime

        token.set_exp(lifetime=datetime.timedelta(**lifetime))
    return str(token)


def socket_open(url: str, token: str | None = None, *, subprotocol: bool = False):
    """A WebSocket client; the token goes as `Authorization: Bearer` or, with subprotocol, as `bearer.<token>`."""
    if token and subprotocol:
        return connect(url, subprotocols=["jbtestsuite", f"bearer.{token}"], open_timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return connect(url, additional_headers=headers, open_timeout=10)


def messages_until_closed(ws, *, limit: int | None = None, timeout: float = 90) -> tuple[list[dict], object]:
    """Read JSON messages until the server closes (or `limit` are read); returns (messages, close or None)."""
    messages: list[dict] = []
    try:
        while limit is None or len(messages) < limit:
            messages.append(json.loads(ws.recv(timeout=timeout)))
    except ConnectionClosed as closed:
        return messages, closed.rcvd
    return messages, None


def refusal(url: str, token: str | None = None, **kwargs):
    """Open a socket that the server is expected to close at once; return its close frame."""
    with socket_open(url, token, **kwargs) as ws:
        messages, close = messages_until_closed(ws, timeout=20)
    assert messages == [], messages
    return close


def run_in_loop(coroutine):
    return asyncio.run(coroutine)
