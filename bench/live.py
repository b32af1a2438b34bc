"""Live progress: push latency, the cost of 200 watchers to the REST API, reconnects under load.

Each part runs in its own interpreter (Django reads its database and Redis once, at import) and
talks to uvicorn serving jbtestsuite.asgi in a subprocess, as `make run` and docker-compose do.
The bench process plays the worker: it records step results through the same service the worker
calls after each step (`services.step_result_record`), so "step finished → event received" is
measured from that call to the moment a WebSocket client has the event in hand; the browser
itself is not part of that path.

- latency, Redis (channels-redis pub/sub) and embedded (no Redis: SQLite, streams read rows every
  LIVE_POLL_INTERVAL_MS): p50 / p95 over steps paced like a quick test;
- watchers: REST API p95 (8 clients, executions list) with no watchers and with 200 watchers of
  20 running executions that move on, interleaved; memory per idle connection;
- reconnect: 50 clients follow a 50-step run and each drops its connection twice, resuming with
  ?after=<last seq>: events lost and duplicated, counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from bench import common

DATABASE = "jbts_bench_live"
REDIS_DB = 5  # pub/sub ignores database numbers; the layer's prefix carries it (jbts5.)
SECRET_KEY = "benchmark-only-secret-key-" + "y" * 40
STEPS = common.quick(200, 30)
WATCHERS = 200
RUNNING = 20
REST_CLIENTS = 8
REST_REQUESTS = common.quick(40, 10)  # per client and round
RECONNECT_CLIENTS = common.quick(50, 10)
RECONNECT_STEPS = 50
UVICORN_WORKERS = 3  # as docker-compose.yml


def _env(mode: str, data_dir: str) -> dict:
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": data_dir,
    }
    if mode == "redis":
        env["DATABASE_URL"] = common.pg_url(DATABASE)
        env["REDIS_URL"] = f"{common.REDIS_BASE_URL}/{REDIS_DB}"
    return env


def _server_start(port: int, env: dict, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "jbtestsuite.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--ws", "websockets-sansio", "--lifespan", "off", "--no-access-log",
         "--log-level", "warning"],
        cwd=common.BASE_DIR, env=common.app_env(**env), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=open(common.RESULTS_DIR / "uvicorn-live.log", "ab"),
    )  # fmt: skip


def _server_stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def _server_pids(server: subprocess.Popen) -> list[int]:
    return [server.pid, *common.descendants(server.pid)]


def _ready(port: int) -> bool:
    import http.client

    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False


# --- fixtures in the database ------------------------------------------------------------------


def _fixtures(executions: int):
    from django.contrib.auth import get_user_model

    from executions import services
    from tests_catalog.models import Membership, Project, Role, TestCase, TestStep

    user = get_user_model().objects.create_user(f"live-{uuid.uuid4().hex[:8]}", password="x" * 12)
    project = Project.objects.create(name=f"Live {uuid.uuid4().hex[:6]}", slug=f"live-{uuid.uuid4().hex[:8]}",
                                     base_url="http://127.0.0.1:9/")  # fmt: skip
    Membership.objects.create(project=project, user=user, role=Role.EDITOR)
    case = TestCase.objects.create(project=project, name="Live case", status="active")
    TestStep.objects.create(case=case, order_index=0, action="open", value="/")
    runs = []
    for _ in range(executions):
        execution = services.execution_create(case=case, trigger="api", inline=True)
        services.execution_claim(execution_id=execution.pk, worker_host="bench")
        runs.append(execution)
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    token.set_exp(lifetime=__import__("datetime").timedelta(hours=2))
    return str(token), runs


def _step(execution, index: int):
    from executions import services
    from executions.runner.outcomes import StepOutcome

    return services.step_result_record(
        execution=execution, outcome=StepOutcome(index, "click", "css", "#go", "", "passed", 12, "")
    )


def _connect(port: int, path: str, token: str):
    from websockets.sync.client import connect

    return connect(f"ws://127.0.0.1:{port}{path}", subprotocols=["jbtestsuite", f"bearer.{token}"], open_timeout=30,
                   max_size=None)  # fmt: skip


# --- parts ----------------------------------------------------------------------------------------


def part_latency(mode: str) -> dict:
    """Step recorded → event received, per step; one watcher."""
    port = _port()
    token, (execution,) = _fixtures(1)
    server = _server_start(port, _env(mode, os.environ["DATA_DIR"]), workers=1)
    try:
        common.wait_for(lambda: _ready(port), timeout=90, interval=0.2, message="uvicorn")
        received: dict[int, float] = {}
        arrived = threading.Condition()
        ws = _connect(port, f"/ws/executions/{execution.pk}/", token)
        hello = json.loads(ws.recv(timeout=30))

        def listen():
            from websockets.exceptions import ConnectionClosed

            try:
                while True:
                    message = json.loads(ws.recv())
                    if message.get("kind") == "step.finished":
                        with arrived:
                            received[message["data"]["index"]] = time.time()
                            arrived.notify_all()
            except ConnectionClosed:
                pass

        threading.Thread(target=listen, daemon=True).start()
        latencies = []
        for index in range(STEPS):
            started = time.time()
            _step(execution, index)
            with arrived:
                arrived.wait_for(lambda i=index: i in received, timeout=10)
            if index in received:
                latencies.append((received[index] - started) * 1000)
            time.sleep(0.02)  # a quick step's worth of browser work between results
        ws.close()
    finally:
        _server_stop(server)
    return {"mode": hello["mode"], "latencies_ms": latencies, "lost": STEPS - len(latencies)}


def part_watchers() -> dict:
    """REST p95 with and without 200 watchers of 20 running executions; memory per idle socket."""
    port = _port()
    token, runs = _fixtures(RUNNING)
    server = _server_start(port, _env("redis", os.environ["DATA_DIR"]), workers=UVICORN_WORKERS)
    stop = threading.Event()
    try:
        common.wait_for(lambda: _ready(port), timeout=90, interval=0.2, message="uvicorn")
        from bench.api import burst

        burst(port, "/api/v1/executions/?limit=20", token, 2)  # warm every worker

        def steps_go_on():
            # Each running execution finishes a step every ~0.5 s, with or without watchers.
            index = 0
            while not stop.is_set():
                for execution in runs:
                    _step(execution, index)
                index += 1
                stop.wait(0.5)

        threading.Thread(target=steps_go_on, daemon=True).start()
        watchers = _Watchers(port, token, [r.pk for r in runs])

        def rest_without():
            watchers.close()
            return burst(port, "/api/v1/executions/?limit=20", token, REST_REQUESTS, REST_CLIENTS)

        def rest_with():
            watchers.open(WATCHERS)
            return burst(port, "/api/v1/executions/?limit=20", token, REST_REQUESTS, REST_CLIENTS)

        samples: dict[str, list[float]] = {"none": [], "200": []}
        rest_without()
        rest_with()
        for round_index in range(common.PAIRS):
            order = [("none", rest_without), ("200", rest_with)]
            for name, run in order if round_index % 2 == 0 else reversed(order):
                samples[name] += run()
        delivered = watchers.delivered
        watchers.close()
        stop.set()
        # Memory of idle connections: no steps move now, the watchers only sit there.
        time.sleep(1)
        before = sum(common.rss_mb(pid) for pid in _server_pids(server))
        watchers.open(WATCHERS)
        time.sleep(2)
        after = sum(common.rss_mb(pid) for pid in _server_pids(server))
        watchers.close()
    finally:
        stop.set()
        _server_stop(server)
    return {"none": samples["none"], "with": samples["200"], "delivered": delivered,
            "idle_kb_per_connection": (after - before) * 1024 / WATCHERS}  # fmt: skip


class _Watchers:
    """N asyncio WebSocket clients on one background loop, spread over the running executions."""

    def __init__(self, port: int, token: str, execution_ids: list):
        self.port, self.token, self.ids = port, token, execution_ids
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.tasks: list = []
        self.delivered = 0

    async def _watch(self, execution_id, after: int, opened: asyncio.Event, count: list):
        from websockets.asyncio.client import connect

        url = f"ws://127.0.0.1:{self.port}/ws/executions/{execution_id}/?after={after}"
        async with connect(url, subprotocols=["jbtestsuite", f"bearer.{self.token}"], open_timeout=60) as ws:
            await ws.recv()
            count[0] += 1
            if count[0] == self.expected:
                opened.set()
            async for _ in ws:
                self.delivered += 1

    async def _open(self, n: int, after: dict):
        opened, count = asyncio.Event(), [0]
        self.expected = n
        self.tasks = [
            asyncio.ensure_future(self._watch(self.ids[i % len(self.ids)], after[self.ids[i % len(self.ids)]], opened,
                                              count))
            for i in range(n)
        ]  # fmt: skip
        await asyncio.wait_for(opened.wait(), 120)

    async def _close(self):
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []

    def open(self, n: int) -> None:
        from executions.models import Execution

        if not self.tasks:
            # From the events already there on: a watcher opens a page of a run that is going on.
            after = dict(Execution.objects.filter(pk__in=self.ids).values_list("id", "event_seq"))
            asyncio.run_coroutine_threadsafe(self._open(n, after), self.loop).result(180)

    def close(self) -> None:
        if self.tasks:
            asyncio.run_coroutine_threadsafe(self._close(), self.loop).result(60)


def part_reconnect() -> dict:
    """Clients follow one run and drop their connection twice each; count what was lost or doubled."""
    import random

    port = _port()
    token, (execution,) = _fixtures(1)
    server = _server_start(port, _env("redis", os.environ["DATA_DIR"]), workers=UVICORN_WORKERS)
    try:
        common.wait_for(lambda: _ready(port), timeout=90, interval=0.2, message="uvicorn")
        from executions import services

        done = threading.Event()
        seen: list[list[int]] = [[] for _ in range(RECONNECT_CLIENTS)]
        reconnects = [0]

        def client(number: int):
            from websockets.exceptions import ConnectionClosed

            drops = sorted(random.sample(range(3, RECONNECT_STEPS), 2))  # after these many events
            last, received = 0, 0
            while True:
                ws = _connect(port, f"/ws/executions/{execution.pk}/?after={last}", token)
                try:
                    json.loads(ws.recv(timeout=60))  # hello
                    while True:
                        message = json.loads(ws.recv(timeout=60))
                        seen[number].append(message["seq"])
                        last, received = message["seq"], received + 1
                        if drops and received >= drops[0]:
                            drops.pop(0)
                            reconnects[0] += 1
                            break  # drop the connection, resume after `last`
                except ConnectionClosed:
                    return  # 1000: the run finished and everything was sent
                finally:
                    ws.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(RECONNECT_CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        for index in range(RECONNECT_STEPS):
            _step(execution, index)
            time.sleep(0.02)
        from executions.models import RunStatus

        services.execution_finish(execution_id=execution.pk, status=RunStatus.PASSED)
        for thread in threads:
            thread.join(timeout=120)
        done.set()
        expected = list(range(1, execution.__class__.objects.get(pk=execution.pk).event_seq + 1))
    finally:
        _server_stop(server)
    lost = sum(len(set(expected) - set(got)) for got in seen)
    duplicated = sum(len(got) - len(set(got)) for got in seen)
    return {"clients": RECONNECT_CLIENTS, "events": len(expected), "reconnects": reconnects[0], "lost": lost,
            "duplicated": duplicated, "in_order": all(got == sorted(got) for got in seen)}  # fmt: skip


def _port() -> int:
    sys.path.insert(0, str(common.BASE_DIR))
    from conftest import free_port

    return free_port()


# --- orchestration --------------------------------------------------------------------------------


def _part(name: str, mode: str) -> dict:
    """Run one part in a fresh interpreter configured for `mode`; its JSON comes back on stdout."""
    data_dir = tempfile.mkdtemp(prefix="jbts-bench-live-")
    env = common.app_env(**_env(mode, data_dir))
    common.manage("migrate", "--noinput", env=env)
    result = subprocess.run([sys.executable, "-m", "bench.live", name, mode], cwd=common.BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=3600)  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"bench.live {name} {mode} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    common.pg_database_recreate(DATABASE)
    redis_latency = _part("latency", "redis")
    embedded_latency = _part("latency", "embedded")
    watchers = _part("watchers", "redis")
    reconnect = _part("reconnect", "redis")

    rows = []
    latency_parts = (("Redis", redis_latency, 100, 300), ("embedded (SQLite, no Redis)", embedded_latency, None, 1500))
    for label, part, p50_target, p95_target in latency_parts:
        values = part["latencies_ms"]
        p50, p95 = common.percentile(values, 0.5), common.percentile(values, 0.95)
        target = f"p50 < {p50_target} ms, p95 < {p95_target} ms" if p50_target else f"< {p95_target} ms"
        met = (p50_target is None or p50 < p50_target) and p95 < p95_target and part["lost"] == 0
        rows.append(common.row(f"step finished → client, {label} ({part['mode']}): p50 / p95",
                               f"{p50:.0f} / {p95:.0f} ms", "", target, met))  # fmt: skip
    none_p95 = common.percentile(watchers["none"], 0.95)
    with_p95 = common.percentile(watchers["with"], 0.95)
    ratio = with_p95 / none_p95
    rows.append(common.row(f"REST p95, {WATCHERS} watchers / none ({REST_CLIENTS} clients, executions list)",
                           f"{ratio:.2f}x ({with_p95:.0f} / {none_p95:.0f} ms)", "", "<= 1.10x",
                           ratio <= 1.10))  # fmt: skip
    rows.append(common.row("memory per idle WebSocket connection (server RSS)",
                           round(watchers["idle_kb_per_connection"], 1), "KB"))  # fmt: skip
    rows.append(common.row(
        f"reconnect under load: {reconnect['clients']} clients x 2 drops, {reconnect['events']} events: "
        "lost / duplicated",
        f"{reconnect['lost']} / {reconnect['duplicated']}", "", "0 / 0",
        reconnect["lost"] == 0 and reconnect["duplicated"] == 0 and reconnect["in_order"],
    ))  # fmt: skip
    details = {
        "steps": STEPS, "latency_redis_ms": redis_latency, "latency_embedded_ms": embedded_latency,
        "watchers": {"count": WATCHERS, "running_executions": RUNNING, "uvicorn_workers": UVICORN_WORKERS,
                     "none_p50": common.percentile(watchers["none"], 0.5), "none_p95": none_p95,
                     "with_p50": common.percentile(watchers["with"], 0.5), "with_p95": with_p95,
                     "events_delivered_to_watchers": watchers["delivered"],
                     "idle_kb_per_connection": watchers["idle_kb_per_connection"]},
        "reconnect": reconnect,
    }  # fmt: skip
    common.results_write("live", rows, details)


if __name__ == "__main__":
    if len(sys.argv) == 3:
        common.django_setup(ENVIRONMENT=os.environ["ENVIRONMENT"])
        name, mode = sys.argv[1], sys.argv[2]
        parts = {"latency": lambda: part_latency(mode), "watchers": part_watchers, "reconnect": part_reconnect}
        print(json.dumps(parts[name]()))
    else:
        main()
