"""What every benchmark shares: configuration from the environment, databases, statistics,
interleaving, result files and the page server.

Benchmarks run in their own interpreter (`python -m bench <name>`), because Django reads its
database and broker from the environment once, at import.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
PAGES_DIR = BASE_DIR / "bench" / "pages"

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0", "false")
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres:postgres@127.0.0.1:5432")
REDIS_BASE_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
# Our Redis database numbers on that server: the broker, the soak's broker, gunicorn's cache
# (BENCH_REDIS_DBS="5,6,7" by default; two of them may be the same, they are used one at a time).
BROKER_REDIS_DB, SOAK_REDIS_DB, CACHE_REDIS_DB = (
    int(number) for number in os.environ.get("BENCH_REDIS_DBS", "5,6,7").split(",")
)
# Quick mode is a smoke test that every benchmark still runs, not a measurement: one round.
PAIRS = int(os.environ.get("BENCH_PAIRS", "1" if QUICK else "5"))


def quick(full, fast):
    return fast if QUICK else full


# --- statistics ------------------------------------------------------------------------------


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values, fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(len(ordered), rank) - 1]


def interleaved(subjects: dict[str, Callable[[], float]], pairs: int = PAIRS) -> dict[str, list[float]]:
    """Run each subject once per round, in turn (A B A B …), so slow spells of a shared machine hit
    every subject alike. Each callable returns the figure it measured; a warm-up round is discarded."""
    for run in subjects.values():
        run()
    figures: dict[str, list[float]] = {name: [] for name in subjects}
    for round_index in range(pairs):
        # Alternate who goes first, so neither always runs right after the other.
        order = list(subjects.items())
        if round_index % 2:
            order.reverse()
        for name, run in order:
            figures[name].append(run())
    return figures


# --- databases and processes -----------------------------------------------------------------


def pg_url(database: str) -> str:
    return f"{PG_ADMIN_URL}/{database}"


def pg_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(pg_url("postgres"), autocommit=True) as connection:
        connection.execute(sql)


def pg_database_recreate(database: str) -> None:
    """Drop and create one of *our* databases (names must start with jbts_bench)."""
    if not database.startswith("jbts_bench"):
        raise ValueError(f"refusing to recreate {database!r}: benchmark databases are named jbts_bench*")
    pg_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    pg_execute(f'CREATE DATABASE "{database}"')


def pg_database_exists(database: str) -> bool:
    import psycopg

    with psycopg.connect(pg_url("postgres"), autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone() is not None


def redis_flush(db: int) -> None:
    if db not in (BROKER_REDIS_DB, SOAK_REDIS_DB, CACHE_REDIS_DB):
        raise ValueError(f"benchmarks only use Redis databases {BROKER_REDIS_DB}, {SOAK_REDIS_DB}, {CACHE_REDIS_DB}")
    import redis

    redis.Redis.from_url(f"{REDIS_BASE_URL}/{db}").flushdb()


def app_env(**extra: str) -> dict[str, str]:
    """Environment for a Django process of ours (manage.py, worker, gunicorn)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "ENVIRONMENT": "testing",
        "SE_OFFLINE": "true",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(BASE_DIR),
    }
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 1800) -> str:
    result = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def django_setup(**env: str) -> None:
    """Configure Django in this process with the given environment (before anything imports models)."""
    os.environ.update(app_env(**env))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jbtestsuite.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def descendants(pid: int) -> list[int]:
    """Every process below pid."""
    from executions.runner.browser import process_table

    children: dict[int, list[int]] = {}
    for child, (parent, _session) in process_table().items():
        children.setdefault(parent, []).append(child)
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def session_processes(session_id: int) -> list[int]:
    """Every process of a session: unlike descendants, this still finds orphans re-parented to init."""
    from executions.runner.browser import process_table

    return [pid for pid, (_parent, session) in process_table().items() if session == session_id]


def process_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return ""


def _proc_mb(path: str, key: str) -> float:
    """A `key: N kB` line of a /proc file, in MB; 0 when the process is gone."""
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def rss_mb(pid: int) -> float:
    return _proc_mb(f"/proc/{pid}/status", "VmRSS:")


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages split between their users, so a process tree's sum is honest."""
    return _proc_mb(f"/proc/{pid}/smaps_rollup", "Pss:")


def browser_processes(root_pid: int) -> dict[str, int]:
    """How many chromedriver and chromium processes run below root_pid (not other people's)."""
    counts = {"chromedriver": 0, "chromium": 0}
    for pid in descendants(root_pid):
        name = process_name(pid)
        if name.startswith("chromedriver"):
            counts["chromedriver"] += 1
        elif name.startswith("chrom"):
            counts["chromium"] += 1
    return counts


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.02, message: str = "condition"):
    """The tests' wait_for, polling faster: benchmarks time what they wait for."""
    from conftest import wait_for as poll

    return poll(predicate, timeout=timeout, interval=interval, message=message)


# --- pages -----------------------------------------------------------------------------------


def pages_serve(directory: Path = PAGES_DIR) -> tuple[str, Callable[[], None]]:
    """Serve a folder of pages (bench/pages by default) on 127.0.0.1 from a thread, as the tests do.

    Returns (base URL, stop).
    """
    from executions.tests.page_server import pages_served

    stack = contextlib.ExitStack()
    url = stack.enter_context(pages_served(directory))
    return f"{url}/", stack.close


# --- results ---------------------------------------------------------------------------------


def machine() -> dict:
    load = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(value, 2) for value in load],
    }


def results_write(name: str, rows: list[dict], details: dict) -> Path:
    """Write bench/results/<name>.json and print the table. rows: {"figure", "value", "unit", "target"}."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "quick": QUICK,
        "pairs": PAIRS,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "rows": rows,
        "details": details,
    }
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(table(name, rows))
    return path


def row(figure: str, value, unit: str = "", target: str = "", met: bool | None = None) -> dict:
    return {"figure": figure, "value": value, "unit": unit, "target": target, "met": met}


def shown(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def table(name: str, rows: list[dict]) -> str:
    lines = [f"| {name} | value | target |", "|---|---:|---|"]
    for item in rows:
        mark = "" if item.get("met") is None else (" ✓" if item["met"] else " ✗")
        value = f"{shown(item['value'])} {item.get('unit', '')}".strip()
        lines.append(f"| {item['figure']} | {value} | {item.get('target', '')}{mark} |")
    return "\n".join(lines)
