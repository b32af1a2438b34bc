"""Nothing lost when the broker blinks: the notification is written with the finish, sent later."""

import shutil
import socket
import subprocess

import pytest
from celery.contrib.testing.worker import start_worker

from conftest import free_port, wait_for
from jbtestsuite.celery import app as celery_app
from notifications import services
from notifications.models import Notification, NotificationDelivery
from notifications.tests.test_delivery import SECRET, _finish_run
from notifications.tests.test_delivery import login_suite as login_suite

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def own_broker():
    """A redis-server of this test's own on a free port, and this process's Celery app pointed at it."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed (make test installs it)")
    port = free_port()
    original = celery_app.conf.broker_url

    def use(url):
        celery_app.conf.broker_url = url
        celery_app._pool = None  # drop pooled connections to the previous broker
        celery_app.amqp._producer_pool = None

    class Broker:
        process = None

        def start(self):
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )
            wait_for(lambda: _port_open(port), timeout=15, message="the test's redis-server")

        def stop(self):
            self.process.terminate()
            self.process.wait(timeout=10)
            wait_for(lambda: not _port_open(port), timeout=15, message="the redis-server to stop")
            use(f"redis://127.0.0.1:{port}/0")

    use(f"redis://127.0.0.1:{port}/0")
    broker = Broker()
    yield broker
    use(original)
    if broker.process is not None and broker.process.poll() is None:
        broker.process.terminate()
        broker.process.wait(timeout=10)


def test_it_keeps_a_notification_owed_while_the_broker_is_down_and_sends_it_after(
    project, login_suite, receiver, own_broker, settings
):
    settings.EXECUTION_SWEEP_INTERVAL_SECONDS = 0
    services.notification_channel_create(project=project, name="hook", kind="webhook", url=receiver.url, secret=SECRET)
    own_broker.start()
    own_broker.stop()  # the broker blinks exactly as the run finishes

    run = _finish_run(login_suite, "failed")

    owed = Notification.objects.get()
    assert (owed.suite_run_id, owed.event, owed.enqueued_at, owed.done_at) == (run.pk, "failure", None, None)
    assert receiver.requests == []

    own_broker.start()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
        assert services.notifications_sweep() == 1
        wait_for(lambda: receiver.requests, timeout=30, message="the notification after the outage")
        wait_for(lambda: Notification.objects.filter(done_at__isnull=False).exists(), message="the outbox row done")
    assert receiver.requests[0].json()["event"] == "failure"
    assert NotificationDelivery.objects.get().succeeded
    assert services.notifications_sweep() == 0  # sent once, never again


def test_it_dispatches_the_notification_only_once_the_finish_committed(project, login_suite, receiver, monkeypatch):
    services.notification_channel_create(project=project, name="hook", kind="webhook", url=receiver.url, secret=SECRET)
    dispatched = []

    def dispatch(*, notification_ids):
        # By the time the dispatch runs, the row is committed with the finished run.
        dispatched.append((notification_ids, Notification.objects.filter(pk__in=notification_ids).count()))

    monkeypatch.setattr(services, "notifications_dispatch", dispatch)
    run = _finish_run(login_suite, "failed")
    owed = Notification.objects.get(suite_run=run)
    assert dispatched == [([owed.pk], 1)]
