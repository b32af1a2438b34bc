import pytest

from conftest import api_client, case_with_steps
from executions import services
from executions.models import Execution, RunStatus, StepResult

pytestmark = pytest.mark.django_db


def test_it_requires_a_token(case):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/executions/")
    assert response.status_code == 401
    assert response.json()["error"] == "NotAuthenticated"


def test_it_queues_a_case_and_answers_202(editor, case):
    response = api_client(editor).post(
        "/api/v1/executions/", {"test_case": str(case.id), "variables": {"lang": "en"}}, format="json"
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert body["trigger"] == "api"
    assert body["triggered_by"] == editor.username
    assert body["variables"] == {"lang": "en"}
    assert Execution.objects.get(pk=body["id"]).test_case_id == case.id


def test_it_queues_a_suite_as_a_suite_run_with_its_executions(editor, suite):
    response = api_client(editor).post("/api/v1/executions/", {"suite": str(suite.id)}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["total"] == 3
    assert [e["case_name"] for e in body["executions"]] == ["First", "Second", "Third"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "test_case"),
        ({"test_case": "not-a-uuid"}, "test_case"),
        ({"test_case": "00000000-0000-0000-0000-000000000000"}, "test_case"),
        ({"variables": "x=1"}, "variables"),
    ],
)
def test_it_names_the_bad_field(editor, case, payload, field):
    if field == "variables":
        payload = {"test_case": str(case.id), **payload}
    response = api_client(editor).post("/api/v1/executions/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"]
    assert Execution.objects.count() == 0


def test_it_forbids_viewers_to_run(viewer, case):
    response = api_client(viewer).post("/api/v1/executions/", {"test_case": str(case.id)}, format="json")
    assert response.status_code == 403
    assert Execution.objects.count() == 0


def test_it_hides_other_projects_runs(outsider, case):
    execution = services.execution_create(case=case, trigger="api")
    client = api_client(outsider)
    assert client.get(f"/api/v1/executions/{execution.id}/").status_code == 404
    assert client.post(f"/api/v1/executions/{execution.id}/cancel/").status_code == 404
    assert client.get("/api/v1/executions/").json()["total"] == 0
    response = client.post("/api/v1/executions/", {"test_case": str(case.id)}, format="json")
    assert response.status_code == 400  # the case "does not exist" for them: no hint it does


def test_it_shows_step_results_in_order_with_their_fields(viewer, case):
    execution = services.execution_create(case=case, trigger="api")
    StepResult.objects.create(execution=execution, order_index=1, action="assert_title", value="Login",
                              status="failed", duration_ms=12, message="title was 'Home'")  # fmt: skip
    StepResult.objects.create(execution=execution, order_index=0, action="open", value="login", status="passed")
    body = api_client(viewer).get(f"/api/v1/executions/{execution.id}/").json()
    assert [r["order_index"] for r in body["step_results"]] == [0, 1]
    assert body["step_results"][1] == {
        "sequence": None, "order_index": 1, "action": "assert_title", "selector": "", "value": "Login",
        "description": "", "status": "failed", "duration_ms": 12, "message": "title was 'Home'", "depth": 0,
        "iteration": None, "branch": "", "flow": "", "healed_by": "", "artifacts": [],
    }  # fmt: skip
    assert [s["action"] for s in body["steps"]] == ["open", "assert_title"]


def test_it_filters_and_rejects_unknown_filter_values(viewer, project, case):
    other = case_with_steps(project, name="Other")
    services.execution_create(case=case, trigger="api")
    services.execution_create(case=other, trigger="cli")
    client = api_client(viewer)
    assert client.get("/api/v1/executions/", {"trigger": "cli"}).json()["total"] == 1
    assert client.get("/api/v1/executions/", {"test_case": str(case.id)}).json()["total"] == 1
    bad = client.get("/api/v1/executions/", {"status": "bogus"})
    assert bad.status_code == 400
    assert "status" in bad.json()["details"]
    assert client.get("/api/v1/executions/", {"limit": 1000}).status_code == 400


def test_it_lists_with_a_constant_number_of_queries(viewer, project, django_assert_max_num_queries):
    def list_queries(count):
        for index in range(count):
            services.execution_create(case=case_with_steps(project, name=f"Case {count}-{index}"), trigger="api")
        with django_assert_max_num_queries(6) as captured:
            response = api_client(viewer).get("/api/v1/executions/", {"limit": 100})
        assert response.status_code == 200
        return len(captured)

    assert list_queries(3) == list_queries(40)


def test_it_cancels_through_the_api(editor, case):
    execution = services.execution_create(case=case, trigger="api")
    response = api_client(editor).post(f"/api/v1/executions/{execution.id}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == RunStatus.CANCELLED
    again = api_client(editor).post(f"/api/v1/executions/{execution.id}/cancel/")
    assert again.status_code == 409


def test_it_lists_suite_runs_and_shows_one_with_its_executions(viewer, suite):
    suite_run = services.suite_run_start(suite=suite, trigger="api")
    client = api_client(viewer)
    listed = client.get("/api/v1/suite-runs/").json()
    assert listed["items"][0]["id"] == str(suite_run.id)
    detail = client.get(f"/api/v1/suite-runs/{suite_run.id}/").json()
    assert len(detail["executions"]) == 3


def test_it_accepts_any_utc_offset_in_date_filters_and_refuses_out_of_range_dates(viewer, case):
    services.execution_create(case=case, trigger="api")
    client = api_client(viewer)
    # PostgreSQL itself refuses offsets past 15:59; they are converted to UTC first.
    odd_offset = client.get("/api/v1/executions/", {"queued_after": "1008-11-05T13:58:07-18:33"})
    assert odd_offset.status_code == 200
    assert odd_offset.json()["total"] == 1
    too_early = client.get("/api/v1/executions/", {"queued_before": "0001-01-01T00:00:00+05:00"})
    assert too_early.status_code == 400
    assert "queued_before" in too_early.json()["details"]
    assert client.get("/api/v1/executions/", {"queued_after": "yesterday"}).status_code == 400


def test_it_pages_executions_by_cursor_in_the_offset_order(viewer, project, case):
    for _ in range(5):
        services.execution_create(case=case, trigger="api")
    client = api_client(viewer)
    by_offset = [item["id"] for item in client.get("/api/v1/executions/", {"limit": 100}).json()["items"]]
    page = client.get("/api/v1/executions/", {"limit": 2}).json()
    walked = [item["id"] for item in page["items"]]
    while page["next_cursor"]:
        page = client.get("/api/v1/executions/", {"limit": 2, "cursor": page["next_cursor"]}).json()
        assert page["page"] is None
        walked += [item["id"] for item in page["items"]]
    assert walked == by_offset
    assert len(walked) == 5
