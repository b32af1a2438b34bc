"""An imported Selenium IDE project run by our engine and by Selenium IDE's own runner, side by side.

One .side project (control flow, dialogs, frames, a fallback target, stores, a test that fails
on purpose and one that fails a soft verify) is imported with `import_side`, then run round by
round, interleaved: `manage.py run_tests --suite … --inline` (our engine, whole process) against
`selenium-side-runner` (npm, headless system Chromium through the system chromedriver, nothing
downloaded; bench/side_runner.py). Reports the wall-time ratio and every test whose verdict
differs between the two.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid

from bench import common, runtime, side_runner
from bench.process_cost import process_cost

# Differences we expect and why; any other one is a bug in our mapping or engine.
EXPLAINED = {
    "Frame and fallback": "selenium-side-runner 4.0.13's click waits for the main locator only (its targets are "
    "used by other commands), so it times out on id=old-go; ours heals to the css=#go target",
}
ELEMENT_TIMEOUT_MS = 2000  # both runners: the fallback waits this long for the main locator first


def _command(name: str, target: str = "", value: str = "", targets=None) -> dict:
    return {"id": str(uuid.uuid4()), "comment": "", "command": name, "target": target,
            "targets": targets or [], "value": value}  # fmt: skip


TESTS = {
    "Counter loops": [
        ("open", "/side.html"), ("executeScript", "return 0", "n"), ("while", "${n} < 5"), ("click", "id=inc"),
        ("executeScript", "return ${n} + 1", "n"), ("end",), ("assertText", "id=count", "5"), ("times", "3"),
        ("click", "id=inc"), ("end",), ("assertText", "id=count", "8"),
        ("storeJson", '["S", "M", "L"]', "sizes"), ("forEach", "sizes", "size"), ("if", "${size} === 'M'"),
        ("select", "id=size", "label=${size}"), ("end",), ("end",), ("assertSelectedValue", "id=size", "m"),
    ],
    "Form": [
        ("open", "/side.html"), ("type", "id=name", "Ann"), ("check", "id=agree"), ("assertChecked", "id=agree"),
        ("storeValue", "id=name", "typed"), ("assert", "typed", "Ann"), ("assertNotEditable", "id=locked"),
        ("storeTitle", "title"), ("assert", "title", "Side playground"),
    ],
    "Dialogs": [
        ("open", "/side.html"), ("click", "id=confirm"), ("assertConfirmation", "Sure?"), ("acceptConfirmation",),
        ("assertText", "id=confirmResult", "yes"), ("click", "id=prompt"), ("answerPrompt", "Ann"),
        ("assertText", "id=promptResult", "Ann"),
    ],
    "Frame and fallback": [
        ("open", "/side.html"), ("selectFrame", "id=frame"), ("assertText", "id=inner", "Inside"),
        ("selectFrame", "relative=top"),
        _command("click", "id=old-go", targets=[["id=old-go", "id"], ["css=#go", "css:finder"]]),
        ("assertText", "id=goState", "clicked"),
    ],
    "Fails on purpose": [("open", "/side.html"), ("assertText", "css=h1", "Not the heading"), ("echo", "never")],
    "Soft failure": [("open", "/side.html"), ("verifyText", "css=h1", "Nope"), ("echo", "still runs")],
}  # fmt: skip


def side_document(url: str) -> dict:
    tests = {name: [c if isinstance(c, dict) else _command(*c) for c in commands] for name, commands in TESTS.items()}
    return side_runner.side_project("Imported", url, tests)


def main() -> None:
    database_url = runtime.database_prepare()
    common.django_setup(DATABASE_URL=database_url)
    from executions.models import SuiteRun
    from tests_catalog import side

    # The very pages the .side end-to-end tests run against, not a copy of them.
    url, stop_pages = common.pages_serve(common.BASE_DIR / "executions" / "tests" / "pages")
    project, user = runtime.project_prepare(url, slug="bench-side")
    work = tempfile.mkdtemp(prefix="jbts-bench-side-")
    document = side_document(url)
    path = side_runner.side_project_write(document, work)
    report = side.side_import(project=project, author=user, content=path.read_bytes(), filename=path.name)
    assert report.created == len(TESTS) and report.warnings == 0, report.lines()
    app_env = common.app_env(DATABASE_URL=database_url, DATA_DIR=os.path.join(work, "data"),
                             STEP_TIMEOUT_MS=str(ELEMENT_TIMEOUT_MS))  # fmt: skip
    manage = [sys.executable, str(common.BASE_DIR / "manage.py"), "run_tests", "--inline", "--project", project.slug,
              "--suite", "Imported"]  # fmt: skip
    side_runner.runner_path()  # install before anything is timed
    verdicts: dict[str, list[dict[str, str]]] = {"jbtestsuite": [], "side_runner": []}
    messages: dict[str, str] = {}

    def ours():
        cost = process_cost(manage, env=app_env, cwd=common.BASE_DIR)
        run = SuiteRun.objects.filter(project=project).order_by("-created_at").first()
        verdicts["jbtestsuite"].append({e.case_name: e.status for e in run.executions.all()})
        return cost

    def peer():
        run = side_runner.side_run(path, base_url=url.rstrip("/"), element_timeout_ms=ELEMENT_TIMEOUT_MS)
        verdicts["side_runner"].append(run.verdicts)
        messages.update(run.failure_messages)
        return run.cost

    load_before = os.getloadavg()
    try:
        figures = common.interleaved({"jbtestsuite": ours, "side_runner": peer})
    finally:
        stop_pages()
    walls = {name: [cost.wall_s for cost in costs] for name, costs in figures.items()}
    med = {name: common.median(values) for name, values in walls.items()}
    # The warm-up round's verdicts count too: a verdict must never differ, measured or not.
    differences = sorted({
        f"{test}: JBTestSuite {ours_round.get(test)} / side-runner {peer_round.get(test)}"
        for ours_round, peer_round in zip(verdicts["jbtestsuite"], verdicts["side_runner"], strict=True)
        for test in TESTS
        if ours_round.get(test) != peer_round.get(test)
    })  # fmt: skip
    unexplained = [line for line in differences if line.split(":")[0] not in EXPLAINED]
    rows = [
        common.row(f"imported project, {len(TESTS)} tests: wall, JBTestSuite / side-runner",
                   f"{med['jbtestsuite']:.2f} / {med['side_runner']:.2f}", "s"),
        common.row("JBTestSuite / side-runner, wall", round(med["jbtestsuite"] / med["side_runner"], 3), "x", "< 1",
                   med["jbtestsuite"] < med["side_runner"]),
        common.row("tests whose verdict differs", len(differences)),
        common.row("  of them not explained (EXPLAINED)", len(unexplained), "", "0", not unexplained),
        common.row("load average (1 min) before / after", f"{load_before[0]:.1f} / {os.getloadavg()[0]:.1f}"),
    ]  # fmt: skip
    details = {
        "side_runner_version": side_runner.SIDE_RUNNER_VERSION,
        "wall_s": walls,
        "differences": differences,
        "explained": EXPLAINED,
        "verdicts": verdicts,
        "side_runner_failures": messages,
        "project": json.loads(path.read_text())["name"],
    }
    common.results_write("side_import", rows, details)
    for line in differences:
        print(f"verdict differs: {line}")
    for test, message in sorted(messages.items()):
        print(f"side-runner: {test}: {message}")


if __name__ == "__main__":
    main()
