"""The dashboard in real headless Chromium, driven by our own runner: log in, charts drawn, screenshot.

Set REPORTS_SCREENSHOT_DIR (scripts/screenshot-dashboard.sh does) to keep the screenshots.
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from executions.runner.browser import BrowserConfig, WorkerBrowser
from executions.runner.steps import steps_run
from reports.tests.test_pages import seeded
from tests_catalog.models import Membership, Role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CHARTS_DRAWN = "return document.querySelectorAll('canvas[data-rendered=\"true\"]').length"
# A drawn chart has pixels that are not transparent; a failed one leaves its canvas empty.
CHART_PIXELS = (
    "var c = document.getElementById(arguments[0] || 'jb-pass-rate');"
    "var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0;"
    "for (var i = 3; i < d.length; i += 4) { if (d[i]) n++; } return n;"
)


@pytest.fixture(scope="module")
def browsers():
    keeper = WorkerBrowser(BrowserConfig(window_width=1400, window_height=1500), reuse=True)
    yield keeper
    keeper.close()


def steps(*specs):
    return [{"order_index": index, "selector_type": "css", **spec} for index, spec in enumerate(specs)]


def run(browsers, specs, base_url):
    browser = browsers.acquire()
    try:
        return steps_run(browser, specs, base_url=base_url, default_step_timeout_ms=10_000)
    finally:
        browsers.release(browser)


def keep(result, name: str) -> bytes:
    shots = [e.content for o in result.step_outcomes for e in o.evidence if e.kind == "screenshot"]
    assert shots and shots[-1].startswith(b"\x89PNG")
    folder = os.environ.get("REPORTS_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_bytes(shots[-1])
    return shots[-1]


def login_steps(password):
    return (
        {"action": "open", "value": "/admin/login/?next=/admin/"},
        {"action": "type", "selector": "#id_username", "value": "lead"},
        {"action": "type", "selector": "#id_password", "value": password},
        {"action": "click", "selector": "input[type=submit]"},
    )


def test_it_draws_the_dashboard_charts_in_a_real_browser(live_server, browsers, project, environment):
    seeded(project, environment, cases=6, rounds=12, days_back=25)
    lead = get_user_model().objects.create_user("lead", password="pw-lead-12345", is_staff=True)
    Membership.objects.create(project=project, user=lead, role=Role.VIEWER)
    result = run(
        browsers,
        steps(
            *login_steps("pw-lead-12345"),
            {"action": "wait_for_visible", "selector": "canvas#jb-pass-rate[data-rendered='true']"},
            {"action": "wait_for_visible", "selector": "canvas#jb-duration[data-rendered='true']"},
            {"action": "execute_script", "selector": "charts", "value": CHARTS_DRAWN},
            {"action": "execute_script", "selector": "pixels", "value": CHART_PIXELS},
            {"action": "screenshot", "value": "dashboard"},
        ),
        live_server.url,
    )
    assert result.status == "passed", result.error_message
    assert result.variables["charts"] == "2"
    assert int(result.variables["pixels"]) > 1000
    keep(result, "dashboard.png")

    # The browser is reset between runs, as a worker does between executions: log in again.
    case_page = run(
        browsers,
        steps(
            *login_steps("pw-lead-12345"),
            {"action": "click", "selector": "a[href*='/admin/reports/case/']"},
            {"action": "wait_for_visible", "selector": "canvas#jb-case-duration[data-rendered='true']"},
            {"action": "assert_element_present", "selector": ".jb-strip a.jb-cell"},
            {"action": "screenshot", "value": "case"},
        ),
        live_server.url,
    )
    assert case_page.status == "passed", case_page.error_message
    keep(case_page, "case-history.png")
