"""Input that once made the API answer 500: every one is a 4xx in the envelope and stores nothing."""

import json

import pytest
from rest_framework.test import APIClient

from executions.models import Schedule
from tests_catalog.models import TestCase, TestSuite

pytestmark = pytest.mark.django_db

URL = "/api/v1/tests/"


def _envelope(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    return body


def _raw_post(client, url: str, text: str):
    return client.generic("POST", url, text.encode("utf-8"), content_type="application/json")


@pytest.mark.parametrize(
    "metadata",
    ['{"\\udfff": "x"}', '{"key": "\\udfff"}', '{"key": ["ok", {"deeper": "a\\ud800b"}]}'],
)
def test_it_refuses_a_lone_surrogate_in_metadata(editor_api, project, metadata):
    body = f'{{"project": "{project.pk}", "name": "Surrogate", "metadata": {metadata}}}'
    _envelope(_raw_post(editor_api, URL, body), 400)
    assert not TestCase.objects.exists()


def test_it_refuses_a_lone_surrogate_in_a_bulk_case(editor_api, project):
    body = f'[{{"project": "{project.pk}", "name": "Bulk", "metadata": {{"k": "\\udfff"}}}}]'
    _envelope(_raw_post(editor_api, f"{URL}bulk/", body), 400)
    assert not TestCase.objects.exists()


def test_it_refuses_a_lone_surrogate_in_execution_variable_names(editor_api, project, editor):
    case = TestCase.objects.create(project=project, name="Runs", author=editor)
    body = f'{{"test_case": "{case.pk}", "variables": {{"\\udfffname": "x"}}}}'
    _envelope(_raw_post(editor_api, "/api/v1/executions/", body), 400)
    assert not case.executions.exists()


def test_it_refuses_a_lone_surrogate_in_schedule_variables(editor_api, project):
    suite = TestSuite.objects.create(project=project, name="Nightly")
    body = (
        f'{{"project": "{project.pk}", "suite": "{suite.pk}", "interval_seconds": 3600,'
        f' "variables": {{"user\\udfff": "x"}}}}'
    )
    _envelope(_raw_post(editor_api, "/api/v1/schedules/", body), 400)
    assert not Schedule.objects.exists()


def test_it_keeps_valid_astral_characters(editor_api, project):
    # A properly paired surrogate escape is an ordinary character (here U+1F600).
    body = f'{{"project": "{project.pk}", "name": "Emoji", "metadata": {{"face": "\\ud83d\\ude00"}}}}'
    response = _raw_post(editor_api, URL, body)
    assert response.status_code == 201, response.json()
    assert TestCase.objects.get().metadata == {"face": "\U0001f600"}


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_it_refuses_deeply_nested_json(editor_api, project, depth):
    metadata = "[" * depth + "]" * depth
    body = f'{{"project": "{project.pk}", "name": "Deep", "metadata": {{"k": {metadata}}}}}'
    details = _envelope(_raw_post(editor_api, URL, body), 400)
    assert details["error"] == "ParseError"
    assert not TestCase.objects.exists()


def test_it_refuses_a_50000_deep_list_as_steps(editor_api, project):
    body = f'{{"project": "{project.pk}", "name": "Deep", "steps": {"[" * 50_000}{"]" * 50_000}}}'
    _envelope(_raw_post(editor_api, URL, body), 400)
    assert not TestCase.objects.exists()


def test_it_accepts_brackets_inside_strings_whatever_their_number(editor_api, project):
    body = json.dumps({"project": str(project.pk), "name": "[" * 200, "description": "{" * 5000})
    assert _raw_post(editor_api, URL, body).status_code == 201


@pytest.mark.parametrize("value", ["99999999999999999999", "-1", "0", "0.5", "1e3"])
def test_it_range_checks_the_step_result_filter(editor_api, value):
    body = _envelope(editor_api.get("/api/v1/artifacts/", {"step_result": value}), 400)
    assert "step_result" in body["details"]


def test_it_answers_integer_query_parameters_out_of_range_with_400(editor_api):
    """Every integer query parameter of the schema, given a 20-digit value."""
    schema_doc = APIClient().get("/api/schema/?format=json").json()
    checked = 0
    for path, operations in schema_doc["paths"].items():
        if "{" in path or not path.startswith("/api/v1/"):
            continue
        get = operations.get("get")
        if not get:
            continue
        for parameter in get.get("parameters", []):
            if parameter["in"] == "query" and parameter["schema"].get("type") in ("integer", "number"):
                response = editor_api.get(path, {parameter["name"]: "9" * 20})
                _envelope(response, 400)
                checked += 1
    assert checked >= 10


@pytest.mark.parametrize("path", ["/api/v1/tests/0.5/", "/api/v1/no-such-thing/", "/api/v1/tests/%00/", "/api/nothing"])
def test_it_answers_unknown_api_urls_with_the_envelope(editor_api, path):
    body = _envelope(editor_api.get(path), 404)
    assert body["error"] == "NotFound"


def test_it_keeps_html_404_pages_outside_the_api(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_it_answers_too_many_form_fields_with_the_envelope(editor_api, project):
    fields = "&".join(f"f{index}=x" for index in range(1_100))
    response = editor_api.generic("POST", URL, fields, content_type="application/x-www-form-urlencoded")
    _envelope(response, 400)
    assert not TestCase.objects.exists()


def test_it_answers_too_many_form_fields_before_routing_with_the_envelope(editor_api):
    fields = "&".join(f"f{index}=x" for index in range(1_100))
    response = editor_api.generic("POST", "/api/v1/nowhere/", fields, content_type="application/x-www-form-urlencoded")
    _envelope(response, 404)


# --- Bulk create as a bare array --------------------------------------------------------------


def test_it_creates_cases_from_a_bare_array(editor_api, project, other_project):
    cases = [
        {"project": str(project.pk), "name": "One"},
        {"project": str(project.pk), "name": ""},
        {"project": str(other_project.pk), "name": "Elsewhere"},
        {"project": str(project.pk), "name": "Two"},
    ]
    response = editor_api.post(f"{URL}bulk/", cases, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert len(body["created"]) == 2
    assert sorted(body["errors"]) == ["1", "2"]
    assert "name" in body["errors"]["1"]
    assert sorted(TestCase.objects.values_list("name", flat=True)) == ["One", "Two"]


@pytest.mark.parametrize("payload", [[], [{"name": "x"}] * 101, "cases", 5])
def test_it_refuses_an_empty_too_long_or_non_list_bare_bulk(editor_api, project, payload):
    body = _envelope(editor_api.post(f"{URL}bulk/", payload, format="json"), 400)
    assert "cases" in body["details"]
    assert not TestCase.objects.exists()


# --- The schema says what the server enforces -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parameter"),
    [("/api/v1/tests/", "project"), ("/api/v1/environments/", "project"), ("/api/v1/executions/", "project"),
     ("/api/v1/tests/", "search"), ("/api/v1/artifacts/", "execution")],
)  # fmt: skip
def test_it_refuses_an_empty_filter_instead_of_ignoring_it(editor_api, path, parameter):
    body = _envelope(editor_api.get(path, {parameter: ""}), 400)
    assert parameter in body["details"]


def test_it_documents_required_strings_and_filters_as_non_empty():
    schema_doc = APIClient().get("/api/schema/?format=json").json()
    case = schema_doc["components"]["schemas"]["TestCaseWrite"]["properties"]
    assert case["name"]["minLength"] == 1
    assert "minLength" not in case["description"]  # blank allowed there, and documented so
    bulk = schema_doc["components"]["schemas"]["TestCaseBulk"]["properties"]["cases"]
    assert (bulk["minItems"], bulk["maxItems"]) == (1, 100)
    parameters = {p["name"]: p for p in schema_doc["paths"]["/api/v1/tests/"]["get"]["parameters"]}
    assert parameters["search"]["schema"]["minLength"] == 1
    assert "not with `cursor`" in parameters["page"]["description"]
    assert "not with `page`" in parameters["cursor"]["description"]
