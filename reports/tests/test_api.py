"""`/api/v1/reports/...`: scoped to the user's projects, constant queries per page, CSV and Allure."""

import io
import json
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from reports.models import FailureGroup
from reports.tests.conftest import finish, make_case, make_suite, suite_run_of

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def history(project, environment, cases=3, rounds=4, prefix="Case"):
    """A suite run `rounds` times over `cases` cases; case 0 always fails, the last one flips."""
    made = [make_case(project, name=f"{prefix} {n}") for n in range(cases)]
    suite = make_suite(project, made, name=f"{prefix} suite")
    for round_number in range(rounds):
        suite_run = suite_run_of(suite, environment)
        for n, case in enumerate(made):
            status = "failed" if n == 0 or (n == cases - 1 and round_number % 2) else "passed"
            finish(case, status, environment=environment, suite_run=suite_run, selector=f"#row-{round_number}")
    return made, suite


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), response


def test_it_reports_a_case_with_its_strip_rates_and_most_failing_step(project, environment, viewer):
    cases, _ = history(project, environment)
    body = client_for(viewer).get(f"/api/v1/reports/cases/{cases[0].id}/").json()
    assert body["label"] == "known_failure" and body["failures"] == 4
    assert [cell["status"] for cell in body["strip"]] == ["failed"] * 4
    assert body["most_failing_step"] == {"order_index": 1, "action": "click", "failures": 4}
    assert body["pass_rate_30d"] is None or body["pass_rate_30d"] == 0.0
    flaky = client_for(viewer).get(f"/api/v1/reports/cases/{cases[2].id}/").json()
    assert flaky["label"] == "flaky" and flaky["flips"] == 3


def test_it_hides_other_projects_reports(project, environment, outsider):
    cases, suite = history(project, environment, rounds=1)
    client = client_for(outsider)
    assert client.get(f"/api/v1/reports/cases/{cases[0].id}/").status_code == 404
    assert client.get(f"/api/v1/reports/suites/{suite.id}/").status_code == 404
    assert client.get(f"/api/v1/reports/projects/{project.id}/dashboard/").status_code == 404
    assert client.get("/api/v1/reports/failure-groups/").json()["items"] == []
    assert client.get(f"/api/v1/reports/failure-groups/{FailureGroup.objects.first().pk}/").status_code == 404


def test_it_needs_a_token():
    assert APIClient().get("/api/v1/reports/flaky/").status_code == 401


def test_it_names_a_bad_parameter(viewer):
    body = client_for(viewer).get("/api/v1/reports/labels/?label=broken").json()
    assert body["error"] == "ValidationError" and "label" in body["details"]
    assert "project" in client_for(viewer).get("/api/v1/reports/flaky/?project=x").json()["details"]


def test_it_pages_labels_by_cursor_in_constant_queries(project, environment, viewer):
    history(project, environment, cases=3, rounds=2)
    client = client_for(viewer)
    small, first = queries(client, "/api/v1/reports/labels/?limit=1")
    history(project, environment, cases=12, rounds=2, prefix="More")
    large, _ = queries(client, "/api/v1/reports/labels/?limit=10")
    assert small == large
    cursor = first.json()["next_cursor"]
    deep, second = queries(client, f"/api/v1/reports/labels/?limit=1&cursor={cursor}")
    assert deep == small
    assert second.json()["items"][0]["case"] != first.json()["items"][0]["case"]


@pytest.mark.parametrize(
    "path",
    ["projects/{project}/dashboard/", "suites/{suite}/", "cases/{case}/", "flaky/", "failure-groups/",
     "suites/{suite}/runs/", "cases/{case}/runs/"],
)  # fmt: skip
def test_it_answers_every_report_in_the_same_number_of_queries_whatever_the_history(project, environment, viewer, path):
    cases, suite = history(project, environment, cases=2, rounds=2)
    url = "/api/v1/reports/" + path.format(project=project.id, suite=suite.id, case=cases[0].id)
    client = client_for(viewer)
    before, _ = queries(client, url)
    history(project, environment, cases=8, rounds=6, prefix="More")
    for round_number in range(5):
        suite_run = suite_run_of(suite, environment)
        for case in cases:
            finish(case, "failed" if round_number % 2 else "passed", environment=environment, suite_run=suite_run)
    after, _ = queries(client, url)
    assert after == before


def test_it_reports_a_suite_with_what_broke_in_its_latest_run(project, environment, viewer):
    _, suite = history(project, environment, cases=3, rounds=2)
    body = client_for(viewer).get(f"/api/v1/reports/suites/{suite.id}/").json()
    assert [run["failed"] for run in body["runs"]] and len(body["runs"]) == 2
    assert [entry["name"] for entry in body["broke_in_latest"]] == ["Case 2"]
    assert body["slowest_cases"][0]["runs"] == 2


def test_it_exports_a_table_as_csv(project, environment, viewer):
    history(project, environment)
    response = client_for(viewer).get("/api/v1/reports/labels/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("case,name,project,environment")
    assert len(lines) == 4 and any(",flaky," in line for line in lines)


def test_it_exports_a_suite_run_for_allure(project, environment, viewer):
    cases = [make_case(project, name="Login"), make_case(project, name="Pay")]
    suite = make_suite(project, cases)
    suite_run = suite_run_of(suite, environment)
    finish(cases[0], "passed", environment=environment, suite_run=suite_run)
    first = finish(cases[1], "error", environment=environment, suite_run=suite_run)
    finish(cases[1], "passed", environment=environment, suite_run=suite_run, attempt=2, previous=first)
    response = client_for(viewer).get(f"/api/v1/reports/suite-runs/{suite_run.id}/allure/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    results = [json.loads(archive.read(name)) for name in archive.namelist() if name.endswith("-result.json")]
    assert sorted((r["name"], r["status"]) for r in results) == [("Login", "passed"), ("Pay", "broken"),
                                                                  ("Pay", "passed")]  # fmt: skip
    pay = [r for r in results if r["name"] == "Pay"]
    assert pay[0]["historyId"] == pay[1]["historyId"]  # Allure shows the first attempt as a retry
    assert [step["status"] for step in pay[0]["steps"]] == ["passed", "broken"]


def test_it_exports_an_empty_table_as_csv_with_its_header(viewer):
    response = client_for(viewer).get("/api/v1/reports/flaky/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines() == [
        "case,name,project,environment,environment_name,label,outcome_label,flaky,flips,passed_on_retry,runs,"
        "failures,first_failure_at,last_failure_at,last_run_at,last_execution,strip"
    ]
