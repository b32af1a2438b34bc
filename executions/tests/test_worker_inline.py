"""The worker in-process (as `run_tests --inline` uses it) against real headless Chromium."""

import threading

import pytest

from conftest import case_with_steps, wait_for
from executions import services, worker
from executions.models import Execution, RunStatus, StepResult
from executions.runner.browser import WorkerBrowser, child_process_ids, process_tree_kill
from tests_catalog.models import Environment, EnvironmentVariable

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture(scope="module")
def browsers():
    keeper = WorkerBrowser(worker.browser_config(), reuse=True)
    yield keeper
    keeper.close()


def _run(case, browsers, **create):
    execution = services.execution_create(case=case, trigger="cli", inline=True, **create)
    worker.execution_run(execution_id=execution.id, browsers=browsers)
    execution.refresh_from_db()
    return execution


def test_it_runs_a_case_and_records_every_step(shop_case, browsers):
    execution = _run(shop_case, browsers, variables={"quantity": "3"})
    assert execution.status == RunStatus.PASSED, execution.error_message
    results = list(execution.step_results.order_by("order_index"))
    assert [r.status for r in results] == ["passed"] * 5
    assert results[4].value == "Cart: 3"
    assert all(r.duration_ms >= 0 for r in results)
    assert execution.browser_name in ("chrome", "chromium", "chrome-headless-shell")
    assert execution.browser_version
    assert execution.duration_ms > 0
    assert execution.started_at <= execution.finished_at
    assert execution.heartbeat_at is not None


def test_it_stores_evidence_of_a_failed_step_and_skips_the_rest(project, shop_url, browsers):
    project.base_url = shop_url
    project.save()
    steps = (("open", "", "shop.html"), ("assert_text", "#heading", "Goodbye"), ("click", "#add", ""))
    execution = _run(case_with_steps(project, name="Wrong heading", steps=steps), browsers)
    assert execution.status == RunStatus.FAILED
    assert execution.failing_step_index == 1
    assert "Goodbye" in execution.error_message
    failed, skipped = execution.step_results.order_by("order_index")[1:]
    assert (failed.status, skipped.status) == ("failed", "skipped")
    kinds = {artifact.kind: artifact for artifact in failed.artifacts.all()}
    assert set(kinds) == {"screenshot", "page_source", "console_log"}
    assert kinds["screenshot"].file.read()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Welcome to the shop" in kinds["page_source"].file.read()
    assert b"shop page loaded with a console error" in kinds["console_log"].file.read()


def test_it_masks_environment_secrets_in_what_it_records(project, shop_url, browsers):
    environment = Environment.objects.create(project=project, name="staging", base_url=shop_url)
    EnvironmentVariable.objects.create(environment=environment, name="quantity", value="987654", secret=True)
    steps = (("open", "", "shop.html"), ("type", "#qty", "${quantity}"), ("click", "#add", ""),
             ("assert_text", "#cart", "Cart: 0"))  # fmt: skip
    execution = _run(case_with_steps(project, name="Secret qty", steps=steps), browsers, environment=environment)
    assert execution.status == RunStatus.FAILED
    recorded = (
        " ".join(f"{r.selector} {r.value} {r.message}" for r in execution.step_results.all())
        + execution.error_message
        + str(execution.snapshot)
    )
    assert "987654" not in recorded
    assert "***" in recorded


def test_it_stops_a_cancelled_run_before_its_next_step(project, shop_url, browsers):
    project.base_url = shop_url
    project.save()
    steps = (("open", "", "shop.html"), ("pause", "", "1500"), ("echo", "", "after"), ("echo", "", "end"))
    execution = services.execution_create(case=case_with_steps(project, name="Long", steps=steps), trigger="cli",
                                          inline=True)  # fmt: skip
    runner = threading.Thread(target=worker.execution_run, kwargs={"execution_id": execution.id, "browsers": browsers})
    runner.start()
    wait_for(lambda: StepResult.objects.filter(execution=execution, order_index=0).exists(), message="open step")
    services.execution_cancel(execution=execution)
    runner.join(timeout=60)
    execution.refresh_from_db()
    assert execution.status == RunStatus.CANCELLED
    statuses = list(execution.step_results.order_by("order_index").values_list("status", flat=True))
    assert statuses == ["passed", "passed", "skipped", "skipped"]


def test_it_ends_an_execution_over_its_time_limit_as_error(project, shop_url, browsers, settings):
    settings.EXECUTION_TIME_LIMIT_SECONDS = 1
    project.base_url = shop_url
    project.save()
    steps = (("open", "", "shop.html"), ("pause", "", "1200"), ("echo", "", "never reached"))
    execution = _run(case_with_steps(project, name="Slow", steps=steps), browsers)
    assert execution.status == RunStatus.ERROR
    assert execution.error_message == "timed out after 1 s"
    assert execution.step_results.get(order_index=2).status == "skipped"


def test_it_reports_a_browser_killed_mid_step_and_runs_the_next_execution(project, shop_url, browsers, shop_case):
    project.base_url = shop_url
    project.save()
    steps = (("open", "", "shop.html"), ("wait_for_visible", "#never-there", ""), ("echo", "", "after"))
    doomed = services.execution_create(case=case_with_steps(project, name="Doomed", steps=steps), trigger="cli",
                                       inline=True)  # fmt: skip
    runner = threading.Thread(target=worker.execution_run, kwargs={"execution_id": doomed.id, "browsers": browsers})
    runner.start()
    wait_for(lambda: StepResult.objects.filter(execution=doomed, order_index=0).exists(), message="open step")
    driver_pid = browsers.browser.driver_process_id
    for chromium_pid in child_process_ids(driver_pid):
        process_tree_kill(chromium_pid)
    runner.join(timeout=60)
    doomed.refresh_from_db()
    assert doomed.status == RunStatus.ERROR
    assert "browser" in doomed.error_message.lower()
    assert "died" in doomed.error_message.lower() or "crash" in doomed.error_message.lower()

    survivor = _run(shop_case, browsers, variables={"quantity": "2"})
    assert survivor.status == RunStatus.PASSED, survivor.error_message
    assert Execution.objects.filter(status__in=["queued", "running"]).count() == 0
