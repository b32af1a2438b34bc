"""Case versions: every change of steps is a numbered version, runs point at the version they ran."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from executions import services as run_services
from executions.models import RunStatus, Trigger
from tests_catalog import selectors, services
from tests_catalog.models import CaseVersion, TestStep
from tests_catalog.tests.test_admin import _form_data

pytestmark = pytest.mark.django_db

OPEN = {"action": "open", "value": "/login"}
TYPE = {"action": "type", "selector": "#user", "value": "demo"}
CLICK = {"action": "click", "selector": "#go"}


@pytest.fixture
def case(project, editor):
    return services.test_case_create(project=project, author=editor, name="Login", steps=[OPEN, TYPE, CLICK])


def _numbers(case):
    return list(case.versions.order_by("number").values_list("number", flat=True))


def test_it_records_version_one_when_a_case_is_created(case, editor):
    version = case.versions.get()
    assert (version.number, version.author, version.source) == (1, editor, "system")
    assert [step["action"] for step in version.steps] == ["open", "type", "click"]


def test_it_adds_a_version_only_when_the_steps_change(case, editor):
    services.test_case_update(case=case, name="Login again", user=editor)
    services.test_case_update(case=case, steps=[OPEN, TYPE, CLICK], user=editor)
    assert _numbers(case) == [1]
    version = services.test_case_steps_replace(
        case=case, steps=[OPEN, {**TYPE, "value": "other"}, CLICK], user=editor, source="assistant", note="fix"
    )
    assert (version.number, version.source, version.note) == (2, "assistant", "fix")
    assert _numbers(case) == [1, 2]


def test_it_diffs_a_changed_value_and_a_swap_readably(case, editor):
    first = case.versions.get()
    second = services.test_case_steps_replace(case=case, steps=[OPEN, CLICK, {**TYPE, "value": "x"}], user=editor)
    diff = selectors.case_version_diff(first, second)
    assert diff.summary() == "1 changed, 1 moved"
    [changed] = diff.differences
    assert (changed.kind, changed.old_position, changed.new_position) == ("changed", 2, 3)
    assert changed.fields == {"value": ("demo", "x")}
    assert changed.describe() == "step 2 moved to 3 and changed: value 'demo' → 'x'"
    swapped = services.test_case_steps_replace(case=case, steps=[CLICK, OPEN, {**TYPE, "value": "x"}], user=editor)
    assert selectors.case_version_diff(second, swapped).summary() == "1 moved"
    third = services.test_case_steps_replace(case=case, steps=[OPEN], user=editor)
    assert selectors.case_version_diff(second, third).summary() == "2 removed"
    assert selectors.case_version_diff(None, first).summary() == "3 added"


def test_it_records_api_edits_with_their_author(case, editor_api, editor):
    response = editor_api.patch(f"/api/v1/tests/{case.pk}/", {"steps": [OPEN, CLICK]}, format="json")
    assert response.status_code == 200, response.content
    latest = case.versions.order_by("-number").first()
    assert (latest.number, latest.author, latest.source) == (2, editor, "api")


def test_it_links_an_execution_and_its_retries_to_the_version_it_ran(case, editor):
    case.retry_count = 1
    case.save()
    execution = run_services.execution_create(case=case, trigger=Trigger.API, inline=True)
    assert execution.case_version == case.versions.get(number=1)
    assert execution.snapshot["case"]["version"] == 1
    run_services.execution_claim(execution_id=execution.pk, worker_host="here")
    run_services.execution_finish(execution_id=execution.pk, status=RunStatus.FAILED)
    retry = execution.next_attempt
    assert retry.case_version_id == execution.case_version_id


def test_it_versions_steps_changed_behind_the_services_back_before_running(case):
    TestStep.objects.filter(case=case, order_index=2).update(selector="#changed")
    execution = run_services.execution_create(case=case, trigger=Trigger.API, inline=True)
    assert execution.case_version.number == 2
    assert execution.case_version.steps[2]["selector"] == "#changed"
    again = run_services.execution_create(case=case, trigger=Trigger.API, inline=True)
    assert again.case_version_id == execution.case_version_id


def test_it_says_in_history_what_a_step_edit_changed(case, editor):
    editor.is_staff = True
    editor.save()
    client = Client()
    client.force_login(editor)
    url = f"/admin/tests_catalog/testcase/{case.pk}/change/"
    data = _form_data(client.get(url))
    data["steps-1-value"] = "someone"
    data["steps-1-order_index"], data["steps-2-order_index"] = "2", "1"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    entry = LogEntry.objects.filter(object_id=str(case.pk)).latest("action_time")
    message = entry.get_change_message()
    assert "No fields changed" not in message
    assert "steps (version 2: 1 changed, 1 moved)" in message
    latest = case.versions.order_by("-number").first()
    assert (latest.number, latest.author, latest.source) == (2, editor, CaseVersion.Source.ADMIN)
    history = client.get(f"{url.removesuffix('change/')}history/").content.decode()
    assert "version 2" in history


def test_it_shows_a_diff_between_two_chosen_versions(case, editor, viewer):
    services.test_case_steps_replace(case=case, steps=[OPEN, CLICK], user=editor)
    services.test_case_steps_replace(case=case, steps=[OPEN, CLICK, {"action": "refresh"}], user=editor)
    viewer.is_staff = True
    viewer.save()
    client = Client()
    client.force_login(viewer)
    page = client.get(f"/admin/tests_catalog/testcase/{case.pk}/versions/?old=1&new=3").content.decode()
    assert "v1 → v3: 1 added, 1 removed" in page
    assert 'data-kind="removed"' in page
    assert 'data-kind="added"' in page
