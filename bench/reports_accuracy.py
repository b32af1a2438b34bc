"""Reports accuracy: flaky detection and labels on a seeded history, and failure grouping.

History (seed 14): 500 cases x 30 runs; 25 fail at random 30 % of the time (flaky), 25 break for
good at a random run, 10 are edited mid-history (an edit breaks them, a second edit two runs
later fixes them: two flips that are the edits, not flakiness), the rest always pass.

The labels are computed twice: by `reports.history.health_fold` over the sequences (the rules
the incremental update and the rebuild share), at every run from 10 to 30, and through the
database: the first 10 runs of 100 of the cases (all but 400 of the stable ones) are written as executions in PostgreSQL and filed
one by one by `execution_record`, exactly as workers do; the case labels it leaves must equal
the fold's. Precision and recall of `flaky` are also given over 50 other seeds, to show the
spread rather than one lucky draw.

Grouping: 1 200 failures from 12 causes (messages with varying ids, numbers, URLs and quoted
values, selectors with varying row numbers) spread over 300 cases.
"""

from __future__ import annotations

import datetime
import os
import random
import time
import uuid

from bench import common

DATABASE = "jbts_bench_reports_acc"
CASES = 500
RUNS = 30
FLAKY, BREAKING, EDITED = 25, 25, 10
FAIL_RATE = 0.30
SEED = 14
CHECK_AFTER = 10


def history(seed: int) -> dict:
    """case index -> {"kind", "runs": [(status, steps_key)]}."""
    rng = random.Random(seed)
    cases = {}
    for index in range(CASES):
        if index < FLAKY:
            kind = "flaky"
            runs = [("failed" if rng.random() < FAIL_RATE else "passed", "v1") for _ in range(RUNS)]
        elif index < FLAKY + BREAKING:
            kind = "breaks"
            at = rng.randrange(1, RUNS)
            runs = [("passed" if run < at else "failed", "v1") for run in range(RUNS)]
        elif index < FLAKY + BREAKING + EDITED:
            kind = "edited"
            at = rng.randrange(2, RUNS - 3)
            runs = []
            for run in range(RUNS):
                if run < at:
                    runs.append(("passed", "v1"))
                elif run < at + 2:
                    runs.append(("failed", "v2"))  # the edit broke it
                else:
                    runs.append(("passed", "v3"))  # the next edit fixed it
        else:
            kind = "stable"
            runs = [("passed", "v1")] * RUNS
        cases[index] = {"kind": kind, "runs": runs}
    return cases


def expected_label(runs: list, upto: int) -> str:
    """The label by the README's definition, from the plain sequence."""
    status = runs[upto][0]
    previous = runs[upto - 1][0] if upto else None
    if status == "passed":
        return "fixed" if previous == "failed" else "passed"
    return "known_failure" if previous == "failed" else "new_failure"


def fold_labels(cases: dict) -> dict[int, list]:
    """case index -> the Health after each run, by the shared rules."""
    from reports import history as rules

    states = {}
    for index, case in cases.items():
        recent, after = [], []
        for run_number, (status, key) in enumerate(case["runs"]):
            run = rules.Run(execution_id=f"{index}-{run_number}", status=status, steps_key=key, passed_on_retry=False,
                            finished_at="2026-11-01T00:00:00+00:00", duration_ms=1000)  # fmt: skip
            state = rules.health_fold(recent, run)
            recent = state.recent
            after.append(state)
        states[index] = after
    return states


def precision_recall(cases: dict, states: dict, run_number: int) -> tuple[float, float, int, int, int]:
    truth = {i for i, c in cases.items() if c["kind"] == "flaky"}
    predicted = {i for i, s in states.items() if s[run_number].flaky}
    hits = len(truth & predicted)
    precision = hits / len(predicted) if predicted else 1.0
    return precision, hits / len(truth), hits, len(predicted) - hits, len(truth) - hits


def labels_exact(cases: dict, states: dict) -> tuple[int, int]:
    right = total = 0
    for index, case in cases.items():
        for run_number in range(RUNS):
            total += 1
            right += states[index][run_number].label == expected_label(case["runs"], run_number)
    return right, total


# --- through the database ---------------------------------------------------------------------


def database_check(cases: dict, states: dict) -> dict:
    """Write the first CHECK_AFTER runs as executions, file each as it 'finishes', compare.

    Every flaky, breaking and edited case and the first 40 stable ones: 100 cases, 1 000
    filings, which on a shared 2-core machine take a minute or two rather than ten.
    """
    stable = [i for i, c in cases.items() if c["kind"] == "stable"]
    cases = {i: c for i, c in cases.items() if c["kind"] != "stable" or i in stable[:40]}
    from django.contrib.auth import get_user_model

    from executions.models import Execution, StepResult
    from reports.models import CaseHealth
    from reports.services import execution_record
    from tests_catalog.models import Environment, Project, TestCase

    project = Project.objects.create(name="Accuracy", slug="accuracy")
    environment = Environment.objects.create(project=project, name="ci")
    get_user_model().objects.get_or_create(username="bench")
    test_cases = dict(zip(cases, TestCase.objects.bulk_create(
        [TestCase(project=project, name=f"case {index:03d}", status="active") for index in cases]
    ), strict=True))  # fmt: skip
    start = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    filed = 0
    started = time.monotonic()
    for run_number in range(CHECK_AFTER):
        executions, results = [], []
        for index, case in cases.items():
            status, key = case["runs"][run_number]
            at = start + datetime.timedelta(hours=run_number, seconds=index)
            execution = Execution(
                id=uuid.uuid4(), project=project, test_case=test_cases[index], case_name=test_cases[index].name,
                environment=environment, trigger="schedule", status=status, started_at=at, finished_at=at,
                duration_ms=1000, failing_step_index=0 if status == "failed" else None,
                snapshot={"steps": [{"action": "click", "selector": f"#{key}", "value": ""}]},
            )  # fmt: skip
            executions.append(execution)
            results.append(StepResult(execution=execution, order_index=0, action="click", selector=f"#{key}",
                                      status=status, message="Element '#buy' not found" if status != "passed" else ""))  # fmt: skip
        Execution.objects.bulk_create(executions)
        StepResult.objects.bulk_create(results)
        for execution in executions:
            execution_record(execution_id=execution.id)
            filed += 1
    seconds = time.monotonic() - started
    stored = {h.test_case_id: h for h in CaseHealth.objects.filter(project=project)}
    mismatches = 0
    for index in cases:
        expected = states[index][CHECK_AFTER - 1]
        got = stored[test_cases[index].id]
        mismatches += (got.label, got.flaky, got.flips) != (expected.label, expected.flaky, expected.flips)
    return {"filed": filed, "seconds": round(seconds, 1), "ms_per_execution": round(seconds * 1000 / filed, 2),
            "mismatches": mismatches}  # fmt: skip


# --- failure grouping -------------------------------------------------------------------------


def _hex(rng, n=12):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


CAUSES = [
    ("click", lambda r: f"#row-{r.randint(1, 999)} .add",
     lambda r, s: f"Element '{s}' not found after {r.choice([2000, 5000, 10000])} ms"),
    ("assert_text", lambda r: "#total",
     lambda r, s: f"Expected text 'Total: {r.randint(1, 99)}.{r.randint(0, 99):02d}' but was 'Total: {r.randint(1, 99)}'"),
    ("wait_for_url", lambda r: "",
     lambda r, s: f"Timed out after {r.randint(1, 30)}000 ms waiting for the URL to contain '/orders/{r.randint(1, 10**6)}'"),
    ("click", lambda r: "#submit",
     lambda r, s: "stale element reference: element is not attached to the page document "
                  f"(Session info: chrome={r.randint(120, 131)}.0.{r.randint(1000, 9999)}.{r.randint(10, 99)})"),
    ("open", lambda r: "",
     lambda r, s: f"Page load timed out after {r.randint(10, 60)} s: https://shop-{r.randint(1, 9)}.test/checkout?session={_hex(r)}"),
    ("execute_script", lambda r: "",
     lambda r, s: "javascript error: Cannot read properties of undefined (reading 'price') at "
                  f"https://cdn.test/app.{_hex(r, 8)}.js:{r.randint(1, 900)}:{r.randint(1, 80)}"),
    ("click", lambda r: f"#pay-{r.randint(1, 50)}",
     lambda r, s: f"Element <button id=\"pay-{r.randint(1, 50)}\"> is not clickable at point ({r.randint(0, 1300)}, "
                  f"{r.randint(0, 700)}). Other element would receive the click: <div class=\"overlay\">"),
    ("assert_title", lambda r: "",
     lambda r, s: f"Expected title 'Order {r.randint(1000, 99999)} confirmed' but was 'Error {r.choice([500, 502, 503])}'"),
    ("assert_count", lambda r: ".cart-item",
     lambda r, s: f"Expected {r.randint(1, 9)} elements matching '.cart-item' but found {r.randint(0, 9)}"),
    ("open", lambda r: "",
     lambda r, s: f"HTTP {r.choice([401, 403])} from https://api.test/v{r.randint(1, 3)}/users/{uuid.UUID(int=r.getrandbits(128))}"),
    ("", lambda r: "", lambda r, s: f"worker lost: no heartbeat for more than {r.choice([60, 90, 120])} s"),
    ("accept_alert", lambda r: "",
     lambda r, s: f"Unexpected alert 'Session {_hex(r, 16)} expired at {r.randint(0, 23):02d}:{r.randint(0, 59):02d}'"),
]  # fmt: skip


def grouping(seed: int = SEED, failures: int = 1200, cases: int = 300) -> dict:
    from reports.history import failure_fingerprint

    rng = random.Random(seed)
    members: dict[str, list[int]] = {}
    for n in range(failures):
        cause = n % len(CAUSES)
        action, selector_of, message_of = CAUSES[cause]
        selector = selector_of(rng)
        fingerprint, _, _ = failure_fingerprint(action, selector, message_of(rng, selector))
        members.setdefault(fingerprint, []).append(cause)
        rng.randrange(cases)  # the case it came from: the fingerprint must not depend on it
    # Each failure counts as grouped right when its group is its cause's largest and holds only it.
    largest = {}
    for fingerprint, causes in members.items():
        for cause in set(causes):
            count = causes.count(cause)
            if count > largest.get(cause, (0, None))[0]:
                largest[cause] = (count, fingerprint)
    right = sum(
        causes.count(cause)
        for fingerprint, causes in members.items()
        for cause in set(causes)
        if largest[cause][1] == fingerprint and len(set(causes)) == 1
    )
    return {"groups": len(members), "causes": len(CAUSES), "failures": failures, "right": right,
            "accuracy": right / failures}  # fmt: skip


def main() -> None:
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    common.pg_database_recreate(DATABASE)
    env = common.app_env(DATABASE_URL=common.pg_url(DATABASE))
    common.manage("migrate", "--noinput", env=env)
    common.django_setup(DATABASE_URL=common.pg_url(DATABASE))

    cases = history(SEED)
    states = fold_labels(cases)
    rows, details = [], {"seed": SEED, "cases": CASES, "runs": RUNS, "per_run": {}}
    for run_number in range(CHECK_AFTER - 1, RUNS):
        precision, recall, _, false_positives, misses = precision_recall(cases, states, run_number)
        details["per_run"][run_number + 1] = {"precision": round(precision, 3), "recall": round(recall, 3),
                                              "false_positives": false_positives, "missed": misses}  # fmt: skip
    after = details["per_run"][CHECK_AFTER]
    rows.append(common.row(f"flaky after {CHECK_AFTER} runs: precision / recall (seed {SEED})",
                           f"{after['precision']:.2f} / {after['recall']:.2f}", "", "≥ 0.90 each",
                           after["precision"] >= 0.9 and after["recall"] >= 0.9))  # fmt: skip
    low = min(details["per_run"].values(), key=lambda v: min(v["precision"], v["recall"]))
    rows.append(common.row(f"flaky, worst run from {CHECK_AFTER} to {RUNS}: precision / recall",
                           f"{low['precision']:.2f} / {low['recall']:.2f}"))  # fmt: skip
    spread = []
    for seed in range(100, 100 + common.quick(50, 10)):
        other = history(seed)
        spread.append(precision_recall(other, fold_labels(other), CHECK_AFTER - 1)[:2])
    precisions, recalls = [p for p, _ in spread], [r for _, r in spread]
    rows.append(common.row(f"flaky after {CHECK_AFTER} runs over {len(spread)} other seeds: mean precision / recall",
                           f"{sum(precisions) / len(spread):.3f} / {sum(recalls) / len(spread):.3f}"))  # fmt: skip
    rows.append(common.row("  min precision / min recall over those seeds",
                           f"{min(precisions):.2f} / {min(recalls):.2f}"))  # fmt: skip
    details["seeds"] = {"precision": precisions, "recall": recalls}
    right, total = labels_exact(cases, states)
    rows.append(common.row("new failure / known failure / fixed / passed: labels right", f"{right} / {total}", "",
                           "exact", right == total))  # fmt: skip
    edited_flaky = sum(1 for i, c in cases.items() if c["kind"] == "edited" and any(s.flaky for s in states[i]))
    rows.append(common.row("edited cases ever labelled flaky", edited_flaky, "", "0", edited_flaky == 0))
    database = database_check(cases, states)
    details["database"] = database
    rows.append(common.row(f"PostgreSQL, {database['filed']:,} executions filed by execution_record: labels "
                           "differing from the rules", database["mismatches"], "", "0", database["mismatches"] == 0))  # fmt: skip
    rows.append(common.row("  filing time per finished execution", database["ms_per_execution"], "ms"))
    groups = grouping()
    details["grouping"] = groups
    rows.append(common.row(f"grouping: {groups['failures']:,} failures of {groups['causes']} causes → groups",
                           groups["groups"]))  # fmt: skip
    rows.append(common.row("grouping: failures in their cause's one pure group", f"{groups['accuracy'] * 100:.1f}",
                           "%", "≥ 95 %", groups["accuracy"] >= 0.95))  # fmt: skip
    common.results_write("reports_accuracy", rows, details)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jbtestsuite.settings")
    main()
