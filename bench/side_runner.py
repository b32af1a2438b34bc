"""Selenium IDE's command-line runner (`selenium-side-runner`, npm, pinned in bench/side-runner/)
as a benchmark subject: write a .side project, run it the way a user would, and read back what it
cost (wall and CPU time of every process, browser included) and each test's verdict.

It drives the same headless system Chromium as we do, through the system chromedriver:
scripts/ensure-side-runner.sh installs the runner from the lock file and checks that Selenium
Manager, offline, resolves /usr/bin/chromedriver; SE_OFFLINE=true keeps anything from being
downloaded at run time.

    project = side_project("Greeting", base_url, {"greet": side_commands(steps)})
    path = side_project_write(project, directory)
    run = side_run(path)            # run.cost.wall_s, run.cost.cpu_s, run.verdicts, run.passed
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench import common
from bench.process_cost import ProcessCost, process_cost

INSTALL_SCRIPT = common.BASE_DIR / "scripts" / "ensure-side-runner.sh"
SIDE_RUNNER_VERSION = json.loads((common.BASE_DIR / "bench" / "side-runner" / "package.json").read_text())[
    "dependencies"
]["selenium-side-runner"]

# Our step actions → Selenium IDE commands, for the scenarios both sides run.
SIDE_COMMANDS = {
    "open": "open",
    "type": "type",
    "click": "click",
    "assert_text": "assertText",
    "assert_title": "assertTitle",
}


@functools.cache
def runner_path() -> str:
    """The runner's bin.js, installed first when missing (the install takes ~40 s once)."""
    result = subprocess.run(["bash", str(INSTALL_SCRIPT)], cwd=common.BASE_DIR, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{INSTALL_SCRIPT.name} failed:\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def side_commands(steps) -> list[dict]:
    """(action, selector, value) triples of our steps as Selenium IDE commands; `open` values are
    relative to the project's base URL, selectors are CSS."""
    commands = []
    for action, selector, value in steps:
        command = SIDE_COMMANDS[action]
        if command == "open":
            target, value = "/" + value.lstrip("/"), ""
        elif command == "assertTitle":
            target, value = value, ""
        else:
            target = f"css={selector}"
        commands.append({"id": str(uuid.uuid4()), "comment": "", "command": command, "target": target,
                         "targets": [], "value": value})  # fmt: skip
    return commands


def side_project(name: str, base_url: str, tests: dict[str, list[dict]], *, persist_session: bool = False) -> dict:
    """A Selenium IDE 2.0 project with one suite running the tests in order. persist_session=False
    (Selenium IDE's default) gives every test a fresh browser; True would share one across the
    suite, but in selenium-side-runner 4.0.13 the first test's clean-up ends the shared session
    and every later test fails with "invalid session id"."""
    test_ids = {test_name: str(uuid.uuid4()) for test_name in tests}
    return {
        "id": str(uuid.uuid4()),
        "version": "2.0",
        "name": name,
        "url": base_url.rstrip("/"),
        "tests": [{"id": test_ids[test_name], "name": test_name, "commands": commands}
                  for test_name, commands in tests.items()],
        "suites": [{"id": str(uuid.uuid4()), "name": name, "persistSession": persist_session, "parallel": False,
                    "timeout": 300, "tests": list(test_ids.values())}],
        "urls": [base_url.rstrip("/")],
        "plugins": [],
    }  # fmt: skip


def side_project_write(project: dict, directory: str | os.PathLike) -> Path:
    path = Path(directory) / f"{project['name'].replace(' ', '_')}.side"
    path.write_text(json.dumps(project, indent=1))
    return path


def chromium_capabilities() -> dict:
    """The browser our runner starts (same binary, flags and window), as WebDriver capabilities."""
    from executions.runner.browser import CHROMIUM_ARGUMENTS, BrowserConfig

    config = BrowserConfig()
    arguments = ["--headless=new", *CHROMIUM_ARGUMENTS, f"--window-size={config.window_width},{config.window_height}"]
    return {"browserName": "chrome", "goog:chromeOptions": {"binary": config.chromium_binary, "args": arguments}}


@dataclass(frozen=True)
class SideRun:
    cost: ProcessCost
    # test name → "passed" / "failed" (as the runner's JSON report says)
    verdicts: dict[str, str] = field(default_factory=dict)
    failure_messages: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.cost.returncode == 0 and bool(self.verdicts) and set(self.verdicts.values()) == {"passed"}


def side_run(side_path: str | os.PathLike, *, base_url: str = "", workers: int = 1, element_timeout_ms: int = 15000,
             timeout: float = 900) -> SideRun:  # fmt: skip
    """Run one .side project through selenium-side-runner as a user would, and measure it.

    The runner runs under jest, which it tells to --forceExit: selenium-side-runner 4.0.13 leaves a
    30-second timer behind (side-runtime's driver start-up guard), so without it every run would
    end 30 s late, which no user would put up with.
    """
    side_path = Path(side_path)
    with tempfile.TemporaryDirectory(prefix="jbts-side-") as work:
        config = Path(work) / "side.yml"
        # JSON is YAML; a file keeps Chromium's comma-separated flags intact, which -c would split.
        config.write_text(json.dumps({"capabilities": chromium_capabilities()}))
        argv = ["node", runner_path(), "--config-file", str(config), "--max-workers", str(workers),
                "--timeout", str(element_timeout_ms), "--output-directory", str(Path(work) / "out"),
                "--jest-options", "'--forceExit'"]  # fmt: skip
        if base_url:
            argv += ["--base-url", base_url]
        argv.append(str(side_path))
        env = {
            "PATH": "/usr/bin:/bin:" + os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/root"),
            "SE_OFFLINE": "true",
            "SE_CACHE_PATH": str(Path(work) / "selenium-cache"),
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
        }
        cost = process_cost(argv, env=env, cwd=work, timeout=timeout)
        verdicts, messages = _verdicts(Path(work) / "out")
    return SideRun(cost=cost, verdicts=verdicts, failure_messages=messages)


def _verdicts(output_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    verdicts, messages = {}, {}
    for report in sorted(output_dir.glob("results-*.json")):
        text = report.read_text()
        if not text.strip():
            continue
        for suite in json.loads(text).get("testResults", []):
            for assertion in suite.get("assertionResults", []):
                name = assertion["title"].removeprefix("Running test ")
                verdicts[name] = assertion["status"]
                if assertion.get("failureMessages"):
                    messages[name] = assertion["failureMessages"][0].splitlines()[0]
    return verdicts, messages
