"""WebSocket streams of live events: one execution, one suite run, a project's activity.

Every stream serves rows (RunEvent) and uses the channel layer's push only to hear early that a
row is there. A client resumes with `?after=<seq>`: the stream replays the rows after it from the
database, then follows the live tail. Each event carries its stream's `seq`; the consumer sends
seq N only after N - 1, so a push that overtook a row, arrived twice or never arrived (Redis
restarting) is put right from the database: no duplicates, no gaps.

Close codes (the reason says more):
  4400 bad request (`after` is not a number)      4401 not authenticated, bad or expired token
  4404 no such run in your projects (a foreign id is refused exactly like an unknown one)
  4408 the client reads too slowly and was dropped  1000 the run finished and everything was sent
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import functools
import json
import time
from urllib.parse import parse_qs

import structlog
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from executions import events
from executions.models import ACTIVE_STATUSES, ACTIVITY_KINDS, FINAL_STATUSES, EventKind, Execution, RunEvent, SuiteRun
from tests_catalog.models import Project
from tests_catalog.selectors import project_ids_with_role

logger = structlog.get_logger(__name__)

SUBPROTOCOL = "jbtestsuite"
TOKEN_SUBPROTOCOL_PREFIX = "bearer."  # noqa: S105 - a prefix, not a password
BATCH = 200

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408


class StreamRefused(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


def _token_offered(scope) -> str | None:
    """The JWT from `Authorization: Bearer …` or the `bearer.<token>` subprotocol, if any."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, token = value.decode("latin1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
    for protocol in scope.get("subprotocols", []):
        if protocol.startswith(TOKEN_SUBPROTOCOL_PREFIX):
            return protocol[len(TOKEN_SUBPROTOCOL_PREFIX) :]
    return None


def authenticate(scope) -> tuple[object, float | None]:
    """The user behind the socket and when their token expires (None: the admin session).

    A token, when one is offered, wins over the session. Raises StreamRefused (4401).
    """
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.settings import api_settings as jwt_settings
    from rest_framework_simplejwt.tokens import AccessToken

    raw = _token_offered(scope)
    if raw is not None:
        try:
            token = AccessToken(raw)
        except TokenError:
            raise StreamRefused(CLOSE_UNAUTHENTICATED, "invalid or expired token") from None
        user = get_user_model().objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
        if user is None:
            raise StreamRefused(CLOSE_UNAUTHENTICATED, "invalid or expired token")
        return user, float(token["exp"])
    user = scope.get("user")
    if user is not None and user.is_authenticated and user.is_active:
        return user, None
    raise StreamRefused(CLOSE_UNAUTHENTICATED, "authentication required: a JWT or the admin session")


def _transport_abort(send) -> bool:
    """Abort the TCP connection behind an ASGI `send` (uvicorn's protocol object owns it).

    ASGI has no message for "drop this client now"; the server's send callable is a bound method
    of its connection object, reached through the session middleware's wrapper.
    """
    for _ in range(5):
        owner = getattr(send, "__self__", None)
        transport = getattr(owner, "transport", None)
        if transport is not None and hasattr(transport, "abort"):
            transport.abort()
            return True
        send = getattr(owner, "real_send", None)
        if send is None:
            break
    logger.warning("live_transport_not_found")
    return False


class _LiveConsumer(AsyncWebsocketConsumer):
    """What the three streams share: authentication, the push handler, bounded sending, expiry."""

    group_prefix = ""

    async def __call__(self, scope, receive, send):
        # As AsyncConsumer.__call__, except that a channel layer that cannot be reached (Redis
        # down) leaves the socket working on database reads instead of failing it.
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            try:
                self.channel_name = await asyncio.wait_for(self.channel_layer.new_channel(), timeout=3)
                sources.append(functools.partial(self.channel_layer.receive, self.channel_name))
            except Exception as exc:
                logger.warning("live_layer_unreachable", error=type(exc).__name__)
                self.channel_layer = None
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch(sources, self.dispatch)

    async def websocket_connect(self, message):
        self.live: collections.deque = collections.deque()
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.closed = False
        offered = self.scope.get("subprotocols", [])
        await self.accept(SUBPROTOCOL if SUBPROTOCOL in offered else None)
        try:
            user, expires_at = await database_sync_to_async(authenticate)(self.scope)
            hello = await self.open(user)
        except StreamRefused as refused:
            await self.close(code=refused.code, reason=refused.reason)
            self.closed = True
            return
        # Subscribed before the first database read, so nothing falls between replay and tail.
        if self.channel_layer is not None:
            try:
                await asyncio.wait_for(self.channel_layer.group_add(self.group, self.channel_name), timeout=3)
                self.groups = [self.group]
            except Exception as exc:
                logger.warning("live_layer_unreachable", error=type(exc).__name__)
        await self.send(text_data=json.dumps(self.hello(**hello)))
        self.tasks.append(asyncio.create_task(self.pump()))
        if expires_at is not None:
            self.tasks.append(asyncio.create_task(self._expire_at(expires_at)))

    async def websocket_disconnect(self, message):
        for task in self.tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            for group in self.groups:
                await self.channel_layer.group_discard(group, self.channel_name)
        raise StopConsumer()

    async def receive(self, text_data=None, bytes_data=None):
        """Clients only listen; what they send is ignored."""

    # --- sending ---------------------------------------------------------------------------

    async def live_event(self, message):
        """A push from the channel layer: queue it for the pump, or drop a client that lags too far."""
        if self.closed:
            return
        if len(self.live) >= settings.LIVE_MAX_UNSENT_MESSAGES:
            await self.shut(CLOSE_TOO_SLOW, f"too slow: {len(self.live)} messages unread")
            return
        self.live.append(message["event"])
        self.wake.set()

    async def deliver(self, message: dict) -> None:
        """Send one message; a socket that does not take it in time is closed (4408)."""
        try:
            await asyncio.wait_for(self.send(text_data=json.dumps(message)), settings.LIVE_SEND_TIMEOUT_SECONDS)
        except TimeoutError:
            await self.shut(CLOSE_TOO_SLOW, "too slow: a message waited too long to be sent", from_pump=True)
            raise asyncio.CancelledError from None

    async def shut(self, code: int, reason: str, *, from_pump: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        self.live.clear()
        logger.info("live_stream_closed", code=code, reason=reason)
        try:
            await asyncio.wait_for(self.close(code=code, reason=reason), timeout=2)
        except TimeoutError:
            # A client that reads nothing leaves the server's write buffer full, and the close
            # frame waits behind it forever: cut the connection instead.
            _transport_abort(self.base_send)
        except Exception:  # noqa: S110 - the client is gone already
            pass

    async def _expire_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.shut(CLOSE_UNAUTHENTICATED, "token expired")

    def idle_seconds(self) -> float:
        """How long a quiet stream waits before it reads the database: the poll, or the resync."""
        if self.channel_layer is None or not self.groups:
            return settings.LIVE_POLL_INTERVAL_MS / 1000
        return float(settings.LIVE_RESYNC_SECONDS)

    async def wait_for_news(self) -> bool:
        """True when a push arrived, False when the stream was quiet for idle_seconds()."""
        try:
            await asyncio.wait_for(self.wake.wait(), self.idle_seconds())
        except TimeoutError:
            return False
        self.wake.clear()
        return True

    def hello(self, **fields) -> dict:
        return {"type": "hello", "stream": self.stream, "mode": "redis" if self.groups else "database", **fields}


class _RunStream(_LiveConsumer):
    """An execution's or a suite run's events in `seq` order, from `?after=` on."""

    model: type = Execution
    stream = ""
    field = ""  # the RunEvent field that numbers this stream…
    cursor = ""  # …and its name in a message
    end_kind = ""
    owner = ""  # the RunEvent foreign key to the run

    async def open(self, user) -> dict:
        run_id = self.scope["url_route"]["kwargs"]["run_id"]
        after = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get("after", ["0"])[-1]
        if not after.isdigit():
            raise StreamRefused(CLOSE_BAD_REQUEST, "after: expected the last seq you received, a whole number ≥ 0")
        self.last = int(after)
        run = await database_sync_to_async(self._run_get)(user, run_id)
        if run is None:
            raise StreamRefused(CLOSE_NOT_FOUND, f"{self.stream.replace('_', ' ')} not found")
        self.run_id, self.group = run["id"], f"{self.stream}.{run['id']}"
        self.end_seq = run["end_seq"]
        # A run that ended before events existed (or has ended and was fully seen) ends at once.
        self.final_without_end = run["status"] in FINAL_STATUSES and run["end_seq"] is None
        return {"id": str(run["id"]), "status": run["status"], "after": self.last, "last_seq": run["event_seq"]}

    def _run_get(self, user, run_id) -> dict | None:
        run = (
            self.model.objects.filter(pk=run_id, project_id__in=project_ids_with_role(user))
            .values("id", "status", "event_seq")
            .first()
        )
        if run is not None:
            run["end_seq"] = (
                RunEvent.objects.filter(**{self.owner: run["id"], "kind": self.end_kind})
                .values_list(self.field, flat=True)
                .first()
            )
        return run

    def _rows_after(self, after: int) -> list[dict]:
        rows = RunEvent.objects.filter(**{self.owner: self.run_id, f"{self.field}__gt": after}).order_by(self.field)
        return [events.event_message(event) for event in rows[:BATCH]]

    async def pump(self) -> None:
        try:
            await self.fill()
            while not self.closed:
                if not await self.wait_for_news():
                    await self.fill()
                    continue
                while self.live and not self.closed:
                    event = self.live.popleft()
                    seq = event[self.cursor]
                    if seq is None or seq <= self.last:
                        continue  # already sent (replayed from the database, or pushed twice)
                    if seq == self.last + 1:
                        await self.send_event(event)
                    else:
                        await self.fill()  # a push is missing or late: the rows have it
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("live_stream_failed", stream=self.stream)
            await self.shut(1011, "internal error")

    async def fill(self) -> None:
        """Send every stored event after the last one sent, in order."""
        while not self.closed:
            rows = await database_sync_to_async(self._rows_after)(self.last)
            for event in rows:
                await self.send_event(event)
            if len(rows) < BATCH:
                break
        seen_end = self.end_seq is not None and self.last >= self.end_seq
        if not self.closed and (self.final_without_end or seen_end):
            await self.shut(1000, f"{self.stream.replace('_', ' ')} finished")

    async def send_event(self, event: dict) -> None:
        seq = event[self.cursor]
        if seq <= self.last:
            return
        await self.deliver({**event, "seq": seq})
        self.last = seq
        if event["kind"] == self.end_kind:
            await self.shut(1000, f"{self.stream.replace('_', ' ')} finished")


class ExecutionStream(_RunStream):
    model = Execution
    stream = "execution"
    field, cursor = "seq", "execution_seq"
    end_kind = EventKind.EXECUTION_FINISHED
    owner = "execution_id"


class SuiteRunStream(_RunStream):
    model = SuiteRun
    stream = "suite_run"
    field, cursor = "suite_seq", "suite_seq"
    end_kind = EventKind.SUITE_RUN_FINISHED
    owner = "suite_run_id"


# --- A project's activity -----------------------------------------------------------------------

# How far back a database read of the activity feed looks again: an event inserted by a
# transaction that committed after a later one (ids are not commit-ordered) is still found.
ACTIVITY_OVERLAP = datetime.timedelta(seconds=10)


class ProjectActivityStream(_LiveConsumer):
    """What runs in a project now (a snapshot on connect), then every run that starts, moves or ends.

    It carries run-level events only (no steps) and does not resume: a client that reconnects
    gets a fresh snapshot, which already holds the state it missed.
    """

    stream = "project"

    async def open(self, user) -> dict:
        project_id = self.scope["url_route"]["kwargs"]["project_id"]
        found = await database_sync_to_async(self._project_visible)(user, project_id)
        if not found:
            raise StreamRefused(CLOSE_NOT_FOUND, "project not found")
        self.project_id, self.group = project_id, events.group_for_project(project_id)
        self.recent: dict[int, float] = {}
        snapshot, self.since = await database_sync_to_async(self._snapshot)()
        return {"id": str(project_id), **snapshot}

    def _project_visible(self, user, project_id) -> bool:
        return Project.objects.filter(pk=project_id, pk__in=project_ids_with_role(user)).exists()

    def _snapshot(self) -> tuple[dict, datetime.datetime]:
        since = timezone.now()
        executions = Execution.objects.filter(project_id=self.project_id, status__in=ACTIVE_STATUSES).order_by(
            "queued_at"
        )
        suite_runs = SuiteRun.objects.filter(project_id=self.project_id, status__in=ACTIVE_STATUSES)
        execution_rows = [
            {"id": str(e.id), "case_name": e.case_name, "status": e.status, "attempt": e.attempt,
             "suite_run": str(e.suite_run_id) if e.suite_run_id else None,
             "started_at": e.started_at.isoformat() if e.started_at else None}
            for e in executions[:200]
        ]  # fmt: skip
        suite_run_rows = [
            {"id": str(s.id), "suite_name": s.suite_name, "status": s.status, "total": s.total,
             "passed": s.passed, "failed": s.failed, "errored": s.errored, "cancelled": s.cancelled}
            for s in suite_runs.order_by("created_at")[:50]
        ]  # fmt: skip
        return {"executions": execution_rows, "suite_runs": suite_run_rows}, since

    def _rows_since(self, since) -> list[dict]:
        rows = RunEvent.objects.filter(project_id=self.project_id, kind__in=ACTIVITY_KINDS, created_at__gte=since)
        return [events.event_message(event) for event in rows.order_by("id")[:BATCH]]

    async def pump(self) -> None:
        try:
            while not self.closed:
                if await self.wait_for_news():
                    while self.live and not self.closed:
                        await self.send_once(self.live.popleft())
                else:  # the poll without Redis; with it, what a lost push (Redis restarting) missed
                    read_at = timezone.now()
                    for event in await database_sync_to_async(self._rows_since)(self.since - ACTIVITY_OVERLAP):
                        await self.send_once(event)
                    self.since = read_at
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("live_stream_failed", stream=self.stream)
            await self.shut(1011, "internal error")

    async def send_once(self, event: dict) -> None:
        if event["id"] in self.recent:
            return
        now = time.monotonic()
        self.recent[event["id"]] = now
        if len(self.recent) > 4 * BATCH:
            horizon = now - 2 * ACTIVITY_OVERLAP.total_seconds()
            self.recent = {key: at for key, at in self.recent.items() if at > horizon}
        await self.deliver({**event, "seq": None})
