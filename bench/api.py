"""API at scale: the test-case and execution lists over a seeded PostgreSQL database.

Seeds `jbts_bench` (100 000 cases; BENCH_QUICK: `jbts_bench_quick`, 5 000) with
`seed_benchmark_data`, counts the SQL queries of each list request at two page sizes, then
measures latency with 8 concurrent clients against gunicorn. BENCH_REUSE_DB=1 keeps an
already seeded database (migrations still run).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

from bench import common

DATABASE = os.environ.get("BENCH_API_DB", common.quick("jbts_bench", "jbts_bench_quick"))
CASES = common.quick(100_000, 5_000)
EXECUTIONS = common.quick(50_000, 2_500)
CLIENTS = 8
REQUESTS_PER_CLIENT = common.quick(3, 2)  # per round; rounds = common.PAIRS
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "5"))  # (2 x cores) + 1
CACHE_REDIS_DB = common.CACHE_REDIS_DB
P95_TARGET_MS = 200
# Tokens from gunicorn must verify in this process too, where the query counts are taken.
SECRET_KEY = "benchmark-only-secret-key-" + "x" * 40
SECRETS_ENCRYPTION_KEY = "YmVuY2htYXJrLW9ubHktZmVybmV0LWtleS14eHh4eHg="  # 32 bytes, benchmark only


def _database_prepare() -> dict:
    env = common.app_env(DATABASE_URL=common.pg_url(DATABASE))
    reuse = os.environ.get("BENCH_REUSE_DB") == "1" and common.pg_database_exists(DATABASE)
    if not reuse:
        common.pg_database_recreate(DATABASE)
    started = time.monotonic()
    common.manage("migrate", "--noinput", env=env)
    migrate_s = time.monotonic() - started
    if reuse:
        return {"seeded": False, "migrate_s": round(migrate_s, 1)}
    started = time.monotonic()
    output = common.manage("seed_benchmark_data", "--cases", str(CASES), "--executions", str(EXECUTIONS), env=env)
    seed_s = time.monotonic() - started
    # Fresh statistics, as autovacuum would have gathered them on a live database.
    common.manage("dbshell", "--", "-c", "VACUUM ANALYZE", env=env)
    return {"seeded": True, "seed_s": round(seed_s, 1), "seed_output": output.strip(), "migrate_s": round(migrate_s, 1)}


def scenarios(project_id: str, last_page: int, execution_last_page: int) -> dict[str, str]:
    """Name → path (page size 100 unless the name says otherwise)."""
    tests = "/api/v1/tests/?limit=100"
    executions = "/api/v1/executions/?limit=100"
    return {
        "tests: newest first": tests,
        "tests: project + status + priority": f"{tests}&project={project_id}&status=active&priority=high",
        "tests: tag": f"{tests}&tags=bench-tag-03",
        "tests: search": f"{tests}&search=042",
        "tests: sorted by name": f"{tests}&sort_by=name&order=asc",
        "tests: sorted by priority": f"{tests}&sort_by=priority",
        "tests: deep page (offset)": f"{tests}&page={last_page}",
        "executions: newest first": executions,
        "executions: status=failed": f"{executions}&status=failed",
        "executions: deep page (offset)": f"{executions}&page={execution_last_page}",
    }


def _cursor_paths(client, paths: dict[str, str]) -> dict[str, str]:
    """Deep keyset pages, when the API offers cursors: the cursor of the row just before the last page."""
    extra = {}
    for name, base in (("tests: deep page (cursor)", "/api/v1/tests/?limit=100"),
                       ("executions: deep page (cursor)", "/api/v1/executions/?limit=100")):  # fmt: skip
        deep = paths[name.replace("(cursor)", "(offset)")]
        previous_page = deep.rsplit("page=", 1)[0] + f"page={int(deep.rsplit('page=', 1)[1]) - 1}"
        body = client(previous_page)
        if "next_cursor" not in body:
            return {}
        if body["next_cursor"]:
            extra[name] = f"{base}&cursor={body['next_cursor']}"
    return extra


def query_counts(paths: dict[str, str], token: str) -> dict[str, dict[int, int]]:
    """SQL queries per request at page sizes 10 and 100 (in-process, same database)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = {}
    for name, path in paths.items():
        counts[name] = {}
        for limit in (10, 100):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path.replace("limit=100", f"limit={limit}"))
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            counts[name][limit] = len(captured.captured_queries)
    return counts


def _gunicorn_start(port: int) -> subprocess.Popen:
    env = common.app_env(
        ENVIRONMENT="production",
        SECRET_KEY=SECRET_KEY,
        SECRETS_ENCRYPTION_KEYS=SECRETS_ENCRYPTION_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        SECURE_HSTS_SECONDS="0",
        DATABASE_URL=common.pg_url(DATABASE),
        REDIS_URL=f"{common.REDIS_BASE_URL}/{CACHE_REDIS_DB}",
        RATE_LIMIT_PER_MINUTE="100000000",
        LOG_LEVEL="WARNING",
        DATA_DIR=str(common.BASE_DIR / "bench" / "results" / "data"),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "jbtestsuite.wsgi", "--workers", str(GUNICORN_WORKERS),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120"],
        cwd=common.BASE_DIR, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=open(common.RESULTS_DIR / "gunicorn.log", "wb"),  # noqa: SIM115
    )  # fmt: skip
    return process


def _request(port: int, path: str, token: str) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, body, time.perf_counter() - started


def burst(port: int, path: str, token: str, per_client: int, clients: int = CLIENTS) -> list[float]:
    """`clients` threads each send per_client requests back to back; latencies in ms."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client():
        for _ in range(per_client):
            status, body, seconds = _request(port, path, token)
            with lock:
                if status == 200:
                    latencies.append(seconds * 1000)
                else:
                    failures.append(f"{status} {body[:200]!r}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{path}: {len(failures)} failed requests, e.g. {failures[0]}")
    return latencies


def main() -> None:
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    preparation = _database_prepare()
    common.django_setup(
        DATABASE_URL=common.pg_url(DATABASE), SECRET_KEY=SECRET_KEY, SECRETS_ENCRYPTION_KEYS=SECRETS_ENCRYPTION_KEY
    )
    from conftest import free_port
    from tests_catalog.management.commands.seed_benchmark_data import BENCH_PASSWORD, BENCH_USERNAME
    from tests_catalog.models import Project

    port = free_port()
    server = _gunicorn_start(port)
    try:
        common.wait_for(lambda: _ping(port), timeout=60, interval=0.2, message="gunicorn")
        _, body, _ = _post(port, "/api/v1/auth/token/", {"username": BENCH_USERNAME, "password": BENCH_PASSWORD})
        token = json.loads(body)["access"]

        def get(path):
            status, body, _ = _request(port, path, token)
            assert status == 200, (path, status, body[:300])
            return json.loads(body)

        project_id = str(Project.objects.get(slug="bench").id)
        first = get("/api/v1/tests/?limit=100")
        first_executions = get("/api/v1/executions/?limit=100")
        paths = scenarios(project_id, first["pages"], first_executions["pages"])
        paths.update(_cursor_paths(get, paths))
        counts = query_counts(paths, token)

        latencies: dict[str, list[float]] = {name: [] for name in paths}
        alone: dict[str, list[float]] = {name: [] for name in paths}
        for path in paths.values():  # warm every worker's connection and caches
            burst(port, path, token, 1)
        # Rounds over every scenario in turn, so a noisy spell of the machine hits them all alike.
        for _ in range(common.PAIRS):
            for name, path in paths.items():
                latencies[name] += burst(port, path, token, REQUESTS_PER_CLIENT)
                # One client alone: the service time, without queueing behind the other seven.
                alone[name] += burst(port, path, token, REQUESTS_PER_CLIENT, clients=1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    rows = []
    if preparation.get("seeded"):
        rows.append(common.row(f"seed_benchmark_data ({CASES:,} cases)", preparation["seed_s"], "s"))
    details = {"database": DATABASE, "cases": CASES, "executions": EXECUTIONS, "clients": CLIENTS,
               "gunicorn_workers": GUNICORN_WORKERS, "preparation": preparation, "paths": paths,
               "query_counts": counts, "latencies_ms": {}}  # fmt: skip
    for name in paths:
        values = latencies[name]
        p50, p95 = common.percentile(values, 0.5), common.percentile(values, 0.95)
        details["latencies_ms"][name] = {"p50": round(p50, 1), "p95": round(p95, 1), "n": len(values),
                                         "one_client_p50": round(common.median(alone[name]), 1)}  # fmt: skip
        same = counts[name][10] == counts[name][100]
        rows.append(common.row(
            f"{name}: p50 / p95 (1 client p50; queries)",
            f"{p50:.0f} / {p95:.0f} ms ({common.median(alone[name]):.0f} ms; "
            f"{counts[name][100]}{'' if same else ' ≠ ' + str(counts[name][10])})",
            "", f"p95 < {P95_TARGET_MS} ms", p95 < P95_TARGET_MS and same,
        ))  # fmt: skip
    common.results_write("api", rows, details)


def _ping(port: int) -> bool:
    try:
        status, _, _ = _request(port, "/health", "")
        return status == 200
    except OSError:
        return False


def _post(port: int, path: str, payload: dict) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, body=json.dumps(payload), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, body, time.perf_counter() - started


if __name__ == "__main__":
    main()
