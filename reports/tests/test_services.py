"""The incremental update as executions finish, and the rebuild that must agree with it."""

import io

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict

from reports.models import CaseHealth, CaseRun, Failure, FailureGroup, ProjectDay, SuiteRunSummary
from reports.services import execution_record, reports_rebuild
from reports.tests.conftest import finish, make_case, make_suite, suite_run_of

pytestmark = pytest.mark.django_db


def health(case, environment=None):
    return CaseHealth.objects.get(test_case=case, environment=environment)


def test_it_labels_a_case_as_each_run_finishes(project, environment):
    case = make_case(project)
    finish(case, "passed", environment=environment)
    assert health(case, environment).label == "passed"
    finish(case, "failed", environment=environment)
    assert health(case, environment).label == "new_failure"
    finish(case, "error", environment=environment)
    assert health(case, environment).label == "known_failure"
    finish(case, "passed", environment=environment)
    assert (health(case, environment).label, health(case, environment).runs) == ("fixed", 4)
    assert health(case, environment).failures == 2


def test_it_keeps_labels_apart_per_environment(project, environment):
    case = make_case(project)
    finish(case, "passed", environment=environment)
    finish(case, "failed")
    assert health(case, environment).label == "passed"
    assert health(case).label == "new_failure"


def test_it_files_a_retried_run_once_as_passed_on_retry(project):
    case = make_case(project)
    first = finish(case, "failed", announce=False)
    second = finish(case, "passed", attempt=2, previous=first, announce=False)
    assert execution_record(execution_id=first.id) is None  # retried: the run goes on
    case_run = execution_record(execution_id=second.id)
    assert (case_run.label, case_run.attempts) == ("passed_on_retry", 2)
    assert CaseRun.objects.count() == 1
    assert Failure.objects.filter(execution=first).exists()  # the failing attempt is still evidence
    assert execution_record(execution_id=second.id) is None  # filed once


def test_it_groups_the_same_error_across_cases(project):
    cases = [make_case(project, name=f"Case {n}") for n in range(3)]
    for n, case in enumerate(cases):
        finish(case, "failed", selector=f"#row-{n}", message=f"Element '#row-{n}' not found after {n + 1}000 ms")
    finish(cases[0], "failed", action="assert_text", message="Expected 'Total: 3' but was 'Total: 4'")
    biggest, other = FailureGroup.objects.order_by("-failures")
    assert (biggest.failures, biggest.cases, biggest.action) == (3, 3, "click")
    assert biggest.message == "Element <value> not found after <n> ms"
    assert (other.failures, other.cases) == (1, 1)
    assert biggest.first_seen_at < biggest.last_seen_at


def test_it_summarises_a_suite_run(project, environment):
    cases = [make_case(project, name=f"Case {n}") for n in range(3)]
    suite = make_suite(project, cases)
    suite_run = suite_run_of(suite, environment)
    for case, status in zip(cases, ["passed", "failed", "passed"], strict=True):
        finish(case, status, environment=environment, suite_run=suite_run, duration_ms=2000)
    summary = SuiteRunSummary.objects.get(suite_run=suite_run)
    assert (summary.new_failures, summary.duration_ms, summary.suite_id) == (1, 6000, suite.id)


def _report_rows():
    """Every report row as plain data, without the ids a rebuild renumbers."""

    def rows(model, key, drop=("id",)):
        return sorted(
            ({k: v for k, v in model_to_dict(row).items() if k not in drop} for row in model.objects.all()),
            key=key,
        )

    groups = {g.pk: g.fingerprint for g in FailureGroup.objects.all()}
    runs = {r.pk: r.execution_id for r in CaseRun.objects.all()}
    failures = rows(Failure, key=lambda r: str(r["execution"]))
    for failure in failures:
        failure["group"] = groups[failure["group"]]
    healths = rows(CaseHealth, key=lambda r: (str(r["test_case"]), str(r["environment"])))
    for row in healths:
        row["last_run"] = runs[row["last_run"]]
    return {
        "case_runs": rows(CaseRun, key=lambda r: str(r["execution"])),
        "health": healths,
        "groups": rows(FailureGroup, key=lambda r: r["fingerprint"]),
        "failures": failures,
        "days": rows(ProjectDay, key=lambda r: (str(r["environment"]), r["day"])),
        "suites": rows(SuiteRunSummary, key=lambda r: str(r["suite_run"])),
    }


def test_it_rebuilds_exactly_what_the_incremental_updates_built(project, environment):
    cases = [make_case(project, name=f"Case {n}") for n in range(4)]
    suite = make_suite(project, cases)
    pattern = ["passed", "failed", "passed", "error", "failed", "passed"]
    for round_number in range(6):
        suite_run = suite_run_of(suite, environment if round_number % 2 else None)
        for n, case in enumerate(cases):
            status = pattern[(round_number + n) % len(pattern)] if n else "passed"
            retried = status != "passed" and n == 3
            # A retried attempt is announced once its next attempt exists, as execution_finish does.
            first = finish(case, status, environment=suite_run.environment, suite_run=suite_run,
                           selector=f"#item-{round_number}", duration_ms=1000 + 10 * n + round_number,
                           announce=not retried)  # fmt: skip
            if retried:
                second = finish(case, "passed", environment=suite_run.environment, suite_run=suite_run, attempt=2,
                                previous=first, announce=False)  # fmt: skip
                execution_record(execution_id=first.id)
                execution_record(execution_id=second.id)
    incremental = _report_rows()
    assert incremental["health"] and incremental["groups"] and incremental["suites"]
    assert any(row["flaky"] for row in incremental["health"])
    assert any(row["label"] == "passed_on_retry" for row in incremental["case_runs"])
    call_command("reports_rebuild", stdout=io.StringIO())
    assert _report_rows() == incremental


def test_it_rebuilds_from_nothing_when_the_tables_were_emptied(project):
    case = make_case(project)
    for status in ["passed", "failed", "passed"]:
        finish(case, status, announce=False)
    assert not CaseHealth.objects.exists()
    counts = reports_rebuild()
    assert counts["case_runs"] == 3 and counts["failures"] == 1
    assert health(case).label == "fixed" and health(case).runs == 3


def test_it_gives_recent_durations_for_longest_first_distribution(project, environment):
    from executions import selectors as run_selectors
    from reports.apps import ReportsConfig
    from reports.selectors import case_duration_recent

    slow, fast, broken, unfiled = (make_case(project, name=name) for name in ("Slow", "Fast", "Broken", "Unfiled"))
    for duration in (9000, 11000, 10000):
        finish(slow, "passed", environment=environment, duration_ms=duration)
    finish(slow, "failed", environment=environment, duration_ms=50)
    finish(fast, "passed", environment=environment, duration_ms=300)
    finish(broken, "failed", environment=environment)
    finish(unfiled, "passed", environment=environment, duration_ms=4000, announce=False)
    durations = case_duration_recent([slow.id, fast.id, broken.id, unfiled.id], environment.id)
    assert durations == {slow.id: 10000, fast.id: 300, unfiled.id: 4000}
    assert case_duration_recent([slow.id], None) == {}
    ReportsConfig.ready(None)  # a test of executions may have put its own source back
    assert run_selectors.case_durations_recent([slow.id], environment_id=environment.id) == {slow.id: 10000}
