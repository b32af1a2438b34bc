"""Live events of runs: a RunEvent row per change of state, then a push to whoever watches.

Rows first, push second. `event_emit` numbers the event with one conditional
`UPDATE … SET event_seq = event_seq + 1 … RETURNING` on the execution (and its suite run), so
two processes emitting for one execution can never take the same number, and inserts the row in
the same transaction; the push to the channel layer is sent once that transaction commits. The
WebSocket consumers (`executions/consumers.py`) serve rows from the database and use the push
only to learn early that there is something new: a push lost to a Redis restart costs a delay,
never an event.

With no channel layer configured (the embedded default, no Redis) nothing is pushed and the
consumers read new rows about once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

import structlog
from django.conf import settings
from django.db import connection, transaction

from executions.models import ACTIVITY_KINDS, EventKind, Execution, RunEvent, SuiteRun

logger = structlog.get_logger(__name__)

# The channel-layer message type: consumers handle it in `live_event`.
LAYER_MESSAGE_TYPE = "live.event"


def group_for_execution(execution_id) -> str:
    return f"execution.{execution_id}"


def group_for_suite_run(suite_run_id) -> str:
    return f"suite_run.{suite_run_id}"


def group_for_project(project_id) -> str:
    return f"project.{project_id}"


def live_mode() -> str:
    """ "redis" when events are pushed through a channel layer, "database" when streams poll rows."""
    return "redis" if settings.CHANNEL_LAYERS else "database"


# --- Writing events --------------------------------------------------------------------------


def _seq_next(model, pk) -> tuple | None:
    """Take the next event number of one run row; returns (seq, *extra columns) or None if gone."""
    table = connection.ops.quote_name(model._meta.db_table)
    extra = "project_id, suite_run_id" if model is Execution else "project_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET event_seq = event_seq + 1 WHERE id = %s RETURNING event_seq, {extra}",  # noqa: S608
            [pk.hex if connection.vendor == "sqlite" else pk],
        )
        return cursor.fetchone()


def event_emit(*, kind: str, data: dict, execution_id=None, suite_run_id=None) -> RunEvent | None:
    """Store one event of an execution (and so of its suite run) or of a suite run; push it after commit.

    Never raises: a run must go on even if its live view cannot be told (the run's own rows
    stay the source of truth). Returns None when the event could not be stored.
    """
    import uuid

    try:
        with transaction.atomic():
            seq = suite_seq = None
            if execution_id is not None:
                row = _seq_next(Execution, uuid.UUID(str(execution_id)))
                if row is None:
                    return None
                seq, project_id, suite_run_id = row
            if suite_run_id is not None:
                row = _seq_next(SuiteRun, uuid.UUID(str(suite_run_id)))
                if row is None:
                    return None
                suite_seq, project_id = row
            event = RunEvent.objects.create(
                project_id=project_id,
                execution_id=execution_id,
                suite_run_id=suite_run_id,
                seq=seq,
                suite_seq=suite_seq,
                kind=kind,
                data=data,
            )
            if settings.CHANNEL_LAYERS:
                transaction.on_commit(lambda: event_push(event))
            return event
    except Exception as exc:
        logger.warning("event_emit_failed", kind=kind, error=type(exc).__name__)
        return None


def event_message(event: RunEvent) -> dict:
    """The event as every stream sends it (JSON-ready); `seq` is set per stream by the consumer."""
    return {
        "type": "event",
        "id": event.id,
        "kind": event.kind,
        "execution": str(event.execution_id) if event.execution_id else None,
        "execution_seq": event.seq,
        "suite_run": str(event.suite_run_id) if event.suite_run_id else None,
        "suite_seq": event.suite_seq,
        "project": str(event.project_id),
        "at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }


def event_push(event: RunEvent) -> None:
    """Tell the watchers of the event's execution, suite run and project; never blocks the run."""
    groups = []
    if event.execution_id:
        groups.append(group_for_execution(event.execution_id))
    if event.suite_run_id:
        groups.append(group_for_suite_run(event.suite_run_id))
    if event.kind in ACTIVITY_KINDS:
        groups.append(group_for_project(event.project_id))
    _publisher().publish(groups, {"type": LAYER_MESSAGE_TYPE, "event": event_message(event)})


class _Publisher:
    """Sends pushes from synchronous code (worker, CLI, web views) on one background event loop.

    `async_to_sync(group_send)` would start a loop per call, and the pub/sub layer keeps one
    Redis connection per loop: a connection per event. Here one loop and one connection serve
    the process, pushes go out in the order they were made, and at most MAX_PENDING wait while
    Redis is unreachable (beyond that they are dropped: the rows are there).
    """

    MAX_PENDING = 1000

    def __init__(self):
        self.loop = None
        self.pending = 0
        self.lock = threading.Lock()

    def _start(self):
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="live-events-publisher", daemon=True).start()

    def publish(self, groups: list[str], message: dict) -> None:
        with self.lock:
            if self.loop is None:
                self._start()
            if self.pending >= self.MAX_PENDING:
                logger.warning("event_push_dropped", pending=self.pending)
                return
            self.pending += 1
        asyncio.run_coroutine_threadsafe(self._send(groups, message), self.loop)

    async def _send(self, groups, message):
        from channels.layers import get_channel_layer

        try:
            layer = get_channel_layer()
            for group in groups:
                await layer.group_send(group, message)
        except Exception as exc:
            logger.warning("event_push_failed", error=type(exc).__name__)
        finally:
            with self.lock:
                self.pending -= 1

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every push made so far has been sent or has failed (tests, process exit)."""
        if self.loop is not None:
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self.loop).result(timeout)


_publisher_instance = _Publisher()


def _publisher() -> _Publisher:
    return _publisher_instance


# --- What the worker and the services report --------------------------------------------------


def execution_queued(execution: Execution) -> None:
    kind = EventKind.EXECUTION_RETRIED if execution.previous_attempt_id else EventKind.EXECUTION_QUEUED
    event_emit(
        kind=kind,
        execution_id=execution.pk,
        data={
            "status": execution.status,
            "case_name": execution.case_name,
            "test_case": str(execution.test_case_id) if execution.test_case_id else None,
            "attempt": execution.attempt,
            "max_attempts": execution.max_attempts,
            "previous_attempt": str(execution.previous_attempt_id) if execution.previous_attempt_id else None,
            "steps": len(execution.snapshot.get("steps", [])),
        },
    )


def execution_started(*, execution_id, worker_host: str) -> None:
    event_emit(
        kind=EventKind.EXECUTION_STARTED, execution_id=execution_id, data={"status": "running", "worker": worker_host}
    )


def step_started(*, execution_id, step: dict) -> None:
    event_emit(
        kind=EventKind.STEP_STARTED,
        execution_id=execution_id,
        data={"index": step["order_index"], "action": step["action"], "description": step.get("description", "")},
    )


def step_finished(*, execution_id, result, artifacts) -> None:
    event_emit(
        kind=EventKind.STEP_FINISHED,
        execution_id=execution_id,
        data={
            "index": result.order_index,
            "action": result.action,
            "description": result.description,
            "status": result.status,
            "duration_ms": result.duration_ms,
            "message": result.message,
            "artifacts": [{"id": str(artifact.pk), "kind": artifact.kind} for artifact in artifacts],
        },
    )


def execution_finished(execution: Execution, *, next_attempt_id=None) -> None:
    event_emit(
        kind=EventKind.EXECUTION_FINISHED,
        execution_id=execution.pk,
        data={
            "status": execution.status,
            "duration_ms": execution.duration_ms,
            "error_message": execution.error_message,
            "failing_step_index": execution.failing_step_index,
            "attempt": execution.attempt,
            "next_attempt": str(next_attempt_id) if next_attempt_id else None,
        },
    )


def suite_run_changed(suite_run: SuiteRun, kind: str) -> None:
    event_emit(
        kind=kind,
        suite_run_id=suite_run.pk,
        data={
            "suite_name": suite_run.suite_name,
            "status": suite_run.status,
            "total": suite_run.total,
            "passed": suite_run.passed,
            "failed": suite_run.failed,
            "errored": suite_run.errored,
            "cancelled": suite_run.cancelled,
        },
    )


# --- Following a run from synchronous code (the CLI) ------------------------------------------


def events_follow(*, execution_id=None, suite_run_id=None, after: int = 0, deadline: float | None = None):
    """Yield one execution's or suite run's event messages in order after `after`, up to its final one.

    Pushed events are taken from the channel layer as they come; the database fills what a push
    missed (and is all there is without Redis, read every LIVE_POLL_INTERVAL_MS). Raises
    TimeoutError once `deadline` (a time.monotonic() value) passes.
    """
    import time

    if suite_run_id is not None:
        rows, field, cursor = RunEvent.objects.filter(suite_run_id=suite_run_id), "suite_seq", "suite_seq"
        group, end_kind = group_for_suite_run(suite_run_id), EventKind.SUITE_RUN_FINISHED
    else:
        rows, field, cursor = RunEvent.objects.filter(execution_id=execution_id), "seq", "execution_seq"
        group, end_kind = group_for_execution(execution_id), EventKind.EXECUTION_FINISHED
    pushes = _PushTail(group)
    last, read_rows = after, True
    try:
        while True:
            while read_rows:
                batch = [event_message(event) for event in rows.filter(**{f"{field}__gt": last}).order_by(field)[:200]]
                for message in batch:
                    last = message[cursor]
                    yield message
                    if message["kind"] == end_kind:
                        return
                read_rows = len(batch) == 200
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError
            message = pushes.next_message()
            if message is None or message[cursor] is None or message[cursor] > last + 1:
                read_rows = True  # quiet, or a push is missing: the rows have it
            elif message[cursor] == last + 1:
                last = message[cursor]
                yield message
                if message["kind"] == end_kind:
                    return
    finally:
        pushes.close()


class _PushTail:
    """One group's pushes, received on a private event loop; without a layer, a plain wait."""

    def __init__(self, group: str):
        from channels.layers import get_channel_layer

        self.loop = asyncio.new_event_loop()
        self.layer = get_channel_layer() if settings.CHANNEL_LAYERS else None
        self.group, self.channel, self.queue = group, None, None
        if self.layer is not None:
            try:
                self.loop.run_until_complete(asyncio.wait_for(self._subscribe(), 3))
            except Exception as exc:
                logger.warning("live_layer_unreachable", error=type(exc).__name__)
                self.layer = None

    async def _subscribe(self):
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.queue = asyncio.Queue()
        # One receive that stays pending: cancelling the pub/sub layer's receive unsubscribes.
        self.receiver = asyncio.ensure_future(self._forward())

    async def _forward(self):
        while True:
            self.queue.put_nowait(await self.layer.receive(self.channel))

    def next_message(self) -> dict | None:
        """The next pushed event, or None after a quiet spell (LIVE_RESYNC_SECONDS, or the poll)."""
        import time

        if self.layer is None:
            time.sleep(settings.LIVE_POLL_INTERVAL_MS / 1000)
            return None
        try:
            message = self.loop.run_until_complete(asyncio.wait_for(self.queue.get(), settings.LIVE_RESYNC_SECONDS))
        except TimeoutError:
            return None
        return message.get("event")

    def close(self) -> None:
        if self.layer is not None:
            self.receiver.cancel()
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.layer.group_discard(self.group, self.channel))
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.layer.flush())
        self.loop.close()
