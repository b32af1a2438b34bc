"""`/api/v1/notification-channels/`: CRUD, write-only secrets, roles, isolation, the test endpoint;
the admin's masking and its test action."""

import pytest
from django.contrib.auth import get_user_model

from conftest import api_client
from notifications import services, tasks
from notifications.models import NotificationChannel

pytestmark = pytest.mark.django_db

URL = "/api/v1/notification-channels/"


@pytest.fixture
def sent(monkeypatch):
    """Deliveries queued (on commit) instead of sent to the broker."""
    calls = []
    monkeypatch.setattr(tasks.notification_deliver, "apply_async", lambda args, **kw: calls.append(args))
    return calls


def test_it_creates_a_webhook_channel_and_never_returns_its_secret(editor, project, suite):
    client = api_client(editor)
    response = client.post(URL, {"project": str(project.pk), "name": "CI hook", "kind": "webhook",
                                 "url": "https://ci.example/hook", "secret": "top-secret-1", "on": "recovery",
                                 "runs": "scheduled", "suites": [str(suite.pk)]}, format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "secret" not in body and body["has_secret"] is True
    assert (body["url"], body["on"], body["runs"], body["suites"]) == ("https://ci.example/hook", "recovery",
                                                                       "scheduled", [str(suite.pk)])  # fmt: skip
    channel_id = body["id"]
    response = client.patch(f"{URL}{channel_id}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    assert NotificationChannel.objects.get().secret == "top-secret-1"  # omitted: kept
    assert "top-secret-1" not in client.get(f"{URL}{channel_id}/").content.decode()
    assert client.delete(f"{URL}{channel_id}/").status_code == 204


def test_it_hides_a_slack_url(editor, project):
    client = api_client(editor)
    body = {"project": str(project.pk), "name": "Slack", "kind": "slack",
            "url": "https://hooks.slack.com/services/T0/B0/secretpart"}  # fmt: skip
    response = client.post(URL, body, format="json")
    assert response.status_code == 201
    assert response.json()["url"] is None
    assert "secretpart" not in client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "webhook", "url": "https://x.example/"}, "secret"),
        ({"kind": "webhook", "secret": "long-enough-secret"}, "url"),
        ({"kind": "email"}, "email_to"),
        ({"kind": "email", "email_to": ["not an address"]}, "email_to"),
        ({"kind": "pigeon"}, "kind"),
        ({"kind": "slack", "url": "https://hooks.slack.com/x", "on": "sometimes"}, "on"),
    ],
)
def test_it_answers_400_naming_the_field(editor, project, fields, field):
    response = api_client(editor).post(URL, {"project": str(project.pk), "name": "c", **fields}, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"], response.json()


def test_it_refuses_a_name_in_use_and_suites_of_other_projects(editor, project, outsider):
    from model_bakery import baker

    services.notification_channel_create(project=project, name="mail", kind="email", email_to=["a@example.com"])
    client = api_client(editor)
    body = {"project": str(project.pk), "name": "mail", "kind": "email", "email_to": ["b@example.com"]}
    assert client.post(URL, body, format="json").status_code == 409
    foreign = baker.make("tests_catalog.TestSuite")
    response = client.post(URL, {**body, "name": "other", "suites": [str(foreign.pk)]}, format="json")
    assert response.status_code == 400 and "suites" in response.json()["details"]


def test_it_applies_roles_and_project_isolation(viewer, outsider, project, sent, django_capture_on_commit_callbacks):
    channel = services.notification_channel_create(project=project, name="mail", kind="email",
                                                   email_to=["a@example.com"])  # fmt: skip
    client = api_client(viewer)
    assert client.get(URL).json()["total"] == 1
    assert client.patch(f"{URL}{channel.pk}/", {"name": "x"}, format="json").status_code == 403
    assert client.post(f"{URL}{channel.pk}/test/").status_code == 403
    other = api_client(outsider)
    assert other.get(URL).json()["total"] == 0
    assert other.get(f"{URL}{channel.pk}/").status_code == 404
    assert other.post(f"{URL}{channel.pk}/test/").status_code == 404
    assert sent == []


def test_it_queues_a_test_notification(editor, project, sent, django_capture_on_commit_callbacks):
    channel = services.notification_channel_create(project=project, name="mail", kind="email",
                                                   email_to=["a@example.com"])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(editor).post(f"{URL}{channel.pk}/test/")
    assert response.status_code == 202
    assert sent == [[str(channel.pk), None, "test"]]


def test_it_masks_secrets_in_the_admin_and_sends_a_test_from_it(client, project, sent,
                                                                django_capture_on_commit_callbacks):  # fmt: skip
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123"))
    hook = services.notification_channel_create(project=project, name="hook", kind="webhook",
                                                url="https://ci.example/hook", secret="top-secret-1")  # fmt: skip
    slack = services.notification_channel_create(project=project, name="slack", kind="slack",
                                                 url="https://hooks.slack.com/services/T0/B0/secretpart")  # fmt: skip
    pages = client.get("/admin/notifications/notificationchannel/").content.decode()
    pages += client.get(f"/admin/notifications/notificationchannel/{hook.pk}/change/").content.decode()
    pages += client.get(f"/admin/notifications/notificationchannel/{slack.pk}/change/").content.decode()
    assert "top-secret-1" not in pages and "secretpart" not in pages

    form = {"project": str(project.pk), "name": "hook", "kind": "webhook", "url": "https://ci.example/hook",
            "secret": "", "email_to": "", "on": "always", "runs": "all", "enabled": "on",
            "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"}  # fmt: skip
    response = client.post(f"/admin/notifications/notificationchannel/{hook.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    hook.refresh_from_db()
    assert (hook.on, hook.secret) == ("always", "top-secret-1")

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/notifications/notificationchannel/", {"action": "send_test", "_selected_action": [hook.pk]})
    assert sent == [[str(hook.pk), None, "test"]]
