"""Soak: executions in a row on one worker process (Redis database 6), some with Chromium killed
mid-run. Worker memory and the browser processes below the worker are read at the start (after
a warm-up execution) and at the end; nothing may be left queued or running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time

from bench import common, runtime

EXECUTIONS = common.quick(200, 20)
KILLS = common.quick(10, 2)
BROKER_DB = common.SOAK_REDIS_DB


def _worker_state(worker_pid: int) -> dict:
    """The worker's session (it leads its own), so orphaned browser processes count too."""
    session = [pid for pid in common.session_processes(worker_pid) if pid != worker_pid]
    names = {pid: common.process_name(pid) for pid in session}
    drivers = [pid for pid, name in names.items() if name.startswith("chromedriver")]
    chromium = [pid for pid, name in names.items() if name.startswith("chrom") and pid not in drivers]
    pool = [pid for pid in session if pid not in drivers and pid not in chromium]
    described = [_described(pid) for pid in session]
    return {
        "processes": described,
        "worker_rss_mb": round(common.rss_mb(worker_pid), 1),
        "pool_rss_mb": round(sum(common.rss_mb(pid) for pid in pool), 1),
        "browser_pss_mb": round(sum(common.pss_mb(pid) for pid in drivers + chromium), 1),
        "chromedriver": len(drivers),
        "chromium": len(chromium),
        # A browser is a Chromium started by a chromedriver; its helpers hang below it.
        "browsers": sum(1 for pid in chromium if _parent(pid) in drivers),
        "orphans": sum(1 for pid in chromium if _parent(pid) not in drivers and _parent(pid) not in chromium),
        "zombies": sum(1 for line in described if "state=Z" in line),
    }


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def _described(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            kind = next((part for part in cmdline.read().split(b" ") if part.startswith(b"--type=")), b"")
    except OSError:
        return f"{pid} gone"
    return f"{pid} {common.process_name(pid)} state={fields[0]} parent={fields[1]} {kind.decode()}".strip()


def _chromium_kill(worker_pid: int) -> int:
    killed = 0
    for pid in common.descendants(worker_pid):
        name = common.process_name(pid)
        if name.startswith("chrom") and not name.startswith("chromedriver"):
            with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed


def main() -> None:
    database_url, broker_url = runtime.django_on_redis(BROKER_DB)
    from executions import services
    from executions.models import ACTIVE_STATUSES, Execution, StepResult, Trigger

    url, stop_pages = common.pages_serve()
    project, _ = runtime.project_prepare(url, slug="bench-soak")
    normal = runtime.case_create(project, "Greeting", runtime.greeting_steps(1))
    victim_steps = [("open", "", "bench.html"), ("pause", "", "3000"), ("assert_title", "", "Bench")]
    victim = runtime.case_create(project, "Killed mid-run", victim_steps)
    env = common.app_env(DATABASE_URL=database_url, REDIS_URL=broker_url,
                         DATA_DIR=tempfile.mkdtemp(prefix="jbts-bench-soak-"))  # fmt: skip
    worker = runtime.worker_start(env, "bench-soak", "worker-soak.log")
    kill_at = {round((index + 0.5) * EXECUTIONS / KILLS) for index in range(KILLS)}
    statuses: dict[str, int] = {}
    kills = []
    started = time.monotonic()
    try:
        warm = services.execution_create(case=normal, trigger=Trigger.API)
        runtime.final_wait([warm.id], timeout=120)
        time.sleep(1)  # let the browser's helper processes settle before counting them
        at_start = _worker_state(worker.pid)
        for index in range(EXECUTIONS):
            case = victim if index in kill_at else normal
            execution = services.execution_create(case=case, trigger=Trigger.API)
            if case is victim:
                common.wait_for(lambda e=execution: StepResult.objects.filter(execution=e, order_index=0).exists(),
                                timeout=120, message="the victim's first step")  # fmt: skip
                kills.append(_chromium_kill(worker.pid))
            runtime.final_wait([execution.id], timeout=180)
            status = Execution.objects.get(pk=execution.id).status
            statuses[status] = statuses.get(status, 0) + 1
        elapsed = time.monotonic() - started
        time.sleep(2)
        at_end = _worker_state(worker.pid)
        left_active = Execution.objects.filter(project=project, status__in=ACTIVE_STATUSES).count()
    finally:
        runtime.worker_stop(worker)
        stop_pages()

    expected = {"passed": EXECUTIONS - KILLS, "error": KILLS}
    rows = [
        common.row(f"{EXECUTIONS} executions, {KILLS} with Chromium killed", round(elapsed, 1), "s"),
        common.row(
            "outcomes",
            ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())),
            "",
            f"{expected['passed']} passed, {KILLS} error",
            statuses == expected,
        ),
        common.row(
            "worker + pool RSS, start → end",
            f"{at_start['worker_rss_mb'] + at_start['pool_rss_mb']:.0f} → "
            f"{at_end['worker_rss_mb'] + at_end['pool_rss_mb']:.0f}",
            "MB",
        ),
        common.row(
            "browser memory (PSS of chromedriver + Chromium), start → end",
            f"{at_start['browser_pss_mb']:.0f} → {at_end['browser_pss_mb']:.0f}",
            "MB",
        ),
        common.row(
            "chromedriver processes, start → end",
            f"{at_start['chromedriver']} → {at_end['chromedriver']}",
            "",
            "≤ 1",
            at_end["chromedriver"] <= 1,
        ),
        common.row(
            "browsers (Chromium under a chromedriver), start → end",
            f"{at_start['browsers']} → {at_end['browsers']}",
            "",
            "≤ 1",
            at_end["browsers"] <= 1,
        ),
        common.row(
            "orphaned / zombie Chromium processes at the end",
            f"{at_end['orphans']} / {at_end['zombies']}",
            "",
            "0 / 0",
            at_end["orphans"] == at_end["zombies"] == 0,
        ),
        common.row(
            "all Chromium processes (helpers and renderers), start → end",
            f"{at_start['chromium']} → {at_end['chromium']}",
        ),
        common.row("executions left queued or running", left_active, "", "0", left_active == 0),
    ]
    common.results_write("soak", rows, {"start": at_start, "end": at_end, "statuses": statuses,
                                        "chromium_processes_killed": kills, "kill_at": sorted(kill_at)})  # fmt: skip


if __name__ == "__main__":
    main()
