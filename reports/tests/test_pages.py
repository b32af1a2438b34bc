"""The reports' admin pages: the dashboard as the landing page, a case's and a suite's history."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.models import FailureGroup
from reports.tests.conftest import finish, make_case, make_suite, suite_run_of

pytestmark = pytest.mark.django_db


def seeded(project, environment, *, cases=3, rounds=4, prefix="Case", days_back=0):
    """Suite runs spread over the last days: case 0 fails from round 1 on, the last case flips."""
    made = [make_case(project, name=f"{prefix} {n}") for n in range(cases)]
    suite = make_suite(project, made, name=f"{prefix} suite")
    start = timezone.now() - datetime.timedelta(days=days_back, hours=1)
    for round_number in range(rounds):
        suite_run = suite_run_of(suite, environment)
        for n, case in enumerate(made):
            failing = (n == 0 and round_number > 0) or (n == cases - 1 and round_number % 2)
            at = start + datetime.timedelta(days=round_number * days_back / max(rounds - 1, 1), minutes=n)
            finish(case, "failed" if failing else "passed", environment=environment, suite_run=suite_run, at=at,
                   duration_ms=1500 + 100 * n + 50 * round_number, selector=f"#row-{round_number}")  # fmt: skip
    return made, suite


def get(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured), response.content.decode()


def test_it_is_the_admin_landing_page_for_a_project_member(client, project, environment, viewer):
    seeded(project, environment)
    client.force_login(viewer)
    _, page = get(client, "/admin/")
    assert "Shop: how the tests are doing" in page
    assert 'id="jb-dashboard-data"' in page and 'data-chart="pass-rate"' in page
    assert page.count("/admin/reports/case/") >= 2  # Case 2 failed anew and is flaky: linked to its history
    assert "✗ failed" in page  # the suite's last run says its status in words, not only colour
    assert "Everything else" in page  # the admin's own app list follows


def test_it_tells_a_staff_user_without_projects_so(client, db):
    from django.contrib.auth import get_user_model

    lonely = get_user_model().objects.create_user("lonely", password="pw-lonely-123", is_staff=True)
    client.force_login(lonely)
    _, page = get(client, "/admin/")
    assert "not a member of any project" in page


def test_it_shows_only_the_users_projects(client, project, environment, outsider):
    seeded(project, environment)
    client.force_login(outsider)
    _, page = get(client, "/admin/?project=shop")
    assert "/admin/reports/case/" not in page and "Shop" not in page


def test_it_sends_anonymous_visitors_to_the_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_it_renders_the_dashboard_in_the_same_queries_whatever_the_history(client, project, environment, viewer):
    seeded(project, environment, cases=2, rounds=2)
    client.force_login(viewer)
    before, _ = get(client, "/admin/")
    seeded(project, environment, cases=12, rounds=6, prefix="More", days_back=20)
    after, page = get(client, "/admin/")
    assert "More suite" in page
    assert after == before


def test_it_shows_a_case_history_with_its_strip(client, project, environment, viewer):
    cases, _ = seeded(project, environment, rounds=4)
    client.force_login(viewer)
    count, page = get(client, f"/admin/reports/case/{cases[0].id}/")
    assert page.count('class="jb-cell jb-failed"') == 3 and page.count('class="jb-cell jb-passed"') == 1
    assert "known failure" in page
    assert "step 2 (click), 3 failures" in page
    seeded(project, environment, cases=2, rounds=8, prefix="More")
    finish(cases[0], "passed", environment=environment)
    again, page = get(client, f"/admin/reports/case/{cases[0].id}/")
    assert again == count
    assert "fixed" in page


def test_it_shows_a_suite_history(client, project, environment, viewer):
    _, suite = seeded(project, environment, rounds=2)
    client.force_login(viewer)
    count, page = get(client, f"/admin/reports/suite/{suite.id}/")
    assert "Broke in the latest run" in page and "Case 0" in page and "Case 2" in page
    seeded(project, environment, cases=5, rounds=5, prefix="More")
    for _ in range(3):
        suite_run = suite_run_of(suite, environment)
        for case in suite.cases.all():
            finish(case, "passed", environment=environment, suite_run=suite_run)
    assert get(client, f"/admin/reports/suite/{suite.id}/")[0] == count


def test_it_hides_other_projects_history_pages(client, project, environment, outsider):
    cases, suite = seeded(project, environment, rounds=1)
    client.force_login(outsider)
    assert client.get(f"/admin/reports/case/{cases[0].id}/").status_code == 404
    assert client.get(f"/admin/reports/suite/{suite.id}/").status_code == 404
    assert client.get("/admin/reports/case/not-a-uuid/").status_code == 404


def test_it_lists_a_failure_groups_runs_in_the_admin(client, project, environment, viewer):
    seeded(project, environment, rounds=3)
    group = FailureGroup.objects.order_by("-failures").first()
    client.force_login(viewer)
    _, page = get(client, f"/admin/reports/failuregroup/{group.pk}/change/")
    assert page.count("/admin/executions/execution/") >= group.failures
    assert "Element &lt;value&gt; not found after &lt;n&gt; ms" in page
