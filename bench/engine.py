"""Engine overhead: one ~200-step case run by the engine (in-process, as `run_tests --inline`
does) against a plain Selenium script sending the same WebDriver commands in its own browser.

Subjects, interleaved round by round:
  selenium   the plain script;
  steps_run  the runner alone (steps_run on a reused, reset browser; no database);
  engine     worker.execution_run: claim, browser reset, steps, a heartbeat and a StepResult row
             per step, finish — everything `run_tests --inline` does per execution.
A counting pass then records which WebDriver commands each side sends and what each costs,
and which SQL statements the engine adds per step.
"""

from __future__ import annotations

import collections
import re
import time

from bench import common, runtime

ROUNDS = common.quick(66, 10)  # 1 + 3 x 66 + 1 = 200 steps
RATIO_TARGET = 1.10


class SqlLog:
    """Counts and times the SQL statements run through Django, by their first words."""

    def __init__(self):
        self.counts: collections.Counter = collections.Counter()
        self.seconds: collections.Counter = collections.Counter()

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)', sql)
            key = f"{sql.split()[0]} {table.group(1) if table else ''}".strip()
            self.counts[key] += 1
            self.seconds[key] += time.perf_counter() - started

    def capture(self, run):
        from django.db import connection

        self.counts.clear()
        self.seconds.clear()
        with connection.execute_wrapper(self):
            run()
        return {name: {"count": count, "ms_each": round(self.seconds[name] / count * 1000, 3)}
                for name, count in self.counts.most_common()}  # fmt: skip


class CommandLog:
    """Counts and times every WebDriver command sent through selenium's RemoteConnection."""

    def __init__(self):
        from selenium.webdriver.remote.remote_connection import RemoteConnection

        self.counts: collections.Counter = collections.Counter()
        self.seconds: collections.Counter = collections.Counter()
        self.active = False
        original = RemoteConnection.execute
        log = self

        def execute(connection, command, params):
            if not log.active:
                return original(connection, command, params)
            started = time.perf_counter()
            try:
                return original(connection, command, params)
            finally:
                log.counts[command] += 1
                log.seconds[command] += time.perf_counter() - started

        RemoteConnection.execute = execute

    def capture(self, run):
        self.counts.clear()
        self.seconds.clear()
        self.active = True
        try:
            run()
        finally:
            self.active = False
        return {name: {"count": count, "ms_each": round(self.seconds[name] / count * 1000, 3)}
                for name, count in self.counts.most_common()}  # fmt: skip


def plain_selenium(driver, url: str, steps) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for action, selector, value in steps:
        if action == "open":
            driver.get(url + value)
        elif action == "type":
            driver.find_element(By.CSS_SELECTOR, selector).send_keys(Keys.CONTROL, "a", Keys.NULL, value)
        elif action == "click":
            driver.find_element(By.CSS_SELECTOR, selector).click()
        elif action == "assert_text":
            text = driver.find_element(By.CSS_SELECTOR, selector).text
            assert text == value, (text, value)
        elif action == "assert_title":
            assert driver.title == value
        else:
            raise ValueError(action)


def main() -> None:
    database_url = runtime.database_prepare()
    common.django_setup(DATABASE_URL=database_url)
    from executions import services, worker
    from executions.models import Execution, RunStatus, Trigger
    from executions.runner.browser import WorkerBrowser, browser_start
    from executions.runner.steps import steps_run

    url, stop_pages = common.pages_serve()
    project, _ = runtime.project_prepare(url)
    steps = [*runtime.greeting_steps(ROUNDS), ("assert_title", "", "Bench")]
    case = runtime.case_create(project, "Engine overhead", steps)
    spec = [step.as_spec() for step in case.steps.order_by("order_index")]
    config = worker.browser_config()
    plain_browser = browser_start(config)
    browsers = WorkerBrowser(config, reuse=True)
    commands = CommandLog()

    def run_selenium() -> float:
        started = time.perf_counter()
        plain_selenium(plain_browser.driver, url, steps)
        return time.perf_counter() - started

    def run_steps() -> float:
        browser = browsers.acquire()
        try:
            started = time.perf_counter()
            result = steps_run(browser, spec, base_url=url)
            elapsed = time.perf_counter() - started
        finally:
            browsers.release(browser)
        assert result.status == "passed", result.error_message
        return elapsed

    def run_engine() -> float:
        execution = services.execution_create(case=case, trigger=Trigger.CLI, inline=True)
        started = time.perf_counter()
        status = worker.execution_run(execution_id=execution.id, browsers=browsers)
        elapsed = time.perf_counter() - started
        assert status == RunStatus.PASSED, Execution.objects.get(pk=execution.id).error_message
        return elapsed

    subjects = {
        "selenium": run_selenium,
        "steps_run": run_steps,
        "engine": run_engine,
    }
    try:
        figures = common.interleaved(subjects)
        breakdown = {name: commands.capture(subjects[name]) for name in ("selenium", "steps_run", "engine")}
        sql = {"engine": SqlLog().capture(subjects["engine"])}
    finally:
        plain_browser.quit()
        browsers.close()
        stop_pages()

    n = len(steps)
    med = {name: common.median(values) for name, values in figures.items()}
    ratio_engine = med["engine"] / med["selenium"]
    ratio_steps = med["steps_run"] / med["selenium"]
    per_step_extra = {
        name: {"per_step": round(info["count"] / n, 3), "ms_each": info["ms_each"]}
        for name, info in breakdown["steps_run"].items()
        if info["count"] > breakdown["selenium"].get(name, {"count": 0})["count"]
    }
    rows = [
        common.row(f"plain Selenium, {n} steps", med["selenium"], "s"),
        common.row("runner alone (steps_run)", med["steps_run"], "s"),
        common.row("engine (execution_run, with DB)", med["engine"], "s"),
        common.row("ms per step: Selenium / runner / engine",
                   " / ".join(f"{med[k] / n * 1000:.1f}" for k in ("selenium", "steps_run", "engine")), "ms"),
        common.row("ratio runner / Selenium", round(ratio_steps, 3), "x", f"≤ {RATIO_TARGET}",
                   ratio_steps <= RATIO_TARGET),
        common.row("ratio engine / Selenium", round(ratio_engine, 3), "x", f"≤ {RATIO_TARGET}",
                   ratio_engine <= RATIO_TARGET),
        common.row("WebDriver commands: Selenium / runner / engine",
                   " / ".join(str(sum(i["count"] for i in breakdown[k].values()))
                              for k in ("selenium", "steps_run", "engine"))),
    ]  # fmt: skip
    common.results_write("engine", rows, {
        "steps": n, "rounds_seconds": figures, "medians_s": med, "commands": breakdown,
        "runner_extra_commands_per_step": per_step_extra, "engine_sql": sql,
    })  # fmt: skip


if __name__ == "__main__":
    main()
