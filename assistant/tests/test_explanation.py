"""Explaining a failed execution from its evidence; a proposed patch is dry-run on a copy and
changes the case only when a person approves it."""

import json

import pytest

from assistant.explanation import explanation_run
from assistant.models import AssistantSettings, FailureExplanation
from assistant.services import explanation_approve, explanation_reject, explanation_request
from assistant.tests.conftest import SECRET, step
from conftest import api_client
from executions import services, worker
from jbtestsuite.errors import Conflict
from tests_catalog.models import TestCase, TestStep

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

OUTDATED_STEPS = [
    ("open", "css", "", "login.html"),
    ("type", "id", "username", "${username}"),
    ("type", "id", "password", "${password}"),
    ("click", "id", "sign-in", ""),  # the button's id is login-submit now
    ("assert_text", "id", "welcome-message", "Welcome, demo"),
]
FIX = {"op": "replace", "index": 3, "step": step("click", "login-submit", selector_type="id")}


def _answer(patch=(FIX,), category="test needs update"):
    return {"category": category, "confidence": 0.85, "explanation": "The sign-in button's id changed.",
            "evidence": ["no element #sign-in; the DOM has #login-submit"], "patch": list(patch)}  # fmt: skip


@pytest.fixture
def failed_execution(model, project, environment, editor, browsers):
    case = TestCase.objects.create(project=project, name="Log in", status="active")
    for index, (action, selector_type, selector, value) in enumerate(OUTDATED_STEPS):
        TestStep.objects.create(case=case, order_index=index, action=action, selector_type=selector_type,
                                selector=selector, value=value)  # fmt: skip
    execution = services.execution_create(case=case, trigger="cli", environment=environment, inline=True)
    assert worker.execution_run(execution_id=execution.pk, browsers=browsers) == "failed"
    execution.refresh_from_db()
    return execution


def _explain(execution, user, browsers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        explanation = explanation_request(execution=execution, user=user)
    explanation_run(explanation_id=explanation.pk, browsers=browsers)
    explanation.refresh_from_db()
    return explanation


def _case_steps(case):
    return list(case.steps.order_by("order_index").values_list("action", "selector_type", "selector", "value"))


def test_it_explains_from_the_evidence_and_dry_runs_the_patch(model, failed_execution, editor, browsers,
                                                             django_capture_on_commit_callbacks):  # fmt: skip
    model.queue(_answer())
    explanation = _explain(failed_execution, editor, browsers, django_capture_on_commit_callbacks)
    assert explanation.status == "succeeded", explanation.message
    assert (explanation.category, explanation.confidence) == ("test needs update", 0.85)
    assert explanation.proposal == "pending"
    assert explanation.patch_dry_run["status"] == "passed"
    assert explanation.steps_after[3]["selector"] == "login-submit"
    body = model.bodies[0]
    assert body["model"] == "scripted-vision"
    assert body["response_format"]["json_schema"]["name"] == "failure_explanation"
    text, image = body["messages"][1]["content"]
    facts = json.loads(text["text"])
    assert facts["failing_step_index"] == 3
    assert "sign-in" in facts["steps"][3]["message"]
    assert 'id="login-submit"' in facts["dom_excerpt"]
    assert "console_log" in facts and facts["since_last_pass"]["note"] == "This case never passed before."
    assert image["image_url"]["url"].startswith("data:image/png;base64,")
    assert all(SECRET.encode() not in raw for raw in model.requests)
    assert _case_steps(failed_execution.test_case) == OUTDATED_STEPS  # nothing changed by itself


def test_it_changes_nothing_when_the_proposal_is_rejected(model, failed_execution, editor, browsers,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
    model.queue(_answer())
    explanation = _explain(failed_execution, editor, browsers, django_capture_on_commit_callbacks)
    case = failed_execution.test_case
    updated_at = TestCase.objects.get(pk=case.pk).updated_at
    step_ids = list(case.steps.values_list("pk", flat=True))
    explanation_reject(explanation=explanation, user=editor)
    assert FailureExplanation.objects.get(pk=explanation.pk).proposal == "rejected"
    case.refresh_from_db()
    assert _case_steps(case) == OUTDATED_STEPS
    assert list(case.steps.values_list("pk", flat=True)) == step_ids
    assert case.updated_at == updated_at and "assistant_changes" not in case.metadata
    with pytest.raises(Conflict):
        explanation_approve(explanation=explanation, user=editor)
    assert _case_steps(case) == OUTDATED_STEPS


def test_it_applies_an_approved_patch_crediting_the_assistant(model, failed_execution, editor, browsers,
                                                              django_capture_on_commit_callbacks):  # fmt: skip
    model.queue(_answer())
    explanation = _explain(failed_execution, editor, browsers, django_capture_on_commit_callbacks)
    response = api_client(editor).post(f"/api/v1/assistant/explanations/{explanation.pk}/approve/")
    assert response.status_code == 200, response.json()
    assert response.json()["proposal"] == "approved"
    case = TestCase.objects.get(pk=failed_execution.test_case_id)
    assert _case_steps(case)[3] == ("click", "id", "login-submit", "")
    credit = case.metadata["assistant_changes"][-1]
    assert credit["explanation"] == str(explanation.pk) and credit["approved_by"] == "editor"
    rerun = services.execution_create(case=case, trigger="cli", environment=failed_execution.environment, inline=True)
    assert worker.execution_run(execution_id=rerun.pk, browsers=browsers) == "passed"


def test_it_refuses_a_patch_for_a_case_that_changed_since(model, failed_execution, editor, browsers,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
    model.queue(_answer())
    explanation = _explain(failed_execution, editor, browsers, django_capture_on_commit_callbacks)
    TestStep.objects.filter(case_id=failed_execution.test_case_id, order_index=4).update(value="Welcome")
    response = api_client(editor).post(f"/api/v1/assistant/explanations/{explanation.pk}/approve/")
    assert response.status_code == 409
    assert FailureExplanation.objects.get(pk=explanation.pk).proposal == "outdated"
    assert _case_steps(failed_execution.test_case)[3] == ("click", "id", "sign-in", "")


def test_it_withholds_screenshots_when_the_project_says_so(model, failed_execution, editor, browsers,
                                                           django_capture_on_commit_callbacks):  # fmt: skip
    AssistantSettings.objects.filter(project=failed_execution.project).update(withhold_screenshots=True)
    model.queue(_answer(patch=(), category="product bug"))
    explanation = _explain(failed_execution, editor, browsers, django_capture_on_commit_callbacks)
    assert explanation.status == "succeeded" and explanation.proposal == "none"
    assert b"image_url" not in model.requests[0] and b"base64" not in model.requests[0]


def test_it_answers_the_envelope_for_a_run_that_did_not_fail(model, project, editor):
    from executions.models import Execution

    passed = Execution.objects.create(project=project, case_name="x", trigger="api", status="passed")
    response = api_client(editor).post(f"/api/v1/executions/{passed.pk}/explain/")
    assert response.status_code == 409 and response.json()["error"] == "Conflict"
    assert not FailureExplanation.objects.exists()
