"""Suite runs over several worker processes: wall time against the ideal.

A suite of cases of mixed lengths (mostly `pause` steps, so the figure measures scheduling more
than a busy machine's CPU), in an unlucky suite order: the short cases first, the longest last.
For 2 and then 4 Celery worker processes on Redis, interleaved round by round:
  longest_first  suite_run_start as shipped: tasks sent longest case first, by recent durations;
  suite_order    the same with no durations known, so tasks go in the suite's order (what any
                 first-in-first-out queue does).
A round's wall time runs from the suite run's creation to its last execution's end; its ideal is
the larger of (sum of that run's execution durations / workers) and its longest execution.
"""

from __future__ import annotations

import tempfile

from bench import common, runtime

WORKER_COUNTS = (2, 4)
# Seconds of pause per case; the suite lists them shortest first.
PAUSES_S = common.quick([0.5, 0.5, 1, 1, 1.5, 2, 3, 4], [0.3, 0.3, 0.6, 1.2])
RATIO_TARGET = 1.15


def case_steps(pause_s: float) -> list[tuple[str, str, str]]:
    steps = [("open", "", "bench.html")]
    remaining_ms = int(pause_s * 1000)
    while remaining_ms > 0:  # a pause step waits at most 30 s
        steps.append(("pause", "", str(min(remaining_ms, 30_000))))
        remaining_ms -= 30_000
    return [*steps, ("assert_title", "", "Bench")]


def main() -> None:
    database_url = runtime.database_prepare()
    broker_url = f"{common.REDIS_BASE_URL}/{common.BROKER_REDIS_DB}"
    common.redis_flush(common.BROKER_REDIS_DB)
    common.django_setup(DATABASE_URL=database_url, REDIS_URL=broker_url)
    from django.db.models import Max

    from executions import selectors, services
    from executions.models import Execution, RunStatus, Trigger
    from tests_catalog.models import TestSuite

    url, stop_pages = common.pages_serve()
    project, _ = runtime.project_prepare(url, slug="bench-distribution")
    suite = TestSuite.objects.create(project=project, name="Mixed durations")
    for index, pause_s in enumerate(sorted(PAUSES_S)):
        case = runtime.case_create(project, f"Pause {pause_s:g} s #{index}", case_steps(pause_s))
        suite.entries.create(case=case, order_index=index)
    data_dir = tempfile.mkdtemp(prefix="jbts-bench-distribution-")
    env = common.app_env(DATABASE_URL=database_url, REDIS_URL=broker_url, DATA_DIR=data_dir,
                         EXECUTION_TIME_LIMIT_SECONDS="300")  # fmt: skip

    def suite_run(no_durations: bool) -> dict:
        if no_durations:
            selectors.case_durations_source_register(lambda case_ids, environment_id: {})
        try:
            run = services.suite_run_start(suite=suite, trigger=Trigger.API)
        finally:
            selectors.case_durations_source_register(None)
        ids = list(run.executions.values_list("id", flat=True))
        runtime.final_wait(ids, timeout=600)
        executions = Execution.objects.filter(pk__in=ids)
        assert executions.filter(status=RunStatus.PASSED).count() == len(ids), "an execution did not pass"
        durations = list(executions.values_list("duration_ms", flat=True))
        last_end = executions.aggregate(last=Max("finished_at"))["last"]
        spans = list(executions.values_list("started_at", "finished_at"))
        return {"wall_s": (last_end - run.created_at).total_seconds(), "work_s": sum(durations) / 1000,
                "longest_s": max(durations) / 1000, "most_at_once": _most_at_once(spans)}  # fmt: skip

    results = {}
    try:
        for workers in WORKER_COUNTS:
            common.redis_flush(common.BROKER_REDIS_DB)
            processes = [runtime.worker_start(env, f"bench-dist{workers}-{index}", f"worker-distribution-{index}.log")
                         for index in range(workers)]  # fmt: skip
            try:
                runs: dict[str, list[dict]] = {"longest_first": [], "suite_order": []}

                def measure(name: str, runs=runs, workers=workers) -> float:
                    outcome = suite_run(no_durations=name == "suite_order")
                    outcome["ideal_s"] = max(outcome["work_s"] / workers, outcome["longest_s"])
                    outcome["ratio"] = outcome["wall_s"] / outcome["ideal_s"]
                    runs[name].append(outcome)
                    return outcome["ratio"]

                # The warm-up round starts every worker's browser and gives each case its durations.
                common.interleaved({name: (lambda name=name: measure(name)) for name in runs})
                for name in runs:
                    del runs[name][0]  # the warm-up
                results[workers] = runs
            finally:
                for process in processes:
                    runtime.worker_stop(process)
    finally:
        stop_pages()

    rows = []
    for workers, runs in results.items():
        med = {name: {key: common.median([run[key] for run in values]) for key in ("wall_s", "ideal_s", "ratio")}
               for name, values in runs.items()}  # fmt: skip
        ours, fifo = med["longest_first"], med["suite_order"]
        at_once = max(run["most_at_once"] for run in runs["longest_first"])
        rows += [
            common.row(f"{workers} workers, {len(PAUSES_S)} cases ({sum(PAUSES_S):g} s of pauses): "
                       "longest first, wall / ideal", f"{ours['wall_s']:.2f} / {ours['ideal_s']:.2f}", "s"),
            common.row(f"{workers} workers: longest first, wall / ideal (at most {at_once} at once)",
                       round(ours["ratio"], 3), "x", f"≤ {RATIO_TARGET}", ours["ratio"] <= RATIO_TARGET),
            common.row(f"{workers} workers: suite order (no durations), wall / ideal",
                       f"{fifo['wall_s']:.2f} s / {fifo['ideal_s']:.2f} s = {fifo['ratio']:.3f}", "x"),
        ]  # fmt: skip
    common.results_write("distribution", rows, {"pauses_s": PAUSES_S, "runs": results})


def _most_at_once(spans) -> int:
    """The most executions running at the same moment (each worker process runs one at a time)."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, change in events:
        running += change
        most = max(most, running)
    return most


if __name__ == "__main__":
    main()
