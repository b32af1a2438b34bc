"""Dispatch latency: POST /api/v1/executions/ until the execution is `running` and until its first
step has started, with a warm worker — on Redis and on the embedded filesystem broker (SQLite).

Each broker gets its own interpreter (Django reads the broker from the environment once), with
its own worker; the parent asks them for samples in turn (A B A B …) so machine noise hits both.
Times come from the database: `started_at` (the worker's claim) and the first StepResult's
`created_at - duration_ms`, against the wall clock just before the POST (one machine, one clock).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from bench import common, runtime

SAMPLES = common.quick(50, 10)
BATCH = common.quick(10, 5)
BROKER_DB = common.BROKER_REDIS_DB
MEDIAN_TARGET_S = 0.25


def child(broker: str) -> None:
    """Serve `run N` requests on stdin with one JSON line of samples each on stdout."""
    data_dir = tempfile.mkdtemp(prefix=f"jbts-bench-dispatch-{broker}-")
    if broker == "redis":
        env = {"DATABASE_URL": runtime.database_prepare(), "REDIS_URL": f"{common.REDIS_BASE_URL}/{BROKER_DB}"}
        common.redis_flush(BROKER_DB)
    else:  # the embedded default: SQLite and Celery's filesystem broker under DATA_DIR
        env = {}
        common.manage("migrate", "--noinput", env=common.app_env(DATA_DIR=data_dir))
    env["DATA_DIR"] = data_dir
    common.django_setup(**env)
    from rest_framework.test import APIClient

    from executions.models import FINAL_STATUSES, Execution, StepResult

    url, stop_pages = common.pages_serve()
    project, user = runtime.project_prepare(url, slug=f"bench-dispatch-{broker}")
    case = runtime.case_create(project, "Dispatch", [("open", "", "bench.html"), ("assert_title", "", "Bench")])
    client = APIClient()
    client.force_authenticate(user)
    worker = runtime.worker_start(common.app_env(**env), f"bench-dispatch-{broker}", f"worker-dispatch-{broker}.log")

    def one() -> dict:
        posted = time.time()
        response = client.post("/api/v1/executions/", {"test_case": str(case.id)}, format="json")
        answered = time.time()
        assert response.status_code == 202, response.content
        execution_id = response.json()["id"]
        common.wait_for(lambda: Execution.objects.filter(pk=execution_id, status__in=FINAL_STATUSES).exists(),
                        timeout=120, interval=0.02, message="the execution")  # fmt: skip
        execution = Execution.objects.get(pk=execution_id)
        assert execution.status == "passed", execution.error_message
        first = StepResult.objects.get(execution_id=execution_id, order_index=0)
        first_step_started = first.created_at.timestamp() - first.duration_ms / 1000
        return {"post_s": answered - posted, "running_s": execution.started_at.timestamp() - posted,
                "first_step_s": first_step_started - posted}  # fmt: skip

    try:
        for _ in range(2):  # warm: worker up, its browser started
            one()
        print("@@ready", flush=True)
        for line in sys.stdin:
            if not line.startswith("run"):
                break
            samples = [one() for _ in range(int(line.split()[1]))]
            print("@@" + json.dumps(samples), flush=True)
    finally:
        runtime.worker_stop(worker)
        stop_pages()


def _read(process) -> str:
    for line in process.stdout:
        if line.startswith("@@"):
            return line[2:].strip()
    raise RuntimeError("a dispatch child exited early; see bench/results/worker-dispatch-*.log")


def main() -> None:
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    children = {
        broker: subprocess.Popen(
            [sys.executable, "-m", "bench.dispatch", "--child", broker],
            cwd=common.BASE_DIR,
            env=os.environ.copy(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for broker in ("redis", "embedded")
    }
    samples: dict[str, list[dict]] = {broker: [] for broker in children}
    try:
        for process in children.values():
            assert _read(process) == "ready"
        for round_index in range(SAMPLES // BATCH):
            order = list(children.items()) if round_index % 2 == 0 else list(reversed(children.items()))
            for broker, process in order:
                process.stdin.write(f"run {BATCH}\n")
                process.stdin.flush()
                samples[broker] += json.loads(_read(process))
    finally:
        for process in children.values():
            if process.poll() is None:
                process.stdin.write("stop\n")
                process.stdin.flush()
        for process in children.values():
            process.wait(timeout=60)

    rows, details = [], {"samples": samples}
    for broker, label in (("redis", "Redis"), ("embedded", "embedded (filesystem broker, SQLite)")):
        values = samples[broker]
        running = [sample["running_s"] for sample in values]
        first = [sample["first_step_s"] for sample in values]
        med_running = common.median(running)
        details[broker] = {
            "n": len(values), "post_median_s": common.median([sample["post_s"] for sample in values]),
            "running_median_s": med_running, "running_p95_s": common.percentile(running, 0.95),
            "first_step_median_s": common.median(first), "first_step_p95_s": common.percentile(first, 0.95),
        }  # fmt: skip
        rows.append(common.row(f"{label}: POST → running, median / p95",
                               f"{med_running:.3f} / {common.percentile(running, 0.95):.3f}", "s",
                               f"median < {MEDIAN_TARGET_S} s", med_running < MEDIAN_TARGET_S))  # fmt: skip
        rows.append(common.row(f"{label}: POST → first step started, median / p95",
                               f"{common.median(first):.3f} / {common.percentile(first, 0.95):.3f}", "s"))  # fmt: skip
    common.results_write("dispatch", rows, details)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
