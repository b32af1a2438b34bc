"""Timings the tests leave alone (a loaded machine would make them flake): how long a missing
element is waited for against its timeout, and how long replacing a wedged browser takes against
starting a fresh one. Each pair is measured interleaved, so noise hits both sides alike.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

from bench import common

STEP_TIMEOUT_MS = 400
WAIT_OVERSHOOT_TARGET = 1.5  # the wait ends within half a timeout more than asked
REPLACE_TARGET = 2.0  # noticing the wedge and giving up on it costs at most one more start


def main() -> None:
    common.django_setup()
    from executions.runner.browser import BrowserConfig, WorkerBrowser, child_process_ids, process_tree_kill
    from executions.runner.steps import steps_run

    url, stop_pages = common.pages_serve()
    config = BrowserConfig(liveness_timeout_s=1.0)
    keeper = WorkerBrowser(config, reuse=True)
    missing = [{"order_index": 1, "action": "open", "value": "bench.html"},
               {"order_index": 2, "action": "click", "selector": "#nowhere"}]  # fmt: skip

    def wait_for_missing() -> float:
        browser = keeper.acquire()
        result = steps_run(browser, missing, base_url=url, default_step_timeout_ms=STEP_TIMEOUT_MS)
        keeper.release(browser)
        return result.step_outcomes[1].duration_ms / 1000

    def fresh_start() -> float:
        started = time.perf_counter()
        WorkerBrowser(config, reuse=False).acquire().quit()
        return time.perf_counter() - started

    def wedged_replace() -> float:
        wedged = keeper.acquire()
        frozen = [wedged.driver_process_id]
        for pid in frozen:
            frozen += child_process_ids(pid)
        for pid in frozen[1:]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        started = time.perf_counter()
        keeper.acquire()
        elapsed = time.perf_counter() - started
        for pid in frozen[1:]:
            process_tree_kill(pid)
        return elapsed

    try:
        waits = common.interleaved({"wait": wait_for_missing})
        starts = common.interleaved({"fresh start": fresh_start, "wedged replaced": wedged_replace})
    finally:
        keeper.close()
        stop_pages()
    overshoot = common.median(waits["wait"]) / (STEP_TIMEOUT_MS / 1000)
    replace = common.median(starts["wedged replaced"]) / common.median(starts["fresh start"])
    rows = [
        common.row(f"missing element, {STEP_TIMEOUT_MS} ms timeout: waited / timeout", round(overshoot, 3), "x",
                   f"≤ {WAIT_OVERSHOOT_TARGET}", overshoot <= WAIT_OVERSHOOT_TARGET),
        common.row("wedged browser replaced / fresh start", round(replace, 3), "x", f"≤ {REPLACE_TARGET}",
                   replace <= REPLACE_TARGET),
    ]  # fmt: skip
    common.results_write("timings", rows, {"waits_s": waits, "starts_s": starts})


if __name__ == "__main__":
    main()
