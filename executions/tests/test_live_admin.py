"""The admin's live pages in real headless Chromium, driven by our own runner, served by uvicorn."""

from pathlib import Path

import pytest

from conftest import PASSWORD
from executions import services, worker
from executions.models import RunStatus
from executions.runner.browser import WorkerBrowser
from executions.runner.outcomes import Evidence, StepOutcome
from executions.runner.steps import steps_run
from executions.tests.live import asgi_served

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.browser]

SCREENSHOTS = Path("/tmp") / "jbts-live-admin"


@pytest.fixture
def site():
    with asgi_served() as url:
        yield url.replace("ws://", "http://")


@pytest.fixture
def browser():
    keeper = WorkerBrowser(worker.browser_config(), reuse=True)
    acquired = keeper.acquire()
    yield acquired
    keeper.release(acquired)
    keeper.close()


@pytest.fixture
def queued(editor, case):
    return services.execution_create(case=case, trigger="api", triggered_by=editor)


@pytest.fixture
def staff_editor(editor):
    editor.is_staff = True
    editor.save()
    return editor


def _run(browser, site, *steps, name="live"):
    numbered = [{"action": a, "selector": s, "value": v, "order_index": i} for i, (a, s, v) in enumerate(steps)]
    result = steps_run(browser, numbered, base_url=site + "/", default_step_timeout_ms=15_000,
                       screenshot_policy="on_failure")  # fmt: skip
    for outcome in result.step_outcomes:
        for evidence in outcome.evidence:
            if evidence.kind == "screenshot":
                SCREENSHOTS.mkdir(exist_ok=True)
                (SCREENSHOTS / f"{name}-{evidence.filename}").write_bytes(evidence.content)
    assert result.status == RunStatus.PASSED, [(o.order_index, o.action, o.message) for o in result.step_outcomes]
    return result


def _login(browser, site, editor, next_path):
    _run(browser, site,
         ("open", "", f"admin/login/?next={next_path}"),
         ("type", "#id_username", editor.username),
         ("type", "#id_password", PASSWORD),
         ("click", "input[type=submit]", ""),
         ("wait_for_url", "", next_path),
         # Set on the page now: still there later proves the page was updated in place, not reloaded.
         ("execute_script", "", "window.liveMarker = 1;"))  # fmt: skip


def test_it_shows_steps_and_the_failing_screenshot_on_the_execution_page_without_a_reload(site, browser, queued,
                                                                                           staff_editor):  # fmt: skip
    _login(browser, site, staff_editor, f"/admin/executions/execution/{queued.pk}/change/")
    services.execution_claim(execution_id=queued.pk, worker_host="here")
    services.step_result_record(execution=queued, outcome=StepOutcome(0, "open", "css", "", "login", "passed", 41, ""))
    _run(browser, site, ("wait_for_text", "#step_results-group", "41"))
    screenshot = _png()
    services.step_result_record(execution=queued, outcome=StepOutcome(
        1, "assert_title", "css", "", "Login", "failed", 17, "the title is 'Shop', not 'Login'",
        [Evidence("screenshot", "step-1.png", "image/png", screenshot)]))  # fmt: skip
    services.execution_finish(execution_id=queued.pk, status=RunStatus.FAILED, failing_step_index=1,
                              error_message="step 1 failed")  # fmt: skip
    _run(browser, site,
         ("wait_for_text", "#step_results-group", "the title is 'Shop', not 'Login'"),
         ("wait_for_visible", "#step_results-group img[alt=screenshot]", ""),
         ("wait_for_text", "#content-main", "failed"),
         ("wait_for_text", "#content h2", "(failed)"),
         ("execute_script", "", "if (window.liveMarker !== 1) throw new Error('the page was reloaded');"),
         ("scroll_into_view", "#step_results-group", ""),
         ("screenshot", "", ""), name="execution")  # fmt: skip


def test_it_shows_what_runs_now_on_the_project_page(site, browser, queued, staff_editor):
    _login(browser, site, staff_editor, f"/admin/tests_catalog/project/{queued.project_id}/change/")
    _run(browser, site, ("wait_for_text", "#live-activity", "Login: queued"))
    services.execution_claim(execution_id=queued.pk, worker_host="here")
    _run(browser, site, ("wait_for_text", "#live-activity", "Login: running"), ("screenshot", "", ""), name="project")
    services.execution_finish(execution_id=queued.pk, status=RunStatus.PASSED)
    _run(browser, site, ("wait_for_text", "#live-activity", "nothing"),
         ("execute_script", "", "if (window.liveMarker !== 1) throw new Error('the page was reloaded');"))  # fmt: skip


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xdc\x35\x45" * 64 for _ in range(48))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 48, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))  # fmt: skip
