"""Suite throughput: 20 cases x 5 steps.

In-process, interleaved (browser start included in every subject):
  selenium      a plain Selenium script running the 20 cases in one browser;
  reuse         the engine running the suite's executions with browser reuse (the default);
  no_reuse      the same with a fresh browser per execution (BROWSER_REUSE=false).
Then 2 Celery worker processes on Redis (database 5) run whole suites queued through the
services, as the API would: executions per minute.
"""

from __future__ import annotations

import os
import tempfile
import time

from bench import common, runtime
from bench.engine import CommandLog, plain_selenium

CASES = common.quick(20, 5)
REUSE_TARGET = 1.25
BROKER_DB = common.BROKER_REDIS_DB
WORKER_SUITES = common.quick(3, 1)


def case_steps(index: int) -> list[tuple[str, str, str]]:
    return [("open", "", "bench.html"), ("type", "#name", f"user {index}"), ("click", "#go", ""),
            ("assert_text", "#out", f"Hello user {index}"), ("assert_title", "", "Bench")]  # fmt: skip


def main() -> None:
    database_url, broker_url = runtime.django_on_redis(BROKER_DB)
    from executions import services, worker
    from executions.models import Execution, RunStatus, Trigger
    from executions.runner.browser import WorkerBrowser, browser_start
    from tests_catalog.models import TestSuite

    url, stop_pages = common.pages_serve()
    project, _ = runtime.project_prepare(url, slug="bench-throughput")
    suite = TestSuite.objects.create(project=project, name="Throughput")
    all_steps = []
    for index in range(CASES):
        steps = case_steps(index)
        all_steps.append(steps)
        suite.entries.create(case=runtime.case_create(project, f"Case {index}", steps), order_index=index)
    config = worker.browser_config()

    def run_selenium() -> float:
        started = time.perf_counter()
        browser = browser_start(config)
        try:
            for steps in all_steps:
                plain_selenium(browser.driver, url, steps)
        finally:
            browser.quit()
        return time.perf_counter() - started

    acquire_seconds: list[float] = []

    def run_engine(reuse: bool) -> float:
        started = time.perf_counter()
        browsers = WorkerBrowser(config, reuse=reuse)
        acquire = browsers.acquire

        def timed_acquire():
            began, starts = time.perf_counter(), browsers.starts
            try:
                return acquire()
            finally:
                if reuse and browsers.starts == starts:  # a reset, not a start
                    acquire_seconds.append(time.perf_counter() - began)

        browsers.acquire = timed_acquire
        suite_run = services.suite_run_start(suite=suite, trigger=Trigger.CLI, inline=True)
        try:
            for execution in suite_run.executions.order_by("queued_at"):
                status = worker.execution_run(execution_id=execution.id, browsers=browsers)
                assert status == RunStatus.PASSED, Execution.objects.get(pk=execution.id).error_message
        finally:
            browsers.close()
        return time.perf_counter() - started

    try:
        figures = common.interleaved({
            "selenium": run_selenium, "reuse": lambda: run_engine(True), "no_reuse": lambda: run_engine(False),
        })  # fmt: skip
        acquire_seconds.clear()
        commands = CommandLog()
        reuse_commands = commands.capture(lambda: run_engine(True))
        selenium_commands = commands.capture(run_selenium)
        workers = _two_workers(database_url, broker_url, suite)
    finally:
        stop_pages()

    med = {name: common.median(values) for name, values in figures.items()}
    ratio_reuse = med["reuse"] / med["selenium"]
    rows = [
        common.row(f"plain Selenium, one browser ({CASES} cases x 5 steps)", med["selenium"], "s"),
        common.row("JBTestSuite, browser reuse", med["reuse"], "s"),
        common.row("JBTestSuite, a browser per execution", med["no_reuse"], "s"),
        common.row("reuse / Selenium", round(ratio_reuse, 3), "x", f"≤ {REUSE_TARGET}", ratio_reuse <= REUSE_TARGET),
        common.row("no reuse / Selenium", round(med["no_reuse"] / med["selenium"], 3), "x"),
        common.row("reuse: browser reset per execution, median", round(common.median(acquire_seconds) * 1000, 1),
                   "ms"),
        common.row("2 worker processes on Redis", round(workers["per_minute"], 1), "executions/min"),
        common.row("1 process inline with reuse (for comparison)", round(CASES / med["reuse"] * 60, 1),
                   "executions/min"),
    ]  # fmt: skip
    common.results_write("throughput", rows, {
        "cases": CASES, "rounds_seconds": figures, "medians_s": med, "workers": workers,
        "reset_seconds": acquire_seconds, "commands_reuse": reuse_commands, "commands_selenium": selenium_commands,
    })  # fmt: skip


def _two_workers(database_url: str, broker_url: str, suite) -> dict:
    from executions import services
    from executions.models import Execution, RunStatus, Trigger

    data_dir = tempfile.mkdtemp(prefix="jbts-bench-throughput-")
    env = common.app_env(DATABASE_URL=database_url, REDIS_URL=broker_url, DATA_DIR=data_dir,
                         EXECUTION_TIME_LIMIT_SECONDS="300")  # fmt: skip
    workers = [runtime.worker_start(env, f"bench-tp{index}", f"worker-throughput-{index}.log") for index in (1, 2)]
    try:
        # Warm-up: both workers up, each with its browser started.
        warm = services.suite_run_start(suite=suite, trigger=Trigger.API)
        runtime.final_wait(warm.executions.values_list("id", flat=True), timeout=300)
        hosts = set(warm.executions.values_list("worker_host", flat=True))
        elapsed, count = [], 0
        for _ in range(WORKER_SUITES):
            started = time.perf_counter()
            suite_run = services.suite_run_start(suite=suite, trigger=Trigger.API)
            ids = list(suite_run.executions.values_list("id", flat=True))
            runtime.final_wait(ids, timeout=600)
            elapsed.append(time.perf_counter() - started)
            count += len(ids)
            passed = Execution.objects.filter(pk__in=ids, status=RunStatus.PASSED).count()
            assert passed == len(ids), f"{len(ids) - passed} executions did not pass"
        per_process = Execution.objects.filter(suite_run__suite=suite, trigger=Trigger.API).values_list(
            "worker_host", flat=True
        )
    finally:
        for worker in workers:
            runtime.worker_stop(worker)
    return {"suites": WORKER_SUITES, "executions": count, "seconds": elapsed, "per_minute": count / sum(elapsed) * 60,
            "warm_up_hosts": sorted(hosts), "executions_by_host": _tally(per_process)}  # fmt: skip


def _tally(values) -> dict:
    tally: dict = {}
    for value in values:
        tally[value] = tally.get(value, 0) + 1
    return tally


if __name__ == "__main__":
    os.environ.setdefault("SE_OFFLINE", "true")
    main()
