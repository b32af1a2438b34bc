"""Whole runs side by side: what a user waits for and what the machine pays, from the command's
start to its exit, browser start-up and shutdown included.

Two scenarios, each run by three subjects interleaved round by round (medians, and the spread of
the per-round ratios):
  case    one case of 199 commands (open, then 66 x type, click, assert text);
  suite   a suite of 20 cases x 5 commands.
Subjects:
  selenium     a plain Python Selenium script, one browser (bench/plain_script.py);
  jbtestsuite  `manage.py run_tests --inline` (Django start-up, database, evidence, one reused browser);
  side_runner  selenium-side-runner (Selenium IDE's CLI, npm), the same commands as a .side project,
               a fresh browser per test (Selenium IDE's default; its persistSession, one browser
               for a suite, fails from the second test on in 4.0.13: the first test's clean-up
               ends the shared session, "invalid session id").
CPU time is that of every process each subject started, browser and driver included
(bench/process_cost.py). BENCH_BUSY_CORE=1 keeps one core busy with a spinning process throughout,
as on a CI runner doing something else.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile

from bench import common, runtime, side_runner
from bench.process_cost import process_cost
from bench.throughput import case_steps

CASE_ROUNDS = common.quick(66, 10)  # 1 + 3 x 66 = 199 commands
SUITE_CASES = common.quick(20, 5)
BUSY_CORE = os.environ.get("BENCH_BUSY_CORE", "") not in ("", "0", "false")
CASE_WALL_TARGET, CASE_CPU_TARGET, SUITE_WALL_TARGET = 1.10, 1.15, 1.25


def _spin() -> None:
    while True:
        pass


def main() -> None:
    database_url = runtime.database_prepare()
    common.django_setup(DATABASE_URL=database_url)
    from tests_catalog.models import TestSuite

    url, stop_pages = common.pages_serve()
    project, _ = runtime.project_prepare(url, slug="bench-peer")
    work = tempfile.mkdtemp(prefix="jbts-bench-peer-")
    data_dir = os.path.join(work, "data")
    app_env = common.app_env(DATABASE_URL=database_url, DATA_DIR=data_dir)

    case_spec = runtime.greeting_steps(CASE_ROUNDS)
    case = runtime.case_create(project, "Peer case", case_spec)
    suite = TestSuite.objects.create(project=project, name="Peer suite")
    suite_specs = [case_steps(index) for index in range(SUITE_CASES)]
    for index, steps in enumerate(suite_specs):
        suite.entries.create(case=runtime.case_create(project, f"Peer case {index}", steps), order_index=index)

    def plain(name: str, cases) -> list[str]:
        path = os.path.join(work, f"{name}.json")
        with open(path, "w") as spec_file:
            json.dump({"base_url": url, "cases": cases}, spec_file)
        return [sys.executable, "-m", "bench.plain_script", path]

    def side(name: str, cases: dict):
        project_side = side_runner.side_project(name, url, {title: side_runner.side_commands(steps)
                                                            for title, steps in cases.items()})  # fmt: skip
        return side_runner.side_project_write(project_side, work)

    manage = [sys.executable, str(common.BASE_DIR / "manage.py"), "run_tests", "--inline", "--project", project.slug]
    suite_cases = {f"Peer case {index}": steps for index, steps in enumerate(suite_specs)}
    scenarios = {
        "case": {
            "selenium": plain("case", [case_spec]),
            "jbtestsuite": [*manage, "--case", str(case.pk)],
            "side_runner": side("Peer case", {"Peer case": case_spec}),
        },
        "suite": {
            "selenium": plain("suite", suite_specs),
            "jbtestsuite": [*manage, "--suite", suite.name],
            "side_runner": side("Peer suite", suite_cases),
        },
    }
    side_runner.runner_path()  # install before anything is timed

    def subject(command):
        def run():
            if isinstance(command, list):
                cost = process_cost(command, env=app_env if "manage.py" in command[1] else common.app_env(),
                                    cwd=common.BASE_DIR)  # fmt: skip
                if cost.returncode:
                    raise RuntimeError(f"{command[1:4]} exited {cost.returncode}:\n{cost.stdout[-2000:]}\n"
                                       f"{cost.stderr[-2000:]}")  # fmt: skip
                return cost
            run_side = side_runner.side_run(command)
            if not run_side.passed:
                raise RuntimeError(f"selenium-side-runner did not pass {command.name}: {run_side.failure_messages}\n"
                                   f"{run_side.cost.stdout[-2000:]}")  # fmt: skip
            return run_side.cost

        return run

    spinner = None
    if BUSY_CORE:
        spinner = multiprocessing.Process(target=_spin, daemon=True)
        spinner.start()
    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    try:
        for scenario, subjects in scenarios.items():
            figures = common.interleaved({name: subject(command) for name, command in subjects.items()})
            results[scenario] = {
                name: {"wall_s": [cost.wall_s for cost in costs], "cpu_s": [cost.cpu_s for cost in costs],
                       "lingering": [cost.lingering for cost in costs]}
                for name, costs in figures.items()
            }  # fmt: skip
            results[scenario]["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    finally:
        if spinner is not None:
            spinner.terminate()
        stop_pages()
    load_after = os.getloadavg()

    rows = []
    for scenario, label in (("case", f"one case, {len(case_spec)} commands"),
                            ("suite", f"suite, {SUITE_CASES} cases x 5 commands")):  # fmt: skip
        figures = results[scenario]
        med = {name: {kind: common.median(values[kind]) for kind in ("wall_s", "cpu_s")}
               for name, values in figures.items() if isinstance(values, dict)}  # fmt: skip
        figures["medians"] = med
        ratios = {}
        for name in med:
            if name == "selenium":
                continue
            per_round = [
                ours / base for ours, base in zip(figures[name]["wall_s"], figures["selenium"]["wall_s"], strict=True)
            ]
            ratios[name] = {"wall": med[name]["wall_s"] / med["selenium"]["wall_s"],
                            "cpu": med[name]["cpu_s"] / med["selenium"]["cpu_s"],
                            "wall_rounds": [round(value, 3) for value in per_round]}  # fmt: skip
        figures["ratios"] = ratios
        wall_target = CASE_WALL_TARGET if scenario == "case" else SUITE_WALL_TARGET
        ours, peer = ratios["jbtestsuite"], ratios["side_runner"]
        rows += [
            common.row(f"{label}: wall, Selenium / JBTestSuite / side-runner",
                       " / ".join(f"{med[name]['wall_s']:.2f}" for name in ("selenium", "jbtestsuite", "side_runner")),
                       "s"),
            common.row(f"{label}: CPU, Selenium / JBTestSuite / side-runner",
                       " / ".join(f"{med[name]['cpu_s']:.2f}" for name in ("selenium", "jbtestsuite", "side_runner")),
                       "s"),
            common.row(f"{label}: JBTestSuite / Selenium, wall (rounds {min(ours['wall_rounds']):.2f}-"
                       f"{max(ours['wall_rounds']):.2f})", round(ours["wall"], 3), "x", f"≤ {wall_target}",
                       ours["wall"] <= wall_target),
            common.row(f"{label}: JBTestSuite / Selenium, CPU", round(ours["cpu"], 3), "x",
                       f"≤ {CASE_CPU_TARGET}" if scenario == "case" else "",
                       ours["cpu"] <= CASE_CPU_TARGET if scenario == "case" else None),
            common.row(f"{label}: side-runner / Selenium, wall; CPU", f"{peer['wall']:.3f}; {peer['cpu']:.3f}", "x"),
            common.row(f"{label}: JBTestSuite / side-runner, wall",
                       round(med["jbtestsuite"]["wall_s"] / med["side_runner"]["wall_s"], 3), "x", "< 1",
                       med["jbtestsuite"]["wall_s"] < med["side_runner"]["wall_s"]),
        ]  # fmt: skip
    rows.append(common.row("load average (1 min) before / after", f"{load_before[0]:.1f} / {load_after[0]:.1f}"))
    common.results_write("peer", rows, {
        "side_runner_version": side_runner.SIDE_RUNNER_VERSION, "busy_core": BUSY_CORE,
        "load_average_before": load_before, "load_average_after": load_after, "scenarios": results,
    })  # fmt: skip


if __name__ == "__main__":
    main()
