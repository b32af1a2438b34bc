"""SSRF policy: internal targets refused on save and, on the address resolved then, at delivery."""

import socket

import pytest

from conftest import api_client
from jbtestsuite.errors import ValidationFailed
from notifications import services, targets, transports
from notifications.models import NotificationChannel, NotificationDelivery

pytestmark = pytest.mark.django_db

URL = "/api/v1/notification-channels/"

INTERNAL = [
    "http://127.0.0.1/hook",
    "http://127.1/hook",
    "http://localhost:8080/hook",
    "http://app.localhost/hook",
    "http://[::1]/hook",
    "http://0.0.0.0/hook",
    "http://10.0.0.8/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "https://example.com@169.254.169.254/",
    "http://224.0.0.1/hook",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:127.0.0.1]/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one number
]


@pytest.fixture(autouse=True)
def _nothing_internal_allowed(settings):
    settings.NOTIFICATION_ALLOWED_HOSTS = []


@pytest.fixture
def dns(monkeypatch):
    """What names resolve to, as the test says: this sandbox has no DNS."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            family = socket.AF_INET6 if ":" in answers[host][0] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (ip, port or 0)) for ip in answers[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("url", INTERNAL)
@pytest.mark.parametrize("kind", ["webhook", "slack"])
def test_it_refuses_internal_targets_on_save(editor, project, url, kind):
    body = {"project": str(project.pk), "name": "hook", "kind": kind, "url": url, "secret": "long-enough-secret"}
    response = api_client(editor).post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert "url" in response.json()["details"]
    assert not NotificationChannel.objects.exists()


def test_it_refuses_a_name_that_resolves_inside(editor, project, dns):
    dns["hooks.example.test"] = ["93.184.216.34", "10.0.0.7"]
    body = {"project": str(project.pk), "name": "hook", "kind": "webhook",
            "url": "https://hooks.example.test/x", "secret": "long-enough-secret"}  # fmt: skip
    response = api_client(editor).post(URL, body, format="json")
    assert response.status_code == 400
    assert "private" in response.json()["details"]["url"][0]


def test_it_allows_listed_internal_hosts_and_networks(project, settings):
    settings.NOTIFICATION_ALLOWED_HOSTS = ["10.1.0.0/16", "hooks.corp.internal"]
    for url in ("http://10.1.2.3/hook", "http://hooks.corp.internal/hook"):
        services.notification_channel_create(project=project, name=url, kind="slack", url=url)
    with pytest.raises(ValidationFailed) as excinfo:
        services.notification_channel_create(project=project, name="other", kind="slack", url="http://10.2.0.1/")
    assert "private" in excinfo.value.details["url"][0]


def test_it_checks_again_at_delivery_when_dns_changed(project, dns, receiver):
    dns["hooks.example.test"] = ["93.184.216.34"]
    channel = services.notification_channel_create(
        project=project, name="hook", kind="webhook", url="http://hooks.example.test/x", secret="long-enough-secret"
    )
    dns["hooks.example.test"] = ["127.0.0.1"]  # rebinding: now it points at this machine
    delivery = services.notification_send(channel_id=channel.pk, suite_run_id=None, event="test")
    assert delivery.succeeded is False
    assert "target refused" in delivery.error
    assert "hooks.example.test/x" not in delivery.error  # the URL itself is never repeated
    assert receiver.requests == []
    assert NotificationDelivery.objects.count() == 1


def test_it_connects_to_the_checked_address_with_the_urls_host_name(project, dns, receiver, settings):
    settings.NOTIFICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    port = receiver.url.split(":")[2].split("/")[0]
    dns["receiver.example.test"] = ["127.0.0.1"]
    channel = services.notification_channel_create(
        project=project, name="hook", kind="webhook", url=f"http://receiver.example.test:{port}/hook",
        secret="long-enough-secret",
    )  # fmt: skip
    delivery = services.notification_send(channel_id=channel.pk, suite_run_id=None, event="test")
    assert delivery.succeeded, delivery.error
    assert receiver.requests[0].headers["Host"] == f"receiver.example.test:{port}"


def test_it_does_not_follow_redirects(project, receiver, settings):
    settings.NOTIFICATION_ALLOWED_HOSTS = ["127.0.0.1"]
    receiver.statuses = [302]
    channel = services.notification_channel_create(
        project=project, name="hook", kind="webhook", url=receiver.url, secret="long-enough-secret"
    )
    delivery = services.notification_send(channel_id=channel.pk, suite_run_id=None, event="test")
    assert (delivery.succeeded, delivery.status_code) == (False, 302)
    assert len(receiver.requests) == 1


def test_it_refuses_at_delivery_a_target_stored_before_the_policy(project, receiver):
    channel = NotificationChannel.objects.create(
        project=project, name="legacy", kind="webhook", url=receiver.url, secret="long-enough-secret"
    )
    with pytest.raises(transports.DeliveryFailed, match="target refused"):
        transports.send(channel, {"event": "test"}, delivery_id="x")
    assert receiver.requests == []


def test_it_never_names_the_url_in_its_reasons():
    with pytest.raises(targets.TargetRefused) as excinfo:
        targets.target_check("https://hooks.slack.com@127.0.0.1/services/T000/B000/XXXXSECRET")
    assert "XXXXSECRET" not in str(excinfo.value)
