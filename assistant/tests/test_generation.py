"""Writing a case from a description: the observe → act loop against a scripted model, real
Chromium and served pages; what is stored, what is sent, and how each failure ends."""

import json

import pytest

from assistant.generation import generation_run
from assistant.models import GenerationJob, ModelExchange
from assistant.services import generation_request
from assistant.tests.conftest import LOGIN_STEPS, SECRET, answer, step
from assistant.tests.fake_openai import Delay, Status
from executions import services, worker
from executions.models import Execution
from tests_catalog.models import TestCase

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

GOAL = "log in as the demo user and check the welcome text"


def _generate(editor, project, environment, browsers, description=GOAL):
    job = generation_request(
        user=editor, project_id=project.pk, environment=environment, start_url="login.html",
        description=description, variable_names=["username", "password"],
    )  # fmt: skip
    generation_run(job_id=job.pk, browsers=browsers)
    job.refresh_from_db()
    return job


def test_it_writes_a_draft_case_whose_dry_run_passed(model, editor, project, environment, browsers):
    model.queue(answer(*LOGIN_STEPS))
    job = _generate(editor, project, environment, browsers)
    assert job.status == "succeeded", job.message
    case = job.test_case
    assert case.status == "draft"
    steps = list(case.steps.order_by("order_index").values_list("action", "selector", "value"))
    assert steps[0] == ("open", "", "login.html")
    assert steps[1:] == [(s["action"], s["selector"], s["value"]) for s in LOGIN_STEPS]
    dry_run = job.dry_run_execution
    assert dry_run.status == "passed" and dry_run.test_case_id == case.pk
    provenance = case.metadata["assistant"]
    assert provenance["model"] == "scripted-model"
    assert provenance["description"] == GOAL
    assert provenance["dry_run_execution"] == str(dry_run.pk)
    assert provenance["prompt_tokens"] == job.prompt_tokens > 0
    assert float(provenance["cost_estimate_usd"]) > 0
    assert job.model_calls == 1 and len(model.requests) == 1
    # The schema went as a strict structured output generated from the registry.
    body = model.bodies[0]
    assert body["response_format"]["json_schema"]["strict"] is True
    variants = body["response_format"]["json_schema"]["schema"]["properties"]["steps"]["items"]["anyOf"]
    actions = {variant["properties"]["action"]["enum"][0] for variant in variants}
    assert "click" in actions and "pause" not in actions
    # The page went as a snapshot with ranked candidates, and a screenshot.
    facts = json.loads(body["messages"][1]["content"][0]["text"])
    username = next(e for e in facts["page"]["elements"] if e.get("id") == "username")
    assert username["candidates"][0] == {"selector_type": "id", "selector": "username", "unique": True,
                                         "stability": "id"}  # fmt: skip
    assert username["name"] == "Username" and username["role"] == "textbox"
    assert body["messages"][1]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    exchange = ModelExchange.objects.get(generation_job=job)
    assert exchange.ok and "[image:" in json.dumps(exchange.request) and "base64," not in json.dumps(exchange.request)


def test_it_replays_a_generated_case_without_calling_the_model(model, editor, project, environment, browsers):
    model.queue(answer(*LOGIN_STEPS))
    case = _generate(editor, project, environment, browsers).test_case
    calls = len(model.requests)
    case.status = "active"
    case.save()
    execution = services.execution_create(case=case, trigger="cli", environment=environment, inline=True)
    assert worker.execution_run(execution_id=execution.pk, browsers=browsers) == "passed"
    assert len(model.requests) == calls


def test_it_repairs_a_wrong_selector_the_dry_run_caught(model, editor, project, environment, browsers):
    wrong = step("type", "#user-name", "${username}")
    model.queue(answer(wrong, *LOGIN_STEPS[1:]), answer(*LOGIN_STEPS))
    job = _generate(editor, project, environment, browsers)
    assert job.status == "succeeded", job.message
    assert job.model_calls == 2
    second = json.loads(model.bodies[1]["messages"][1]["content"][0]["text"])
    assert second["last_result"]["status"] == "failed"
    assert second["last_result"]["failed_step"]["selector"] == "#user-name"
    assert "#user-name" in second["last_result"]["message"]
    assert [s["action"] for s in second["accepted_steps"]] == ["open"]
    assert not job.test_case.steps.filter(selector="#user-name").exists()
    assert any("failed" in line for line in job.progress)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["not json at all", "{still broken", "[1, 2"], "not valid JSON after 2 repair rounds"),
        ([answer(step("click_and_wait", "#login-submit"))] * 3, "action that does not exist"),
    ],
    ids=["invalid-json", "unknown-action"],
)
def test_it_ends_after_two_repair_rounds_without_a_case(model, editor, project, environment, browsers, answers,
                                                         expected):  # fmt: skip
    model.queue(*answers)
    job = _generate(editor, project, environment, browsers)
    assert job.status == "failed"
    assert expected in job.message
    assert job.model_calls == 3
    assert TestCase.objects.filter(project=project).count() == 0
    assert [s["action"] for s in job.steps] == ["open"]  # the partial steps stay on the job
    repair = model.bodies[1]["messages"]
    assert repair[-1]["role"] == "user" and "refused" in repair[-1]["content"]


def test_it_ends_with_a_clear_message_when_the_model_times_out(model, editor, project, environment, browsers,
                                                              settings):  # fmt: skip
    settings.OPENAI_TIMEOUT_SECONDS = 1
    model.queue(Delay(3, answer(*LOGIN_STEPS)))
    job = _generate(editor, project, environment, browsers)
    assert job.status == "failed"
    assert job.message == "The model did not answer within 1 s (OPENAI_TIMEOUT_SECONDS)."
    assert TestCase.objects.filter(project=project).count() == 0


def test_it_retries_a_429_with_backoff_then_succeeds(model, editor, project, environment, browsers):
    model.queue(Status(429, "rate limited"), Status(503, "overloaded"), answer(*LOGIN_STEPS))
    job = _generate(editor, project, environment, browsers)
    assert job.status == "succeeded", job.message
    attempts = list(ModelExchange.objects.filter(generation_job=job).order_by("id").values_list("status_code", "ok"))
    assert attempts == [(429, False), (503, False), (None, True)]


def test_it_gives_up_after_the_retries(model, editor, project, environment, browsers, settings):
    settings.OPENAI_MAX_RETRIES = 1
    model.queue(Status(500), Status(500), answer(*LOGIN_STEPS))
    job = _generate(editor, project, environment, browsers)
    assert job.status == "failed"
    assert "HTTP 500 2 time(s) in a row" in job.message


def test_it_never_sends_or_stores_a_secret_value(model, editor, project, environment, browsers):
    # The requester typed the secret into the description, and the model wrote it into a step.
    leaky = [*LOGIN_STEPS]
    leaky[1] = step("type", "password", SECRET, selector_type="id")
    model.queue(answer(*leaky))
    job = _generate(editor, project, environment, browsers, description=f"log in with password {SECRET}")
    assert job.status == "succeeded", job.message
    assert job.test_case.steps.get(order_index=2).value == "${password}"
    assert job.description == "log in with password ${password}"
    for raw in model.requests:
        assert SECRET.encode() not in raw
    stored = [
        json.dumps(list(GenerationJob.objects.values()), default=str),
        json.dumps(list(ModelExchange.objects.values("request", "answer"))),
        json.dumps(list(TestCase.objects.values("description", "metadata"))),
    ]
    assert all(SECRET not in text for text in stored)
    assert not Execution.objects.filter(error_message__contains=SECRET).exists()


def test_it_stops_a_model_that_loops(model, editor, project, environment, browsers):
    wrong = step("click", "#no-such-button")
    model.queue(*[answer(wrong, done=False)] * 4)
    job = _generate(editor, project, environment, browsers)
    assert job.status == "failed"
    assert job.message.startswith("The model is looping")
    assert job.model_calls == 3


def test_it_falls_back_to_json_mode_when_the_server_refuses_schemas(model, editor, project, environment, browsers):
    model.queue(Status(400, "response_format json_schema is not supported"), answer(*LOGIN_STEPS))
    job = _generate(editor, project, environment, browsers)
    assert job.status == "succeeded", job.message
    fallback = model.bodies[1]
    assert fallback["response_format"] == {"type": "json_object"}
    assert "JSON schema" in fallback["messages"][0]["content"]
