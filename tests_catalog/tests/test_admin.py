import pytest
from django.test import Client
from model_bakery import baker

from conftest import member
from tests_catalog import services
from tests_catalog.models import Environment, Role, TestCase, TestSuite

pytestmark = pytest.mark.django_db


def _staff_client(user) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def _form_data(response) -> dict:
    """What the browser would post back for the rendered change form, unchanged."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


@pytest.fixture
def case(project, editor):
    return services.test_case_create(
        project=project,
        author=editor,
        name="Login",
        steps=[{"action": "open", "value": "/a"}, {"action": "click", "selector": "#b"}, {"action": "refresh"}],
    )


def test_it_shows_staff_only_their_projects(project, other_project, editor):
    baker.make(TestCase, project=project, name="Mine")
    baker.make(TestCase, project=other_project, name="Theirs")
    client = _staff_client(editor)
    content = client.get("/admin/tests_catalog/testcase/").content.decode()
    assert "Mine" in content
    assert "Theirs" not in content
    theirs = TestCase.objects.get(name="Theirs")
    assert client.get(f"/admin/tests_catalog/testcase/{theirs.pk}/change/").status_code == 302
    projects = client.get("/admin/tests_catalog/project/").content.decode()
    assert "Shop" in projects
    assert "Bank" not in projects


def _case_form(case, user):
    """A staff client of the user, the case's change URL and its form as the page fills it in."""
    client = _staff_client(user)
    url = f"/admin/tests_catalog/testcase/{case.pk}/change/"
    return client, url, _form_data(client.get(url))


def test_it_reorders_steps_and_renumbers_them(case, editor):
    client, url, data = _case_form(case, editor)
    # Move the last step first, by position: 2 → 0 while the others keep 0 and 1.
    data["steps-2-order_index"] = "0"
    data["steps-0-order_index"] = "1"
    data["steps-1-order_index"] = "2"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    assert list(case.steps.values_list("order_index", "action")) == [(0, "refresh"), (1, "open"), (2, "click")]


def test_it_validates_steps_with_the_registry(case, editor):
    client, url, data = _case_form(case, editor)
    data["steps-1-selector"] = ""
    data["steps-0-timeout_ms"] = "0"
    response = client.post(url, data)
    assert response.status_code == 200
    inline_errors = response.context["inline_admin_formsets"][0].formset.errors
    assert "selector" in inline_errors[1]
    assert "timeout_ms" in inline_errors[0]
    assert case.steps.get(order_index=1).selector == "#b"


def test_it_validates_case_fields_as_the_database_does(project, editor, case):
    client = _staff_client(editor)
    url = f"/admin/tests_catalog/testcase/{case.pk}/change/"
    data = _form_data(client.get(url))
    data.update({"retry_count": "11", "expected_duration_seconds": "0"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert {"retry_count", "expected_duration_seconds"} <= set(response.context["adminform"].form.errors)
    other = baker.make(TestCase, project=project, name="Other")
    data = _form_data(client.get(f"/admin/tests_catalog/testcase/{other.pk}/change/"))
    data["name"] = "Login"
    response = client.post(f"/admin/tests_catalog/testcase/{other.pk}/change/", data)
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)


def test_it_runs_the_bulk_actions(project, other_project, editor, case):
    theirs = baker.make(TestCase, project=other_project, name="Theirs")
    member(other_project, Role.VIEWER, "eddie-too")
    client = _staff_client(editor)
    url = "/admin/tests_catalog/testcase/"
    client.post(url, {"action": "activate", "_selected_action": [str(case.pk), str(theirs.pk)]})
    case.refresh_from_db()
    theirs.refresh_from_db()
    assert (case.status, theirs.status) == ("active", "draft")
    client.post(url, {"action": "duplicate", "_selected_action": [str(case.pk)]})
    copy = TestCase.objects.get(name="Login (copy)")
    assert (copy.status, copy.steps.count()) == ("draft", 3)
    client.post(url, {"action": "archive", "_selected_action": [str(case.pk), str(copy.pk)]})
    assert set(TestCase.objects.filter(project=project).values_list("status", flat=True)) == {"archived"}


def test_it_lets_viewers_look_but_not_change(project, viewer, case):
    client = _staff_client(viewer)
    url = f"/admin/tests_catalog/testcase/{case.pk}/change/"
    assert client.get(url).status_code == 200
    data = {"name": "Hijacked"}
    assert client.post(url, data).status_code == 403
    assert client.post("/admin/tests_catalog/testcase/add/", data).status_code == 403
    case.refresh_from_db()
    assert case.name == "Login"


def test_it_never_renders_a_secret_and_keeps_it_when_left_blank(project, editor):
    environment = services.environment_create(
        project=project,
        name="staging",
        variables=[{"name": "password", "value": "hunter2-secret", "secret": True}, {"name": "user", "value": "bob"}],
    )
    client = _staff_client(editor)
    url = f"/admin/tests_catalog/environment/{environment.pk}/change/"
    page = client.get(url)
    assert b"hunter2" not in page.content
    assert b"bob" in page.content
    data = _form_data(page)
    assert client.post(url, data).status_code == 302
    assert environment.variables.get(name="password").value == "hunter2-secret"
    index = next(k.split("-")[1] for k, v in data.items() if k.endswith("-name") and v == "password")
    data[f"variables-{index}-value"] = "new-secret"
    assert client.post(url, data).status_code == 302
    assert environment.variables.get(name="password").value == "new-secret"
    assert b"new-secret" not in client.get(url).content
    assert Environment.objects.count() == 1


def test_it_orders_suite_cases_in_the_admin(project, editor, other_project):
    a, b = baker.make(TestCase, project=project, _quantity=2)
    suite = services.suite_create(project=project, name="Smoke", case_ids=[a.pk, b.pk])
    client = _staff_client(editor)
    url = f"/admin/tests_catalog/testsuite/{suite.pk}/change/"
    data = _form_data(client.get(url))
    data["entries-0-order_index"], data["entries-1-order_index"] = "1", "0"
    assert client.post(url, data).status_code == 302
    assert list(suite.entries.values_list("case_id", flat=True)) == [b.pk, a.pk]
    foreign = baker.make(TestCase, project=other_project)
    data = _form_data(client.get(url))
    data["entries-0-case"] = str(foreign.pk)
    assert client.post(url, data).status_code == 200
    data["entries-0-case"] = data["entries-1-case"]
    assert client.post(url, data).status_code == 200
    assert TestSuite.objects.get().entries.count() == 2


def test_it_refuses_a_bad_selector_naming_the_step(case, editor):
    client = _staff_client(editor)
    url = f"/admin/tests_catalog/testcase/{case.pk}/change/"
    data = _form_data(client.get(url))
    data["steps-1-selector"] = "a[[data-test=x"
    response = client.post(url, data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "Not a valid CSS selector" in str(formset.errors[1]["selector"])
    assert any(error.startswith("Step 2 (click): selector: Not a valid CSS") for error in formset.non_form_errors())
    assert case.steps.get(order_index=1).selector == "#b"
