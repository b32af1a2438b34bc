import pytest
from django.db import IntegrityError
from model_bakery import baker

from conftest import member
from jbtestsuite.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests_catalog import services
from tests_catalog.models import Role, TestCase, TestStep

pytestmark = pytest.mark.django_db

OPEN = {"action": "open", "value": "/login"}
CLICK = {"action": "click", "selector": "#go"}


def test_it_creates_a_case_with_contiguous_steps_and_normalised_tags(project, editor):
    case = services.test_case_create(
        project=project, author=editor, name="Login", tags=[" Smoke ", "smoke", "AUTH", ""], steps=[OPEN, CLICK]
    )
    assert sorted(case.tags.values_list("name", flat=True)) == ["auth", "smoke"]
    assert list(case.steps.values_list("order_index", "action")) == [(0, "open"), (1, "click")]


def test_it_reports_invalid_steps_by_index_and_field(project, editor):
    with pytest.raises(ValidationFailed) as error:
        services.test_case_create(
            project=project, author=editor, name="x", steps=[OPEN, CLICK, {"action": "pause", "value": "99999"}]
        )
    assert list(error.value.details["steps"]) == ["2"]
    assert "value" in error.value.details["steps"]["2"]
    assert not TestCase.objects.exists()


def test_it_rejects_a_duplicate_name_unless_archived(project, editor):
    first = services.test_case_create(project=project, author=editor, name="Login", category="auth")
    with pytest.raises(Conflict) as error:
        services.test_case_create(project=project, author=editor, name="Login", category="auth")
    assert "name" in error.value.details
    services.test_case_create(project=project, author=editor, name="Login", category="other")
    services.test_case_update(case=first, status=TestCase.Status.ARCHIVED)
    services.test_case_create(project=project, author=editor, name="Login", category="auth")


def test_it_replaces_steps_renumbering_from_zero(project, editor):
    case = services.test_case_create(project=project, author=editor, name="x", steps=[OPEN, CLICK, CLICK])
    services.test_case_update(case=case, steps=[CLICK, OPEN])
    assert list(case.steps.values_list("order_index", "action")) == [(0, "click"), (1, "open")]


def test_it_duplicates_a_case_with_steps_and_tags_as_a_draft(project, editor):
    case = services.test_case_create(
        project=project, author=editor, name="Login", status="active", tags=["smoke"], steps=[OPEN, CLICK]
    )
    copy = services.test_case_duplicate(case=case, author=editor)
    again = services.test_case_duplicate(case=case, author=editor)
    assert (copy.name, again.name) == ("Login (copy)", "Login (copy 2)")
    assert copy.status == "draft"
    assert list(copy.tags.values_list("name", flat=True)) == ["smoke"]
    assert copy.steps.count() == 2


def test_it_keeps_a_secret_value_when_it_is_omitted(project):
    environment = services.environment_create(
        project=project,
        name="staging",
        variables=[{"name": "password", "value": "hunter2", "secret": True}, {"name": "user", "value": "bob"}],
    )
    services.environment_update(
        environment=environment,
        variables=[{"name": "password", "value": None, "secret": True}, {"name": "user", "value": "amy"}],
    )
    assert dict(environment.variables.values_list("name", "value")) == {"password": "hunter2", "user": "amy"}


def test_it_needs_a_value_for_a_new_secret(project):
    with pytest.raises(ValidationFailed) as error:
        services.environment_create(project=project, name="s", variables=[{"name": "token", "secret": True}])
    assert error.value.details == {"variables": {"0": {"value": ["A new secret variable needs a value."]}}}


def test_it_orders_suite_cases_and_refuses_foreign_ones(project, other_project, editor):
    a, b = baker.make(TestCase, project=project, _quantity=2)
    foreign = baker.make(TestCase, project=other_project)
    suite = services.suite_create(project=project, name="Smoke", case_ids=[b.pk, a.pk])
    assert list(suite.entries.values_list("case_id", flat=True)) == [b.pk, a.pk]
    services.suite_update(suite=suite, case_ids=[a.pk, b.pk])
    assert list(suite.entries.values_list("case_id", flat=True)) == [a.pk, b.pk]
    with pytest.raises(ValidationFailed):
        services.suite_update(suite=suite, case_ids=[foreign.pk])
    with pytest.raises(ValidationFailed):
        services.suite_update(suite=suite, case_ids=[a.pk, a.pk])


def test_it_keeps_the_last_maintainer(project, maintainer, editor):
    with pytest.raises(Conflict):
        services.membership_set(project=project, username=maintainer.username, role=Role.VIEWER)
    with pytest.raises(Conflict):
        services.membership_remove(project=project, username=maintainer.username)
    services.membership_set(project=project, username=editor.username, role=Role.MAINTAINER)
    services.membership_remove(project=project, username=maintainer.username)


def test_it_hides_projects_from_outsiders_and_forbids_low_roles(project, viewer, outsider):
    with pytest.raises(NotFound):
        services.project_role_require(user=outsider, project=project, role=Role.VIEWER)
    with pytest.raises(Forbidden):
        services.project_role_require(user=viewer, project=project, role=Role.EDITOR)
    services.project_role_require(user=viewer, project=project, role=Role.VIEWER)


def test_it_makes_the_creator_maintainer(editor):
    project = services.project_create(creator=editor, name="New", slug="new")
    assert project.memberships.get().role == Role.MAINTAINER
    with pytest.raises(Conflict):
        services.project_create(creator=editor, name="Again", slug="new")


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "bogus"},
        {"priority": "urgent"},
        {"retry_count": 11},
        {"expected_duration_seconds": 0},
    ],
)
def test_it_enforces_case_constraints_in_the_database(project, fields):
    with pytest.raises(IntegrityError):
        baker.make(TestCase, project=project, **fields)


def test_it_enforces_the_conditional_unique_name_in_the_database(project):
    baker.make(TestCase, project=project, name="x", category="c", status="archived", _quantity=2)
    baker.make(TestCase, project=project, name="x", category="c")
    with pytest.raises(IntegrityError):
        baker.make(TestCase, project=project, name="x", category="c")


@pytest.mark.parametrize(
    "fields",
    [{"action": "fly"}, {"selector_type": "jquery"}, {"timeout_ms": 0}, {"timeout_ms": 600_001}],
)
def test_it_enforces_step_constraints_in_the_database(project, fields):
    case = baker.make(TestCase, project=project)
    with pytest.raises(IntegrityError):
        TestStep.objects.create(case=case, order_index=0, **{"action": "click", **fields})


def test_it_enforces_unique_step_order_in_the_database(project):
    case = baker.make(TestCase, project=project)
    TestStep.objects.create(case=case, order_index=0, action="refresh")
    with pytest.raises(IntegrityError):
        TestStep.objects.create(case=case, order_index=0, action="back")


def test_it_lets_a_member_of_another_project_see_nothing(project, other_project):
    user = member(other_project, Role.VIEWER)
    baker.make(TestCase, project=project)
    from tests_catalog.selectors import test_cases_visible_to

    assert not test_cases_visible_to(user).exists()


def test_it_refuses_broken_blocks_and_recursive_runs_at_save_naming_the_step(project):
    from jbtestsuite.errors import ValidationFailed
    from tests_catalog import services as catalog

    with pytest.raises(ValidationFailed) as raised:
        catalog.test_case_create(project=project, author=None, name="Loops", steps=[
            {"action": "times", "value": "2"}, {"action": "echo", "value": "x"}, {"action": "else"},
        ])  # fmt: skip
    assert raised.value.details["steps"]["2"]["action"] == [
        "Step 2: else is inside the times block of step 0, not directly inside an if block."
    ]
    assert raised.value.details["steps"]["0"]["action"] == ["Step 0: the times block is never closed with end."]

    catalog.test_case_create(project=project, author=None, name="A", steps=[{"action": "echo", "value": "a"}])
    b = catalog.test_case_create(project=project, author=None, name="B", steps=[{"action": "run", "value": "A"}])
    with pytest.raises(ValidationFailed) as raised:
        catalog.test_case_create(project=project, author=None, name="C", steps=[{"action": "run", "value": "Z"}])
    assert raised.value.details["steps"]["0"]["value"] == ["Step 0: no case called 'Z' in this project to run."]
    a = TestCase.objects.get(name="A")
    with pytest.raises(ValidationFailed) as raised:
        catalog.test_case_update(case=a, steps=[{"action": "echo", "value": "a"}, {"action": "run", "value": "B"}])
    assert raised.value.details["steps"]["1"]["value"] == ["Step 1: run would recurse: A → B → A."]
    assert [s.action for s in a.steps.all()] == ["echo"] and b.steps.count() == 1
