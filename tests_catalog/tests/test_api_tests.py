import pytest
from model_bakery import baker

from conftest import api_client_for
from executions.models import Execution
from tests_catalog.models import Tag, TestCase, TestStep

pytestmark = pytest.mark.django_db

URL = "/api/v1/tests/"
STEPS = [{"action": "open", "value": "/login"}, {"action": "type", "selector": "#user", "value": "bob"}]


def _case(project_, **fields):
    return {"project": str(project_.pk), "name": "Login works", **fields}


def test_it_creates_a_case_with_ordered_steps(editor_api, project):
    response = editor_api.post(URL, _case(project, tags=[" Smoke", "smoke", "UI"], steps=STEPS), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["author"] == "eddie"
    assert body["tags"] == ["smoke", "ui"]
    assert [(s["order_index"], s["action"]) for s in body["steps"]] == [(0, "open"), (1, "type")]
    assert body["step_count"] == 2
    assert (body["execution_count"], body["last_execution_status"]) == (0, None)


def test_it_names_the_bad_step_and_field(editor_api, project):
    steps = [*STEPS, {"action": "pause", "value": "forever"}]
    response = editor_api.post(URL, _case(project, steps=steps), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "ValidationError"
    assert list(body["details"]["steps"]) == ["2"]
    assert "value" in body["details"]["steps"]["2"]


def test_it_names_an_unknown_action_by_index(editor_api, project):
    response = editor_api.post(URL, _case(project, steps=[STEPS[0], {"action": "teleport"}]), format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]["steps"]) == ["1"]
    assert "action" in response.json()["details"]["steps"]["1"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"status": "done"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"retry_count": 11}, "retry_count"),
        ({"retry_count": -1}, "retry_count"),
        ({"expected_duration_seconds": 0}, "expected_duration_seconds"),
        ({"metadata": [1, 2]}, "metadata"),
        ({"metadata": {"a": "\x00"}}, "metadata"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"project": "not-a-uuid"}, "project"),
        ({"steps": [{"action": "click", "timeout_ms": 0, "selector": "a"}]}, "steps"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(editor_api, project, fields, field):
    response = editor_api.post(URL, _case(project, **fields), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["details"]


def test_it_answers_409_for_a_duplicate_name_in_the_same_category(editor_api, project):
    assert editor_api.post(URL, _case(project, category="auth"), format="json").status_code == 201
    response = editor_api.post(URL, _case(project, category="auth"), format="json")
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"
    assert "name" in response.json()["details"]
    assert editor_api.post(URL, _case(project, category="other"), format="json").status_code == 201


def test_it_replaces_steps_on_put_and_keeps_them_on_patch(editor_api, project):
    case_id = editor_api.post(URL, _case(project, steps=STEPS), format="json").json()["id"]
    response = editor_api.patch(f"{URL}{case_id}/", {"priority": "high"}, format="json")
    assert response.json()["priority"] == "high"
    assert len(response.json()["steps"]) == 2
    response = editor_api.put(f"{URL}{case_id}/", {"name": "Renamed", "steps": [STEPS[1]]}, format="json")
    assert response.status_code == 200
    assert [(s["order_index"], s["action"]) for s in response.json()["steps"]] == [(0, "type")]
    assert editor_api.put(f"{URL}{case_id}/", {"steps": []}, format="json").status_code == 400


def test_it_refuses_to_move_a_case_to_another_project(editor_api, project, other_project):
    case_id = editor_api.post(URL, _case(project), format="json").json()["id"]
    response = editor_api.patch(f"{URL}{case_id}/", {"project": str(other_project.pk)}, format="json")
    assert response.status_code == 400
    assert "project" in response.json()["details"]


def test_it_duplicates_and_deletes(editor_api, project):
    case_id = editor_api.post(URL, _case(project, steps=STEPS, status="active"), format="json").json()["id"]
    copy = editor_api.post(f"{URL}{case_id}/duplicate/", {}, format="json")
    assert copy.status_code == 201
    assert (copy.json()["name"], copy.json()["status"], copy.json()["step_count"]) == ("Login works (copy)", "draft", 2)
    assert editor_api.delete(f"{URL}{case_id}/").status_code == 204
    assert editor_api.get(f"{URL}{case_id}/").status_code == 404


def test_it_computes_execution_fields_from_executions(editor_api, project):
    case = baker.make(TestCase, project=project)
    baker.make(Execution, project=project, test_case=case, status="failed", trigger="api")
    latest = baker.make(Execution, project=project, test_case=case, status="passed", trigger="api")
    Execution.objects.filter(pk=latest.pk).update(queued_at=latest.queued_at.replace(year=2100))
    item = editor_api.get(URL).json()["items"][0]
    assert (item["execution_count"], item["last_execution_status"]) == (2, "passed")


def test_it_filters_searches_sorts_and_paginates(editor_api, project, other_project):
    def make(name, **fields):
        return baker.make(TestCase, project=project, name=name, **fields)

    make("Alpha", priority="low", category="auth").tags.set([baker.make(Tag, name="smoke")])
    beta = make("Beta", priority="critical", status="active", description="checkout flow")
    beta.tags.set([baker.make(Tag, name="ui"), Tag.objects.get(name="smoke")])
    make("Gamma", priority="medium")
    baker.make(TestCase, project=other_project, name="Hidden")

    def names(query):
        response = editor_api.get(URL + query)
        assert response.status_code == 200, response.json()
        return [item["name"] for item in response.json()["items"]]

    assert names("?sort_by=name&order=asc") == ["Alpha", "Beta", "Gamma"]
    assert names("?sort_by=priority&order=desc") == ["Beta", "Gamma", "Alpha"]
    assert names("?status=active") == ["Beta"]
    assert names("?priority=low") == ["Alpha"]
    assert names("?category=auth") == ["Alpha"]
    assert names("?tags=smoke&sort_by=name&order=asc") == ["Alpha", "Beta"]
    assert names("?tags=SMOKE&tags=ui") == ["Beta"]
    assert names("?search=CHECKOUT") == ["Beta"]
    assert names(f"?project={project.pk}&sort_by=name&order=asc") == ["Alpha", "Beta", "Gamma"]
    assert names(f"?project={other_project.pk}") == []
    page = editor_api.get(URL + "?limit=2&page=2&sort_by=name&order=asc").json()
    assert {k: v for k, v in page.items() if k != "items"} == {
        "total": 3, "page": 2, "limit": 2, "pages": 2, "next_cursor": None,
    }  # fmt: skip
    assert [item["name"] for item in page["items"]] == ["Gamma"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=bogus", "status"),
        ("priority=urgent", "priority"),
        ("limit=1000", "limit"),
        ("limit=0", "limit"),
        ("page=0", "page"),
        ("page=two", "page"),
        ("page=98049243801421381632", "page"),
        ("sort_by=password", "sort_by"),
        ("order=sideways", "order"),
        ("project=123", "project"),
        ("search=%00", "search"),
    ],
)
def test_it_rejects_unknown_query_values_naming_the_parameter(editor_api, query, parameter):
    response = editor_api.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert parameter in response.json()["details"]


@pytest.mark.parametrize("size", [5, 100])
def test_it_lists_in_a_constant_number_of_queries(project, editor, size, django_assert_max_num_queries):
    api = api_client_for(editor)
    tags = [baker.make(Tag, name=name) for name in ("a", "b", "c")]
    for case in baker.make(TestCase, project=project, _quantity=size):
        case.tags.set(tags)
        baker.make(TestStep, case=case, order_index=0, action="refresh")
        baker.make(Execution, project=project, test_case=case, trigger="api", status="passed")
    with django_assert_max_num_queries(4):  # user, count, page, tags
        response = api.get(f"{URL}?limit=100&tags={tags[0].name}")
    assert len(response.json()["items"]) == size
    assert response.json()["items"][0]["step_count"] == 1


def test_it_creates_valid_cases_in_bulk_and_reports_invalid_ones(editor_api, project, other_project):
    cases = [
        _case(project, name="one", steps=STEPS),
        _case(project, name="two", steps=[{"action": "click"}]),
        _case(project, name="one"),
        _case(other_project, name="three"),
        "not an object",
        _case(project, name="four"),
    ]
    response = editor_api.post(f"{URL}bulk/", {"cases": cases}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert len(body["created"]) == 2
    assert sorted(body["errors"]) == ["1", "2", "3", "4"]
    assert "selector" in body["errors"]["1"]["steps"]["0"]
    assert "name" in body["errors"]["2"]
    assert "project" in body["errors"]["3"]
    assert set(TestCase.objects.values_list("name", flat=True)) == {"one", "four"}


def test_it_creates_nothing_when_the_bulk_has_more_than_100(editor_api, project):
    cases = [_case(project, name=f"case {n}") for n in range(101)]
    response = editor_api.post(f"{URL}bulk/", {"cases": cases}, format="json")
    assert response.status_code == 400
    assert "cases" in response.json()["details"]
    assert not TestCase.objects.exists()


def test_it_lets_viewers_read_but_not_write(viewer_api, project):
    case = baker.make(TestCase, project=project)
    assert viewer_api.get(f"{URL}{case.pk}/").status_code == 200
    assert viewer_api.post(URL, _case(project), format="json").status_code == 403
    assert viewer_api.patch(f"{URL}{case.pk}/", {"name": "x"}, format="json").status_code == 403
    assert viewer_api.delete(f"{URL}{case.pk}/").status_code == 403
    assert viewer_api.post(f"{URL}{case.pk}/duplicate/", {}, format="json").status_code == 403
    response = viewer_api.post(f"{URL}bulk/", {"cases": [_case(project)]}, format="json")
    assert "project" in response.json()["errors"]["0"]
